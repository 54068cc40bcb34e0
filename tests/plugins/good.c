/*
 * test-good: a resource plugin the loader must accept, declaring one
 * parameter of every type (a required one, an enum with choices, ranges).
 * tests/unit/test_plugin.c loads it; dup.c reuses its name.
 */
#include <errno.h>
#include <stdlib.h>

#include <vigil/plugin.h>

static const char *const good_modes[] = { "fast", "slow", NULL };

static const struct vg_param_decl good_params[] = {
	{ .name = "enabled", .type = VG_PARAM_BOOL, .def = "true", .help = "a bool" },
	{ .name = "count", .type = VG_PARAM_INT, .def = "3", .min = 1, .max = 10,
	  .help = "an int in 1..10" },
	{ .name = "wait_ms", .type = VG_PARAM_DURATION_MS, .def = "250", .min = 0, .max = 60000,
	  .help = "a duration" },
	{ .name = "label", .type = VG_PARAM_STRING, .flags = VG_PARAM_REQUIRED,
	  .help = "a required string" },
	{ .name = "mode", .type = VG_PARAM_ENUM, .def = "fast", .choices = good_modes,
	  .help = "an enum" },
	{ .name = "file", .type = VG_PARAM_PATH, .help = "a path without default" },
	{ .name = "token", .type = VG_PARAM_SECRET, .help = "a secret" },
	{ .name = NULL },
};

static int good_open(const struct vg_host *host, const struct vg_instance *inst, void **state)
{
	*state = NULL;
	return 0;
}

static void good_close(void *state)
{
}

static int good_exec(void *state, const struct vg_rsc_request *req,
		     vg_rsc_done_cb cb, void *arg, uint64_t *op_id)
{
	return -ENOTSUP;
}

static const struct vg_resource_ops good_ops = {
	.exec = good_exec,
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_RESOURCE,
	.name = "test-good",
	.version = "1.0",
	.description = "test: a resource declaring one parameter of each type",
	.params = good_params,
	.open = good_open,
	.close = good_close,
	.ops = &good_ops,
);
