/*
 * vigil plugin SDK — resource plugins (VG_KIND_RESOURCE).
 *
 * One instance is one configured resource ("vip", "db").  The core asks it to
 * run OCF actions (start, stop, monitor, ...) and expects OCF exit codes
 * back.  Every action is a request with a completion callback: the plugin
 * runs it in a child (vg_spawn) or a non-blocking state machine, never on
 * the calling stack for longer than a few microseconds.
 */
#ifndef VIGIL_RESOURCE_H
#define VIGIL_RESOURCE_H

#include <stddef.h>
#include <stdint.h>

struct vg_attr;
struct vg_instance;

/* One action to run.  Borrowed for the exec() call: copy what you keep. */
struct vg_rsc_request {
	/* enum vg_rsc_action. */
	uint32_t action;
	/* Recurring monitors: interval in ms; 0 for everything else (and probes). */
	uint32_t interval_ms;
	/* The action's timeout.  The plugin ends the work and reports -ETIMEDOUT after it. */
	uint32_t timeout_ms;
	/*
	 * Extra variables for this call (notify data, meta attributes), as
	 * OCF names them without the OCF_RESKEY_ prefix ("CRM_meta_notify_type").
	 */
	const struct vg_attr *env;
	size_t n_env;
};

/*
 * Completion of exec().  `status` is 0 when the action ran to its end and
 * `rc` is its OCF exit code (enum vg_ocf_rc); -ETIMEDOUT when it ran out of
 * time, -ECANCELED when cancelled, another negative errno when it could not
 * run at all (rc is then VG_OCF_ERR_GENERIC).  `output` is what the action
 * printed (NUL-terminated, may be empty), borrowed until the callback returns.
 * Called exactly once per accepted request, never from inside exec().
 */
typedef void (*vg_rsc_done_cb)(void *arg, int status, int rc, const char *output);

/* Members are only appended. */
struct vg_resource_ops {
	/*
	 * Required.  Start running `req`.  Returns 0 when accepted (the
	 * callback will come) and stores an id in *op_id (if not NULL);
	 * a negative errno when refused (no callback).
	 */
	int (*exec)(void *state, const struct vg_rsc_request *req,
		    vg_rsc_done_cb cb, void *arg, uint64_t *op_id);
	/*
	 * End an accepted request early; its callback then reports
	 * -ECANCELED.  NULL means requests cannot be cancelled: the core waits
	 * for their completion or timeout.
	 */
	void (*cancel)(void *state, uint64_t op_id);

	/* --- 1.1 --- */

	/*
	 * Check an instance's configuration before it is opened: when vigild
	 * loads its configuration and in `vigild --check-config`, before any
	 * event loop runs (so it may block briefly, e.g. to read an agent's
	 * meta-data; it must return within a few seconds).  `inst` is as
	 * open() would get it.  Returns 0, or a negative errno with one line
	 * in errbuf saying what is wrong and what was expected (vigild
	 * prefixes the file, line and instance).  NULL means nothing to check
	 * beyond the declared parameters.
	 */
	int (*validate)(const struct vg_instance *inst, char *errbuf, size_t errlen);
};

#endif /* VIGIL_RESOURCE_H */
