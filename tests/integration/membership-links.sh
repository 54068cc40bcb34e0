#!/bin/bash
# membership-links: with one of two links cut to node 3 the cluster keeps its
# view [1 2 3] and quorum, and the cut link shows down (the other up) on both
# ends; restored, it shows up again.  Link 1 (ring1, multicast) is cut with
# iptables, link 0 (ring0, unicast) by taking node 3's eth0 down.
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns unavailable"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgml$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
vg_test_begin membership-links 60

VG_INTERVAL=50 VG_DEADTIME=300
vg_net 3 2
vg_write_config "$VG_TMP/cluster.conf"
for n in 1 2 3; do vg_start "$n"; done
for n in 1 2 3; do
	vg_wait_eq 10 "node $n members" "1 2 3" vg_members "$n"
done
vg_wait_eq 5 "same view id on nodes 1 2 3" yes vg_views_agree 1 2 3
view=$(vg_view_id 1)
for n in 1 2; do
	for l in ring0 ring1; do
		vg_wait_eq 5 "node $n: link $l to node 3" up vg_link_state "$n" 3 "$l"
	done
done
vg_log "formed: $(vg_summary 1)"
ns3=$(vg_ns 3)

# check_cut DOWN UP: the cluster is unchanged, DOWN is down and UP is up
# between node 3 and each of nodes 1 and 2, seen from both ends.
check_cut() {
	local down=$1 up=$2 n
	for n in 1 2; do
		vg_wait_eq 5 "node $n: link $down to node 3" down vg_link_state "$n" 3 "$down"
		vg_wait_eq 5 "node 3: link $down to node $n" down vg_link_state 3 "$n" "$down"
	done
	sleep 1 # ~3 dead times: long enough for a wrong view change
	for n in 1 2; do
		vg_check "node $n: link $down to node 3" down "$(vg_link_state "$n" 3 "$down")"
		vg_check "node $n: link $up to node 3" up "$(vg_link_state "$n" 3 "$up")"
		vg_check "node 3: link $up to node $n" up "$(vg_link_state 3 "$n" "$up")"
		vg_check "node $n: state of node 3 with $down cut" member "$(vg_peer "$n" 3 state)"
		vg_check "node 3: state of node $n with $down cut" member "$(vg_peer 3 "$n" state)"
	done
	for n in 1 2 3; do
		vg_check "node $n members with $down cut" "1 2 3" "$(vg_members "$n")"
		vg_check "node $n view id with $down cut (no view change)" "$view" "$(vg_view_id "$n")"
		vg_check "node $n quorate with $down cut" True "$(vg_quorate_str "$n")"
		vg_check "node $n DC with $down cut" 1 "$(vg_dc "$n")"
	done
	grep -aq "link [01] ($down) to node 3 (n3) down" "$VG_TMP/n1.log" ||
		vg_fail "node 1: expected 'link N ($down) to node 3 (n3) down' in its log, saw: $(grep -a 'to node 3' "$VG_TMP/n1.log")"
	vg_log "$down cut: node 1 sees node 3 $down $(vg_link_state 1 3 "$down"), $up $(vg_link_state 1 3 "$up")"
}

check_restored() {
	local n l
	for n in 1 2; do
		for l in ring0 ring1; do
			vg_wait_eq 5 "node $n: link $l to node 3 after the repair" up vg_link_state "$n" 3 "$l"
			vg_wait_eq 5 "node 3: link $l to node $n after the repair" up vg_link_state 3 "$n" "$l"
		done
	done
	for n in 1 2 3; do
		vg_check "node $n members after the repair" "1 2 3" "$(vg_members "$n")"
		vg_check "node $n view id after the repair (no view change)" "$view" "$(vg_view_id "$n")"
	done
}

vg_log "cut ring1: iptables drops node 3's UDP on eth1"
ip netns exec "$ns3" iptables -A INPUT -i eth1 -p udp -j DROP || vg_fail "iptables in $ns3"
ip netns exec "$ns3" iptables -A OUTPUT -o eth1 -p udp -j DROP || vg_fail "iptables in $ns3"
check_cut ring1 ring0
ip netns exec "$ns3" iptables -F || vg_fail "iptables -F in $ns3"
check_restored
vg_log "ring1 restored: $(vg_summary 1)"

vg_log "cut ring0: node 3's eth0 down"
ip -n "$ns3" link set eth0 down || vg_fail "ip link set eth0 down in $ns3"
check_cut ring0 ring1
ip -n "$ns3" link set eth0 up || vg_fail "ip link set eth0 up in $ns3"
check_restored
vg_log "ring0 restored: $(vg_summary 1)"
exit 0
