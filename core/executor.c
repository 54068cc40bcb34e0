/* The executor: resource operations, probes, recurring monitors, failures. */
#include "executor.h"
#include "config.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"
#include "policy/policy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A plugin that never completes an operation is given this much past its timeout. */
#define GUARD_GRACE_MS 10000

const char *vg_rsc_action_name(uint32_t action)
{
	switch (action) {
	case VG_RSC_START: return "start";
	case VG_RSC_STOP: return "stop";
	case VG_RSC_MONITOR: return "monitor";
	case VG_RSC_PROMOTE: return "promote";
	case VG_RSC_DEMOTE: return "demote";
	case VG_RSC_NOTIFY: return "notify";
	case VG_RSC_META_DATA: return "meta-data";
	case VG_RSC_VALIDATE_ALL: return "validate-all";
	default: return "?";
	}
}

const char *vg_role_name(uint32_t role)
{
	switch (role) {
	case VG_ROLE_UNKNOWN: return "unknown";
	case VG_ROLE_STOPPED: return "stopped";
	case VG_ROLE_STARTED: return "started";
	case VG_ROLE_PROMOTED: return "promoted";
	default: return "?";
	}
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint32_t timeout_of(const struct vg_rsc_local *r, uint32_t action)
{
	const struct vg_rsc_ops_conf *o = &r->conf->ops;

	switch (action) {
	case VG_RSC_START: return o->start_timeout_ms;
	case VG_RSC_STOP: return o->stop_timeout_ms;
	case VG_RSC_PROMOTE: return o->promote_timeout_ms;
	case VG_RSC_DEMOTE: return o->demote_timeout_ms;
	case VG_RSC_NOTIFY: return o->notify_timeout_ms;
	default: return o->monitor_timeout_ms;
	}
}

static void changed(struct vg_executor *ex)
{
	ex->version++;
	vg_executor_history_save(ex);
	if (ex->on_change)
		ex->on_change(ex->arg);
}

static void record(struct vg_executor *ex, struct vg_rsc_local *r, int status, int rc)
{
	struct vg_op_record rec = {
		.action = r->op_action, .interval_ms = r->op_interval_ms, .status = status,
		.rc = rc, .wall_ms = wall_ms(),
		.duration_ms = (uint32_t)(vg_loop_now_ms(ex->loop) - r->op_started_ms),
	};

	if (r->n_hist == VG_EXEC_HISTORY) {
		memmove(r->hist, r->hist + 1, (VG_EXEC_HISTORY - 1) * sizeof(r->hist[0]));
		r->n_hist--;
	}
	r->hist[r->n_hist++] = rec;
}

static void fail(struct vg_executor *ex, struct vg_rsc_local *r, uint32_t count)
{
	r->failed = 1;
	if (count >= VG_FAIL_COUNT_INFINITY || r->fail_count + count >= VG_FAIL_COUNT_INFINITY)
		r->fail_count = VG_FAIL_COUNT_INFINITY;
	else
		r->fail_count += count;
	r->last_failure_wall_ms = wall_ms();
}

/* What a probe or recurring monitor says about the role. */
static void apply_monitor(struct vg_executor *ex, struct vg_rsc_local *r, int ok, int rc)
{
	uint32_t expected = r->role;
	int probe = r->op_interval_ms == 0;

	if (!ok) {
		fail(ex, r, 1);
		return;
	}
	switch (rc) {
	case VG_OCF_SUCCESS:
		r->role = VG_ROLE_STARTED;
		break;
	case VG_OCF_RUNNING_PROMOTED:
		r->role = VG_ROLE_PROMOTED;
		break;
	case VG_OCF_NOT_RUNNING:
		r->role = VG_ROLE_STOPPED;
		break;
	case VG_OCF_FAILED_PROMOTED:
		r->role = VG_ROLE_PROMOTED;
		fail(ex, r, 1);
		return;
	default:
		/* an error probe: it may run half-way; recovery stops it */
		r->role = probe ? VG_ROLE_STARTED : r->role;
		fail(ex, r, 1);
		return;
	}
	if (!probe && r->role != expected)
		fail(ex, r, 1); /* stopped or changed role behind our back */
}

static void apply_result(struct vg_executor *ex, struct vg_rsc_local *r, int status, int rc)
{
	int ok = status == 0 && rc == VG_OCF_SUCCESS;

	switch (r->op_action) {
	case VG_RSC_START:
		if (ok) {
			r->role = VG_ROLE_STARTED;
			r->failed = 0;
		} else {
			/* start-failure-is-fatal: banned from this node until cleanup */
			r->role = VG_ROLE_STARTED;
			fail(ex, r, VG_FAIL_COUNT_INFINITY);
		}
		break;
	case VG_RSC_STOP:
		if (ok) {
			r->role = VG_ROLE_STOPPED;
			r->failed = 0;
		} else {
			fail(ex, r, VG_FAIL_COUNT_INFINITY);
		}
		break;
	case VG_RSC_PROMOTE:
		if (ok)
			r->role = VG_ROLE_PROMOTED;
		else
			fail(ex, r, 1);
		break;
	case VG_RSC_DEMOTE:
		if (ok)
			r->role = VG_ROLE_STARTED;
		else
			fail(ex, r, 1);
		break;
	case VG_RSC_MONITOR:
		apply_monitor(ex, r, status == 0, rc);
		break;
	default:
		break;
	}
}

static void run_op(struct vg_executor *ex, struct vg_rsc_local *r, uint32_t action,
		   uint32_t interval_ms, vg_exec_done_cb done, void *arg);

static void monitor_cb(void *arg);


static void schedule_monitor(struct vg_executor *ex, struct vg_rsc_local *r)
{
	uint32_t interval = r->conf->ops.monitor_interval_ms;

	vg_loop_timer_stop(ex->loop, r->monitor);
	r->monitor = NULL;
	if (!interval || r->failed || (r->role != VG_ROLE_STARTED && r->role != VG_ROLE_PROMOTED))
		return;
	if (vg_loop_timer_start(ex->loop, interval, 0, monitor_cb, r, NULL, &r->monitor) < 0)
		vg_logf(ex->log, VG_LOG_ERR, "executor", "%s: cannot schedule its monitor",
			r->conf->name);
}

static void log_result(struct vg_executor *ex, struct vg_rsc_local *r, int status, int rc,
		       const char *output)
{
	const char *last = output ? strrchr(output, '\n') : NULL;
	int level = (status == 0 && (rc == VG_OCF_SUCCESS || r->op_action == VG_RSC_MONITOR)) ?
		    VG_LOG_INFO : VG_LOG_WARNING;

	/* the last line the agent printed says most, if any */
	while (last && last > output && last[1] == '\0') {
		const char *p = last - 1;

		while (p > output && *p != '\n')
			p--;
		last = p;
	}
	if (r->op_action == VG_RSC_MONITOR && r->op_interval_ms && status == 0 &&
	    !r->failed)
		return; /* a healthy recurring monitor is not news */
	vg_logf(ex->log, r->failed ? VG_LOG_WARNING : level, "executor",
		"%s %s%s: %s, rc %d (%s), %llu ms%s%.*s", r->conf->name,
		vg_rsc_action_name(r->op_action), r->op_interval_ms ? " (recurring)" :
		(r->op_action == VG_RSC_MONITOR ? " (probe)" : ""),
		status == 0 ? "done" : strerror(-status), rc, vg_role_name(r->role),
		(unsigned long long)(vg_loop_now_ms(ex->loop) - r->op_started_ms),
		output && *output && r->failed ? ": " : "",
		output && *output && r->failed ? 200 : 0,
		last ? (*last == '\n' ? last + 1 : last) : "");
}

static void op_done_cb(void *arg, int status, int rc, const char *output)
{
	struct vg_rsc_local *r = arg;
	struct vg_executor *ex = r->ex;
	vg_exec_done_cb done = r->done;
	void *done_arg = r->done_arg;
	uint32_t action = r->op_action, before_role = r->role;
	int before_failed = r->failed;

	vg_loop_timer_stop(ex->loop, r->guard);
	r->guard = NULL;
	r->busy = 0;
	r->done = NULL;
	record(ex, r, status, rc);
	apply_result(ex, r, status, rc);
	log_result(ex, r, status, rc, output);
	if (action == VG_RSC_MONITOR && r->op_interval_ms == 0 && !r->probed) {
		r->probed = 1;
		if (ex->probes_left && --ex->probes_left == 0)
			vg_logf(ex->log, VG_LOG_INFO, "executor", "every resource probed");
	}
	schedule_monitor(ex, r);
	/* The state first: whoever hears of the result must find it in the state. */
	if (r->role != before_role || r->failed != before_failed || action != VG_RSC_MONITOR ||
	    r->op_interval_ms == 0)
		changed(ex);
	if (done)
		done(done_arg, r->index, action, status, rc);
	if (r->queued) {
		r->queued = 0;
		run_op(ex, r, r->q_action, 0, r->q_done, r->q_done_arg);
	}
}

static void guard_cb(void *arg)
{
	struct vg_rsc_local *r = arg;

	r->guard = NULL;
	vg_logf(r->ex->log, VG_LOG_ERR, "executor",
		"%s %s: plugin %s did not complete %u ms past its timeout: counted as timed out",
		r->conf->name, vg_rsc_action_name(r->op_action), r->pi->info->name, GUARD_GRACE_MS);
	if (r->pi->info->ops.resource.cancel)
		r->pi->info->ops.resource.cancel(r->pi->state, r->op_id);
	if (r->busy) /* cancel may have completed it already */
		op_done_cb(r, -ETIMEDOUT, VG_OCF_ERR_GENERIC, "");
}

static void run_op(struct vg_executor *ex, struct vg_rsc_local *r, uint32_t action,
		   uint32_t interval_ms, vg_exec_done_cb done, void *arg)
{
	struct vg_rsc_request req = { .action = action, .interval_ms = interval_ms,
				      .timeout_ms = timeout_of(r, action) };
	int rc;

	r->busy = 1;
	r->op_action = action;
	r->op_interval_ms = interval_ms;
	r->op_started_ms = vg_loop_update_time(ex->loop);
	r->done = done;
	r->done_arg = arg;
	vg_loop_timer_stop(ex->loop, r->monitor);
	r->monitor = NULL;
	rc = r->pi->info->ops.resource.exec(r->pi->state, &req, op_done_cb, r, &r->op_id);
	if (rc < 0) {
		vg_logf(ex->log, VG_LOG_ERR, "executor", "%s %s: plugin refused: %s",
			r->conf->name, vg_rsc_action_name(action), strerror(-rc));
		op_done_cb(r, rc, VG_OCF_ERR_GENERIC, "");
		return;
	}
	vg_loop_timer_start(ex->loop, req.timeout_ms + GUARD_GRACE_MS, 0, guard_cb, r, NULL,
			    &r->guard);
}

static void monitor_cb(void *arg)
{
	struct vg_rsc_local *r = arg;

	r->monitor = NULL;
	if (!r->busy)
		run_op(r->ex, r, VG_RSC_MONITOR, r->conf->ops.monitor_interval_ms, NULL, NULL);
}

int vg_executor_exec(struct vg_executor *ex, uint32_t rsc, uint32_t action, vg_exec_done_cb done,
		     void *arg)
{
	struct vg_rsc_local *r;

	if (rsc >= ex->n_rsc || !ex->rsc[rsc].pi)
		return -ENODEV;
	r = &ex->rsc[rsc];
	if (r->queued || (r->busy && r->op_action != VG_RSC_MONITOR))
		return -EBUSY;
	if (r->busy) {
		r->queued = 1;
		r->q_action = action;
		r->q_done = done;
		r->q_done_arg = arg;
		return 0;
	}
	run_op(ex, r, action, 0, done, arg);
	return 0;
}

int vg_executor_probed(const struct vg_executor *ex)
{
	return ex->probes_left == 0;
}

size_t vg_executor_busy(const struct vg_executor *ex)
{
	size_t n = 0;

	for (size_t i = 0; i < ex->n_rsc; i++)
		n += (ex->rsc[i].busy && ex->rsc[i].op_interval_ms == 0) + ex->rsc[i].queued;
	return n;
}

void vg_executor_cleanup(struct vg_executor *ex, uint32_t rsc)
{
	struct vg_rsc_local *r = &ex->rsc[rsc];

	vg_logf(ex->log, VG_LOG_NOTICE, "executor", "%s: cleanup: %u failure(s) forgotten, probing again",
		r->conf->name, r->fail_count);
	r->fail_count = 0;
	r->failed = 0;
	r->last_failure_wall_ms = 0;
	if (r->pi && !r->busy)
		run_op(ex, r, VG_RSC_MONITOR, 0, NULL, NULL);
	changed(ex);
}

void vg_executor_restart(struct vg_executor *ex, uint32_t rsc)
{
	struct vg_rsc_local *r = &ex->rsc[rsc];

	if (r->role != VG_ROLE_STARTED && r->role != VG_ROLE_PROMOTED)
		return;
	vg_logf(ex->log, VG_LOG_NOTICE, "executor", "%s: restart requested", r->conf->name);
	r->failed = 1; /* recovery without a failure counted */
	changed(ex);
}

static int open_all(struct vg_executor *ex)
{
	for (size_t i = 0; i < ex->n_rsc; i++) {
		struct vg_rsc_local *r = &ex->rsc[i];
		int rc;

		r->ex = ex;
		r->index = (uint32_t)i;
		r->conf = &ex->cfg->resources[i];
		r->role = VG_ROLE_UNKNOWN;
		rc = vg_plugin_inst_open(ex->env, r->conf, 0, &r->pi);
		if (rc < 0) {
			/* It cannot run here; the DC sees it failed on this node. */
			r->pi = NULL;
			r->role = VG_ROLE_STOPPED;
			r->probed = 1;
			fail(ex, r, VG_FAIL_COUNT_INFINITY);
			r->failed = 0;
			vg_logf(ex->log, VG_LOG_ERR, "executor",
				"%s: plugin %s would not open (%s): banned from this node",
				r->conf->name, r->conf->plugin, strerror(-rc));
		}
	}
	return 0;
}

int vg_executor_start(struct vg_executor *ex, const struct vg_config *cfg, const char *node_name,
		      const struct vg_host_env *env)
{
	memset(ex, 0, sizeof(*ex));
	ex->loop = env->loop;
	ex->log = env->log;
	ex->cfg = cfg;
	ex->env = env;
	ex->version = 1;
	if (asprintf(&ex->state_path, "%s/%s", cfg->state_dir, node_name) < 0)
		return -ENOMEM;
	ex->n_rsc = cfg->n_resources;
	ex->rsc = calloc(ex->n_rsc ? ex->n_rsc : 1, sizeof(*ex->rsc));
	if (!ex->rsc)
		return -ENOMEM;
	open_all(ex);
	vg_executor_history_load(ex);
	for (size_t i = 0; i < ex->n_rsc; i++) {
		struct vg_rsc_local *r = &ex->rsc[i];

		if (!r->pi)
			continue;
		ex->probes_left++;
		run_op(ex, r, VG_RSC_MONITOR, 0, NULL, NULL);
	}
	if (ex->n_rsc)
		vg_logf(ex->log, VG_LOG_INFO, "executor", "probing %zu resource(s)", ex->probes_left);
	return 0;
}

void vg_executor_stop(struct vg_executor *ex)
{
	for (size_t i = 0; ex->rsc && i < ex->n_rsc; i++) {
		struct vg_rsc_local *r = &ex->rsc[i];

		vg_loop_timer_stop(ex->loop, r->monitor);
		vg_loop_timer_stop(ex->loop, r->guard);
		vg_plugin_inst_close(r->pi);
	}
	vg_loop_timer_stop(ex->loop, ex->save_timer);
	free(ex->rsc);
	free(ex->state_path);
	memset(ex, 0, sizeof(*ex));
}
