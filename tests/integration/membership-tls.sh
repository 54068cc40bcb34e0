#!/bin/bash
# membership-tls: three nodes whose only link is the tls transport (certs
# from scripts/vigil-tls-certs), interval 50 ms, deadtime 300 ms.
#  1. the three agree: members 1 2 3 on every node, one view id, quorate;
#     meanwhile tcpdump on node 1's eth0 (TCP port 5407, from before the
#     nodes start: handshakes and heartbeats) records the traffic: the bytes
#     "VGL1" (the vigil frame magic) never appear in the capture and
#     vigildump -r finds 0 vigil frames in it;
#  2. kill -9 of node 3: nodes 1 and 2 log it "lost on all links", keep
#     members 1 2 and quorum;
#  3. node 3 restarted: it rejoins (1 2 3 everywhere) with a larger
#     incarnation;
#  4. a vigild started as node 3 with a certificate that names n2 (same
#     cluster file: n3's cert/key files are swapped on disk): nodes 1 and 2
#     (both dial it) each log "refused: certificate names "n2", expected
#     "n3"", and for 3 s it is never admitted (members 1 2, node 3 neither
#     member nor joining, no tls link to it up);
#  5. the same with a certificate for n3 from another CA (--ca2): both
#     log "refused: certificate verify failed: ...", never admitted;
#  6. sanity of the capture check: the same three nodes over udp-ucast,
#     captured the same way on port 5405, do show "VGL1" on the wire.
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns unavailable"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgmt$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
vg_test_begin membership-tls 60

VIGILDUMP="$TOP_BUILDDIR/tools/vigildump"
CERTS="$VG_TMP/certs"
T0=$(vg_now_ms)
elapsed() { echo "$(( $(vg_now_ms) - T0 )) ms"; }

# write_config FILE PLUGIN: the cluster file with one link, tls or udp-ucast.
write_config() {
	local f=$1 plugin=$2 n
	{
		echo "cluster = { name = \"test\"; id = 77; key_file = \"$VG_TMP/authkey\"; };"
		echo "logging = { level = \"info\"; };"
		echo "membership = { interval_ms = 50; deadtime_ms = 300; };"
		echo "state_dir = \"$VG_TMP/state\";"
		echo "nodes = ("
		for n in 1 2 3; do
			echo "  { id = $n; name = \"n$n\"; addresses = [ \"198.18.0.$n\" ]; }$([ "$n" -lt 3 ] && echo ,)"
		done
		echo ");"
		echo "links = ("
		if [ "$plugin" = tls ]; then
			echo "  { name = \"ring0\"; plugin = \"tls\";"
			echo "    params = { port = 5407; ca = \"$CERTS/ca.crt\"; cert = \"$CERTS/%n.crt\"; key = \"$CERTS/%n.key\"; }; }"
		else
			echo "  { name = \"ring0\"; plugin = \"udp-ucast\"; params = { port = 5405; }; }"
		fi
		echo ");"
	} > "$f"
}

# capture_start FILE FILTER...: tcpdump on node 1's eth0, into FILE.
capture_start() {
	local f=$1
	shift
	ip netns exec "$(vg_ns 1)" tcpdump -i eth0 --immediate-mode -U -s 0 -w "$f" "$@" \
		2>"$f.log" </dev/null &
	CAP_PID=$!
	VG_PIDS="$VG_PIDS $CAP_PID"
	vg_wait 5 "tcpdump listening" grep -q "listening on" "$f.log" ||
		vg_fail "tcpdump did not start: $(cat "$f.log")"
}
capture_stop() {
	kill -INT "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null || true
}

# pcap_scan FILE: "PACKETS PAYLOAD_BYTES MAGICS": the packets of the capture,
# their bytes, and how often "VGL1" occurs anywhere in the file's bytes.
pcap_scan() {
	"$VG_PYTHON" - "$1" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
magic = data[:4]
end = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
off, pkts, nbytes = 24, 0, 0
while off + 16 <= len(data):
    _, _, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
    off += 16 + incl
    pkts += 1
    nbytes += incl
print(pkts, nbytes, data.count(b"VGL1"))
PY
}

# form: nodes 1 2 3 agree on one quorate view.
form() {
	local n
	for n in 1 2 3; do
		vg_wait_eq 15 "node $n members" "1 2 3" vg_members "$n"
	done
	vg_wait_eq 5 "same view id on nodes 1 2 3" yes vg_views_agree 1 2 3
	for n in 1 2 3; do
		vg_wait_eq 3 "node $n quorate" True vg_quorate_str "$n"
	done
}

# never_admitted SECONDS WHAT: for SECONDS nodes 1 and 2 keep members "1 2"
# and never show node 3 as a member or its link up.
never_admitted() {
	local end n m st lk
	end=$(($(vg_now_ms) + $1 * 1000))
	while [ "$(vg_now_ms)" -lt "$end" ]; do
		for n in 1 2; do
			m=$(vg_members "$n")
			st=$(vg_node_state "$n" 3)
			lk=$(vg_link_state "$n" 3 ring0)
			[ "$m" = "1 2" ] && [ "$st" != member ] && [ "$st" != joining ] && [ "$lk" != up ] ||
				vg_fail "$2: node $n: expected members '1 2', node 3 not admitted, its link not up; saw members '$m', node 3 '$st', link '$lk'"
		done
		sleep 0.2
	done
}

# rogue NAME CRT KEY PATTERN: start a vigild as node 3 with CRT/KEY in place
# of n3's own files (same cluster file); node 1 or 2 must log PATTERN and
# node 3 must never be admitted.
rogue() {
	local name=$1 crt=$2 key=$3 pat=$4 from line n
	vg_kill 3 KILL
	vg_wait_eq 3 "node 1 sees node 3 lost before the $name test" lost vg_node_state 1 3
	cp "$crt" "$CERTS/n3.crt" && cp "$key" "$CERTS/n3.key" && chmod 600 "$CERTS/n3.key" ||
		vg_fail "cannot install the $name certificate"
	from=("" "$(vg_log_lines 1)" "$(vg_log_lines 2)")   # per node, lines before the start
	vg_start 3
	# both dial node 3 (the lower id connects) and both must refuse it
	refused_by() {
		tail -n +"$(($2 + 1))" "$VG_TMP/n$1.log" | grep -a -m1 "$pat"
	}
	for n in 1 2; do
		vg_wait 8 "node $n refusing the $name certificate" refused_by "$n" "${from[n]}" >/dev/null ||
			vg_fail "$name: expected a line matching '$pat' on node $n, saw: $(tail -n +"$((from[n] + 1))" "$VG_TMP/n$n.log" | grep -a 'tls:' | tail -n 3)"
	done
	line=$(refused_by 1 "${from[1]}")
	vg_log "$name: node 1: ${line#* tls: }"
	never_admitted 3 "$name"
	for n in 1 2; do
		! tail -n +"$((from[n] + 1))" "$VG_TMP/n$n.log" | grep -aq "tls: link to n3 .* up" ||
			vg_fail "$name: node $n reported a tls link to n3 up: $(grep -a 'tls: link to n3' "$VG_TMP/n$n.log" | tail -n 2)"
	done
	vg_log "$name: never admitted in 3 s ($(vg_summary 1)) [$(elapsed)]"
	vg_kill 3 KILL
}

vg_net 3 1
"$TOP_SRCDIR/scripts/vigil-tls-certs" --ca2 "$CERTS" n1 n2 n3 >"$VG_TMP/certs.log" 2>&1 ||
	vg_fail "vigil-tls-certs failed: $(cat "$VG_TMP/certs.log")"
cp "$CERTS/n3.crt" "$CERTS/n3.good.crt" && cp -p "$CERTS/n3.key" "$CERTS/n3.good.key"
head -c 64 /dev/urandom > "$VG_TMP/authkey" && chmod 600 "$VG_TMP/authkey" ||
	vg_fail "cannot write $VG_TMP/authkey"
write_config "$VG_TMP/cluster.conf" tls

# ---- 1. formation, captured from before the start
capture_start "$VG_TMP/tls.pcap" tcp port 5407
for n in 1 2 3; do vg_start "$n"; done
form
vg_log "formed over tls: $(vg_summary 1) [$(elapsed)]"
for n in 1 2 3; do
	[ "$(grep -ac "tls: link to n[123] .* up, TLS_" "$VG_TMP/n$n.log")" -ge 2 ] ||
		vg_fail "node $n: expected two 'tls: link to nX (...) up, TLS_...' lines, saw: $(grep -a 'tls:' "$VG_TMP/n$n.log" | head -n 3)"
done
sleep 2
capture_stop
read -r pkts nbytes magics <<<"$(pcap_scan "$VG_TMP/tls.pcap")"
vg_log "tls capture: $pkts packets, $nbytes bytes, 'VGL1' found $magics times"
[ "${pkts:-0}" -ge 100 ] ||
	vg_fail "tls capture: expected at least 100 packets on TCP port 5407 (heartbeats), saw '$pkts': $(cat "$VG_TMP/tls.pcap.log")"
vg_check "occurrences of VGL1 in the tls capture" 0 "$magics"
dump_frames() { "$VIGILDUMP" -r "$1" -k "$VG_TMP/authkey" -c 77 -q --json 2>/dev/null |
	"$VG_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["vigil"])'; }
vg_check "vigil frames vigildump finds in the tls capture" 0 "$(dump_frames "$VG_TMP/tls.pcap")"

# ---- 2. kill -9 of node 3
view=$(vg_view_id 1)
inc3=$(vg_peer 1 3 incarnation)
t=$(vg_now_ms)
vg_kill 3 KILL
vg_wait_eq 3 "node 1 members after node 3 killed" "1 2" vg_members 1
vg_wait_eq 3 "node 2 members after node 3 killed" "1 2" vg_members 2
for n in 1 2; do
	vg_wait 2 "node $n logs node 3 lost" grep -aq "node 3 (n3) lost on all links" "$VG_TMP/n$n.log" ||
		vg_fail "node $n: expected 'node 3 (n3) lost on all links', saw: $(grep -a 'membership:' "$VG_TMP/n$n.log" | tail -n 3)"
	vg_check "node $n quorate without node 3" True "$(vg_quorate_str "$n")"
done
vg_log "node 3 lost after $(( $(vg_now_ms) - t )) ms: $(grep -a 'node 3 (n3) lost on all links' "$VG_TMP/n1.log" | tail -n 1 | sed 's/.*membership: //') [$(elapsed)]"

# ---- 3. node 3 restarted: rejoins with a new incarnation
vg_start 3
form
inc3b=$(vg_peer 1 3 incarnation)
[ -n "$inc3" ] && [ -n "$inc3b" ] && [ "$inc3b" -gt "$inc3" ] 2>/dev/null ||
	vg_fail "node 3's incarnation as node 1 sees it: expected larger than '$inc3' after the restart, saw '$inc3b'"
[ "$(vg_view_id 1)" -gt "$view" ] || vg_fail "expected a view newer than $view after the rejoin, saw $(vg_view_id 1)"
vg_log "node 3 rejoined: incarnation $inc3 -> $inc3b, $(vg_summary 1) [$(elapsed)]"

# ---- 4. a certificate that names another node
rogue "cert naming n2" "$CERTS/n2.crt" "$CERTS/n2.key" 'refused: certificate names "n2", expected "n3"'

# ---- 5. a certificate from another CA
rogue "cert from another CA" "$CERTS/ca2/n3.crt" "$CERTS/ca2/n3.key" 'refused: certificate verify failed'

# ---- 6. sanity: udp-ucast frames do carry VGL1 in the clear
for n in 1 2; do vg_kill "$n" TERM; done
write_config "$VG_TMP/cluster.conf" udp
capture_start "$VG_TMP/udp.pcap" udp port 5405
for n in 1 2 3; do vg_start "$n"; done
form
sleep 1
capture_stop
read -r pkts nbytes magics <<<"$(pcap_scan "$VG_TMP/udp.pcap")"
frames=$(dump_frames "$VG_TMP/udp.pcap")
vg_log "udp capture: $pkts packets, $nbytes bytes, 'VGL1' found $magics times, vigildump $frames vigil frames"
[ "${magics:-0}" -gt 0 ] && [ "${frames:-0}" -gt 0 ] ||
	vg_fail "udp capture (sanity): expected VGL1 and vigil frames in it, saw $magics and '$frames'"
vg_log "done [$(elapsed)]"
exit 0
