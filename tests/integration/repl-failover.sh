#!/bin/bash
# repl-failover: a replicated block store (plugin repl driving vigil-repld,
# protocol C) as a promotable clone on n1 and n2 of a 3-node cluster
# (fencing disabled), with a VIP colocated with the promoted instance and
# started after the promote.  A client (n4) writes numbered, checksummed
# 4 KiB records with FUA through NBD to the VIP and logs every acknowledged
# one.  The primary's node loses power mid-stream; the other is promoted,
# the VIP moves, the writer reconnects and goes on.  The dead node comes
# back with its disk as the crash left it: a crashed primary whose peer was
# promoted after it discards its in-flight writes and resyncs as target
# (docs/plugins/repl.md), no split brain; then the next cycle cuts the new
# primary.  At the end every acknowledged record is read back
# through the VIP: none may be lost.
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: no ip netns"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgrf$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
vg_test_begin repl-failover 120

REPLD="$TOP_BUILDDIR/plugins/replication/block/vigil-repld"
WRITER="$TOP_SRCDIR/tests/integration/repl-writer.py"
[ -x "$REPLD" ] || vg_fail "no $REPLD: build the tree first"
VIP=198.18.0.100
STORE_MB=16
CYCLES_MAX=${REPL_CYCLES:-20}
BUDGET_S=${REPL_BUDGET_S:-85}   # no new cycle starts after this many seconds

new_store() { rm -f "$VG_TMP/n$1.store" "$VG_TMP/n$1.store.meta"; truncate -s ${STORE_MB}M "$VG_TMP/n$1.store"; }
new_store 1
new_store 2

VG_INTERVAL=50 VG_DEADTIME=300
vg_net 3 2 1
vg_write_config "$VG_TMP/cluster.conf" "
fencing = { enabled = false; };
resources = (
  { id = \"r\"; plugin = \"repl\";
    params = { helper = \"$REPLD\"; store = \"$VG_TMP/%n.store\";
               addresses = \"n1=198.18.0.1:7788 n2=198.18.0.2:7788\";
               nbd = \"0.0.0.0:10809\"; control = \"$VG_TMP/%n.ctl\";
               pidfile = \"/run/vigil/repl.pid\"; log = \"$VG_TMP/%n.repld.log\";
               timeout_ms = 1000; initial_primary = \"n1\"; };
    ops = { monitor_interval_ms = 1000; }; },
  { id = \"vip\"; plugin = \"ipaddr\"; params = { address = \"$VIP/24\"; interface = \"eth0\"; arp_interval_ms = 50; }; }
);
clones = ( { id = \"rc\"; resource = \"r\"; max = 2; promotable = true; promoted_max = 1; } );
constraints = {
  location = ( { resource = \"rc\"; node = \"n3\"; score = \"-INFINITY\"; } );
  colocation = ( { resource = \"vip\"; with = \"rc\"; with_role = \"promoted\"; score = \"INFINITY\"; } );
  order = ( { first = \"rc\"; first_action = \"promote\"; then = \"vip\"; then_action = \"start\"; } );
};
"
for n in 1 2 3; do vg_start "$n"; done
for n in 1 2 3; do vg_wait_eq 15 "node $n members" "1 2 3" vg_members "$n"; done

ctl() { vg_repl_ctl "$@"; }
field() { vg_repl_field "$@"; }
synced() { vg_repl_synced "$@"; }
roles() { vg_repl_roles "$1" r; }
acked() { wc -l < "$VG_TMP/acked" 2>/dev/null || echo 0; }

vg_wait_eq 20 "r promoted on n1, started on n2" "n1:promoted n2:started" roles 3
vg_wait_eq 10 "vip on n1" "n1" vg_rsc_on 3 vip
t0=$(vg_now_ms)
vg_wait 20 "initial sync n1 -> n2" synced 1 || vg_fail "no initial sync: $(ctl 1 status)"
vg_log "initial full sync of ${STORE_MB} MiB in $(($(vg_now_ms) - t0)) ms: $(ctl 1 status)"

: > "$VG_TMP/acked"
ip netns exec "$(vg_ns 4)" "$VG_PYTHON" "$WRITER" write "$VIP" 10809 "$VG_TMP/acked" "$VG_TMP/stop" \
	> "$VG_TMP/writer.log" 2>&1 </dev/null &
WRITER_PID=$!
VG_PIDS="$VG_PIDS $WRITER_PID"
vg_wait 10 "the writer's first 100 records" eval '[ "$(acked)" -ge 100 ]' ||
	vg_fail "writer: $(tail -n 5 "$VG_TMP/writer.log")"

start_s=$(date +%s)
p=1 cycles=0 gaps=""
while [ "$cycles" -lt "$CYCLES_MAX" ] && [ $(($(date +%s) - start_s)) -lt "$BUDGET_S" ]; do
	q=$((3 - p))
	sleep 0.5
	before=$(acked)
	vg_log "cycle $((cycles + 1)): power cut of n$p (primary) at record $before"
	t0=$(vg_now_ms)
	# links first: the peer must not see the helper's sockets closed (a FIN),
	# only silence, as after a real power cut
	for l in 0 1; do ip -n "$(vg_ns "$p")" link set "eth$l" down; done
	vg_poweroff "$p"
	vg_wait_eq 15 "cycle $((cycles + 1)): r promoted on n$q" "n$q:promoted" roles "$q"
	vg_wait_eq 10 "cycle $((cycles + 1)): vip on n$q" "n$q" vg_rsc_on "$q" vip
	cut=$(acked)
	vg_wait 15 "cycle $((cycles + 1)): writes resume" eval '[ "$(acked)" -gt $((cut + 10)) ]' ||
		vg_fail "writer stuck at $(acked): $(tail -n 5 "$VG_TMP/writer.log")"
	gap=$(($(vg_now_ms) - t0))
	gaps="$gaps $gap"
	vg_log "cycle $((cycles + 1)): n$q promoted, VIP moved, writes resumed ${gap} ms after the cut"
	# n$p boots with its disk as the crash left it and resyncs from n$q
	discards=$(grep -c "crashed primary: DISCARDING THE LOCAL NODE" "$VG_TMP/n$p.repld.log" 2>/dev/null)
	vg_poweron "$p"
	vg_start "$p"
	t1=$(vg_now_ms)
	vg_wait 30 "cycle $((cycles + 1)): n$p back and in sync" synced "$q" ||
		vg_fail "n$p did not resync: $(ctl "$q" status); $(tail -n 5 "$VG_TMP/n$p.repld.log")"
	[ "$(grep -c "crashed primary: DISCARDING THE LOCAL NODE" "$VG_TMP/n$p.repld.log")" -gt "${discards:-0}" ] ||
		vg_fail "n$p resynced without discarding its in-flight writes: $(tail -n 5 "$VG_TMP/n$p.repld.log")"
	want="n$p:started n$q:promoted"
	[ "$q" -lt "$p" ] && want="n$q:promoted n$p:started"
	vg_wait_eq 10 "cycle $((cycles + 1)): roles" "$want" roles "$q"
	vg_log "cycle $((cycles + 1)): n$p resynced in $(($(vg_now_ms) - t1)) ms"
	cycles=$((cycles + 1))
	p=$q
done
[ "$cycles" -ge 2 ] || vg_fail "only $cycles power-off cycles fitted: expected at least 2"

touch "$VG_TMP/stop"
vg_wait 10 "the writer to stop" eval '! kill -0 $WRITER_PID 2>/dev/null' || vg_fail "writer did not stop"
wait "$WRITER_PID" 2>/dev/null
res=$(ip netns exec "$(vg_ns 4)" timeout 30 "$VG_PYTHON" "$WRITER" verify "$VIP" 10809 "$VG_TMP/acked") ||
	vg_fail "acknowledged records lost: $res"
vg_log "$cycles power-off cycles; failover gaps (ms):$gaps; verify: $res"
case "$res" in "acked "*" lost 0") ;; *) vg_fail "verify: expected 0 lost, saw '$res'" ;; esac
exit 0
