# Shared by the integration tests, the demo and the benchmarks: a cluster of
# real vigild processes, each in its own network namespace, wired through a
# "switch" namespace holding one bridge per link.  Node i has 198.18.L.i on
# link L.  Everything is named with a per-run prefix and removed by vg_cleanup.
#
# Needs: TOP_BUILDDIR (built tree) and TOP_SRCDIR.  Source it from bash.

VG_PREFIX=${VG_PREFIX:-vg$$}
VG_TMP=${VG_TMP:-$(mktemp -d "${TMPDIR:-/tmp}/vigil-test.XXXXXX")}
VG_PIDS=""
VG_NODES=0
VG_LINKS=0
VIGILD="$TOP_BUILDDIR/core/vigild"
VIGILCTL="$TOP_BUILDDIR/tools/vigilctl"
VIGIL_PLUGIN_PATH=$(find "$TOP_BUILDDIR/plugins" -type d -name .libs | sort | tr '\n' ':' | sed 's/:$//')
export VIGIL_PLUGIN_PATH

vg_log() { printf '%s %s\n' "$(date +%H:%M:%S.%3N)" "$*"; }
vg_fail() { vg_log "FAIL: $*"; exit 1; }

vg_sw() { echo "${VG_PREFIX}sw"; }
vg_ns() { echo "${VG_PREFIX}n$1"; }

# vg_net NODES LINKS [EXTRA_HOSTS]: namespaces, bridges, veths, addresses.
# Extra hosts (clients) get ids NODES+1.. on link 0 only.
vg_net() {
	VG_NODES=$1
	VG_LINKS=$2
	local extra=${3:-0} sw n l
	sw=$(vg_sw)
	ip netns add "$sw"
	ip -n "$sw" link set lo up
	for l in $(seq 0 $((VG_LINKS - 1))); do
		ip -n "$sw" link add "br$l" type bridge
		ip -n "$sw" link set "br$l" up
	done
	for n in $(seq 1 $((VG_NODES + extra))); do
		ip netns add "$(vg_ns "$n")"
		ip -n "$(vg_ns "$n")" link set lo up
		for l in $(seq 0 $((VG_LINKS - 1))); do
			[ "$n" -gt "$VG_NODES" ] && [ "$l" -gt 0 ] && continue
			ip link add "${VG_PREFIX}e$n$l" netns "$(vg_ns "$n")" type veth \
				peer name "p$n$l" netns "$sw"
			ip -n "$(vg_ns "$n")" link set "${VG_PREFIX}e$n$l" name "eth$l"
			ip -n "$(vg_ns "$n")" addr add "198.18.$l.$n/24" dev "eth$l"
			ip -n "$(vg_ns "$n")" link set "eth$l" up
			ip -n "$sw" link set "p$n$l" master "br$l" up
		done
		# multicast leaves through link 1 when there is one, else link 0
		ip -n "$(vg_ns "$n")" route add 224.0.0.0/4 dev "eth$((VG_LINKS > 1 ? 1 : 0))" 2>/dev/null || true
	done
}

# vg_write_config FILE [EXTRA libconfig text appended]
# Link 0 is udp-ucast, link 1 (if any) udp-mcast.
vg_write_config() {
	local f=$1 extra=${2:-} n l addrs
	head -c 64 /dev/urandom > "$VG_TMP/authkey" 2>/dev/null || true
	[ -s "$VG_TMP/authkey" ] || vg_fail "cannot write $VG_TMP/authkey"
	chmod 600 "$VG_TMP/authkey"
	{
		echo "cluster = { name = \"test\"; id = 77; key_file = \"$VG_TMP/authkey\"; };"
		echo "logging = { level = \"${VG_LOG_LEVEL:-info}\"; };"
		echo "membership = { interval_ms = ${VG_INTERVAL:-50}; deadtime_ms = ${VG_DEADTIME:-300}; };"
		echo "state_dir = \"$VG_TMP/state\";"
		echo "nodes = ("
		for n in $(seq 1 "$VG_NODES"); do
			addrs=""
			for l in $(seq 0 $((VG_LINKS - 1))); do
				addrs="$addrs${addrs:+, }\"198.18.$l.$n\""
			done
			echo "  { id = $n; name = \"n$n\"; addresses = [ $addrs ]; }$([ "$n" -lt "$VG_NODES" ] && echo ,)"
		done
		echo ");"
		echo "links = ("
		echo "  { name = \"ring0\"; plugin = \"udp-ucast\"; params = { port = 5405; }; }"
		if [ "$VG_LINKS" -gt 1 ]; then
			echo "  , { name = \"ring1\"; plugin = \"udp-mcast\"; params = { group = \"239.192.77.1\"; port = 5406; }; }"
		fi
		echo ");"
		printf '%s\n' "$extra"
	} > "$f"
}

vg_sock() { echo "$VG_TMP/n$1.sock"; }

# vg_start N [CONFIG]: start vigild for node N in its namespace.
vg_start() {
	local n=$1 cfg=${2:-$VG_TMP/cluster.conf} pid
	ip netns exec "$(vg_ns "$n")" "$VIGILD" -c "$cfg" --node "n$n" --socket "$(vg_sock "$n")" \
		>> "$VG_TMP/n$n.log" 2>&1 &
	pid=$!
	eval "VG_PID_$n=$pid"
	VG_PIDS="$VG_PIDS $pid"
}

vg_pid() { eval "echo \${VG_PID_$1:-}"; }

# vg_kill N [SIGNAL]: signal node N's vigild (started by us) and reap it.
vg_kill() {
	local pid
	pid=$(vg_pid "$1")
	[ -n "$pid" ] || return 0
	kill "-${2:-KILL}" "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	eval "VG_PID_$1="
}

vg_status_json() { "$VIGILCTL" -s "$(vg_sock "$1")" --json status 2>/dev/null; }

# vg_jq N PYTHON_EXPR: evaluate an expression on node N's status (bound to s).
vg_jq() {
	vg_status_json "$1" | python3 -c "import json,sys
try:
    s=json.load(sys.stdin)
except Exception:
    sys.exit(3)
print($2)" 2>/dev/null
}

# vg_wait SECONDS DESCRIPTION COMMAND...: poll COMMAND every 50 ms until it succeeds.
vg_wait() {
	local limit=$1 what=$2 end
	shift 2
	end=$(($(date +%s%N) / 1000000 + limit * 1000))
	while [ "$(($(date +%s%N) / 1000000))" -lt "$end" ]; do
		"$@" && return 0
		sleep 0.05
	done
	vg_log "timed out after ${limit}s waiting for: $what"
	return 1
}

# vg_members N: node N's member list as "1 2 3".
vg_members() { vg_jq "$1" "' '.join(str(m) for m in s['view']['members'])"; }
vg_expect_members() { [ "$(vg_members "$1")" = "$2" ]; }
vg_node_state() { vg_jq "$1" "[n['state'] for n in s['nodes'] if n['id']==$2][0]"; }
vg_quorate() { [ "$(vg_jq "$1" "s['quorum']['quorate']")" = "True" ]; }

vg_cleanup() {
	local pid n
	for pid in $VG_PIDS; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in $VG_PIDS; do
		wait "$pid" 2>/dev/null || true
	done
	for n in $(seq 1 $((VG_NODES + 4))); do
		ip netns del "$(vg_ns "$n")" 2>/dev/null || true
	done
	ip netns del "$(vg_sw)" 2>/dev/null || true
	if [ -n "${VG_KEEP_TMP:-}" ]; then
		vg_log "logs kept in $VG_TMP"
	else
		rm -rf "$VG_TMP"
	fi
}

# On failure, show what each node logged.
vg_dump_logs() {
	local n
	for n in $(seq 1 "$VG_NODES"); do
		[ -f "$VG_TMP/n$n.log" ] || continue
		echo "---- n$n.log (last 40 lines)"
		tail -n 40 "$VG_TMP/n$n.log"
	done
}
