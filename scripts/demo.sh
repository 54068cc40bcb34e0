#!/bin/bash
# The main demo, from a built tree, as root: a three-node vigil cluster in
# network namespaces on this machine runs a group of three resources (a
# virtual IP with the native ipaddr plugin, ocf:heartbeat:Dummy from the
# resource-agents package, and a small TCP service with the process plugin).
# The demo powers off the node that runs them (every process in its namespace
# killed, its links down), shows the group running elsewhere, the virtual IP
# answering from a fourth namespace and how long that took, then brings the
# node back, and removes everything it made.
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

VIP=198.18.0.100
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
status() { "$VIGILCTL" -s "$(vg_sock "$1")" status; }
ms_now() { echo $(($(date +%s%N) / 1000000)); }
# the node that runs the group, as node n$1 sees it
active() { vg_jq "$1" "[r['running_on'][0] for r in s['resources'] if r['id']=='web' and r['running_on']][0][1:]"; }
vip_answers() { ip netns exec "$(vg_ns 4)" socat -T1 - "TCP:$VIP:8080,connect-timeout=0.2" 2>/dev/null | grep -q "hello from"; }
group_running() { [ -n "$(active 1)" ]; }
ask() { ip netns exec "$(vg_ns 4)" socat -T1 - "TCP:$VIP:8080"; }

step "plugins"
"$VIGILD" --list-plugins | grep -v '^    '

step "three nodes n1 n2 n3 on two links (198.18.0.0/24 unicast, 198.18.1.0/24 multicast), a client n4"
vg_net 3 2 1
vg_write_config "$VG_TMP/cluster.conf" "
fencing = { enabled = false; };   # the demo has no power switch: see docs/fencing
resources = (
  { id = \"vip\"; plugin = \"ipaddr\"; params = { address = \"$VIP/24\"; interface = \"eth0\"; arp_count = 3; };
    meta = { stickiness = 100; }; ops = { monitor_interval_ms = 1000; }; },
  { id = \"state\"; plugin = \"ocf\"; params = { agent = \"heartbeat:Dummy\"; };
    meta = { stickiness = 100; }; ops = { monitor_interval_ms = 1000; }; },
  { id = \"web\"; plugin = \"process\";
    params = { command = \"exec socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo hello from \$(cat /run/vigil/node)'\";
               pidfile = \"/run/vigil/web.pid\"; };
    meta = { stickiness = 100; }; ops = { monitor_interval_ms = 1000; }; }
);
groups = ( { id = \"service\"; resources = [ \"vip\", \"state\", \"web\" ]; } );
"
sed -n '/^resources/,$p' "$VG_TMP/cluster.conf"
echo "heartbeat every ${VG_INTERVAL} ms, dead time ${VG_DEADTIME} ms"
for n in 1 2 3; do vg_start "$n"; done
vg_wait 20 "the group running" group_running || { vg_dump_logs; exit 1; }
vg_wait 10 "the VIP answering" vip_answers || { vg_dump_logs; exit 1; }
status 1
first=$(active 1)
echo
echo "client n4 asks $VIP:8080: $(ask)"

step "power off n$first, the node running the group"
t0=$(ms_now)
vg_poweroff "$first"
for _ in $(seq 2000); do   # bounded: 2000 tries, 10 ms apart at least
	vip_answers && break
	sleep 0.01
done
t1=$(ms_now)
vip_answers || { echo "demo: the VIP does not answer 20 s after the power-off"; vg_dump_logs; exit 1; }
other=$((first % 3 + 1))
status "$other"
echo
echo "client n4 asks $VIP:8080: $(ask)"
echo "the service answered again $((t1 - t0)) ms after the power-off (client polling every 10 ms)"

step "power n$first on again: it rejoins; the group stays where it runs (stickiness 100)"
vg_poweron "$first"
vg_start "$first"
vg_wait 20 "n$first back" vg_expect_members "$other" "1 2 3" || { vg_dump_logs; exit 1; }
status "$first"

step "done: stopping the nodes and removing the namespaces"
