#!/bin/bash
# fence-race: a two-node cluster (quorum.two_node, wait_for_all) split in
# two, where both nodes keep quorum and race to fence each other through
# their BMCs (ipmi_sim, lib.sh vg_bmc_*: a power off kills everything in
# the node's namespace).  delay_ms on the device that fences the node to
# keep decides the race: exactly one node survives, the other is powered
# off by it, and the resources run only on the survivor.  One Dummy d on
# the preferred node: the other side ran nothing, and still fences (an
# unclean node is fenced whether it ran anything or not; this once failed,
# and the node that ran d was fenced after the delay).  FENCE_RACE_SINGLE=0
# runs two Dummies instead, d1 preferring n1 and d2 n2.
#   round 1: delay 3000 ms on ipmi-n1 (fences n1) -> n1 survives;
#   round 2: delay 3000 ms on ipmi-n2 -> n2 survives.
# The split: iptables drops every UDP datagram in both namespaces' INPUT
# except the BMCs' answers (source port 623), which fencing needs.
# Between the rounds: n2 is powered on through its BMC, iptables flushed, and
# BOTH vigilds restarted with the second configuration (the delays differ
# between the rounds; a fenced node that boots again rejoins clean and is
# not fenced again: tests/integration/fence-ipmi.sh FENCE_IPMI_REJOIN and
# repl-fence.sh check that).
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: no ip netns"; exit 77; }
for t in ipmi_sim ipmitool iptables; do
	command -v "$t" >/dev/null || { echo "SKIP: no $t"; exit 77; }
done
[ -x /usr/lib/ocf/resource.d/heartbeat/Dummy ] || { echo "SKIP: no resource-agents"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgfr$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
vg_test_begin fence-race 90

VG_INTERVAL=50 VG_DEADTIME=300
DELAY=3000
vg_net 2 2
for n in 1 2; do vg_bmc_start "$n" || vg_fail "BMC of n$n did not start"; done

# config FILE DEVICES...: the cluster with the fence devices given (N[:DELAY]).
config() {
	local f=$1
	shift
	vg_write_config "$f" "
quorum = { two_node = true; wait_for_all = true; };
fence_devices = (
$(vg_bmc_fence_conf "$@")
);
fencing = { enabled = true; action = \"off\"; timeout_ms = 15000; };
$RESOURCES
"
}

if [ "${FENCE_RACE_SINGLE:-1}" != 0 ]; then
	RSCS="d"
	RESOURCES="resources = (
  { id = \"d\"; plugin = \"ocf\"; params = { agent = \"heartbeat:Dummy\"; };
    ops = { monitor_interval_ms = 1000; }; } );
constraints = { location = ( { resource = \"d\"; node = \"n1\"; score = 100; } ); };"
else
	RSCS="d1 d2"
	RESOURCES="resources = (
  { id = \"d1\"; plugin = \"ocf\"; params = { agent = \"heartbeat:Dummy\"; };
    ops = { monitor_interval_ms = 1000; }; },
  { id = \"d2\"; plugin = \"ocf\"; params = { agent = \"heartbeat:Dummy\"; };
    ops = { monitor_interval_ms = 1000; }; } );
constraints = { location = ( { resource = \"d1\"; node = \"n1\"; score = 100; },
                             { resource = \"d2\"; node = \"n2\"; score = 100; } ); };"
fi

split() {
	local n
	for n in 1 2; do
		ip netns exec "$(vg_ns "$n")" iptables -A INPUT -p udp --sport 623 -j ACCEPT || return 1
		ip netns exec "$(vg_ns "$n")" iptables -A INPUT -p udp -j DROP || return 1
	done
}
unsplit() {
	local n
	for n in 1 2; do ip netns exec "$(vg_ns "$n")" iptables -F INPUT; done
}
power() { cat "$(vg_bmc_power_file "$1")"; }
offs() { grep -c ' set power 0$' "$(vg_bmc_dir "$1")/power.log" 2>/dev/null; }
fail() {
	local n
	for n in 1 2; do
		echo "---- BMC of n$n: power $(power "$n"), power.log:"
		grep -v ' get power$' "$(vg_bmc_dir "$n")/power.log" 2>/dev/null
	done
	vg_fail "$@"
}

# where N [NODE]: "rsc@node ..." for RSCS as node N sees them; with NODE,
# what it should say when all of them run on NODE.
where() {
	local r out=""
	for r in $RSCS; do
		if [ -n "${2:-}" ]; then out="$out $r@$2"; else out="$out $r@$(vg_rsc_on "$1" "$r")"; fi
	done
	echo "${out# }"
}
# as configured: d1 on n1, d2 on n2 (or d on n1)
PLACED=$(for r in $RSCS; do case $r in d2) printf '%s@n2 ' "$r" ;; *) printf '%s@n1 ' "$r" ;; esac; done)
PLACED=${PLACED% }

# round N SURVIVOR VICTIM: the cluster runs (both members, the resources
# where they prefer); split it; the victim must be powered off by the
# survivor, and only it; everything runs on the survivor.
round() {
	local r=$1 s=$2 v=$3 t0 offs_s offs_v line x
	for x in 1 2; do vg_wait_eq 15 "round $r: where the resources run before the split (n$x)" "$PLACED" where "$x"; done
	vg_log "round $r: $(where 1); DC n$(vg_dc 1); split (delay ${DELAY} ms on ipmi-n$s)"
	offs_s=$(offs "$s") offs_v=$(offs "$v")
	t0=$(vg_now_ms)
	split || fail "round $r: iptables failed"
	vg_wait 10 "round $r: n$v powered off by its BMC" eval '[ "$(power '"$v"')" = 0 ]' ||
		fail "round $r: expected n$v's BMC to power it off, saw power $(power "$v")"
	vg_log "round $r: n$v powered off $(($(vg_now_ms) - t0)) ms after the split"
	vg_wait_eq 10 "round $r: the resources on the survivor n$s" "$(where "$s" "n$s")" where "$s"
	# the loser's delayed fencing of the survivor would have come by now
	while [ $(($(vg_now_ms) - t0)) -lt $((DELAY + 1500)) ]; do sleep 0.2; done
	vg_check "round $r: power of n$s (the survivor)" 1 "$(power "$s")"
	vg_check "round $r: power downs sent to n$s's BMC" "$offs_s" "$(offs "$s")"
	vg_check "round $r: power downs sent to n$v's BMC" "$((offs_v + 1))" "$(offs "$v")"
	vg_check "round $r: ipmitool from n$s on n$v's BMC" "Chassis Power is off" "$(vg_bmc_power "$v" "$s" status)"
	vg_check "round $r: ipmitool from n$s on n$s's BMC" "Chassis Power is on" "$(vg_bmc_power "$s" "$s" status)"
	kill -0 "$(vg_pid "$s")" 2>/dev/null || fail "round $r: n$s's vigild is gone"
	vg_check "round $r: processes left in n$v's namespace" "" "$(ip netns pids "$(vg_ns "$v")")"
	vg_check "round $r: members seen by n$s" "$s" "$(vg_members "$s")"
	vg_check "round $r: quorate (two_node)" True "$(vg_quorate_str "$s")"
	vg_check "round $r: the resources seen by n$s" "$(where "$s" "n$s")" "$(where "$s")"
	for x in $RSCS; do
		[ -e "$(vg_dummy_state "$s" "$x")" ] || fail "round $r: no state file of Dummy $x on n$s"
	done
	vg_check "round $r: last fencing in n$s's history" "n$v ok ipmi-n$v" \
		"$(vg_jq "$s" "(lambda h: '%s %s %s' % (h['target'], h['result'], h['device']))(s['fencing']['history'][-1])")"
	# the victim either saw the survivor lost and waited out the delay, or
	# was powered off before it noticed the loss; it never sent a request
	line=$(grep -m1 "fencer: waiting $DELAY ms before fencing n$s through ipmi-n$s" "$VG_TMP/n$v.log")
	if [ -z "$line" ]; then
		grep -q "node $s (n$s) lost on all links" "$VG_TMP/n$v.log" &&
			fail "round $r: n$v saw n$s lost but did not log 'waiting $DELAY ms before fencing n$s through ipmi-n$s'"
		line="(powered off before it saw n$s lost)"
	fi
	grep -q "fencer: off n$s through ipmi-n$s (level" "$VG_TMP/n$v.log" &&
		fail "round $r: n$v tried to fence n$s: $(grep "fencer: off n$s" "$VG_TMP/n$v.log")"
	vg_log "round $r: n$s survives: $(grep -m1 "fencer: off n$v: done" "$VG_TMP/n$s.log" | sed 's/.*fencer: //'); n$v: ${line#* fencer: }"
}

# ---- round 1: n1 preferred ----------------------------------------------
config "$VG_TMP/cluster.conf" 1:$DELAY 2
for n in 1 2; do vg_start "$n"; done
for n in 1 2; do vg_wait_eq 15 "node $n members" "1 2" vg_members "$n"; done
round 1 1 2

# ---- reset: n2 powered on, network healed, both vigilds restarted --------
vg_log "reset: power on n2, flush iptables, restart both vigilds with the delay on ipmi-n2"
vg_kill 2   # reap the vigild its BMC killed
vg_check "ipmitool power on n2" "Chassis Power Control: Up/On" "$(vg_bmc_power 2 1 on)"
unsplit
vg_kill 1
mv "$VG_TMP/n1.log" "$VG_TMP/n1.round1.log"
mv "$VG_TMP/n2.log" "$VG_TMP/n2.round1.log"
config "$VG_TMP/cluster2.conf" 1 2:$DELAY
for n in 1 2; do vg_start "$n" "$VG_TMP/cluster2.conf"; done
for n in 1 2; do vg_wait_eq 15 "node $n members after the reset" "1 2" vg_members "$n"; done

# ---- round 2: n2 preferred ----------------------------------------------
round 2 2 1
exit 0
