/*
 * fence-conformance — runs any fence plugin through the checks every vigil
 * fence plugin must pass, with the real core: the registry loads the
 * plugin, config.c's parser types its parameters, the plugin's validate
 * (ABI 1.1) checks the instance, host.c opens it on a real event loop.
 *
 *   fence-conformance [-t TIMEOUT_MS] [-c CHECK_CMD] [-v] PLUGIN.so TARGET
 *       [key=value]... [attr.key=value]...
 *
 * key=value sets a declared parameter, attr.key=value an attribute (for
 * plugins with VG_PLUGIN_F_ATTRS).  TARGET is what the requests name
 * (the node or its plug).  TIMEOUT_MS (default 60000) is every request's
 * timeout.  CHECK_CMD, when given, is run through the shell after each
 * power step as `CHECK_CMD on` or `CHECK_CMD off`: an independent witness
 * (ipmitool, a PDU's own tool) that exits 0 when the target really is in
 * that state.  The checks power the target off and on: point it at a test
 * machine or a simulator, never at a live node.
 *
 * One line per check, "ok - ..." or "not ok - ...", then "N passed, N
 * failed"; exit 1 on any failure, 2 on a usage or load error.  Log lines
 * of the core and the plugin go to stderr with -v.  See
 * docs/plugin-guide.md, "Testing a fence plugin".
 */
#include "config.h"
#include "conformance.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FC_MAX_KV     64
#define FC_GRACE_MS   2500 /* a timed-out child gets SIGTERM, SIGKILL 2 s later */
#define FC_SETTLE_MS  500  /* after close: time for a stray callback to show */

struct fc;

/* One request and what its callback said. */
struct fc_call {
	struct fc *fc;
	uint32_t action;
	uint32_t timeout_ms;
	int done;            /* callbacks received */
	int status;
	int power;
	char detail[1024];
	uint64_t start_ms, elapsed_ms;
};

struct fc {
	struct vg_logger log;
	struct vg_loop *loop;
	struct vg_registry reg;
	struct vg_host_env env;
	struct vg_instance_conf ic;
	struct vg_plugin_inst *pi;
	const struct vg_plugin_info *info;
	const char *so, *target;
	const char *check_cmd;  /* -c: the independent witness, or NULL */
	uint32_t timeout_ms;
	int in_exec;         /* 1 while the plugin's exec() runs */
	int reentrant;       /* callbacks that came from inside exec() */
	int late;            /* requests that completed after their timeout */
	struct conf_tally t;
};

static const char *const fc_actions[] = {
	[VG_FENCE_OFF] = "off", [VG_FENCE_ON] = "on", [VG_FENCE_REBOOT] = "reboot",
	[VG_FENCE_STATUS] = "status", [VG_FENCE_LIST] = "list", [VG_FENCE_MONITOR] = "monitor",
};

static const char *const fc_powers[] = {
	[VG_POWER_INVALID] = "invalid", [VG_POWER_UNKNOWN] = "unknown",
	[VG_POWER_ON] = "on", [VG_POWER_OFF] = "off",
};

static uint64_t fc_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *fc_power_name(int power)
{
	return power >= 0 && power <= VG_POWER_OFF ? fc_powers[power] : "?";
}

static void fc_done_cb(void *arg, int status, int power, const char *detail)
{
	struct fc_call *c = arg;
	struct fc *fc = c->fc;

	if (fc->in_exec)
		fc->reentrant++;
	c->done++;
	c->status = status;
	c->power = power;
	c->elapsed_ms = fc_mono_ms() - c->start_ms;
	if (c->elapsed_ms > c->timeout_ms + FC_GRACE_MS)
		fc->late++;
	snprintf(c->detail, sizeof(c->detail), "%s", detail ? detail : "(null)");
}

/* Hand one request to the plugin: its exec() return value. */
static int fc_start(struct fc *fc, struct fc_call *c, uint32_t action, uint32_t timeout_ms,
		    uint64_t *id)
{
	struct vg_fence_request req = { .action = action, .timeout_ms = timeout_ms };
	int rc;

	*c = (struct fc_call){ .fc = fc, .action = action, .timeout_ms = timeout_ms };
	if (action != VG_FENCE_LIST && action != VG_FENCE_MONITOR)
		req.target = fc->target;
	c->start_ms = fc_mono_ms();
	fc->in_exec = 1;
	rc = fc->info->ops.fence.exec(fc->pi->state, &req, fc_done_cb, c, id);
	fc->in_exec = 0;
	return rc;
}

/* Run the loop until `c` is done or its timeout and the grace have passed. */
static void fc_wait(struct fc *fc, struct fc_call *c)
{
	uint64_t limit = c->timeout_ms + FC_GRACE_MS;

	while (!c->done && fc_mono_ms() - c->start_ms < limit)
		vg_loop_run_once(fc->loop, 20);
}

static void fc_spin(struct fc *fc, uint64_t ms)
{
	uint64_t start = fc_mono_ms();

	while (fc_mono_ms() - start < ms)
		vg_loop_run_once(fc->loop, 20);
}

/* Run one request to its end; 1 when it completed (with any status). */
static int fc_run(struct fc *fc, struct fc_call *c, uint32_t action)
{
	uint64_t id;
	int rc = fc_start(fc, c, action, fc->timeout_ms, &id);

	if (rc < 0) {
		c->status = rc;
		snprintf(c->detail, sizeof(c->detail), "refused by exec(): %s", strerror(-rc));
		return 0;
	}
	fc_wait(fc, c);
	return c->done == 1;
}

static void fc_report(struct fc *fc, const struct fc_call *c, int ok, const char *what)
{
	conf_check(&fc->t, ok, "%s (%s: status %d%s%s, power %s, %llu ms%s%s)", what,
		 fc_actions[c->action], c->status, c->status ? " " : "",
		 c->status ? strerror(-c->status) : "", fc_power_name(c->power),
		 (unsigned long long)c->elapsed_ms, c->detail[0] ? ": " : "",
		 c->action == VG_FENCE_LIST ? "..." : c->detail);
}

/* No request is in flight here: the loop may wait for the witness. */
static void fc_witness(struct fc *fc, uint32_t action, int want)
{
	char cmd[1024];
	int rc;

	snprintf(cmd, sizeof(cmd), "%s %s", fc->check_cmd, fc_power_name(want));
	rc = system(cmd);
	conf_check(&fc->t, rc == 0, "witness after %s: `%s` exits 0 (got %d)", fc_actions[action], cmd,
		 WIFEXITED(rc) ? WEXITSTATUS(rc) : -1);
}

/* `action` succeeds, then status reports `want`. */
static void fc_power_step(struct fc *fc, uint32_t action, int want)
{
	struct fc_call c, s;
	char what[128];
	int ok;

	ok = fc_run(fc, &c, action) && c.status == 0;
	snprintf(what, sizeof(what), "%s succeeds", fc_actions[action]);
	fc_report(fc, &c, ok, what);
	ok = fc_run(fc, &s, VG_FENCE_STATUS) && s.status == 0 && s.power == want;
	snprintf(what, sizeof(what), "status after %s says %s", fc_actions[action],
		 fc_power_name(want));
	fc_report(fc, &s, ok, what);
	if (fc->check_cmd)
		fc_witness(fc, action, want);
}

static void fc_check_monitor_status(struct fc *fc)
{
	struct fc_call c;
	int ok;

	ok = fc_run(fc, &c, VG_FENCE_MONITOR) && c.status == 0;
	fc_report(fc, &c, ok, "monitor succeeds");
	ok = fc_run(fc, &c, VG_FENCE_STATUS) && c.status == 0 &&
	     (c.power == VG_POWER_ON || c.power == VG_POWER_OFF);
	fc_report(fc, &c, ok, "status returns a power state");
}

/* list: any status will do (not every device can list), but exactly one answer in time. */
static void fc_check_list(struct fc *fc)
{
	struct fc_call c;
	size_t plugs = 0;
	int done = fc_run(fc, &c, VG_FENCE_LIST);

	for (char *p = c.detail; c.status == 0 && *p; p++) {
		if (p == c.detail || p[-1] == ',')
			plugs++;
		if (*p == '\n')
			*p = ',';
	}
	conf_check(&fc->t, done || c.status < 0, "list answers (status %d%s%s, %zu plugs: %.60s%s)",
		 c.status, c.status ? " " : "", c.status ? strerror(-c.status) : "", plugs,
		 c.status ? "" : c.detail, strlen(c.detail) > 60 ? "..." : "");
}

static void fc_check_cancel(struct fc *fc)
{
	struct fc_call c;
	uint64_t id = 0;
	int rc;

	if (!fc->info->ops.fence.cancel) {
		conf_check(&fc->t, 1, "cancel: not provided (the core waits for requests) # SKIP");
		return;
	}
	rc = fc_start(fc, &c, VG_FENCE_STATUS, fc->timeout_ms, &id);
	if (rc < 0) {
		conf_check(&fc->t, 0, "cancel: status refused by exec(): %s", strerror(-rc));
		return;
	}
	fc->in_exec = 1; /* a callback from inside cancel() is as wrong */
	fc->info->ops.fence.cancel(fc->pi->state, id);
	fc->in_exec = 0;
	fc_wait(fc, &c);
	fc_report(fc, &c, c.done == 1 && c.status == -ECANCELED,
		  "cancel of a running status yields -ECANCELED");
}

/* A tiny timeout must end the request in time: success or -ETIMEDOUT. */
static void fc_check_timeout(struct fc *fc)
{
	struct fc_call c;
	uint64_t id;
	int rc = fc_start(fc, &c, VG_FENCE_STATUS, 1, &id);

	if (rc < 0) {
		conf_check(&fc->t, 0, "timeout: status refused by exec(): %s", strerror(-rc));
		return;
	}
	fc_wait(fc, &c);
	fc_report(fc, &c, c.done == 1 && (c.status == 0 || c.status == -ETIMEDOUT),
		  "status with timeout_ms=1 ends in time with 0 or -ETIMEDOUT");
}

/* Close with a request in flight: no callback, and every child gone. */
static void fc_check_close_in_flight(struct fc *fc)
{
	struct fc_call c;
	uint64_t id, start;
	int rc = fc_start(fc, &c, VG_FENCE_STATUS, fc->timeout_ms, &id);

	if (rc < 0) {
		conf_check(&fc->t, 0, "close in flight: status refused by exec(): %s", strerror(-rc));
		return;
	}
	vg_plugin_inst_close(fc->pi);
	fc->pi = NULL;
	fc_spin(fc, FC_SETTLE_MS);
	start = fc_mono_ms();
	while (vg_loop_child_count(fc->loop) && fc_mono_ms() - start < FC_GRACE_MS)
		vg_loop_run_once(fc->loop, 20);
	conf_check(&fc->t, c.done == 0 && vg_loop_child_count(fc->loop) == 0,
		 "close with a request in flight: no callback (%d), no child left (%zu)",
		 c.done, vg_loop_child_count(fc->loop));
}

static void fc_usage(void)
{
	fprintf(stderr, "usage: fence-conformance [-t TIMEOUT_MS] [-c CHECK_CMD] [-v] PLUGIN.so TARGET "
		"[key=value]... [attr.key=value]...\n");
}

/* key=value for a declared parameter: typed by the core's own parser. */
static int fc_set_param(struct fc *fc, const char *key, const char *text)
{
	char err[256];

	for (size_t i = 0; i < fc->info->n_params; i++) {
		const struct vg_param_decl *d = &fc->info->params[i];

		if (strcmp(d->name, key))
			continue;
		free((char *)fc->ic.values[i].s);
		if (vg_param_parse(d, text, &fc->ic.values[i], err, sizeof(err)) < 0) {
			fprintf(stderr, "fence-conformance: param %s: %s\n", key, err);
			return -EINVAL;
		}
		return 0;
	}
	fprintf(stderr, "fence-conformance: plugin %s declares no param \"%s\"\n",
		fc->info->name, key);
	return -EINVAL;
}

static int fc_add_attr(struct fc *fc, const char *key, const char *value)
{
	struct vg_attr *a = &fc->ic.attrs[fc->ic.n_attrs];

	if (!(fc->info->flags & VG_PLUGIN_F_ATTRS)) {
		fprintf(stderr, "fence-conformance: plugin %s takes no attributes\n", fc->info->name);
		return -EINVAL;
	}
	a->key = strdup(key);
	a->value = strdup(value);
	fc->ic.n_attrs++;
	return a->key && a->value ? 0 : -ENOMEM;
}

/* Defaults first, then the command line's key=value and attr.key=value. */
static int fc_conf(struct fc *fc, char **kv, int n)
{
	const struct vg_plugin_info *info = fc->info;
	char err[256];

	fc->ic.name = strdup("conformance");
	fc->ic.plugin = strdup(info->name);
	fc->ic.info = info;
	fc->ic.values = calloc(info->n_params + 1, sizeof(*fc->ic.values));
	fc->ic.n_values = info->n_params;
	fc->ic.attrs = calloc((size_t)n + 1, sizeof(*fc->ic.attrs));
	if (!fc->ic.name || !fc->ic.plugin || !fc->ic.values || !fc->ic.attrs)
		return -ENOMEM;
	for (size_t i = 0; i < info->n_params; i++)
		if (info->params[i].def &&
		    vg_param_parse(&info->params[i], info->params[i].def, &fc->ic.values[i],
				   err, sizeof(err)) < 0)
			return -EINVAL;
	for (int i = 0; i < n; i++) {
		char *eq = strchr(kv[i], '=');
		int rc;

		if (!eq || eq == kv[i]) {
			fc_usage();
			return -EINVAL;
		}
		*eq = '\0';
		if (!strncmp(kv[i], "attr.", 5))
			rc = fc_add_attr(fc, kv[i] + 5, eq + 1);
		else
			rc = fc_set_param(fc, kv[i], eq + 1);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < info->n_params; i++) {
		if ((info->params[i].flags & VG_PARAM_REQUIRED) && !fc->ic.values[i].is_set) {
			fprintf(stderr, "fence-conformance: param %s is required\n",
				info->params[i].name);
			return -EINVAL;
		}
	}
	return 0;
}

static void fc_conf_free(struct fc *fc)
{
	for (size_t i = 0; i < fc->ic.n_values; i++)
		free((char *)fc->ic.values[i].s);
	for (size_t i = 0; i < fc->ic.n_attrs; i++) {
		free((char *)fc->ic.attrs[i].key);
		free((char *)fc->ic.attrs[i].value);
	}
	free(fc->ic.values);
	free(fc->ic.attrs);
	free(fc->ic.name);
	free(fc->ic.plugin);
}

static int fc_load(struct fc *fc, int verbose)
{
	int rc = conf_load("fence-conformance", fc->so, VG_KIND_FENCE, verbose, &fc->log, &fc->loop,
			   &fc->reg, &fc->info);

	if (rc < 0)
		return rc;
	fc->env = (struct vg_host_env){ .loop = fc->loop, .log = &fc->log, .local_node_id = 1 };
	return 0;
}

/* The plugin's validate (if any) accepts the instance; then open it. */
static int fc_open(struct fc *fc)
{
	struct vg_instance inst = { .name = fc->ic.name, .params = fc->ic.values,
				    .n_params = fc->ic.n_values, .attrs = fc->ic.attrs,
				    .n_attrs = fc->ic.n_attrs };
	char msg[512] = "";
	int rc;

	if (fc->info->ops.fence.validate) {
		rc = fc->info->ops.fence.validate(&inst, msg, sizeof(msg));
		conf_check(&fc->t, rc == 0, "validate accepts the configuration%s%s",
			 msg[0] ? ": " : "", msg);
		if (rc < 0)
			return rc;
	}
	rc = vg_plugin_inst_open(&fc->env, &fc->ic, 0, &fc->pi);
	conf_check(&fc->t, rc == 0, "open succeeds (%d)", rc);
	return rc;
}

static void fc_run_checks(struct fc *fc)
{
	fc_check_monitor_status(fc);
	fc_check_list(fc);
	fc_power_step(fc, VG_FENCE_OFF, VG_POWER_OFF);
	fc_power_step(fc, VG_FENCE_ON, VG_POWER_ON);
	fc_power_step(fc, VG_FENCE_REBOOT, VG_POWER_ON);
	fc_check_cancel(fc);
	fc_check_timeout(fc);
	conf_check(&fc->t, fc->reentrant == 0, "no callback from inside exec() or cancel() (%d seen)",
		 fc->reentrant);
	conf_check(&fc->t, fc->late == 0, "every request completed within its timeout (%d late)",
		 fc->late);
	fc_check_close_in_flight(fc);
}

int main(int argc, char **argv)
{
	struct fc fc = { .timeout_ms = 60000 };
	int verbose = 0, opt, rc = 2;

	while ((opt = getopt(argc, argv, "+t:c:vh")) != -1) {
		if (opt == 't')
			fc.timeout_ms = (uint32_t)strtoul(optarg, NULL, 10);
		else if (opt == 'c')
			fc.check_cmd = optarg;
		else if (opt == 'v')
			verbose = 1;
		else
			goto usage;
	}
	if (argc - optind < 2 || fc.timeout_ms == 0)
		goto usage;
	fc.so = argv[optind];
	fc.target = argv[optind + 1];
	if (fc_load(&fc, verbose) < 0 ||
	    fc_conf(&fc, argv + optind + 2, argc - optind - 2) < 0)
		goto out;
	if (fc_open(&fc) == 0)
		fc_run_checks(&fc);
	printf("%d passed, %d failed\n", fc.t.passed, fc.t.failed);
	rc = fc.t.failed ? 1 : 0;
out:
	if (fc.pi)
		vg_plugin_inst_close(fc.pi);
	fc_conf_free(&fc);
	vg_registry_free(&fc.reg);
	if (fc.loop)
		vg_loop_free(fc.loop);
	return rc;
usage:
	fc_usage();
	return 2;
}
