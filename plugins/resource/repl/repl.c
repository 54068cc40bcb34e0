/*
 * repl — a replicated block store (vigil-repld) as a promotable resource
 * (docs/plugins/repl.md, docs/replication.md).
 *
 * start launches vigil-repld like the process plugin launches its command:
 * a tiny launcher (vg_spawn) starts it with setsid, writes its pid to the
 * pidfile and exits, so the helper is nobody's child in vigild and
 * survives a vigild restart.  The helper starts secondary; start succeeds
 * once its control socket answers `status`.  monitor, promote and demote
 * are one control line each, on a non-blocking UNIX socket watched on the
 * loop with a timeout timer (one connection per request).  stop demotes a
 * primary, then SIGTERM, SIGKILL after stop_grace_ms.
 *
 * Promotion is never forced except for the very first one of a brand-new
 * pair on `initial_primary`; a promote refused because the peer is still
 * seen primary (-EBUSY: its session has not timed out yet) is retried until
 * the action's timeout; any other refusal is ERR_GENERIC with the helper's
 * reason, so that the cluster promotes elsewhere.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vigil/plugin.h>

#include "meta.h"
#include "repl.h"

#ifndef REPLD_PATH
#define REPLD_PATH "/usr/local/libexec/vigil/vigil-repld"
#endif

#define REPL_POLL_MS        100   /* start: control socket poll */
#define REPL_RETRY_MS       250   /* promote/demote refused with -EBUSY: retry */
#define REPL_STOP_POLL_MS   50
#define REPL_LAUNCH_MAX_MS  10000

static const char *const protocols[] = { "C", "A", NULL };
static const char *const sb_policies[] = { "none", "discard-zero-changes",
					   "discard-younger-primary", "discard-secondary", NULL };

static const struct vg_param_decl repl_params[] = {
	[P_STORE] = { .name = "store", .type = VG_PARAM_PATH, .flags = VG_PARAM_REQUIRED,
		      .help = "backing file or block device (%n: node name); metadata in <store>.meta" },
	[P_LISTEN] = { .name = "listen", .type = VG_PARAM_STRING,
		       .help = "local replication address ADDR:PORT (or use addresses)" },
	[P_PEER] = { .name = "peer", .type = VG_PARAM_STRING,
		     .help = "the peer's replication address ADDR:PORT (or use addresses)" },
	[P_ADDRESSES] = { .name = "addresses", .type = VG_PARAM_STRING,
			  .help = "\"NODE=ADDR:PORT NODE=ADDR:PORT\": this node's is listen, the other peer" },
	[P_NBD] = { .name = "nbd", .type = VG_PARAM_STRING, .flags = VG_PARAM_REQUIRED,
		    .help = "where the primary serves NBD: unix:PATH (%n: node name) or ADDR:PORT" },
	[P_PROTOCOL] = { .name = "protocol", .type = VG_PARAM_ENUM, .def = "C", .choices = protocols,
			 .help = "C: ack when durable on both nodes; A: when durable locally and sent" },
	[P_CONTROL] = { .name = "control", .type = VG_PARAM_PATH,
			.help = "the helper's control socket (%n: node name; default <store>.ctl)" },
	[P_PIDFILE] = { .name = "pidfile", .type = VG_PARAM_PATH, .flags = VG_PARAM_REQUIRED,
			.help = "pid and start time of the helper (%n: node name); on a tmpfs" },
	[P_HELPER] = { .name = "helper", .type = VG_PARAM_PATH, .def = REPLD_PATH,
		       .help = "the vigil-repld program" },
	[P_LOG] = { .name = "log", .type = VG_PARAM_PATH,
		    .help = "the helper's log file (%n: node name; default: none)" },
	[P_TIMEOUT_MS] = { .name = "timeout_ms", .type = VG_PARAM_DURATION_MS, .def = "5000",
			   .min = 100, .max = 600000,
			   .help = "peer silent this long: the replication session fails" },
	[P_INITIAL_PRIMARY] = { .name = "initial_primary", .type = VG_PARAM_STRING,
				.help = "node on which the first promote of a brand-new pair is forced" },
	[P_STOP_GRACE_MS] = { .name = "stop_grace_ms", .type = VG_PARAM_DURATION_MS, .def = "5000",
			      .min = 0, .max = 3600000, .help = "time between SIGTERM and SIGKILL on stop" },
	[P_AFTER_SPLIT_BRAIN] = { .name = "after_split_brain", .type = VG_PARAM_ENUM, .def = "none",
				  .choices = sb_policies,
				  .help = "split-brain recovery: none (standalone, report), "
					  "discard-zero-changes, discard-younger-primary, discard-secondary" },
	[P_TLS_CERT] = { .name = "tls_cert", .type = VG_PARAM_PATH,
			 .help = "TLS on the replication link: this node's certificate (%n: node name), "
				 "signed by tls_ca; tls_cert, tls_key and tls_ca go together" },
	[P_TLS_KEY] = { .name = "tls_key", .type = VG_PARAM_PATH,
			.help = "the private key of tls_cert (%n: node name; mode 0600 or 0400)" },
	[P_TLS_CA] = { .name = "tls_ca", .type = VG_PARAM_PATH,
		       .help = "the CA the peer's certificate must be signed by" },
	[P_TLS_PEER_NAME] = { .name = "tls_peer_name", .type = VG_PARAM_STRING,
			      .help = "the name the peer's certificate must carry (default: the "
				      "other node named in addresses)" },
	{ .name = NULL },
};

/* The launcher: the helper in a session of its own, its pid recorded and printed. */
static const char repl_launch_sh[] =
	"log=$1 pidfile=$2\n"
	"shift 2\n"
	"setsid \"$@\" >>\"$log\" 2>&1 </dev/null &\n"
	"pid=$!\n"
	"echo \"$pid\" >\"$pidfile\" || { kill -KILL \"$pid\"; exit 125; }\n"
	"echo \"$pid\"\n";

extern const struct vg_plugin vigil_plugin;

/* ---- helpers ---- */

/* ---- requests: report ---- */

static void repl_op_unlink(struct repl_op *op)
{
	for (struct repl_op **pp = &op->r->ops; *pp; pp = &(*pp)->next) {
		if (*pp == op) {
			*pp = op->next;
			return;
		}
	}
}

static void repl_op_free(struct repl_op *op)
{
	repl_ctl_close(op);
	vg_timer_stop(op->r->host, op->timer);
	vg_timer_stop(op->r->host, op->deadline);
	free(op);
}

static void repl_op_finish(struct repl_op *op, int status, int rc)
{
	const char *out = op->text ? op->text : op->msg;

	repl_op_unlink(op);
	if (status < 0 && !op->text && !op->msg[0])
		snprintf(op->msg, sizeof(op->msg), "%s", strerror(-status));
	op->cb(op->arg, status, status < 0 ? VG_OCF_ERR_GENERIC : rc, out);
	repl_op_free(op);
}

static void repl_say(struct repl_op *op, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void repl_say(struct repl_op *op, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(op->msg, sizeof(op->msg), fmt, ap);
	va_end(ap);
}

static void repl_report_cb(void *arg)
{
	struct repl_op *op = arg;

	op->timer = NULL;
	repl_op_finish(op, op->status, op->rc);
}

/* Complete with `rc` from a 0 ms timer (exec() must not call back). */
static int repl_report_later(struct repl_op *op, int rc)
{
	op->rc = rc;
	vg_timer_stop(op->r->host, op->timer);
	op->timer = NULL;
	return vg_timer_start(op->r->host, 0, 0, repl_report_cb, op, &op->timer);
}

/* Run `fn` in `ms` (a poll or retry step). */
static void repl_after(struct repl_op *op, uint64_t ms, void (*fn)(void *))
{
	vg_timer_stop(op->r->host, op->timer);
	op->timer = NULL;
	if (vg_timer_start(op->r->host, ms, 0, fn, op, &op->timer) < 0)
		repl_op_finish(op, -ENOMEM, VG_OCF_ERR_GENERIC);
}

/* The helper the pidfile names: 1 alive, 0 not running, <0 unreadable pidfile. */
static int repl_find(struct repl_op *op)
{
	struct repl *r = op->r;
	int rc = proc_pidfile_read(r->pidfile, &op->ident);

	if (rc == -ENOENT || rc == -EINVAL) {
		repl_say(op, "not running: no helper pid in %s", r->pidfile);
		return 0;
	}
	if (rc < 0) {
		repl_say(op, "cannot read pidfile %s: %s", r->pidfile, strerror(-rc));
		return rc;
	}
	if (!proc_is_alive(&op->ident)) {
		repl_say(op, "not running: helper pid %d is gone", (int)op->ident.pid);
		return 0;
	}
	return 1;
}

/* ---- monitor ---- */

static void repl_monitor_reply(struct repl_op *op, int rc, const char *line)
{
	struct repl_status s;

	if (rc < 0) {
		repl_say(op, "helper pid %d does not answer on %s: %s", (int)op->ident.pid,
			 op->r->ctl, line);
		vg_warn(op->r->host, "repl: %s: %s", op->r->name, op->msg);
		repl_op_finish(op, 0, VG_OCF_ERR_GENERIC);
		return;
	}
	repl_parse_status(line, &s);
	repl_say(op, "%s", line + 3);
	if (!strcmp(s.role, "primary")) {
		if (s.split_brain)
			vg_warn(op->r->host, "repl: %s: primary in SPLIT BRAIN: %s", op->r->name, line);
		repl_op_finish(op, 0, VG_OCF_RUNNING_PROMOTED);
	} else if (strcmp(s.role, "secondary") || s.split_brain || !strcmp(s.disk, "diskless")) {
		vg_warn(op->r->host, "repl: %s: broken: %s", op->r->name, line);
		repl_op_finish(op, 0, VG_OCF_ERR_GENERIC);
	} else {
		repl_op_finish(op, 0, VG_OCF_SUCCESS);
	}
}

static int repl_monitor(struct repl_op *op)
{
	int rc = repl_find(op);

	if (rc < 0)
		return repl_report_later(op, VG_OCF_ERR_GENERIC);
	if (rc == 0)
		return repl_report_later(op, VG_OCF_NOT_RUNNING);
	return repl_ctl(op, "status", repl_monitor_reply);
}

/* ---- start ---- */

static void repl_start_fail(struct repl_op *op, const char *why)
{
	struct repl *r = op->r;
	char tail[512] = "";

	if (r->log[0])
		proc_log_tail(r->log, tail, sizeof(tail));
	repl_say(op, "%s%s%s", why, tail[0] ? "; log: " : "", tail);
	vg_err(r->host, "repl: %s: start failed: %s", r->name, why);
	repl_op_finish(op, 0, VG_OCF_ERR_GENERIC);
}

static void repl_start_poll_cb(void *arg);

static void repl_start_reply(struct repl_op *op, int rc, const char *line)
{
	if (rc < 0) {
		repl_after(op, REPL_POLL_MS, repl_start_poll_cb);
		return;
	}
	repl_say(op, "helper pid %d: %s", (int)op->ident.pid, line + 3);
	vg_notice(op->r->host, "repl: %s: started: %s", op->r->name, op->msg);
	repl_op_finish(op, 0, VG_OCF_SUCCESS);
}

static void repl_start_poll_cb(void *arg)
{
	struct repl_op *op = arg;
	char why[128];

	op->timer = NULL;
	if (!proc_is_alive(&op->ident)) {
		proc_pidfile_remove(op->r->pidfile);
		snprintf(why, sizeof(why), "vigil-repld exited (pid %d)", (int)op->ident.pid);
		repl_start_fail(op, why);
		return;
	}
	if (repl_ctl(op, "status", repl_start_reply) < 0)
		repl_op_finish(op, -ENOMEM, VG_OCF_ERR_GENERIC);
}

static void repl_launch_done(void *arg, const struct vg_child_result *res)
{
	struct repl_op *op = arg;
	struct repl *r = op->r;
	char state, why[160];
	long pid;

	op->child = NULL;
	if (op->status < 0 || res->timed_out) {
		repl_op_finish(op, op->status < 0 ? op->status : -ETIMEDOUT, VG_OCF_ERR_GENERIC);
		return;
	}
	pid = strtol(res->output, NULL, 10);
	if (!res->exited || res->exit_code != 0 || pid <= 1) {
		snprintf(why, sizeof(why), "launcher failed (exit %d): %.100s",
			 res->exited ? res->exit_code : 128 + res->signal, res->output);
		proc_pidfile_remove(r->pidfile);
		repl_start_fail(op, why);
		return;
	}
	op->ident.pid = (pid_t)pid;
	if (proc_stat_read(op->ident.pid, &state, &op->ident.start_time) == 0 &&
	    proc_pidfile_write(r->pidfile, &op->ident) < 0)
		vg_warn(r->host, "repl: %s: cannot rewrite %s", r->name, r->pidfile);
	repl_after(op, REPL_POLL_MS, repl_start_poll_cb);
}

static int repl_start(struct repl_op *op, uint32_t timeout_ms)
{
	struct repl *r = op->r;
	char *argv[48];          /* 6 of the launcher, then r->argv (at most 40 with its NULL) */
	size_t n = 0;
	struct vg_spawn sp = { .path = "/bin/sh", .argv = argv, .timeout_ms = REPL_LAUNCH_MAX_MS };
	int rc = repl_find(op);

	if (rc < 0)
		return repl_report_later(op, VG_OCF_ERR_GENERIC);
	if (rc > 0) /* already running (vigild restarted): done once it answers */
		return repl_ctl(op, "status", repl_start_reply);
	if (!r->listen[0] || !r->peer[0]) {
		repl_say(op, "%s has no replication address (addresses)", r->node);
		return repl_report_later(op, VG_OCF_ERR_INSTALLED);
	}
	if (timeout_ms && timeout_ms < sp.timeout_ms)
		sp.timeout_ms = timeout_ms;
	argv[n++] = "/bin/sh";
	argv[n++] = "-c";
	argv[n++] = (char *)repl_launch_sh;
	argv[n++] = "vigil-repl";
	argv[n++] = r->log[0] ? r->log : "/dev/null";
	argv[n++] = r->pidfile;
	for (size_t i = 0; r->argv[i]; i++)
		argv[n++] = r->argv[i];
	argv[n] = NULL;
	op->msg[0] = '\0';
	return vg_spawn(r->host, &sp, repl_launch_done, op, &op->child);
}

/* ---- promote, demote ---- */

static void repl_promote_cb(void *arg);

/* promote/demote answered: -EBUSY is retried until the deadline. */
static void repl_role_reply(struct repl_op *op, int rc, const char *line)
{
	const char *what = op->action == VG_RSC_PROMOTE ? "promote" : "demote";

	if (rc == 0) {
		repl_say(op, "%s: %s", what, line);
		vg_notice(op->r->host, "repl: %s: %s done", op->r->name, what);
		repl_op_finish(op, 0, VG_OCF_SUCCESS);
		return;
	}
	if (rc == -EBUSY) {
		if (!op->busy_logged++)
			vg_info(op->r->host, "repl: %s: %s refused for now (%s): retrying", op->r->name,
				what, line);
		repl_say(op, "%s refused: %s", what, line);
		repl_after(op, REPL_RETRY_MS, repl_promote_cb);
		return;
	}
	repl_say(op, "%s refused: %s", what, line);
	vg_warn(op->r->host, "repl: %s: %s", op->r->name, op->msg);
	repl_op_finish(op, 0, VG_OCF_ERR_GENERIC);
}

/*
 * Before the first promote on initial_primary: force it only for a
 * brand-new pair, both disks inconsistent, connected, never synced.
 */
static void repl_promote_status(struct repl_op *op, int rc, const char *line)
{
	struct repl_status s;
	int force = 0;

	if (rc < 0) {
		repl_role_reply(op, rc, line);
		return;
	}
	repl_parse_status(line, &s);
	force = !strcmp(s.disk, "inconsistent") && !strcmp(s.peer_disk, "inconsistent") &&
		!strcmp(s.conn, "connected") && s.gen == REPL_GEN_JUST_CREATED;
	if (force)
		vg_notice(op->r->host, "repl: %s: brand-new pair, %s is initial_primary: forcing "
			  "the first promote (full sync to the peer)", op->r->name, op->r->node);
	if (repl_ctl(op, force ? "promote force" : "promote", repl_role_reply) < 0)
		repl_op_finish(op, -ENOMEM, VG_OCF_ERR_GENERIC);
}

static void repl_promote_cb(void *arg)
{
	struct repl_op *op = arg;
	struct repl *r = op->r;
	int rc;

	op->timer = NULL;
	if (op->action == VG_RSC_DEMOTE)
		rc = repl_ctl(op, "demote", repl_role_reply);
	else if (r->initial_primary && !strcmp(r->initial_primary, r->node))
		rc = repl_ctl(op, "status", repl_promote_status);
	else
		rc = repl_ctl(op, "promote", repl_role_reply);
	if (rc < 0)
		repl_op_finish(op, rc, VG_OCF_ERR_GENERIC);
}

static int repl_role(struct repl_op *op)
{
	int rc = repl_find(op);

	if (rc < 0)
		return repl_report_later(op, VG_OCF_ERR_GENERIC);
	if (rc == 0)
		return repl_report_later(op, op->action == VG_RSC_DEMOTE ? VG_OCF_NOT_RUNNING
									  : VG_OCF_ERR_GENERIC);
	return vg_timer_start(op->r->host, 0, 0, repl_promote_cb, op, &op->timer);
}

/* ---- stop ---- */

static void repl_signal(pid_t pid, int sig)
{
	if (kill(-pid, sig) < 0 && errno == ESRCH)
		kill(pid, sig);
}

static void repl_stop_poll_cb(void *arg)
{
	struct repl_op *op = arg;
	struct repl *r = op->r;
	uint64_t waited_ms = vg_now_ms(r->host) - op->since_ms;

	if (!proc_is_alive(&op->ident)) {
		kill(-op->ident.pid, SIGKILL);
		vg_timer_stop(r->host, op->timer);
		op->timer = NULL;
		proc_pidfile_remove(r->pidfile);
		repl_say(op, "stopped helper pid %d after %llu ms%s", (int)op->ident.pid,
			 (unsigned long long)waited_ms, op->killed ? " (SIGKILL)" : "");
		vg_notice(r->host, "repl: %s: %s", r->name, op->msg);
		repl_op_finish(op, 0, VG_OCF_SUCCESS);
		return;
	}
	if (!op->killed && waited_ms >= r->stop_grace_ms) {
		vg_warn(r->host, "repl: %s: helper pid %d still running %llu ms after SIGTERM: SIGKILL",
			r->name, (int)op->ident.pid, (unsigned long long)waited_ms);
		repl_signal(op->ident.pid, SIGKILL);
		op->killed = 1;
	}
}

static void repl_stop_kill(struct repl_op *op, int rc, const char *line)
{
	struct repl *r = op->r;

	if (rc < 0 && !strcmp(op->req, "demote\n"))
		vg_warn(r->host, "repl: %s: demote before stop refused (%s): stopping anyway",
			r->name, line);
	op->since_ms = vg_now_ms(r->host);
	repl_signal(op->ident.pid, r->stop_grace_ms ? SIGTERM : SIGKILL);
	op->killed = !r->stop_grace_ms;
	vg_timer_stop(r->host, op->timer);
	op->timer = NULL;
	if (vg_timer_start(r->host, REPL_STOP_POLL_MS, REPL_STOP_POLL_MS, repl_stop_poll_cb, op,
			   &op->timer) < 0)
		repl_op_finish(op, -ENOMEM, VG_OCF_ERR_GENERIC);
}

static void repl_stop_status(struct repl_op *op, int rc, const char *line)
{
	struct repl_status s;

	if (rc == 0) {
		repl_parse_status(line, &s);
		if (!strcmp(s.role, "primary") && repl_ctl(op, "demote", repl_stop_kill) == 0)
			return;
	}
	repl_stop_kill(op, 0, line);
}

static int repl_stop(struct repl_op *op)
{
	int rc = repl_find(op);

	if (rc < 0)
		return repl_report_later(op, VG_OCF_ERR_GENERIC);
	if (rc == 0) {
		proc_pidfile_remove(op->r->pidfile);
		return repl_report_later(op, VG_OCF_SUCCESS);
	}
	return repl_ctl(op, "status", repl_stop_status);
}

/* ---- validate ---- */

static int repl_validate(const struct vg_instance *inst, char *errbuf, size_t errlen)
{
	return repl_check(inst->params, errbuf, errlen);
}

/* ---- requests ---- */

static void repl_deadline_cb(void *arg)
{
	struct repl_op *op = arg;

	op->deadline = NULL;
	op->status = -ETIMEDOUT;
	vg_warn(op->r->host, "repl: %s: action %u timed out%s%s", op->r->name, op->action,
		op->msg[0] ? ": " : "", op->msg);
	if (op->child) {
		vg_child_cancel(op->r->host, op->child);
		return;
	}
	repl_op_finish(op, -ETIMEDOUT, VG_OCF_ERR_GENERIC);
}

static int repl_dispatch(struct repl_op *op, const struct vg_rsc_request *req)
{
	char err[512];

	switch (req->action) {
	case VG_RSC_START:
		return repl_start(op, req->timeout_ms);
	case VG_RSC_STOP:
		return repl_stop(op);
	case VG_RSC_MONITOR:
		return repl_monitor(op);
	case VG_RSC_PROMOTE:
	case VG_RSC_DEMOTE:
		return repl_role(op);
	case VG_RSC_VALIDATE_ALL:
		if (repl_check(op->r->params, err, sizeof(err)) < 0) {
			repl_say(op, "%s", err);
			return repl_report_later(op, VG_OCF_ERR_CONFIGURED);
		}
		return repl_report_later(op, VG_OCF_SUCCESS);
	case VG_RSC_META_DATA:
		op->text = op->r->meta;
		return repl_report_later(op, VG_OCF_SUCCESS);
	default:
		repl_say(op, "action %u not implemented", req->action);
		return repl_report_later(op, VG_OCF_ERR_UNIMPLEMENTED);
	}
}

static int repl_exec(void *state, const struct vg_rsc_request *req, vg_rsc_done_cb cb, void *arg,
		     uint64_t *op_id)
{
	struct repl *r = state;
	struct repl_op *op = calloc(1, sizeof(*op));
	int rc = 0;

	if (!op)
		return -ENOMEM;
	*op = (struct repl_op){ .r = r, .id = ++r->next_id, .action = req->action, .cb = cb,
				.arg = arg, .rc = VG_OCF_ERR_GENERIC, .fd = -1 };
	if (req->timeout_ms)
		rc = vg_timer_start(r->host, req->timeout_ms, 0, repl_deadline_cb, op, &op->deadline);
	if (rc == 0)
		rc = repl_dispatch(op, req);
	if (rc < 0) {
		vg_err(r->host, "repl: %s: cannot run action %u: %s", r->name, req->action,
		       strerror(-rc));
		repl_op_free(op);
		return rc;
	}
	op->next = r->ops;
	r->ops = op;
	if (op_id)
		*op_id = op->id;
	return 0;
}

static void repl_cancel(void *state, uint64_t op_id)
{
	struct repl *r = state;
	struct repl_op *op;

	for (op = r->ops; op && op->id != op_id; op = op->next)
		;
	if (!op || op->status == -ECANCELED)
		return;
	op->status = -ECANCELED;
	op->text = NULL;
	repl_say(op, "cancelled");
	vg_timer_stop(r->host, op->deadline);
	op->deadline = NULL;
	repl_ctl_close(op);
	if (op->child) {
		vg_child_cancel(r->host, op->child);
		return;
	}
	if (repl_report_later(op, VG_OCF_ERR_GENERIC) < 0)
		repl_op_finish(op, -ECANCELED, VG_OCF_ERR_GENERIC);
}

static int repl_open(const struct vg_host *host, const struct vg_instance *inst, void **state)
{
	const struct vg_node *self = vg_node_by_id(host, vg_local_node_id(host));
	struct repl *r;
	int rc;

	if (!self || !self->name) {
		vg_err(host, "repl: %s: the local node has no name", inst->name);
		return -EINVAL;
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct repl){ .host = host, .name = inst->name, .node = self->name,
			    .params = inst->params,
			    .initial_primary = inst->params[P_INITIAL_PRIMARY].s,
			    .stop_grace_ms = (uint64_t)inst->params[P_STOP_GRACE_MS].i };
	rc = repl_configure(r, inst->params);
	if (rc < 0)
		goto fail;
	r->meta = rsc_meta_build(&vigil_plugin);
	if (!r->meta) {
		rc = -ENOMEM;
		goto fail;
	}
	vg_debug(host, "repl: %s: store %s, listen %s, peer %s, control %s", r->name, r->store,
		 r->listen, r->peer, r->ctl);
	*state = r;
	return 0;
fail:
	free(r);
	return rc;
}

/* Requests in flight are dropped without their callback; the helper runs on. */
static void repl_close(void *state)
{
	struct repl *r = state;
	struct repl_op *op;

	while ((op = r->ops)) {
		r->ops = op->next;
		repl_op_free(op);
	}
	free(r->meta);
	free(r);
}

static const struct vg_resource_ops repl_ops = {
	.exec = repl_exec,
	.cancel = repl_cancel,
	.validate = repl_validate,
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_RESOURCE,
	.name = "repl",
	.version = "0.1",
	.description = "a replicated block store (vigil-repld) as a promotable clone",
	.params = repl_params,
	.open = repl_open,
	.close = repl_close,
	.ops = &repl_ops,
);
