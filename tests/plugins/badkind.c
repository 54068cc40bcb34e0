/* Kind 99 is no kind the core knows.  Must be refused. */
#include "broken.h"

VG_PLUGIN_DEFINE(
	.kind = 99,
	.name = "test-badkind",
	.version = "1.0",
	.description = "test: unknown kind",
	.open = broken_open,
	.close = broken_close,
	.ops = &broken_ops,
);
