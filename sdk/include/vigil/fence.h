/*
 * vigil plugin SDK — fence plugins (VG_KIND_FENCE).
 *
 * One instance is one fencing device (a BMC, a PDU, a fence agent with its
 * parameters).  The core's fencer asks it to power a target off, on, or to
 * report its state, and waits for the completion callback.
 */
#ifndef VIGIL_FENCE_H
#define VIGIL_FENCE_H

#include <stddef.h>
#include <stdint.h>

struct vg_instance;

/* One fencing request.  Borrowed for the exec() call: copy what you keep. */
struct vg_fence_request {
	/* enum vg_fence_action. */
	uint32_t action;
	/*
	 * The target as the device knows it: the node name, or the plug/port
	 * the configuration maps that node to.  NULL for LIST and MONITOR.
	 */
	const char *target;
	/* Time allowed, in ms; the plugin reports -ETIMEDOUT after it. */
	uint32_t timeout_ms;
};

/*
 * Completion of exec().  `status` is 0 on success, a negative errno on
 * failure (-ETIMEDOUT, -EACCES for refused credentials, -EHOSTUNREACH, ...).
 * `power` is the target's power state after the action (enum vg_power).
 * `detail` is one human line (device answer, error), or for LIST the plug
 * names separated by newlines; borrowed until the callback returns.
 * Called exactly once per accepted request, never from inside exec().
 */
typedef void (*vg_fence_done_cb)(void *arg, int status, int power, const char *detail);

/* Members are only appended. */
struct vg_fence_ops {
	/*
	 * Required.  Start `req`.  Returns 0 when accepted and stores an id in
	 * *op_id (if not NULL); a negative errno when refused (no callback).
	 */
	int (*exec)(void *state, const struct vg_fence_request *req,
		    vg_fence_done_cb cb, void *arg, uint64_t *op_id);
	/*
	 * End an accepted request early; the callback reports -ECANCELED.
	 * NULL means requests cannot be cancelled: the core waits for them.
	 */
	void (*cancel)(void *state, uint64_t op_id);

	/* --- 1.1 --- */

	/*
	 * Check an instance's configuration before it is opened, as
	 * vg_resource_ops.validate (e.g. a fence agent's parameters against
	 * its metadata).  NULL means nothing to check beyond the declared
	 * parameters.
	 */
	int (*validate)(const struct vg_instance *inst, char *errbuf, size_t errlen);
};

#endif /* VIGIL_FENCE_H */
