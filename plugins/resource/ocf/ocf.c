/*
 * ocf — runs any OCF resource agent (resource-agents, pacemaker's agents,
 * a site's own) unmodified.  Every action is one child process:
 * `<ocf_root>/resource.d/<provider>/<type> <action>`, with the instance's
 * attributes as OCF_RESKEY_* variables, bounded by the request's timeout.
 * Its exit code is the OCF rc.  See docs/plugins/ocf.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vigil/plugin.h>

#include "ocf.h"

#define OCF_META_OUTPUT_MAX (256 * 1024) /* meta-data XML can be long */

static const struct vg_param_decl ocf_params[] = {
	[OCF_P_AGENT] = {
		.name = "agent", .type = VG_PARAM_STRING, .flags = VG_PARAM_REQUIRED,
		.help = "the agent, \"provider:type\" (e.g. \"heartbeat:IPaddr2\")",
	},
	[OCF_P_OCF_ROOT] = {
		.name = "ocf_root", .type = VG_PARAM_PATH, .def = "/usr/lib/ocf",
		.help = "OCF_ROOT: agents are under <ocf_root>/resource.d/<provider>/",
	},
	{ .name = NULL },
};

struct ocf;

/* One accepted request, from exec() until its callback has returned. */
struct ocf_op {
	struct ocf *ocf;
	struct ocf_op *next;
	uint64_t id;
	uint32_t action;          /* enum vg_rsc_action */
	int status;               /* 0, or -ECANCELED once cancelled */
	struct vg_child *child;   /* the running agent; NULL once reaped or when none runs */
	struct vg_timer *timer;   /* one-shot, for an answer given without a child */
	int rc_now;               /* that answer's rc */
	char msg[512];            /* that answer's output */
	vg_rsc_done_cb cb;
	void *arg;
};

/* One instance: one configured resource. */
struct ocf {
	const struct vg_host *host;     /* valid until close() returns */
	const struct vg_instance *inst; /* name and attributes; same lifetime */
	struct ocf_agent agent;
	uint64_t next_id;
	struct ocf_op *ops;             /* requests in flight */
};

static const char *const ocf_rc_names[] = {
	"success", "generic error", "invalid arguments", "unimplemented",
	"insufficient privileges", "not installed", "not configured", "not running",
	"running promoted", "failed promoted",
};

static const char *ocf_rc_name(int rc)
{
	if (rc < 0 || rc > VG_OCF_FAILED_PROMOTED)
		return "?";
	return ocf_rc_names[rc];
}

static void ocf_op_unlink(struct ocf_op *op)
{
	struct ocf_op **pp;

	for (pp = &op->ocf->ops; *pp; pp = &(*pp)->next) {
		if (*pp == op) {
			*pp = op->next;
			return;
		}
	}
}

/* An expected answer needs no warning: a clean stop seen by monitor is one. */
static int ocf_op_failed(uint32_t action, int status, int rc)
{
	if (status == -ECANCELED)
		return 0;
	if (status < 0)
		return 1;
	if (rc == VG_OCF_SUCCESS)
		return 0;
	if (action == VG_RSC_MONITOR)
		return rc != VG_OCF_NOT_RUNNING && rc != VG_OCF_RUNNING_PROMOTED;
	return 1;
}

/* Every line at debug; on failure the last non-empty line at warning. */
static void ocf_op_log(struct ocf_op *op, int status, int rc, const char *out)
{
	struct ocf *o = op->ocf;
	const char *name = ocf_action_name(op->action);
	const char *line = out, *last = NULL, *nl;
	int last_len = 0;

	for (; *line; line = nl + 1) {
		int len;

		nl = strchr(line, '\n');
		len = nl ? (int)(nl - line) : (int)strlen(line);
		if (len > 0 && op->action != VG_RSC_META_DATA)
			vg_debug(o->host, "ocf: %s: %s: %.*s", o->inst->name, name, len, line);
		if (len > 0) {
			last = line;
			last_len = len;
		}
		if (!nl)
			break;
	}
	if (!ocf_op_failed(op->action, status, rc))
		return;
	if (status < 0)
		vg_warn(o->host, "ocf: %s: %s of %s failed: %s%s%.*s", o->inst->name,
			name ? name : "action", o->agent.spec, strerror(-status),
			last ? ": " : "", last_len, last ? last : "");
	else
		vg_warn(o->host, "ocf: %s: %s of %s returned %d (%s)%s%.*s", o->inst->name,
			name ? name : "action", o->agent.spec, rc, ocf_rc_name(rc),
			last ? ": " : "", last_len, last ? last : "");
}

/* Unlinked first: the callback may call exec() or close() again. */
static void ocf_op_report(struct ocf_op *op, int status, int rc, const char *out)
{
	ocf_op_unlink(op);
	if (status < 0)
		rc = VG_OCF_ERR_GENERIC;
	ocf_op_log(op, status, rc, out);
	op->cb(op->arg, status, rc, out);
	free(op);
}

static void ocf_child_done(void *arg, const struct vg_child_result *res)
{
	struct ocf_op *op = arg;
	int status = op->status, rc = VG_OCF_ERR_GENERIC;

	op->child = NULL;
	if (!status && res->timed_out)
		status = -ETIMEDOUT;
	else if (!status && res->exited && res->exit_code <= VG_OCF_FAILED_PROMOTED)
		rc = res->exit_code;
	ocf_op_report(op, status, rc, res->output ? res->output : "");
}

/* The one-shot timer fired: its handle is already freed by the core. */
static void ocf_op_fire(void *arg)
{
	struct ocf_op *op = arg;

	op->timer = NULL;
	if (op->status < 0)
		snprintf(op->msg, sizeof(op->msg), "%s", strerror(-op->status));
	ocf_op_report(op, op->status, op->rc_now, op->msg);
}

/* Answer without running the agent, from the loop (never from inside exec). */
static int ocf_op_answer(struct ocf_op *op, int rc)
{
	op->rc_now = rc;
	return vg_timer_start(op->ocf->host, 0, 0, ocf_op_fire, op, &op->timer);
}

static int ocf_op_spawn(struct ocf_op *op, const struct vg_rsc_request *req)
{
	struct ocf *o = op->ocf;
	char *argv[] = { o->agent.path, (char *)ocf_action_name(req->action), NULL };
	struct vg_spawn sp = {
		.path = o->agent.path, .argv = argv, .timeout_ms = req->timeout_ms,
		.output_max = req->action == VG_RSC_META_DATA ? OCF_META_OUTPUT_MAX : 0,
	};
	struct ocf_env env;
	int rc;

	rc = ocf_env_build(&env, &o->agent, o->inst, req, req->timeout_ms);
	if (rc < 0)
		return rc;
	sp.envp = env.v;
	vg_debug(o->host, "ocf: %s: running %s %s (timeout %u ms)", o->inst->name,
		 o->agent.spec, argv[1], req->timeout_ms);
	rc = vg_spawn(o->host, &sp, ocf_child_done, op, &op->child);
	ocf_env_free(&env);
	return rc;
}

/*
 * Known action and an agent to run: spawn it.  Otherwise answer as an
 * agent would: unknown action -> unimplemented, no agent -> not installed.
 */
static int ocf_op_start(struct ocf_op *op, const struct vg_rsc_request *req)
{
	if (!ocf_action_name(req->action)) {
		snprintf(op->msg, sizeof(op->msg), "unknown action %u", req->action);
		return ocf_op_answer(op, VG_OCF_ERR_UNIMPLEMENTED);
	}
	if (ocf_agent_check(&op->ocf->agent, op->msg, sizeof(op->msg)) < 0)
		return ocf_op_answer(op, VG_OCF_ERR_INSTALLED);
	return ocf_op_spawn(op, req);
}

static int ocf_exec(void *state, const struct vg_rsc_request *req,
		    vg_rsc_done_cb cb, void *arg, uint64_t *op_id)
{
	struct ocf *o = state;
	struct ocf_op *op;
	int rc;

	op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	*op = (struct ocf_op){ .ocf = o, .id = ++o->next_id, .action = req->action,
			       .cb = cb, .arg = arg };
	rc = ocf_op_start(op, req);
	if (rc < 0) {
		vg_err(o->host, "ocf: %s: cannot run action %u of %s: %s", o->inst->name,
		       req->action, o->agent.spec, strerror(-rc));
		free(op);
		return rc;
	}
	op->next = o->ops;
	o->ops = op;
	if (op_id)
		*op_id = op->id;
	return 0;
}

/* The child's callback (or a fresh 0 ms timer) reports -ECANCELED, never this call. */
static void ocf_cancel(void *state, uint64_t op_id)
{
	struct ocf *o = state;
	struct ocf_op *op;

	for (op = o->ops; op && op->id != op_id; op = op->next)
		;
	if (!op || op->status == -ECANCELED)
		return;
	op->status = -ECANCELED;
	vg_debug(o->host, "ocf: %s: cancelling %s", o->inst->name, ocf_action_name(op->action));
	if (op->child) {
		vg_child_cancel(o->host, op->child);
		return;
	}
	vg_timer_stop(o->host, op->timer);
	op->timer = NULL;
	if (vg_timer_start(o->host, 0, 0, ocf_op_fire, op, &op->timer) < 0)
		ocf_op_fire(op); /* no timer to be had: report now rather than never */
}

static int ocf_open(const struct vg_host *host, const struct vg_instance *inst, void **state)
{
	struct ocf *o;
	char err[512];
	int rc;

	o = calloc(1, sizeof(*o));
	if (!o) {
		vg_err(host, "ocf: %s: out of memory", inst->name);
		return -ENOMEM;
	}
	o->host = host;
	o->inst = inst;
	rc = ocf_agent_parse(inst->params[OCF_P_AGENT].s, inst->params[OCF_P_OCF_ROOT].s,
			     &o->agent, err, sizeof(err));
	if (rc < 0) {
		vg_err(host, "ocf: %s: %s", inst->name, err);
		free(o);
		return rc;
	}
	/* A missing agent is not fatal here: its actions answer "not installed". */
	vg_debug(host, "ocf: %s: agent %s at %s", inst->name, o->agent.spec, o->agent.path);
	*state = o;
	return 0;
}

/* Requests in flight are dropped without their callback; the core reaps their children. */
static void ocf_close(void *state)
{
	struct ocf *o = state;
	struct ocf_op *op;

	while ((op = o->ops)) {
		o->ops = op->next;
		vg_timer_stop(o->host, op->timer);
		free(op);
	}
	free(o);
}

static const struct vg_resource_ops ocf_ops = {
	.exec = ocf_exec,
	.cancel = ocf_cancel,
	.validate = ocf_validate,
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_RESOURCE,
	.name = "ocf",
	.version = "1.0",
	.description = "runs an OCF resource agent (resource-agents, pacemaker) unmodified",
	.params = ocf_params,
	.open = ocf_open,
	.close = ocf_close,
	.ops = &ocf_ops,
	.flags = VG_PLUGIN_F_ATTRS,
);
