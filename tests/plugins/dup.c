/* A second plugin named "test-good" (see good.c).  Must be refused as a duplicate. */
#include "broken.h"

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_RESOURCE,
	.name = "test-good",
	.version = "2.0",
	.description = "test: same name as good.c",
	.open = broken_open,
	.close = broken_close,
	.ops = &broken_ops,
);
