# Helpers for the benchmarks under bench/, on top of tests/integration/lib.sh
# (source that first: it provides the namespaces, the switch and vigild).
#
#   vb_find_build SCRIPT_DIR [BUILDDIR]  sets TOP_SRCDIR and TOP_BUILDDIR
#   vb_ms_of_day HH:MM:SS.mmm           milliseconds since local midnight
#   vb_now_us_of_day                    now, microseconds since local midnight (no fork)
#   vb_percentile P VALUES...           nearest-rank percentile (integers)
#   vb_cs_*                             a Corosync 3 (knet) cluster beside vigil's
#
# Everything created here is named with VG_PREFIX and removed by vb_cs_cleanup.

# vb_find_build SCRIPT_DIR [BUILDDIR]: the sources are the script's own tree;
# the build is BUILDDIR, else $TOP_BUILDDIR, else the source tree if built in it.
vb_find_build() {
	local here=$1 want=${2:-${TOP_BUILDDIR:-}}
	TOP_SRCDIR=$(cd "$here/.." && pwd)
	if [ -z "$want" ]; then
		if [ -x "$here/../core/vigild" ]; then
			want=$here/..
		else
			echo "bench: no built tree: $here/../core/vigild does not exist;" \
				"use --builddir DIR or TOP_BUILDDIR=DIR" >&2
			return 1
		fi
	fi
	TOP_BUILDDIR=$(cd "$want" 2>/dev/null && pwd) || {
		echo "bench: build directory $want does not exist" >&2
		return 1
	}
	for f in core/vigild tools/vigilctl; do
		[ -x "$TOP_BUILDDIR/$f" ] || {
			echo "bench: $TOP_BUILDDIR/$f is missing: build first (make)" >&2
			return 1
		}
	done
	[ -f "$TOP_SRCDIR/tests/integration/lib.sh" ] || {
		echo "bench: $TOP_SRCDIR/tests/integration/lib.sh is missing" >&2
		return 1
	}
	export TOP_SRCDIR TOP_BUILDDIR
}

vb_ms_of_day() {
	local h m s ms
	IFS=':.' read -r h m s ms <<< "$1"
	ms=${ms:0:3}
	echo $((10#$h * 3600000 + 10#$m * 60000 + 10#$s * 1000 + 10#${ms:-0}))
}

# From bash's $EPOCHREALTIME: no fork between this and the next command.
vb_now_us_of_day() {
	local t=${1:-$EPOCHREALTIME} sec us hms
	sec=${t%.*}
	us=${t#*.}
	printf -v hms '%(%H:%M:%S)T' "$sec"
	echo $(($(vb_ms_of_day "$hms.000") * 1000 + 10#$us))
}

# vb_delta_ms LOG_TIME(HH:MM:SS.mmm) START_US_OF_DAY: rounded ms, across midnight.
vb_delta_ms() {
	local d
	d=$(($(vb_ms_of_day "$1") * 1000 - $2))
	[ "$d" -lt -43200000000 ] && d=$((d + 86400000000))
	echo $(((d + 500) / 1000))
}

vb_percentile() {
	local p=$1 n rank
	shift
	n=$#
	[ "$n" -gt 0 ] || { echo NA; return; }
	rank=$(((p * n + 99) / 100))
	[ "$rank" -lt 1 ] && rank=1
	printf '%s\n' "$@" | sort -n | sed -n "${rank}p"
}

vb_lines() { if [ -f "$1" ]; then wc -l < "$1"; else echo 0; fi; }

# vb_wait_line FILE SKIP ERE TIMEOUT_MS: first line after line SKIP matching ERE;
# polls every 10 ms.
vb_wait_line() {
	local f=$1 skip=$2 re=$3 limit=$4 end line
	end=$(($(date +%s%N) / 1000000 + limit))
	while [ "$(($(date +%s%N) / 1000000))" -lt "$end" ]; do
		line=$(tail -n +"$((skip + 1))" "$f" 2>/dev/null | grep -m1 -E "$re")
		[ -n "$line" ] && { echo "$line"; return 0; }
		sleep 0.01
	done
	return 1
}

vb_count_lines() { tail -n +"$(($2 + 1))" "$1" 2>/dev/null | grep -c -E "$3"; }

# ---- Corosync 3 / knet beside vigil: node i is namespace ${VG_PREFIX}c<i>,
# 198.18.L.(10+i) on link L, on the same bridges as vigil's nodes.
VB_CS_NODES=0
vb_cs_ns() { echo "${VG_PREFIX}c$1"; }
vb_cs_dir() { echo "$VG_TMP/cs$1"; }
vb_cs_log() { echo "$VG_TMP/cs$1/corosync.log"; }
vb_cs_pid() { eval "echo \${VB_CS_PID_$1:-}"; }

vb_cs_net() {
	local n l ns sw
	sw=$(vg_sw)
	VB_CS_NODES=$1
	for n in $(seq 1 "$VB_CS_NODES"); do
		ns=$(vb_cs_ns "$n")
		ip netns add "$ns" || return 1
		ip -n "$ns" link set lo up
		for l in $(seq 0 $((VG_LINKS - 1))); do
			ip link add "${VG_PREFIX}f$n$l" netns "$ns" type veth \
				peer name "q$n$l" netns "$sw" || return 1
			ip -n "$ns" link set "${VG_PREFIX}f$n$l" name "eth$l"
			ip -n "$ns" addr add "198.18.$l.$((10 + n))/24" dev "eth$l"
			ip -n "$ns" link set "eth$l" up
			ip -n "$sw" link set "q$n$l" master "br$l" up
		done
		mkdir -p "$(vb_cs_dir "$n")/run" "$(vb_cs_dir "$n")/shm" "$(vb_cs_dir "$n")/state"
	done
}

# vb_cs_config TOKEN_MS SCHED_RR(yes|no): one corosync.conf per node (its own
# log and state directory), knet with one link per vigil link, no crypto.
# token_coefficient is 0 so that the token timeout is TOKEN_MS for 3 nodes too
# (corosync's default adds 650 ms per node above 2).  Corosync refuses
# token / (token_retransmits_before_loss_const + 0.2) < 30 ms: below 126 ms,
# the retransmit count is lowered from its default 4 until it fits (sets
# VB_CS_RETRANSMITS).
vb_cs_config() {
	local token=$1 rr=$2 n j l
	VB_CS_RETRANSMITS=4
	while [ "$VB_CS_RETRANSMITS" -gt 1 ] &&
		[ $((token * 10)) -lt $((30 * (10 * VB_CS_RETRANSMITS + 2))) ]; do
		VB_CS_RETRANSMITS=$((VB_CS_RETRANSMITS - 1))
	done
	for n in $(seq 1 "$VB_CS_NODES"); do
		{
			printf 'totem {\n  version: 2\n  cluster_name: bench\n  transport: knet\n'
			printf '  token: %s\n  token_coefficient: 0\n  crypto_cipher: none\n  crypto_hash: none\n' "$token"
			[ "$VB_CS_RETRANSMITS" = 4 ] ||
				printf '  token_retransmits_before_loss_const: %d\n' "$VB_CS_RETRANSMITS"
			for l in $(seq 0 $((VG_LINKS - 1))); do
				printf '  interface {\n    linknumber: %d\n  }\n' "$l"
			done
			printf '}\nnodelist {\n'
			for j in $(seq 1 "$VB_CS_NODES"); do
				printf '  node {\n    nodeid: %d\n    name: c%d\n' "$j" "$j"
				for l in $(seq 0 $((VG_LINKS - 1))); do
					printf '    ring%d_addr: 198.18.%d.%d\n' "$l" "$l" $((10 + j))
				done
				printf '  }\n'
			done
			printf '}\nquorum {\n  provider: corosync_votequorum\n}\n'
			printf 'logging {\n  to_logfile: yes\n  logfile: %s\n' "$(vb_cs_log "$n")"
			printf '  to_stderr: no\n  to_syslog: no\n  timestamp: hires\n}\n'
			printf 'system {\n  state_dir: %s\n  sched_rr: %s\n}\n' \
				"$(vb_cs_dir "$n")/state" "$rr"
		} > "$(vb_cs_dir "$n")/corosync.conf"
	done
}

# Corosync locks /var/run/corosync.pid and keeps IPC files in /dev/shm: each
# one gets a private mount namespace with its own /run and /dev/shm.  The
# chain ip -> unshare -> sh execs into corosync, so $! is corosync's pid.
VB_CS_MOUNTS='d=$1; shift; mount --bind "$d/run" /run && mount --bind "$d/shm" /dev/shm && exec "$@"'

vb_cs_exec() {
	local n=$1
	shift
	ip netns exec "$(vb_cs_ns "$n")" unshare -m sh -c "$VB_CS_MOUNTS" cs "$(vb_cs_dir "$n")" "$@"
}

# Not through vb_cs_exec: a backgrounded function is a subshell, and $! would
# be that subshell instead of corosync.
vb_cs_start() {
	local n=$1 pid
	ip netns exec "$(vb_cs_ns "$n")" unshare -m sh -c "$VB_CS_MOUNTS" cs "$(vb_cs_dir "$n")" \
		corosync -f -c "$(vb_cs_dir "$n")/corosync.conf" >> "$(vb_cs_dir "$n")/stdout" 2>&1 &
	pid=$!
	eval "VB_CS_PID_$n=$pid"
}

vb_cs_kill() {
	local pid
	pid=$(vb_cs_pid "$1")
	[ -n "$pid" ] || return 0
	kill "-${2:-KILL}" "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	eval "VB_CS_PID_$1="
}

# vb_cs_members N: "nodes quorate" from corosync-quorumtool on node N, e.g. "3 Yes".
vb_cs_members() {
	vb_cs_exec "$1" corosync-quorumtool -s 2>/dev/null |
		awk '/^Nodes:/ { n = $2 } /^Quorate:/ { q = $2 } END { print n, q }'
}
vb_cs_expect_members() { [ "$(vb_cs_members "$1")" = "$2" ]; }

# vb_cs_running N: node N's corosync has not exited.
vb_cs_running() { local p; p=$(vb_cs_pid "$1"); [ -n "$p" ] && kill -0 "$p" 2>/dev/null; }

vb_cs_cleanup() {
	local n
	# only the live ones: an old pid of a killed corosync may be reused
	for n in $(seq 1 "$VB_CS_NODES"); do
		vb_cs_kill "$n"
	done
	for n in $(seq 1 "$VB_CS_NODES"); do
		ip netns del "$(vb_cs_ns "$n")" 2>/dev/null || true
	done
}
