/*
 * agent — runs any program of the fence-agents package (fence_ipmilan,
 * fence_apc, fence_virsh, ...) unmodified, through its stdin protocol:
 * every request is one child, `<agent>` with `action=...`, `plug=...` and
 * the instance's attributes as name=value lines on stdin, bounded by the
 * request's timeout.  Its exit code and last line are the answer.
 * See docs/plugins/agent.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vigil/plugin.h>

#include "agent.h"

static const struct vg_param_decl ag_params[] = {
	[AG_P_AGENT] = {
		.name = "agent", .type = VG_PARAM_STRING, .flags = VG_PARAM_REQUIRED,
		.help = "the fence agent: a name in agent_dir (\"fence_ipmilan\") or an absolute path",
	},
	[AG_P_AGENT_DIR] = {
		.name = "agent_dir", .type = VG_PARAM_PATH, .def = "/usr/sbin",
		.help = "directory where an agent given by name is found",
	},
	[AG_P_PLUG] = {
		.name = "plug", .type = VG_PARAM_STRING,
		.help = "plug (port) of the target on the device; default: the request's target",
	},
	[AG_P_VERBOSE] = {
		.name = "verbose", .type = VG_PARAM_BOOL, .def = "false",
		.help = "run the agent with verbose=1 and log its output at info level",
	},
	{ .name = NULL },
};

struct ag;

/* One accepted request, from exec() until its callback has returned. */
struct ag_op {
	struct ag *ag;
	struct ag_op *next;
	uint64_t id;
	uint32_t action;          /* enum vg_fence_action */
	int cancelled;            /* 1 once cancel() was called */
	struct vg_child *child;   /* the running agent; NULL once reaped */
	vg_fence_done_cb cb;
	void *arg;
};

/* One instance: one configured fence device. */
struct ag {
	const struct vg_host *host;     /* valid until close() returns */
	const struct vg_instance *inst; /* name and attributes; same lifetime */
	struct ag_agent agent;
	const char *plug;               /* the plug parameter, or NULL */
	int verbose;
	uint64_t next_id;
	struct ag_op *ops;              /* requests in flight */
};

static void ag_op_unlink(struct ag_op *op)
{
	struct ag_op **pp;

	for (pp = &op->ag->ops; *pp; pp = &(*pp)->next) {
		if (*pp == op) {
			*pp = op->next;
			return;
		}
	}
}

/* Every output line at debug (info when verbose); a failure at warning. */
static void ag_op_log(struct ag_op *op, const struct vg_child_result *res,
		      const struct ag_outcome *o)
{
	struct ag *g = op->ag;
	const char *line = res->output ? res->output : "", *nl;

	for (; *line; line = nl + 1) {
		int len;

		nl = strchr(line, '\n');
		len = nl ? (int)(nl - line) : (int)strlen(line);
		if (len > 0)
			vg_log(g->host, g->verbose ? VG_LOG_INFO : VG_LOG_DEBUG, "agent: %s: %s: %.*s",
			       g->inst->name, ag_action_name(op->action), len, line);
		if (!nl)
			break;
	}
	if (o->status < 0 && o->status != -ECANCELED)
		vg_warn(g->host, "agent: %s: %s %s failed after %llu ms: %s%s%s", g->inst->name,
			g->agent.name, ag_action_name(op->action),
			(unsigned long long)res->duration_ms, strerror(-o->status),
			o->detail && o->detail[0] ? ": " : "", o->detail ? o->detail : "");
	else
		vg_debug(g->host, "agent: %s: %s %s done in %llu ms", g->inst->name,
			 g->agent.name, ag_action_name(op->action),
			 (unsigned long long)res->duration_ms);
}

/* Unlinked first: the callback may call exec() or close() again. */
static void ag_child_done(void *arg, const struct vg_child_result *res)
{
	struct ag_op *op = arg;
	struct ag_outcome o = { 0 };
	int rc;

	op->child = NULL;
	ag_op_unlink(op);
	rc = ag_outcome_map(op->action, res, &o);
	if (op->cancelled) {
		o.status = -ECANCELED;
		o.power = VG_POWER_UNKNOWN;
		free(o.detail);
		o.detail = strdup("cancelled");
	} else if (rc < 0) {
		o.status = rc;
	}
	ag_op_log(op, res, &o);
	op->cb(op->arg, o.status, o.power, o.detail ? o.detail : "out of memory");
	free(o.detail);
	free(op);
}

/* The plug for `req`: the plug parameter wins over the request's target. */
static const char *ag_plug_of(const struct ag *g, const struct vg_fence_request *req)
{
	if (req->action == VG_FENCE_LIST || req->action == VG_FENCE_MONITOR)
		return NULL;
	return g->plug ? g->plug : req->target;
}

static int ag_op_spawn(struct ag_op *op, const struct vg_fence_request *req)
{
	struct ag *g = op->ag;
	char *argv[] = { g->agent.name, NULL };
	char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
			 "PYTHONWARNINGS=ignore", NULL };
	const char *plug = ag_plug_of(g, req);
	struct vg_spawn sp = {
		.path = g->agent.path, .argv = argv, .envp = envp,
		.timeout_ms = req->timeout_ms, .output_max = AG_OUTPUT_MAX,
	};
	char *in;
	int rc;

	in = ag_stdin_build(ag_action_name(req->action), plug, g->inst, g->verbose,
			    &sp.stdin_len);
	if (!in)
		return -ENOMEM;
	sp.stdin_data = in;
	vg_debug(g->host, "agent: %s: running %s action=%s%s%s (timeout %u ms)", g->inst->name,
		 g->agent.name, ag_action_name(req->action), plug ? " plug=" : "",
		 plug ? plug : "", req->timeout_ms);
	rc = vg_spawn(g->host, &sp, ag_child_done, op, &op->child);
	free(in);
	return rc;
}

static int ag_exec(void *state, const struct vg_fence_request *req,
		   vg_fence_done_cb cb, void *arg, uint64_t *op_id)
{
	struct ag *g = state;
	char err[512];
	struct ag_op *op;
	int rc;

	if (!ag_action_name(req->action)) {
		vg_err(g->host, "agent: %s: unknown action %u", g->inst->name, req->action);
		return -EINVAL;
	}
	rc = ag_agent_check(&g->agent, err, sizeof(err));
	if (rc < 0) {
		vg_err(g->host, "agent: %s: %s", g->inst->name, err);
		return rc;
	}
	op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	*op = (struct ag_op){ .ag = g, .id = ++g->next_id, .action = req->action,
			      .cb = cb, .arg = arg };
	rc = ag_op_spawn(op, req);
	if (rc < 0) {
		vg_err(g->host, "agent: %s: cannot run %s %s: %s", g->inst->name, g->agent.name,
		       ag_action_name(req->action), strerror(-rc));
		free(op);
		return rc;
	}
	op->next = g->ops;
	g->ops = op;
	if (op_id)
		*op_id = op->id;
	return 0;
}

/* The child's callback reports -ECANCELED once it is reaped, never this call. */
static void ag_cancel(void *state, uint64_t op_id)
{
	struct ag *g = state;
	struct ag_op *op;

	for (op = g->ops; op && op->id != op_id; op = op->next)
		;
	if (!op || op->cancelled)
		return;
	op->cancelled = 1;
	vg_debug(g->host, "agent: %s: cancelling %s", g->inst->name, ag_action_name(op->action));
	vg_child_cancel(g->host, op->child);
}

static int ag_open(const struct vg_host *host, const struct vg_instance *inst, void **state)
{
	struct ag *g;
	char err[512];
	int rc;

	g = calloc(1, sizeof(*g));
	if (!g) {
		vg_err(host, "agent: %s: out of memory", inst->name);
		return -ENOMEM;
	}
	g->host = host;
	g->inst = inst;
	g->plug = inst->params[AG_P_PLUG].is_set ? inst->params[AG_P_PLUG].s : NULL;
	g->verbose = (int)inst->params[AG_P_VERBOSE].i;
	rc = ag_agent_resolve(inst->params[AG_P_AGENT].s, inst->params[AG_P_AGENT_DIR].s,
			      &g->agent, err, sizeof(err));
	if (rc < 0) {
		vg_err(host, "agent: %s: %s", inst->name, err);
		free(g);
		return rc;
	}
	/* A missing agent is not fatal here: its requests are refused with the reason. */
	vg_debug(host, "agent: %s: agent %s", inst->name, g->agent.path);
	*state = g;
	return 0;
}

/* Requests in flight are dropped without their callback; the core reaps their children. */
static void ag_close(void *state)
{
	struct ag *g = state;
	struct ag_op *op;

	while ((op = g->ops)) {
		g->ops = op->next;
		free(op);
	}
	free(g);
}

static const struct vg_fence_ops ag_ops = {
	.exec = ag_exec,
	.cancel = ag_cancel,
	.validate = ag_validate,
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_FENCE,
	.name = "agent",
	.version = "1.0",
	.description = "runs a fence agent of the fence-agents package (fence_ipmilan, ...) unmodified",
	.params = ag_params,
	.open = ag_open,
	.close = ag_close,
	.ops = &ag_ops,
	.flags = VG_PLUGIN_F_ATTRS,
);
