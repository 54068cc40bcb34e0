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
# The system's python3 directly: a version manager's shim costs ~100 ms per
# call, which every status poll pays.
VG_PYTHON=${VG_PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}
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
# Each node also gets its own mount namespace with private tmpfs on
# /run/resource-agents (where OCF agents keep state) and /run/vigil, as
# separate servers would have; the run directory survives restarts of the
# node's vigild (kept under $VG_TMP/runN) so resources outlive a vigild crash.
vg_start() {
	local n=$1 cfg=${2:-$VG_TMP/cluster.conf} pid
	mkdir -p "$VG_TMP/run$n/ra" "$VG_TMP/run$n/vigil" /run/resource-agents /run/vigil
	echo "n$n" > "$VG_TMP/run$n/vigil/node"   # resources may say where they run
	ip netns exec "$(vg_ns "$n")" unshare -m --propagation private \
		sh -c 'mount --bind "$1/ra" /run/resource-agents && mount --bind "$1/vigil" /run/vigil && shift && exec "$@"' \
		vg-node "$VG_TMP/run$n" "$VIGILD" -c "$cfg" --node "n$n" --socket "$(vg_sock "$n")" \
		>> "$VG_TMP/n$n.log" 2>&1 &
	pid=$!
	eval "VG_PID_$n=$pid"
	VG_PIDS="$VG_PIDS $pid"
}

vg_pid() { eval "echo \${VG_PID_$1:-}"; }

# vg_poweroff N: what a power cut does to node N: every process in its
# namespace gets SIGKILL (its vigild first) and its links go down, so that
# nothing it ran answers any more.
vg_poweroff() {
	local n=$1 ns pid l
	ns=$(vg_ns "$n")
	vg_kill "$n" KILL
	for pid in $(ip netns pids "$ns" 2>/dev/null); do
		kill -KILL "$pid" 2>/dev/null || true
	done
	for l in $(seq 0 $((VG_LINKS - 1))); do
		ip -n "$ns" link set "eth$l" down 2>/dev/null || true
	done
}

# vg_poweron N: the node boots again: its links come up with only their own
# address (what it had added is gone) and its /run is empty, as after a real
# power cycle.  Start its vigild with vg_start.
vg_poweron() {
	local n=$1 l ns
	ns=$(vg_ns "$n")
	for l in $(seq 0 $((VG_LINKS - 1))); do
		ip -n "$ns" addr flush dev "eth$l" 2>/dev/null || true
		ip -n "$ns" addr add "198.18.$l.$n/24" dev "eth$l"
		ip -n "$ns" link set "eth$l" up
	done
	ip -n "$ns" route add 224.0.0.0/4 dev "eth$((VG_LINKS > 1 ? 1 : 0))" 2>/dev/null || true
	rm -rf "$VG_TMP/run$n"
}

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
	vg_status_json "$1" | "$VG_PYTHON" -c "import json,sys
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
	local pid n alive
	for pid in $VG_PIDS; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	# bounded: whatever has not exited within 3 s is killed
	for _ in $(seq 60); do
		alive=""
		for pid in $VG_PIDS; do
			kill -0 "$pid" 2>/dev/null && alive="$alive $pid"
		done
		[ -z "$alive" ] && break
		sleep 0.05
	done
	for pid in $VG_PIDS; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	# what the nodes ran (resources, test clients) lives in their namespaces
	for n in $(seq 1 $((VG_NODES + 4))); do
		for pid in $(ip netns pids "$(vg_ns "$n")" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null || true
		done
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

# ---- helpers of the integration tests ----

# Run first, before sourcing this file: automake's SKIP (77) unless root
# with `ip netns`.  Nothing else may skip.
#   [ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
#   ip netns list >/dev/null 2>&1 || { echo "SKIP: no ip netns"; exit 77; }

vg_now_ms() { echo $(($(date +%s%N) / 1000000)); }

# vg_test_begin NAME SECONDS: on exit, dump the logs if the test failed,
# then clean up; a watchdog fails the test after SECONDS.
vg_test_begin() {
	VG_TEST=$1
	VG_WATCHDOG=""
	trap 'vg_test_end' EXIT
	trap 'vg_log "FAIL: $VG_TEST: interrupted"; exit 1' INT TERM HUP
	(
		trap 'kill "$sp" 2>/dev/null; exit 0' TERM
		sleep "$2" &
		sp=$!
		wait "$sp" && vg_log "FAIL: $VG_TEST: watchdog: still running after $2 s" &&
			kill -TERM $$
	) </dev/null &
	VG_WATCHDOG=$!
}

vg_test_end() {
	local rc=$?
	trap - EXIT INT TERM HUP
	[ -n "${VG_WATCHDOG:-}" ] && { kill "$VG_WATCHDOG" 2>/dev/null; wait "$VG_WATCHDOG" 2>/dev/null; }
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ]; then
		vg_dump_logs
	fi
	vg_cleanup
	[ "$rc" -eq 0 ] && vg_log "PASS: ${VG_TEST:-}"
	exit "$rc"
}

# vg_check DESCRIPTION EXPECTED SEEN: fail, saying both, unless equal.
vg_check() {
	[ "$2" = "$3" ] || vg_fail "$1: expected '$2', saw '$3'"
}

# vg_wait_eq SECONDS DESCRIPTION EXPECTED COMMAND...: poll COMMAND's output
# every 50 ms until it is EXPECTED; on timeout, fail saying what was seen.
vg_wait_eq() {
	local limit=$1 what=$2 want=$3 end got=""
	shift 3
	end=$(($(vg_now_ms) + limit * 1000))
	while [ "$(vg_now_ms)" -lt "$end" ]; do
		got=$("$@")
		[ "$got" = "$want" ] && return 0
		sleep 0.05
	done
	vg_fail "$what: expected '$want' within ${limit}s, saw '$got'"
}

vg_view_id() { vg_jq "$1" "s['view']['id']"; }
vg_dc() { vg_jq "$1" "s['dc']['id'] if s['dc'] else None"; }
vg_quorate_str() { vg_jq "$1" "s['quorum']['quorate']"; }
# vg_drops N REASON: node N's count of frames dropped for REASON.
vg_drops() { vg_jq "$1" "s['frames']['dropped'].get('$2', 0)"; }
vg_accepted() { vg_jq "$1" "s['frames']['accepted']"; }
# vg_peer N ID FIELD: a field of node ID in node N's node list.
vg_peer() { vg_jq "$1" "[n['$3'] for n in s['nodes'] if n['id']==$2][0]"; }
# vg_link_state N ID LINKNAME: up or down, as node N sees node ID on that link.
vg_link_state() {
	vg_jq "$1" "[l['state'] for n in s['nodes'] if n['id']==$2 for l in n['links'] if l['name']=='$3'][0]"
}
# vg_summary N: one line for failure messages and progress.
vg_summary() {
	vg_jq "$1" "'view %s members %s quorate %s dc %s states %s' % (s['view']['id'], s['view']['members'], s['quorum']['quorate'], s['dc'] and s['dc']['id'], ','.join('%d:%s' % (n['id'], n['state']) for n in s['nodes']))"
}

# vg_log_ms HH:MM:SS.mmm: milliseconds since midnight (vigild's log stamps).
vg_log_ms() {
	local t=$1 h m s ms
	IFS=':.' read -r h m s ms <<<"$t"
	echo $(((10#$h * 3600 + 10#$m * 60 + 10#$s) * 1000 + 10#$ms))
}
# vg_views_agree N...: "yes" when the nodes show the same view id, else the ids.
vg_views_agree() {
	local n ids="" first="" same=yes v
	for n in "$@"; do
		v=$(vg_view_id "$n")
		ids="$ids${ids:+ }n$n:$v"
		[ -z "$first" ] && first=$v
		[ "$v" = "$first" ] && [ -n "$v" ] || same=no
	done
	[ "$same" = yes ] && echo yes || echo "$ids"
}
