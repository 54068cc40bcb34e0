#!/bin/sh
# The SDK as a third party gets it: install the SDK (headers + vigil-sdk.pc)
# and vigild into a staging DESTDIR, build sdk/examples/resource-hello out of
# tree with nothing but `pkg-config --cflags vigil-sdk`, install it with
# DESTDIR, and check that the staged vigild lists it (text and --json).
#
# Needs TOP_BUILDDIR and TOP_SRCDIR (AM_TESTS_ENVIRONMENT); works under
# distcheck (read-only sources, separate build directory).
set -eu

: "${TOP_BUILDDIR:?set by make check}"
: "${TOP_SRCDIR:?set by make check}"
MAKE=${MAKE:-make}
# A fresh make: no jobserver or variable overrides from the make check above us.
unset MAKEFLAGS MFLAGS MAKELEVEL CFLAGS CPPFLAGS LDFLAGS CPATH C_INCLUDE_PATH || true

tmp=$(mktemp -d "${TMPDIR:-/tmp}/vg-sdk-staging.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' HUP INT TERM

fail() {
	echo "sdk-staging: FAIL: $*" >&2
	exit 1
}

step() {
	echo "sdk-staging: $*"
}

stage="$tmp/stage"
step "installing sdk and core into $stage"
timeout 300 $MAKE -s -C "$TOP_BUILDDIR/sdk" install DESTDIR="$stage" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log" >&2; fail "make -C sdk install DESTDIR=$stage"; }
timeout 300 $MAKE -s -C "$TOP_BUILDDIR/core" install DESTDIR="$stage" >"$tmp/install.log" 2>&1 ||
	{ cat "$tmp/install.log" >&2; fail "make -C core install DESTDIR=$stage"; }

pc=$(find "$stage" -name vigil-sdk.pc -path '*/pkgconfig/*' | head -n 1)
vigild=$(find "$stage" -type f -name vigild -path '*/sbin/*' | head -n 1)
[ -n "$pc" ] || fail "no vigil-sdk.pc under $stage"
[ -n "$vigild" ] || fail "no sbin/vigild under $stage"
pcdir=$(dirname "$pc")

# Only the staged .pc is visible; the sysroot maps its paths into $stage.
PKG_CONFIG_LIBDIR=$pcdir
PKG_CONFIG_PATH=$pcdir
PKG_CONFIG_SYSROOT_DIR=$stage
export PKG_CONFIG_LIBDIR PKG_CONFIG_PATH PKG_CONFIG_SYSROOT_DIR

cflags=$(pkg-config --cflags vigil-sdk) || fail "pkg-config --cflags vigil-sdk"
case "$cflags" in
*"-I$stage/"*) ;;
*) fail "pkg-config --cflags vigil-sdk gave '$cflags', expected -I$stage/..." ;;
esac

step "building resource-hello in $tmp/src"
mkdir "$tmp/src"
cp "$TOP_SRCDIR/sdk/examples/resource-hello/hello.c" \
	"$TOP_SRCDIR/sdk/examples/resource-hello/Makefile" "$tmp/src/"
chmod u+w "$tmp/src/"*
timeout 120 $MAKE -C "$tmp/src" >"$tmp/build.log" 2>&1 ||
	{ cat "$tmp/build.log" >&2; fail "building the example"; }
cat "$tmp/build.log"
# The in-tree SDK must not have been on the include path.
if grep -F -e "$TOP_SRCDIR" -e "$TOP_BUILDDIR" "$tmp/build.log" >/dev/null; then
	fail "the example build used the source tree instead of the staged SDK"
fi
grep -F -e "-I$stage/" "$tmp/build.log" >/dev/null ||
	fail "the example build did not use the staged SDK's include directory"
[ -f "$tmp/src/hello.so" ] || fail "no hello.so after make"
# The model third parties copy compiles without a warning.
if grep -F 'warning:' "$tmp/build.log" >/dev/null; then
	fail "the example compiled with warnings (see above)"
fi

step "installing resource-hello with DESTDIR"
plugindir=$(PKG_CONFIG_SYSROOT_DIR= pkg-config --variable=pluginsdir vigil-sdk)
[ -n "$plugindir" ] || fail "pkg-config --variable=pluginsdir vigil-sdk is empty"
PKG_CONFIG_SYSROOT_DIR= timeout 60 $MAKE -C "$tmp/src" install DESTDIR="$tmp/plugstage" \
	>"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "make install of the example"; }
[ -f "$tmp/plugstage$plugindir/hello.so" ] ||
	fail "expected $tmp/plugstage$plugindir/hello.so after make install DESTDIR=..."

step "listing plugins with the staged vigild"
VIGIL_PLUGIN_PATH="$tmp/src" timeout 20 "$vigild" --list-plugins >"$tmp/list.txt" 2>"$tmp/list.err" ||
	{ cat "$tmp/list.txt" "$tmp/list.err" >&2; fail "vigild --list-plugins exited non-zero"; }
if ! grep -E '^hello \(resource\) 1\.0 ' "$tmp/list.txt" >/dev/null; then
	echo "--- vigild --list-plugins said:" >&2
	cat "$tmp/list.txt" "$tmp/list.err" >&2
	fail "expected a line 'hello (resource) 1.0 — ...'"
fi
grep -E '^ +state_file path required' "$tmp/list.txt" >/dev/null ||
	{ cat "$tmp/list.txt" >&2; fail "expected 'state_file path required' under hello"; }

VIGIL_PLUGIN_PATH="$tmp/src" timeout 20 "$vigild" --list-plugins --json >"$tmp/list.json" 2>"$tmp/list.err" ||
	{ cat "$tmp/list.json" "$tmp/list.err" >&2; fail "vigild --list-plugins --json exited non-zero"; }
python3 - "$tmp/list.json" <<'EOF' || fail "vigild --list-plugins --json: see above"
import json, sys
with open(sys.argv[1]) as f:
    plugins = json.load(f)
hello = [p for p in plugins if p.get("name") == "hello"]
if len(hello) != 1:
    sys.exit("expected one plugin named hello, got %r" % [p.get("name") for p in plugins])
h = hello[0]
params = {p["name"]: p for p in h["params"]}
errors = []
if h["kind"] != "resource":
    errors.append("kind %r, expected 'resource'" % h["kind"])
if not h["file"].endswith("/hello.so"):
    errors.append("file %r, expected .../hello.so" % h["file"])
if not params.get("state_file", {}).get("required"):
    errors.append("state_file missing or not required")
if params.get("delay_ms", {}).get("default") != "0":
    errors.append("delay_ms default %r, expected '0'" % params.get("delay_ms", {}).get("default"))
if errors:
    sys.exit("hello: " + "; ".join(errors))
EOF
step "ok: hello built against the staged SDK and listed by the staged vigild"
