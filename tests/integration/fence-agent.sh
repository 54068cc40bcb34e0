#!/bin/bash
# fence-agent: the agent fence plugin (plugins/fence/agent) running real
# fence-agents, through tests/fence-conformance (the suite any fence plugin
# runs, docs/plugin-guide.md "Testing a fence plugin"):
#   1. fence_dummy (a status file), under valgrind when it is installed:
#      no leak and no error, including close() with a request in flight;
#   2. fence_ipmilan against OpenIPMI's ipmi_sim on 127.0.0.1, whose chassis
#      power is a file written by a chassis_control script, so Chassis
#      Control changes what Get Chassis Status reports; every power step is
#      cross-checked with `ipmitool -I lanplus ... chassis power status`;
#   3. validate through `vigild --check-config`: a misspelt attribute, a bad
#      boolean, a missing required one, an agent without `status`, a missing
#      agent are refused (exit 1, the message), a correct device accepted.
# FENCE_AGENT_TIMING=N also times N `off` runs of fence_ipmilan (ms).
# Every step is bounded (timeout); ipmi_sim is killed by its pid and the
# scratch directory removed on every exit path.
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
FC="$TOP_BUILDDIR/tests/fence-conformance"
SO_DIR="$TOP_BUILDDIR/plugins/fence/agent/.libs"
SO="$SO_DIR/agent.so"
VIGILD="$TOP_BUILDDIR/core/vigild"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vigil-fa.XXXXXX")
USER_NAME=admin
PASSWORD=s3cret-fa
SIM_PID=""
FAILED=""
PASSED=0

cleanup() {
	if [ -n "$SIM_PID" ]; then
		kill "$SIM_PID" 2>/dev/null
		wait "$SIM_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "FAIL: interrupted"; exit 1' INT TERM HUP

for f in "$FC" "$SO" "$VIGILD"; do
	[ -e "$f" ] || { echo "FAIL: $f not built"; exit 1; }
done
for a in fence_dummy fence_ipmilan; do
	[ -x "/usr/sbin/$a" ] || { echo "SKIP: /usr/sbin/$a missing (apt-get install fence-agents)"; exit 77; }
done

# pass NAME / fail NAME WHY: count one step.
pass() { echo "==== $1: ok"; PASSED=$((PASSED + 1)); }
fail() { echo "==== $1: FAILED: $2"; FAILED="$FAILED $1"; }

# ---- 1. fence_dummy, under valgrind --------------------------------------
VG=""
if command -v valgrind >/dev/null; then
	# --child-silent-after-fork: a child killed between fork and exec (the
	# cancel check) would report the parent's heap as its own.
	VG="valgrind -q --child-silent-after-fork=yes --leak-check=full"
	VG="$VG --errors-for-leak-kinds=definite,indirect --error-exitcode=3"
fi
echo "==== fence_dummy${VG:+ under valgrind}"
timeout 120 $VG "$FC" -t 10000 "$SO" node1 agent=fence_dummy \
	"attr.status_file=$TMP/dummy.status"
rc=$?
[ "$rc" -eq 0 ] && pass fence_dummy || fail fence_dummy "exit $rc"

# ---- 2. fence_ipmilan against ipmi_sim -----------------------------------
sim_ok=1
for tool in ipmi_sim ipmitool; do
	command -v "$tool" >/dev/null || { echo "==== ipmi: $tool missing: skipped"; sim_ok=0; }
done

# A UDP port nobody on 127.0.0.1 uses (/proc/net/udp lists ports in hex).
udp_port_used() {
	grep -qi ":$(printf '%04X' "$1") " /proc/net/udp
}
PORT=$((20000 + ($$ % 20000)))
while udp_port_used "$PORT"; do PORT=$((PORT + 1)); done

# ipmi_sim's power is the file $TMP/sim/power, driven by chassis.sh.
sim_files() {
	mkdir -p "$TMP/sim/state"
	echo 1 > "$TMP/sim/power"
	cat > "$TMP/sim/chassis.sh" <<-EOF
	#!/bin/sh
	# ipmi_sim chassis_control: "get power" / "set power V" (ipmi_sim's extcmd)
	echo "\$*" >> "$TMP/sim/power.log"
	case "\$1" in
	get) echo "power:\$(cat "$TMP/sim/power")";;
	set) shift; while [ \$# -ge 2 ]; do
		[ "\$1" = power ] && echo "\$2" | tr -d '"' > "$TMP/sim/power"; shift 2; done;;
	esac
	exit 0
	EOF
	chmod 755 "$TMP/sim/chassis.sh"
	cat > "$TMP/sim/lan.conf" <<-EOF
	name "vgfa"
	set_working_mc 0x20
	  startlan 1
	    addr 127.0.0.1 $PORT
	    priv_limit admin
	    allowed_auths_callback none md2 md5 straight
	    allowed_auths_user none md2 md5 straight
	    allowed_auths_operator none md2 md5 straight
	    allowed_auths_admin none md2 md5 straight
	    guid a123456789abcdefa123456789abcdef
	  endlan
	  chassis_control "$TMP/sim/chassis.sh"
	  user 1 true "" "test" user 10 none md2 md5 straight
	  user 2 true "$USER_NAME" "$PASSWORD" admin 10 none md2 md5 straight
	EOF
	cat > "$TMP/sim/bmc.emu" <<-EOF
	mc_setbmc 0x20
	mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
	sel_enable 0x20 1000 0x0a
	mc_enable 0x20
	EOF
}

sim_start() {
	local i
	sim_files
	ipmi_sim -c "$TMP/sim/lan.conf" -f "$TMP/sim/bmc.emu" -s "$TMP/sim/state" -n \
		> "$TMP/sim/sim.log" 2>&1 &
	SIM_PID=$!
	for i in $(seq 50); do
		udp_port_used "$PORT" && return 0
		sleep 0.1
	done
	echo "ipmi_sim did not bind 127.0.0.1:$PORT:"; cat "$TMP/sim/sim.log"
	return 1
}

# The witness: ipmitool's own view of the chassis ("on" or "off").
# -C 3: ipmi_sim has no Get Channel Cipher Suites; without a suite ipmitool
# retries that lookup for seconds.
cat > "$TMP/witness.sh" <<EOF
#!/bin/sh
out=\$(timeout 20 ipmitool -I lanplus -C 3 -H 127.0.0.1 -p $PORT -U $USER_NAME -P $PASSWORD \\
	chassis power status 2>&1)
echo "  ipmitool: \$out"
[ "\$out" = "Chassis Power is \$1" ]
EOF
chmod 755 "$TMP/witness.sh"

IPMI_ATTRS="attr.ip=127.0.0.1 attr.ipport=$PORT attr.username=$USER_NAME"
IPMI_ATTRS="$IPMI_ATTRS attr.password=$PASSWORD attr.lanplus=1 attr.cipher=3"
if [ "$sim_ok" = 1 ]; then
	if sim_start; then
		echo "==== fence_ipmilan against ipmi_sim on 127.0.0.1:$PORT"
		# shellcheck disable=SC2086
		timeout 300 "$FC" -t 30000 -c "$TMP/witness.sh" "$SO" node1 \
			agent=fence_ipmilan $IPMI_ATTRS
		rc=$?
		offs=$(grep -c "set power 0" "$TMP/sim/power.log")
		ons=$(grep -c "set power 1" "$TMP/sim/power.log")
		echo "  chassis_control calls: $offs power-off, $ons power-on"
		if [ "$rc" -ne 0 ]; then
			fail fence_ipmilan "exit $rc"
		elif [ "$offs" -lt 2 ] || [ "$ons" -lt 2 ]; then
			fail fence_ipmilan "the BMC saw $offs power-off and $ons power-on (expected >= 2 each)"
		else
			pass fence_ipmilan
		fi
	else
		fail fence_ipmilan "ipmi_sim did not start"
	fi
fi

# Optional: how long one `off` takes through fence_ipmilan (confirmed by
# its own status poll), over N runs, each followed by an `on`.
if [ -n "${FENCE_AGENT_TIMING:-}" ] && [ -n "$SIM_PID" ]; then
	in="ip=127.0.0.1
ipport=$PORT
username=$USER_NAME
password=$PASSWORD
lanplus=1
cipher=3"
	for i in $(seq "$FENCE_AGENT_TIMING"); do
		t0=$(date +%s%N)
		printf 'action=off\n%s\n' "$in" | timeout 30 /usr/sbin/fence_ipmilan >/dev/null 2>&1
		rc=$?
		t1=$(date +%s%N)
		echo "  timing: off #$i exit $rc in $(( (t1 - t0) / 1000000 )) ms"
		printf 'action=on\n%s\n' "$in" | timeout 30 /usr/sbin/fence_ipmilan >/dev/null 2>&1
	done
fi

# ---- 3. validate through vigild --check-config ---------------------------
head -c 32 /dev/urandom > "$TMP/authkey"
chmod 600 "$TMP/authkey"

# check_config NAME EXPECT_EXIT EXPECT_TEXT 'params' 'attributes'
check_config() {
	local name=$1 want_rc=$2 want=$3 out rc
	cat > "$TMP/$name.conf" <<-EOF
	cluster = { name = "fa"; id = 1; key_file = "$TMP/authkey"; };
	nodes = ( { id = 1; name = "n1"; } );
	fence_devices = ( { name = "f1"; plugin = "agent"; targets = [ "n1" ];
		params = { $4 }; attributes = { $5 }; } );
	EOF
	out=$(VIGIL_PLUGIN_PATH="$SO_DIR" timeout 30 "$VIGILD" --check-config "$TMP/$name.conf" 2>&1)
	rc=$?
	echo "  $name: exit $rc: $out"
	if [ "$rc" -ne "$want_rc" ]; then
		fail "$name" "expected exit $want_rc, got $rc"
	elif [ -n "$want" ] && ! printf '%s' "$out" | grep -qF "$want"; then
		fail "$name" "expected the message to contain: $want"
	else
		pass "$name"
	fi
}

echo "==== validate through vigild --check-config"
check_config config-unknown-attr 1 \
	'fence device "f1" (agent): attribute "ipp" is not a parameter of fence_ipmilan (it has: auth, cipher,' \
	'agent = "fence_ipmilan";' 'ipp = "x";'
check_config config-bad-boolean 1 \
	'attribute "lanplus" of fence_ipmilan must be a boolean' \
	'agent = "fence_ipmilan";' 'ip = "127.0.0.1"; lanplus = "maybe";'
check_config config-reserved-attr 1 \
	'attribute "plug" is set by vigil for each request: use the plug parameter' \
	'agent = "fence_ipmilan";' 'plug = "3";'
check_config config-missing-required 1 \
	'attribute "username" is required by fence_apc and missing' \
	'agent = "fence_apc";' 'ipaddr = "192.0.2.1";'
check_config config-no-status 1 \
	'agent fence_kdump has no action "on"' \
	'agent = "fence_kdump";' ''
check_config config-no-agent 1 \
	'agent fence_nonexistent not found: /usr/sbin/fence_nonexistent' \
	'agent = "fence_nonexistent";' ''
check_config config-good 0 '' \
	'agent = "fence_ipmilan"; plug = "1";' \
	"ip = \"127.0.0.1\"; ipport = $PORT; username = \"a\"; password = \"b\"; lanplus = true; cipher = 3;"
check_config config-apc-aliases 0 '' \
	'agent = "fence_apc";' 'ipaddr = "192.0.2.1"; login = "apc";'

echo "$PASSED passed, $(echo "$FAILED" | wc -w) failed${FAILED:+:$FAILED}"
[ -z "$FAILED" ]
