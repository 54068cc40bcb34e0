/*
 * "replication" — a resource plugin built into vigild: a replication
 * instance of the configuration (`replication = ( ... )`, replication.c)
 * as a promotable resource.  Registered by the core itself (no .so); the
 * executor opens and calls it like any resource plugin, so clones,
 * colocation and order work unchanged.  docs/replication.md.
 *
 * The instance's helper runs as long as vigild does: start only checks
 * that the instance answers and has a disk, stop demotes a primary.  Both
 * remember whether the resource is started here, which is what a
 * secondary's monitor then reports (NOT_RUNNING or RUNNING): the store's
 * own state cannot say whether the cluster wanted it.  After a vigild
 * restart the flag is 0 and the instance was restarted with it.
 *
 * promote and demote are the instance's ops (completion by callback); a
 * refusal with -EBUSY (the old primary is still seen: its session has not
 * timed out yet, or an NBD client still has the store open) or -ENOTCONN
 * (the helper restarts) is retried every 250 ms until the action's timeout;
 * any other refusal is ERR_GENERIC at once, so that the cluster promotes
 * elsewhere.  Nothing here waits: every step is a timer or a callback.
 */
#include "config.h"
#include "host.h"
#include "replication.h"
#include "rsc_replication.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RR_POLL_MS  100   /* start: until the instance answers */
#define RR_RETRY_MS 250   /* promote/demote refused for now: retry */

enum { P_INSTANCE, P_INITIAL_PRIMARY };

static const struct vg_param_decl rr_params[] = {
	[P_INSTANCE] = { .name = "instance", .type = VG_PARAM_STRING, .flags = VG_PARAM_REQUIRED,
			 .help = "name of the replication instance (replication = ( { name = ...; } )) "
				 "this resource drives" },
	[P_INITIAL_PRIMARY] = { .name = "initial_primary", .type = VG_PARAM_STRING,
				.help = "node on which the first promote of a brand-new pair is forced "
					"(full sync to the peer)" },
	{ .name = NULL },
};

struct rr;

struct rr_op {
	struct rr *r;              /* NULL once reported while a request was pending */
	struct rr_op *next;
	uint64_t id;
	uint32_t action;
	vg_rsc_done_cb cb;
	void *arg;
	struct vg_timer *timer;    /* report, poll, retry */
	struct vg_timer *deadline;
	int pending;               /* a promote/demote awaits the instance's callback */
	int status, rc;
	int busy_logged;
	char msg[256];
};

struct rr {
	const struct vg_host *host;
	const char *name;          /* the resource's, borrowed */
	const char *instance;      /* param instance, borrowed */
	const char *initial_primary;
	const char *node;          /* local node name, borrowed from the core */
	struct vg_repl_set *set;
	int started;               /* started here and not stopped since */
	uint64_t next_id;
	struct rr_op *ops;
};

static void rr_say(struct rr_op *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void rr_say(struct rr_op *op, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(op->msg, sizeof(op->msg), fmt, ap);
	va_end(ap);
}

/* The instance, if opened on this node; else NULL with the reason in op->msg. */
static struct vg_repl_local *rr_instance(struct rr_op *op)
{
	struct rr *r = op->r;
	struct vg_repl_local *rep = vg_repl_set_find(r->set, r->instance);

	if (!rep)
		rr_say(op, "no replication instance \"%s\"", r->instance);
	else if (!rep->here)
		rr_say(op, "replication instance \"%s\" is not configured on %s", r->instance, r->node);
	else if (!rep->pi)
		rr_say(op, "replication instance \"%s\" would not open on %s", r->instance, r->node);
	return rep && rep->pi ? rep : NULL;
}

static void rr_unlink(struct rr_op *op)
{
	for (struct rr_op **pp = &op->r->ops; *pp; pp = &(*pp)->next)
		if (*pp == op) {
			*pp = op->next;
			return;
		}
}

/* Report once; the op's memory stays while the instance still owes it a callback. */
static void rr_finish(struct rr_op *op, int status, int rc)
{
	struct rr *r = op->r;

	rr_unlink(op);
	vg_timer_stop(r->host, op->timer);
	vg_timer_stop(r->host, op->deadline);
	op->timer = op->deadline = NULL;
	op->r = NULL;
	op->cb(op->arg, status, status < 0 ? VG_OCF_ERR_GENERIC : rc, op->msg);
	if (!op->pending)
		free(op);
}

static void rr_report_cb(void *arg)
{
	struct rr_op *op = arg;

	op->timer = NULL;
	rr_finish(op, op->status, op->rc);
}

/* exec() must not call back: every early answer goes through a 0 ms timer. */
static int rr_report_later(struct rr_op *op, int rc)
{
	op->rc = rc;
	vg_timer_stop(op->r->host, op->timer);
	op->timer = NULL;
	return vg_timer_start(op->r->host, 0, 0, rr_report_cb, op, &op->timer);
}

static void rr_after(struct rr_op *op, uint64_t ms, void (*fn)(void *))
{
	vg_timer_stop(op->r->host, op->timer);
	op->timer = NULL;
	if (vg_timer_start(op->r->host, ms, 0, fn, op, &op->timer) < 0)
		rr_finish(op, -ENOMEM, VG_OCF_ERR_GENERIC);
}

/* ---- monitor ---- */

static int rr_monitor_rc(struct rr_op *op, const struct vg_repl_status *st, int rc)
{
	struct rr *r = op->r;

	if (rc < 0) {
		rr_say(op, "instance %s has no state: %s", r->instance, strerror(-rc));
		return r->started ? VG_OCF_ERR_GENERIC : VG_OCF_NOT_RUNNING;
	}
	rr_say(op, "%s %s/%s, disk %s/%s, %s%s", r->instance, vg_repl_role_name(st->role),
	       vg_repl_role_name(st->peer_role), vg_repl_disk_name(st->disk),
	       vg_repl_disk_name(st->peer_disk), vg_repl_conn_name(st->conn),
	       st->split_brain ? ", SPLIT BRAIN" : "");
	if (st->role == VG_REPL_ROLE_PRIMARY) {
		if (st->split_brain)
			vg_warn(r->host, "%s: primary in split brain: %s", r->name, op->msg);
		return VG_OCF_RUNNING_PROMOTED; /* whatever we believed: it serves the store */
	}
	if (!r->started)
		return VG_OCF_NOT_RUNNING;
	if (st->role != VG_REPL_ROLE_SECONDARY || st->split_brain ||
	    st->disk == VG_REPL_DISK_DISKLESS) {
		vg_warn(r->host, "%s: broken: %s", r->name, op->msg);
		return VG_OCF_ERR_GENERIC;
	}
	return VG_OCF_SUCCESS;
}

static int rr_monitor(struct rr_op *op)
{
	struct vg_repl_local *rep = rr_instance(op);
	struct vg_repl_status st;
	int rc;

	if (!rep)
		return rr_report_later(op, VG_OCF_NOT_RUNNING);
	rc = vg_repl_status(rep, &st);
	return rr_report_later(op, rr_monitor_rc(op, &st, rc));
}

/* ---- start ---- */

static void rr_start_poll_cb(void *arg)
{
	struct rr_op *op = arg;
	struct vg_repl_local *rep = rr_instance(op);
	struct vg_repl_status st;

	op->timer = NULL;
	if (!rep) {
		rr_finish(op, 0, VG_OCF_ERR_GENERIC);
		return;
	}
	if (vg_repl_status(rep, &st) < 0) {
		rr_say(op, "instance %s does not answer yet", op->r->instance);
		rr_after(op, RR_POLL_MS, rr_start_poll_cb);
		return;
	}
	if (st.disk == VG_REPL_DISK_DISKLESS || st.split_brain) {
		rr_say(op, "instance %s: %s", op->r->instance,
		       st.split_brain ? "split brain" : "no disk (diskless)");
		vg_err(op->r->host, "%s: start failed: %s", op->r->name, op->msg);
		rr_finish(op, 0, VG_OCF_ERR_GENERIC);
		return;
	}
	op->r->started = 1;
	rr_say(op, "instance %s: %s, disk %s, %s", op->r->instance, vg_repl_role_name(st.role),
	       vg_repl_disk_name(st.disk), vg_repl_conn_name(st.conn));
	rr_finish(op, 0, VG_OCF_SUCCESS);
}

static int rr_start(struct rr_op *op)
{
	struct vg_repl_local *rep = vg_repl_set_find(op->r->set, op->r->instance);

	if (!rr_instance(op))
		return rr_report_later(op, rep && !rep->here ? VG_OCF_ERR_INSTALLED
							      : VG_OCF_ERR_GENERIC);
	return vg_timer_start(op->r->host, 0, 0, rr_start_poll_cb, op, &op->timer);
}

/* ---- promote, demote (and stop of a primary) ---- */

static void rr_role_step(void *arg);

/* A brand-new pair: both disks inconsistent, connected, no generation ever agreed. */
static int rr_brand_new(const struct vg_repl_status *st)
{
	return st->disk == VG_REPL_DISK_INCONSISTENT && st->peer_disk == VG_REPL_DISK_INCONSISTENT &&
	       st->conn == VG_REPL_CONN_CONNECTED && !st->gen_bitmap && !st->gen_history[0];
}

/* Refused (now or by callback): retry what may pass later, fail the rest. */
static void rr_role_refused(struct rr_op *op, int rc, const char *detail)
{
	const char *what = op->action == VG_RSC_PROMOTE ? "promote" : "demote";

	rr_say(op, "%s of %s refused: %s", what, op->r->instance, detail);
	if (rc == -EBUSY || rc == -ENOTCONN) {
		if (!op->busy_logged++)
			vg_info(op->r->host, "%s: %s: retrying until the timeout", op->r->name, op->msg);
		rr_after(op, RR_RETRY_MS, rr_role_step);
		return;
	}
	vg_warn(op->r->host, "%s: %s", op->r->name, op->msg);
	rr_finish(op, 0, VG_OCF_ERR_GENERIC);
}

static void rr_role_done(void *arg, int status, const char *detail)
{
	struct rr_op *op = arg;

	op->pending = 0;
	if (!op->r) { /* reported already (timeout, cancel, close) */
		free(op);
		return;
	}
	if (op->status == -ECANCELED)
		return; /* its report is on a timer already */
	if (status < 0) {
		rr_role_refused(op, status, detail && *detail ? detail : strerror(-status));
		return;
	}
	rr_say(op, "%s %s: %s", op->action == VG_RSC_PROMOTE ? "promote" : "demote",
	       op->r->instance, detail && *detail ? detail : "done");
	if (op->action == VG_RSC_STOP)
		op->r->started = 0;
	vg_notice(op->r->host, "%s: %s", op->r->name, op->msg);
	rr_finish(op, 0, VG_OCF_SUCCESS);
}

/*
 * Flags of the promote on this node: FORCE for the first promote of a
 * brand-new pair on initial_primary; -EAGAIN while such a pair is not
 * connected yet (the force needs to see the peer's disk): retried.
 */
static int rr_promote_flags(struct rr_op *op, struct vg_repl_local *rep)
{
	struct rr *r = op->r;
	struct vg_repl_status st;

	if (!r->initial_primary || strcmp(r->initial_primary, r->node) ||
	    vg_repl_status(rep, &st) < 0 || st.disk != VG_REPL_DISK_INCONSISTENT ||
	    st.gen_bitmap || st.gen_history[0])
		return 0;
	if (st.conn == VG_REPL_CONN_CONNECTING)
		return -EAGAIN;
	if (!rr_brand_new(&st))
		return 0;
	vg_notice(r->host, "%s: brand-new pair, %s is initial_primary: forcing the first promote "
		  "of %s (full sync to the peer)", r->name, r->node, r->instance);
	return VG_REPL_PROMOTE_FORCE;
}

static void rr_role_step(void *arg)
{
	struct rr_op *op = arg;
	struct vg_repl_local *rep = rr_instance(op);
	int rc;

	op->timer = NULL;
	if (!rep) {
		rr_finish(op, 0, VG_OCF_ERR_GENERIC);
		return;
	}
	rc = op->action == VG_RSC_PROMOTE ? rr_promote_flags(op, rep) : 0;
	if (rc == -EAGAIN) {
		rr_say(op, "brand-new pair: waiting for %s to connect to its peer", op->r->instance);
		rr_after(op, RR_RETRY_MS, rr_role_step);
		return;
	}
	op->pending = 1;
	if (op->action == VG_RSC_PROMOTE)
		rc = vg_repl_promote(rep, (uint32_t)rc, rr_role_done, op);
	else
		rc = vg_repl_demote(rep, rr_role_done, op);
	if (rc < 0) {
		op->pending = 0;
		rr_role_refused(op, rc, strerror(-rc));
	}
}

static int rr_role(struct rr_op *op)
{
	if (!rr_instance(op))
		return rr_report_later(op, op->action == VG_RSC_DEMOTE ? VG_OCF_NOT_RUNNING
									  : VG_OCF_ERR_GENERIC);
	return vg_timer_start(op->r->host, 0, 0, rr_role_step, op, &op->timer);
}

/* stop: the helper runs on with the instance; a primary is demoted first. */
static int rr_stop(struct rr_op *op)
{
	struct vg_repl_local *rep = rr_instance(op);
	struct vg_repl_status st;

	if (rep && vg_repl_status(rep, &st) == 0 && st.role == VG_REPL_ROLE_PRIMARY)
		return vg_timer_start(op->r->host, 0, 0, rr_role_step, op, &op->timer);
	op->r->started = 0;
	rr_say(op, "stopped (%s stays secondary with vigild)", op->r->instance);
	return rr_report_later(op, VG_OCF_SUCCESS);
}

/* ---- requests ---- */

static void rr_deadline_cb(void *arg)
{
	struct rr_op *op = arg;

	op->deadline = NULL;
	vg_warn(op->r->host, "%s: %s timed out%s%s", op->r->name,
		op->action == VG_RSC_PROMOTE ? "promote" : op->action == VG_RSC_DEMOTE ? "demote" :
		op->action == VG_RSC_STOP ? "stop" : "start", op->msg[0] ? ": " : "", op->msg);
	rr_finish(op, -ETIMEDOUT, VG_OCF_ERR_GENERIC);
}

static int rr_dispatch(struct rr_op *op, const struct vg_rsc_request *req)
{
	switch (req->action) {
	case VG_RSC_START:
		return rr_start(op);
	case VG_RSC_STOP:
		return rr_stop(op);
	case VG_RSC_MONITOR:
		return rr_monitor(op);
	case VG_RSC_PROMOTE:
	case VG_RSC_DEMOTE:
		return rr_role(op);
	case VG_RSC_VALIDATE_ALL:
		return rr_report_later(op, rr_instance(op) ? VG_OCF_SUCCESS : VG_OCF_ERR_CONFIGURED);
	default:
		rr_say(op, "action %u not implemented", req->action);
		return rr_report_later(op, VG_OCF_ERR_UNIMPLEMENTED);
	}
}

static int rr_exec(void *state, const struct vg_rsc_request *req, vg_rsc_done_cb cb, void *arg,
		   uint64_t *op_id)
{
	struct rr *r = state;
	struct rr_op *op = calloc(1, sizeof(*op));
	int rc = 0;

	if (!op)
		return -ENOMEM;
	*op = (struct rr_op){ .r = r, .id = ++r->next_id, .action = req->action, .cb = cb,
			      .arg = arg, .rc = VG_OCF_ERR_GENERIC };
	if (req->timeout_ms && req->action != VG_RSC_MONITOR)
		rc = vg_timer_start(r->host, req->timeout_ms, 0, rr_deadline_cb, op, &op->deadline);
	if (rc == 0)
		rc = rr_dispatch(op, req);
	if (rc < 0) {
		vg_timer_stop(r->host, op->timer);
		vg_timer_stop(r->host, op->deadline);
		free(op);
		return rc;
	}
	op->next = r->ops;
	r->ops = op;
	if (op_id)
		*op_id = op->id;
	return 0;
}

static void rr_cancel(void *state, uint64_t op_id)
{
	struct rr *r = state;
	struct rr_op *op;

	for (op = r->ops; op && op->id != op_id; op = op->next)
		;
	if (!op || op->status == -ECANCELED)
		return;
	op->status = -ECANCELED;
	rr_say(op, "cancelled");
	vg_timer_stop(r->host, op->deadline);
	op->deadline = NULL;
	if (rr_report_later(op, VG_OCF_ERR_GENERIC) < 0)
		rr_finish(op, -ECANCELED, VG_OCF_ERR_GENERIC);
}

static int rr_open(const struct vg_host *host, const struct vg_instance *inst, void **state)
{
	const struct vg_node *self = vg_node_by_id(host, vg_local_node_id(host));
	struct rr *r;

	if (!self || !self->name) {
		vg_err(host, "%s: the local node has no name", inst->name);
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct rr){ .host = host, .name = inst->name, .node = self->name,
			  .instance = inst->params[P_INSTANCE].s,
			  .initial_primary = inst->params[P_INITIAL_PRIMARY].s,
			  .set = vg_host_env_of(host)->repl };
	*state = r;
	return 0;
}

/*
 * Requests in flight are dropped without their callback.  One still owed
 * a callback by the instance is left to it (rr_role_done frees it); the
 * instances close after the executor, which drops what they still owe.
 */
static void rr_close(void *state)
{
	struct rr *r = state;
	struct rr_op *op;

	while ((op = r->ops)) {
		r->ops = op->next;
		vg_timer_stop(r->host, op->timer);
		vg_timer_stop(r->host, op->deadline);
		op->r = NULL;
		if (!op->pending)
			free(op);
	}
	free(r);
}

static const struct vg_resource_ops rr_ops = {
	.exec = rr_exec,
	.cancel = rr_cancel,
};

const struct vg_plugin vg_rsc_replication_plugin = {
	.abi_major = VG_ABI_MAJOR,
	.abi_minor = VG_ABI_MINOR,
	.kind = VG_KIND_RESOURCE,
	.name = VG_RSC_REPLICATION_PLUGIN,
	.version = PACKAGE_VERSION,
	.description = "a replication instance of vigild's configuration as a promotable resource "
		       "(built in)",
	.params = rr_params,
	.open = rr_open,
	.close = rr_close,
	.ops = &rr_ops,
};
