/* ops is required.  Must be refused. */
#include "broken.h"

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_RESOURCE,
	.name = "test-noops",
	.version = "1.0",
	.description = "test: no ops table",
	.open = broken_open,
	.close = broken_close,
	.ops = NULL,
);
