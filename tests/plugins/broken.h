/*
 * Shared pieces of the deliberately broken test plugins: valid open, close
 * and resource ops, so that each broken plugin differs from a good one in
 * exactly the one member its name says.
 */
#ifndef VG_TEST_BROKEN_H
#define VG_TEST_BROKEN_H

#include <errno.h>

#include <vigil/plugin.h>

__attribute__((unused))
static int broken_open(const struct vg_host *host, const struct vg_instance *inst, void **state)
{
	*state = NULL;
	return 0;
}

__attribute__((unused))
static void broken_close(void *state)
{
}

__attribute__((unused))
static int broken_exec(void *state, const struct vg_rsc_request *req,
		       vg_rsc_done_cb cb, void *arg, uint64_t *op_id)
{
	return -ENOTSUP;
}

__attribute__((unused))
static const struct vg_resource_ops broken_ops = {
	.exec = broken_exec,
};

#endif
