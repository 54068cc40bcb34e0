#!/bin/bash
# replication-conformance: the block backend run through
# tests/replication-conformance (the suite a third party runs on its own
# replication backend, docs/plugin-guide.md "Testing a replication backend"):
# two vigil-repld helpers, node A on 127.0.0.1:7101 and node B on
# 127.0.0.1:7102, inside a network namespace of this script (only its
# loopback), two fresh 4 MiB stores in a scratch directory.  Bounded
# (timeout 180 s); the namespace and the scratch directory are removed on
# every exit path (the suite itself stops both helpers).
[ "$(id -u)" = 0 ] || { echo "SKIP: not root (the helpers run in a network namespace)"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns unavailable"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
RC="$TOP_BUILDDIR/tests/replication-conformance"
SO="$TOP_BUILDDIR/plugins/replication/block/.libs/block.so"
REPLD="$TOP_BUILDDIR/plugins/replication/block/vigil-repld"
NS="vgrc$$"
TMP=$(mktemp -d "${TMPDIR:-/tmp}/vigil-rc.XXXXXX")

cleanup() {
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'echo "FAIL: interrupted"; exit 1' INT TERM HUP

for f in "$RC" "$SO" "$REPLD"; do
	[ -e "$f" ] || { echo "FAIL: $f not built"; exit 1; }
done
ip netns add "$NS" && ip -n "$NS" link set lo up || { echo "FAIL: cannot set up namespace $NS"; exit 1; }
truncate -s 4M "$TMP/a.img" "$TMP/b.img" || { echo "FAIL: cannot create the stores"; exit 1; }

# Every helper of this namespace is the suite's: killed above if it left one.
timeout 180 ip netns exec "$NS" "$RC" -t 30000 "$SO" \
	--param helper="$REPLD" --param store="$TMP/%n.img" --param nbd="unix:$TMP/%n.nbd" \
	--param log="$TMP/%n.log" --param timeout_ms=2000 --param status_interval_ms=100 \
	--param1 listen=127.0.0.1:7101 --param1 peer=127.0.0.1:7102 \
	--param2 listen=127.0.0.1:7102 --param2 peer=127.0.0.1:7101
rc=$?
if [ "$rc" -ne 0 ]; then
	echo "FAIL: replication-conformance exited $rc; helper logs:"
	tail -n 20 "$TMP"/*.log 2>/dev/null
	exit 1
fi
echo "PASS: block passes replication-conformance"
