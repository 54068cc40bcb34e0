#!/bin/bash
# rsc-failover: a group [VIP (ipaddr), ocf:heartbeat:Dummy, a TCP service
# (process: socat)] runs on one node of three; that node loses power.  The
# group must start on a survivor, member by member in order, the VIP must
# answer TCP from a client namespace, and no member may ever be shown
# running on two nodes.  Prints the time from the power cut to the first
# answer through the VIP.
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: no ip netns"; exit 77; }
command -v socat >/dev/null || { echo "SKIP: no socat"; exit 77; }
[ -x /usr/lib/ocf/resource.d/heartbeat/Dummy ] || { echo "SKIP: no resource-agents"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgrf$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
vg_test_begin rsc-failover 80

VIP=198.18.0.100 CLIENT=4
VG_INTERVAL=50 VG_DEADTIME=250
vg_net 3 2 1
vg_write_config "$VG_TMP/cluster.conf" "
fencing = { enabled = false; };
resources = (
  { id = \"vip\"; plugin = \"ipaddr\"; params = { address = \"$VIP/24\"; interface = \"eth0\"; };
    ops = { monitor_interval_ms = 1000; }; },
  { id = \"d\"; plugin = \"ocf\"; params = { agent = \"heartbeat:Dummy\"; };
    ops = { monitor_interval_ms = 1000; }; },
  { id = \"web\"; plugin = \"process\";
    params = { command = \"socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:'echo ok'\";
               pidfile = \"/run/vigil/web.pid\"; stop_grace_ms = 1000; };
    ops = { monitor_interval_ms = 1000; }; }
);
groups = ( { id = \"g\"; resources = [ \"vip\", \"d\", \"web\" ]; } );
"
for n in 1 2 3; do vg_start "$n"; done
for n in 1 2 3; do vg_wait_eq 15 "node $n members" "1 2 3" vg_members "$n"; done

# where the group runs, as node N sees it: "nX" when all three run there
g_on() {
	local v d w
	v=$(vg_rsc_on "$1" vip) d=$(vg_rsc_on "$1" d) w=$(vg_rsc_on "$1" web)
	if [ -n "$v" ] && [ "$v" = "$d" ] && [ "$v" = "$w" ]; then echo "$v"; else echo "vip@$v d@$d web@$w"; fi
}
vg_wait 15 "group g running on one node" eval '[[ "$(g_on 1)" =~ ^n[0-9]$ ]]' ||
	vg_fail "group g: expected vip, d and web on one node, saw $(g_on 1)"
active=$(g_on 1)
a=${active#n}
vg_log "group g runs on $active: $(vg_rsc_summary 1)"
for n in 1 2 3; do vg_wait_eq 5 "node $n: where g runs" "$active" g_on "$n"; done
vg_check "start order on the first transition" "start vip $active,start d $active,start web $active" \
	"$(vg_dc_actions "$(vg_dc 1)" 0 | tr , '\n' | grep '^start' | paste -sd, -)"
vg_check "VIP answer before the power cut" "ok" "$(vg_tcp_get $CLIENT $VIP 8080)"

survivors=$(for n in 1 2 3; do [ "$n" != "$a" ] && echo "$n"; done | paste -sd' ' -)
vg_watch_start 1 2 3
declare -A lines
for n in $survivors; do lines[$n]=$(vg_log_lines "$n"); done

vg_log "power cut of $active"
t0=$(vg_now_ms)
vg_poweroff "$a"
t1=$(vg_tcp_wait $CLIENT $VIP 8080 ok 20 20000) ||
	vg_fail "VIP $VIP:8080 from the client after the power cut of $active: expected 'ok' within 20 s, got nothing"
vg_log "failover: power cut of $active -> first TCP answer through the VIP: $((t1 - t0)) ms"

first=${survivors%% *}
vg_wait 10 "group g running on a survivor" eval '[[ "$(g_on '"$first"')" =~ ^n[0-9]$ ]]' ||
	vg_fail "group g after the power cut of $active: expected it on one survivor, saw $(g_on "$first")"
new=$(g_on "$first")
b=${new#n}
[ "$new" != "$active" ] || vg_fail "group g: expected it on a survivor, saw it on $active"
for n in $survivors; do vg_wait_eq 5 "node $n: where g runs" "$new" g_on "$n"; done
dc=$(vg_dc "$first")
vg_check "starts on $new after the power cut (DC n$dc's log)" \
	"start vip $new,start d $new,start web $new" \
	"$(vg_dc_actions "$dc" "${lines[$dc]}" | tr , '\n' | grep '^start' | paste -sd, -)"
vg_check "each start after the previous one was done (DC n$dc's log)" ok \
	"$(vg_dc_seq "$dc" "${lines[$dc]}" "start vip $new" "start d $new" "start web $new")"

# the resources themselves, on the node that runs them now and on the other survivor
for n in $survivors; do
	want=no
	[ "$n" = "$b" ] && want=yes
	has=no; ip -n "$(vg_ns "$n")" -4 addr show dev eth0 | grep -q " $VIP/24 " && has=yes
	vg_check "n$n holds the VIP" "$want" "$has"
	has=no; [ -e "$(vg_dummy_state "$n" d)" ] && has=yes
	vg_check "n$n has Dummy d's state file" "$want" "$has"
	has=no; [ -e "$(vg_rundir "$n")/web.pid" ] && has=yes
	vg_check "n$n has web's pidfile" "$want" "$has"
done
vg_check "VIP answer after the failover" "ok" "$(vg_tcp_get $CLIENT $VIP 8080)"
sleep 1
vg_check "where g runs a second later" "$new" "$(g_on "$first")"
vg_watch_check
vg_log "failover_ms=$((t1 - t0)) from $active to $new"
exit 0
