/*
 * ABI minor one above the core's: a plugin that needs a newer vigild (it
 * may read host members this core does not have).  Must be refused.
 */
#include "broken.h"

extern const struct vg_plugin vigil_plugin;
__attribute__((visibility("default"))) const struct vg_plugin vigil_plugin = {
	.abi_major = VG_ABI_MAJOR,
	.abi_minor = VG_ABI_MINOR + 1,
	.kind = VG_KIND_RESOURCE,
	.name = "test-abi-minor",
	.version = "1.0",
	.description = "test: built for a newer minor than the core's",
	.open = broken_open,
	.close = broken_close,
	.ops = &broken_ops,
};
