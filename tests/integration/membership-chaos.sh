#!/bin/bash
# membership-chaos: three nodes on one link, the chaos transport wrapping
# udp-ucast (interval 50 ms, deadtime 500 ms).
#  1. loss_pct 20 (each way: ~36% of frames lost end to end): for 20 s the
#     view stays [1 2 3] on every node (sampled every 200 ms) with one view
#     id, and no node is "lost on all links"; at close every node's chaos
#     counters show frames dropped.
#  2. dup_pct 30 and reorder_pct 30, no loss: for 20 s nothing changes (same
#     view id, no restart, no loss of a node), and every node's frame
#     counters show the copies dropped as replays.
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: ip netns unavailable"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgmc$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
vg_test_begin membership-chaos 150

HOLD_S=20

# write_config FILE CHAOS_PARAMS: as vg_write_config, with one chaos link.
write_config() {
	local f=$1 chaos=$2 n
	head -c 64 /dev/urandom > "$VG_TMP/authkey" && chmod 600 "$VG_TMP/authkey" ||
		vg_fail "cannot write $VG_TMP/authkey"
	{
		echo "cluster = { name = \"test\"; id = 77; key_file = \"$VG_TMP/authkey\"; };"
		echo "logging = { level = \"info\"; };"
		echo "membership = { interval_ms = 50; deadtime_ms = 500; };"
		echo "state_dir = \"$VG_TMP/state\";"
		echo "nodes = ("
		for n in 1 2 3; do
			echo "  { id = $n; name = \"n$n\"; addresses = [ \"198.18.0.$n\" ]; }$([ "$n" -lt 3 ] && echo ,)"
		done
		echo ");"
		echo "links = ("
		echo "  { name = \"ring0\"; plugin = \"chaos\";"
		echo "    params = { plugin = \"udp-ucast\"; $chaos };"
		echo "    attributes = { port = 5405; }; }"
		echo ");"
	} > "$f"
}

# hold SECONDS VIEW: sample every node every 200 ms for SECONDS; fail on any
# sample whose members are not "1 2 3" or whose view id is not VIEW.
hold() {
	local out
	out=$("$VG_PYTHON" - "$VIGILCTL" "$1" "$2" "$(vg_sock 1)" "$(vg_sock 2)" "$(vg_sock 3)" <<'PY'
import json, subprocess, sys, time
ctl, secs, view, socks = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
end, n, bad = time.monotonic() + secs, 0, []
while time.monotonic() < end:
    t0 = time.monotonic()
    for i, sock in enumerate(socks, 1):
        try:
            p = subprocess.run([ctl, "-s", sock, "--json", "status"], capture_output=True, timeout=2)
            s = json.loads(p.stdout)
            got = (" ".join(str(m) for m in s["view"]["members"]), s["view"]["id"])
        except Exception as e:
            got = ("no answer: %s" % e, None)
        n += 1
        if got != ("1 2 3", view):
            bad.append("%.1fs n%d: members '%s' view %s" % (secs - (end - time.monotonic()), i, got[0], got[1]))
    time.sleep(max(0.0, 0.2 - (time.monotonic() - t0)))
print("%d samples, %d bad%s" % (n, len(bad), (": " + "; ".join(bad[:5])) if bad else ""))
sys.exit(1 if bad else 0)
PY
) || vg_fail "membership over ${1}s: expected members '1 2 3' and view $2 in every sample, saw: $out"
	vg_log "held for ${1}s: $out"
}

# form: start the three nodes on $VG_TMP/cluster.conf, wait for one view.
form() {
	local n
	for n in 1 2 3; do vg_start "$n"; done
	for n in 1 2 3; do
		vg_wait_eq 15 "node $n members" "1 2 3" vg_members "$n"
	done
	vg_wait_eq 5 "same view id on nodes 1 2 3" yes vg_views_agree 1 2 3
	vg_log "formed: $(vg_summary 1)"
}

# stop: SIGTERM every node (their chaos instances log counters at close).
stop_all() {
	local n
	for n in 1 2 3; do vg_kill "$n" TERM; done
}

# no_line PATTERN WHAT: no node's log has PATTERN.
no_line() {
	local n
	for n in 1 2 3; do
		! grep -aq "$1" "$VG_TMP/n$n.log" ||
			vg_fail "node $n: expected no '$2' line, saw: $(grep -a "$1" "$VG_TMP/n$n.log" | head -n 3)"
	done
}

# chaos_counter N DIR FIELD: a counter of node N's last chaos close line.
chaos_counter() {
	grep -a "chaos: $2: frames in" "$VG_TMP/n$1.log" | tail -n 1 |
		sed -n "s/.* $3 \([0-9]*\).*/\1/p"
}

vg_net 3 1

# ---- 1. 20% loss each way
write_config "$VG_TMP/cluster.conf" "loss_pct = 20; seed = 0;"
form
view=$(vg_view_id 1)
hold "$HOLD_S" "$view"
no_line "lost on all links" "lost on all links"
stop_all
for n in 1 2 3; do
	d=$(chaos_counter "$n" rx dropped)
	t=$(chaos_counter "$n" tx dropped)
	[ "${d:-0}" -gt 0 ] && [ "${t:-0}" -gt 0 ] ||
		vg_fail "node $n: expected chaos to have dropped frames both ways, saw rx '$d' tx '$t': $(grep -a 'chaos: ' "$VG_TMP/n$n.log" | tail -n 3)"
	vg_log "node $n: $(grep -a 'chaos: rx: frames in' "$VG_TMP/n$n.log" | tail -n 1 | sed 's/.*chaos: //')"
	mv "$VG_TMP/n$n.log" "$VG_TMP/n$n.loss.log"
done

# ---- 2. duplication and reordering, no loss
write_config "$VG_TMP/cluster.conf" "dup_pct = 30; reorder_pct = 30;"
form
view=$(vg_view_id 1)
hold "$HOLD_S" "$view"
no_line "lost on all links" "lost on all links"
no_line "restarted: incarnation" "node N restarted"
for n in 1 2 3; do
	r=$(vg_drops "$n" replayed)
	a=$(vg_accepted "$n")
	[ "${r:-0}" -gt 0 ] ||
		vg_fail "node $n: expected frames dropped as replayed copies, saw '$r' (frames: $(vg_jq "$n" "s['frames']"))"
	vg_log "node $n: accepted $a, replayed copies dropped $r, link copies $(vg_jq "$n" "s['frames']['link_copies']")"
done
stop_all
for n in 1 2 3; do
	u=$(chaos_counter "$n" rx duplicated)
	o=$(chaos_counter "$n" rx reordered)
	[ "${u:-0}" -gt 0 ] && [ "${o:-0}" -gt 0 ] ||
		vg_fail "node $n: expected chaos to have duplicated and reordered frames, saw '$u' and '$o'"
done
exit 0
