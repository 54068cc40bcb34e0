# Source me: run vigil from the build tree (plugins found in their .libs dirs).
# . scripts/env.sh [BUILDDIR]
_vg_top=${1:-$(cd "$(dirname "${BASH_SOURCE:-$0}")/.." && pwd)}
VIGIL_PLUGIN_PATH=$(find "$_vg_top/plugins" -type d -name .libs 2>/dev/null | sort | tr '\n' ':' | sed 's/:$//')
PATH="$_vg_top/core:$_vg_top/tools:$PATH"
export VIGIL_PLUGIN_PATH PATH
unset _vg_top
