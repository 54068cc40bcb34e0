/* Names are 1-32 of [a-z0-9-].  Must be refused. */
#include "broken.h"

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_RESOURCE,
	.name = "Bad Name!",
	.version = "1.0",
	.description = "test: invalid name",
	.open = broken_open,
	.close = broken_close,
	.ops = &broken_ops,
);
