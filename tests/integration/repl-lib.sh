# repl-lib.sh: what the tests of two bare vigil-repld helpers share
# (repl-basic.sh, repl-tls.sh).  Source it after setting T (the test's
# temporary directory, holding NODE.ctl and the *.log files).

log() { printf '%s %s\n' "$(date +%H:%M:%S.%3N)" "$*"; }
skip() { echo "SKIP: $*"; exit 77; }

# fail WHY: say it, show the end of every log, exit 1 (the EXIT trap cleans up)
fail() {
	local f
	log "FAIL: $*"
	for f in "$T"/*.log; do [ -f "$f" ] && { echo "--- $f"; tail -n 20 "$f"; }; done
	exit 1
}

# repl_watchdog SECONDS: fail the test after SECONDS (WATCHDOG holds its pid;
# the test's cleanup kills it)
repl_watchdog() {
	trap "fail \"timed out ($1 s)\"" USR1
	( exec >/dev/null 2>&1; sleep "$1" & s=$!; trap 'kill $s; exit 0' TERM; wait $s; kill -USR1 $$ ) &
	WATCHDOG=$!
}

# ctl NODE COMMAND...: one line to the helper's control socket, its reply on stdout
ctl() {
	python3 - "$T/$1.ctl" "${@:2}" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX); s.settimeout(5); s.connect(sys.argv[1])
s.sendall((" ".join(sys.argv[2:]) + "\n").encode())
buf = b""
while not buf.endswith(b"\n"):
    d = s.recv(4096)
    if not d:
        break
    buf += d
print(buf.decode().strip())
PY
}

# field NODE KEY: one value of the status line
field() { ctl "$1" status | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# wait_field NODE KEY VALUE [SECONDS]
wait_field() {
	local end=$(($(date +%s) + ${4:-10})) v
	while [ "$(date +%s)" -le "$end" ]; do
		v=$(field "$1" "$2")
		[ "$v" = "$3" ] && return 0
		sleep 0.1
	done
	fail "node $1: expected $2=$3, saw $2=$v ($(ctl "$1" status))"
}
