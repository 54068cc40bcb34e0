#!/bin/bash
# membership-security: frames a member must never act on.
#  (a) node 3 with another key: nodes 1 and 2 count its frames as bad-mac and
#      never admit it; node 3 stays alone without quorum.
#  (b) node 3 with the right key but a configuration differing by a comment:
#      nodes 1 and 2 show it config-mismatch, log it, and do not admit it.
#  (c) an attacker on link 0 (a 4th namespace) sends node 1 frames captured
#      on node 2's eth0: replays of the current incarnations count as
#      replayed, of node 3's previous one as old-incarnation, node 1's own as
#      self; forged ones (a payload byte, the seq, the incarnation or the node
#      id changed) as bad-mac, a rewritten cluster id as other-cluster.  Node
#      1's view, members, quorum and peers' incarnations do not change.
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns unavailable"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgms$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
TCPDUMP_PID=""
ms_cleanup() {
	[ -n "$TCPDUMP_PID" ] && { kill -INT "$TCPDUMP_PID" 2>/dev/null; wait "$TCPDUMP_PID" 2>/dev/null; }
	return 0
}
vg_test_begin membership-security 60
trap 'rc=$?; ms_cleanup; (exit $rc); vg_test_end' EXIT

VG_INTERVAL=50 VG_DEADTIME=300
vg_net 3 2 1 # n4: the attacker, 198.18.0.4 on link 0 only
vg_write_config "$VG_TMP/cluster.conf"
command -v tcpdump >/dev/null || vg_fail "tcpdump is needed (Debian package tcpdump)"

# counters N: node N's drop counters of interest, "name=value ...".
counters() {
	vg_jq "$1" "' '.join('%s=%s' % (k, s['frames']['dropped'].get(k, 0)) for k in ('bad-mac', 'other-cluster', 'replayed', 'duplicate', 'old-incarnation', 'self')) + ' accepted=%d link_copies=%d' % (s['frames']['accepted'], s['frames'].get('link_copies', 0))"
}
# counter "name=value ..." NAME
counter() { sed -n "s/.*\\(^\\| \\)$2=\\([0-9]*\\).*/\\2/p" <<<"$1"; }

# capture FILE: tcpdump on node 2's eth0, link 0's unicast frames.
capture_start() {
	ip netns exec "$(vg_ns 2)" tcpdump -Z root -U --immediate-mode -n -i eth0 -w "$1" udp port 5405 \
		2>"$1.err" &
	TCPDUMP_PID=$!
	vg_wait 5 "tcpdump listening" grep -qs "listening on" "$1.err" ||
		vg_fail "tcpdump did not start: $(cat "$1.err")"
}
capture_stop() {
	kill -INT "$TCPDUMP_PID" 2>/dev/null
	wait "$TCPDUMP_PID" 2>/dev/null
	TCPDUMP_PID=""
}

# ---------------------------------------------------------------- (a)
vg_log "(a) node 3 runs with another key"
head -c 64 /dev/urandom >"$VG_TMP/authkey2"
chmod 600 "$VG_TMP/authkey2"
sed "s|$VG_TMP/authkey\"|$VG_TMP/authkey2\"|" "$VG_TMP/cluster.conf" >"$VG_TMP/badkey.conf"
grep -q authkey2 "$VG_TMP/badkey.conf" || vg_fail "could not write badkey.conf"
vg_start 1
vg_start 2
vg_start 3 "$VG_TMP/badkey.conf"
for n in 1 2; do
	vg_wait_eq 10 "node $n members with node 3 on another key" "1 2" vg_members "$n"
done
vg_wait_eq 5 "node 3 members on another key" "3" vg_members 3
c1=$(counters 1)
c3=$(counters 3)
sleep 1.5
for n in 1 2; do
	vg_check "node $n members with node 3 on another key, later" "1 2" "$(vg_members "$n")"
	vg_check "node $n quorate" True "$(vg_quorate_str "$n")"
	vg_check "node $n: state of node 3 (never authenticated)" offline "$(vg_peer "$n" 3 state)"
done
vg_check "node 3 quorate on another key" False "$(vg_quorate_str 3)"
vg_check "node 3 DC on another key" None "$(vg_dc 3)"
vg_check "node 3 members on another key, later" "3" "$(vg_members 3)"
c1b=$(counters 1)
c3b=$(counters 3)
# node 3 sends 20 frames/s on each of 2 links: >= 30 in 1.5 s on node 1,
# node 3 receives those of two nodes.
d=$(($(counter "$c1b" bad-mac) - $(counter "$c1" bad-mac)))
[ "$d" -ge 30 ] || vg_fail "node 1: expected bad-mac to grow by >= 30 in 1.5 s, saw +$d ($c1 -> $c1b)"
vg_log "(a) node 1 bad-mac +$d in 1.5 s"
d=$(($(counter "$c3b" bad-mac) - $(counter "$c3" bad-mac)))
[ "$d" -ge 60 ] || vg_fail "node 3: expected bad-mac to grow by >= 60 in 1.5 s, saw +$d ($c3 -> $c3b)"
vg_check "node 3 frames accepted on another key" 0 "$(counter "$c3b" accepted)"
vg_kill 3 KILL

# ---------------------------------------------------------------- (b)
vg_log "(b) node 3 runs with the right key and a configuration with one more comment"
{ cat "$VG_TMP/cluster.conf"; echo "# this line alone makes the configuration differ"; } >"$VG_TMP/mismatch.conf"
capture_start "$VG_TMP/old.pcap" # node 3's frames of this incarnation, for (c)
vg_start 3 "$VG_TMP/mismatch.conf"
for n in 1 2; do
	vg_wait_eq 5 "node $n: state of node 3 with another configuration" config-mismatch vg_peer "$n" 3 state
	grep -aq "node 3 (n3) runs a different cluster configuration" "$VG_TMP/n$n.log" ||
		vg_fail "node $n: expected 'node 3 (n3) runs a different cluster configuration' in its log, saw: $(grep -a 'n3' "$VG_TMP/n$n.log" | tail -n 5)"
done
vg_wait_eq 5 "node 3: state of node 1 with another configuration" config-mismatch vg_peer 3 1 state
sleep 1
for n in 1 2; do
	vg_check "node $n members with node 3 on another configuration" "1 2" "$(vg_members "$n")"
	vg_check "node $n quorate" True "$(vg_quorate_str "$n")"
	vg_check "node $n: state of node 3, a second later" config-mismatch "$(vg_peer "$n" 3 state)"
done
vg_check "node 3 members on another configuration" "3" "$(vg_members 3)"
vg_check "node 3 quorate on another configuration" False "$(vg_quorate_str 3)"
vg_log "(b) $(grep -a 'runs a different cluster configuration' "$VG_TMP/n1.log" | tail -n 1)"
old_inc3=$(vg_peer 1 3 incarnation)
capture_stop
vg_kill 3 KILL

# ---------------------------------------------------------------- (c)
vg_log "(c) node 3 back with the right configuration; capture on node 2's eth0"
vg_start 3
for n in 1 2 3; do
	vg_wait_eq 10 "node $n members" "1 2 3" vg_members "$n"
done
vg_wait_eq 5 "same view id on nodes 1 2 3" yes vg_views_agree 1 2 3
capture_start "$VG_TMP/cur.pcap"
sleep 2
capture_stop
# Older than the replay window (64 frames = 3.2 s at 50 ms) when replayed.
sleep 3.5

cat >"$VG_TMP/attack.py" <<'PY'
# attack.py MODE DST SELF CURRENT PCAP...: send link-0 frames from pcaps to
# DST:5405 and print what the receiver should count.  CURRENT: "id:inc,..."
# (the incarnations the receiver knows now).  MODE: replay, recent (frames
# still inside the receiver's replay window), payload, seq,
# incarnation, node (forgeries under the MAC: bad-mac), cluster.
import socket, struct, sys, time

def frames(path):
    data = open(path, 'rb').read()
    magic = struct.unpack('<I', data[:4])[0]
    e = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
    linktype = struct.unpack(e + 'I', data[20:24])[0]
    assert linktype == 1, 'not Ethernet: %d' % linktype
    off = 24
    while off + 16 <= len(data):
        incl = struct.unpack(e + 'IIII', data[off:off + 16])[2]
        pkt = data[off + 16:off + 16 + incl]
        off += 16 + incl
        if len(pkt) < 14 + 20 or struct.unpack('>H', pkt[12:14])[0] != 0x0800:
            continue
        ip = pkt[14:]
        ihl = (ip[0] & 0x0f) * 4
        if ip[9] != 17:
            continue
        udp = ip[ihl:]
        dport, ulen = struct.unpack('>2xH H', udp[:6])
        if dport != 5405:
            continue
        yield udp[8:ulen]

mode, dst, self_id, current = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
cur = {int(k): int(v) for k, v in (x.split(':') for x in current.split(','))}
expect = {}
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for path in sys.argv[5:]:
    for f in frames(path):
        if len(f) < 36 + 32 or f[:5] != b'VGL1\x01':
            continue
        node, inc = struct.unpack('>IQ', f[12:24])
        b = bytearray(f)
        if mode == 'recent':
            # seen again on the link it came by: a replay, never a normal copy
            k = 'self' if node == self_id else 'replayed'
        elif mode == 'replay':
            if node == self_id:
                k = 'self'
            elif inc < cur[node]:
                k = 'old-incarnation'
            elif inc == cur[node]:
                k = 'replayed'
            else:
                k = 'newer-incarnation?'
        elif mode == 'cluster':
            b[8:12] = struct.pack('>I', struct.unpack('>I', f[8:12])[0] ^ 0x5a5a)
            k = 'other-cluster'
        else:
            if mode == 'payload':
                b[40] ^= 0x01
            elif mode == 'seq':
                b[24:32] = struct.pack('>Q', struct.unpack('>Q', f[24:32])[0] + 1000)
            elif mode == 'incarnation':
                b[16:24] = struct.pack('>Q', inc + 1)
            elif mode == 'node':
                b[12:16] = struct.pack('>I', 3 if node == 2 else 2)
            k = 'bad-mac'
        s.sendto(bytes(b), (dst, 5405))
        expect[k] = expect.get(k, 0) + 1
        time.sleep(0.001)
print(' '.join('%s=%d' % kv for kv in sorted(expect.items())))
PY

view=$(vg_view_id 1)
inc2=$(vg_peer 1 2 incarnation)
inc3=$(vg_peer 1 3 incarnation)
[ "$old_inc3" != "$inc3" ] || vg_fail "node 3 restarted with the same incarnation $inc3"
restarts=$(grep -ac restarted "$VG_TMP/n1.log")
ns4=$(vg_ns 4)

# attack MODE PCAP... : run it from n4, check node 1 counted each frame.
attack() {
	local mode=$1 before after expect k want got
	shift
	before=$(counters 1)
	expect=$(ip netns exec "$ns4" "$VG_PYTHON" "$VG_TMP/attack.py" "$mode" 198.18.0.1 1 \
		"2:$inc2,3:$inc3" "$@") || vg_fail "attack.py $mode failed: $expect"
	[ -n "$expect" ] || vg_fail "attack.py $mode: no frame in the captures"
	sleep 0.3
	after=$(counters 1)
	for k in $expect; do
		want=${k#*=}
		k=${k%=*}
		if [ "$k" = copies ]; then
			# A frame seen again on the link it came by is a duplicate; vigild
			# counts those with the copies of the other links (link_copies),
			# or under dropped.duplicate: either, over the copies the
			# accepted frames brought meanwhile (one each).
			got=$(($(counter "$after" link_copies) - $(counter "$before" link_copies) +
				$(counter "$after" duplicate) - $(counter "$before" duplicate) -
				($(counter "$after" accepted) - $(counter "$before" accepted))))
			[ "$got" -ge $((want - 8)) ] && [ "$got" -le $((want + 8)) ] ||
				vg_fail "(c) $mode: node 1 should count about $want more duplicates, saw +$got ($before -> $after)"
			continue
		fi
		got=$(($(counter "$after" "$k") - $(counter "$before" "$k")))
		# "about": exactly what was sent, plus at most 3 of the cluster's own
		[ "$got" -ge "$want" ] && [ "$got" -le $((want + 3)) ] ||
			vg_fail "(c) $mode: node 1 should count $want more '$k' drops, saw +$got ($before -> $after)"
	done
	vg_log "(c) $mode: sent $expect; node 1: $after"
}

attack replay "$VG_TMP/old.pcap" "$VG_TMP/cur.pcap"
# Replays inside the replay window: the last 0.6 s, sent at once.
capture_start "$VG_TMP/recent.pcap"
sleep 0.6
capture_stop
attack recent "$VG_TMP/recent.pcap"
attack payload "$VG_TMP/cur.pcap"
attack seq "$VG_TMP/cur.pcap"
attack incarnation "$VG_TMP/cur.pcap"
attack node "$VG_TMP/cur.pcap"
attack cluster "$VG_TMP/cur.pcap"

sleep 0.5
for n in 1 2 3; do
	vg_check "node $n view id after the attacks" "$view" "$(vg_view_id "$n")"
	vg_check "node $n members after the attacks" "1 2 3" "$(vg_members "$n")"
	vg_check "node $n quorate after the attacks" True "$(vg_quorate_str "$n")"
done
vg_check "node 1: node 2's incarnation after the attacks" "$inc2" "$(vg_peer 1 2 incarnation)"
vg_check "node 1: node 3's incarnation after the attacks" "$inc3" "$(vg_peer 1 3 incarnation)"
vg_check "node 1: 'restarted' lines in its log after the attacks" "$restarts" "$(grep -ac restarted "$VG_TMP/n1.log")"
vg_log "after the attacks: $(vg_summary 1)"
exit 0
