#!/bin/bash
# repl-tls.sh: the replication link of two vigil-repld helpers in TLS 1.3
# (--tls-*), with the certificates of scripts/vigil-tls-certs (n1 = helper a,
# n2 = helper b), in a private network namespace on 127.0.0.1, 32 MiB file
# stores, written through NBD by qemu-io and nbdcopy.  Proves:
#  1. the initial full sync and protocol C writes go through TLS and both
#     stores end equal (cmp, sha256);
#  2. a capture (tcpdump on lo, port 7002) of a write of a recognisable
#     marker does not hold the marker with TLS, and does in the same run
#     without TLS (so the check can fail); both captures hold at least the
#     written bytes (the data did cross the wire);
#  3. the accepting side (b) refuses a connector whose certificate comes from
#     another CA, and one whose certificate names another node; the
#     connecting side (a) refuses the same two kinds of acceptor.  Each
#     refusal is one log line naming what was expected and found; the
#     refused pair never connects and neither store changes; the connector
#     retries at --connect-ms (SYNs counted over 3 s, no busy loop); with the
#     right certificate it connects again;
#  4. a key file that group or others may read is refused at start.
# Root, ip, tcpdump, qemu-io, nbdcopy, openssl needed (SKIP otherwise);
# bounded to 150 s.
set -u
TOP_BUILDDIR=${TOP_BUILDDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
REPLD="$TOP_BUILDDIR/plugins/replication/block/vigil-repld"
CERTGEN="$TOP_SRCDIR/scripts/vigil-tls-certs"
SIZE=$((32 << 20))
CONNECT_MS=500

T=""
. "$TOP_SRCDIR/tests/integration/repl-lib.sh"
[ "$(id -u)" = 0 ] || skip "needs root (network namespace)"
for t in ip tcpdump qemu-io nbdcopy openssl python3 cmp sha256sum timeout; do
	command -v "$t" >/dev/null || skip "$t not installed"
done
[ -x "$REPLD" ] || skip "vigil-repld not built"

T=$(mktemp -d "${TMPDIR:-/tmp}/vigil-repltls.XXXXXX")
NS=vgrtls$$
PIDS=""
CAP_PID=""
cleanup() {
	local p
	for p in $PIDS $CAP_PID; do kill "$p" 2>/dev/null; done
	for p in $PIDS $CAP_PID; do wait "$p" 2>/dev/null; done
	[ -n "${WATCHDOG:-}" ] && kill "$WATCHDOG" 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$T"
}
trap cleanup EXIT
repl_watchdog 150

ip netns add "$NS" || skip "cannot create a network namespace"
ip -n "$NS" link set lo up
"$CERTGEN" --ca2 "$T/certs" n1 n2 n3 >"$T/certs.out" 2>&1 || fail "vigil-tls-certs: $(cat "$T/certs.out")"
C=$T/certs

# start NODE LOG [OPTION...]: helper a (listen 7001, connects) or b (listen 7002, accepts)
start() {
	local l=7001 p=7002
	[ "$1" = b ] && { l=7002; p=7001; }
	ip netns exec "$NS" "$REPLD" --store "$T/$1.img" --name r0 --protocol C \
		--listen "127.0.0.1:$l" --peer "127.0.0.1:$p" --nbd "unix:$T/$1.nbd" \
		--ctl "$T/$1.ctl" --timeout-ms 1000 --connect-ms "$CONNECT_MS" --log "$T/$2.log" \
		"${@:3}" &
	PIDS="$PIDS $!"
	eval "PID_$1=$!"
	for _ in $(seq 50); do [ -S "$T/$1.ctl" ] && return 0; sleep 0.1; done
	fail "helper $1 ($2) did not open its control socket"
}
# tls NODE CERTNAME PEERNAME: the --tls-* options with $C/CERTNAME.{crt,key}
tls() { echo --tls-cert "$C/$1.crt" --tls-key "$C/$1.key" --tls-ca "$C/ca.crt" --tls-peer-name "$2"; }
stop() {
	local v="PID_$1"
	kill "${!v}" 2>/dev/null
	wait "${!v}" 2>/dev/null
	rm -f "$T/$1.ctl"
}

# wait_log LOG PATTERN [SECONDS]: a line of $T/LOG.log matches the fixed string
wait_log() {
	local end=$(($(date +%s) + ${3:-10}))
	while [ "$(date +%s)" -le "$end" ]; do
		grep -qF -- "$2" "$T/$1.log" 2>/dev/null && return 0
		sleep 0.1
	done
	fail "$1.log: expected a line with '$2', saw: $(tail -n 3 "$T/$1.log" 2>/dev/null)"
}
nbd() { qemu-io -f raw "nbd+unix:///r0?socket=$T/$1.nbd" "${@:2}" >/dev/null || fail "qemu-io on $1: $*"; }

# capture_start FILE FILTER: tcpdump on the namespace's lo (at most 60 s)
capture_start() {
	ip netns exec "$NS" timeout 60 tcpdump -i lo --immediate-mode -U -s 0 -w "$1" "${@:2}" \
		2>"$1.err" </dev/null &
	CAP_PID=$!
	for _ in $(seq 50); do grep -q "listening on" "$1.err" && return 0; sleep 0.1; done
	fail "tcpdump did not start: $(cat "$1.err")"
}
capture_stop() {
	kill -INT "$CAP_PID" 2>/dev/null
	wait "$CAP_PID" 2>/dev/null
	CAP_PID=""
}
# pcap_scan FILE MARKER: "PACKETS PAYLOAD_BYTES MARKERS MIN_GAP_MS" of a capture
# (MIN_GAP_MS: the shortest time between two packets, -1 with fewer than two)
pcap_scan() {
	python3 - "$1" "$2" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
end = "<" if data[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
nano = data[:4] in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
off, pkts, nbytes, times = 24, 0, 0, []
while off + 16 <= len(data):
    sec, frac, incl, _ = struct.unpack(end + "IIII", data[off:off + 16])
    times.append(sec + frac / (1e9 if nano else 1e6))
    off += 16 + incl
    pkts += 1
    nbytes += incl
gaps = [b - a for a, b in zip(times, times[1:])]
print(pkts, nbytes, data.count(sys.argv[2].encode()), int(min(gaps) * 1000) if gaps else -1)
PY
}

MARK="VIGIL-REPL-TLS-MARKER-$$-"
python3 -c "import sys; m=sys.argv[1].encode(); open(sys.argv[2],'wb').write((m*(65536//len(m)+1))[:65536])" \
	"$MARK" "$T/marker"
# write_marker LABEL OFFSET: the marker (1 MiB) written through a's NBD under a capture;
# prints "PACKETS PAYLOAD_BYTES MARKERS"
write_marker() {
	local i
	capture_start "$T/$1.pcap" tcp port 7002
	for i in $(seq 0 15); do
		nbd a -c "write -s $T/marker $(( $2 + i * 65536 )) 64k"
	done
	cmp -s "$T/a.img" "$T/b.img" || fail "$1: stores differ after the marker writes (protocol C)"
	sleep 0.3 # the acks of the last write
	capture_stop
	pcap_scan "$T/$1.pcap" "$MARK"
}

truncate -s "$SIZE" "$T/a.img" "$T/b.img"

log "1. TLS link: initial sync and protocol C writes"
start a a1 $(tls n1 n2)
start b b1 $(tls n2 n1)
wait_field a conn connected
wait_log a1 'peer: TLS with 127.0.0.1:7002: TLSv1.3'
wait_log b1 'its certificate names "n1"'
grep -qF 'link TLS' "$T/a1.log" || fail "a1.log: expected 'link TLS' at start"
[ "$(ctl a promote force)" = ok ] || fail "forced promotion refused"
wait_field b disk uptodate 20
wait_field a conn connected
[ "$(field b resynced)" = "$SIZE" ] || fail "initial sync: expected $SIZE bytes, got $(field b resynced)"
nbd a -c 'write -P 0x55 0 1M' -c 'write -P 0xaa 3M 512k' -c 'write -z 2M 256k' -c flush
head -c $((8 << 20)) /dev/urandom > "$T/random"
nbdcopy "$T/random" "nbd+unix:///r0?socket=$T/a.nbd" || fail "nbdcopy"
cmp "$T/a.img" "$T/b.img" || fail "stores differ after protocol C writes over TLS"
[ "$(sha256sum < "$T/a.img")" = "$(sha256sum < "$T/b.img")" ] || fail "sha256 of the stores differ"
log "  full sync of $SIZE bytes, qemu-io and 8 MiB nbdcopy writes: stores equal"

log "2. capture: the marker is not on the wire with TLS, and is without"
read -r pk by mk _ <<<"$(write_marker tls $((16 << 20)))"
log "  TLS: $pk packets, $by bytes, marker found $mk times"
[ "$by" -ge $((1 << 20)) ] 2>/dev/null || fail "TLS capture: expected at least 1 MiB on port 7002, saw '$by' bytes"
[ "$mk" = 0 ] || fail "TLS capture: expected the marker 0 times, found it $mk times"
stop a
stop b
start a a2
start b b2
wait_field a conn connected
[ "$(ctl a promote)" = ok ] || fail "promote a after the restart without TLS"
grep -qF 'link plain TCP' "$T/a2.log" || fail "a2.log: expected 'link plain TCP' at start"
read -r pk by mk _ <<<"$(write_marker plain $((20 << 20)))"
log "  plain TCP: $pk packets, $by bytes, marker found $mk times"
[ "$by" -ge $((1 << 20)) ] 2>/dev/null || fail "plain capture: expected at least 1 MiB on port 7002, saw '$by' bytes"
[ "$mk" -ge 16 ] 2>/dev/null || fail "plain capture: expected the marker in clear (16 x 64 KiB of it), found it '$mk' times"
stop a
stop b
cmp "$T/a.img" "$T/b.img" || fail "stores differ after the plain phase"
sha256sum "$T/a.img" "$T/b.img" > "$T/sums"

# refused REFUSING_LOG REFUSED_LOG LINE: LINE logged once by the refusing side, "the peer
# refused us" by the other, neither connects during 1.5 s more of retries, stores unchanged
refused() {
	local good=$1 bad=$2 n
	wait_log "$good" "$3"
	wait_log "$bad" "the peer refused us"
	sleep 1.5 # three more retries
	for n in "$good" "$bad"; do
		grep -qF 'peer: connected' "$T/$n.log" && fail "$n.log: connected despite the refusal"
	done
	n=$(grep -cF "$3" "$T/$good.log")
	[ "$n" = 1 ] || fail "$good.log: expected the refusal logged once while it stays the same, saw $n times"
	sha256sum --quiet -c "$T/sums" || fail "a store changed during a refused connection"
}

log "3a. the accepting side refuses: a with a certificate from another CA, then one naming n3"
start b b3 $(tls n2 n1)
capture_start "$T/syn.pcap" 'tcp dst port 7002 and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn'
start a a3 $(tls ca2/n1 n2)
sleep 3
capture_stop
refused b3 a3 'refused: certificate "n1" (issuer "vigil cluster CA ca2'
grep -F 'refused: certificate "n1"' "$T/b3.log" | grep -qF "does not verify against the CA $C/ca.crt: unable to get local issuer certificate" ||
	fail "b3.log: the refusal does not name the CA file and the error: $(grep -F refused "$T/b3.log")"
[ "$(field a conn)" = connecting ] || fail "a: expected conn=connecting while refused, saw $(field a conn)"
read -r syns _ _ gap <<<"$(pcap_scan "$T/syn.pcap" x)"
log "  refused: $(grep -F 'refused' "$T/b3.log" | sed 's/.*peer: //')"
log "  $syns connection attempts in 3 s, at least $gap ms apart"
[ "$syns" -ge 3 ] 2>/dev/null || fail "expected the refused connector to retry (3 SYNs or more in 3 s), saw '$syns'"
[ "$gap" -ge $((CONNECT_MS * 9 / 10)) ] 2>/dev/null ||
	fail "expected connection attempts at least $CONNECT_MS ms apart (--connect-ms), saw two $gap ms apart"
stop a
start a a4 $(tls n3 n2)
refused b3 a4 'refused: certificate names "n3", expected "n1" (--tls-peer-name)'
log "  refused: $(grep -F 'names "n3"' "$T/b3.log" | sed 's/.*peer: //')"
stop a
stop b

log "3b. the connecting side refuses: b with a certificate from another CA, then one naming n3"
start a a5 $(tls n1 n2)
start b b5 $(tls ca2/n2 n1)
refused a5 b5 'refused: certificate "n2" (issuer "vigil cluster CA ca2'
stop b
start b b6 $(tls n3 n1)
refused a5 b6 'refused: certificate names "n3", expected "n2" (--tls-peer-name)'
log "  refused: $(grep -F 'refused' "$T/a5.log" | sed 's/.*peer: //' | tr '\n' ';')"
stop b
start b b7 $(tls n2 n1)
wait_field a conn connected 10
wait_log b7 'peer: connected'
log "  with n2's certificate: connected"
stop a
stop b
cmp "$T/a.img" "$T/b.img" || fail "stores differ at the end"

log "4. a key file others may read is refused at start"
cp "$C/n1.key" "$T/open.key"
chmod 0640 "$T/open.key"
ip netns exec "$NS" timeout 10 "$REPLD" --store "$T/a.img" --name r0 --listen 127.0.0.1:7001 \
	--peer 127.0.0.1:7002 --nbd "unix:$T/a.nbd" --ctl "$T/a.ctl" --log "$T/key.log" \
	--tls-cert "$C/n1.crt" --tls-key "$T/open.key" --tls-ca "$C/ca.crt" --tls-peer-name n2
rc=$?
[ "$rc" = 1 ] || fail "a group-readable key: expected exit status 1, saw $rc"
grep -qF "tls: key $T/open.key: group or others may access it (mode 0640); expected 0600 or 0400" "$T/key.log" ||
	fail "key.log: expected the key file refusal, saw: $(cat "$T/key.log")"
log "  $(grep -F 'tls: key' "$T/key.log" | sed 's/.*]: //')"
log "PASS"
exit 0
