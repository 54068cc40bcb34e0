#!/bin/sh
# Configure and build vigil in this tree (out of the box: ./autogen.sh, ./configure, make).
set -eu
cd "$(dirname "$0")/.."
[ -x configure ] || ./autogen.sh >/dev/null
[ -f Makefile ] || ./configure --enable-werror ${VIGIL_CONFIGURE_FLAGS:-} >/dev/null
make -j"$(nproc)" >/dev/null
echo "build: done"
