/* The fencer: fence devices tried level by level, with delays, history and alerts. */
#include "fencer.h"
#include "config.h"
#include "cstate.h"
#include "log.h"
#include "loop.h"
#include "membership.h"
#include "net.h"
#include "plugin.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HISTORY_MAX 20
#define LEVEL_END SIZE_MAX

static const char *action_name(int action)
{
	return action == VG_FENCE_OFF ? "off" : "reboot";
}

static const char *node_name(const struct vg_fencer *f, uint32_t node)
{
	return f->cfg->nodes[node].name;
}

static int dev_targets(const struct vg_instance_conf *d, const char *node)
{
	for (size_t t = 0; t < d->n_targets; t++)
		if (d->targets[t] && !strcmp(d->targets[t], node))
			return 1;
	return 0;
}

static ssize_t dev_index(const struct vg_fencer *f, const char *name)
{
	for (size_t i = 0; i < f->n_devs; i++)
		if (!strcmp(f->devs[i].conf->name, name))
			return (ssize_t)i;
	return -1;
}

/* Configured levels in ascending order; without any, each device is a level. */
static int plan_build(struct vg_fencer *f, struct vg_fence_job *j)
{
	const char *node = node_name(f, j->node);
	size_t cap = 2 * (f->n_devs + 1) + 2 * f->cfg->n_fence_levels, n = 0;
	int have_levels = 0;

	j->plan = calloc(cap + 1, sizeof(*j->plan));
	if (!j->plan)
		return -ENOMEM;
	for (uint32_t lvl = 1; lvl <= 9; lvl++)
		for (size_t i = 0; i < f->cfg->n_fence_levels; i++) {
			const struct vg_fence_level_conf *l = &f->cfg->fence_levels[i];

			if (l->level != lvl || strcmp(l->node, node))
				continue;
			have_levels = 1;
			for (size_t d = 0; d < l->n_devices && n < cap; d++) {
				ssize_t k = dev_index(f, l->devices[d]);

				if (k >= 0)
					j->plan[n++] = (size_t)k;
			}
			if (n < cap)
				j->plan[n++] = LEVEL_END;
		}
	for (size_t i = 0; !have_levels && i < f->n_devs && n + 1 < cap; i++)
		if (dev_targets(f->devs[i].conf, node)) {
			j->plan[n++] = i;
			j->plan[n++] = LEVEL_END;
		}
	j->n_plan = n;
	return n ? 0 : -ENODEV;
}

int vg_fencer_can_fence(const struct vg_fencer *f, uint32_t node)
{
	for (size_t i = 0; i < f->n_devs; i++)
		if (f->devs[i].pi && dev_targets(f->devs[i].conf, f->cfg->nodes[node].name))
			return 1;
	return 0;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Fence history and the fenced incarnation go into the replicated attributes. */
static void record(struct vg_fencer *f, struct vg_fence_job *j, int ok, const char *device)
{
	json_t *doc = json_deep_copy(f->cs->attrs), *hist = json_object_get(doc, "fence_history");
	json_t *fenced = json_object_get(doc, "fenced");
	char inc[32];

	if (!json_is_array(hist)) {
		hist = json_array();
		json_object_set_new(doc, "fence_history", hist);
	}
	json_array_append_new(hist, json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I}",
		"target", node_name(f, j->node), "action", action_name(j->action),
		"result", ok ? "ok" : "failed", "device", device ? device : "",
		"detail", j->detail, "by", j->by, "at_ms", (json_int_t)wall_ms(),
		"duration_ms", (json_int_t)(vg_loop_now_ms(f->loop) - j->started_ms)));
	while (json_array_size(hist) > HISTORY_MAX)
		json_array_remove(hist, 0);
	if (ok) {
		if (!json_is_object(fenced)) {
			fenced = json_object();
			json_object_set_new(doc, "fenced", fenced);
		}
		/* the incarnation it had as a member: the one that may still run things */
		snprintf(inc, sizeof(inc), "%" PRIu64, f->cs->m->mp[j->node].member_inc);
		json_object_set_new(fenced, node_name(f, j->node), json_string(inc));
	}
	vg_cstate_attrs_set(f->cs, doc);
}

static void alert_done(void *arg, const struct vg_child_result *res)
{
	struct vg_fencer *f = arg;

	if (!res->exited || res->exit_code)
		vg_logf(f->log, VG_LOG_WARNING, "fencer", "alert %s failed (%s %d): %.200s",
			f->cfg->fencing_alert, res->exited ? "exit" : "signal",
			res->exited ? res->exit_code : res->signal, res->output);
}

/* The alert program gets the event in its environment (VIGIL_ALERT_*). */
static void alert(struct vg_fencer *f, const struct vg_fence_job *j, int ok, const char *device)
{
	char env[8][320];
	char *envp[9], *argv[2] = { f->cfg->fencing_alert, NULL };
	struct vg_spawn req = { .path = f->cfg->fencing_alert, .argv = argv, .envp = envp,
				.timeout_ms = 30000 };

	if (!f->cfg->fencing_alert)
		return;
	snprintf(env[0], sizeof(env[0]), "VIGIL_ALERT_KIND=fence");
	snprintf(env[1], sizeof(env[1]), "VIGIL_FENCE_TARGET=%s", node_name(f, j->node));
	snprintf(env[2], sizeof(env[2]), "VIGIL_FENCE_ACTION=%s", action_name(j->action));
	snprintf(env[3], sizeof(env[3]), "VIGIL_FENCE_RESULT=%s", ok ? "ok" : "failed");
	snprintf(env[4], sizeof(env[4]), "VIGIL_FENCE_DEVICE=%s", device ? device : "");
	snprintf(env[5], sizeof(env[5]), "VIGIL_FENCE_DETAIL=%s", j->detail);
	snprintf(env[6], sizeof(env[6]), "VIGIL_NODE=%s", f->env->log->ident ? f->env->log->ident : "");
	snprintf(env[7], sizeof(env[7]), "PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	for (int i = 0; i < 8; i++)
		envp[i] = env[i];
	envp[8] = NULL;
	if (vg_loop_spawn(f->loop, &req, alert_done, f, NULL, NULL) < 0)
		vg_logf(f->log, VG_LOG_WARNING, "fencer", "alert %s could not start",
			f->cfg->fencing_alert);
}

static void job_free(struct vg_fencer *f, struct vg_fence_job *j)
{
	struct vg_fence_job **pp = &f->jobs;

	while (*pp && *pp != j)
		pp = &(*pp)->next;
	if (*pp)
		*pp = j->next;
	vg_loop_timer_stop(f->loop, j->delay);
	free(j->plan);
	free(j);
}

/* Nothing waits for the fencing of a member: see vg_fencer_view_changed(). */
static void forget_members(struct vg_fencer *f)
{
	size_t left = 0;
	const struct vg_fence_job *j;

	if (!f->failures)
		return;
	for (size_t i = 0; i < f->net->n_peers; i++) {
		if (!f->failed[i])
			continue;
		for (j = f->jobs; j && j->node != i; j = j->next)
			;
		if (!j && vg_view_contains(&f->cs->m->view, f->net->peers[i].id))
			f->failed[i] = 0;
		else
			left++;
	}
	if (left)
		return;
	vg_logf(f->log, VG_LOG_NOTICE, "fencer",
		"every node whose fencing failed is a member again: %u failure(s) no longer hold anything back",
		f->failures);
	f->failures = 0;
}

static void job_finish(struct vg_fence_job *j, int ok, const char *device)
{
	struct vg_fencer *f = j->f;
	vg_fencer_done_cb cb = j->cb;
	void *arg = j->arg;
	uint32_t node = j->node;
	char detail[256];

	f->failures = ok ? 0 : f->failures + 1;
	if (ok)
		memset(f->failed, 0, f->net->n_peers);
	else
		f->failed[node] = 1;
	vg_logf(f->log, ok ? VG_LOG_NOTICE : VG_LOG_ERR, "fencer",
		ok ? "%s %s: done by %s in %llu ms" : "%s %s: FAILED on every level (%s, %llu ms)",
		action_name(j->action), node_name(f, node), ok ? device : j->detail,
		(unsigned long long)(vg_loop_now_ms(f->loop) - j->started_ms));
	record(f, j, ok, device);
	alert(f, j, ok, device);
	snprintf(detail, sizeof(detail), "%s", j->detail);
	job_free(f, j);
	if (!ok)
		forget_members(f); /* the target may have come back while it was tried */
	if (cb)
		cb(arg, node, ok ? 0 : -EIO, detail);
}

static void next_device(struct vg_fence_job *j);

static void dev_done(void *arg, int status, int power, const char *detail)
{
	struct vg_fence_job *j = arg;
	const struct vg_fence_dev *d = j->running;
	struct vg_fencer *f = j->f;

	j->running = NULL;
	if (status == 0) {
		vg_logf(f->log, VG_LOG_NOTICE, "fencer", "%s %s through %s: confirmed (%s)",
			action_name(j->action), node_name(f, j->node), d->conf->name,
			detail && *detail ? detail : "done");
		snprintf(j->detail, sizeof(j->detail), "%s: %s", d->conf->name,
			 detail && *detail ? detail : "confirmed");
	} else {
		snprintf(j->detail, sizeof(j->detail), "%s: %s%s%s", d->conf->name, strerror(-status),
			 detail && *detail ? ": " : "", detail ? detail : "");
		vg_logf(f->log, VG_LOG_ERR, "fencer", "%s %s through %s (level %zu) failed: %s",
			action_name(j->action), node_name(f, j->node), d->conf->name, j->level,
			j->detail);
		j->level_failed = 1;
	}
	/* the level's verdict when its last device has answered */
	if (j->plan[j->pos] == LEVEL_END && !j->level_failed) {
		job_finish(j, 1, d->conf->name);
		return;
	}
	next_device(j);
}

static void run_device(void *arg)
{
	struct vg_fence_job *j = arg;
	struct vg_fencer *f = j->f;
	const struct vg_fence_dev *d = &f->devs[j->plan[j->pos++]];
	struct vg_fence_request req = { .action = (uint32_t)j->action,
					.target = node_name(f, j->node),
					.timeout_ms = f->cfg->fencing_timeout_ms };
	int rc;

	j->delay = NULL;
	j->running = d;
	vg_logf(f->log, VG_LOG_WARNING, "fencer", "%s %s through %s (level %zu)",
		action_name(j->action), node_name(f, j->node), d->conf->name, j->level);
	rc = d->pi ? d->pi->info->ops.fence.exec(d->pi->state, &req, dev_done, j, &j->op_id) : -ENODEV;
	if (rc < 0)
		dev_done(j, rc, VG_POWER_UNKNOWN, d->pi ? "the plugin refused the request" :
			 "the plugin would not open");
}

/* Move to the next device: the rest of this level, or the next level after a failure. */
static void next_device(struct vg_fence_job *j)
{
	struct vg_fencer *f = j->f;
	uint32_t delay;

	if (j->level_failed || j->plan[j->pos] == LEVEL_END) {
		while (j->pos < j->n_plan && j->plan[j->pos] != LEVEL_END)
			j->pos++;      /* a failed level: skip the rest of it */
		while (j->pos < j->n_plan && j->plan[j->pos] == LEVEL_END)
			j->pos++;
		j->level++;
		j->level_failed = 0;
	}
	if (j->pos >= j->n_plan) {
		job_finish(j, 0, NULL);
		return;
	}
	delay = f->devs[j->plan[j->pos]].conf->delay_ms + j->extra_delay_ms;
	j->extra_delay_ms = 0;
	if (delay)
		vg_logf(f->log, VG_LOG_NOTICE, "fencer", "waiting %u ms before fencing %s through %s",
			delay, node_name(f, j->node), f->devs[j->plan[j->pos]].conf->name);
	if (vg_loop_timer_start(f->loop, delay, 0, run_device, j, NULL, &j->delay) < 0)
		run_device(j);
}

static size_t running_on(const struct vg_fencer *f, size_t node)
{
	const struct vg_node_rstate *ns = &f->cs->nodes[node];
	size_t n = 0;

	for (size_t r = 0; r < f->cs->n_rsc; r++)
		n += ns->rsc[r].role == VG_ROLE_STARTED || ns->rsc[r].role == VG_ROLE_PROMOTED;
	return n;
}

int vg_fencer_fence(struct vg_fencer *f, uint32_t node, int action, const char *by,
		    vg_fencer_done_cb cb, void *arg)
{
	struct vg_fence_job *j;
	int rc;

	for (j = f->jobs; j; j = j->next)
		if (j->node == node)
			return -EALREADY;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	*j = (struct vg_fence_job){ .f = f, .node = node, .by = by, .cb = cb, .arg = arg,
				    .action = action ? action : f->cfg->fencing_action, .level = 1,
				    .started_ms = vg_loop_now_ms(f->loop) };
	rc = plan_build(f, j);
	if (rc < 0) {
		free(j->plan);
		free(j);
		vg_logf(f->log, VG_LOG_ERR, "fencer", "cannot fence %s: no fence device lists it in its targets",
			node_name(f, node));
		return rc;
	}
	/* two-node race: spare the node that runs more, by making its fencing wait */
	if (f->cfg->priority_delay_ms && running_on(f, node) > running_on(f, f->cs->self)) {
		j->extra_delay_ms = f->cfg->priority_delay_ms;
		vg_logf(f->log, VG_LOG_NOTICE, "fencer",
			"%s runs more resources than this node (%zu > %zu): priority delay %u ms",
			node_name(f, node), running_on(f, node), running_on(f, f->cs->self),
			f->cfg->priority_delay_ms);
	}
	snprintf(j->detail, sizeof(j->detail), "no device tried yet");
	j->next = f->jobs;
	f->jobs = j;
	next_device(j);
	return 0;
}

void vg_fencer_view_changed(struct vg_fencer *f)
{
	forget_members(f);
}

int vg_fencer_start(struct vg_fencer *f, const struct vg_config *cfg, const struct vg_host_env *env,
		    struct vg_cstate *cs, struct vg_net *net)
{
	memset(f, 0, sizeof(*f));
	*f = (struct vg_fencer){ .loop = env->loop, .log = env->log, .cfg = cfg, .env = env,
				 .cs = cs, .net = net };
	f->devs = calloc(cfg->n_fence_devices + 1, sizeof(*f->devs));
	f->failed = calloc(net->n_peers + 1, 1);
	if (!f->devs || !f->failed)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_fence_devices; i++) {
		f->devs[i].conf = &cfg->fence_devices[i];
		if (vg_plugin_inst_open(env, &cfg->fence_devices[i], 0, &f->devs[i].pi) < 0) {
			f->devs[i].pi = NULL;
			vg_logf(f->log, VG_LOG_ERR, "fencer", "fence device %s would not open: it is skipped",
				cfg->fence_devices[i].name);
		}
	}
	f->n_devs = cfg->n_fence_devices;
	return 0;
}

void vg_fencer_stop(struct vg_fencer *f)
{
	while (f->jobs) {
		f->jobs->cb = NULL;
		job_free(f, f->jobs);
	}
	for (size_t i = 0; f->devs && i < f->n_devs; i++)
		vg_plugin_inst_close(f->devs[i].pi);
	free(f->devs);
	free(f->failed);
	memset(f, 0, sizeof(*f));
}
