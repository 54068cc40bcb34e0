/* test-transport: a transport plugin the loader must accept (no params). */
#include <errno.h>

#include <vigil/plugin.h>

static int t_open(const struct vg_host *host, const struct vg_instance *inst, void **state)
{
	*state = NULL;
	return 0;
}

static void t_close(void *state)
{
}

static int t_send(void *state, uint32_t to_node, const void *frame, size_t len)
{
	return -ENOTCONN;
}

static const struct vg_transport_ops t_ops = {
	.send = t_send,
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_TRANSPORT,
	.name = "test-transport",
	.version = "1.0",
	.description = "test: a transport that sends nothing",
	.open = t_open,
	.close = t_close,
	.ops = &t_ops,
);
