/*
 * lsb — runs an LSB init script (/etc/init.d/NAME start|stop|status) as a
 * resource.  The script's LSB exit codes are mapped to OCF: status has its
 * own table (LSB 0 running, 1-3 not running, 4 unknown), the other actions
 * share the OCF meanings of 0-7.  See docs/plugins/lsb.md.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <vigil/plugin.h>

enum {
	LSB_P_SCRIPT,
	LSB_P_INIT_DIR,
};

static const struct vg_param_decl lsb_params[] = {
	[LSB_P_SCRIPT] = {
		.name = "script", .type = VG_PARAM_STRING, .flags = VG_PARAM_REQUIRED,
		.help = "init script: a name under init_dir, or an absolute path",
	},
	[LSB_P_INIT_DIR] = {
		.name = "init_dir", .type = VG_PARAM_PATH, .def = "/etc/init.d",
		.help = "directory of init scripts named without a path",
	},
	{ .name = NULL },
};

struct lsb;

/* One accepted request, from exec() until its callback has returned. */
struct lsb_op {
	struct lsb *lsb;
	struct lsb_op *next;
	uint64_t id;
	uint32_t action;          /* enum vg_rsc_action */
	int status;               /* 0, or -ECANCELED once cancelled */
	struct vg_child *child;   /* the running script; NULL once reaped or when none runs */
	struct vg_timer *timer;   /* one-shot, for an answer given without a child */
	int rc_now;               /* that answer's rc */
	char msg[1024];           /* that answer's output */
	vg_rsc_done_cb cb;
	void *arg;
};

/* One instance: one configured resource. */
struct lsb {
	const struct vg_host *host;     /* valid until close() returns */
	const char *name;               /* instance name; same lifetime */
	char path[4096];                /* the script */
	uint64_t next_id;
	struct lsb_op *ops;             /* requests in flight */
};

/* The script's path: 0, or -EINVAL with a line in err. */
static int lsb_script_path(const struct vg_instance *inst, char *path, size_t len,
			   char *err, size_t errlen)
{
	const char *script = inst->params[LSB_P_SCRIPT].s;
	int n;

	if (script[0] != '/' && (strchr(script, '/') || !strcmp(script, "..") ||
				 !strcmp(script, ".") || !script[0])) {
		snprintf(err, errlen, "script must be a name under %s or an absolute path, got \"%s\"",
			 inst->params[LSB_P_INIT_DIR].s, script);
		return -EINVAL;
	}
	if (script[0] == '/')
		n = snprintf(path, len, "%s", script);
	else
		n = snprintf(path, len, "%s/%s", inst->params[LSB_P_INIT_DIR].s, script);
	if (n < 0 || (size_t)n >= len) {
		snprintf(err, errlen, "script path is too long");
		return -EINVAL;
	}
	return 0;
}

/* The script exists and is executable: 0, or a negative errno and a line in err. */
static int lsb_script_check(const char *path, char *err, size_t errlen)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "init script %s not found: %s", path, strerror(errno));
		return -ENOENT;
	}
	if (!S_ISREG(st.st_mode) || access(path, X_OK) < 0) {
		snprintf(err, errlen, "init script %s is not an executable file", path);
		return -EACCES;
	}
	return 0;
}

/* LSB exit code of `action` -> OCF rc. */
static int lsb_rc_to_ocf(uint32_t action, int code)
{
	if (action == VG_RSC_MONITOR) {
		switch (code) {
		case 0:
			return VG_OCF_SUCCESS;
		case 1: /* dead, pid file exists */
		case 2: /* dead, lock file exists */
		case 3: /* not running */
			return VG_OCF_NOT_RUNNING;
		default: /* 4 unknown, and anything else */
			return VG_OCF_ERR_GENERIC;
		}
	}
	/* Already stopped is what stop is for (some scripts say 7). */
	if (action == VG_RSC_STOP && code == 7)
		return VG_OCF_SUCCESS;
	/* 1 generic, 2 args, 3 unimplemented, 4 perm, 5 not installed, 6 not configured, 7 not running: OCF's values. */
	return code >= 0 && code <= VG_OCF_NOT_RUNNING ? code : VG_OCF_ERR_GENERIC;
}

static void lsb_op_unlink(struct lsb_op *op)
{
	struct lsb_op **pp;

	for (pp = &op->lsb->ops; *pp; pp = &(*pp)->next) {
		if (*pp == op) {
			*pp = op->next;
			return;
		}
	}
}

static const char *lsb_action_word(uint32_t action)
{
	switch (action) {
	case VG_RSC_START:
		return "start";
	case VG_RSC_STOP:
		return "stop";
	case VG_RSC_MONITOR:
		return "status";
	default:
		return NULL;
	}
}

static const char *const lsb_action_names[] = {
	[VG_RSC_START] = "start", [VG_RSC_STOP] = "stop", [VG_RSC_MONITOR] = "monitor",
	[VG_RSC_PROMOTE] = "promote", [VG_RSC_DEMOTE] = "demote", [VG_RSC_NOTIFY] = "notify",
	[VG_RSC_META_DATA] = "meta-data", [VG_RSC_VALIDATE_ALL] = "validate-all",
};

static const char *lsb_action_name(uint32_t action)
{
	if (action >= sizeof(lsb_action_names) / sizeof(lsb_action_names[0]) ||
	    !lsb_action_names[action])
		return "unknown action";
	return lsb_action_names[action];
}

/* The last non-empty line of `out`, as a start and a length. */
static const char *lsb_last_line(const char *out, int *len)
{
	const char *end = out + strlen(out), *start;

	while (end > out && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	for (start = end; start > out && start[-1] != '\n'; start--)
		;
	*len = (int)(end - start);
	return start;
}

/* Unlinked first: the callback may call exec() or close() again. */
static void lsb_op_report(struct lsb_op *op, int status, int rc, const char *out)
{
	struct lsb *l = op->lsb;
	const char *name = lsb_action_name(op->action);
	int expected = status == -ECANCELED || (!status && (rc == VG_OCF_SUCCESS ||
				(op->action == VG_RSC_MONITOR && rc == VG_OCF_NOT_RUNNING)));
	const char *last;
	int len;

	lsb_op_unlink(op);
	if (status < 0)
		rc = VG_OCF_ERR_GENERIC;
	last = lsb_last_line(out, &len);
	if (op->action != VG_RSC_META_DATA)
		vg_debug(l->host, "lsb: %s: %s: status %d, rc %d: %.*s", l->name, name, status, rc,
			 len, last);
	if (!expected && status < 0)
		vg_warn(l->host, "lsb: %s: %s of %s failed: %s%s%.*s", l->name, name, l->path,
			strerror(-status), len ? ": " : "", len, last);
	else if (!expected)
		vg_warn(l->host, "lsb: %s: %s of %s returned OCF rc %d%s%.*s", l->name, name,
			l->path, rc, len ? ": " : "", len, last);
	op->cb(op->arg, status, rc, out);
	free(op);
}

static void lsb_child_done(void *arg, const struct vg_child_result *res)
{
	struct lsb_op *op = arg;
	int status = op->status, rc = VG_OCF_ERR_GENERIC;

	op->child = NULL;
	if (!status && res->timed_out)
		status = -ETIMEDOUT;
	else if (!status && res->exited)
		rc = lsb_rc_to_ocf(op->action, res->exit_code);
	lsb_op_report(op, status, rc, res->output ? res->output : "");
}

/* The one-shot timer fired: its handle is already freed by the core. */
static void lsb_op_fire(void *arg)
{
	struct lsb_op *op = arg;

	op->timer = NULL;
	if (op->status < 0)
		snprintf(op->msg, sizeof(op->msg), "%s", strerror(-op->status));
	lsb_op_report(op, op->status, op->rc_now, op->msg);
}

static int lsb_op_answer(struct lsb_op *op, int rc)
{
	op->rc_now = rc;
	return vg_timer_start(op->lsb->host, 0, 0, lsb_op_fire, op, &op->timer);
}

static const char lsb_meta_fmt[] =
	"<?xml version=\"1.0\"?>\n"
	"<resource-agent name=\"%s\" version=\"1.0\">\n"
	"  <version>1.1</version>\n"
	"  <shortdesc lang=\"en\">LSB init script %s</shortdesc>\n"
	"  <longdesc lang=\"en\">%s, run by vigil's lsb plugin</longdesc>\n"
	"  <parameters/>\n"
	"  <actions>\n"
	"    <action name=\"start\" timeout=\"20s\"/>\n"
	"    <action name=\"stop\" timeout=\"20s\"/>\n"
	"    <action name=\"monitor\" timeout=\"20s\" interval=\"10s\"/>\n"
	"    <action name=\"meta-data\" timeout=\"5s\"/>\n"
	"    <action name=\"validate-all\" timeout=\"5s\"/>\n"
	"  </actions>\n"
	"</resource-agent>\n";

static int lsb_op_spawn(struct lsb_op *op, const struct vg_rsc_request *req)
{
	struct lsb *l = op->lsb;
	char *argv[] = { l->path, (char *)lsb_action_word(req->action), NULL };
	char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C", NULL };
	struct vg_spawn sp = { .path = l->path, .argv = argv, .envp = envp,
			       .timeout_ms = req->timeout_ms };

	if (lsb_script_check(l->path, op->msg, sizeof(op->msg)) < 0)
		return lsb_op_answer(op, VG_OCF_ERR_INSTALLED);
	vg_debug(l->host, "lsb: %s: running %s %s (timeout %u ms)", l->name, l->path, argv[1],
		 req->timeout_ms);
	return vg_spawn(l->host, &sp, lsb_child_done, op, &op->child);
}

static int lsb_op_start(struct lsb_op *op, const struct vg_rsc_request *req)
{
	struct lsb *l = op->lsb;
	const char *base = strrchr(l->path, '/') + 1;

	switch (req->action) {
	case VG_RSC_START:
	case VG_RSC_STOP:
	case VG_RSC_MONITOR:
		return lsb_op_spawn(op, req);
	case VG_RSC_META_DATA:
		if (snprintf(op->msg, sizeof(op->msg), lsb_meta_fmt, base, base, l->path) >=
		    (int)sizeof(op->msg))
			return lsb_op_answer(op, VG_OCF_ERR_GENERIC); /* a path of ~500 bytes */
		return lsb_op_answer(op, VG_OCF_SUCCESS);
	case VG_RSC_VALIDATE_ALL:
		if (lsb_script_check(l->path, op->msg, sizeof(op->msg)) < 0)
			return lsb_op_answer(op, VG_OCF_ERR_INSTALLED);
		return lsb_op_answer(op, VG_OCF_SUCCESS);
	default: /* promote, demote, notify: an init script has no such thing */
		snprintf(op->msg, sizeof(op->msg), "%s is not implemented by LSB init scripts",
			 lsb_action_name(req->action));
		return lsb_op_answer(op, VG_OCF_ERR_UNIMPLEMENTED);
	}
}

static int lsb_exec(void *state, const struct vg_rsc_request *req,
		    vg_rsc_done_cb cb, void *arg, uint64_t *op_id)
{
	struct lsb *l = state;
	struct lsb_op *op;
	int rc;

	op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	*op = (struct lsb_op){ .lsb = l, .id = ++l->next_id, .action = req->action,
			       .cb = cb, .arg = arg };
	rc = lsb_op_start(op, req);
	if (rc < 0) {
		vg_err(l->host, "lsb: %s: cannot run %s of %s: %s", l->name,
		       lsb_action_name(req->action), l->path, strerror(-rc));
		free(op);
		return rc;
	}
	op->next = l->ops;
	l->ops = op;
	if (op_id)
		*op_id = op->id;
	return 0;
}

/* The child's callback (or a fresh 0 ms timer) reports -ECANCELED, never this call. */
static void lsb_cancel(void *state, uint64_t op_id)
{
	struct lsb *l = state;
	struct lsb_op *op;

	for (op = l->ops; op && op->id != op_id; op = op->next)
		;
	if (!op || op->status == -ECANCELED)
		return;
	op->status = -ECANCELED;
	if (op->child) {
		vg_child_cancel(l->host, op->child);
		return;
	}
	vg_timer_stop(l->host, op->timer);
	op->timer = NULL;
	if (vg_timer_start(l->host, 0, 0, lsb_op_fire, op, &op->timer) < 0)
		lsb_op_fire(op);
}

static int lsb_validate(const struct vg_instance *inst, char *err, size_t errlen)
{
	char path[4096];
	int rc;

	rc = lsb_script_path(inst, path, sizeof(path), err, errlen);
	if (!rc)
		rc = lsb_script_check(path, err, errlen);
	return rc;
}

static int lsb_open(const struct vg_host *host, const struct vg_instance *inst, void **state)
{
	struct lsb *l;
	char err[512];
	int rc;

	l = calloc(1, sizeof(*l));
	if (!l) {
		vg_err(host, "lsb: %s: out of memory", inst->name);
		return -ENOMEM;
	}
	l->host = host;
	l->name = inst->name;
	rc = lsb_script_path(inst, l->path, sizeof(l->path), err, sizeof(err));
	if (rc < 0) {
		vg_err(host, "lsb: %s: %s", inst->name, err);
		free(l);
		return rc;
	}
	vg_debug(host, "lsb: %s: init script %s", inst->name, l->path);
	*state = l;
	return 0;
}

/* Requests in flight are dropped without their callback; the core reaps their children. */
static void lsb_close(void *state)
{
	struct lsb *l = state;
	struct lsb_op *op;

	while ((op = l->ops)) {
		l->ops = op->next;
		vg_timer_stop(l->host, op->timer);
		free(op);
	}
	free(l);
}

static const struct vg_resource_ops lsb_ops = {
	.exec = lsb_exec,
	.cancel = lsb_cancel,
	.validate = lsb_validate,
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_RESOURCE,
	.name = "lsb",
	.version = "1.0",
	.description = "runs an LSB init script (start, stop, status)",
	.params = lsb_params,
	.open = lsb_open,
	.close = lsb_close,
	.ops = &lsb_ops,
);
