#!/bin/bash
# rsc-quorum: a Dummy d prefers n3 (location 100) and runs there.  n3 is cut
# off (all UDP dropped in its namespace): n3 loses quorum and must stop d
# itself (no_quorum_policy stop: its state file goes), while n1 and n2, still
# quorate, start it on one of them.  After the heal d must run on exactly
# one node.  No node's status may show d on two nodes at once.
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: no ip netns"; exit 77; }
command -v iptables >/dev/null || { echo "SKIP: no iptables"; exit 77; }
[ -x /usr/lib/ocf/resource.d/heartbeat/Dummy ] || { echo "SKIP: no resource-agents"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgrq$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
vg_test_begin rsc-quorum 80

VG_INTERVAL=50 VG_DEADTIME=300
vg_net 3 2
vg_write_config "$VG_TMP/cluster.conf" '
fencing = { enabled = false; };
quorum = { no_quorum_policy = "stop"; };
resources = (
  { id = "d"; plugin = "ocf"; params = { agent = "heartbeat:Dummy"; };
    ops = { monitor_interval_ms = 1000; }; }
);
constraints = { location = ( { resource = "d"; node = "n3"; score = 100; } ); };
'
for n in 1 2 3; do vg_start "$n"; done
for n in 1 2 3; do vg_wait_eq 15 "node $n members" "1 2 3" vg_members "$n"; done
for n in 1 2 3; do vg_wait_eq 15 "node $n: where d runs" n3 vg_rsc_on "$n" d; done
vg_check "d's state file on n3" yes "$([ -e "$(vg_dummy_state 3 d)" ] && echo yes || echo no)"
vg_watch_start 1 2 3
state_on() { local n on=""; for n in 1 2 3; do [ -e "$(vg_dummy_state "$n" d)" ] && on="$on n$n"; done; echo "${on# }"; }

ns3=$(vg_ns 3)
l3=$(vg_log_lines 3)
vg_log "partition: dropping all UDP in and out of n3"
t0=$(vg_now_ms)
ip netns exec "$ns3" iptables -A INPUT -p udp -j DROP || vg_fail "iptables INPUT rule in $ns3"
ip netns exec "$ns3" iptables -A OUTPUT -p udp -j DROP || vg_fail "iptables OUTPUT rule in $ns3"
vg_wait_eq 5 "n3 quorate when cut off" False vg_quorate_str 3
vg_wait 5 "n3 stops d itself" eval '[ ! -e "$(vg_dummy_state 3 d)" ]' ||
	vg_fail "n3 without quorum: expected d stopped there (no state file), saw it still there; n3: $(vg_summary 3)"
t_stop=$(vg_now_ms)
vg_wait_eq 5 "n3: where d runs, as n3 sees it" "" vg_rsc_on 3 d
vg_wait 5 "d started on n1 or n2" eval '[[ "$(vg_rsc_on 1 d)" =~ ^n[12]$ ]]' ||
	vg_fail "n1/n2 with quorum: expected d on n1 or n2, saw '$(vg_rsc_on 1 d)'"
t_start=$(vg_now_ms)
survivor=$(vg_rsc_on 1 d)
vg_wait_eq 5 "n2: where d runs" "$survivor" vg_rsc_on 2 d
vg_wait_eq 5 "nodes with d's state file while partitioned" "$survivor" state_on
vg_log "partitioned: n3 stopped d after $((t_stop - t0)) ms, $survivor runs it after $((t_start - t0)) ms"
grep -aq "partition has no quorum" "$VG_TMP/n3.log" || vg_fail "n3: expected 'partition has no quorum' in its log"
tail -n +"$((l3 + 1))" "$VG_TMP/n3.log" | grep -aqE "d stop: done, rc 0" ||
	vg_fail "n3: expected its executor to log 'd stop: done, rc 0', saw: $(tail -n +"$((l3 + 1))" "$VG_TMP/n3.log" | grep -a ' d ' | tail -n 3)"
# overlap without fencing: when did n3 stop, when did the survivor start (log stamps)
s3=$(tail -n +"$((l3 + 1))" "$VG_TMP/n3.log" | grep -a -m1 "d stop: done" | cut -d' ' -f1)
ss=$(grep -a "d start: done, rc 0" "$VG_TMP/n${survivor#n}.log" | tail -n 1 | cut -d' ' -f1)
vg_log "n3 stopped d at $s3, $survivor started it at $ss (overlap $(($(vg_log_ms "$s3") - $(vg_log_ms "$ss"))) ms if > 0)"
sleep 1
vg_check "n3 a second later: where d runs" "" "$(vg_rsc_on 3 d)"
vg_check "n3 a second later: quorate" False "$(vg_quorate_str 3)"
vg_check "nodes with d's state file a second later" "$survivor" "$(state_on)"

vg_log "heal: flushing n3's rules"
ip netns exec "$ns3" iptables -F || vg_fail "iptables -F in $ns3"
for n in 1 2 3; do vg_wait_eq 10 "node $n members after the heal" "1 2 3" vg_members "$n"; done
vg_wait 10 "d on one node after the heal" eval '[[ "$(vg_rsc_on 1 d)" =~ ^n[123]$ ]] && [ "$(state_on)" = "$(vg_rsc_on 1 d)" ]' ||
	vg_fail "after the heal: expected d on one node, saw '$(vg_rsc_on 1 d)' with state files on '$(state_on)'"
sleep 2
final=$(vg_rsc_on 1 d)
for n in 1 2 3; do vg_wait_eq 5 "node $n: where d runs after the heal" "$final" vg_rsc_on "$n" d; done
vg_check "nodes with d's state file after the heal" "$final" "$(state_on)"
vg_log "healed: d runs on $final"
vg_watch_check
exit 0
