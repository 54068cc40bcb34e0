#!/bin/bash
# rsc-promotable: a promotable clone of ocf:pacemaker:Stateful (promoted_max
# 1) on 3 nodes: one instance promoted, two started (the agent's own state
# files say so too).  The node of the promoted instance loses power: one of
# the two survivors must be promoted, the other stay started.  Never two
# promoted at once in any node's status.
[ "$(id -u)" = 0 ] || { echo "SKIP: not root"; exit 77; }
ip netns list >/dev/null 2>&1 || { echo "SKIP: no ip netns"; exit 77; }
[ -x /usr/lib/ocf/resource.d/pacemaker/Stateful ] || { echo "SKIP: no pacemaker:Stateful"; exit 77; }
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VG_PREFIX="vgrp$$"
. "$TOP_SRCDIR/tests/integration/lib.sh"
vg_test_begin rsc-promotable 80

VG_INTERVAL=50 VG_DEADTIME=300
vg_net 3 2
# the state file must be per node: /run/resource-agents is private to each node
vg_write_config "$VG_TMP/cluster.conf" '
fencing = { enabled = false; };
resources = (
  { id = "s"; plugin = "ocf"; params = { agent = "pacemaker:Stateful"; };
    attributes = { state = "/run/resource-agents/Stateful-s.state"; };
    ops = { monitor_interval_ms = 1000; }; }
);
clones = ( { id = "ms"; resource = "s"; promotable = true; promoted_max = 1; } );
'
for n in 1 2 3; do vg_start "$n"; done
for n in 1 2 3; do vg_wait_eq 15 "node $n members" "1 2 3" vg_members "$n"; done

# roles N: "n1:promoted n2:started ..." for the current nodes, as node N sees them
roles() { vg_jq "$1" "' '.join('%s:%s' % (x['node'], x['role']) for r in s['resources'] if r['id']=='s' for x in sorted(r['nodes'], key=lambda x: x['node']) if x['current'])"; }
# agent_roles NODES...: what the agent's state files say, "n1:Promoted n2:Unpromoted ..."
agent_roles() {
	local n out=""
	for n in "$@"; do out="$out n$n:$(cat "$VG_TMP/run$n/ra/Stateful-s.state" 2>/dev/null || echo none)"; done
	echo "${out# }"
}
one_promoted() { # N NODES...: one promoted and the others started
	local n=$1 r p
	shift
	r=$(roles "$n")
	p=$(echo "$r" | tr ' ' '\n' | grep -c ':promoted$')
	[ "$p" = 1 ] && [ "$(echo "$r" | tr ' ' '\n' | grep -c ':started$')" = $(($# - 1)) ]
}
vg_wait 15 "one promoted, two started" one_promoted 1 1 2 3 ||
	vg_fail "expected one instance promoted and two started, saw '$(roles 1)'"
prom=$(roles 1 | tr ' ' '\n' | sed -n 's/:promoted$//p')
p=${prom#n}
for n in 1 2 3; do vg_wait_eq 5 "node $n: roles" "$(roles 1)" roles "$n"; done
want=""
for n in 1 2 3; do want="$want n$n:$([ "$n" = "$p" ] && echo Promoted || echo Unpromoted)"; done
vg_wait_eq 5 "the agent's state files" "${want# }" agent_roles 1 2 3
vg_log "promoted on $prom: $(roles 1)"
# no two promoted in any status, polled in the background
: > "$VG_TMP/promoted.log"
(
	while :; do
		for n in 1 2 3; do
			c=$(roles "$n" | tr ' ' '\n' | grep -c ':promoted$')
			[ "${c:-0}" -gt 1 ] && echo "n$n: $(roles "$n")" >> "$VG_TMP/promoted.log"
		done
		sleep 0.05
	done
) </dev/null >/dev/null 2>&1 &
VG_PIDS="$VG_PIDS $!"

survivors=$(for n in 1 2 3; do [ "$n" != "$p" ] && echo "$n"; done | paste -sd' ' -)
first=${survivors%% *}
vg_log "power cut of $prom"
t0=$(vg_now_ms)
vg_poweroff "$p"
vg_wait 10 "a survivor promoted" one_promoted "$first" $survivors ||
	vg_fail "after the power cut of $prom: expected one of n${survivors// /, n} promoted and the other started, saw '$(roles "$first")'"
t1=$(vg_now_ms)
prom2=$(roles "$first" | tr ' ' '\n' | sed -n 's/:promoted$//p')
vg_log "promoted on $prom2 $((t1 - t0)) ms after the power cut: $(roles "$first")"
for n in $survivors; do vg_wait_eq 5 "node $n: roles after the power cut" "$(roles "$first")" roles "$n"; done
want=""
for n in $survivors; do want="$want n$n:$([ "n$n" = "$prom2" ] && echo Promoted || echo Unpromoted)"; done
vg_wait_eq 5 "the survivors' agent state files" "${want# }" agent_roles $survivors
sleep 1
vg_check "roles a second later" "$(roles "$first")" "$(roles "${survivors##* }")"
[ -s "$VG_TMP/promoted.log" ] && vg_fail "two instances promoted at once: expected never, saw: $(head -n 3 "$VG_TMP/promoted.log")"
exit 0
