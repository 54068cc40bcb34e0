#!/bin/bash
# membership-partition: node 3 cut off on both links (iptables in its
# namespace) loses quorum and the DC, alone in its view, while nodes 1 and 2
# keep quorum as [1 2]; healed, all three agree again on one view.
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns unavailable"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgmp$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
vg_test_begin membership-partition 60

VG_INTERVAL=50 VG_DEADTIME=300
vg_net 3 2
vg_write_config "$VG_TMP/cluster.conf"
for n in 1 2 3; do vg_start "$n"; done

# vg_agreed VIEW_MEMBERS: every node shows them, one view id, DC 1, quorate.
vg_agreed() {
	local n
	for n in 1 2 3; do
		vg_wait_eq 10 "node $n members" "$1" vg_members "$n"
	done
	vg_wait_eq 5 "same view id on nodes 1 2 3" yes vg_views_agree 1 2 3
	for n in 1 2 3; do
		vg_check "node $n DC" "1" "$(vg_dc "$n")"
		vg_check "node $n quorate" "True" "$(vg_quorate_str "$n")"
	done
}
vg_agreed "1 2 3"
view1=$(vg_view_id 1)
vg_log "formed: $(vg_summary 1)"

ns3=$(vg_ns 3)
vg_log "partition: dropping all UDP in and out of node 3"
ip netns exec "$ns3" iptables -A INPUT -p udp -j DROP || vg_fail "iptables INPUT rule in $ns3"
ip netns exec "$ns3" iptables -A OUTPUT -p udp -j DROP || vg_fail "iptables OUTPUT rule in $ns3"

vg_wait_eq 5 "node 3 members when cut off" "3" vg_members 3
vg_wait_eq 2 "node 3 quorate when cut off" "False" vg_quorate_str 3
vg_wait_eq 2 "node 3 DC when cut off" "None" vg_dc 3
for n in 1 2; do
	vg_wait_eq 5 "node $n members with node 3 cut off" "1 2" vg_members "$n"
	vg_check "node $n quorate with node 3 cut off" "True" "$(vg_quorate_str "$n")"
	vg_check "node $n DC with node 3 cut off" "1" "$(vg_dc "$n")"
	vg_check "node $n: state of node 3" "lost" "$(vg_peer "$n" 3 state)"
done
vg_wait_eq 5 "same view id on nodes 1 2" yes vg_views_agree 1 2
for p in 1 2; do
	vg_check "node 3: state of node $p" "lost" "$(vg_peer 3 "$p" state)"
done
grep -aq "partition has no quorum" "$VG_TMP/n3.log" ||
	vg_fail "node 3: expected 'partition has no quorum' in its log, saw: $(grep -a quorum "$VG_TMP/n3.log")"
# Stays so: a second later nothing has moved.
sleep 1
vg_check "node 3 members a second later" "3" "$(vg_members 3)"
vg_check "node 3 quorate a second later" "False" "$(vg_quorate_str 3)"
vg_check "node 1 members a second later" "1 2" "$(vg_members 1)"
vg_log "partitioned: node 1: $(vg_summary 1)"
vg_log "partitioned: node 3: $(vg_summary 3)"
view2=$(vg_view_id 1)
[ "$view2" -gt "$view1" ] || vg_fail "expected a new view id on node 1 (> $view1), saw $view2"

vg_log "heal: flushing node 3's rules"
ip netns exec "$ns3" iptables -F || vg_fail "iptables -F in $ns3"
vg_agreed "1 2 3"
view3=$(vg_view_id 1)
[ "$view3" -gt "$view2" ] || vg_fail "expected a new view id after the heal (> $view2), saw $view3"
for n in 1 2 3; do
	for p in 1 2 3; do
		vg_check "node $n: state of node $p after the heal" "member" "$(vg_peer "$n" "$p" state)"
	done
done
vg_log "healed: $(vg_summary 3)"
exit 0
