#!/bin/bash
# Policy engine scenarios (tests/policy/README.md): for every
# scenarios/NAME.scenario, build the configuration and saved state it holds,
# run `vigilctl simulate` on them and diff what it prints against the
# scenario's "## expected" section.  No network, no vigild.
#
#   run-scenarios.sh [--update] [NAME...]
#
# --update rewrites the expected sections with what the engine prints now
# (for developers after a deliberate change; never in make check).  It leaves
# the scenarios listed in known-failures alone: those hold the right answer.
#
# Needs TOP_BUILDDIR (make check sets it); TOP_SRCDIR is not needed.
set -u

here=$(cd "$(dirname "$0")" && pwd)
TOP_BUILDDIR=${TOP_BUILDDIR:-$(cd "$here/../.." && pwd)}
VIGILCTL="$TOP_BUILDDIR/tools/vigilctl"
# Only the lsb plugin: every scenario's resources use it, and the other
# plugins need not even load.
VIGIL_PLUGIN_PATH="$TOP_BUILDDIR/plugins/resource/lsb/.libs"
export VIGIL_PLUGIN_PATH

update=0
if [ "${1:-}" = "--update" ]; then
	update=1
	shift
fi

if [ ! -x "$VIGILCTL" ]; then
	echo "run-scenarios.sh: $VIGILCTL not built" >&2
	exit 99
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vigil-policy.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

# known-failures: one scenario name a line ('#' starts a comment).
known=" $(sed 's/#.*//' "$here/known-failures" 2>/dev/null | tr -s ' \t\n' ' ') "
is_known() { case "$known" in *" $1 "*) return 0 ;; esac; return 1; }

# section FILE NAME: the lines of "## NAME" up to the next "## " line.
section() {
	awk -v want="$2" '
		/^## / { sub(/^## /, ""); split($0, w, " "); cur = w[1]; next }
		cur == want { print }' "$1"
}

# The header every configuration starts with: nodes n1..nK (ids 1..K),
# K from "## nodes K" (default 3), unless the config section has its own nodes.
header() {
	local k i
	k=$(awk '/^## nodes / { print $3; exit }' "$1")
	k=${k:-3}
	echo 'cluster = { name = "policy"; id = 1; key_file = "/nonexistent/authkey"; };'
	grep -q '^[[:space:]]*nodes[[:space:]]*=' "$2" && return
	echo 'nodes = ('
	for i in $(seq 1 "$k"); do
		echo "  { id = $i; name = \"n$i\"; }$([ "$i" -lt "$k" ] && echo ,)"
	done
	echo ');'
}

passed=0 failed=0 todo=0
if [ $# -gt 0 ]; then
	files=()
	for n in "$@"; do files+=("$here/scenarios/${n%.scenario}.scenario"); done
else
	files=("$here"/scenarios/*.scenario)
fi

for f in "${files[@]}"; do
	name=$(basename "$f" .scenario)
	d="$tmp/$name"
	mkdir -p "$d"
	if [ ! -f "$f" ]; then
		echo "not ok - $name (no such scenario)"
		failed=$((failed + 1))
		continue
	fi
	section "$f" config > "$d/config.body"
	{ header "$f" "$d/config.body"; cat "$d/config.body"; } > "$d/cluster.conf"
	section "$f" state > "$d/state.json"
	section "$f" expected > "$d/expected"
	# shellcheck disable=SC2046 # args are words, split on purpose
	"$VIGILCTL" simulate --config "$d/cluster.conf" --state "$d/state.json" \
		$(section "$f" args) > "$d/actual" 2> "$d/stderr"
	rc=$?

	if [ "$update" = 1 ] && [ $rc = 0 ] && ! is_known "$name"; then
		if ! cmp -s "$d/expected" "$d/actual"; then
			{ sed '/^## expected/,$d' "$f"; echo '## expected'; cat "$d/actual"; } > "$d/new"
			cat "$d/new" > "$f"
			echo "updated - $name"
		fi
		continue
	fi

	if [ $rc = 0 ] && diff -u --label "$name: expected" --label "$name: actual" \
		"$d/expected" "$d/actual" > "$d/diff"; then
		if is_known "$name"; then
			echo "ok - $name # TODO passes now: remove it from known-failures"
		else
			echo "ok - $name"
		fi
		passed=$((passed + 1))
		continue
	fi
	if is_known "$name"; then
		echo "not ok - $name # TODO known failure (tests/policy/known-failures)"
		todo=$((todo + 1))
	else
		echo "not ok - $name"
		failed=$((failed + 1))
	fi
	if [ $rc != 0 ]; then
		echo "#   vigilctl simulate exited $rc:"
		sed 's/^/#   /' "$d/stderr"
	else
		sed 's/^/#   /' "$d/diff"
	fi
done

[ "$update" = 1 ] && exit 0
echo "$passed passed, $failed failed, $todo known failures (TODO)"
[ "$failed" = 0 ]
