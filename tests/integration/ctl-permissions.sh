#!/bin/bash
# ctl-permissions: vigild's control socket is 0660 root:root and refuses
# uid 65534 ("permission denied", exit 1); with ctl.group set, the socket
# belongs to that group and a caller whose gid is that group gets its status.
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns unavailable"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgcp$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
GRP=vgtestgrp
GRP_CREATED=""
cp_cleanup() {
	[ -n "$GRP_CREATED" ] && groupdel "$GRP" 2>/dev/null
	return 0
}
vg_test_begin ctl-permissions 40
trap 'rc=$?; cp_cleanup; (exit $rc); vg_test_end' EXIT

VG_INTERVAL=50 VG_DEADTIME=300
vg_net 1 1
chmod 755 "$VG_TMP" # uid 65534 must reach the socket to be refused by it
vg_write_config "$VG_TMP/cluster.conf"
vg_start 1
sock=$(vg_sock 1)
vg_wait_eq 10 "node 1 members" "1" vg_members 1

vg_check "socket mode:owner:group without ctl.group" "660:root:root" "$(stat -c %a:%U:%G "$sock")"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$VIGILCTL" -s "$sock" status 2>&1)
rc=$?
vg_check "vigilctl status as uid 65534: exit code" 1 "$rc"
grep -q "permission denied" <<<"$out" || vg_fail "vigilctl status as uid 65534: expected 'permission denied', saw: $out"
vg_log "uid 65534 refused: $out"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$VIGILCTL" -s "$sock" --json status 2>&1)
rc=$?
vg_check "vigilctl --json status as uid 65534: exit code" 1 "$rc"
grep -q "permission denied" <<<"$out" || vg_fail "vigilctl --json status as uid 65534: expected 'permission denied', saw: $out"
"$VIGILCTL" -s "$sock" status >/dev/null || vg_fail "vigilctl status as root failed"
# The daemon checks the caller too (SO_PEERCRED), not only the file mode.
chmod 666 "$sock"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$VIGILCTL" -s "$sock" status 2>&1)
rc=$?
chmod 660 "$sock"
vg_check "vigilctl status as uid 65534 through a 0666 socket: exit code" 1 "$rc"
grep -q "permission denied: uid 65534 is not root" <<<"$out" ||
	vg_fail "vigilctl status as uid 65534 through a 0666 socket: expected vigild's 'permission denied: uid 65534 is not root', saw: $out"
vg_log "uid 65534 refused by vigild: $out"

# With a ctl group.
if ! getent group "$GRP" >/dev/null; then
	groupadd -f "$GRP" || vg_fail "groupadd $GRP"
	GRP_CREATED=1
fi
gid=$(getent group "$GRP" | cut -d: -f3)
vg_kill 1 TERM
rm -f "$sock"
vg_write_config "$VG_TMP/cluster.conf" "ctl = { group = \"$GRP\"; };"
vg_start 1
vg_wait_eq 10 "node 1 members with ctl.group" "1" vg_members 1
vg_check "socket mode:owner:group with ctl.group" "660:root:$GRP" "$(stat -c %a:%U:%G "$sock")"
out=$(setpriv --reuid=65534 --regid="$gid" --clear-groups "$VIGILCTL" -s "$sock" --json status 2>&1)
rc=$?
vg_check "vigilctl --json status as uid 65534 gid $GRP: exit code (output: $out)" 0 "$rc"
vg_check "its answer's node id" 1 "$("$VG_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["node"]["id"])' <<<"$out" 2>&1)"
# A supplementary group is enough too.
out=$(setpriv --reuid=65534 --regid=65534 --groups="$gid" "$VIGILCTL" -s "$sock" status 2>&1)
rc=$?
vg_check "vigilctl status as uid 65534 with $GRP as supplementary group: exit code (output: $out)" 0 "$rc"
# Others are still refused, by the daemon's message when they can connect.
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$VIGILCTL" -s "$sock" status 2>&1)
rc=$?
vg_check "vigilctl status as uid 65534 outside $GRP: exit code" 1 "$rc"
grep -q "permission denied" <<<"$out" || vg_fail "uid 65534 outside $GRP: expected 'permission denied', saw: $out"
vg_log "with ctl.group: gid $gid allowed, others refused: $out"
exit 0
