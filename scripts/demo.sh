#!/bin/sh
# The main demo, run from the build tree.
set -eu
cd "$(dirname "$0")/.."
. scripts/env.sh
echo "== vigild --list-plugins"
vigild --list-plugins
