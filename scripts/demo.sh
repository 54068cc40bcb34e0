#!/bin/bash
# The main demo, from a built tree, as root: a three-node vigil cluster in
# network namespaces on this machine.  It shows the cluster, kills one node
# with SIGKILL, shows the survivors' view and how long they took to notice,
# restarts the node, shows it back, and removes everything it made.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
export TOP_BUILDDIR=${TOP_BUILDDIR:-$top} TOP_SRCDIR=$top
VG_PREFIX=vgdemo
VG_INTERVAL=${VG_INTERVAL:-50}
VG_DEADTIME=${VG_DEADTIME:-250}
# shellcheck source=../tests/integration/lib.sh
. "$top/tests/integration/lib.sh"
trap 'vg_cleanup' EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (network namespaces)" >&2; exit 1; }
[ -x "$VIGILD" ] || { echo "demo: $VIGILD not built: run scripts/build.sh" >&2; exit 1; }

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
status() { "$VIGILCTL" -s "$(vg_sock "$1")" status; }
# milliseconds since midnight of a wall-clock HH:MM:SS.mmm, as vigild logs it
ms_of() { echo "$1" | awk -F'[:.]' '{ print (($1 * 60 + $2) * 60 + $3) * 1000 + $4 }'; }

step "plugins"
"$VIGILD" --list-plugins

step "three nodes n1 n2 n3 in namespaces, two links (198.18.0.0/24 unicast, 198.18.1.0/24 multicast)"
vg_net 3 2
vg_write_config "$VG_TMP/cluster.conf"
echo "heartbeat every ${VG_INTERVAL} ms, dead time ${VG_DEADTIME} ms"
for n in 1 2 3; do vg_start "$n"; done
vg_wait 15 "all three nodes members" vg_expect_members 1 "1 2 3" ||
	{ vg_dump_logs; exit 1; }
vg_wait 5 "n3 agrees" vg_expect_members 3 "1 2 3"
status 1

step "kill -9 n1 (the DC)"
killed_at=$(date +%H:%M:%S.%3N)
vg_kill 1 KILL
echo "killed n1 at $killed_at"
vg_wait 10 "survivors drop n1" vg_expect_members 2 "2 3" || { vg_dump_logs; exit 1; }
vg_wait 5 "n3 agrees" vg_expect_members 3 "2 3"
status 2
echo
echo "the survivors' logs:"
grep -h "lost on all links\|left: n1" "$VG_TMP/n2.log" "$VG_TMP/n3.log" | sed 's/^/  /'
for n in 2 3; do
	seen=$(grep -h "left: n1" "$VG_TMP/n$n.log" | head -1 | cut -d' ' -f1)
	echo "n$n installed a view without n1 $(($(ms_of "$seen") - $(ms_of "$killed_at"))) ms after the kill"
done

step "restart n1: it rejoins with a new incarnation"
vg_start 1
vg_wait 15 "n1 back" vg_expect_members 2 "1 2 3" || { vg_dump_logs; exit 1; }
vg_wait 5 "n1 agrees" vg_expect_members 1 "1 2 3"
status 1
grep -h "restarted" "$VG_TMP/n2.log" | sed 's/^/  /'

step "done: stopping the nodes and removing the namespaces"
