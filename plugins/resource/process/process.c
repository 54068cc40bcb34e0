/*
 * process — a native supervisor for a plain command (docs/plugins/process.md).
 *
 * start runs a tiny launcher through vg_spawn: it puts the command in a
 * session of its own (setsid), writes its pid to the pidfile and exits at
 * once.  The command is then nobody's child in vigild: the core neither
 * reaps it nor kills it with the launcher's process group, and it survives
 * a vigild restart; the next instance finds it again through the pidfile.
 * The plugin then rewrites the pidfile with the start time from /proc, so
 * that a reused pid is never mistaken for the process.
 *
 * stop sends SIGTERM to the process group, polls every 50 ms, and sends
 * SIGKILL after stop_grace_ms.  monitor reads the pidfile and /proc, then
 * runs health_command when there is one.  Nothing here blocks: children
 * through vg_spawn, waiting through timers.
 */
#include <errno.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vigil/plugin.h>

#include "meta.h"
#include "pidfile.h"

#define PROC_CONFIRM_MS      100   /* start: first liveness check after the launch */
#define PROC_CONFIRM_CHECKS  2     /* start: checks, PROC_CONFIRM_MS apart, all alive */
#define PROC_STOP_POLL_MS    50    /* stop: liveness poll */
#define PROC_LAUNCH_MAX_MS   10000 /* launcher time limit when the request has none */

/* Indexes into the declaration table: open() gets the values in this order. */
enum {
	P_COMMAND,
	P_PIDFILE,
	P_USER,
	P_CWD,
	P_STOP_GRACE_MS,
	P_HEALTH_COMMAND,
	P_HEALTH_TIMEOUT_MS,
	P_LOG_FILE,
};

static const struct vg_param_decl proc_params[] = {
	[P_COMMAND] = {
		.name = "command", .type = VG_PARAM_STRING, .flags = VG_PARAM_REQUIRED,
		.help = "command line, run with /bin/sh -c",
	},
	[P_PIDFILE] = {
		.name = "pidfile", .type = VG_PARAM_PATH, .flags = VG_PARAM_REQUIRED,
		.help = "where the pid and start time of the process are kept",
	},
	[P_USER] = {
		.name = "user", .type = VG_PARAM_STRING,
		.help = "run the command (and health_command) as this user",
	},
	[P_CWD] = {
		.name = "cwd", .type = VG_PARAM_PATH, .def = "/",
		.help = "working directory of the command",
	},
	[P_STOP_GRACE_MS] = {
		.name = "stop_grace_ms", .type = VG_PARAM_DURATION_MS, .def = "5000",
		.min = 0, .max = 3600000,
		.help = "time between SIGTERM and SIGKILL on stop",
	},
	[P_HEALTH_COMMAND] = {
		.name = "health_command", .type = VG_PARAM_STRING,
		.help = "run with /bin/sh -c on monitor; exit 0 means healthy",
	},
	[P_HEALTH_TIMEOUT_MS] = {
		.name = "health_timeout_ms", .type = VG_PARAM_DURATION_MS, .def = "5000",
		.min = 1, .max = 3600000,
		.help = "time health_command may run before it counts as failed",
	},
	[P_LOG_FILE] = {
		.name = "log_file", .type = VG_PARAM_PATH, .def = "/dev/null",
		.help = "stdout and stderr of the command are appended here",
	},
	{ .name = NULL },
};

/*
 * Launcher: cd, start the command in a new session with its output in the
 * log, record its pid, print it, exit.  $! is the command's pid: a
 * background job of a non-interactive shell is no group leader, so setsid
 * calls setsid() and execs without forking.
 */
static const char proc_launch_sh[] =
	"cd \"$1\" || exit 126\n"
	"log=$2 pidfile=$3\n"
	"shift 3\n"
	"setsid \"$@\" >>\"$log\" 2>&1 </dev/null &\n"
	"pid=$!\n"
	"echo \"$pid\" >\"$pidfile\" || { kill -KILL \"$pid\"; exit 125; }\n"
	"echo \"$pid\"\n";

/* Health check: cd, then the command (as the user when there is one). */
static const char proc_health_sh[] = "cd \"$1\" || exit 126\nshift\nexec \"$@\"\n";

extern const struct vg_plugin vigil_plugin;

struct proc;

/* One accepted request, from exec() until its callback has returned. */
struct proc_op {
	struct proc *proc;
	struct proc_op *next;
	uint64_t id;
	uint32_t action;          /* enum vg_rsc_action */
	vg_rsc_done_cb cb;
	void *arg;
	int status;               /* 0, or -ETIMEDOUT / -ECANCELED decided early */
	int rc;                   /* OCF exit code once known */
	const char *text;         /* output when not msg (meta-data); borrowed */
	char msg[1024];           /* output */
	struct vg_timer *timer;   /* report, confirm or stop poll; NULL when none */
	struct vg_timer *deadline;/* req->timeout_ms */
	struct vg_child *child;   /* launcher or health check in flight */
	struct proc_ident ident;  /* the process this op deals with */
	uint64_t since_ms;        /* stop: when SIGTERM was sent */
	int killed;               /* stop: SIGKILL sent */
	unsigned checks;          /* start: liveness checks passed */
};

/* One instance: one configured process. */
struct proc {
	const struct vg_host *host;  /* valid until close() returns */
	const char *name;            /* instance name, borrowed */
	const struct vg_value *params; /* the core's, valid until close() returns */
	const char *command, *pidfile, *user, *cwd, *health, *log_file; /* borrowed */
	uint64_t stop_grace_ms, health_timeout_ms;
	char uid_arg[32], gid_arg[32]; /* "--reuid=N", "--regid=N" when user is set */
	char *meta;                  /* meta-data XML, owned */
	uint64_t next_id;
	struct proc_op *ops;         /* requests in flight */
};

static void proc_op_unlink(struct proc_op *op)
{
	struct proc_op **pp;

	for (pp = &op->proc->ops; *pp; pp = &(*pp)->next) {
		if (*pp == op) {
			*pp = op->next;
			return;
		}
	}
}

static void proc_op_free(struct proc_op *op)
{
	vg_timer_stop(op->proc->host, op->timer);
	vg_timer_stop(op->proc->host, op->deadline);
	free(op);
}

/* Report and free.  Only from a callback of the loop, never from exec(). */
static void proc_op_finish(struct proc_op *op, int status, int rc)
{
	const char *out = op->text ? op->text : op->msg;

	proc_op_unlink(op);
	if (status < 0 && !op->text && !op->msg[0])
		snprintf(op->msg, sizeof(op->msg), "%s", strerror(-status));
	/* Unlinked first: the callback may call exec() or close() again. */
	op->cb(op->arg, status, status < 0 ? VG_OCF_ERR_GENERIC : rc, out);
	proc_op_free(op);
}

static void proc_op_say(struct proc_op *op, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void proc_op_say(struct proc_op *op, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(op->msg, sizeof(op->msg), fmt, ap);
	va_end(ap);
}

static void proc_op_report_cb(void *arg)
{
	struct proc_op *op = arg;

	op->timer = NULL;
	proc_op_finish(op, op->status, op->rc);
}

/* Complete with `rc` from a 0 ms timer (exec() must not call back). */
static int proc_op_report_later(struct proc_op *op, int rc)
{
	op->rc = rc;
	vg_timer_stop(op->proc->host, op->timer);
	op->timer = NULL;
	return vg_timer_start(op->proc->host, 0, 0, proc_op_report_cb, op, &op->timer);
}

/* Time left for a child of this op: the op's deadline does the rest. */
static uint32_t proc_child_limit(uint32_t want_ms, uint32_t op_timeout_ms)
{
	if (op_timeout_ms && (!want_ms || op_timeout_ms < want_ms))
		return op_timeout_ms;
	return want_ms;
}

/* Append "env --default-signal [setpriv ...] /bin/sh -c CMD" to argv at *n. */
static void proc_argv_command(const struct proc *p, const char *cmd, char **argv, size_t *n)
{
	/* vigild ignores SIGPIPE, and ignored signals survive exec: undo that. */
	argv[(*n)++] = "env";
	argv[(*n)++] = "--default-signal";
	if (p->user) {
		argv[(*n)++] = "setpriv";
		argv[(*n)++] = (char *)p->uid_arg;
		argv[(*n)++] = (char *)p->gid_arg;
		argv[(*n)++] = "--init-groups";
		argv[(*n)++] = "--reset-env";
	}
	argv[(*n)++] = "/bin/sh";
	argv[(*n)++] = "-c";
	argv[(*n)++] = (char *)cmd;
	argv[*n] = NULL;
}

/* The process the pidfile names: 1 alive, 0 not running, <0 unreadable pidfile. */
static int proc_find(struct proc_op *op)
{
	struct proc *p = op->proc;
	int rc;

	rc = proc_pidfile_read(p->pidfile, &op->ident);
	if (rc == -ENOENT) {
		proc_op_say(op, "not running: no pidfile %s", p->pidfile);
		return 0;
	}
	if (rc == -EINVAL) {
		proc_op_say(op, "not running: pidfile %s holds no pid", p->pidfile);
		return 0;
	}
	if (rc < 0) {
		proc_op_say(op, "cannot read pidfile %s: %s", p->pidfile, strerror(-rc));
		return rc;
	}
	if (!proc_is_alive(&op->ident)) {
		proc_op_say(op, "not running: pid %d of %s is gone", (int)op->ident.pid,
			    p->pidfile);
		return 0;
	}
	proc_op_say(op, "running as pid %d", (int)op->ident.pid);
	return 1;
}

/* ---- start ---- */

static void proc_start_fail(struct proc_op *op, const char *why)
{
	struct proc *p = op->proc;
	char tail[512];

	proc_pidfile_remove(p->pidfile);
	proc_log_tail(p->log_file, tail, sizeof(tail));
	proc_op_say(op, "%s%s%s", why, tail[0] ? "; log: " : "", tail);
	vg_err(p->host, "process: %s: start failed: %s", p->name, why);
	proc_op_finish(op, 0, VG_OCF_ERR_GENERIC);
}

static void proc_confirm_cb(void *arg)
{
	struct proc_op *op = arg;
	struct proc *p = op->proc;
	char why[128];

	op->timer = NULL;
	if (!proc_is_alive(&op->ident)) {
		snprintf(why, sizeof(why), "command exited at once (pid %d)", (int)op->ident.pid);
		proc_start_fail(op, why);
		return;
	}
	if (++op->checks < PROC_CONFIRM_CHECKS &&
	    vg_timer_start(p->host, PROC_CONFIRM_MS, 0, proc_confirm_cb, op, &op->timer) == 0)
		return;
	proc_op_say(op, "started as pid %d", (int)op->ident.pid);
	vg_notice(p->host, "process: %s: started as pid %d", p->name, (int)op->ident.pid);
	proc_op_finish(op, 0, VG_OCF_SUCCESS);
}

/* Launcher output: the pid; record its start time, then watch it live a little. */
static void proc_launch_done(void *arg, const struct vg_child_result *res)
{
	struct proc_op *op = arg;
	struct proc *p = op->proc;
	char state, why[160];
	long pid;
	int rc;

	op->child = NULL;
	if (op->status < 0 || res->timed_out) {
		proc_op_finish(op, op->status < 0 ? op->status : -ETIMEDOUT, VG_OCF_ERR_GENERIC);
		return;
	}
	pid = strtol(res->output, NULL, 10);
	if (!res->exited || res->exit_code != 0 || pid <= 1) {
		snprintf(why, sizeof(why), "launcher failed (exit %d%s): %.100s",
			 res->exited ? res->exit_code : 128 + res->signal,
			 res->exit_code == 126 ? ", cannot enter cwd" : "", res->output);
		proc_start_fail(op, why);
		return;
	}
	op->ident.pid = (pid_t)pid;
	if (proc_stat_read(op->ident.pid, &state, &op->ident.start_time) == 0) {
		rc = proc_pidfile_write(p->pidfile, &op->ident);
		if (rc < 0)
			vg_warn(p->host, "process: %s: cannot rewrite %s: %s", p->name, p->pidfile,
				strerror(-rc));
	}
	rc = vg_timer_start(p->host, PROC_CONFIRM_MS, 0, proc_confirm_cb, op, &op->timer);
	if (rc < 0)
		proc_op_finish(op, rc, VG_OCF_ERR_GENERIC);
}

static int proc_start(struct proc_op *op, uint32_t timeout_ms)
{
	struct proc *p = op->proc;
	char *argv[24];
	size_t n = 0;
	struct vg_spawn sp = { .path = "/bin/sh", .argv = argv,
			       .timeout_ms = proc_child_limit(PROC_LAUNCH_MAX_MS, timeout_ms) };
	int rc;

	rc = proc_find(op);
	if (rc < 0)
		return proc_op_report_later(op, VG_OCF_ERR_GENERIC);
	if (rc > 0) {
		proc_op_say(op, "already running as pid %d", (int)op->ident.pid);
		return proc_op_report_later(op, VG_OCF_SUCCESS);
	}
	argv[n++] = "/bin/sh";
	argv[n++] = "-c";
	argv[n++] = (char *)proc_launch_sh;
	argv[n++] = "vigil-process";
	argv[n++] = (char *)p->cwd;
	argv[n++] = (char *)p->log_file;
	argv[n++] = (char *)p->pidfile;
	proc_argv_command(p, p->command, argv, &n);
	op->msg[0] = '\0';
	return vg_spawn(p->host, &sp, proc_launch_done, op, &op->child);
}

/* ---- stop ---- */

/* Signal the process group, or the process alone if it has no group (yet). */
static void proc_signal(pid_t pid, int sig)
{
	if (kill(-pid, sig) < 0 && errno == ESRCH)
		kill(pid, sig);
}

static void proc_stop_poll_cb(void *arg)
{
	struct proc_op *op = arg;
	struct proc *p = op->proc;
	uint64_t waited_ms = vg_now_ms(p->host) - op->since_ms;

	if (!proc_is_alive(&op->ident)) {
		/* The leader is gone: take what is left of its group with it. */
		kill(-op->ident.pid, SIGKILL);
		proc_pidfile_remove(p->pidfile);
		proc_op_say(op, "stopped pid %d after %llu ms%s", (int)op->ident.pid,
			    (unsigned long long)waited_ms, op->killed ? " (SIGKILL)" : "");
		vg_notice(p->host, "process: %s: %s", p->name, op->msg);
		proc_op_finish(op, 0, VG_OCF_SUCCESS);
		return;
	}
	if (!op->killed && waited_ms >= p->stop_grace_ms) {
		vg_warn(p->host, "process: %s: pid %d still running %llu ms after SIGTERM: SIGKILL",
			p->name, (int)op->ident.pid, (unsigned long long)waited_ms);
		proc_signal(op->ident.pid, SIGKILL);
		op->killed = 1;
	}
}

static int proc_stop(struct proc_op *op)
{
	struct proc *p = op->proc;
	int rc;

	rc = proc_find(op);
	if (rc < 0)
		return proc_op_report_later(op, VG_OCF_ERR_GENERIC);
	if (rc == 0) {
		/* Stopping what is not running is a success in OCF. */
		proc_pidfile_remove(p->pidfile);
		return proc_op_report_later(op, VG_OCF_SUCCESS);
	}
	op->since_ms = vg_now_ms(p->host);
	proc_signal(op->ident.pid, SIGTERM);
	if (p->stop_grace_ms == 0) {
		proc_signal(op->ident.pid, SIGKILL);
		op->killed = 1;
	}
	return vg_timer_start(p->host, PROC_STOP_POLL_MS, PROC_STOP_POLL_MS, proc_stop_poll_cb, op,
			      &op->timer);
}

/* ---- monitor ---- */

static void proc_health_done(void *arg, const struct vg_child_result *res)
{
	struct proc_op *op = arg;

	op->child = NULL;
	if (op->status < 0) {
		proc_op_finish(op, op->status, VG_OCF_ERR_GENERIC);
		return;
	}
	if (res->exited && res->exit_code == 0) {
		proc_op_say(op, "running as pid %d, healthy", (int)op->ident.pid);
		proc_op_finish(op, 0, VG_OCF_SUCCESS);
		return;
	}
	if (res->timed_out)
		proc_op_say(op, "health_command timed out after %llu ms",
			    (unsigned long long)res->duration_ms);
	else
		proc_op_say(op, "health_command failed (%s %d): %.900s",
			    res->exited ? "exit" : "signal",
			    res->exited ? res->exit_code : res->signal, res->output);
	vg_warn(op->proc->host, "process: %s: %s", op->proc->name, op->msg);
	proc_op_finish(op, 0, VG_OCF_ERR_GENERIC);
}

static int proc_monitor(struct proc_op *op)
{
	struct proc *p = op->proc;
	char *argv[24];
	size_t n = 0;
	struct vg_spawn sp = { .path = "/bin/sh", .argv = argv,
			       .timeout_ms = (uint32_t)p->health_timeout_ms, .kill_grace_ms = 1000 };
	int rc;

	rc = proc_find(op);
	if (rc < 0)
		return proc_op_report_later(op, VG_OCF_ERR_GENERIC);
	if (rc == 0)
		return proc_op_report_later(op, VG_OCF_NOT_RUNNING);
	if (!p->health)
		return proc_op_report_later(op, VG_OCF_SUCCESS);
	argv[n++] = "/bin/sh";
	argv[n++] = "-c";
	argv[n++] = (char *)proc_health_sh;
	argv[n++] = "vigil-health";
	argv[n++] = (char *)p->cwd;
	proc_argv_command(p, p->health, argv, &n);
	return vg_spawn(p->host, &sp, proc_health_done, op, &op->child);
}

/* ---- validate ---- */

/* Check the environment of a configuration: 0 or -errno with errbuf set. */
static int proc_check(const struct vg_value *v, char *errbuf, size_t errlen)
{
	const char *pidfile = v[P_PIDFILE].s;
	struct stat st;
	char dir[4096];
	char *slash;

	if (!v[P_COMMAND].s || !v[P_COMMAND].s[strspn(v[P_COMMAND].s, " \t\n")]) {
		snprintf(errbuf, errlen, "command must not be empty");
		return -EINVAL;
	}
	if (v[P_USER].s && !getpwnam(v[P_USER].s)) {
		snprintf(errbuf, errlen, "user \"%s\" does not exist", v[P_USER].s);
		return -ENOENT;
	}
	if (stat(v[P_CWD].s, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(errbuf, errlen, "cwd %s must be an existing directory", v[P_CWD].s);
		return -ENOENT;
	}
	snprintf(dir, sizeof(dir), "%s", pidfile);
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), "/");
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		snprintf(errbuf, errlen, "the directory of pidfile %s must exist", pidfile);
		return -ENOENT;
	}
	return 0;
}

static int proc_validate(const struct vg_instance *inst, char *errbuf, size_t errlen)
{
	return proc_check(inst->params, errbuf, errlen);
}

/* ---- requests ---- */

static void proc_deadline_cb(void *arg)
{
	struct proc_op *op = arg;

	op->deadline = NULL;
	op->status = -ETIMEDOUT;
	proc_op_say(op, "%s", "timed out");
	vg_warn(op->proc->host, "process: %s: action %u timed out", op->proc->name, op->action);
	if (op->child) {
		/* Its callback comes once it is reaped, and reports the status. */
		vg_child_cancel(op->proc->host, op->child);
		return;
	}
	vg_timer_stop(op->proc->host, op->timer);
	op->timer = NULL;
	proc_op_finish(op, -ETIMEDOUT, VG_OCF_ERR_GENERIC);
}

static int proc_dispatch(struct proc_op *op, const struct vg_rsc_request *req)
{
	struct proc *p = op->proc;
	char err[512];

	switch (req->action) {
	case VG_RSC_START:
		return proc_start(op, req->timeout_ms);
	case VG_RSC_STOP:
		return proc_stop(op);
	case VG_RSC_MONITOR:
		return proc_monitor(op);
	case VG_RSC_VALIDATE_ALL:
		if (proc_check(p->params, err, sizeof(err)) < 0) {
			proc_op_say(op, "%s", err);
			return proc_op_report_later(op, VG_OCF_ERR_CONFIGURED);
		}
		return proc_op_report_later(op, VG_OCF_SUCCESS);
	case VG_RSC_META_DATA:
		op->text = p->meta;
		return proc_op_report_later(op, VG_OCF_SUCCESS);
	default:
		proc_op_say(op, "action %u not implemented", req->action);
		return proc_op_report_later(op, VG_OCF_ERR_UNIMPLEMENTED);
	}
}

static int proc_exec(void *state, const struct vg_rsc_request *req,
		     vg_rsc_done_cb cb, void *arg, uint64_t *op_id)
{
	struct proc *p = state;
	struct proc_op *op;
	int rc = 0;

	op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	*op = (struct proc_op){ .proc = p, .id = ++p->next_id, .action = req->action,
				.cb = cb, .arg = arg, .rc = VG_OCF_ERR_GENERIC };
	if (req->timeout_ms)
		rc = vg_timer_start(p->host, req->timeout_ms, 0, proc_deadline_cb, op,
				    &op->deadline);
	if (rc == 0)
		rc = proc_dispatch(op, req);
	if (rc < 0) {
		/* Nothing was started that could call back: no child, timers stopped. */
		vg_err(p->host, "process: %s: cannot run action %u: %s", p->name, req->action,
		       strerror(-rc));
		proc_op_free(op);
		return rc;
	}
	op->next = p->ops;
	p->ops = op;
	if (op_id)
		*op_id = op->id;
	return 0;
}

static void proc_cancel(void *state, uint64_t op_id)
{
	struct proc *p = state;
	struct proc_op *op;

	for (op = p->ops; op && op->id != op_id; op = op->next)
		;
	if (!op || op->status == -ECANCELED)
		return;
	op->status = -ECANCELED;
	op->text = NULL;
	proc_op_say(op, "cancelled");
	vg_timer_stop(p->host, op->deadline);
	op->deadline = NULL;
	if (op->child) {
		vg_child_cancel(p->host, op->child);
		return;
	}
	/* Report from the loop, not from inside cancel(). */
	if (proc_op_report_later(op, VG_OCF_ERR_GENERIC) < 0)
		proc_op_finish(op, -ECANCELED, VG_OCF_ERR_GENERIC);
}

/* Resolve `user` once: setpriv gets numeric ids, no lookup at start. */
static int proc_resolve_user(struct proc *p)
{
	struct passwd *pw;

	if (!p->user)
		return 0;
	errno = 0;
	pw = getpwnam(p->user);
	if (!pw) {
		vg_err(p->host, "process: %s: user \"%s\" does not exist", p->name, p->user);
		return errno ? -errno : -ENOENT;
	}
	snprintf(p->uid_arg, sizeof(p->uid_arg), "--reuid=%u", (unsigned)pw->pw_uid);
	snprintf(p->gid_arg, sizeof(p->gid_arg), "--regid=%u", (unsigned)pw->pw_gid);
	return 0;
}

static int proc_open(const struct vg_host *host, const struct vg_instance *inst, void **state)
{
	const struct vg_value *v = inst->params;
	struct proc *p;
	int rc;

	p = calloc(1, sizeof(*p));
	if (!p) {
		vg_err(host, "process: %s: out of memory", inst->name);
		return -ENOMEM;
	}
	*p = (struct proc){ .host = host, .name = inst->name, .params = v,
			    .command = v[P_COMMAND].s, .pidfile = v[P_PIDFILE].s,
			    .user = v[P_USER].s, .cwd = v[P_CWD].s,
			    .stop_grace_ms = (uint64_t)v[P_STOP_GRACE_MS].i,
			    .health = v[P_HEALTH_COMMAND].s,
			    .health_timeout_ms = (uint64_t)v[P_HEALTH_TIMEOUT_MS].i,
			    .log_file = v[P_LOG_FILE].s };
	rc = proc_resolve_user(p);
	if (rc < 0)
		goto fail;
	p->meta = rsc_meta_build(&vigil_plugin);
	if (!p->meta) {
		rc = -ENOMEM;
		goto fail;
	}
	vg_debug(host, "process: %s: pidfile %s, stop grace %llu ms", p->name, p->pidfile,
		 (unsigned long long)p->stop_grace_ms);
	*state = p;
	return 0;
fail:
	free(p);
	return rc;
}

/* Requests in flight are dropped without their callback; the process runs on. */
static void proc_close(void *state)
{
	struct proc *p = state;
	struct proc_op *op;

	while ((op = p->ops)) {
		p->ops = op->next;
		proc_op_free(op);
	}
	free(p->meta);
	free(p);
}

static const struct vg_resource_ops proc_ops = {
	.exec = proc_exec,
	.cancel = proc_cancel,
	.validate = proc_validate,
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_RESOURCE,
	.name = "process",
	.version = "1.0",
	.description = "supervise a plain command: daemonized, tracked by a pidfile",
	.params = proc_params,
	.open = proc_open,
	.close = proc_close,
	.ops = &proc_ops,
);
