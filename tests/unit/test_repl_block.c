/*
 * The block replication plugin, loaded from the build tree by the real core
 * (registry, config value parser, host table, loop): two instances on one
 * loop, each supervising its own vigil-repld on 127.0.0.1 inside a network
 * namespace of this test (root; skipped without it).  Drives the ops as the
 * core would: status, promote (refused, then forced), verify, demote.
 * With the tls_* parameters the helpers' link is TLS (the certificates of
 * scripts/vigil-tls-certs); half of them are refused at open.
 */
#include "cu_main.h"
#include "config.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BLOCK_SO TOP_BUILDDIR "/plugins/replication/block/.libs/block.so"
#define REPLD    TOP_BUILDDIR "/plugins/replication/block/vigil-repld"
#define CERTGEN  TESTS_SRCDIR "/../scripts/vigil-tls-certs"

struct fx {
	struct vg_logger log;
	struct vg_registry reg;
	struct vg_loop *loop;
	struct vg_host_env env;
	const struct vg_plugin_info *info;
	char dir[64];
};

struct node {
	struct vg_instance_conf ic;
	struct vg_plugin_inst *pi;
};

struct done {
	int called, status;
	char detail[256];
};

static int fx_init(struct fx *f)
{
	char err[512];

	memset(f, 0, sizeof(*f));
	vg_logger_init(&f->log);
	f->log.level = VG_LOG_NOTICE;
	vg_registry_init(&f->reg, &f->log);
	if (vg_registry_load_file(&f->reg, BLOCK_SO, err, sizeof(err)) < 0)
		return -1;
	f->info = vg_registry_find(&f->reg, "block");
	if (!f->info || vg_loop_new(&f->log, &f->loop) < 0)
		return -1;
	f->env = (struct vg_host_env){ .loop = f->loop, .log = &f->log };
	snprintf(f->dir, sizeof(f->dir), "/tmp/vg-repl-block.XXXXXX");
	return mkdtemp(f->dir) ? 0 : -1;
}

static void fx_free(struct fx *f)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (f->dir[0] && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	if (f->loop)
		vg_loop_free(f->loop);
	vg_registry_free(&f->reg);
}

/* The value of `key` in a NULL-terminated key, value list, or NULL. */
static const char *extra_value(const char *const *extra, const char *key)
{
	for (; extra && extra[0]; extra += 2)
		if (!strcmp(extra[0], key))
			return extra[1];
	return NULL;
}

/*
 * Open node `id` (1 or 2) of resource "r0": its store, ports 7101/7102;
 * `extra` (key, value, ..., NULL, or NULL) sets further parameters.
 */
static int node_open(struct fx *f, struct node *n, int id, const char *const *extra)
{
	const struct vg_plugin_info *info = f->info;
	char store[128], nbd[128], listen[32], peer[32], cmd[256], err[256];
	const char *text;

	snprintf(store, sizeof(store), "%s/n%d.img", f->dir, id);
	snprintf(nbd, sizeof(nbd), "unix:%s/n%d.nbd", f->dir, id);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", 7100 + id);
	snprintf(peer, sizeof(peer), "127.0.0.1:%d", 7103 - id);
	snprintf(cmd, sizeof(cmd), "truncate -s 4M %s", store);
	if (system(cmd) != 0)
		return -1;
	memset(n, 0, sizeof(*n));
	n->ic = (struct vg_instance_conf){ .name = "r0", .plugin = info->name, .info = info,
					   .n_values = info->n_params };
	n->ic.values = calloc(info->n_params, sizeof(*n->ic.values));
	for (size_t i = 0; i < info->n_params; i++) {
		const char *k = info->params[i].name;

		text = !strcmp(k, "store") ? store : !strcmp(k, "nbd") ? nbd :
		       !strcmp(k, "listen") ? listen : !strcmp(k, "peer") ? peer :
		       !strcmp(k, "helper") ? REPLD : !strcmp(k, "timeout_ms") ? "1000" :
		       !strcmp(k, "status_interval_ms") ? "100" : info->params[i].def;
		if (extra_value(extra, k))
			text = extra_value(extra, k);
		if (text && vg_param_parse(&info->params[i], text, &n->ic.values[i], err,
					   sizeof(err)) < 0)
			return -1;
	}
	return vg_plugin_inst_open(&f->env, &n->ic, 0, &n->pi);
}

static void node_close(struct node *n)
{
	vg_plugin_inst_close(n->pi);
	for (size_t i = 0; i < n->ic.n_values; i++)
		free((char *)n->ic.values[i].s);
	free(n->ic.values);
}

static struct vg_repl_status node_status(struct node *n)
{
	struct vg_repl_status st;

	memset(&st, 0, sizeof(st));
	n->pi->info->ops.replication.status(n->pi->state, &st);
	return st;
}

/* Spin the loop until `pred` holds for node n (at most 10 s); 0 when it did. */
static int wait_until(struct fx *f, struct node *n, int (*pred)(const struct vg_repl_status *))
{
	uint64_t start = vg_loop_update_time(f->loop);
	struct vg_repl_status st;

	while (vg_loop_now_ms(f->loop) - start < 10000) {
		vg_loop_run_once(f->loop, 20);
		st = node_status(n);
		if (pred(&st))
			return 0;
	}
	return -1;
}

static int connected(const struct vg_repl_status *s) { return s->conn == VG_REPL_CONN_CONNECTED; }
static int uptodate(const struct vg_repl_status *s) { return s->disk == VG_REPL_DISK_UPTODATE; }

static void done_cb(void *arg, int status, const char *detail)
{
	struct done *d = arg;

	d->called++;
	d->status = status;
	snprintf(d->detail, sizeof(d->detail), "%s", detail ? detail : "");
}

static int run_done(struct fx *f, struct done *d)
{
	uint64_t start = vg_loop_update_time(f->loop);

	while (!d->called && vg_loop_now_ms(f->loop) - start < 10000)
		vg_loop_run_once(f->loop, 20);
	return d->called ? d->status : -ETIMEDOUT;
}

static void test_block_promote_demote_through_the_plugin(void)
{
	struct fx f;
	struct node a, b;
	struct done d = { 0 };
	const struct vg_replication_ops *ops;
	struct vg_repl_status st;

	if (getuid() != 0 || unshare(CLONE_NEWNET) < 0 || system("ip link set lo up") != 0) {
		fprintf(stderr, "skipped: needs root and a network namespace\n");
		return;
	}
	CU_ASSERT_FATAL(fx_init(&f) == 0);
	ops = &f.info->ops.replication;
	CU_ASSERT_PTR_NOT_NULL_FATAL(ops->verify);
	CU_ASSERT_FATAL(node_open(&f, &a, 1, NULL) == 0);
	CU_ASSERT_FATAL(node_open(&f, &b, 2, NULL) == 0);
	CU_ASSERT_EQUAL(wait_until(&f, &a, connected), 0);
	st = node_status(&a);
	CU_ASSERT_EQUAL(st.disk, VG_REPL_DISK_INCONSISTENT);
	CU_ASSERT_EQUAL(st.size_bytes, 4u << 20);
	/* Refused at once: the disk is not up-to-date. */
	CU_ASSERT_EQUAL(ops->promote(a.pi->state, 0, done_cb, &d), -EPERM);
	CU_ASSERT_EQUAL(ops->promote(a.pi->state, VG_REPL_PROMOTE_FORCE, done_cb, &d), 0);
	CU_ASSERT_EQUAL(d.called, 0); /* never from inside promote() */
	CU_ASSERT_EQUAL(run_done(&f, &d), 0);
	CU_ASSERT_EQUAL(wait_until(&f, &b, uptodate), 0);
	CU_ASSERT_EQUAL(wait_until(&f, &a, connected), 0);
	st = node_status(&a);
	CU_ASSERT_EQUAL(st.role, VG_REPL_ROLE_PRIMARY);
	CU_ASSERT_EQUAL(st.out_of_sync_bytes, 0);
	CU_ASSERT_NOT_EQUAL(st.gen_current, 0);
	/* Online verify of an untouched pair: completes later, nothing differs. */
	memset(&d, 0, sizeof(d));
	CU_ASSERT_EQUAL(ops->verify(a.pi->state, done_cb, &d), 0);
	CU_ASSERT_EQUAL(d.called, 0);
	CU_ASSERT_EQUAL(run_done(&f, &d), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(d.detail, "done: 0 bytes differ in 0 regions"));
	/* b may not become primary while a is. */
	memset(&d, 0, sizeof(d));
	CU_ASSERT_EQUAL(ops->promote(b.pi->state, 0, done_cb, &d), 0);
	CU_ASSERT_EQUAL(run_done(&f, &d), -EBUSY);
	memset(&d, 0, sizeof(d));
	CU_ASSERT_EQUAL(ops->demote(a.pi->state, done_cb, &d), 0);
	CU_ASSERT_EQUAL(run_done(&f, &d), 0);
	node_close(&a);
	node_close(&b);
	fx_free(&f);
}

/* 1 when the file holds `needle` (a helper's log). */
static int file_has(const char *path, const char *needle)
{
	char line[1024];
	FILE *fp = fopen(path, "r");
	int found = 0;

	while (fp && !found && fgets(line, sizeof(line), fp))
		found = strstr(line, needle) != NULL;
	if (fp)
		fclose(fp);
	return found;
}

static void test_block_tls_params_reach_the_helper(void)
{
	char cmd[512], certs[96], p[6][160];
	struct fx f;
	struct node a, b;

	if (getuid() != 0 || unshare(CLONE_NEWNET) < 0 || system("ip link set lo up") != 0) {
		fprintf(stderr, "skipped: needs root and a network namespace\n");
		return;
	}
	CU_ASSERT_FATAL(fx_init(&f) == 0);
	snprintf(certs, sizeof(certs), "%s/certs", f.dir);
	snprintf(cmd, sizeof(cmd), "'%s' '%s' n1 n2 >/dev/null", CERTGEN, certs);
	CU_ASSERT_FATAL(system(cmd) == 0);
	for (int i = 0; i < 2; i++) {
		snprintf(p[3 * i], sizeof(p[0]), "%s/n%d.crt", certs, i + 1);
		snprintf(p[3 * i + 1], sizeof(p[0]), "%s/n%d.key", certs, i + 1);
		snprintf(p[3 * i + 2], sizeof(p[0]), "%s/n%d.log", f.dir, i + 1);
	}
	snprintf(cmd, sizeof(cmd), "%s/ca.crt", certs);
	{
		const char *half[] = { "tls_cert", p[0], "tls_ca", cmd, NULL };
		const char *ta[] = { "tls_cert", p[0], "tls_key", p[1], "tls_ca", cmd,
				     "tls_peer_name", "n2", "log", p[2], NULL };
		const char *tb[] = { "tls_cert", p[3], "tls_key", p[4], "tls_ca", cmd,
				     "tls_peer_name", "n1", "log", p[5], NULL };

		/* Half of the TLS parameters: refused, never plain TCP by accident. */
		CU_ASSERT_EQUAL(node_open(&f, &a, 1, half), -EINVAL);
		node_close(&a);
		CU_ASSERT_FATAL(node_open(&f, &a, 1, ta) == 0);
		CU_ASSERT_FATAL(node_open(&f, &b, 2, tb) == 0);
	}
	CU_ASSERT_EQUAL(wait_until(&f, &a, connected), 0);
	CU_ASSERT_TRUE(file_has(p[2], "link TLS"));
	CU_ASSERT_TRUE(file_has(p[2], "its certificate names \"n2\""));
	CU_ASSERT_TRUE(file_has(p[5], "its certificate names \"n1\""));
	node_close(&a);
	node_close(&b);
	fx_free(&f);
}

static CU_TestInfo tests[] = {
	{ "block_promote_demote_through_the_plugin", test_block_promote_demote_through_the_plugin },
	{ "block_tls_params_reach_the_helper", test_block_tls_params_reach_the_helper },
	CU_TEST_INFO_NULL,
};

CU_MAIN("repl_block", tests)
