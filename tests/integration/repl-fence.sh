#!/bin/bash
# repl-fence: replication with fencing enabled.  The requirement: when the
# primary's node is lost, the survivor is promoted only after fencing
# confirmed the lost node down.
#
# A replicated store (plugin repl driving vigil-repld, protocol C) as a
# promotable clone on n1 and n3 of a 3-node cluster, a VIP colocated with
# the promoted instance, fencing on (action off) with one `ipmi` device per
# replica node against a simulated BMC (ipmi_sim, lib.sh vg_bmc_*: its
# power off kills everything in the node's namespace).  n2 never runs the
# store: losing n1 (the DC) makes n2 the DC, which fences n1 and asks n3 to
# promote over the network; losing n3, the DC n1 is also the survivor.  A
# client (n4) writes numbered, checksummed 4 KiB FUA records through NBD on
# the VIP and logs every acknowledged one (repl-writer.py).
#
# Each cycle loses the primary's node p without a power off: kill -9 of its
# vigild and of its vigil-repld; its links, its VIP and everything else stay
# up (membership sees it silent: unclean).
#   kill:     the DC fences p through its BMC; the survivor q's helper logs
#             its promotion ("ctl: role primary", wall clock) strictly after
#             the fence history's success (at_ms, wall clock), and the DC's
#             log has "fencer: off p through ipmi-p: confirmed" before
#             "promote r on q started"; the promotion also comes after the
#             BMC's own log says it powered p off.
#   bmc-down: p's BMC is stopped first (ICMP port unreachable).  For at
#             least 2 x fencing.timeout_ms + 2 s and two failed attempts,
#             q's helper stays secondary (no "role primary" logged), its NBD
#             export refuses GO, q has not taken the VIP, no record is
#             acknowledged, the BMC has not powered p off, and the DC shows
#             the failure (fencing history, consecutive_failures, "FENCING
#             FAILED" in vigilctl status).
#             Then the BMC is started again: the retry fences p, and only
#             then is q promoted (same two checks as above).
#   restart:  as bmc-down, but then p's vigild is started again with the
#             BMC still down and p never powered off (its VIP still up): p
#             rejoins as a clean node (new incarnation), its probes find its
#             helper gone: the peer known stopped, r may be promoted without
#             a fence.  Whichever node the policy promotes (p, holding the
#             VIP, in practice), its helper logs the promotion after p logged
#             "every resource probed", the other one none since the kill; no
#             successful fencing of p, one VIP, a resync, and no node's
#             status still reports a fencing failure (the former DC's did:
#             core/fencer.c kept the count of a node back as a member).
# After each kill or bmc-down cycle p is powered on through its BMC
# (ipmitool), its vigild started: it rejoins without being fenced again,
# its helper, a crashed primary, discards its in-flight writes and resyncs
# from q as secondary; no split brain on either side.  At the end every acknowledged record is
# read back through the VIP: none may be lost.
# The default plan loses each replica node once per kind, with the DC lost
# too (n1) or the DC being the survivor (n3 lost), then n1 once more with
# restart.  REPL_FENCE_PLAN: the cycles, in order (default "kill kill
# bmc-down bmc-down restart").
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: no ip netns"; exit 77; }
for t in ipmi_sim ipmitool; do
	command -v "$t" >/dev/null || { echo "SKIP: no $t"; exit 77; }
done
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgrx$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
vg_test_begin repl-fence 120

REPLD="$TOP_BUILDDIR/plugins/replication/block/vigil-repld"
WRITER="$TOP_SRCDIR/tests/integration/repl-writer.py"
[ -x "$REPLD" ] || vg_fail "no $REPLD: build the tree first"
VIP=198.18.0.100
STORE_MB=16
FENCE_TIMEOUT_MS=3000
HOLD_MS=$((2 * FENCE_TIMEOUT_MS + 2000))
PLAN=${REPL_FENCE_PLAN:-kill kill bmc-down bmc-down restart}

dump_bmcs() {
	local n
	for n in 1 3; do
		[ -f "$(vg_bmc_dir "$n")/power.log" ] || continue
		echo "---- BMC of n$n: power $(cat "$(vg_bmc_power_file "$n")"), power.log:"
		grep -v ' get power$' "$(vg_bmc_dir "$n")/power.log" | tail -n 10
	done
	for n in 1 3; do
		[ -f "$VG_TMP/n$n.repld.log" ] || continue
		echo "---- n$n.repld.log (last 15 lines)"
		tail -n 15 "$VG_TMP/n$n.repld.log"
	done
}
fail() { dump_bmcs; vg_fail "$@"; }

new_store() { rm -f "$VG_TMP/n$1.store" "$VG_TMP/n$1.store.meta"; truncate -s ${STORE_MB}M "$VG_TMP/n$1.store"; }
new_store 1
new_store 3

VG_INTERVAL=50 VG_DEADTIME=300
VG_BMC_TIMEOUT_MS=$FENCE_TIMEOUT_MS VG_BMC_RETRIES=2
vg_net 3 2 1
for n in 1 3; do vg_bmc_start "$n" || vg_fail "BMC of n$n did not start"; done
vg_write_config "$VG_TMP/cluster.conf" "
fence_devices = (
$(vg_bmc_fence_conf 1 3)
);
fencing = { enabled = true; action = \"off\"; timeout_ms = $FENCE_TIMEOUT_MS; };
resources = (
  { id = \"r\"; plugin = \"repl\";
    params = { helper = \"$REPLD\"; store = \"$VG_TMP/%n.store\";
               addresses = \"n1=198.18.0.1:7788 n3=198.18.0.3:7788\";
               nbd = \"0.0.0.0:10809\"; control = \"$VG_TMP/%n.ctl\";
               pidfile = \"/run/vigil/repl.pid\"; log = \"$VG_TMP/%n.repld.log\";
               timeout_ms = 1000; initial_primary = \"n1\"; };
    ops = { monitor_interval_ms = 1000; }; },
  { id = \"vip\"; plugin = \"ipaddr\"; params = { address = \"$VIP/24\"; interface = \"eth0\"; arp_interval_ms = 50; }; }
);
clones = ( { id = \"rc\"; resource = \"r\"; max = 2; promotable = true; promoted_max = 1; } );
constraints = {
  location = ( { resource = \"rc\"; node = \"n2\"; score = \"-INFINITY\"; } );
  colocation = ( { resource = \"vip\"; with = \"rc\"; with_role = \"promoted\"; score = \"INFINITY\"; } );
  order = ( { first = \"rc\"; first_action = \"promote\"; then = \"vip\"; then_action = \"start\"; } );
};
"
for n in 1 2 3; do vg_start "$n"; done
for n in 1 2 3; do vg_wait_eq 15 "node $n members" "1 2 3" vg_members "$n"; done

ctl() { vg_repl_ctl "$@"; }
field() { vg_repl_field "$@"; }
synced() { vg_repl_synced "$@"; }
roles() { vg_repl_roles "$1" r; }
acked() { wc -l < "$VG_TMP/acked" 2>/dev/null || echo 0; }
now_wall_ms() { date +%s%3N; }
# gone PID: the process has exited.  The helper is nobody's child here (its
# launcher exited): once killed it is a zombie until init reaps it, which
# may take a while, and kill -0 still succeeds on a zombie.
gone() {
	local st
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -z "$st" ] || [ "$st" = Z ] || [ "$st" = X ]
}
# repld_pid N: the helper's pid from node N's pidfile.
repld_pid() { local pid rest; read -r pid rest < "$(vg_rundir "$1")/repl.pid" 2>/dev/null && echo "$pid"; }
# fence_at N TARGET RESULT SINCE_MS: wall clock (at_ms) of the first fencing
# of TARGET with RESULT at or after SINCE_MS in node N's fence history.
fence_at() {
	vg_jq "$1" "([h['at_ms'] for h in (s['fencing']['history'] or []) if h['target']=='$2' and h['result']=='$3' and h['at_ms'] >= $4] + [''])[0]"
}
# fence_n N TARGET RESULT SINCE_MS: how many such fencings.
fence_n() {
	vg_jq "$1" "len([h for h in (s['fencing']['history'] or []) if h['target']=='$2' and h['result']=='$3' and h['at_ms'] >= $4])"
}
# promoted_at N SINCE_MS: wall clock of the first "ctl: role primary" in
# node N's helper log at or after SINCE_MS (its lines start "SECONDS.MS ").
promoted_at() {
	awk -v since="$2" '/ vigil-repld\[r\]: ctl: role primary$/ {
		split($1, t, "."); ms = t[1] * 1000 + t[2]
		if (ms >= since) { printf "%d\n", ms; exit } }' "$VG_TMP/n$1.repld.log"
}
# first_at SINCE_MS: the wall clock of the first of the lines read (each
# starting with the local HH:MM:SS.mmm, as vigild's and the BMC's logs)
# at or after SINCE_MS.  The lines must all be written after SINCE_MS - 60 s
# (callers skip older ones by position): an earlier clock time means the
# day changed.
first_at() {
	local hms ms day
	day=$(date -d "@$(($1 / 1000))" +%F)
	while read -r hms _; do
		ms=$(date -d "$day $hms" +%s%3N) || continue
		[ "$ms" -lt $(($1 - 60000)) ] && ms=$((ms + 86400000)) # the day changed
		[ "$ms" -ge "$1" ] && { echo "$ms"; return; }
	done
}
# bmc_off_at N FROM SINCE_MS: the first "powered off" after line FROM of
# node N's BMC log, at or after SINCE_MS.
bmc_off_at() { tail -n +"$(($2 + 1))" "$(vg_bmc_dir "$1")/power.log" | grep ' powered off ' | first_at "$3"; }
# probed_at N FROM SINCE_MS: the first "every resource probed" after line
# FROM of node N's log, at or after SINCE_MS.
probed_at() { tail -n +"$(($2 + 1))" "$VG_TMP/n$1.log" | grep ' executor: every resource probed$' | first_at "$3"; }
# nbd_go N: from the client, the answer of node N's helper to NBD GO:
# "served", "refused 0x..." or "no connection: ...".
nbd_go() {
	ip netns exec "$(vg_ns 4)" "$VG_PYTHON" -c '
import socket, struct, sys
def recvn(s, n):
    b = b""
    while len(b) < n:
        d = s.recv(n - len(b))
        if not d:
            raise EOFError("closed")
        b += d
    return b
try:
    s = socket.create_connection((sys.argv[1], 10809), timeout=2)
    recvn(s, 18)
    s.sendall(struct.pack(">I", 3) + struct.pack(">QII", 0x49484156454F5054, 7, 6) + struct.pack(">IH", 0, 0))
    while True:
        _, _, rtype, rlen = struct.unpack(">QIII", recvn(s, 20))
        recvn(s, rlen)
        if rtype & 0x80000000:
            print("refused %#x" % rtype)
            break
        if rtype == 1:
            print("served")
            break
except Exception as e:
    print("no connection: %s" % e)' "198.18.0.$1"
}
# dc_order DC FROM P Q: "ok" when, in DC's log after line FROM, p's fencing
# was confirmed before the promote of r on q started; else what was seen.
dc_order() {
	local c st
	c=$(tail -n +"$(($2 + 1))" "$VG_TMP/n$1.log" | grep -n -m1 "fencer: off n$3 through ipmi-n$3: confirmed" | cut -d: -f1)
	st=$(tail -n +"$(($2 + 1))" "$VG_TMP/n$1.log" | grep -n -m1 -E "dc: transition [0-9]+: promote r on n$4 started" | cut -d: -f1)
	if [ -z "$st" ]; then
		echo "no 'promote r on n$4 started' in n$1's log"
	elif [ -z "$c" ]; then
		echo "'promote r on n$4 started' (line $st) without 'fencer: off n$3 through ipmi-n$3: confirmed'"
	elif [ "$c" -ge "$st" ]; then
		echo "'promote r on n$4 started' (line $st) before 'fencer: off n$3 ... confirmed' (line $c)"
	else
		echo ok
	fi
}

vg_wait_eq 20 "r promoted on n1, started on n3" "n1:promoted n3:started" roles 2
vg_wait_eq 10 "vip on n1" "n1" vg_rsc_on 2 vip
t0=$(vg_now_ms)
vg_wait 20 "initial sync n1 -> n3" synced 1 || fail "no initial sync: $(ctl 1 status)"
vg_log "initial full sync of ${STORE_MB} MiB in $(($(vg_now_ms) - t0)) ms: $(ctl 1 status)"
vg_watch_start 1 2 3

: > "$VG_TMP/acked"
ip netns exec "$(vg_ns 4)" "$VG_PYTHON" "$WRITER" write "$VIP" 10809 "$VG_TMP/acked" "$VG_TMP/stop" \
	> "$VG_TMP/writer.log" 2>&1 </dev/null &
WRITER_PID=$!
VG_PIDS="$VG_PIDS $WRITER_PID"
vg_wait 10 "the writer's first 100 records" eval '[ "$(acked)" -ge 100 ]' ||
	fail "writer: $(tail -n 5 "$VG_TMP/writer.log")"

# hold_while_unfenced C P Q T_KILL CUT DC: the BMC of P does not answer;
# for HOLD_MS after the kill and until two fencing attempts failed, nothing
# may promote Q or acknowledge a write.
hold_while_unfenced() {
	local c=$1 p=$2 q=$3 t_kill=$4 cut=$5 dc=$6 end nfail=0 probed="" human
	end=$(($(now_wall_ms) + HOLD_MS + 12000))
	while :; do
		nfail=$(fence_n 2 "n$p" failed "$t_kill")
		[ $(($(now_wall_ms) - t_kill)) -ge "$HOLD_MS" ] && [ "${nfail:-0}" -ge 2 ] && [ -n "$probed" ] && break
		[ "$(now_wall_ms)" -lt "$end" ] ||
			fail "cycle $c: expected two failed fencings of n$p within $((HOLD_MS + 12000)) ms, saw ${nfail:-none}"
		vg_check "cycle $c: n$q's helper role while n$p is not fenced" secondary "$(field "$q" role)"
		[ -z "$(promoted_at "$q" "$t_kill")" ] ||
			fail "cycle $c: n$q's helper was promoted while n$p was not fenced: $(grep 'role primary' "$VG_TMP/n$q.repld.log" | tail -n 1)"
		vg_check "cycle $c: records acknowledged while n$p is not fenced" "$cut" "$(acked)"
		vg_check "cycle $c: power of n$p (its BMC is down)" 1 "$(cat "$(vg_bmc_power_file "$p")")"
		ip -n "$(vg_ns "$q")" -4 addr show dev eth0 | grep -qF " $VIP/" &&
			fail "cycle $c: n$q has the VIP while n$p is not fenced: $(ip -n "$(vg_ns "$q")" -4 addr show dev eth0 | grep inet)"
		if [ -z "$probed" ] && [ "${nfail:-0}" -ge 1 ]; then
			vg_check "cycle $c: NBD GO on n$q while n$p is not fenced" "refused 0x80000002" "$(nbd_go "$q")"
			human=$("$VIGILCTL" -s "$(vg_sock "$dc")" status 2>&1)
			echo "$human" | grep -q "^FENCING FAILED [0-9]* time(s) in a row" ||
				fail "cycle $c: expected 'FENCING FAILED n time(s) in a row' in n$dc's vigilctl status, saw: $(echo "$human" | grep -i fenc)"
			[ "$(vg_jq "$dc" "s['fencing']['consecutive_failures'] > 0")" = True ] ||
				fail "cycle $c: DC n$dc: expected consecutive_failures > 0, saw $(vg_jq "$dc" "s['fencing']")"
			vg_log "cycle $c: DC n$dc shows: $(echo "$human" | grep -m1 '^FENCING FAILED'); last error: $(vg_jq 2 "[h['detail'] for h in s['fencing']['history'] if h['target']=='n$p'][-1]")"
			probed=1
		fi
		sleep 0.2
	done
	vg_log "cycle $c: $(($(now_wall_ms) - t_kill)) ms after the kill, $nfail failed fencings of n$p: n$q still secondary, NBD refused, no write acknowledged"
}

# rejoin C P Q DISCARDS [SINCE]: P is powered on through its BMC, its
# vigild started (or, with SINCE, it was started at SINCE without a power
# cycle): it rejoins without being fenced, and resyncs from Q as secondary,
# its helper logging one more discard than DISCARDS.
rejoin() {
	local c=$1 p=$2 q=$3 discards=$4 since=${5:-} t1 want
	t1=$(vg_now_ms)
	if [ -z "$since" ]; then
		since=$(now_wall_ms)
		vg_check "cycle $c: ipmitool power on n$p" "Chassis Power Control: Up/On" "$(vg_bmc_power "$p" 2 on)"
		vg_start "$p"
	fi
	vg_wait 30 "cycle $c: n$p back and in sync" synced "$q" ||
		fail "cycle $c: n$p did not resync: $(ctl "$q" status)"
	[ "$(grep -c "crashed primary: DISCARDING THE LOCAL NODE" "$VG_TMP/n$p.repld.log")" -gt "$discards" ] ||
		fail "cycle $c: n$p resynced without discarding its in-flight writes"
	want="n$p:started n$q:promoted"
	[ "$q" -lt "$p" ] && want="n$q:promoted n$p:started"
	vg_wait_eq 10 "cycle $c: roles after n$p is back" "$want" roles 2
	vg_check "cycle $c: n$p (rejoined) fenced again" 0 "$(fence_n 2 "n$p" ok "$since")"
	vg_check "cycle $c: power of n$p after the rejoin" 1 "$(cat "$(vg_bmc_power_file "$p")")"
	vg_check "cycle $c: split brain on n$q:n$p" "0:0" "$(field "$q" split_brain):$(field "$p" split_brain)"
	vg_log "cycle $c: n$p rejoined and resynced in $(($(vg_now_ms) - t1)) ms"
}

# restart_unfenced C P Q T_KILL CUT: P was not fenced (its BMC is down);
# its vigild is started again, without a power cycle: P's state becomes
# known (its helper gone: r stopped there; its VIP still up), and r may be
# promoted without a fence, but only after P's probes.  Which node the
# policy promotes is its choice (P, with the VIP, usually wins again): the
# test takes either, sets NEWP to it, and checks one primary.
restart_unfenced() {
	local c=$1 p=$2 q=$3 t_kill=$4 cut=$5 t_back t_probed t_prom gap n other dc r
	t_back=$(now_wall_ms)
	vg_log "cycle $c: n$p's vigild started again, its BMC still down (no power cycle)"
	vg_start "$p"
	vg_wait 15 "cycle $c: r promoted on one node, started on the other" eval \
		'r=$(roles 2); [ "$r" = "n1:promoted n3:started" ] || [ "$r" = "n1:started n3:promoted" ]' ||
		fail "cycle $c: expected r promoted on n1 or n3 and started on the other, saw '$(roles 2)'"
	NEWP=$(roles 2 | sed -n 's/.*n\([13]\):promoted.*/\1/p')
	other=$((4 - NEWP))
	t_prom=$(promoted_at "$NEWP" "$t_kill")
	[ -n "$t_prom" ] || fail "cycle $c: no 'ctl: role primary' in n$NEWP's helper log since the kill"
	[ -z "$(promoted_at "$other" "$t_kill")" ] ||
		fail "cycle $c: n$other's helper was promoted too since the kill: $(grep 'role primary' "$VG_TMP/n$other.repld.log" | tail -n 1)"
	t_probed=$(probed_at "$p" "${lines[$p]}" "$t_back")
	[ -n "$t_probed" ] || fail "cycle $c: no 'every resource probed' in n$p's log since its restart"
	[ "$t_prom" -gt "$t_probed" ] ||
		fail "cycle $c: expected n$NEWP promoted after n$p's probes ($t_probed), saw it promoted at $t_prom"
	vg_check "cycle $c: successful fencings of n$p" 0 "$(fence_n 2 "n$p" ok "$t_kill")"
	vg_check "cycle $c: power of n$p (never fenced)" 1 "$(cat "$(vg_bmc_power_file "$p")")"
	vg_wait_eq 10 "cycle $c: vip on n$NEWP" "n$NEWP" vg_rsc_on 2 vip
	vg_wait 5 "cycle $c: the VIP gone from n$other" eval '! ip -n "$(vg_ns "$other")" -4 addr show dev eth0 | grep -qF " $VIP/"' ||
		fail "cycle $c: n$other has the VIP too: $(ip -n "$(vg_ns "$other")" -4 addr show dev eth0 | grep inet)"
	vg_wait 15 "cycle $c: writes resume" eval '[ "$(acked)" -gt $((cut + 10)) ]' ||
		fail "cycle $c: writer stuck at $(acked): $(tail -n 5 "$VG_TMP/writer.log")"
	gap=$(($(now_wall_ms) - t_kill))
	vg_wait 30 "cycle $c: n$NEWP primary and n$other in sync" synced "$NEWP" ||
		fail "cycle $c: no resync: $(ctl "$NEWP" status)"
	vg_check "cycle $c: split brain on n$NEWP:n$other" "0:0" "$(field "$NEWP" split_brain):$(field "$other" split_brain)"
	# nothing waits for a fencing any more: no node's status may say so
	dc=$(vg_dc 2)
	for n in 1 2 3; do
		vg_check "cycle $c: n$n's fencing.pending after n$p came back" "[]" "$(vg_jq "$n" "s['fencing']['pending']")"
		"$VIGILCTL" -s "$(vg_sock "$n")" status 2>&1 | grep -q "^FENCING FAILED" &&
			fail "cycle $c: n$n's vigilctl status after n$p came back: expected no FENCING FAILED line (nothing waits for a fencing), saw: $("$VIGILCTL" -s "$(vg_sock "$n")" status 2>&1 | grep '^FENCING')"
	done
	fig="restart->probed $((t_probed - t_back)) ms, probed->promote of n$NEWP $((t_prom - t_probed)) ms, no fencing"
	vg_log "cycle $c (restart): DC n$dc, $fig, writes resumed ${gap} ms after the kill"
	summary="$summary
  cycle $c (restart, n$p lost, then DC n$dc): $fig, writes resumed after $gap ms"
	vg_bmc_start "$p" || fail "cycle $c: BMC of n$p did not restart"
}

p=1 c=0 summary=""
for mode in $PLAN; do
	c=$((c + 1))
	q=$((4 - p))
	case $mode in kill|bmc-down|restart) ;; *) vg_fail "REPL_FENCE_PLAN: expected kill, bmc-down or restart, saw '$mode'" ;; esac
	sleep 0.5
	for n in 1 2 3; do lines[$n]=$(vg_log_lines "$n"); done
	bmc_lines=$(cat "$(vg_bmc_dir "$p")/power.log" 2>/dev/null | wc -l)
	discards=$(grep -c "crashed primary: DISCARDING THE LOCAL NODE" "$VG_TMP/n$p.repld.log")
	[ "$mode" = kill ] || vg_bmc_stop "$p"
	rpid=$(repld_pid "$p")
	[ -n "$rpid" ] && ! gone "$rpid" || fail "cycle $c: no live helper in n$p's pidfile"
	vg_log "cycle $c ($mode): kill -9 of n$p's vigild and vigil-repld (primary) at record $(acked)"
	t_kill=$(now_wall_ms)
	kill -KILL "$(vg_pid "$p")" "$rpid"
	vg_kill "$p"
	vg_wait 2 "n$p's helper gone" gone "$rpid" ||
		fail "cycle $c: helper $rpid survived SIGKILL: state $(sed 's/.*) //' "/proc/$rpid/stat" 2>/dev/null | cut -d' ' -f1)"
	sleep 0.2
	cut=$(acked)
	vg_wait 5 "cycle $c: a DC other than n$p" eval 'dc=$(vg_dc 2); [ -n "$dc" ] && [ "$dc" != None ] && [ "$dc" != "$p" ]' ||
		fail "cycle $c: no DC after n$p's loss: $(vg_summary 2)"
	dc=$(vg_dc 2)
	[ "$mode" = kill ] || hold_while_unfenced "$c" "$p" "$q" "$t_kill" "$cut" "$dc"
	if [ "$mode" = restart ]; then
		restart_unfenced "$c" "$p" "$q" "$t_kill" "$cut"
		p=$NEWP
		continue
	fi
	if [ "$mode" = bmc-down ]; then
		vg_bmc_start "$p" || fail "cycle $c: BMC of n$p did not restart"
		t_bmc=$(now_wall_ms)
	fi
	vg_wait 15 "cycle $c: n$p fenced" eval '[ -n "$(fence_at 2 n$p ok $t_kill)" ]' ||
		fail "cycle $c: no successful fencing of n$p: $(vg_jq 2 "s['fencing']")"
	t_fence=$(fence_at 2 "n$p" ok "$t_kill")
	vg_wait_eq 15 "cycle $c: r promoted on n$q" "n$q:promoted" roles "$q"
	t_prom=$(promoted_at "$q" "$t_kill")
	[ -n "$t_prom" ] || fail "cycle $c: no 'ctl: role primary' in n$q's helper log since the kill"
	[ "$t_prom" -gt "$t_fence" ] ||
		fail "cycle $c: expected n$q promoted after n$p's fencing succeeded ($t_fence), saw it promoted at $t_prom"
	t_off=$(bmc_off_at "$p" "$bmc_lines" "$t_kill")
	[ -n "$t_off" ] || fail "cycle $c: no 'powered off' in n$p's BMC log since the kill"
	[ "$t_prom" -gt "$t_off" ] ||
		fail "cycle $c: expected n$q promoted after n$p's BMC powered it off ($t_off), saw it promoted at $t_prom"
	if [ "$mode" = bmc-down ]; then
		[ "$t_fence" -gt "$t_bmc" ] ||
			fail "cycle $c: expected n$p's fencing to succeed after its BMC came back ($t_bmc), saw it at $t_fence"
	fi
	res=$(dc_order "$dc" "${lines[$dc]}" "$p" "$q")
	vg_check "cycle $c: DC n$dc's order of fence and promote" ok "$res"
	vg_check "cycle $c: power of n$p" 0 "$(cat "$(vg_bmc_power_file "$p")")"
	vg_check "cycle $c: processes left in n$p's namespace" "" "$(ip netns pids "$(vg_ns "$p")")"
	vg_wait_eq 10 "cycle $c: vip on n$q" "n$q" vg_rsc_on "$q" vip
	vg_wait 15 "cycle $c: writes resume" eval '[ "$(acked)" -gt $((cut + 10)) ]' ||
		fail "cycle $c: writer stuck at $(acked): $(tail -n 5 "$VG_TMP/writer.log")"
	gap=$(($(now_wall_ms) - t_kill))
	fig="kill->fence $((t_fence - t_kill)) ms, BMC power off->promote $((t_prom - t_off)) ms, fence->promote $((t_prom - t_fence)) ms"
	[ "$mode" = bmc-down ] && fig="$fig, BMC back->fence $((t_fence - t_bmc)) ms, $(fence_n 2 "n$p" failed "$t_kill") failed fencings"
	vg_log "cycle $c ($mode): DC n$dc, $fig, writes resumed ${gap} ms after the kill"
	summary="$summary
  cycle $c ($mode, n$p lost, DC n$dc): $fig, writes resumed after $gap ms"
	rejoin "$c" "$p" "$q" "$discards"
	p=$q
done

touch "$VG_TMP/stop"
vg_wait 10 "the writer to stop" eval '! kill -0 $WRITER_PID 2>/dev/null' || fail "writer did not stop"
wait "$WRITER_PID" 2>/dev/null
res=$(ip netns exec "$(vg_ns 4)" timeout 30 "$VG_PYTHON" "$WRITER" verify "$VIP" 10809 "$VG_TMP/acked") ||
	fail "acknowledged records lost: $res"
case "$res" in "acked "*" lost 0") ;; *) fail "verify: expected 0 lost, saw '$res'" ;; esac
vg_watch_check
for n in 1 3; do
	sb=$(grep -c "SPLIT BRAIN" "$VG_TMP/n$n.repld.log")
	vg_check "lines saying SPLIT BRAIN in n$n's helper log" 0 "$sb"
done
vg_log "$c cycles:$summary"
vg_log "verify: $res"
exit 0
