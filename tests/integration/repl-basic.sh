#!/bin/bash
# repl-basic.sh: two vigil-repld helpers (the block replication backend) in a
# private network namespace, replicating 64 MiB file stores over 127.0.0.1,
# driven through their control sockets and written through NBD by qemu-io
# and nbdcopy.  Proves: initial full sync; protocol C (both copies equal as
# soon as the client has its acks); after a disconnect (peer SIGSTOPped)
# only the dirty regions are resynchronised; online verify finds nothing on
# an untouched pair and exactly the region corrupted behind the secondary's
# back; a split brain is detected and neither copy is touched, then resolved
# by --after-split-brain discard-younger-primary after a restart of both;
# bad NBD requests leave the store unchanged; a primary killed while
# connected resyncs only the 4 MiB extents of its activity log.
# Root, ip, qemu-io and nbdcopy needed (SKIP otherwise); bounded to 120 s.
set -u
TOP_BUILDDIR=${TOP_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
REPLD="$TOP_BUILDDIR/plugins/replication/block/vigil-repld"
BADNBD="$TOP_SRCDIR/tests/integration/repl-nbd-bad.py"
SIZE=$((64 << 20))
REGION=65536

T=""
. "$TOP_SRCDIR/tests/integration/repl-lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (network namespace)"
for t in ip qemu-io nbdcopy python3 cmp sha256sum; do
	command -v "$t" >/dev/null || skip "$t not installed"
done
[ -x "$REPLD" ] || skip "vigil-repld not built"

T=$(mktemp -d "${TMPDIR:-/tmp}/vigil-repl.XXXXXX")
NS=vgrepl$$
PIDS=""
cleanup() {
	local p
	for p in $PIDS; do kill -CONT "$p" 2>/dev/null; kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	[ -n "${WATCHDOG:-}" ] && kill "$WATCHDOG" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
repl_watchdog 120

ip netns add "$NS" || skip "cannot create a network namespace"
ip -n "$NS" link set lo up

# start NODE LISTEN_PORT PEER_PORT [OPTION...]
start() {
	ip netns exec "$NS" "$REPLD" --store "$T/$1.img" --name r0 --protocol C \
		--listen "127.0.0.1:$2" --peer "127.0.0.1:$3" --nbd "unix:$T/$1.nbd" \
		--ctl "$T/$1.ctl" --timeout-ms 1000 --log "$T/$1.log" "${@:4}" &
	PIDS="$PIDS $!"
	eval "PID_$1=$!"
}


nbd() { qemu-io -f raw "nbd+unix:///r0?socket=$T/$1.nbd" "${@:2}" >/dev/null || fail "qemu-io on $1: $*"; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

truncate -s "$SIZE" "$T/a.img" "$T/b.img"
start a 7001 7002
start b 7002 7001
for n in a b; do
	for _ in $(seq 50); do [ -S "$T/$n.ctl" ] && break; sleep 0.1; done
done
wait_field a conn connected

log "initial sync: promote without force is refused, forced promotion syncs everything"
r=$(ctl a promote)
case "$r" in "err -1 "*) ;; *) fail "promote of an inconsistent disk: expected err -1 (EPERM), got: $r" ;; esac
[ "$(ctl a promote force)" = ok ] || fail "forced promotion refused"
wait_field b disk uptodate
wait_field a conn connected
[ "$(field b resynced)" = "$SIZE" ] || fail "initial sync: expected $SIZE bytes, got $(field b resynced)"
r=$(ctl b promote)
case "$r" in "err -16 "*) ;; *) fail "promote while the peer is primary: expected err -16 (EBUSY), got: $r" ;; esac

log "protocol C: writes through NBD are on both copies when acknowledged"
t0=$(now_ms)
nbd a -c 'write -P 0x55 0 1M' -c 'write -P 0xaa 3M 512k' -c 'write -z 2M 256k' -c flush
t1=$(now_ms)
head -c $((8 << 20)) /dev/urandom > "$T/random"
nbdcopy "$T/random" "nbd+unix:///r0?socket=$T/a.nbd" || fail "nbdcopy"
t2=$(now_ms)
cmp "$T/a.img" "$T/b.img" || fail "stores differ after protocol C writes"
log "  qemu-io 3 writes + flush: $((t1 - t0)) ms; nbdcopy 8 MiB: $((t2 - t1)) ms; stores equal"

log "disconnect: peer stopped, writes recorded in the bitmap"
before=$(field b resynced)
kill -STOP "$PID_b"
nbd a -c 'write -P 0x77 10M 1M' -c 'write -P 0x78 20M 100k' -c 'write -P 0x79 40M 4k'
wait_field a conn connecting
dirty=$(field a oos)
want=$(( (16 + 2 + 1) * REGION ))
[ "$dirty" = "$want" ] || fail "dirty bytes: expected $want (19 regions), got $dirty"
cmp -s "$T/a.img" "$T/b.img" && fail "stores equal while the peer was stopped?"
kill -CONT "$PID_b"
wait_field a conn connected 15
wait_field a oos 0
wait_field b disk uptodate
moved=$(( $(field b resynced) - before ))
[ "$moved" = "$dirty" ] || fail "resync moved $moved bytes, expected the $dirty dirty bytes"
cmp "$T/a.img" "$T/b.img" || fail "stores differ after the resync"
log "  resync moved $moved bytes of a $SIZE-byte store; stores equal"

log "online verify: an untouched pair, then one region corrupted on the secondary"
# run_verify NODE: start a verify on NODE and wait for its end (15 s)
run_verify() {
	local r
	r=$(ctl "$1" verify)
	case "$r" in "ok verify_id="*) ;; *) fail "verify refused: $r" ;; esac
	wait_field "$1" verify_id "${r#ok verify_id=}"
	wait_field "$1" verify done 15
}
run_verify a
[ "$(field a verify_regions):$(field a verify_diff)" = "0:0" ] ||
	fail "verify of equal copies: $(ctl a status)"
[ "$(field a verify_done)" = "$SIZE" ] || fail "verify compared $(field a verify_done) bytes"
BAD=$((37 * REGION))
dd if="$T/b.img" of="$T/region" bs=$REGION skip=37 count=1 status=none
head -c 100 /dev/urandom | dd of="$T/b.img" bs=1 seek=$((BAD + 4000)) conv=notrunc status=none
run_verify a
[ "$(field a verify_regions):$(field a verify_diff):$(field a verify_offsets)" = "1:$REGION:$BAD" ] ||
	fail "verify after corrupting the region at $BAD: $(ctl a status)"
grep -q "region at offset $BAD .*DIFFERS" "$T/a.log" || fail "differing region not logged"
dd if="$T/region" of="$T/b.img" bs=$REGION seek=37 conv=notrunc status=none
run_verify a
[ "$(field a verify_regions)" = 0 ] || fail "verify after repairing by hand: $(ctl a status)"
log "  equal pair: 0 regions differ; corrupted region at $BAD: exactly it reported"

log "split brain: both promoted while apart, both written, reconnected"
ctl a disconnect >/dev/null
ctl b disconnect >/dev/null
wait_field b conn standalone
[ "$(ctl b promote)" = ok ] || fail "promote b while disconnected"
nbd a -c 'write -P 0x11 30M 64k'
nbd b -c 'write -P 0x22 50M 64k'
sha256sum "$T/a.img" "$T/b.img" > "$T/sums"
ctl a connect >/dev/null
ctl b connect >/dev/null
wait_field a split_brain 1
wait_field b split_brain 1
wait_field a conn standalone
sleep 1.5
sha256sum --quiet -c "$T/sums" || fail "a store changed after the split brain"
grep -q "split brain" "$T/a.log" || fail "split brain not logged"
log "  detected on both, both standalone, neither store modified"

log "split-brain recovery: restarted with discard-younger-primary, b (promoted last) is discarded"
[ "$(ctl b demote)" = ok ] || fail "demote b"
kill "$PID_a" "$PID_b"
wait "$PID_a" "$PID_b" 2>/dev/null
start a 7001 7002 --after-split-brain discard-younger-primary
start b 7002 7001 --after-split-brain discard-younger-primary
wait_field b disk uptodate 15
wait_field b conn connected
wait_field b split_brain 0
cmp "$T/a.img" "$T/b.img" || fail "stores differ after the split-brain recovery"
grep -q "DISCARDING THE LOCAL NODE's CHANGES: 65536 bytes" "$T/b.log" || fail "b: the discard not logged"
grep -q "DISCARDING THE PEER's CHANGES" "$T/a.log" || fail "a: the discard not logged"
[ "$(ctl a promote)" = ok ] || fail "promote a after the recovery"
log "  b's 64 KiB discarded, resync of the union; stores equal"

log "bad NBD requests: error replies or closed connections, store unchanged"
sha256sum "$T/a.img" > "$T/sum-a"
timeout 20 python3 "$BADNBD" "$T/a.nbd" "$SIZE" || fail "bad NBD input not refused"
sha256sum --quiet -c "$T/sum-a" || fail "bad NBD input changed the store"

log "activity log: a primary killed while connected resyncs only the extents it wrote"
# Since a's clean restart above its log is empty; two 4 KiB writes touch two
# 4 MiB extents (5M: extent 1, 33M: extent 8), i.e. 128 regions.
wait_field a conn connected
nbd a -c 'write -P 0x33 5M 4k' -c 'write -P 0x34 33M 4k' -c flush
before=$(field b resynced)
kill -9 "$PID_a"
wait "$PID_a" 2>/dev/null
start a 7001 7002 --after-split-brain discard-younger-primary
wait_field a conn connected 15
wait_field a oos 0
wait_field b disk uptodate
grep -q "crashed while primary: 128 regions out of sync (its activity log)" "$T/a.log" ||
	fail "a restarted without its activity log: $(grep 'crashed while primary' "$T/a.log")"
moved=$(( $(field b resynced) - before ))
[ "$moved" = $((128 * REGION)) ] || fail "resync after the crash moved $moved bytes, expected $((128 * REGION))"
cmp "$T/a.img" "$T/b.img" || fail "stores differ after the crashed primary's resync"
log "  2 extents logged, $moved bytes resynced (not the whole $SIZE); stores equal"

log "activity log full: 257 extents written apart from any peer (a lone 1100 MiB store)"
# The log holds 256 extents; the 257th write empties it (after a sync) and
# starts it again.  Killed then, the store must come back with the exact
# bitmap (257 regions) plus the one extent logged since (64 regions): 320.
truncate -s $((1100 << 20)) "$T/c.img"
start c 7003 7004
for _ in $(seq 50); do [ -S "$T/c.ctl" ] && break; sleep 0.1; done
ctl c disconnect >/dev/null
[ "$(ctl c promote force)" = ok ] || fail "forced promotion of the lone store"
cmds=()
for e in $(seq 0 256); do cmds+=(-c "write -P 0x5a $((e * 4))M 4k"); done
nbd c "${cmds[@]}"
[ "$(field c oos)" = $((257 * REGION)) ] || fail "lone store: expected 257 dirty regions, got oos=$(field c oos)"
kill -9 "$PID_c"
wait "$PID_c" 2>/dev/null
start c 7003 7004
for _ in $(seq 50); do grep -q "crashed while primary" "$T/c.log" && break; sleep 0.1; done
grep -q "crashed while primary: 320 regions out of sync (its activity log)" "$T/c.log" ||
	fail "lone store after the crash: $(grep 'crashed while primary' "$T/c.log")"
log "  after the crash: 320 regions out of sync (257 written + the extent logged since), not all 17600"
log "PASS"
exit 0
