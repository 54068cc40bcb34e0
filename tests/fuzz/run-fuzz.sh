#!/bin/sh
# Build and run the wire codec fuzzer (tests/fuzz/fuzz_wire.c) for SECONDS
# (default 20).  Works from any directory: the sources are found from this
# script's location.  Builds in a temporary directory under $TMPDIR (or
# /tmp), removed on exit; a crash input is copied to the current directory.
# Exits 0 when the run ends without a finding, non-zero otherwise.
#
# Environment: CC (default clang).
set -eu

seconds=${1:-20}
case $seconds in
''|*[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;;
esac

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
cc=${CC:-clang}
work=$(mktemp -d "${TMPDIR:-/tmp}/vigil-fuzz-wire.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM

src="$srcdir/core/wire.c $srcdir/core/sha256.c $srcdir/tests/fuzz/fuzz_wire.c"
inc="-I$srcdir/sdk/include -I$srcdir/core"

echo "fuzz_wire: building in $work"
# shellcheck disable=SC2086 # word splitting of $src/$inc is intended
$cc -std=gnu11 -O1 -DFUZZ_WIRE_SEEDGEN $inc $src -o "$work/seedgen" -lcrypto
# shellcheck disable=SC2086
$cc -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=undefined $inc $src -o "$work/fuzz_wire" -lcrypto

mkdir "$work/corpus"
"$work/seedgen" "$work/corpus"
nseeds=$(find "$work/corpus" -type f | wc -l)
echo "fuzz_wire: $nseeds seeds, running ${seconds}s"

rc=0
(cd "$work" && ./fuzz_wire -max_total_time="$seconds" -timeout=10 \
	-rss_limit_mb=2048 -print_final_stats=1 -max_len=1500 \
	-artifact_prefix="$work/" corpus) || rc=$?

if [ "$rc" -ne 0 ]; then
	for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
		[ -e "$f" ] || continue
		cp "$f" . && echo "fuzz_wire: finding saved as ./$(basename "$f")" >&2
	done
	echo "fuzz_wire: FAILED (exit $rc)" >&2
	exit 1
fi
echo "fuzz_wire: ok"
