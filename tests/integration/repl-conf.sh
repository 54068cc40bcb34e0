#!/bin/bash
# repl-conf: a replication instance in vigild's own configuration
# (`replication = ( ... )`, backend block) on n1 and n2 of a 3-node cluster
# (fencing disabled), driven by a promotable clone of the core's built-in
# resource plugin "replication" (docs/replication.md).  The first promote
# of the brand-new pair is forced on n1 (initial_primary) and syncs 256 MiB
# to n2; 8 MiB are written through NBD on n1.  n1 loses power (vigild and
# vigil-repld SIGKILLed, links down): n2 is promoted and 128 MiB more are
# written there.  n1 comes back: as a crashed primary it resyncs from n2
# what n2 wrote and the extents of its own activity log, over a
# replication link throttled to 200 Mbit/s so that the resync lasts ~5 s;
# meanwhile `vigilctl status` (text and --json)
# on both nodes must show the instance resyncing with growing progress.
# At the end both stores are byte-identical and hold what was written.
# Then n1's vigild alone is killed and restarted: the new one adopts the
# helper still running; a second helper on the same store is refused.
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: no ip netns"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgrc$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
vg_test_begin repl-conf 170

REPLD="$TOP_BUILDDIR/plugins/replication/block/vigil-repld"
[ -x "$REPLD" ] || vg_fail "no $REPLD: build the tree first"
for t in qemu-io nbdcopy tc cmp; do
	command -v "$t" >/dev/null || { echo "SKIP: no $t"; exit 77; }
done
STORE_MB=256
RATE=200mbit   # the resync: ~136 MiB at 25 MB/s, about 5 s
N2_MB=128      # written on n2 while n1 is down, at 64 MiB

for n in 1 2; do truncate -s ${STORE_MB}M "$VG_TMP/n$n.store"; done

VG_INTERVAL=50 VG_DEADTIME=300
vg_net 3 2
# replication over link 1 (ring1): its throttle leaves ring0's heartbeats alone
vg_write_config "$VG_TMP/cluster.conf" "
fencing = { enabled = false; };
replication = (
  { name = \"r0\"; plugin = \"block\"; nodes = [ \"n1\", \"n2\" ];
    params = { helper = \"$REPLD\"; store = \"$VG_TMP/%n.store\";
               addresses = \"n1=198.18.1.1:7788 n2=198.18.1.2:7788\";
               nbd = \"unix:$VG_TMP/%n.nbd\"; ctl = \"$VG_TMP/%n.ctl\";
               log = \"$VG_TMP/%n.repld.log\"; timeout_ms = 1000;
               status_interval_ms = 200; }; }
);
resources = (
  { id = \"r\"; plugin = \"replication\"; params = { instance = \"r0\"; initial_primary = \"n1\"; };
    ops = { monitor_interval_ms = 1000; }; }
);
clones = ( { id = \"rc\"; resource = \"r\"; max = 2; promotable = true; promoted_max = 1; } );
constraints = { location = ( { resource = \"rc\"; node = \"n3\"; score = \"-INFINITY\"; } ); };
"
"$VIGILD" --check-config "$VG_TMP/cluster.conf" >/dev/null 2>"$VG_TMP/check.err" ||
	vg_fail "--check-config: $(cat "$VG_TMP/check.err")"
for n in 1 2 3; do vg_start "$n"; done
for n in 1 2 3; do vg_wait_eq 15 "node $n members" "1 2 3" vg_members "$n"; done

roles() { vg_repl_roles "$1" r; }
# repl N EXPR: EXPR on instance r0 in node N's status (bound to i); "-" if absent.
repl() { vg_jq "$1" "([$2 for i in s.get('replication', []) if i['name']=='r0'] + ['-'])[0]"; }
state() { repl "$1" "'%s/%s %s/%s %s' % (i.get('role'), i.get('peer_role'), i.get('disk'), i.get('peer_disk'), i.get('conn'))"; }
nbd_uri() { echo "nbd+unix:///?socket=$VG_TMP/n$1.nbd"; }
throttle() {
	ip netns exec "$(vg_ns "$1")" tc qdisc replace dev eth1 root tbf rate "$RATE" burst 64k latency 2s
}

# n3 is no node of r0: listed, never opened there
vg_wait_eq 5 "r0 on n3" "not here" repl 3 "i['state']"
vg_wait_eq 30 "r promoted on n1, started on n2" "n1:promoted n2:started" roles 3
t0=$(vg_now_ms)
vg_wait_eq 60 "initial sync n1 -> n2 (n1's status)" \
	"primary/secondary uptodate/uptodate connected" state 1
vg_log "initial full sync of $STORE_MB MiB in $(($(vg_now_ms) - t0)) ms"
grep -q "brand-new pair, n1 is initial_primary" "$VG_TMP/n1.log" ||
	vg_fail "n1 did not log the forced first promote"

head -c 8M /dev/urandom > "$VG_TMP/a.bin"
nbdcopy "$VG_TMP/a.bin" "$(nbd_uri 1)" 2>"$VG_TMP/nbd.err" ||
	vg_fail "nbdcopy to n1: $(cat "$VG_TMP/nbd.err")"
vg_check "n1 out of sync after a protocol C write" 0 "$(repl 1 "i['out_of_sync_bytes']")"

throttle 1
throttle 2
vg_log "power cut of n1 (primary)"
vg_poweroff 1
vg_wait_eq 20 "r promoted on n2" "n2:promoted" roles 2
vg_wait_eq 5 "n2's instance" "primary/unknown uptodate/unknown connecting" state 2
qemu-io -f raw -c "write -P 0x5a 64M 32M" -c "write -P 0x5a 96M 32M" -c "write -P 0x5a 128M 32M" \
	-c "write -P 0x5a 160M 32M" "$(nbd_uri 2)" >"$VG_TMP/qemu.out" 2>&1 ||
	vg_fail "qemu-io write on n2: $(cat "$VG_TMP/qemu.out")"

vg_poweron 1
throttle 1
vg_start 1
# the crashed primary discards its own in-flight writes and takes all of n2's
vg_wait_eq 30 "resync n2 -> n1 under way (n2's status)" "sync-source" repl 2 "i['conn']"
seen=0 prev=-1 grew=0 end=$(($(vg_now_ms) + 40000))
while [ "$(vg_now_ms)" -lt "$end" ] && [ "$(repl 2 "i['conn']")" = sync-source ]; do
	done_b=$(repl 2 "i['sync']['done_bytes'] if i['sync'] else -1")
	total=$(repl 2 "i['sync']['total_bytes'] if i['sync'] else -1")
	if [ "$seen" = 0 ] && [ "${done_b:--1}" -gt 0 ] 2>/dev/null; then
		"$VIGILCTL" -s "$(vg_sock 2)" status > "$VG_TMP/status-n2.txt"
		"$VIGILCTL" -s "$(vg_sock 1)" status > "$VG_TMP/status-n1.txt"
		vg_status_json 2 > "$VG_TMP/status-n2.json"
		seen=1
		t_seen=$(repl 1 "i['conn']")
		n1_sync=$(repl 1 "'%s %s' % (i['sync']['direction'], i['sync']['total_bytes']) if i.get('sync') else '-'")
	fi
	if [ "$prev" -ge 0 ] 2>/dev/null && [ "${done_b:--1}" -gt "$prev" ] 2>/dev/null; then
		grew=$((grew + 1))
	fi
	[ "${done_b:--1}" -ge 0 ] 2>/dev/null && prev=$done_b
	sleep 0.5
done
[ "$seen" = 1 ] || vg_fail "vigilctl status never showed the resync with progress (n2: $(state 2))"
vg_log "during the resync, vigilctl status on n2 said:"
sed 's/^/    /' "$VG_TMP/status-n2.txt"
grep -A3 "^Replication (this node):" "$VG_TMP/status-n1.txt" | sed 's/^/    n1: /'
# (the peer's disk is as the backend knows it: block says uptodate on the source)
grep -qE "^ +r0 +block +primary/secondary, disk uptodate/[a-z]+, sync-source$" "$VG_TMP/status-n2.txt" ||
	vg_fail "n2's text status: expected r0 primary/secondary, disk uptodate/..., sync-source, saw: $(grep -A2 Replication "$VG_TMP/status-n2.txt")"
# What the resync moves: the N2_MB MiB n2 wrote alone, and the two 4 MiB
# extents of n1's activity log that cover its 8 MiB write before the cut.
SYNC_BYTES=$(((N2_MB + 8) << 20))
grep -qE "resync to peer: [0-9]+ of $SYNC_BYTES bytes \([0-9]+%\)" "$VG_TMP/status-n2.txt" ||
	vg_fail "n2's text status: expected the resync progress, saw: $(grep -A2 Replication "$VG_TMP/status-n2.txt")"
vg_check "n1's instance during the resync" "sync-target" "$t_seen"
vg_check "n1's resync in its status" "from peer $SYNC_BYTES" "$n1_sync"
"$VG_PYTHON" - "$VG_TMP/status-n2.json" "$SYNC_BYTES" <<'EOF' || vg_fail "n2's JSON status during the resync: see above"
import json, sys
s = json.load(open(sys.argv[1]))
r = [i for i in s["replication"] if i["name"] == "r0"][0]
sy = r["sync"]
ok = (r["plugin"] == "block" and r["state"] == "open" and r["conn"] == "sync-source"
      and r["split_brain"] is False and r["size_bytes"] == 256 << 20
      and 0 < sy["done_bytes"] <= sy["total_bytes"] == int(sys.argv[2])
      and sy["percent"] == sy["done_bytes"] * 100 // sy["total_bytes"]
      and r["out_of_sync_bytes"] > 0)
if not ok:
    print("expected r0 sync-source with 0 < done <= total =", sys.argv[2], "bytes, saw", json.dumps(r))
    sys.exit(1)
EOF
[ "$grew" -ge 2 ] || vg_fail "resync progress grew $grew times while polled every 0.5 s: expected at least 2"
vg_wait_eq 60 "n1 resynced (n2's status)" "primary/secondary uptodate/uptodate connected" state 2
vg_check "n2 out of sync after the resync" 0 "$(repl 2 "i['out_of_sync_bytes']")"
grep -q "crashed primary: DISCARDING THE LOCAL NODE" "$VG_TMP/n1.repld.log" ||
	vg_fail "n1 resynced without discarding its in-flight writes: $(tail -n 5 "$VG_TMP/n1.repld.log")"
vg_wait_eq 15 "roles after the resync" "n1:started n2:promoted" roles 3
grep -qE "replication: r0 \(block\): primary/secondary, disk uptodate/[a-z]+, sync-source, out of sync [0-9]+ bytes, resync of [0-9]+ bytes" \
	"$VG_TMP/n2.log" || vg_fail "n2 did not log the resync's start"

for n in 1 2; do ip netns exec "$(vg_ns "$n")" tc qdisc del dev eth1 root 2>/dev/null || true; done
# both stores byte for byte, and what was written on each primary
cmp "$VG_TMP/n1.store" "$VG_TMP/n2.store" || vg_fail "the stores differ after the resync"
cmp -n $((8 << 20)) "$VG_TMP/a.bin" "$VG_TMP/n1.store" || vg_fail "n1's 8 MiB written before the failover are not in the store"
head -c ${N2_MB}M /dev/zero | tr '\0' '\132' > "$VG_TMP/b.bin"
cmp -n $((N2_MB << 20)) -i 0:$((64 << 20)) "$VG_TMP/b.bin" "$VG_TMP/n1.store" ||
	vg_fail "n2's $N2_MB MiB written after the failover are not on n1"
vg_log "stores equal ($(sha256sum < "$VG_TMP/n1.store" | cut -c1-16)...)"

# vigild alone dies on n1 (the node stays up): its helper goes on, and the
# next vigild adopts it instead of starting a second one on the same store,
# which the store's lock refuses anyway.
helper_pids() { pgrep -f -- "--store $VG_TMP/n$1.store " | sort | tr '\n' ' '; }
hp=$(helper_pids 1)
[ "$(echo $hp | wc -w)" = 1 ] || vg_fail "n1: expected one helper, found pids: $hp"
vg_log "vigild of n1 killed alone; its helper (pid $hp) keeps running"
vg_kill 1 KILL
vg_wait_eq 10 "r on n2 with n1's vigild gone" "n2:promoted" roles 2
[ -d "/proc/${hp% }" ] || vg_fail "n1's helper died with its vigild"
timeout 10 ip netns exec "$(vg_ns 1)" "$REPLD" --store "$VG_TMP/n1.store" --name r0 --listen 127.0.0.1:7999 \
	--peer 127.0.0.1:7998 --nbd "unix:$VG_TMP/second.nbd" --ctl "$VG_TMP/second.ctl" \
	--log "$VG_TMP/second.log" && vg_fail "a second helper ran on n1's store"
grep -q "store $VG_TMP/n1.store is in use by another process (pid ${hp% }" "$VG_TMP/second.log" ||
	vg_fail "a second helper on the store: expected the lock refusal, logged: $(cat "$VG_TMP/second.log")"
vg_start 1
vg_wait_eq 15 "node 1 members" "1 2 3" vg_members 1
vg_wait_eq 30 "roles after n1's vigild restarted" "n1:started n2:promoted" roles 2
grep -q "replication r0: adopted the vigil-repld already serving $VG_TMP/n1.ctl (pid ${hp% }," "$VG_TMP/n1.log" ||
	vg_fail "n1's new vigild did not adopt its helper: $(grep 'replication r0' "$VG_TMP/n1.log" | tail -n 3)"
vg_check "n1's helpers after the restart" "$hp" "$(helper_pids 1)"
vg_wait_eq 10 "n1's instance after the restart" "secondary/primary uptodate/uptodate connected" state 1
vg_log "n1's new vigild adopted helper $hp; a second helper on the store was refused"
exit 0
