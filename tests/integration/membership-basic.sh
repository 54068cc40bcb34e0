#!/bin/bash
# membership-basic: three nodes on two links agree on one view with node 1 as
# DC; kill -9 of node 2 is detected within deadtime + interval and the
# survivors keep quorum; node 2 restarted rejoins with a new incarnation.
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns unavailable"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgmb$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
vg_test_begin membership-basic 60

INTERVAL=50 DEADTIME=300
VG_INTERVAL=$INTERVAL VG_DEADTIME=$DEADTIME
vg_net 3 2
vg_write_config "$VG_TMP/cluster.conf"
for n in 1 2 3; do vg_start "$n"; done

# --- formation: one view, same id everywhere, DC node 1, quorate
for n in 1 2 3; do
	vg_wait_eq 10 "node $n members" "1 2 3" vg_members "$n"
done
vg_wait_eq 5 "same view id on nodes 1 2 3" yes vg_views_agree 1 2 3
view1=$(vg_view_id 1)
for n in 1 2 3; do
	vg_check "node $n view id" "$view1" "$(vg_view_id "$n")"
	vg_check "node $n DC" "1" "$(vg_dc "$n")"
	vg_check "node $n quorate" "True" "$(vg_quorate_str "$n")"
	vg_check "node $n members" "1 2 3" "$(vg_members "$n")"
done
vg_log "formed: $(vg_summary 1)"

inc_before=$(vg_peer 1 2 incarnation)
[ -n "$inc_before" ] || vg_fail "node 1 shows no incarnation for node 2"
vg_check "node 2's incarnation seen by node 3" "$inc_before" "$(vg_peer 3 2 incarnation)"

# --- kill -9 node 2
t_kill=$(vg_now_ms)
t_kill_clock=$(date +%H:%M:%S.%3N)
vg_kill 2 KILL
end=$((t_kill + 5000))
t_seen=""
while [ "$(vg_now_ms)" -lt "$end" ]; do
	if [ "$(vg_members 1)" = "1 3" ]; then
		t_seen=$(vg_now_ms)
		break
	fi
	sleep 0.02
done
[ -n "$t_seen" ] || vg_fail "after kill -9 of node 2: expected members '1 3' on node 1 within 5 s, saw '$(vg_members 1)'"
vg_wait_eq 2 "node 3 members after the loss of node 2" "1 3" vg_members 3
vg_log "view without node 2 seen by polling $((t_seen - t_kill)) ms after the kill"

for n in 1 3; do
	vg_check "node $n: state of node 2" "lost" "$(vg_peer "$n" 2 state)"
	vg_check "node $n quorate after losing node 2" "True" "$(vg_quorate_str "$n")"
	vg_check "node $n DC after losing node 2" "1" "$(vg_dc "$n")"
done
view2=$(vg_view_id 1)
vg_check "node 3 view id after the loss" "$view2" "$(vg_view_id 3)"
[ "$view2" -gt "$view1" ] || vg_fail "expected a new view id after the loss (> $view1), saw $view2"

# Detection time from vigild's own logs: "last heard N ms ago" <= deadtime +
# interval (checked once per interval), and the log stamp of the loss at most
# deadtime + 2 intervals after the kill (the last heartbeat may precede the
# kill by one interval; one more for scheduling).
for n in 1 3; do
	line=$(grep -a "node 2 (n2) lost on all links, last heard" "$VG_TMP/n$n.log" | tail -n 1)
	[ -n "$line" ] || vg_fail "node $n: expected a log line 'node 2 (n2) lost on all links, last heard N ms ago', saw none"
	heard=$(sed -n 's/.*last heard \([0-9]*\) ms ago.*/\1/p' <<<"$line")
	[ "$heard" -le $((DEADTIME + INTERVAL)) ] ||
		vg_fail "node $n: expected node 2 lost with last heard <= $((DEADTIME + INTERVAL)) ms, saw: $line"
	[ "$heard" -ge "$DEADTIME" ] ||
		vg_fail "node $n: node 2 declared lost before the dead time ($DEADTIME ms): $line"
	stamp=$(vg_log_ms "${line%% *}")
	delay=$(((stamp - $(vg_log_ms "$t_kill_clock") + 86400000) % 86400000))
	[ "$delay" -le $((DEADTIME + 2 * INTERVAL)) ] ||
		vg_fail "node $n: expected loss logged <= $((DEADTIME + 2 * INTERVAL)) ms after the kill ($t_kill_clock), saw $delay ms: $line"
	vg_log "node $n: $line (logged $delay ms after the kill)"
done
# Polling adds a vigilctl and a python3 per sample: allow 150 ms on top.
[ $((t_seen - t_kill)) -le $((DEADTIME + INTERVAL + 150 + INTERVAL)) ] ||
	vg_fail "expected the new view visible <= $((DEADTIME + 2 * INTERVAL + 150)) ms after the kill, saw $((t_seen - t_kill)) ms"

# --- restart node 2: rejoins with a new incarnation
vg_start 2
for n in 1 2 3; do
	vg_wait_eq 10 "node $n members after node 2's restart" "1 2 3" vg_members "$n"
done
vg_wait_eq 5 "same view id on nodes 1 2 3 after the restart" yes vg_views_agree 1 2 3
view3=$(vg_view_id 1)
[ "$view3" -gt "$view2" ] || vg_fail "expected a new view id after the rejoin (> $view2), saw $view3"
for n in 1 2 3; do
	vg_check "node $n view id after the rejoin" "$view3" "$(vg_view_id "$n")"
	vg_check "node $n DC after the rejoin" "1" "$(vg_dc "$n")"
	vg_check "node $n quorate after the rejoin" "True" "$(vg_quorate_str "$n")"
done
inc_after=$(vg_peer 1 2 incarnation)
[ -n "$inc_after" ] && [ "$inc_after" != "$inc_before" ] ||
	vg_fail "expected a new incarnation of node 2 after its restart, saw '$inc_before' before and '$inc_after' after"
vg_check "node 2's new incarnation seen by node 3" "$inc_after" "$(vg_peer 3 2 incarnation)"
vg_check "node 2's own incarnation" "$inc_after" "$(vg_peer 2 2 incarnation)"
grep -aq "node 2 (n2) restarted: incarnation $inc_before -> $inc_after" "$VG_TMP/n1.log" ||
	vg_fail "node 1: expected 'node 2 (n2) restarted: incarnation $inc_before -> $inc_after' in its log, saw: $(grep -a 'restarted' "$VG_TMP/n1.log")"
grep -aq "view $view3 from node 1 (n1): \[n1 n2 n3\]; joined: n2" "$VG_TMP/n1.log" ||
	vg_fail "node 1: expected 'view $view3 from node 1 (n1): [n1 n2 n3]; joined: n2' in its log, saw: $(grep -a "view $view3 " "$VG_TMP/n1.log")"
vg_log "rejoined: $(vg_summary 1); incarnation $inc_before -> $inc_after"
exit 0
