/*
 * The fencer: powers a node off (or reboots it) through the fence devices
 * configured for it, level by level (every device of a level must succeed;
 * a level that fails passes to the next), with a fixed delay per device and
 * a priority delay that spares the node running more resources in a
 * two-node race.  Every attempt is logged, kept in the fence history (in
 * the replicated cluster attributes) and handed to the alert program.
 */
#ifndef VG_CORE_FENCER_H
#define VG_CORE_FENCER_H

#include <stddef.h>
#include <stdint.h>

#include "host.h"

struct vg_loop;
struct vg_logger;
struct vg_config;
struct vg_cstate;
struct vg_net;

/* status 0: the target is confirmed off (or rebooted); detail: one line. */
typedef void (*vg_fencer_done_cb)(void *arg, uint32_t node, int status, const char *detail);

struct vg_fence_dev {
	const struct vg_instance_conf *conf;
	struct vg_plugin_inst *pi;     /* NULL when it would not open */
};

struct vg_fence_job {
	struct vg_fencer *f;
	uint32_t node;                 /* node index */
	int action;                    /* VG_FENCE_OFF or VG_FENCE_REBOOT */
	const char *by;                /* "dc" or "operator" */
	/* the levels to try: device indexes, levels separated by SIZE_MAX */
	size_t *plan;
	size_t n_plan, pos, level;
	int level_failed;
	struct vg_timer *delay;
	uint64_t op_id;
	const struct vg_fence_dev *running;
	uint64_t started_ms;
	uint32_t extra_delay_ms;       /* the priority delay, before the first device */
	char detail[256];
	vg_fencer_done_cb cb;
	void *arg;
	struct vg_fence_job *next;
};

struct vg_fencer {
	struct vg_loop *loop;
	const struct vg_logger *log;
	const struct vg_config *cfg;
	const struct vg_host_env *env;
	struct vg_cstate *cs;
	struct vg_net *net;
	struct vg_fence_dev *devs;
	size_t n_devs;
	struct vg_fence_job *jobs;     /* running, at most one per target */
	uint32_t failures;             /* consecutive failed fencings, for status */
	uint8_t *failed;               /* per node index: its fencing failed since the last success */
};

int vg_fencer_start(struct vg_fencer *f, const struct vg_config *cfg, const struct vg_host_env *env,
		    struct vg_cstate *cs, struct vg_net *net);
void vg_fencer_stop(struct vg_fencer *f);

/*
 * Fence node `node` (index).  `action`: VG_FENCE_OFF, VG_FENCE_REBOOT, or 0
 * for the configured fencing.action.  `cb` is called once.  Returns 0, or
 * -EALREADY when that node is being fenced, -ENODEV when no device can
 * fence it (cb not called).
 */
int vg_fencer_fence(struct vg_fencer *f, uint32_t node, int action, const char *by,
		    vg_fencer_done_cb cb, void *arg);

/*
 * The membership changed.  A node whose fencing failed and that is a member
 * again (a new incarnation, or a healed partition) is no longer unclean:
 * nothing waits for that fencing any more.  When no such node is left, the
 * consecutive failures are forgotten, so that status stops saying FENCING
 * FAILED.
 */
void vg_fencer_view_changed(struct vg_fencer *f);

/* Can any configured device fence `node`? */
int vg_fencer_can_fence(const struct vg_fencer *f, uint32_t node);

#endif
