#!/bin/bash
# membership-capture: tcpdump records a running three-node cluster on node 1's
# two links; vigildump decodes the capture with the cluster key and its counts
# must match what the cluster did: every frame authenticated, heartbeats from
# nodes 2 and 3 at the configured interval on both links, no loss, and, after
# node 3 is killed half-way, no more frames from it.
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns unavailable"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgmc$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
vg_test_begin membership-capture 60

VG_INTERVAL=50 VG_DEADTIME=300
VIGILDUMP="$TOP_BUILDDIR/tools/vigildump"
vg_net 3 2
vg_write_config "$VG_TMP/cluster.conf"
for n in 1 2 3; do vg_start "$n"; done
for n in 1 2 3; do
	vg_wait_eq 10 "node $n members" "1 2 3" vg_members "$n"
done

# capture on node 1: ring0 (unicast to it) and ring1 (the multicast group)
ip netns exec "$(vg_ns 1)" tcpdump -i any --immediate-mode -U -B 16384 -s 0 -w "$VG_TMP/cap.pcap" \
	'udp and (port 5405 or port 5406)' 2>"$VG_TMP/tcpdump.log" &
tcpdump_pid=$!
VG_PIDS="$VG_PIDS $tcpdump_pid"
vg_wait 5 "tcpdump listening" grep -q "listening on" "$VG_TMP/tcpdump.log" ||
	vg_fail "tcpdump did not start: $(cat "$VG_TMP/tcpdump.log")"
sleep 3
vg_kill 3 KILL
sleep 2
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" 2>/dev/null || true

# what the capture itself missed (a loaded machine): vigildump sees it as loss
kernel_drops=$(sed -n 's/^\([0-9]*\) packets\{0,1\} dropped by kernel.*/\1/p' "$VG_TMP/tcpdump.log")
"$VIGILDUMP" -r "$VG_TMP/cap.pcap" -k "$VG_TMP/authkey" -c 77 -q --json > "$VG_TMP/dump.json" ||
	vg_fail "vigildump failed on the capture"
check() {
	/usr/bin/python3 - "$VG_TMP/dump.json" "$VG_INTERVAL" "${kernel_drops:-0}" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
interval = int(sys.argv[2])
capture_drops = int(sys.argv[3])
bad = []
def want(what, ok, seen):
    if not ok:
        bad.append("%s: saw %s" % (what, seen))
want("vigil frames decoded", d["vigil"] > 0, d["vigil"])
for reason, n in d["dropped"].items():
    want("no frame dropped as %s" % reason, n == 0, n)
senders = {s["node"]: s for s in d["senders"]}
# -i any sees node 1's own frames leave too
want("senders are nodes 1, 2 and 3", sorted(senders) == [1, 2, 3], sorted(senders))
for node in (1, 2, 3):
    s = senders.get(node)
    if not s:
        continue
    want("node %d: every frame authenticated" % node, s["mac_bad"] == 0 and s["mac_ok"] == s["frames"],
         (s["mac_ok"], s["mac_bad"], s["frames"]))
    # nothing is lost on a veth; only what tcpdump itself dropped may be missing
    want("node %d: no sequence lost (tcpdump dropped %d)" % (node, capture_drops),
         s["loss"] <= capture_drops, s["loss"])
    links = {(l["src"], l["dst"]): l for l in s["links"]}
    want("node %d: seen on both links" % node, len(links) >= 2, list(links))
    for key, l in links.items():
        hb = l["hb_interval_ms"]
        want("node %d %s: heartbeats every ~%d ms" % (node, key, interval),
             hb is not None and interval * 0.8 <= hb["mean"] <= interval * 1.25, hb and hb["mean"])
# node 3 ran ~3 s of the ~5 s: about 60 heartbeats, node 2 about 100
n2, n3 = senders.get(2, {}).get("received", 0), senders.get(3, {}).get("received", 0)
want("node 2 sent frames all along (~%d)" % (5000 // interval), n2 >= 0.8 * 5000 // interval, n2)
want("node 3 stopped when killed (~%d)" % (3000 // interval),
     0.7 * 3000 // interval <= n3 <= 1.3 * 3500 // interval, n3)
for b in bad:
    print("FAIL:", b)
print("vigildump: %d vigil frames; node 2 %d, node 3 %d sequences" % (d["vigil"], n2, n3))
sys.exit(1 if bad else 0)
PY
}
check || vg_fail "vigildump's counts of the capture differ from what the cluster did"
exit 0
