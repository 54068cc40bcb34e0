#!/bin/bash
# rsc-monitor: an ocf:heartbeat:Dummy monitored every 500 ms with
# migration_threshold 2.  Its state file is deleted on the node that runs it
# (the agent then reports "not running"): it must be restarted in place with
# fail_count 1; deleted again: fail_count 2 reaches the threshold and it must
# move to another node; `vigilctl resource cleanup` must then forget the
# failures everywhere.  It must never be shown running on two nodes.
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: no ip netns"; exit 77; }
[ -x /usr/lib/ocf/resource.d/heartbeat/Dummy ] || { echo "SKIP: no resource-agents"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgrm$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
vg_test_begin rsc-monitor 80

VG_INTERVAL=50 VG_DEADTIME=300
vg_net 3 2
vg_write_config "$VG_TMP/cluster.conf" '
fencing = { enabled = false; };
resources = (
  { id = "d"; plugin = "ocf"; params = { agent = "heartbeat:Dummy"; };
    meta = { migration_threshold = 2; };
    ops = { monitor_interval_ms = 500; }; }
);
'
for n in 1 2 3; do vg_start "$n"; done
for n in 1 2 3; do vg_wait_eq 15 "node $n members" "1 2 3" vg_members "$n"; done
vg_wait 15 "d running" eval '[ -n "$(vg_rsc_on 1 d)" ]' || vg_fail "d: expected it running, saw it nowhere"
active=$(vg_rsc_on 1 d)
a=${active#n}
vg_log "d runs on $active"
for n in 1 2 3; do vg_wait_eq 5 "node $n: where d runs" "$active" vg_rsc_on "$n" d; done
vg_watch_start 1 2 3
state=$(vg_dummy_state "$a" d)
[ -e "$state" ] || vg_fail "d's state file on $active: expected $state, saw: $(ls "$VG_TMP/run$a/ra")"

# 1st failure: restarted in place
t0=$(vg_now_ms)
nsenter -t "$(vg_pid "$a")" -m rm "/run/resource-agents/Dummy-d.state" ||
	vg_fail "cannot remove d's state file in $active's mount namespace"
vg_wait_eq 5 "d's fail count on $active after the first failure" 1 vg_rsc_field 1 d "$active" fail_count
vg_wait 5 "d's state file again on $active" test -e "$state" ||
	vg_fail "d after the first failure: expected it restarted on $active (state file back), saw $(vg_rsc_summary 1)"
vg_log "first failure: restarted on $active after $(($(vg_now_ms) - t0)) ms"
for n in 1 2 3; do
	vg_wait_eq 5 "node $n: where d runs after the first failure" "$active" vg_rsc_on "$n" d
	vg_wait_eq 5 "node $n: d's fail count on $active" 1 vg_rsc_field "$n" d "$active" fail_count
	vg_wait_eq 5 "node $n: d failed on $active" False vg_rsc_field "$n" d "$active" failed
done
grep -aq "d monitor.*rc 7" "$VG_TMP/n$a.log" ||
	vg_fail "expected a failed monitor of d in $active's log, saw: $(grep -a 'd monitor' "$VG_TMP/n$a.log" | tail -n 3)"

# 2nd failure: threshold reached, it moves
sleep 0.6
t0=$(vg_now_ms)
rm "$state" || vg_fail "cannot remove $state"
vg_wait 5 "d moved away from $active" eval '[ -n "$(vg_rsc_on 1 d)" ] && [ "$(vg_rsc_on 1 d)" != "'"$active"'" ]' ||
	vg_fail "d after the second failure: expected it on another node than $active, saw '$(vg_rsc_on 1 d)' (fail counts $(vg_fail_counts 1 d))"
new=$(vg_rsc_on 1 d)
b=${new#n}
vg_log "second failure: moved to $new after $(($(vg_now_ms) - t0)) ms"
for n in 1 2 3; do
	vg_wait_eq 5 "node $n: where d runs after the second failure" "$new" vg_rsc_on "$n" d
	vg_wait_eq 5 "node $n: d's fail count on $active" 2 vg_rsc_field "$n" d "$active" fail_count
done
vg_check "d's state file on $active after the move" no "$([ -e "$state" ] && echo yes || echo no)"
vg_check "d's state file on $new after the move" yes "$([ -e "$(vg_dummy_state "$b" d)" ] && echo yes || echo no)"

# cleanup: failures forgotten everywhere
out=$("$VIGILCTL" -s "$(vg_sock 2)" resource cleanup d 2>&1) || vg_fail "vigilctl resource cleanup d: $out"
for n in 1 2 3; do
	vg_wait_eq 5 "node $n: d's fail counts after cleanup" "" \
		eval 'vg_fail_counts '"$n"' d | tr " " "\n" | grep -v ":0$" | paste -sd" " -'
done
vg_wait 5 "d running after cleanup" eval '[ -n "$(vg_rsc_on 1 d)" ]' || vg_fail "d after cleanup: expected running, saw nowhere"
sleep 1
vg_log "after cleanup: d on $(vg_rsc_on 1 d), fail counts $(vg_fail_counts 1 d)"
on=0
for n in 1 2 3; do [ -e "$(vg_dummy_state "$n" d)" ] && on=$((on + 1)); done
vg_check "nodes with d's state file after cleanup" 1 "$on"
vg_watch_check
exit 0
