/* A resource ops table without its required exec.  Must be refused. */
#include "broken.h"

static const struct vg_resource_ops noexec_ops = {
	.exec = NULL,
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_RESOURCE,
	.name = "test-noexec",
	.version = "1.0",
	.description = "test: resource ops without exec",
	.open = broken_open,
	.close = broken_close,
	.ops = &noexec_ops,
);
