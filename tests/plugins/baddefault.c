/*
 * An INT parameter whose default "abc" is no integer: the loader checks
 * defaults with vg_param_parse like configured values.  Must be refused.
 */
#include "broken.h"

static const struct vg_param_decl baddefault_params[] = {
	{ .name = "count", .type = VG_PARAM_INT, .def = "abc", .min = 1, .max = 10,
	  .help = "an int whose default is not one" },
	{ .name = NULL },
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_RESOURCE,
	.name = "test-baddefault",
	.version = "1.0",
	.description = "test: invalid default",
	.params = baddefault_params,
	.open = broken_open,
	.close = broken_close,
	.ops = &broken_ops,
);
