/*
 * hello — the smallest useful vigil resource plugin, written as the model a
 * third party copies.  It builds out of tree with nothing but the installed
 * SDK (see the Makefile next to it and docs/plugin-guide.md).
 *
 * The "service" it manages is a state file: start creates it, stop removes
 * it, monitor reports whether it exists.  Every action completes through a
 * one-shot timer of `delay_ms`, the way a real plugin completes when its
 * child process or its non-blocking I/O ends: exec() only accepts the
 * request, the callback comes later, from the core's loop.
 *
 * What to copy:
 *   - one descriptor, VG_PLUGIN_DEFINE, parameters declared in a table: the
 *     core checks them, the plugin only reads typed values;
 *   - instances, never globals: everything lives in struct hello;
 *   - every accepted request gets exactly one callback, never from inside
 *     exec(); cancel() and close() free what the request holds;
 *   - the host is reached only through the vg_* wrappers of <vigil/host.h>.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vigil/plugin.h>

/* Indexes into the declaration table: open() gets the values in this order. */
enum {
	HELLO_P_STATE_FILE,
	HELLO_P_DELAY_MS,
};

static const struct vg_param_decl hello_params[] = {
	[HELLO_P_STATE_FILE] = {
		.name = "state_file", .type = VG_PARAM_PATH, .flags = VG_PARAM_REQUIRED,
		.help = "file that exists while the resource runs",
	},
	[HELLO_P_DELAY_MS] = {
		.name = "delay_ms", .type = VG_PARAM_DURATION_MS, .def = "0",
		.min = 0, .max = 60000,
		.help = "time every action takes before it completes",
	},
	{ .name = NULL },
};

struct hello;

/* One accepted request, from exec() until its callback has returned. */
struct hello_op {
	struct hello *hello;
	struct hello_op *next;
	uint64_t id;
	uint32_t action;        /* enum vg_rsc_action */
	int status;             /* 0, or -ETIMEDOUT / -ECANCELED decided early */
	struct vg_timer *timer; /* one-shot: NULL once it fired */
	vg_rsc_done_cb cb;
	void *arg;
};

/* One instance: one configured resource. */
struct hello {
	const struct vg_host *host;  /* valid until close() returns */
	const char *state_file;      /* borrowed from the core, same lifetime */
	uint64_t delay_ms;
	uint64_t next_id;
	struct hello_op *ops;        /* requests in flight */
};

static void hello_op_unlink(struct hello_op *op)
{
	struct hello_op **pp;

	for (pp = &op->hello->ops; *pp; pp = &(*pp)->next) {
		if (*pp == op) {
			*pp = op->next;
			return;
		}
	}
}

static int hello_start(struct hello *h, char *out, size_t outlen)
{
	int fd;

	fd = open(h->state_file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(out, outlen, "cannot create %s: %s", h->state_file, strerror(errno));
		return errno == EACCES ? VG_OCF_ERR_PERM : VG_OCF_ERR_GENERIC;
	}
	close(fd);
	snprintf(out, outlen, "created %s", h->state_file);
	return VG_OCF_SUCCESS;
}

static int hello_stop(struct hello *h, char *out, size_t outlen)
{
	/* Stopping what is not running is a success in OCF. */
	if (unlink(h->state_file) < 0 && errno != ENOENT) {
		snprintf(out, outlen, "cannot remove %s: %s", h->state_file, strerror(errno));
		return errno == EACCES ? VG_OCF_ERR_PERM : VG_OCF_ERR_GENERIC;
	}
	snprintf(out, outlen, "removed %s", h->state_file);
	return VG_OCF_SUCCESS;
}

static int hello_monitor(struct hello *h, char *out, size_t outlen)
{
	if (access(h->state_file, F_OK) == 0)
		return VG_OCF_SUCCESS;
	snprintf(out, outlen, "%s does not exist", h->state_file);
	return VG_OCF_NOT_RUNNING;
}

static int hello_validate(struct hello *h, char *out, size_t outlen)
{
	char dir[4096];
	char *slash;

	/* The core checked the types; only the environment is left to check. */
	snprintf(dir, sizeof(dir), "%s", h->state_file);
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), "/");
	if (access(dir, W_OK) < 0) {
		snprintf(out, outlen, "cannot write in the directory of %s: %s", h->state_file,
			 strerror(errno));
		return VG_OCF_ERR_CONFIGURED;
	}
	return VG_OCF_SUCCESS;
}

static const char hello_meta_data[] =
	"<?xml version=\"1.0\"?>\n"
	"<resource-agent name=\"hello\" version=\"1.0\">\n"
	"  <shortdesc lang=\"en\">state file example</shortdesc>\n"
	"  <parameters>\n"
	"    <parameter name=\"state_file\" required=\"1\"><content type=\"string\"/></parameter>\n"
	"    <parameter name=\"delay_ms\"><content type=\"integer\" default=\"0\"/></parameter>\n"
	"  </parameters>\n"
	"</resource-agent>\n";

/* Do the action now; the caller reports it.  Returns an OCF exit code. */
static int hello_run(struct hello_op *op, char *out, size_t outlen)
{
	switch (op->action) {
	case VG_RSC_START:
		return hello_start(op->hello, out, outlen);
	case VG_RSC_STOP:
		return hello_stop(op->hello, out, outlen);
	case VG_RSC_MONITOR:
		return hello_monitor(op->hello, out, outlen);
	case VG_RSC_VALIDATE_ALL:
		return hello_validate(op->hello, out, outlen);
	case VG_RSC_META_DATA:
		snprintf(out, outlen, "%s", hello_meta_data);
		return VG_OCF_SUCCESS;
	default:
		return VG_OCF_ERR_UNIMPLEMENTED;
	}
}

/* The one-shot timer fired: its handle is already freed by the core. */
static void hello_op_fire(void *arg)
{
	struct hello_op *op = arg;
	char out[1024] = "";
	int rc = VG_OCF_ERR_GENERIC;

	op->timer = NULL;
	hello_op_unlink(op);
	if (op->status == 0)
		rc = hello_run(op, out, sizeof(out));
	else
		snprintf(out, sizeof(out), "%s", strerror(-op->status));
	/* Unlinked first: the callback may call exec() or close() again. */
	op->cb(op->arg, op->status, rc, out);
	free(op);
}

static int hello_exec(void *state, const struct vg_rsc_request *req,
		      vg_rsc_done_cb cb, void *arg, uint64_t *op_id)
{
	struct hello *h = state;
	struct hello_op *op;
	uint64_t after_ms = h->delay_ms;
	int ret;

	op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	op->hello = h;
	op->id = ++h->next_id;
	op->action = req->action;
	op->cb = cb;
	op->arg = arg;
	/* Slower than allowed: end at the timeout and say so. */
	if (req->timeout_ms && after_ms > req->timeout_ms) {
		after_ms = req->timeout_ms;
		op->status = -ETIMEDOUT;
	}
	/* Even a 0 ms delay goes through the loop: never call cb from here. */
	ret = vg_timer_start(h->host, after_ms, 0, hello_op_fire, op, &op->timer);
	if (ret < 0) {
		free(op);
		return ret;
	}
	op->next = h->ops;
	h->ops = op;
	if (op_id)
		*op_id = op->id;
	return 0;
}

static void hello_cancel(void *state, uint64_t op_id)
{
	struct hello *h = state;
	struct hello_op *op;

	for (op = h->ops; op && op->id != op_id; op = op->next)
		;
	if (!op || op->status == -ECANCELED)
		return;
	/*
	 * Stop the work and report -ECANCELED from a fresh 0 ms timer, so the
	 * core gets the callback from its loop, not from inside cancel().
	 */
	vg_timer_stop(h->host, op->timer);
	op->timer = NULL;
	op->status = -ECANCELED;
	if (vg_timer_start(h->host, 0, 0, hello_op_fire, op, &op->timer) < 0)
		hello_op_fire(op); /* no timer to be had: report now rather than never */
}

static int hello_open(const struct vg_host *host, const struct vg_instance *inst, void **state)
{
	struct hello *h;

	h = calloc(1, sizeof(*h));
	if (!h) {
		vg_err(host, "hello: %s: out of memory", inst->name);
		return -ENOMEM;
	}
	h->host = host;
	/* Checked by the core: state_file is required, delay_ms has a default. */
	h->state_file = inst->params[HELLO_P_STATE_FILE].s;
	h->delay_ms = (uint64_t)inst->params[HELLO_P_DELAY_MS].i;
	vg_debug(host, "hello: %s: state file %s, delay %llu ms", inst->name,
		 h->state_file, (unsigned long long)h->delay_ms);
	*state = h;
	return 0;
}

/* Requests still in flight are dropped without their callback. */
static void hello_close(void *state)
{
	struct hello *h = state;
	struct hello_op *op;

	while ((op = h->ops)) {
		h->ops = op->next;
		vg_timer_stop(h->host, op->timer);
		free(op);
	}
	free(h);
}

static const struct vg_resource_ops hello_ops = {
	.exec = hello_exec,
	.cancel = hello_cancel,
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_RESOURCE,
	.name = "hello",
	.version = "1.0",
	.description = "example: a state file that exists while the resource runs",
	.params = hello_params,
	.open = hello_open,
	.close = hello_close,
	.ops = &hello_ops,
);
