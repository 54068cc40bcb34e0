/*
 * ABI major 2: written by hand, not with VG_PLUGIN_DEFINE, as a plugin
 * built against a future incompatible SDK would look.  Must be refused.
 */
#include "broken.h"

extern const struct vg_plugin vigil_plugin;
__attribute__((visibility("default"))) const struct vg_plugin vigil_plugin = {
	.abi_major = 2,
	.abi_minor = 0,
	.kind = VG_KIND_RESOURCE,
	.name = "test-abi-major",
	.version = "1.0",
	.description = "test: built for ABI 2.0",
	.open = broken_open,
	.close = broken_close,
	.ops = &broken_ops,
};
