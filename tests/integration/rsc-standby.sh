#!/bin/bash
# rsc-standby: two groups of two Dummies prefer n2 (location 50): g0 with
# stickiness 0, g100 with stickiness 100.  `vigilctl node standby n2` must
# move both away (stops in reverse member order, then starts in order on the
# new node); `node online n2` must bring g0 back to n2 (its preference beats
# no stickiness) and leave g100 where it is (stickiness beats the
# preference).  Nothing may ever be shown running on two nodes.
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: no ip netns"; exit 77; }
[ -x /usr/lib/ocf/resource.d/heartbeat/Dummy ] || { echo "SKIP: no resource-agents"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgrs$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
vg_test_begin rsc-standby 80

VG_INTERVAL=50 VG_DEADTIME=300
vg_net 3 2
dummy() { # ID STICKINESS
	echo "{ id = \"$1\"; plugin = \"ocf\"; params = { agent = \"heartbeat:Dummy\"; };
    meta = { stickiness = $2; }; ops = { monitor_interval_ms = 1000; }; }"
}
vg_write_config "$VG_TMP/cluster.conf" "
fencing = { enabled = false; };
resources = ( $(dummy a1 0), $(dummy a2 0), $(dummy b1 100), $(dummy b2 100) );
groups = ( { id = \"g0\"; resources = [ \"a1\", \"a2\" ]; },
           { id = \"g100\"; resources = [ \"b1\", \"b2\" ]; } );
constraints = { location = ( { resource = \"g0\"; node = \"n2\"; score = 50; },
                             { resource = \"g100\"; node = \"n2\"; score = 50; } ); };
"
for n in 1 2 3; do vg_start "$n"; done
for n in 1 2 3; do vg_wait_eq 15 "node $n members" "1 2 3" vg_members "$n"; done

where() { vg_jq "$1" "' '.join('%s@%s' % (r['id'], ','.join(r['running_on']) or '-') for r in s['resources'])"; }
vg_wait_eq 15 "where the resources run at first" "a1@n2 a2@n2 b1@n2 b2@n2" where 1
vg_watch_start 1 2 3
ctl() { "$VIGILCTL" -s "$(vg_sock 1)" "$@" 2>&1 || vg_fail "vigilctl $*: $?"; }

# standby n2: both groups leave it, in order
from=$(vg_log_lines 1)
dc=$(vg_dc 1)
vg_check "DC" 1 "$dc"
ctl node standby n2 > /dev/null
vg_wait_eq 5 "n2 in standby (cluster_attrs)" "['n2']" vg_jq 1 "s['cluster_attrs']['standby']"
vg_wait 10 "both groups off n2" eval '! where 1 | grep -q "@n2\|@-"' ||
	vg_fail "after standby n2: expected every resource running elsewhere, saw $(where 1)"
for n in 1 2 3; do vg_wait_eq 5 "node $n: where the resources run in standby" "$(where 1)" where "$n"; done
g0=$(vg_rsc_on 1 a1) g100=$(vg_rsc_on 1 b1)
vg_log "standby n2: g0 on $g0, g100 on $g100: $(where 1)"
vg_check "a2 with a1" "$g0" "$(vg_rsc_on 1 a2)"
vg_check "b2 with b1" "$g100" "$(vg_rsc_on 1 b2)"
vg_check "g0 stops and starts in order" ok \
	"$(vg_dc_seq 1 "$from" "stop a2 n2" "stop a1 n2" "start a1 $g0" "start a2 $g0")"
vg_check "g100 stops and starts in order" ok \
	"$(vg_dc_seq 1 "$from" "stop b2 n2" "stop b1 n2" "start b1 $g100" "start b2 $g100")"
for r in a1 a2 b1 b2; do
	vg_check "$r's state file on n2 in standby" no "$([ -e "$(vg_dummy_state 2 $r)" ] && echo yes || echo no)"
done
sleep 1
vg_check "where the resources run a second later" "a1@$g0 a2@$g0 b1@$g100 b2@$g100" "$(where 1)"

# online n2: g0 comes back (stickiness 0), g100 stays (stickiness 100)
from=$(vg_log_lines 1)
ctl node online n2 > /dev/null
vg_wait_eq 5 "n2 online (cluster_attrs)" "[]" vg_jq 1 "s['cluster_attrs']['standby']"
vg_wait_eq 10 "where the resources run after online n2" "a1@n2 a2@n2 b1@$g100 b2@$g100" where 1
for n in 1 2 3; do vg_wait_eq 5 "node $n: where the resources run after online" "$(where 1)" where "$n"; done
vg_check "g0 moves back in order" ok \
	"$(vg_dc_seq 1 "$from" "stop a2 $g0" "stop a1 $g0" "start a1 n2" "start a2 n2")"
moved=$(vg_dc_actions 1 "$from" | tr , '\n' | grep ' b[12] ' | paste -sd, -)
vg_check "actions on g100 after online n2" "" "$moved"
sleep 1
vg_check "where the resources run a second after online" "a1@n2 a2@n2 b1@$g100 b2@$g100" "$(where 1)"
for r in a1 a2 b1 b2; do
	on=""
	for n in 1 2 3; do [ -e "$(vg_dummy_state "$n" $r)" ] && on="$on n$n"; done
	vg_check "nodes with $r's state file" "$(vg_rsc_on 1 $r)" "${on# }"
done
vg_watch_check
exit 0
