#!/bin/bash
# rsc-rejoin: a Dummy d prefers n3 (location 100, stickiness 0) and runs
# there.  n3 loses power (d moves to n1 or n2), reboots and its vigild
# starts again: d must come back to n3, and every node's status must show
# d on n3 only -- no node may keep n3's resource state from before the
# reboot.
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: no ip netns"; exit 77; }
[ -x /usr/lib/ocf/resource.d/heartbeat/Dummy ] || { echo "SKIP: no resource-agents"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgrj$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
vg_test_begin rsc-rejoin 60

VG_INTERVAL=50 VG_DEADTIME=300
vg_net 3 2
vg_write_config "$VG_TMP/cluster.conf" '
fencing = { enabled = false; };
resources = (
  { id = "d"; plugin = "ocf"; params = { agent = "heartbeat:Dummy"; };
    ops = { monitor_interval_ms = 1000; }; }
);
constraints = { location = ( { resource = "d"; node = "n3"; score = 100; } ); };
'
for n in 1 2 3; do vg_start "$n"; done
for n in 1 2 3; do vg_wait_eq 15 "node $n members" "1 2 3" vg_members "$n"; done
for n in 1 2 3; do vg_wait_eq 15 "node $n: where d runs" n3 vg_rsc_on "$n" d; done
vg_watch_start 1 2 3

vg_log "power cut of n3"
vg_poweroff 3
vg_wait 10 "d on n1 or n2" eval '[[ "$(vg_rsc_on 1 d)" =~ ^n[12]$ ]]' ||
	vg_fail "after the power cut of n3: expected d on n1 or n2, saw '$(vg_rsc_on 1 d)'"
other=$(vg_rsc_on 1 d)
vg_wait_eq 5 "n2: where d runs" "$other" vg_rsc_on 2 d
vg_log "d runs on $other; rebooting n3"
vg_reboot 3
vg_start 3
for n in 1 2 3; do vg_wait_eq 10 "node $n members after the reboot" "1 2 3" vg_members "$n"; done
for n in 1 2 3; do vg_wait_eq 10 "node $n: where d runs after n3 is back" n3 vg_rsc_on "$n" d; done
vg_wait_eq 5 "n3's Dummy state file" yes eval '[ -e "$(vg_dummy_state 3 d)" ] && echo yes || echo no'
vg_check "${other}'s Dummy state file" no "$([ -e "$(vg_dummy_state "${other#n}" d)" ] && echo yes || echo no)"
vg_watch_check
exit 0
