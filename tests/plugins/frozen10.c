/*
 * test-frozen10: built against the frozen ABI 1.0 headers in frozen-1.0/
 * (not the SDK of this tree).  Every later core must load it: this is the
 * check that minors only append.
 */
#include <errno.h>

#include <vigil/plugin.h>

#if VG_ABI_MAJOR != 1 || VG_ABI_MINOR != 0
#error "frozen10.c must be built against tests/plugins/frozen-1.0"
#endif

static const char *const frozen_levels[] = { "low", "high", NULL };

static const struct vg_param_decl frozen_params[] = {
	{ .name = "state_file", .type = VG_PARAM_PATH, .flags = VG_PARAM_REQUIRED,
	  .help = "a required path" },
	{ .name = "timeout_ms", .type = VG_PARAM_DURATION_MS, .def = "1000", .min = 1,
	  .max = 600000, .help = "a duration" },
	{ .name = "level", .type = VG_PARAM_ENUM, .def = "low", .choices = frozen_levels,
	  .help = "an enum" },
	{ .name = NULL },
};

static int frozen_open(const struct vg_host *host, const struct vg_instance *inst, void **state)
{
	*state = NULL;
	return 0;
}

static void frozen_close(void *state)
{
}

static int frozen_exec(void *state, const struct vg_rsc_request *req,
		       vg_rsc_done_cb cb, void *arg, uint64_t *op_id)
{
	return -ENOTSUP;
}

static void frozen_cancel(void *state, uint64_t op_id)
{
}

/*
 * A 1.0 ops table ends after cancel.  The canary right behind it stands
 * where a later minor's first member (validate, 1.1) would be: a loader
 * that read members this plugin's minor does not have would pick it up.
 */
static const struct {
	struct vg_resource_ops ops;
	const void *canary;
} frozen_ops = {
	.ops = { .exec = frozen_exec, .cancel = frozen_cancel },
	.canary = (const void *)0x5ca1ab1e,
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_RESOURCE,
	.name = "test-frozen10",
	.version = "1.0",
	.description = "test: built from the frozen ABI 1.0 headers",
	.params = frozen_params,
	.open = frozen_open,
	.close = frozen_close,
	.ops = &frozen_ops.ops,
	.flags = 0,
);
