/* A parameter of type 42, which no core knows.  Must be refused. */
#include "broken.h"

static const struct vg_param_decl badparam_params[] = {
	{ .name = "p", .type = 42, .help = "unknown type" },
	{ .name = NULL },
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_RESOURCE,
	.name = "test-badparam",
	.version = "1.0",
	.description = "test: param of unknown type",
	.params = badparam_params,
	.open = broken_open,
	.close = broken_close,
	.ops = &broken_ops,
);
