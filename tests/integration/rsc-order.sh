#!/bin/bash
# rsc-order: group g = [a, b, c] of process resources, and d with an order
# constraint (c then d) and a colocation (d with c).  Each service writes a
# timestamped "start" line to its node's /run/vigil/order.log when it
# starts and a "stop" line when it gets SIGTERM.  From those lines: all four
# start on one node in the order a < b < c < d; after `vigilctl resource
# move g NODE` they stop in reverse order (d, c, b, a) before any of them
# starts on NODE, again in order a < b < c < d.
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: no ip netns"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgro$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
vg_test_begin rsc-order 80

VG_INTERVAL=50 VG_DEADTIME=300
vg_net 3 2
cat > "$VG_TMP/svc.sh" <<'SVC'
#!/bin/sh
# svc.sh LOG NAME: log start, then wait; on SIGTERM log stop and exit
log=$1 name=$2
trap 'echo "$(date +%s.%N) $name stop" >> "$log"; exit 0' TERM
echo "$(date +%s.%N) $name start" >> "$log"
while :; do sleep 1; done
SVC
svc() { # ID
	echo "{ id = \"$1\"; plugin = \"process\";
    params = { command = \"/bin/sh $VG_TMP/svc.sh /run/vigil/order.log $1\"; pidfile = \"/run/vigil/$1.pid\"; stop_grace_ms = 2000; };
    ops = { monitor_interval_ms = 1000; }; }"
}
vg_write_config "$VG_TMP/cluster.conf" "
fencing = { enabled = false; };
resources = ( $(svc d), $(svc a), $(svc b), $(svc c) );
groups = ( { id = \"g\"; resources = [ \"a\", \"b\", \"c\" ]; } );
constraints = {
  order = ( { first = \"c\"; then = \"d\"; } );
  colocation = ( { resource = \"d\"; with = \"c\"; } );
};
"
for n in 1 2 3; do vg_start "$n"; done
for n in 1 2 3; do vg_wait_eq 15 "node $n members" "1 2 3" vg_members "$n"; done

where() { vg_jq "$1" "' '.join('%s@%s' % (r['id'], ','.join(r['running_on']) or '-') for r in s['resources'])"; }
# events NODE: "a:start b:start ..." from node NODE's log, in time order
events() {
	[ -f "$(vg_rundir "$1")/order.log" ] || return 0
	sort -n "$(vg_rundir "$1")/order.log" | awk '{ printf "%s%s:%s", (NR > 1 ? " " : ""), $2, $3 }'
}
vg_wait 15 "a, b, c, d running on one node" eval 'where 1 | grep -qE "^d@(n[0-9]) a@\1 b@\1 c@\1$"' ||
	vg_fail "expected d, a, b, c running on one node, saw $(where 1)"
old=$(vg_rsc_on 1 a)
o=${old#n}
vg_watch_start 1 2 3
vg_log "all on $old: $(where 1)"
vg_wait_eq 5 "events on $old" "a:start b:start c:start d:start" events "$o"
for n in 1 2 3; do
	[ "$n" = "$o" ] && continue
	vg_check "events on n$n" "" "$(events "$n")"
done
# the timestamps are strictly increasing (sort -n would hide a tie)
vg_check "start timestamps on $old strictly increasing" ok \
	"$(awk '$1 <= last { print "not: " $0; exit } { last = $1 } END { }' "$(vg_rundir "$o")/order.log" | grep . || echo ok)"

to=1
[ "$o" = 1 ] && to=2
from=$(vg_log_lines 1)
out=$("$VIGILCTL" -s "$(vg_sock 3)" resource move g "n$to" 2>&1) || vg_fail "vigilctl resource move g n$to: $out"
vg_wait 15 "all moved to n$to" eval 'where 1 | grep -qE "^d@n'"$to"' a@n'"$to"' b@n'"$to"' c@n'"$to"'$"' ||
	vg_fail "after resource move g n$to: expected d, a, b, c on n$to, saw $(where 1)"
vg_log "moved to n$to: $(where 1)"
vg_wait_eq 5 "events on $old after the move" "a:start b:start c:start d:start d:stop c:stop b:stop a:stop" events "$o"
vg_wait_eq 5 "events on n$to after the move" "a:start b:start c:start d:start" events "$to"
# no start on the new node before the last stop on the old one
last_stop=$(sort -n "$(vg_rundir "$o")/order.log" | tail -n 1 | cut -d' ' -f1)
first_start=$(sort -n "$(vg_rundir "$to")/order.log" | head -n 1 | cut -d' ' -f1)
vg_check "first start on n$to ($first_start) after the last stop on $old ($last_stop)" yes \
	"$(awk -v a="$last_stop" -v b="$first_start" 'BEGIN { print (b > a) ? "yes" : "no" }')"
vg_check "the DC's actions for the move" ok \
	"$(vg_dc_seq "$(vg_dc 1)" "$from" "stop d $old" "stop c $old" "stop b $old" "stop a $old" \
		"start a n$to" "start b n$to" "start c n$to" "start d n$to")"
for r in a b c d; do
	vg_check "$r's pidfile on $old" no "$([ -e "$(vg_rundir "$o")/$r.pid" ] && echo yes || echo no)"
	vg_check "$r's pidfile on n$to" yes "$([ -e "$(vg_rundir "$to")/$r.pid" ] && echo yes || echo no)"
done
vg_log "events: $old: $(events "$o"); n$to: $(events "$to")"
vg_watch_check
exit 0
