#!/bin/bash
# transport-conformance: every transport plugin vigil ships, run through
# tests/transport-conformance (the suite a third party runs on its own
# transport, docs/plugin-guide.md "Testing a transport"):
#   udp-ucast   n1 127.0.0.1, n2 127.0.0.2 on the host's loopback
#   udp-mcast   in a network namespace of its own: both addresses on one veth,
#               loop=true (the suite ignores each node's own frames)
#   chaos       over udp-ucast: loss 0 (pass-through), then dup/reorder/loss
#               with delay and jitter (--lossy: content integrity only)
#   tls         certificates from scripts/vigil-tls-certs, 127.0.0.1/.2
#   serial      a socat pty pair
# Every run is bounded (timeout 60 s); socat, the namespace and the scratch
# directory are removed on every exit path.
[ "$(id -u)" = 0 ] || { echo "SKIP: not root (udp-mcast runs in a network namespace)"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns unavailable"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
TC="$TOP_BUILDDIR/tests/transport-conformance"
DIRS=$(find "$TOP_BUILDDIR/plugins" -type d -name .libs | sort | tr '\n' ':' | sed 's/:$//')
NS="vgtc$$"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vigil-tc.XXXXXX")
SOCAT_PID=""
PORT=$((20000 + ($$ % 4000) * 10))
FAILED=""
PASSED=0

cleanup() {
	[ -n "$SOCAT_PID" ] && { kill "$SOCAT_PID" 2>/dev/null; wait "$SOCAT_PID" 2>/dev/null; }
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "FAIL: interrupted"; exit 1' INT TERM HUP

for tool in socat openssl; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool not found (apt-get install $tool)"; exit 1; }
done
[ -x "$TC" ] || { echo "FAIL: $TC not built"; exit 1; }

# run NAME [ip netns exec NS] -- ARGS...: one suite run, bounded, counted.
run() {
	local name=$1 rc
	shift
	echo "==== $name"
	"$@"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		PASSED=$((PASSED + 1))
	else
		echo "==== $name: FAILED (exit $rc)"
		FAILED="$FAILED $name"
	fi
}

run udp-ucast timeout 60 "$TC" --plugin-dir "$DIRS" udp-ucast --addr1 127.0.0.1 --addr2 127.0.0.2 \
	--param port=$PORT --peer-restart

ip netns add "$NS" &&
	ip -n "$NS" link set lo up &&
	ip -n "$NS" link add v0 type veth peer name v1 &&
	ip -n "$NS" link set v1 up && ip -n "$NS" link set v0 up &&
	ip -n "$NS" addr add 198.18.0.1/24 dev v0 &&
	ip -n "$NS" addr add 198.18.0.2/24 dev v0 &&
	ip -n "$NS" route add 224.0.0.0/4 dev v0 || { echo "FAIL: cannot set up namespace $NS"; exit 1; }
run udp-mcast timeout 60 ip netns exec "$NS" "$TC" --plugin-dir "$DIRS" udp-mcast \
	--addr1 198.18.0.1 --addr2 198.18.0.2 --param loop=true --param port=$((PORT + 1)) --peer-restart

run chaos-passthrough timeout 60 "$TC" --plugin-dir "$DIRS" chaos --addr1 127.0.0.1 --addr2 127.0.0.2 \
	--param plugin=udp-ucast --attr port=$((PORT + 2)) --peer-restart
run chaos-lossy timeout 60 "$TC" --plugin-dir "$DIRS" chaos --addr1 127.0.0.1 --addr2 127.0.0.2 \
	--param plugin=udp-ucast --param loss_pct=10 --param dup_pct=30 --param reorder_pct=30 \
	--param delay_ms=2 --param jitter_ms=5 --param seed=%i --attr port=$((PORT + 3)) \
	--peer-restart --lossy

"$TOP_SRCDIR/scripts/vigil-tls-certs" "$TMP/certs" n1 n2 >/dev/null || { echo "FAIL: vigil-tls-certs"; exit 1; }
run tls timeout 60 "$TC" --plugin-dir "$DIRS" tls --addr1 127.0.0.1 --addr2 127.0.0.2 \
	--param port=$((PORT + 4)) --param ca="$TMP/certs/ca.crt" \
	--param cert="$TMP/certs/%n.crt" --param key="$TMP/certs/%n.key" --peer-restart

socat pty,link="$TMP/n1",raw,echo=0 pty,link="$TMP/n2",raw,echo=0 </dev/null 2>"$TMP/socat.log" &
SOCAT_PID=$!
for _ in $(seq 100); do [ -e "$TMP/n1" ] && [ -e "$TMP/n2" ] && break; sleep 0.05; done
[ -e "$TMP/n2" ] || { echo "FAIL: socat made no pty pair: $(cat "$TMP/socat.log")"; exit 1; }
run serial timeout 60 "$TC" --plugin-dir "$DIRS" serial --param device="$TMP/%n" --peer-restart

echo "transports passed: $PASSED; failed:${FAILED:- none}"
[ -z "$FAILED" ]
