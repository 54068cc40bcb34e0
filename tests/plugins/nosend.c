/* A transport ops table without its required send.  Must be refused. */
#include "broken.h"

static const struct vg_transport_ops nosend_ops = {
	.send = NULL,
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_TRANSPORT,
	.name = "test-nosend",
	.version = "1.0",
	.description = "test: transport ops without send",
	.open = broken_open,
	.close = broken_close,
	.ops = &nosend_ops,
);
