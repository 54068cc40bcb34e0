/*
 * The executor, on every node: runs resource operations through the
 * resource plugins (each a child process or a non-blocking state machine),
 * probes every resource at start-up, runs recurring monitors, counts
 * failures, and keeps an operation history under the state directory that
 * survives a restart of vigild.  It decides nothing: the DC asks, it runs.
 */
#ifndef VG_CORE_EXECUTOR_H
#define VG_CORE_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>

#include "host.h"

struct vg_loop;
struct vg_logger;
struct vg_config;

#define VG_EXEC_HISTORY 8        /* last operations kept per resource */
#define VG_FAIL_COUNT_INFINITY 1000000 /* a failed start: banned from the node */

struct vg_op_record {
	uint32_t action;             /* VG_RSC_* */
	uint32_t interval_ms;
	int status;                  /* 0 or -errno (-ETIMEDOUT, ...) */
	int rc;                      /* OCF rc */
	uint64_t wall_ms;            /* when it ended, wall clock */
	uint32_t duration_ms;
};

/* Completion of an operation the caller asked for. */
typedef void (*vg_exec_done_cb)(void *arg, uint32_t rsc, uint32_t action, int status, int rc);

struct vg_executor;

struct vg_rsc_local {
	struct vg_executor *ex;
	uint32_t index;              /* = index in cfg->resources, the model's primitive */
	const struct vg_instance_conf *conf;
	struct vg_plugin_inst *pi;   /* NULL when the plugin would not open */
	uint32_t role;               /* enum vg_role as observed here */
	int failed;                  /* last operation failed: recovery needed */
	uint32_t fail_count;
	uint64_t last_failure_wall_ms;
	int probed;
	/* the operation running now */
	int busy;
	uint32_t op_action, op_interval_ms;
	uint64_t op_id, op_started_ms;
	struct vg_timer *guard;      /* fires if the plugin never completes */
	vg_exec_done_cb done;        /* caller of the running op, NULL for monitors */
	void *done_arg;
	/* a request that came while a monitor ran */
	int queued;
	uint32_t q_action;
	vg_exec_done_cb q_done;
	void *q_done_arg;
	struct vg_timer *monitor;    /* next recurring monitor */
	struct vg_op_record hist[VG_EXEC_HISTORY];
	size_t n_hist;               /* records in hist, newest last */
	uint64_t cleanup_gen, restart_gen; /* last applied (cluster attributes) */
};

struct vg_executor {
	struct vg_loop *loop;
	const struct vg_logger *log;
	const struct vg_config *cfg;
	const struct vg_host_env *env;
	char *state_path;            /* <state_dir>/<node>/resources.json */
	struct vg_rsc_local *rsc;
	size_t n_rsc;
	size_t probes_left;
	uint64_t version;            /* grows with every change of what is observed */
	int save_pending, save_running;
	struct vg_timer *save_timer;
	/* Called after every change of observed state (role, failure, probe). */
	void (*on_change)(void *arg);
	void *arg;
};

int vg_executor_start(struct vg_executor *ex, const struct vg_config *cfg, const char *node_name,
		      const struct vg_host_env *env);
void vg_executor_stop(struct vg_executor *ex);

/*
 * Run `action` (VG_RSC_START/STOP/PROMOTE/DEMOTE) on resource `rsc`; `done`
 * is called once when it ends.  A request while a monitor runs waits for
 * it.  Returns 0, -EBUSY (another request is running or queued) or -ENODEV.
 */
int vg_executor_exec(struct vg_executor *ex, uint32_t rsc, uint32_t action, vg_exec_done_cb done,
		     void *arg);

/* Everything probed once. */
int vg_executor_probed(const struct vg_executor *ex);
/* Operations running or queued. */
size_t vg_executor_busy(const struct vg_executor *ex);

/* Forget failures of `rsc` and probe it again (vigilctl resource cleanup). */
void vg_executor_cleanup(struct vg_executor *ex, uint32_t rsc);
/* Mark a running `rsc` failed without counting it, so that the DC restarts it. */
void vg_executor_restart(struct vg_executor *ex, uint32_t rsc);

/* history.c: read at start-up; save soon (throttled, by a child process). */
void vg_executor_history_load(struct vg_executor *ex);
void vg_executor_history_save(struct vg_executor *ex);

const char *vg_rsc_action_name(uint32_t action);
const char *vg_role_name(uint32_t role);

#endif
