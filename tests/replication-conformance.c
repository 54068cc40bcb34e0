/*
 * replication-conformance — runs any replication backend (VG_KIND_REPLICATION,
 * ABI 1.3) through the checks vigil's core relies on, with the real core:
 * the registry loads the plugin, config.c's parser types its parameters,
 * host.c opens two instances of it (node A and node B of one replicated
 * store) on one event loop.
 *
 *   replication-conformance [-t BOUND_MS] [-v] PLUGIN.so
 *       [--param k=v]... [--param1 k=v]... [--param2 k=v]...
 *
 * --param sets a declared parameter on both instances, --param1 on node A
 * only, --param2 on node B only (later ones win); "%i" in a value becomes
 * the node's number (1 or 2), "%n" its letter (a or b).  Both instances are
 * named "conformance".  BOUND_MS (default 60000) bounds every wait: a
 * callback, the connection, the initial sync, a role change.
 *
 * Convention: the parameters must describe a FRESH pair — two new, empty
 * stores that never agreed on any data — whose disks report INCONSISTENT
 * (or OUTDATED) once connected.  The initial promote is then
 * promote(A, VG_REPL_PROMOTE_FORCE): the operator declares A's copy good,
 * and the backend must bring B up to date from A.
 *
 * One line per check, "ok - ..." or "not ok - ...", then "N passed, N
 * failed"; exit 1 on any failure, 2 on a usage or load error.  Log lines
 * of the core and the plugin go to stderr with -v.  See
 * docs/plugin-guide.md, "Testing a replication backend".
 */
#include "config.h"
#include "conformance.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RC_MAX_KV     64
#define RC_MAX_CALLS  64
#define RC_STATUS_MS  20   /* status() slower than this is not "cheap" */
#define RC_SETTLE_MS  500  /* after close: time for a stray callback to show */
#define RC_GRACE_MS   10000 /* after close: helper processes must be gone by then */

struct rc;

/* One request and what its callback said; lives in struct rc so a late callback is safe. */
struct rc_call {
	struct rc *rc;
	const char *what;
	int done;          /* callbacks received */
	int status;
	char detail[512];
	uint64_t start_ms, elapsed_ms;
};

struct rc_node {
	const char *label;   /* "A", "B" */
	struct vg_host_env env;
	struct vg_instance_conf ic;
	struct vg_plugin_inst *pi;
};

struct rc {
	struct vg_logger log;
	struct vg_loop *loop;
	struct vg_registry reg;
	const struct vg_plugin_info *info;
	const struct vg_replication_ops *ops;
	const char *so;
	uint32_t bound_ms;
	struct rc_node node[2];
	struct rc_call calls[RC_MAX_CALLS];
	int n_calls;
	int in_op;           /* 1 while a plugin op runs */
	int reentrant;       /* callbacks that came from inside an op */
	unsigned long status_calls, status_bad, status_slow;
	uint64_t status_max_us;
	char status_bad_msg[256];
	struct conf_tally t;
};

static const char *const roles[] = { "invalid", "secondary", "primary", "unknown" };
static const char *const disks[] = { "invalid", "diskless", "inconsistent", "outdated",
				     "uptodate", "unknown" };
static const char *const conns[] = { "invalid", "standalone", "connecting", "connected",
				     "sync-source", "sync-target" };

#define NAME(tab, v) ((v) < sizeof(tab) / sizeof(tab[0]) ? tab[v] : "?")

static uint64_t rc_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static uint64_t rc_mono_ms(void)
{
	return rc_mono_us() / 1000;
}

static const char *rc_err(int status)
{
	return status ? strerror(-status) : "success";
}

/* status(): timed, and every answer checked for known, non-zero states. */
static int rc_status(struct rc *rc, struct rc_node *n, struct vg_repl_status *st)
{
	uint64_t t0, us;
	int ret;

	memset(st, 0, sizeof(*st)); /* as the core does */
	rc->in_op = 1;
	t0 = rc_mono_us();
	ret = rc->ops->status(n->pi->state, st);
	us = rc_mono_us() - t0;
	rc->in_op = 0;
	rc->status_calls++;
	if (us > rc->status_max_us)
		rc->status_max_us = us;
	if (us > RC_STATUS_MS * 1000)
		rc->status_slow++;
	if (ret > 0 || st->role < VG_REPL_ROLE_SECONDARY || st->role > VG_REPL_ROLE_UNKNOWN ||
	    st->peer_role < VG_REPL_ROLE_SECONDARY || st->peer_role > VG_REPL_ROLE_UNKNOWN ||
	    st->disk < VG_REPL_DISK_DISKLESS || st->disk > VG_REPL_DISK_UNKNOWN ||
	    st->peer_disk < VG_REPL_DISK_DISKLESS || st->peer_disk > VG_REPL_DISK_UNKNOWN ||
	    st->conn < VG_REPL_CONN_STANDALONE || st->conn > VG_REPL_CONN_SYNC_TARGET ||
	    st->split_brain > 1) {
		if (!rc->status_bad++)
			snprintf(rc->status_bad_msg, sizeof(rc->status_bad_msg),
				 "%s: return %d, role %u peer_role %u disk %u peer_disk %u conn %u "
				 "split_brain %u", n->label, ret, st->role, st->peer_role, st->disk,
				 st->peer_disk, st->conn, st->split_brain);
	}
	return ret;
}

static void rc_describe(const struct vg_repl_status *s, char *buf, size_t len)
{
	snprintf(buf, len, "role %s, peer %s, disk %s, peer disk %s, %s%s, oos %llu",
		 NAME(roles, s->role), NAME(roles, s->peer_role), NAME(disks, s->disk),
		 NAME(disks, s->peer_disk), NAME(conns, s->conn),
		 s->split_brain ? ", SPLIT BRAIN" : "", (unsigned long long)s->out_of_sync_bytes);
}

static void rc_done_cb(void *arg, int status, const char *detail)
{
	struct rc_call *c = arg;

	if (c->rc->in_op)
		c->rc->reentrant++;
	c->done++;
	c->status = status;
	c->elapsed_ms = rc_mono_ms() - c->start_ms;
	snprintf(c->detail, sizeof(c->detail), "%s", detail ? detail : "(null)");
}

static struct rc_call *rc_new_call(struct rc *rc, const char *what)
{
	struct rc_call *c;

	if (rc->n_calls == RC_MAX_CALLS) {
		fprintf(stderr, "replication-conformance: too many requests\n");
		exit(2);
	}
	c = &rc->calls[rc->n_calls++];
	*c = (struct rc_call){ .rc = rc, .what = what, .start_ms = rc_mono_ms() };
	return c;
}

enum { OP_PROMOTE, OP_PROMOTE_FORCE, OP_DEMOTE, OP_VERIFY };

/* Hand one request to the plugin: the op's return value (0: a callback follows). */
static int rc_start(struct rc *rc, struct rc_node *n, int op, struct rc_call **out)
{
	static const char *const what[] = { "promote", "promote force", "demote", "verify" };
	struct rc_call *c = rc_new_call(rc, what[op]);
	void *s = n->pi->state;
	int ret;

	rc->in_op = 1;
	switch (op) {
	case OP_PROMOTE: ret = rc->ops->promote(s, 0, rc_done_cb, c); break;
	case OP_PROMOTE_FORCE: ret = rc->ops->promote(s, VG_REPL_PROMOTE_FORCE, rc_done_cb, c); break;
	case OP_DEMOTE: ret = rc->ops->demote(s, rc_done_cb, c); break;
	default: ret = rc->ops->verify(s, rc_done_cb, c); break;
	}
	rc->in_op = 0;
	*out = c;
	return ret;
}

static void rc_spin(struct rc *rc, uint64_t ms)
{
	uint64_t start = rc_mono_ms();

	while (rc_mono_ms() - start < ms)
		vg_loop_run_once(rc->loop, 20);
}

/* Run the loop until `c` completed or the bound passed; 1 when it completed. */
static int rc_wait_call(struct rc *rc, struct rc_call *c)
{
	while (!c->done && rc_mono_ms() - c->start_ms < rc->bound_ms)
		vg_loop_run_once(rc->loop, 20);
	return c->done > 0;
}

/*
 * The outcome of a request: the op's return value when refused at once,
 * else the callback's status after waiting; -ETIMEDOUT with done == 0
 * when no callback came in time.  *how says which.
 */
static int rc_run(struct rc *rc, struct rc_node *n, int op, struct rc_call **cp, const char **how)
{
	int ret = rc_start(rc, n, op, cp);

	if (ret < 0) {
		*how = "refused at once";
		return ret;
	}
	if (ret > 0) {
		*how = "positive return";
		return ret;
	}
	if ((*cp)->done) {
		*how = "callback from inside the op";
		return (*cp)->status;
	}
	if (!rc_wait_call(rc, *cp)) {
		*how = "no callback in time";
		return -ETIMEDOUT;
	}
	*how = "through the callback";
	return (*cp)->status;
}

typedef int (*rc_pred)(const struct vg_repl_status *a, const struct vg_repl_status *b);

/* Poll status on both nodes until `pred` holds (bounded); 0 when it did. */
static int rc_wait_state(struct rc *rc, rc_pred pred, uint64_t *ms, struct vg_repl_status *a,
			 struct vg_repl_status *b)
{
	uint64_t start = rc_mono_ms();
	int ra, rb;

	for (;;) {
		ra = rc_status(rc, &rc->node[0], a);
		rb = rc_status(rc, &rc->node[1], b);
		*ms = rc_mono_ms() - start;
		if (ra == 0 && rb == 0 && pred(a, b))
			return 0;
		if (*ms >= rc->bound_ms)
			return -ETIMEDOUT;
		vg_loop_run_once(rc->loop, 20);
	}
}

static int is_conn(uint32_t c) { return c == VG_REPL_CONN_CONNECTED; }

static int pr_connected(const struct vg_repl_status *a, const struct vg_repl_status *b)
{
	return is_conn(a->conn) && is_conn(b->conn);
}

static int pr_synced(const struct vg_repl_status *a, const struct vg_repl_status *b)
{
	return pr_connected(a, b) && a->disk == VG_REPL_DISK_UPTODATE &&
	       b->disk == VG_REPL_DISK_UPTODATE && a->peer_disk == VG_REPL_DISK_UPTODATE &&
	       b->peer_disk == VG_REPL_DISK_UPTODATE;
}

static int pr_a_primary(const struct vg_repl_status *a, const struct vg_repl_status *b)
{
	return pr_synced(a, b) && a->role == VG_REPL_ROLE_PRIMARY &&
	       b->role == VG_REPL_ROLE_SECONDARY && b->peer_role == VG_REPL_ROLE_PRIMARY;
}

static int pr_both_secondary(const struct vg_repl_status *a, const struct vg_repl_status *b)
{
	return pr_connected(a, b) && a->role == VG_REPL_ROLE_SECONDARY &&
	       b->role == VG_REPL_ROLE_SECONDARY && a->peer_role == VG_REPL_ROLE_SECONDARY &&
	       b->peer_role == VG_REPL_ROLE_SECONDARY;
}

static int pr_b_primary(const struct vg_repl_status *a, const struct vg_repl_status *b)
{
	return pr_synced(a, b) && b->role == VG_REPL_ROLE_PRIMARY &&
	       a->role == VG_REPL_ROLE_SECONDARY && a->peer_role == VG_REPL_ROLE_PRIMARY;
}

static int pr_idle(const struct vg_repl_status *a, const struct vg_repl_status *b)
{
	return pr_synced(a, b) && a->out_of_sync_bytes == 0 && b->out_of_sync_bytes == 0;
}

/* Wait for a state and report it; 1 when reached. */
static int rc_expect_state(struct rc *rc, rc_pred pred, const char *what)
{
	struct vg_repl_status a, b;
	char da[200], db[200];
	uint64_t ms;
	int ok = rc_wait_state(rc, pred, &ms, &a, &b) == 0;

	rc_describe(&a, da, sizeof(da));
	rc_describe(&b, db, sizeof(db));
	conf_check(&rc->t, ok, "%s (%llu ms; A: %s; B: %s)", what, (unsigned long long)ms, da, db);
	return ok;
}

static void rc_report(struct rc *rc, int ok, const char *what, const struct rc_call *c, int st,
		      const char *how)
{
	conf_check(&rc->t, ok, "%s (%s: %d %s, %s, %llu ms%s%s)", what, c->what, st, rc_err(st), how,
		 (unsigned long long)c->elapsed_ms, c->done ? ": " : "", c->done ? c->detail : "");
}

/* Right after open: status answers at once with known states (the backend may know nothing yet). */
static void rc_check_first_status(struct rc *rc)
{
	for (int i = 0; i < 2; i++) {
		struct vg_repl_status st;
		unsigned long bad = rc->status_bad;
		char d[200];
		int ret = rc_status(rc, &rc->node[i], &st);

		rc_describe(&st, d, sizeof(d));
		conf_check(&rc->t, rc->status_bad == bad && ret <= 0,
			 "status of %s right after open returns known states (return %d; %s)",
			 rc->node[i].label, ret, d);
	}
}

/* A fresh pair: no disk up to date, a promote without force refused, no callback inside. */
static int rc_check_refused_promote(struct rc *rc)
{
	struct rc_node *a = &rc->node[0];
	struct vg_repl_status st;
	struct rc_call *c;
	const char *how;
	int s;

	rc_status(rc, a, &st);
	if (st.disk == VG_REPL_DISK_UPTODATE) {
		conf_check(&rc->t, 0, "fresh pair: A's disk is not up-to-date (it is: the params must "
			 "describe two new stores)");
		return 0;
	}
	conf_check(&rc->t, 1, "fresh pair: A's disk is %s", NAME(disks, st.disk));
	s = rc_run(rc, a, OP_PROMOTE, &c, &how);
	rc_report(rc, s == -EPERM && strcmp(how, "callback from inside the op") != 0,
		  "promote of A without force on a fresh pair is refused with -EPERM", c, s, how);
	rc_status(rc, a, &st);
	conf_check(&rc->t, st.role != VG_REPL_ROLE_PRIMARY, "A is not primary after the refusal (role %s)",
		 NAME(roles, st.role));
	return 1;
}

static int rc_check_forced_promote(struct rc *rc)
{
	struct rc_call *c;
	const char *how;
	int s = rc_run(rc, &rc->node[0], OP_PROMOTE_FORCE, &c, &how);
	int ok = s == 0 && !strcmp(how, "through the callback");

	rc_report(rc, ok, "forced (initial) promote of A completes through its callback", c, s,
		  how);
	return ok;
}

static void rc_check_second_primary(struct rc *rc)
{
	struct vg_repl_status st;
	struct rc_call *c;
	const char *how;
	int s = rc_run(rc, &rc->node[1], OP_PROMOTE, &c, &how);

	rc_report(rc, s == -EBUSY && strcmp(how, "callback from inside the op") != 0,
		  "promote of B while A is primary is refused with -EBUSY", c, s, how);
	rc_spin(rc, 200);
	rc_status(rc, &rc->node[1], &st);
	conf_check(&rc->t, st.role != VG_REPL_ROLE_PRIMARY,
		 "B is not primary after the refusal (role %s)", NAME(roles, st.role));
}

static int rc_check_move(struct rc *rc)
{
	struct rc_call *c;
	const char *how;
	int s, ok;

	s = rc_run(rc, &rc->node[0], OP_DEMOTE, &c, &how);
	ok = s == 0 && !strcmp(how, "through the callback");
	rc_report(rc, ok, "demote of A completes through its callback", c, s, how);
	if (!ok || !rc_expect_state(rc, pr_both_secondary, "both nodes secondary after the demote"))
		return 0;
	s = rc_run(rc, &rc->node[1], OP_PROMOTE, &c, &how);
	ok = s == 0 && !strcmp(how, "through the callback");
	rc_report(rc, ok, "promote of B (up to date, no force) completes through its callback", c,
		  s, how);
	return ok && rc_expect_state(rc, pr_b_primary, "the primary moved to B, A sees it");
}

static void rc_check_verify(struct rc *rc)
{
	struct vg_repl_status a, b;
	struct rc_call *c;
	const char *how;
	uint64_t ms;
	int s;

	if (!rc->ops->verify) {
		conf_check(&rc->t, 1, "verify: not provided # SKIP");
		return;
	}
	if (!rc_expect_state(rc, pr_idle, "idle, connected pair before verify"))
		return;
	s = rc_run(rc, &rc->node[0], OP_VERIFY, &c, &how);
	rc_report(rc, s == 0 && !strcmp(how, "through the callback"),
		  "verify on A completes through its callback with 0", c, s, how);
	rc_wait_state(rc, pr_connected, &ms, &a, &b);
	conf_check(&rc->t, a.out_of_sync_bytes == 0 && b.out_of_sync_bytes == 0,
		 "verify found 0 bytes differing (out of sync: A %llu, B %llu)",
		 (unsigned long long)a.out_of_sync_bytes, (unsigned long long)b.out_of_sync_bytes);
}

/* Requests in flight on both nodes, then close both: no callback, no child left. */
static void rc_check_close_in_flight(struct rc *rc)
{
	struct rc_call *cb = NULL, *ca = NULL;
	int first = rc->n_calls, late = 0, rb, ra;
	uint64_t start;

	rb = rc_start(rc, &rc->node[1], OP_DEMOTE, &cb);
	ra = rc->ops->verify ? rc_start(rc, &rc->node[0], OP_VERIFY, &ca)
			     : rc_start(rc, &rc->node[0], OP_PROMOTE, &ca);
	for (int i = 0; i < 2; i++) {
		vg_plugin_inst_close(rc->node[i].pi);
		rc->node[i].pi = NULL;
	}
	rc_spin(rc, RC_SETTLE_MS);
	start = rc_mono_ms();
	while (vg_loop_child_count(rc->loop) && rc_mono_ms() - start < RC_GRACE_MS)
		vg_loop_run_once(rc->loop, 20);
	for (int i = first; i < rc->n_calls; i++)
		late += rc->calls[i].done;
	conf_check(&rc->t, late == 0 && vg_loop_child_count(rc->loop) == 0,
		 "close with requests in flight (B %s: %d, A %s: %d): no callback (%d), no child "
		 "left (%zu)", cb->what, rb, ca->what, ra, late, vg_loop_child_count(rc->loop));
}

static void rc_run_checks(struct rc *rc)
{
	int twice = 0;

	rc_check_first_status(rc);
	if (rc_expect_state(rc, pr_connected, "A and B connect") && rc_check_refused_promote(rc) &&
	    rc_check_forced_promote(rc) &&
	    rc_expect_state(rc, pr_a_primary, "both up-to-date and connected, A primary")) {
		rc_check_second_primary(rc);
		if (rc_check_move(rc))
			rc_check_verify(rc);
	}
	for (int i = 0; i < rc->n_calls; i++)
		twice += rc->calls[i].done > 1;
	conf_check(&rc->t, rc->reentrant == 0, "no callback from inside an op (%d seen)", rc->reentrant);
	conf_check(&rc->t, twice == 0, "no request completed twice (%d did)", twice);
	conf_check(&rc->t, rc->status_bad == 0,
		 "every status() returned known, non-zero states (%lu calls, %lu bad%s%s)",
		 rc->status_calls, rc->status_bad, rc->status_bad ? "; first: " : "",
		 rc->status_bad_msg);
	conf_check(&rc->t, rc->status_slow == 0,
		 "status() is synchronous and cheap (max %llu us, %lu over %d ms)",
		 (unsigned long long)rc->status_max_us, rc->status_slow, RC_STATUS_MS);
	rc_check_close_in_flight(rc);
}

static void rc_usage(void)
{
	fprintf(stderr, "usage: replication-conformance [-t BOUND_MS] [-v] PLUGIN.so\n"
		"         [--param k=v]... [--param1 k=v]... [--param2 k=v]...\n");
}

/* "%i" -> 1|2, "%n" -> a|b. */
static char *rc_subst(const char *v, int id)
{
	size_t len = strlen(v);
	char *out = malloc(len + 1), *o = out;

	if (!out)
		return NULL;
	for (const char *p = v; *p; p++) {
		if (p[0] == '%' && (p[1] == 'i' || p[1] == 'n')) {
			*o++ = p[1] == 'i' ? (char)('1' + id) : (char)('a' + id);
			p++;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

/* key=value for a declared parameter of node n: typed by the core's own parser. */
static int rc_set_param(struct rc *rc, struct rc_node *n, int id, const char *kv)
{
	const char *eq = strchr(kv, '=');
	char err[256], key[128];
	char *text;

	if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof(key)) {
		rc_usage();
		return -EINVAL;
	}
	snprintf(key, sizeof(key), "%.*s", (int)(eq - kv), kv);
	for (size_t i = 0; i < rc->info->n_params; i++) {
		const struct vg_param_decl *d = &rc->info->params[i];
		int ret;

		if (strcmp(d->name, key))
			continue;
		text = rc_subst(eq + 1, id);
		if (!text)
			return -ENOMEM;
		free((char *)n->ic.values[i].s);
		memset(&n->ic.values[i], 0, sizeof(n->ic.values[i]));
		ret = vg_param_parse(d, text, &n->ic.values[i], err, sizeof(err));
		free(text);
		if (ret < 0) {
			fprintf(stderr, "replication-conformance: param %s: %s\n", key, err);
			return -EINVAL;
		}
		return 0;
	}
	fprintf(stderr, "replication-conformance: plugin %s declares no param \"%s\"\n",
		rc->info->name, key);
	return -EINVAL;
}

static int rc_conf_node(struct rc *rc, int id)
{
	const struct vg_plugin_info *info = rc->info;
	struct rc_node *n = &rc->node[id];
	char err[256];

	n->label = id ? "B" : "A";
	n->ic.name = strdup("conformance");
	n->ic.plugin = strdup(info->name);
	n->ic.info = info;
	n->ic.values = calloc(info->n_params + 1, sizeof(*n->ic.values));
	n->ic.n_values = info->n_params;
	if (!n->ic.name || !n->ic.plugin || !n->ic.values)
		return -ENOMEM;
	for (size_t i = 0; i < info->n_params; i++)
		if (info->params[i].def &&
		    vg_param_parse(&info->params[i], info->params[i].def, &n->ic.values[i], err,
				   sizeof(err)) < 0)
			return -EINVAL;
	n->env = (struct vg_host_env){ .loop = rc->loop, .log = &rc->log,
				       .local_node_id = (uint32_t)id + 1 };
	return 0;
}

static int rc_check_required(struct rc *rc)
{
	for (int id = 0; id < 2; id++)
		for (size_t i = 0; i < rc->info->n_params; i++)
			if ((rc->info->params[i].flags & VG_PARAM_REQUIRED) &&
			    !rc->node[id].ic.values[i].is_set) {
				fprintf(stderr, "replication-conformance: param %s is required "
					"(node %s)\n", rc->info->params[i].name, rc->node[id].label);
				return -EINVAL;
			}
	return 0;
}

static void rc_conf_free(struct rc_node *n)
{
	for (size_t i = 0; n->ic.values && i < n->ic.n_values; i++)
		free((char *)n->ic.values[i].s);
	free(n->ic.values);
	free(n->ic.name);
	free(n->ic.plugin);
}

static int rc_load(struct rc *rc, int verbose)
{
	int ret = conf_load("replication-conformance", rc->so, VG_KIND_REPLICATION, verbose,
			    &rc->log, &rc->loop, &rc->reg, &rc->info);

	if (ret < 0)
		return ret;
	rc->ops = &rc->info->ops.replication;
	return 0;
}

static int rc_open(struct rc *rc)
{
	for (int i = 0; i < 2; i++) {
		struct rc_node *n = &rc->node[i];
		int ret = vg_plugin_inst_open(&n->env, &n->ic, 0, &n->pi);

		conf_check(&rc->t, ret == 0, "open node %s of %s (%d)", n->label, rc->info->name, ret);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "param", required_argument, NULL, 'p' },
		{ "param1", required_argument, NULL, 'P' },
		{ "param2", required_argument, NULL, 'Q' },
		{ "bound-ms", required_argument, NULL, 't' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rc *rc = calloc(1, sizeof(*rc));
	const char *kv[RC_MAX_KV];
	int kv_node[RC_MAX_KV], n_kv = 0, verbose = 0, c, ret = 2;

	if (!rc)
		return 2;
	rc->bound_ms = 60000;
	while ((c = getopt_long(argc, argv, "t:vh", opts, NULL)) != -1) {
		if (c == 'p' || c == 'P' || c == 'Q') {
			if (n_kv == RC_MAX_KV)
				goto usage;
			kv[n_kv] = optarg;
			kv_node[n_kv++] = c == 'p' ? -1 : c == 'P' ? 0 : 1;
		} else if (c == 't') {
			rc->bound_ms = (uint32_t)strtoul(optarg, NULL, 10);
		} else if (c == 'v') {
			verbose = 1;
		} else {
			goto usage;
		}
	}
	if (argc - optind != 1 || rc->bound_ms == 0)
		goto usage;
	rc->so = argv[optind];
	if (rc_load(rc, verbose) < 0 || rc_conf_node(rc, 0) < 0 || rc_conf_node(rc, 1) < 0)
		goto out;
	for (int i = 0; i < n_kv; i++)
		for (int id = 0; id < 2; id++)
			if ((kv_node[i] < 0 || kv_node[i] == id) &&
			    rc_set_param(rc, &rc->node[id], id, kv[i]) < 0)
				goto out;
	if (rc_check_required(rc) < 0)
		goto out;
	printf("# %s: nodes A and B on one loop, every wait bounded by %u ms\n", rc->info->name,
	       rc->bound_ms);
	if (rc_open(rc) == 0)
		rc_run_checks(rc);
	printf("%d passed, %d failed\n", rc->t.passed, rc->t.failed);
	ret = rc->t.failed ? 1 : 0;
out:
	for (int i = 0; i < 2; i++) {
		if (rc->node[i].pi)
			vg_plugin_inst_close(rc->node[i].pi);
		rc_conf_free(&rc->node[i]);
	}
	if (rc->loop) {
		uint64_t start = rc_mono_ms();

		while (vg_loop_child_count(rc->loop) && rc_mono_ms() - start < RC_GRACE_MS)
			vg_loop_run_once(rc->loop, 20);
	}
	vg_registry_free(&rc->reg);
	if (rc->loop)
		vg_loop_free(rc->loop);
	free(rc);
	return ret;
usage:
	rc_usage();
	free(rc);
	return 2;
}
