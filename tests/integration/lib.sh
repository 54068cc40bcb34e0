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

# ---- replicated stores run by the repl plugin or a replication instance ----
# vg_repl_ctl N LINE: node N's vigil-repld ($VG_TMP/nN.ctl) answers LINE.
vg_repl_ctl() {
	"$VG_PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(2)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile().readline().strip())' "$VG_TMP/n$1.ctl" "$2" 2>/dev/null
}
# vg_repl_field N KEY: one value of node N's helper's status line.
vg_repl_field() { vg_repl_ctl "$1" status | tr ' ' '\n' | sed -n "s/^$2=//p"; }
# vg_repl_synced N: node N's helper is primary, connected, and its peer is up to date.
vg_repl_synced() {
	[ "$(vg_repl_field "$1" role):$(vg_repl_field "$1" conn):$(vg_repl_field "$1" peer_disk)" = \
	  "primary:connected:uptodate" ]
}
# vg_repl_roles N RSC: "node:role ..." of RSC's current, not stopped, instances (node N's view).
vg_repl_roles() {
	vg_jq "$1" "' '.join('%s:%s' % (x['node'], x['role']) for r in s['resources'] if r['id']=='$2' for x in sorted(r['nodes'], key=lambda x: x['node']) if x['current'] and x['role'] != 'stopped')"
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
	# the simulated BMCs (vg_bmc_start), by pid
	vg_bmc_cleanup
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
			kill -TERM $$ || exit 0
		# bash runs its TERM trap (and the cleanup) only once the command in
		# the foreground returns: end a foreground command that hangs.
		sleep 3
		kill -0 $$ 2>/dev/null && pkill -TERM -P $$
		exit 0
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

# ---- helpers of the resource tests ----

# vg_rsc_on N RSC: the nodes where node N sees RSC running, e.g. "n2" ("" if none).
vg_rsc_on() {
	vg_jq "$1" "' '.join(([r['running_on'] for r in s['resources'] if r['id']=='$2'] + [[]])[0])"
}
# vg_rsc_field N RSC NODE FIELD: a field (role, failed, fail_count, ...) of
# RSC's entry for NODE in node N's status; "-" when there is none.
vg_rsc_field() {
	vg_jq "$1" "([x['$4'] for r in s['resources'] if r['id']=='$2' for x in r['nodes'] if x['node']=='$3'] + ['-'])[0]"
}
# vg_fail_counts N RSC: "n1:0 n2:1 ..." over the nodes node N lists for RSC.
vg_fail_counts() {
	vg_jq "$1" "' '.join('%s:%d' % (x['node'], x['fail_count']) for r in s['resources'] if r['id']=='$2' for x in r['nodes'])"
}
# vg_rsc_summary N: one line: every resource and where it runs, as node N sees it.
vg_rsc_summary() {
	vg_jq "$1" "' '.join('%s@%s' % (r['id'], ','.join(r['running_on']) or '-') for r in s['resources'])"
}
# vg_dummy_state N RSC: the (per node) state file of an ocf:heartbeat:Dummy
# resource RSC without a state attribute, seen from outside the node.
vg_dummy_state() { echo "$VG_TMP/run$1/ra/Dummy-$2.state"; }
# vg_rundir N: node N's /run/vigil, seen from outside the node.
vg_rundir() { echo "$VG_TMP/run$1/vigil"; }

# vg_watch_start N...: in the background, poll every 50 ms the status of
# nodes N... (those that answer) and record in $VG_TMP/watch.log every time a
# resource that is not in a clone is shown running on more than one node.
# vg_watch_check fails the test if that happened.  vg_cleanup stops the watcher.
vg_watch_start() {
	local socks="" n
	for n in "$@"; do socks="$socks $(vg_sock "$n")"; done
	: > "$VG_TMP/watch.log"
	# shellcheck disable=SC2086
	"$VG_PYTHON" -c '
import json, subprocess, sys, time
ctl, out, socks = sys.argv[1], sys.argv[2], sys.argv[3:]
while True:
    for sock in socks:
        try:
            p = subprocess.run([ctl, "-s", sock, "--json", "status"], capture_output=True, timeout=2)
            s = json.loads(p.stdout)
        except Exception:
            continue
        for r in s.get("resources", []):
            if r.get("in_kind") in ("clone", "promotable clone"):
                continue
            if len(r["running_on"]) > 1:
                with open(out, "a") as f:
                    f.write("%s %s: %s running on %s\n" % (time.strftime("%H:%M:%S"),
                            sock.rsplit("/", 1)[-1], r["id"], " ".join(r["running_on"])))
    time.sleep(0.05)
' "$VIGILCTL" "$VG_TMP/watch.log" $socks </dev/null >/dev/null 2>&1 &
	VG_WATCH_PID=$!
	VG_PIDS="$VG_PIDS $VG_WATCH_PID"
}
vg_watch_check() {
	[ -s "$VG_TMP/watch.log" ] || return 0
	vg_fail "a resource ran on two nodes at once: expected never, saw: $(head -n 5 "$VG_TMP/watch.log")"
}

# vg_dc_actions N FROM_LINE: "action rsc node" for each action that node N,
# as DC, logged done after line FROM_LINE of its log, in order (e.g.
# "start vip n2,start d n2").  vg_log_lines N: the number of lines so far.
vg_log_lines() { if [ -f "$VG_TMP/n$1.log" ]; then wc -l < "$VG_TMP/n$1.log"; else echo 0; fi; }
vg_dc_actions() {
	tail -n +"$(($2 + 1))" "$VG_TMP/n$1.log" 2>/dev/null |
		sed -n 's/.* dc: transition [0-9]*: \([a-z]*\) \([^ ]*\) on \([^ ]*\) done$/\1 \2 \3/p' |
		paste -sd, -
}

# vg_tcp_wait CLIENT ADDR PORT EXPECT INTERVAL_MS LIMIT_MS: from client
# namespace CLIENT, open a new TCP connection to ADDR:PORT every INTERVAL_MS
# (each given up to 1 s, several in flight: a connection sent to a dead MAC
# hangs) until one reads a line starting with EXPECT; print the wall clock of
# that answer in ms since the epoch.  Returns 1 after LIMIT_MS without one.
vg_tcp_wait() {
	ip netns exec "$(vg_ns "$1")" "$VG_PYTHON" -c '
import errno, selectors, socket, sys, time
addr, port, expect = sys.argv[1], int(sys.argv[2]), sys.argv[3].encode()
step, limit = int(sys.argv[4]) / 1000.0, int(sys.argv[5]) / 1000.0
sel = selectors.DefaultSelector()
end = time.monotonic() + limit
nxt = 0.0
while time.monotonic() < end:
    now = time.monotonic()
    if now >= nxt:
        nxt = now + step
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        e = s.connect_ex((addr, port))
        if e in (0, errno.EINPROGRESS):
            sel.register(s, selectors.EVENT_READ, now)
        else:
            s.close()
    for key, _ in sel.select(max(0.0, min(nxt, end) - time.monotonic())):
        s = key.fileobj
        try:
            data = s.recv(64)
        except OSError:
            data = b""
        if data.startswith(expect):
            print(int(time.time() * 1000))
            sys.exit(0)
        sel.unregister(s)
        s.close()
    for key in list(sel.get_map().values()):
        if time.monotonic() - key.data > 1.0:
            sel.unregister(key.fileobj)
            key.fileobj.close()
sys.exit(1)
' "$2" "$3" "$4" "$5" "$6"
}
# vg_tcp_get CLIENT ADDR PORT: one answer, as a client would get it (socat).
vg_tcp_get() {
	ip netns exec "$(vg_ns "$1")" timeout 3 socat -T1 - "TCP:$2:$3,connect-timeout=1" </dev/null 2>/dev/null
}

# vg_dc_seq N FROM_LINE "ACTION RSC NODE"...: "ok" when, in node N's log
# after line FROM_LINE, each action was started only after the one before it
# was done (first occurrences); else what was out of order or missing.
vg_dc_seq() {
	local n=$1 from=$2 prev="" prev_done=0 a s d
	shift 2
	for a in "$@"; do
		set -- $a
		s=$(tail -n +"$((from + 1))" "$VG_TMP/n$n.log" | grep -n -m1 -E " dc: transition [0-9]+: $1 $2 on $3 started\$" | cut -d: -f1)
		d=$(tail -n +"$((from + 1))" "$VG_TMP/n$n.log" | grep -n -m1 -E " dc: transition [0-9]+: $1 $2 on $3 done\$" | cut -d: -f1)
		[ -n "$s" ] && [ -n "$d" ] || { echo "'$a' not started and done in n$n's log"; return; }
		[ -z "$prev" ] || [ "$s" -gt "$prev_done" ] || { echo "'$a' started before '$prev' was done"; return; }
		prev=$a prev_done=$d
	done
	echo ok
}

# vg_reboot N: after vg_poweroff N, what the power cut also took: the node's
# volatile state (the tmpfs /run/resource-agents and /run/vigil, addresses
# added to its links, such as a VIP); then its links come up (vg_poweron).
# Start vigild again with vg_start.
vg_reboot() {
	local n=$1 l ns
	ns=$(vg_ns "$n")
	rm -rf "${VG_TMP:?}/run$n/ra" "${VG_TMP:?}/run$n/vigil"
	for l in $(seq 0 $((VG_LINKS - 1))); do
		ip -n "$ns" -4 addr flush dev "eth$l" 2>/dev/null || true
		ip -n "$ns" -6 addr flush dev "eth$l" scope global 2>/dev/null || true
		ip -n "$ns" addr add "198.18.$l.$n/24" dev "eth$l"
	done
	vg_poweron "$n"
}

# ---- BMCs: one OpenIPMI ipmi_sim per node, for the fencing tests ----
# vg_bmc_start N runs a simulated BMC for node N in the switch namespace,
# on 198.18.0.(200+N) port 623 (that address is added to br0).  Its
# chassis_control script (vg_bmc_dir N/chassis.sh, given the namespace, the
# number of links and VG_TMP as arguments) really powers the node:
#   set power 0: SIGKILL to every process of node N's namespace (its vigild
#                too), its links down (what vg_poweroff does), power file 0;
#   set power 1: its links up with only their own address, its /run emptied
#                (what vg_poweron does; vigild is not started: vg_start),
#                power file 1;
#   get power:   the power file.
# Every call is appended to vg_bmc_dir N/power.log with a timestamp.  The
# power file survives vg_bmc_stop / vg_bmc_start (the node stays as it was).
# One user, $VG_BMC_USER with the password in $VG_BMC_PWFILE (mode 0600).
# Needs ipmi_sim (OpenIPMI); ipmitool for vg_bmc_power.
VG_BMC_USER=fence
VG_BMC_PASS=vg-bmc-pw7
VG_BMC_PWFILE="$VG_TMP/bmc.pw"
VG_BMC_PIDS=""

vg_bmc_dir() { echo "$VG_TMP/bmc$1"; }
vg_bmc_addr() { echo "198.18.0.$((200 + $1))"; }
vg_bmc_pid() { eval "echo \${VG_BMC_PID_$1:-}"; }
vg_bmc_power_file() { echo "$VG_TMP/bmc$1/power"; }

vg_bmc_pwfile() {
	[ -f "$VG_BMC_PWFILE" ] && return 0
	(umask 077; printf '%s\n' "$VG_BMC_PASS" > "$VG_BMC_PWFILE")
}

vg_bmc_files() {
	local n=$1 d
	d=$(vg_bmc_dir "$n")
	mkdir -p "$d/state"
	[ -f "$d/power" ] || echo 1 > "$d/power"
	vg_bmc_pwfile
	cat > "$d/chassis.sh" <<-'EOS'
	#!/bin/bash
	# ipmi_sim chassis_control: DIR NS LINKS VG_TMP NODE then "get power" or "set power V"
	d=$1 ns=$2 links=$3 tmp=$4 n=$5
	shift 5
	echo "$(date +%H:%M:%S.%3N) $*" >> "$d/power.log"
	case "$1" in
	get) echo "power:$(cat "$d/power")" ;;
	set)
		shift
		while [ $# -ge 2 ]; do
			if [ "$1" = power ]; then
				v=$(echo "$2" | tr -d '"')
				if [ "$v" = 0 ]; then
					for pid in $(ip netns pids "$ns" 2>/dev/null); do
						kill -KILL "$pid" 2>/dev/null
					done
					for l in $(seq 0 $((links - 1))); do
						ip -n "$ns" link set "eth$l" down 2>/dev/null
					done
					echo 0 > "$d/power"
					echo "$(date +%H:%M:%S.%3N) powered off $ns" >> "$d/power.log"
				else
					for l in $(seq 0 $((links - 1))); do
						ip -n "$ns" addr flush dev "eth$l" 2>/dev/null
						ip -n "$ns" addr add "198.18.$l.$n/24" dev "eth$l" 2>/dev/null
						ip -n "$ns" link set "eth$l" up 2>/dev/null
					done
					ip -n "$ns" route add 224.0.0.0/4 dev "eth$((links > 1 ? 1 : 0))" 2>/dev/null
					rm -rf "${tmp:?}/run$n"
					echo 1 > "$d/power"
					echo "$(date +%H:%M:%S.%3N) powered on $ns" >> "$d/power.log"
				fi
			fi
			shift 2
		done ;;
	esac
	exit 0
	EOS
	chmod 755 "$d/chassis.sh"
	cat > "$d/lan.conf" <<-EOF2
	name "vgbmc$n"
	set_working_mc 0x20
	  startlan 1
	    addr $(vg_bmc_addr "$n") 623
	    priv_limit admin
	    allowed_auths_callback none md2 md5 straight
	    allowed_auths_user none md2 md5 straight
	    allowed_auths_operator none md2 md5 straight
	    allowed_auths_admin none md2 md5 straight
	    guid a123456789abcdefa123456789abcd$(printf '%02x' "$n")
	  endlan
	  chassis_control "$d/chassis.sh $d $(vg_ns "$n") $VG_LINKS $VG_TMP $n"
	  user 2 true "$VG_BMC_USER" "$VG_BMC_PASS" admin 10 none md2 md5 straight
	EOF2
	cat > "$d/sim.emu" <<-EOF2
	mc_setbmc 0x20
	mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02
	mc_enable 0x20
	EOF2
}

# vg_bmc_listening N: node N's BMC has its UDP socket.
vg_bmc_listening() {
	ip netns exec "$(vg_sw)" ss -Hlun "sport = :623" 2>/dev/null | grep -qF "$(vg_bmc_addr "$1"):623"
}

# vg_bmc_start N: start (or restart) node N's BMC; returns 1 if it does not listen within 5 s.
vg_bmc_start() {
	local n=$1 d pid
	d=$(vg_bmc_dir "$n")
	vg_bmc_files "$n"
	ip -n "$(vg_sw)" addr show dev br0 | grep -qF " $(vg_bmc_addr "$n")/24 " ||
		ip -n "$(vg_sw)" addr add "$(vg_bmc_addr "$n")/24" dev br0
	ip netns exec "$(vg_sw)" ipmi_sim -c "$d/lan.conf" -f "$d/sim.emu" -s "$d/state" -n \
		>> "$d/sim.log" 2>&1 </dev/null &
	pid=$!
	eval "VG_BMC_PID_$n=$pid"
	VG_BMC_PIDS="$VG_BMC_PIDS $pid"
	vg_wait 5 "BMC of n$n listening on $(vg_bmc_addr "$n"):623" vg_bmc_listening "$n" && return 0
	cat "$d/sim.log"
	return 1
}

# vg_bmc_stop N: node N's BMC stops answering (its address stays: ICMP port unreachable).
vg_bmc_stop() {
	local pid
	pid=$(vg_bmc_pid "$1")
	[ -n "$pid" ] || return 0
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	eval "VG_BMC_PID_$1="
}

# vg_bmc_power N [CLIENT_NODE] [on|off|cycle|status]: ipmitool against node N's
# BMC, run in node CLIENT_NODE's namespace (default: the switch); prints its answer.
vg_bmc_power() {
	local n=$1 from=${2:-} ns
	ns=$(vg_sw)
	[ -n "$from" ] && ns=$(vg_ns "$from")
	ip netns exec "$ns" timeout 20 ipmitool -I lanplus -C 3 -H "$(vg_bmc_addr "$n")" \
		-U "$VG_BMC_USER" -f "$VG_BMC_PWFILE" chassis power "${3:-status}" 2>&1
}

# vg_bmc_fence_conf N[:DELAY_MS]...: the fence_devices entries (no
# "fence_devices = (" around them), one ipmi device "ipmi-nN" per node,
# targets [ "nN" ], with delay_ms DELAY_MS when given.
vg_bmc_fence_conf() {
	local a n delay sep=""
	vg_bmc_pwfile
	for a in "$@"; do
		n=${a%%:*}
		delay=0
		[ "$a" != "$n" ] && delay=${a#*:}
		printf '%s  { name = "ipmi-n%s"; plugin = "ipmi"; targets = [ "n%s" ]; delay_ms = %s;\n' \
			"$sep" "$n" "$n" "$delay"
		printf '    params = { address = "%s"; port = 623; user = "%s"; password_file = "%s";\n' \
			"$(vg_bmc_addr "$n")" "$VG_BMC_USER" "$VG_BMC_PWFILE"
		printf '               privilege = "operator"; cipher_suite = 3; timeout_ms = %s;\n' \
			"${VG_BMC_TIMEOUT_MS:-10000}"
		printf '               retries = %s; power_wait_ms = 100; target = "n%s"; }; }\n' \
			"${VG_BMC_RETRIES:-2}" "$n"
		sep=","
	done
}

# vg_bmc_cleanup: every BMC started (by pid); called by vg_cleanup.
vg_bmc_cleanup() {
	local pid
	for pid in $VG_BMC_PIDS; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	VG_BMC_PIDS=""
}
