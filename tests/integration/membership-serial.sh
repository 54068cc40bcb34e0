#!/bin/bash
# membership-serial: two nodes (quorum two_node), interval 50 ms, deadtime
# 300 ms, on two links: ring0 udp-mcast (the namespaces' bridge) and serial0,
# the serial transport over a socat pty pair started here in the root
# namespace ($VG_TMP/n1 <-> $VG_TMP/n2, device "$VG_TMP/%n").
#  1. both agree (members 1 2, one view id, quorate) and each shows both
#     links up to the other (vigilctl --json status nodes[].links[].state);
#  2. socat killed: serial0 goes down on both nodes, ring0 stays up, the
#     cluster stays as it was (members 1 2, same view id);
#  3. socat restarted: serial0 up again on both;
#  4. UDP dropped by iptables in node 2's namespace: ring0 down on both,
#     the cluster stays up over serial alone (members 1 2, same view id);
#  5. over serial alone, kill -9 of node 2's vigild: node 1 declares it lost
#     with "last heard N ms ago", N <= deadtime + 2 intervals (400 ms); the
#     detection time (kill to that log line) is printed for the record.
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns unavailable"; exit 77; }
command -v socat >/dev/null || { echo "FAIL: socat not installed"; exit 1; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgms$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
vg_test_begin membership-serial 90

INTERVAL=50
DEADTIME=300
T0=$(vg_now_ms)
elapsed() { echo "$(( $(vg_now_ms) - T0 )) ms"; }
# ms since midnight, as vigild's log stamps (vg_log_ms)
now_of_day() { vg_log_ms "$(date +%H:%M:%S.%3N)"; }

SOCAT_PID=""
socat_start() {
	socat -d -d pty,raw,echo=0,link="$VG_TMP/n1" pty,raw,echo=0,link="$VG_TMP/n2" \
		>>"$VG_TMP/socat.log" 2>&1 </dev/null &
	SOCAT_PID=$!
	VG_PIDS="$VG_PIDS $SOCAT_PID"
	vg_wait 5 "socat's ptys $VG_TMP/n1 and $VG_TMP/n2" test -e "$VG_TMP/n1" -a -e "$VG_TMP/n2" ||
		vg_fail "socat did not make its ptys: $(tail -n 5 "$VG_TMP/socat.log")"
}
socat_stop() {
	kill -TERM "$SOCAT_PID" 2>/dev/null
	wait "$SOCAT_PID" 2>/dev/null || true
	SOCAT_PID=""
}

# links_of N: "ring0:STATE serial0:STATE" as node N sees the other node.
links_of() {
	vg_jq "$1" "' '.join('%s:%s' % (l['name'], l['state']) for n in s['nodes'] if n['id']==$((3 - $1)) for l in n['links'])"
}
# cluster_as_was VIEW WHAT: both nodes still have members 1 2 and view VIEW.
cluster_as_was() {
	local n
	for n in 1 2; do
		vg_check "$2: node $n members" "1 2" "$(vg_members "$n")"
		vg_check "$2: node $n view id" "$1" "$(vg_view_id "$n")"
		vg_check "$2: node $n quorate" True "$(vg_quorate_str "$n")"
	done
}

vg_net 2 1
head -c 64 /dev/urandom > "$VG_TMP/authkey" && chmod 600 "$VG_TMP/authkey" ||
	vg_fail "cannot write $VG_TMP/authkey"
cat > "$VG_TMP/cluster.conf" <<EOF
cluster = { name = "test"; id = 77; key_file = "$VG_TMP/authkey"; };
logging = { level = "info"; };
membership = { interval_ms = $INTERVAL; deadtime_ms = $DEADTIME; };
quorum = { two_node = true; };
state_dir = "$VG_TMP/state";
nodes = (
  { id = 1; name = "n1"; addresses = [ "198.18.0.1", "serial" ]; },
  { id = 2; name = "n2"; addresses = [ "198.18.0.2", "serial" ]; }
);
links = (
  { name = "ring0"; plugin = "udp-mcast"; params = { group = "239.192.77.1"; port = 5406; }; },
  { name = "serial0"; plugin = "serial"; params = { device = "$VG_TMP/%n"; baud = "115200"; }; }
);
EOF

# ---- 1. both agree, both links up on both
socat_start
vg_start 1
vg_start 2
for n in 1 2; do
	vg_wait_eq 15 "node $n members" "1 2" vg_members "$n"
done
vg_wait_eq 5 "same view id on nodes 1 2" yes vg_views_agree 1 2
for n in 1 2; do
	vg_wait_eq 5 "node $n quorate" True vg_quorate_str "$n"
	vg_wait_eq 5 "node $n's links to node $((3 - n))" "ring0:up serial0:up" links_of "$n"
	grep -aq "serial: link 1: $VG_TMP/n$n open at 115200 baud, peer node $((3 - n))" "$VG_TMP/n$n.log" ||
		vg_fail "node $n: expected 'serial: link 1: $VG_TMP/n$n open at 115200 baud, peer node $((3 - n))', saw: $(grep -a 'serial:' "$VG_TMP/n$n.log" | head -n 3)"
done
view=$(vg_view_id 1)
vg_log "formed: $(vg_summary 1); links n1->n2 $(links_of 1), n2->n1 $(links_of 2) [$(elapsed)]"

# ---- 2. the serial line goes away: serial0 down, cluster unchanged
t=$(vg_now_ms)
socat_stop
for n in 1 2; do
	vg_wait_eq 3 "node $n's links with socat killed" "ring0:up serial0:down" links_of "$n"
done
vg_log "socat killed: serial0 down on both after $(( $(vg_now_ms) - t )) ms: $(grep -a 'serial: .*lost' "$VG_TMP/n1.log" | tail -n 1 | sed 's/.*serial: //')"
sleep 1
cluster_as_was "$view" "socat killed"
for n in 1 2; do
	vg_check "node $n links after 1 s without socat" "ring0:up serial0:down" "$(links_of "$n")"
done

# ---- 3. the line is back
t=$(vg_now_ms)
socat_start
for n in 1 2; do
	vg_wait_eq 5 "node $n's links with socat restarted" "ring0:up serial0:up" links_of "$n"
done
cluster_as_was "$view" "socat restarted"
vg_log "socat restarted: serial0 up on both after $(( $(vg_now_ms) - t )) ms [$(elapsed)]"

# ---- 4. udp-mcast cut in node 2's namespace: serial alone carries the cluster
t=$(vg_now_ms)
ip netns exec "$(vg_ns 2)" iptables -A INPUT -p udp -j DROP &&
	ip netns exec "$(vg_ns 2)" iptables -A OUTPUT -p udp -j DROP ||
	vg_fail "iptables in node 2's namespace failed"
for n in 1 2; do
	vg_wait_eq 3 "node $n's links with UDP dropped" "ring0:down serial0:up" links_of "$n"
done
vg_log "UDP dropped: ring0 down on both after $(( $(vg_now_ms) - t )) ms"
sleep 2
cluster_as_was "$view" "UDP dropped, serial alone"
for n in 1 2; do
	vg_check "node $n links after 2 s on serial alone" "ring0:down serial0:up" "$(links_of "$n")"
	! grep -aq "lost on all links" "$VG_TMP/n$n.log" ||
		vg_fail "node $n: expected no node lost so far, saw: $(grep -a 'lost on all links' "$VG_TMP/n$n.log")"
done
vg_log "on serial alone for 2 s: $(vg_summary 1) [$(elapsed)]"

# ---- 5. node 2 killed, heard on serial only: detection time
from=$(vg_log_lines 1)
kill_ms=$(now_of_day)
vg_kill 2 KILL
lost_line() { tail -n +"$((from + 1))" "$VG_TMP/n1.log" | grep -a -m1 "node 2 (n2) lost on all links, last heard [0-9]* ms ago"; }
vg_wait 3 "node 1 declaring node 2 lost" lost_line >/dev/null ||
	vg_fail "node 1: expected 'node 2 (n2) lost on all links, last heard N ms ago' within 3 s of the kill, saw: $(tail -n +"$((from + 1))" "$VG_TMP/n1.log" | tail -n 5)"
line=$(lost_line)
heard=$(sed -n 's/.*last heard \([0-9]*\) ms ago.*/\1/p' <<<"$line")
detect=$(( $(vg_log_ms "${line%% *}") - kill_ms ))
vg_log "node 1: ${line#* membership: }"
vg_log "detection over serial alone (interval $INTERVAL, deadtime $DEADTIME): last heard $heard ms before the verdict, $detect ms from kill -9 to the log line"
[ -n "$heard" ] && [ "$heard" -le $((DEADTIME + 2 * INTERVAL)) ] ||
	vg_fail "node 2 lost: expected 'last heard N ms ago' with N <= $((DEADTIME + 2 * INTERVAL)), saw '$heard': $line"
vg_wait_eq 2 "node 1 members after node 2 killed" "1" vg_members 1
vg_check "node 1 quorate alone (two_node)" True "$(vg_quorate_str 1)"
vg_log "done [$(elapsed)]"
exit 0
