/*
 * The repl resource plugin's TLS parameters, through the real core: the
 * registry loads the built repl.so, instances are opened with the real
 * host table on a real loop.  validate refuses half a TLS configuration;
 * two instances, nodes n1 and n2 of one configuration with one parameter
 * set ("%n" in the certificate paths, addresses "n1=... n2=...", no
 * tls_peer_name), are started inside a network namespace of this test
 * (root; skipped without it): their vigil-repld helpers connect over TLS
 * with the certificates of scripts/vigil-tls-certs, each expecting the
 * other node's name.
 */
#include "cu_main.h"
#include "config.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPL_SO TOP_BUILDDIR "/plugins/resource/repl/.libs/repl.so"
#define REPLD   TOP_BUILDDIR "/plugins/replication/block/vigil-repld"
#define CERTGEN TESTS_SRCDIR "/../scripts/vigil-tls-certs"

struct fx {
	struct vg_logger log;
	struct vg_registry reg;
	struct vg_loop *loop;
	const struct vg_plugin_info *info;
	struct vg_config cfg;
	struct vg_node_conf nc[2];
	struct vg_host_env env[2];   /* as node n1, as node n2 */
	char dir[64];
};

struct inst {
	struct vg_instance_conf ic;
	struct vg_plugin_inst *pi;
};

struct result {
	int done, status, rc;
	char output[1024];
};

static int fx_init(struct fx *f)
{
	static char *names[2] = { "n1", "n2" };
	char err[512];

	memset(f, 0, sizeof(*f));
	vg_logger_init(&f->log);
	f->log.level = VG_LOG_NOTICE;
	vg_registry_init(&f->reg, &f->log);
	if (vg_registry_load_file(&f->reg, REPL_SO, err, sizeof(err)) < 0) {
		fprintf(stderr, "load %s: %s\n", REPL_SO, err);
		return -1;
	}
	f->info = vg_registry_find(&f->reg, "repl");
	if (!f->info || vg_loop_new(&f->log, &f->loop) < 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		f->nc[i] = (struct vg_node_conf){ .id = (uint32_t)i + 1, .name = names[i], .votes = 1 };
		f->env[i] = (struct vg_host_env){ .loop = f->loop, .log = &f->log, .cfg = &f->cfg,
						  .local_node_id = (uint32_t)i + 1 };
	}
	f->cfg.nodes = f->nc;
	f->cfg.n_nodes = 2;
	snprintf(f->dir, sizeof(f->dir), "/tmp/vg-repl-rsc.XXXXXX");
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

/* The instance's values from `kv` (key, value, ..., NULL); defaults elsewhere. */
static int inst_conf(struct fx *f, struct inst *in, const char *const *kv)
{
	const struct vg_plugin_info *info = f->info;
	char err[256];

	memset(in, 0, sizeof(*in));
	in->ic = (struct vg_instance_conf){ .name = "r0", .plugin = info->name, .info = info,
					    .n_values = info->n_params };
	in->ic.values = calloc(info->n_params, sizeof(*in->ic.values));
	for (size_t i = 0; i < info->n_params; i++) {
		const char *text = info->params[i].def;

		for (const char *const *p = kv; p[0]; p += 2)
			if (!strcmp(p[0], info->params[i].name))
				text = p[1];
		if (text && vg_param_parse(&info->params[i], text, &in->ic.values[i], err,
					   sizeof(err)) < 0) {
			fprintf(stderr, "param %s: %s\n", info->params[i].name, err);
			return -1;
		}
	}
	return 0;
}

static void inst_close(struct inst *in)
{
	vg_plugin_inst_close(in->pi);
	in->pi = NULL;
	for (size_t i = 0; i < in->ic.n_values; i++)
		free((char *)in->ic.values[i].s);
	free(in->ic.values);
}

/* validate as config.c calls it; err gets its line. */
static int validate(struct fx *f, const char *const *kv, char *err, size_t len)
{
	struct inst in;
	struct vg_instance vi;
	int rc = inst_conf(f, &in, kv);

	vi = (struct vg_instance){ .name = "r0", .params = in.ic.values, .n_params = in.ic.n_values };
	err[0] = '\0';
	if (rc == 0)
		rc = f->info->ops.resource.validate(&vi, err, len);
	inst_close(&in);
	return rc;
}

static void done_cb(void *arg, int status, int rc, const char *output)
{
	struct result *res = arg;

	res->done = 1;
	res->status = status;
	res->rc = rc;
	snprintf(res->output, sizeof(res->output), "%s", output ? output : "");
}

/* Start both actions at once, run the loop until both ended (20 s); 0 when both succeeded. */
static int run_both(struct fx *f, struct inst *a, struct inst *b, uint32_t action)
{
	struct vg_rsc_request req = { .action = action, .timeout_ms = 15000 };
	struct result ra = { 0 }, rb = { 0 };
	uint64_t id, start = vg_loop_update_time(f->loop);

	if (a->pi->info->ops.resource.exec(a->pi->state, &req, done_cb, &ra, &id) < 0 ||
	    b->pi->info->ops.resource.exec(b->pi->state, &req, done_cb, &rb, &id) < 0)
		return -1;
	while ((!ra.done || !rb.done) && vg_loop_now_ms(f->loop) - start < 20000)
		vg_loop_run_once(f->loop, 20);
	if (ra.rc || rb.rc || ra.status || rb.status)
		fprintf(stderr, "action %u: n1 %d/%d %s; n2 %d/%d %s\n", action, ra.status, ra.rc,
			ra.output, rb.status, rb.rc, rb.output);
	return ra.done && rb.done && !ra.status && !rb.status && !ra.rc && !rb.rc ? 0 : -1;
}

/* Wait (10 s) until the file holds `needle`; 1 when it does. */
static int file_waits_for(const char *path, const char *needle)
{
	char line[1024];

	for (int i = 0; i < 100; i++) {
		FILE *fp = fopen(path, "r");
		int found = 0;

		while (fp && !found && fgets(line, sizeof(line), fp))
			found = strstr(line, needle) != NULL;
		if (fp)
			fclose(fp);
		if (found)
			return 1;
		usleep(100000);
	}
	fprintf(stderr, "%s: no line with '%s'\n", path, needle);
	return 0;
}

static void test_repl_validate_refuses_half_a_tls_configuration(void)
{
	struct fx f;
	char err[256];
	const char *base[] = { "store", "/tmp/x.img", "nbd", "unix:/tmp/x.nbd", "pidfile", "/tmp/x.pid",
			       "helper", REPLD, "listen", "127.0.0.1:1", "peer", "127.0.0.1:2" };
#define KV(...) (const char *const[]){ base[0], base[1], base[2], base[3], base[4], base[5], \
				       base[6], base[7], base[8], base[9], base[10], base[11], \
				       __VA_ARGS__, NULL }

	CU_ASSERT_FATAL(fx_init(&f) == 0);
	CU_ASSERT_EQUAL(validate(&f, KV("protocol", "C"), err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(validate(&f, KV("tls_cert", "/c", "tls_ca", "/a"), err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "tls_cert, tls_key and tls_ca go together (2 of 3 set)");
	CU_ASSERT_EQUAL(validate(&f, KV("tls_peer_name", "n2"), err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "tls_peer_name needs tls_cert, tls_key and tls_ca");
	/* listen/peer without addresses: no other node's name to expect. */
	CU_ASSERT_EQUAL(validate(&f, KV("tls_cert", "/c", "tls_key", "/k", "tls_ca", "/a"), err,
				 sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "set tls_peer_name"));
	CU_ASSERT_EQUAL(validate(&f, KV("tls_cert", "/c", "tls_key", "/k", "tls_ca", "/a",
					"tls_peer_name", "n2"), err, sizeof(err)), 0);
#undef KV
	fx_free(&f);
}

static void test_repl_tls_peer_name_defaults_to_the_other_node(void)
{
	char cmd[512], kv_text[8][256], log1[160], log2[160];
	struct fx f;
	struct inst in[2];

	if (getuid() != 0 || unshare(CLONE_NEWNET) < 0 || system("ip link set lo up") != 0) {
		fprintf(stderr, "skipped: needs root and a network namespace\n");
		return;
	}
	CU_ASSERT_FATAL(fx_init(&f) == 0);
	snprintf(cmd, sizeof(cmd), "'%s' '%s/tls' n1 n2 >/dev/null && truncate -s 4M %s/n1.img %s/n2.img",
		 CERTGEN, f.dir, f.dir, f.dir);
	CU_ASSERT_FATAL(system(cmd) == 0);
	snprintf(kv_text[0], sizeof(kv_text[0]), "%s/%%n.img", f.dir);
	snprintf(kv_text[1], sizeof(kv_text[1]), "unix:%s/%%n.nbd", f.dir);
	snprintf(kv_text[2], sizeof(kv_text[2]), "%s/%%n.pid", f.dir);
	snprintf(kv_text[3], sizeof(kv_text[3]), "%s/%%n.log", f.dir);
	snprintf(kv_text[4], sizeof(kv_text[4]), "%s/tls/%%n.crt", f.dir);
	snprintf(kv_text[5], sizeof(kv_text[5]), "%s/tls/%%n.key", f.dir);
	snprintf(kv_text[6], sizeof(kv_text[6]), "%s/tls/ca.crt", f.dir);
	{
		const char *kv[] = { "store", kv_text[0], "nbd", kv_text[1], "pidfile", kv_text[2],
				     "log", kv_text[3], "tls_cert", kv_text[4], "tls_key", kv_text[5],
				     "tls_ca", kv_text[6], "helper", REPLD, "timeout_ms", "1000",
				     "addresses", "n1=127.0.0.1:7311 n2=127.0.0.1:7312", NULL };

		for (int i = 0; i < 2; i++) {
			CU_ASSERT_FATAL(inst_conf(&f, &in[i], kv) == 0);
			CU_ASSERT_FATAL(vg_plugin_inst_open(&f.env[i], &in[i].ic, 0, &in[i].pi) == 0);
		}
	}
	CU_ASSERT_EQUAL(run_both(&f, &in[0], &in[1], VG_RSC_START), 0);
	snprintf(log1, sizeof(log1), "%s/n1.log", f.dir);
	snprintf(log2, sizeof(log2), "%s/n2.log", f.dir);
	CU_ASSERT_TRUE(file_waits_for(log1, "tls/n1.crt, CA "));
	CU_ASSERT_TRUE(file_waits_for(log1, "TLSv1.3 TLS_"));
	CU_ASSERT_TRUE(file_waits_for(log1, "its certificate names \"n2\""));
	CU_ASSERT_TRUE(file_waits_for(log2, "its certificate names \"n1\""));
	CU_ASSERT_TRUE(file_waits_for(log1, "peer: connected to 127.0.0.1:7312"));
	CU_ASSERT_EQUAL(run_both(&f, &in[0], &in[1], VG_RSC_STOP), 0);
	inst_close(&in[0]);
	inst_close(&in[1]);
	fx_free(&f);
}

static CU_TestInfo tests[] = {
	{ "repl_validate_refuses_half_a_tls_configuration",
	  test_repl_validate_refuses_half_a_tls_configuration },
	{ "repl_tls_peer_name_defaults_to_the_other_node",
	  test_repl_tls_peer_name_defaults_to_the_other_node },
	CU_TEST_INFO_NULL,
};

CU_MAIN("repl_rsc", tests)
