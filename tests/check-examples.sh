#!/bin/sh
# Every example under examples/ passes `vigild --check-config` with the
# plugins of this build.  Paths under /etc/vigil/ are moved to a temporary
# directory, where the password files the examples name are created (0600).
set -eu
: "${TOP_SRCDIR:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${TOP_BUILDDIR:=$TOP_SRCDIR}"
VIGIL_PLUGIN_PATH=$(find "$TOP_BUILDDIR/plugins" -type d -name .libs | sort | tr '\n' ':' | sed 's/:$//')
export VIGIL_PLUGIN_PATH
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
for ex in "$TOP_SRCDIR"/examples/*.conf; do
	name=$(basename "$ex")
	sed "s#/etc/vigil/#$tmp/#g" "$ex" > "$tmp/$name"
	for pw in $(grep -o "$tmp/[A-Za-z0-9_.-]*\.pw" "$tmp/$name" || true); do
		printf 'secret\n' > "$pw"
		chmod 600 "$pw"
	done
	if out=$(timeout 60 "$TOP_BUILDDIR/core/vigild" --check-config "$tmp/$name" 2>&1); then
		echo "ok - $name"
		pass=$((pass + 1))
	else
		echo "not ok - $name: $out"
		fail=$((fail + 1))
	fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
