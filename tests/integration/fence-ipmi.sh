#!/bin/bash
# fence-ipmi: fencing through simulated BMCs (OpenIPMI ipmi_sim, one per
# node, in the switch namespace; lib.sh vg_bmc_*), whose power off really
# kills everything in the node's namespace and takes its links down.
# Five nodes (so that three stay quorate after two are fenced: a fenced
# node cannot rejoin, see FENCE_IPMI_REJOIN below), fencing on (action off),
# one `ipmi` device per node; a Dummy d prefers n1 (300), n2 (200), n3 (100)
# and sticks (1000) where it runs.
#   1. vigild of the node running d (n1) is killed (-9; its links and other
#      processes stay: unclean) -> the DC fences it through ipmi-n1 (the
#      BMC's power log says "set power 0", ipmitool from a node says off),
#      history: result ok, device, duration; "confirmed" is logged by the DC
#      before "start d on n2" is started.
#   2. n2's BMC is stopped, n2's vigild killed -> fencing fails (the DC's
#      log says why, status shows pending and consecutive_failures > 0) and
#      d is not started elsewhere for 5 s; the BMC is started again -> the
#      retry succeeds and d starts on n3.
#   3. n5 has levels: level 1 an `agent` device (fence_ipmilan) with a
#      wrong password, level 2 its ipmi device: `vigilctl fence n5 off`
#      (asked on n3) fails at level 1 (logged) and succeeds at level 2.
# Also, first: n1, fenced and powered on again, restarts its vigild and
# rejoins without being fenced again (a new incarnation is a clean node;
# this once failed: core/dc.c node_unclean() compared the wrong incarnation).
# FENCE_IPMI_REJOIN=0 leaves that step out.
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: no ip netns"; exit 77; }
for t in ipmi_sim ipmitool; do
	command -v "$t" >/dev/null || { echo "SKIP: no $t"; exit 77; }
done
[ -x /usr/sbin/fence_ipmilan ] || { echo "SKIP: no fence_ipmilan (fence-agents)"; exit 77; }
[ -x /usr/lib/ocf/resource.d/heartbeat/Dummy ] || { echo "SKIP: no resource-agents"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgfi$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
vg_test_begin fence-ipmi 90

dump_bmcs() {
	local n
	for n in 1 2 3; do
		[ -f "$(vg_bmc_dir "$n")/power.log" ] || continue
		echo "---- BMC of n$n: power $(cat "$(vg_bmc_power_file "$n")"), power.log:"
		grep -v ' get power$' "$(vg_bmc_dir "$n")/power.log"
	done
}
fail() { dump_bmcs; vg_fail "$@"; }

VG_INTERVAL=50 VG_DEADTIME=300
NODES="1 2 3 4 5"
vg_net 5 2
for n in $NODES; do vg_bmc_start "$n" || vg_fail "BMC of n$n did not start"; done
# the alert program: one line per fencing event, from its environment
printf '%s\n' '#!/bin/sh' \
	"echo \"VIGIL_FENCE_TARGET=\$VIGIL_FENCE_TARGET VIGIL_FENCE_RESULT=\$VIGIL_FENCE_RESULT VIGIL_FENCE_DEVICE=\$VIGIL_FENCE_DEVICE VIGIL_FENCE_ACTION=\$VIGIL_FENCE_ACTION VIGIL_NODE=\$VIGIL_NODE\" >> \"$VG_TMP/alerts.log\"" \
	> "$VG_TMP/alert.sh"
chmod 755 "$VG_TMP/alert.sh"
vg_write_config "$VG_TMP/cluster.conf" "
fence_devices = (
$(vg_bmc_fence_conf $NODES),
  { name = \"agent-bad-n5\"; plugin = \"agent\"; targets = [ \"n5\" ];
    params = { agent = \"fence_ipmilan\"; };
    attributes = { ip = \"$(vg_bmc_addr 5)\"; ipport = 623; username = \"$VG_BMC_USER\";
                   password = \"not-the-password\"; lanplus = 1; cipher = 3; }; }
);
fencing = { enabled = true; action = \"off\"; timeout_ms = 15000;
  alert = \"$VG_TMP/alert.sh\";
  levels = ( { node = \"n5\"; level = 1; devices = [ \"agent-bad-n5\" ]; },
             { node = \"n5\"; level = 2; devices = [ \"ipmi-n5\" ]; } ); };
resources = (
  { id = \"d\"; plugin = \"ocf\"; params = { agent = \"heartbeat:Dummy\"; };
    meta = { stickiness = 1000; }; ops = { monitor_interval_ms = 1000; }; }
);
constraints = { location = ( { resource = \"d\"; node = \"n1\"; score = 300; },
                             { resource = \"d\"; node = \"n2\"; score = 200; },
                             { resource = \"d\"; node = \"n3\"; score = 100; } ); };
"
for n in $NODES; do vg_start "$n"; done
for n in $NODES; do vg_wait_eq 15 "node $n members" "1 2 3 4 5" vg_members "$n"; done
vg_wait_eq 15 "d before any failure" n1 vg_rsc_on 1 d

# last_fence N TARGET: "RESULT DEVICE ACTION" of TARGET's last fencing in node N's history.
# fence_count N TARGET RESULT: how many of TARGET's fencings had RESULT.
last_fence() {
	vg_jq "$1" "(['none'] + [('%s %s %s' % (h['result'], h['device'], h['action'])) for h in (s['fencing']['history'] or []) if h['target']=='$2'])[-1]"
}
fence_count() {
	vg_jq "$1" "len([h for h in (s['fencing']['history'] or []) if h['target']=='$2' and h['result']=='$3'])"
}
# last_field N TARGET FIELD: a field of TARGET's last history entry.
last_field() { vg_jq "$1" "[h['$3'] for h in s['fencing']['history'] if h['target']=='$2'][-1]"; }
line_of() { grep -n -m1 -E "$2" "$VG_TMP/n$1.log" | cut -d: -f1; }
fencing_of() {
	vg_status_json "$1" | "$VG_PYTHON" -c 'import json,sys; f=json.load(sys.stdin)["fencing"]; print("pending", f["pending"], "consecutive_failures", f["consecutive_failures"])'
}

# ---- 1. n1's vigild dies: fenced through its BMC before d moves ----------
vg_log "1. kill -9 of n1's vigild (d runs there)"
t0=$(vg_now_ms)
vg_kill 1
vg_wait_eq 15 "d after n1's vigild died (seen by n2)" n2 vg_rsc_on 2 d
t1=$(vg_now_ms)
dc=$(vg_dc 2)
vg_log "d runs on n2 $((t1 - t0)) ms after the kill; DC is n$dc"
case $dc in 2|3|4|5) ;; *) fail "DC after n1's loss: expected one of n2..n5, saw '$dc'" ;; esac
vg_check "BMC of n1: power file" 0 "$(cat "$(vg_bmc_power_file 1)")"
vg_check "BMC of n1: Chassis Control power down received" 1 \
	"$(grep -c ' set power 0$' "$(vg_bmc_dir 1)/power.log")"
vg_check "ipmitool from n2 on n1's BMC" "Chassis Power is off" "$(vg_bmc_power 1 2 status)"
vg_check "processes left in n1's namespace" "" "$(ip netns pids "$(vg_ns 1)")"
vg_check "last fencing of n1 in DC n$dc's history" "ok ipmi-n1 off" "$(last_fence "$dc" n1)"
dur=$(last_field "$dc" n1 duration_ms)
vg_log "fence history of n1: by $(last_field "$dc" n1 by), duration ${dur} ms, detail: $(last_field "$dc" n1 detail)"
case $dur in ''|*[!0-9]*) fail "duration_ms of n1's fencing: expected a number, saw '$dur'" ;; esac
vg_check "who asked for n1's fencing" dc "$(last_field "$dc" n1 by)"
# the alert program ran with the event in its environment
vg_wait 5 "the alert for n1's fencing" grep -q "VIGIL_FENCE_TARGET=n1 VIGIL_FENCE_RESULT=ok" "$VG_TMP/alerts.log" ||
	fail "alert: expected a line 'VIGIL_FENCE_TARGET=n1 VIGIL_FENCE_RESULT=ok' in alerts.log, saw: $(cat "$VG_TMP/alerts.log" 2>/dev/null)"
vg_check "alert's device and action for n1" "VIGIL_FENCE_DEVICE=ipmi-n1 VIGIL_FENCE_ACTION=off" \
	"$(grep "VIGIL_FENCE_TARGET=n1 " "$VG_TMP/alerts.log" | head -1 | grep -o 'VIGIL_FENCE_DEVICE=[^ ]* VIGIL_FENCE_ACTION=[^ ]*')"
c=$(line_of "$dc" "fencer: off n1 through ipmi-n1: confirmed")
st=$(line_of "$dc" "dc: transition [0-9]+: start d on n2 started")
[ -n "$c" ] && [ -n "$st" ] || fail "DC n$dc's log: expected 'fencer: off n1 through ipmi-n1: confirmed' and 'start d on n2 started', saw lines '$c' and '$st'"
[ "$c" -lt "$st" ] || fail "DC n$dc's log: expected the fencing confirmed (line $c) before start d on n2 (line $st)"
grep -E "fencer: off n1|start d on n2" "$VG_TMP/n$dc.log" | head -n 4
for n in 2 3 4 5; do vg_wait_eq 5 "d seen by n$n" n2 vg_rsc_on "$n" d; done

# ---- optional: the fenced node boots again and rejoins -----------------
if [ "${FENCE_IPMI_REJOIN:-1}" != 0 ]; then
	vg_log "1b. n1 powered on again (its BMC), vigild started: it must rejoin"
	vg_check "ipmitool power on n1" "Chassis Power Control: Up/On" "$(vg_bmc_power 1 2 on)"
	vg_start 1
	for n in $NODES; do vg_wait_eq 15 "node $n members after n1 is back" "1 2 3 4 5" vg_members "$n"; done
	sleep 2
	vg_check "BMC of n1: power after the rejoin" 1 "$(cat "$(vg_bmc_power_file 1)")"
	vg_check "d after n1 is back (sticky)" n2 "$(vg_rsc_on 1 d)"
	vg_kill 1
	vg_wait_eq 15 "n1 fenced again after its vigild died" "ok ipmi-n1 off" last_fence 2 n1
fi

# ---- 2. the BMC of n2 is unreachable: no recovery until it answers -------
vg_log "2. BMC of n2 stopped, kill -9 of n2's vigild (d runs there)"
vg_bmc_stop 2
declare -A lines
for n in 3 4 5; do lines[$n]=$(vg_log_lines "$n"); done
t0=$(vg_now_ms)
vg_kill 2
vg_wait 10 "a DC among n3..n5" eval 'case $(vg_dc 3) in 3|4|5) true ;; *) false ;; esac' ||
	fail "no DC among n3..n5: $(vg_summary 3)"
dc=$(vg_dc 3)
# the fencer's job is pending while a request runs (from the kill), then
# the failure is counted and recorded, and the DC retries every 5 s
vg_wait 5 "n$dc shows n2's fencing pending" eval \
	'[ "$(vg_jq "$dc" "any(p[\"target\"]==\"n2\" for p in s[\"fencing\"][\"pending\"])")" = True ]' ||
	fail "DC n$dc: expected n2 in fencing.pending, saw $(fencing_of "$dc")"
vg_log "DC n$dc while trying: $(fencing_of "$dc")"
vg_wait 10 "n$dc reports a failure fencing n2" eval \
	'[ "$(vg_jq "$dc" "s[\"fencing\"][\"consecutive_failures\"] > 0 and any(h[\"target\"]==\"n2\" and h[\"result\"]==\"failed\" for h in s[\"fencing\"][\"history\"] or [])")" = True ]' ||
	fail "DC n$dc: expected consecutive_failures > 0 and a failed fencing of n2 in the history, saw $(fencing_of "$dc")"
vg_log "DC n$dc after the failure: $(fencing_of "$dc")"
err=$(tail -n +"$((lines[$dc] + 1))" "$VG_TMP/n$dc.log" | grep -m1 "fencer: off n2 through ipmi-n2 (level 1) failed:")
[ -n "$err" ] || fail "DC n$dc's log: expected 'fencer: off n2 through ipmi-n2 (level 1) failed: ...'"
vg_log "DC's error: ${err#* fencer: }"
echo "$err" | grep -qE "$(vg_bmc_addr 2) port 623: (unreachable|no answer)" ||
	fail "the error should name the BMC and why: saw '$err'"
# no recovery for at least 5 s after the kill
while [ $(($(vg_now_ms) - t0)) -lt 5500 ]; do
	for n in 3 4 5; do
		[ -e "$(vg_dummy_state "$n" d)" ] && fail "d started on n$n while n2 was not fenced"
	done
	sleep 0.2
done
started=$(tail -n +"$((lines[$dc] + 1))" "$VG_TMP/n$dc.log" | grep -cE "dc: transition [0-9]+: start d on")
vg_check "starts of d logged by DC n$dc while n2's fate is unknown" 0 "$started"
vg_check "BMC of n2: power file while unreachable" 1 "$(cat "$(vg_bmc_power_file 2)")"
vg_log "after $(($(vg_now_ms) - t0)) ms: d not recovered; $(fencing_of "$dc"); DC's view: $(vg_rsc_summary "$dc")"

vg_log "BMC of n2 started again"
vg_bmc_start 2 || fail "BMC of n2 did not restart"
t2=$(vg_now_ms)
vg_wait_eq 15 "d after n2's BMC answers again" n3 vg_rsc_on 3 d
vg_log "d runs on n3 $(($(vg_now_ms) - t2)) ms after the BMC came back"
vg_check "BMC of n2: power file after the retry" 0 "$(cat "$(vg_bmc_power_file 2)")"
vg_check "last fencing of n2" "ok ipmi-n2 off" "$(last_fence "$dc" n2)"
nfail=$(fence_count "$dc" n2 failed)
[ "${nfail:-0}" -ge 1 ] || fail "history of n2: expected at least one failed fencing, saw '$nfail'"
vg_log "history of n2: $nfail failed, then ok in $(last_field "$dc" n2 duration_ms) ms"
vg_check "consecutive_failures after the success" 0 "$(vg_jq "$dc" "s['fencing']['consecutive_failures']")"
vg_check "pending after the success" "[]" "$(vg_jq "$dc" "s['fencing']['pending']")"
vg_check "processes left in n2's namespace" "" "$(ip netns pids "$(vg_ns 2)")"
c=$(line_of "$dc" "fencer: off n2 through ipmi-n2: confirmed")
st=$(line_of "$dc" "dc: transition [0-9]+: start d on n3 started")
[ -n "$c" ] && [ -n "$st" ] && [ "$c" -lt "$st" ] ||
	fail "DC n$dc's log: expected n2's fencing confirmed (line '$c') before start d on n3 (line '$st')"

# ---- 3. levels: level 1 (fence_ipmilan, wrong password) fails, level 2 ---
vg_log "3. vigilctl fence n5 off on n3 (n5: level 1 fence_ipmilan with a wrong password, level 2 ipmi)"
lines[3]=$(vg_log_lines 3)
t0=$(vg_now_ms)
out=$(timeout 40 "$VIGILCTL" -s "$(vg_sock 3)" fence n5 off 2>&1)
vg_log "vigilctl fence n5 off (exit $?, $(($(vg_now_ms) - t0)) ms): $out"
vg_wait_eq 30 "last fencing of n5 (n3's view)" "ok ipmi-n5 off" last_fence 3 n5
vg_log "fenced in $(($(vg_now_ms) - t0)) ms; history entry: $(vg_jq 3 "[h for h in s['fencing']['history'] if h['target']=='n5'][-1]")"
vg_check "BMC of n5: power file" 0 "$(cat "$(vg_bmc_power_file 5)")"
vg_check "ipmitool from n3 on n5's BMC" "Chassis Power is off" "$(vg_bmc_power 5 3 status)"
vg_check "who asked for n5's fencing" operator "$(last_field 3 n5 by)"
l1=$(tail -n +"$((lines[3] + 1))" "$VG_TMP/n3.log" | grep -m1 "fencer: off n5 through agent-bad-n5 (level 1) failed:")
[ -n "$l1" ] || fail "n3's log: expected 'fencer: off n5 through agent-bad-n5 (level 1) failed: ...'"
vg_log "level 1: ${l1#* fencer: }"
l2=$(tail -n +"$((lines[3] + 1))" "$VG_TMP/n3.log" | grep -m1 -E "fencer: off n5 through ipmi-n5 \(level 2\)$")
[ -n "$l2" ] || fail "n3's log: expected 'fencer: off n5 through ipmi-n5 (level 2)'"
exit 0
