#!/bin/sh
# The whole test suite on a fresh Debian 12 machine, as root: install what is
# needed, build, run `make check` (CUnit suites and integration tests), then
# `make distcheck`.
set -eu
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
make check
make distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-werror"
echo "test: all passed"
