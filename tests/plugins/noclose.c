/* close is required.  Must be refused. */
#include "broken.h"

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_RESOURCE,
	.name = "test-noclose",
	.version = "1.0",
	.description = "test: no close",
	.open = broken_open,
	.close = NULL,
	.ops = &broken_ops,
);
