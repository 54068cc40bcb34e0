/* open is required.  Must be refused at load, not at first call. */
#include "broken.h"

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_RESOURCE,
	.name = "test-noopen",
	.version = "1.0",
	.description = "test: no open",
	.open = NULL,
	.close = broken_close,
	.ops = &broken_ops,
);
