#!/bin/sh
# vigildump against a real capture, no vigild needed: gen_frames sends a
# known pattern of vigil frames over loopback (see the comment at the top of
# integration/gen_frames.c) while tcpdump writes it to a pcap file; then
# vigildump -r reads the file and its --json summary must show exactly the
# frames, losses, duplicates, bad MAC and other-cluster frames that were made.
# Also: tshark reads the file; error exits and messages.
#
# Needs root (tcpdump on lo), tcpdump, jq; tshark is optional.
# Needs TOP_BUILDDIR (AM_TESTS_ENVIRONMENT).  Bounded: every step runs
# under timeout.
set -eu

: "${TOP_BUILDDIR:?set by make check}"
VIGILDUMP=$TOP_BUILDDIR/tools/vigildump
GEN=$TOP_BUILDDIR/tests/integration/gen_frames

skip() {
	echo "vigildump-pcap: SKIP: $*"
	exit 77
}

[ "$(id -u)" -eq 0 ] || skip "needs root for tcpdump on lo"
command -v tcpdump >/dev/null 2>&1 || skip "no tcpdump"
command -v jq >/dev/null 2>&1 || skip "no jq"
[ -x "$VIGILDUMP" ] || skip "no $VIGILDUMP (build tools/ first)"
[ -x "$GEN" ] || skip "no $GEN (make check builds it)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vg-dump.XXXXXX")
tcpdump_pid=
cleanup() {
	if [ -n "$tcpdump_pid" ]; then
		kill "$tcpdump_pid" 2>/dev/null || true
		wait "$tcpdump_pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM PIPE

failures=0
fail() {
	echo "vigildump-pcap: FAIL: $*" >&2
	failures=$((failures + 1))
}

# check FILE JQ-EXPR EXPECTED
check() {
	got=$(jq -r "$2" "$1" 2>&1) || got="(jq error: $got)"
	if [ "$got" = "$3" ]; then
		echo "vigildump-pcap: ok: $2 = $3"
	else
		fail "$(basename "$1"): $2: expected $3, saw $got"
	fi
}

# --- the capture ---
key=$tmp/cluster.key
head -c 32 /dev/urandom >"$key"
chmod 0600 "$key"
port=$((20000 + $$ % 20000))
pcap=$tmp/frames.pcap

# -Z root: tcpdump would otherwise drop to a user that cannot write $tmp.
# --immediate-mode: without it, packets wait in the kernel ring for the
# 1 s block timeout and a SIGINT before that loses them.
timeout 60 tcpdump -i lo -n -U --immediate-mode -Z root -w "$pcap" "udp port $port" \
	2>"$tmp/tcpdump.err" &
tcpdump_pid=$!
i=0
until grep -q "listening on" "$tmp/tcpdump.err" 2>/dev/null; do
	i=$((i + 1))
	if [ $i -gt 50 ] || ! kill -0 "$tcpdump_pid" 2>/dev/null; then
		cat "$tmp/tcpdump.err" >&2
		echo "vigildump-pcap: FAIL: tcpdump did not start" >&2
		exit 1
	fi
	sleep 0.1
done
timeout 30 "$GEN" "$key" "$port" || { echo "vigildump-pcap: FAIL: gen_frames" >&2; exit 1; }
sleep 1.2	# the last datagrams through the ring, even without immediate mode
kill -INT "$tcpdump_pid"
wait "$tcpdump_pid" || true
tcpdump_pid=
echo "vigildump-pcap: tcpdump: $(grep -E 'captured|dropped by kernel' "$tmp/tcpdump.err" | tr '\n' ' ')"

# --- sanity: another dissector reads the file ---
if command -v tshark >/dev/null 2>&1; then
	n=$(timeout 60 tshark -r "$pcap" 2>/dev/null | wc -l)
	[ "$n" -eq 62 ] || fail "tshark -r: expected 62 packets, saw $n"
else
	echo "vigildump-pcap: no tshark, sanity read skipped"
fi

# --- with the key and the cluster id ---
j=$tmp/keyed.json
timeout 30 "$VIGILDUMP" -r "$pcap" -k "$key" -c 0x00C0FFEE --json >"$j" 2>"$tmp/keyed.lines" ||
	fail "vigildump -r -k -c --json exited $?"
s1='.senders[] | select(.node == 1 and .incarnation == 1000001)'
s1b='.senders[] | select(.node == 1 and .incarnation == 1000002)'
s2='.senders[] | select(.node == 2)'
check "$j" '.packets' 62
check "$j" '.vigil' 61
check "$j" '.other' 1
check "$j" '.authenticated' true
check "$j" '.dropped["bad-mac"]' 1
check "$j" '.dropped["other-cluster"]' 1
check "$j" '.senders | length' 3
check "$j" "$s1 | [.frames, .mac_ok, .mac_bad, .seq_first, .seq_last, .received, .loss, .duplicates, .restarts] | @csv" \
	'35,35,0,1,20,18,2,0,1'
check "$j" "$s1 | .links | length" 2
check "$j" "$s1 | .links[] | select(.dst == \"127.0.0.1\") | [.src, .frames, .missing, .duplicates, .heartbeats] | @csv" \
	'"127.0.0.11",18,2,0,18'
check "$j" "$s1 | .links[] | select(.dst == \"127.0.0.2\") | [.src, .frames, .missing, .duplicates, .heartbeats] | @csv" \
	'"127.0.0.12",17,3,0,17'
check "$j" "$s1 | .links[] | select(.dst == \"127.0.0.2\") | .loss_pct" 15
check "$j" "$s1 | .links[] | select(.dst == \"127.0.0.1\") | .hb_interval_ms.count" 17
check "$j" "$s1 | .links[] | select(.dst == \"127.0.0.1\") | .hb_interval_ms | (.mean > 15 and .mean < 60 and .min > 10 and .min <= .mean and .max >= 50 and .p99 <= .max and .jitter > 0)" true
check "$j" "$s2 | [.incarnation, .frames, .mac_ok, .mac_bad, .seq_first, .seq_last, .received, .loss, .duplicates, .restarts] | @csv" \
	'2000002,22,21,1,1,21,20,1,1,0'
check "$j" "$s2 | .links[0] | [.frames, .duplicates, .heartbeats] | @csv" '21,1,19'
check "$j" "$s1b | [.frames, .seq_first, .seq_last, .loss] | @csv" '3,1,3,0'
check "$j" '.nodes[] | select(.node == 1) | .restarts' 1
grep -q 'mac=BAD' "$tmp/keyed.lines" || fail "no mac=BAD line in the per-frame output"
grep -q 'mac=? drop=other-cluster' "$tmp/keyed.lines" || fail "no drop=other-cluster line"
grep -q ' dup' "$tmp/keyed.lines" || fail "no dup line"
grep -q 'HEARTBEAT .* mac=ok view 7/1 .* members 2 \[1,2\] quorate' "$tmp/keyed.lines" ||
	fail "no decoded heartbeat line"

# --- with the key, any cluster: node 3 is a sender ---
j=$tmp/anycluster.json
timeout 30 "$VIGILDUMP" -r "$pcap" -k "$key" -q --json >"$j" || fail "vigildump -k (no -c) exited $?"
check "$j" '.dropped["other-cluster"]' 0
check "$j" '.senders[] | select(.node == 3) | [.frames, .mac_ok] | @csv' '1,1'

# --- without the key: nothing verified ---
j=$tmp/nokey.json
timeout 30 "$VIGILDUMP" -r "$pcap" -q --json >"$j" || fail "vigildump (no key) exited $?"
check "$j" '.authenticated' false
check "$j" '.dropped["bad-mac"]' 0
check "$j" "$s2 | [.frames, .mac_ok, .seq_last, .received, .loss, .duplicates] | @csv" '22,,22,21,1,1'

# --- -p, -n, BPF filter ---
j=$tmp/ports.json
timeout 30 "$VIGILDUMP" -r "$pcap" -q --json -p 1,$port >"$j" || fail "vigildump -p exited $?"
check "$j" '.vigil' 61
timeout 30 "$VIGILDUMP" -r "$pcap" -q --json -p 1 >"$j" || fail "vigildump -p 1 exited $?"
check "$j" '.packets' 0
timeout 30 "$VIGILDUMP" -r "$pcap" -q --json -n 5 >"$j" || fail "vigildump -n exited $?"
check "$j" '.vigil' 5
timeout 30 "$VIGILDUMP" -r "$pcap" -q --json src host 127.0.0.21 >"$j" || fail "vigildump FILTER exited $?"
check "$j" '[.senders[].node] | @csv' '2'

# --- text summary ---
timeout 30 "$VIGILDUMP" -r "$pcap" -k "$key" -q >"$tmp/summary.txt" || fail "vigildump text exited $?"
grep -q '^sender node 2 inc 2000002: frames 22 mac ok 21 bad 1 seq 1..21 loss 1 duplicates 1' "$tmp/summary.txt" ||
	{ cat "$tmp/summary.txt" >&2; fail "text summary of node 2"; }

# --- errors: exit status and message ---
# expect_exit STATUS PATTERN ARGS...
expect_exit() {
	want=$1 pattern=$2
	shift 2
	st=0
	timeout 30 "$VIGILDUMP" "$@" >"$tmp/err.out" 2>"$tmp/err.txt" || st=$?
	if [ "$st" -ne "$want" ] || ! grep -q -- "$pattern" "$tmp/err.txt"; then
		fail "vigildump $*: expected exit $want and \"$pattern\", saw exit $st: $(cat "$tmp/err.txt")"
	else
		echo "vigildump-pcap: ok: vigildump $* -> $st"
	fi
}
expect_exit 2 'exactly one of -i' -q
expect_exit 2 'exactly one of -i' -i lo -r "$pcap"
expect_exit 2 'expected a positive number' -r "$pcap" -n zero
expect_exit 2 '-p: expected up to 32 ports' -r "$pcap" -p 1,,2
expect_exit 2 'Try' -r "$pcap" --bogus
expect_exit 1 'bad filter "udp and nonsense"' -r "$pcap" udp and nonsense
expect_exit 1 'no-such.pcap' -r "$tmp/no-such.pcap"
chmod 0644 "$key"
expect_exit 1 'readable by group or others' -r "$pcap" -k "$key"
chmod 0600 "$key"
timeout 10 "$VIGILDUMP" -h | grep -q '^SYNOPSIS' || fail "vigildump -h: no SYNOPSIS"

if [ "$failures" -ne 0 ]; then
	echo "vigildump-pcap: $failures check(s) failed; summary with the key:" >&2
	cat "$tmp/keyed.json" >&2
	exit 1
fi
echo "vigildump-pcap: PASS"
