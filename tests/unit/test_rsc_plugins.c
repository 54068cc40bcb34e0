/*
 * The ocf and lsb resource plugins, driven through the real core: the
 * registry loads the built .so, the instance is opened with the real host
 * table on a real loop, and actions run real agents (resource-agents'
 * heartbeat:Dummy, pacemaker:Stateful) and small agents and init scripts
 * written into a temporary directory.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "cu_main.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"

#define OCF_SO TOP_BUILDDIR "/plugins/resource/ocf/.libs/ocf.so"
#define LSB_SO TOP_BUILDDIR "/plugins/resource/lsb/.libs/lsb.so"
#define SYSTEM_OCF_ROOT "/usr/lib/ocf"

/* One plugin, one instance, one loop and a scratch directory, per test. */
struct fx {
	struct vg_logger log;
	struct vg_loop *loop;
	struct vg_registry reg;
	struct vg_host_env env;
	struct vg_instance_conf ic;
	struct vg_plugin_inst *pi;
	char tmp[64];
	char warn[1024];   /* the last warning line logged */
};

/* What one action's callback said. */
struct result {
	int done;
	int status;
	int rc;
	char out[8192];
};

static void capture_cb(void *arg, int level, const char *line)
{
	struct fx *f = arg;

	if (level == VG_LOG_WARNING)
		snprintf(f->warn, sizeof(f->warn), "%s", line);
}

static void fx_init(struct fx *f, const char *so)
{
	char err[512] = "";

	memset(f, 0, sizeof(*f));
	vg_logger_init(&f->log);
	f->log.to_stderr = getenv("VG_TEST_VERBOSE") != NULL;
	f->log.to_syslog = 0;
	f->log.level = VG_LOG_DEBUG;
	f->log.capture = capture_cb;
	f->log.capture_arg = f;
	CU_ASSERT_EQUAL_FATAL(vg_loop_new(&f->log, &f->loop), 0);
	vg_registry_init(&f->reg, &f->log);
	if (vg_registry_load_file(&f->reg, so, err, sizeof(err)) < 0)
		fprintf(stderr, "\n  %s\n", err);
	CU_ASSERT_EQUAL_FATAL(f->reg.n_plugins, 1);
	f->env = (struct vg_host_env){ .loop = f->loop, .log = &f->log, .local_node_id = 1 };
	snprintf(f->tmp, sizeof(f->tmp), "/tmp/vg-rsc-test.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(f->tmp));
}

/*
 * Fill f->ic as config.c would: every declared parameter from `params`
 * ("name", "value" pairs, NULL-ended) or its default, and the attributes.
 */
static void fx_conf(struct fx *f, const char *name, const char *const *params,
		    const char *const *attrs)
{
	const struct vg_plugin_info *info = f->reg.plugins[0];
	char err[256];

	f->ic = (struct vg_instance_conf){ .name = strdup(name), .info = info };
	f->ic.plugin = strdup(info->name);
	f->ic.values = calloc(info->n_params, sizeof(*f->ic.values));
	f->ic.n_values = info->n_params;
	for (size_t i = 0; i < info->n_params; i++) {
		const char *text = info->params[i].def;

		for (size_t j = 0; params && params[j]; j += 2)
			if (!strcmp(params[j], info->params[i].name))
				text = params[j + 1];
		if (text)
			CU_ASSERT_EQUAL(vg_param_parse(&info->params[i], text, &f->ic.values[i],
						       err, sizeof(err)), 0);
	}
	for (size_t j = 0; attrs && attrs[j]; j += 2)
		f->ic.n_attrs++;
	f->ic.attrs = calloc(f->ic.n_attrs + 1, sizeof(*f->ic.attrs));
	for (size_t j = 0; j < f->ic.n_attrs; j++)
		f->ic.attrs[j] = (struct vg_attr){ strdup(attrs[2 * j]), strdup(attrs[2 * j + 1]) };
}

static void fx_conf_free(struct fx *f)
{
	for (size_t i = 0; i < f->ic.n_values; i++)
		free((char *)f->ic.values[i].s);
	for (size_t j = 0; j < f->ic.n_attrs; j++) {
		free((char *)f->ic.attrs[j].key);
		free((char *)f->ic.attrs[j].value);
	}
	free(f->ic.values);
	free(f->ic.attrs);
	free(f->ic.name);
	free(f->ic.plugin);
	memset(&f->ic, 0, sizeof(f->ic));
}

static void fx_open(struct fx *f, const char *name, const char *const *params,
		    const char *const *attrs)
{
	fx_conf(f, name, params, attrs);
	CU_ASSERT_EQUAL_FATAL(vg_plugin_inst_open(&f->env, &f->ic, 0, &f->pi), 0);
}

static void fx_free(struct fx *f)
{
	char cmd[128];

	vg_plugin_inst_close(f->pi);
	fx_conf_free(f);
	vg_registry_free(&f->reg);
	vg_loop_free(f->loop);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->tmp);
	CU_ASSERT_EQUAL(system(cmd), 0);
}

static void done_cb(void *arg, int status, int rc, const char *output)
{
	struct result *r = arg;

	r->done = 1;
	r->status = status;
	r->rc = rc;
	snprintf(r->out, sizeof(r->out), "%s", output);
}

/* Accept `req`; the caller runs the loop. */
static uint64_t fx_exec(struct fx *f, const struct vg_rsc_request *req, struct result *r)
{
	uint64_t id = 0;

	memset(r, 0, sizeof(*r));
	CU_ASSERT_EQUAL_FATAL(f->pi->info->ops.resource.exec(f->pi->state, req, done_cb, r, &id), 0);
	CU_ASSERT_EQUAL(r->done, 0); /* never from inside exec() */
	return id;
}

/* Run the loop until r is done or limit_ms passed; returns elapsed ms. */
static uint64_t fx_wait(struct fx *f, struct result *r, uint64_t limit_ms)
{
	uint64_t start = vg_loop_update_time(f->loop);

	while (!r->done && vg_loop_now_ms(f->loop) - start < limit_ms)
		vg_loop_run_once(f->loop, 20);
	CU_ASSERT_EQUAL(r->done, 1);
	return vg_loop_now_ms(f->loop) - start;
}

/* Run the loop for ms, whatever happens. */
static void fx_spin(struct fx *f, uint64_t ms)
{
	uint64_t start = vg_loop_update_time(f->loop);

	while (vg_loop_now_ms(f->loop) - start < ms)
		vg_loop_run_once(f->loop, 20);
}

/* Run one action to its end (20 s at most) and return its rc (-status if it failed). */
static int fx_run(struct fx *f, uint32_t action, const struct vg_attr *env, size_t n_env)
{
	struct vg_rsc_request req = { .action = action, .timeout_ms = 20000,
				      .env = env, .n_env = n_env };
	struct result r;

	if (action == VG_RSC_MONITOR)
		req.interval_ms = 0;
	fx_exec(f, &req, &r);
	fx_wait(f, &r, 25000);
	if (r.status)
		fprintf(stderr, "\n  action %u: status %d output: %s\n", action, r.status, r.out);
	return r.status ? r.status : r.rc;
}

static void write_file(const char *path, mode_t mode, const char *fmt, ...)
{
	FILE *fp = fopen(path, "w");
	va_list ap;

	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	fclose(fp);
	chmod(path, mode);
}

/* A private OCF_ROOT with agent test:NAME whose body is `script`. */
static void make_agent(struct fx *f, const char *name, const char *script)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/resource.d", f->tmp);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/resource.d/test", f->tmp);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/resource.d/test/%s", f->tmp, name);
	write_file(path, 0755, "#!/bin/sh\n%s", script);
}

static int file_exists(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* ---- ocf ---- */

static void test_ocf_dummy_start_monitor_stop(void)
{
	struct fx f;
	char state[128];

	fx_init(&f, OCF_SO);
	snprintf(state, sizeof(state), "%s/dummy.state", f.tmp);
	fx_open(&f, "dummy", (const char *[]){ "agent", "heartbeat:Dummy", NULL },
		(const char *[]){ "state", state, NULL });
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_MONITOR, NULL, 0), VG_OCF_NOT_RUNNING);
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_START, NULL, 0), VG_OCF_SUCCESS);
	CU_ASSERT(file_exists(f.tmp, "dummy.state"));
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_MONITOR, NULL, 0), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_STOP, NULL, 0), VG_OCF_SUCCESS);
	CU_ASSERT(!file_exists(f.tmp, "dummy.state"));
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_MONITOR, NULL, 0), VG_OCF_NOT_RUNNING);
	/* stopping a stopped resource succeeds */
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_STOP, NULL, 0), VG_OCF_SUCCESS);
	fx_free(&f);
}

static void test_ocf_accepts_ocf_prefixed_agent_and_returns_meta_data(void)
{
	struct vg_rsc_request req = { .action = VG_RSC_META_DATA, .timeout_ms = 10000 };
	struct result r;
	struct fx f;

	fx_init(&f, OCF_SO);
	fx_open(&f, "dummy", (const char *[]){ "agent", "ocf:heartbeat:Dummy", NULL }, NULL);
	fx_exec(&f, &req, &r);
	fx_wait(&f, &r, 12000);
	CU_ASSERT_EQUAL(r.status, 0);
	CU_ASSERT_EQUAL(r.rc, VG_OCF_SUCCESS);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "<resource-agent name=\"Dummy\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "<parameter name=\"state\""));
	fx_free(&f);
}

static void test_ocf_environment_is_built_not_inherited(void)
{
	struct vg_attr env[] = { { "CRM_meta_notify_type", "pre" }, { "CRM_meta_timeout", "777" } };
	struct vg_rsc_request req = { .action = VG_RSC_MONITOR, .interval_ms = 5000,
				      .timeout_ms = 3000, .env = env, .n_env = 2 };
	struct result r;
	struct fx f;
	char want[256];

	fx_init(&f, OCF_SO);
	make_agent(&f, "envdump", "env | sort\nexit 0\n");
	setenv("VG_TEST_LEAK", "1", 1);
	fx_open(&f, "vip", (const char *[]){ "agent", "test:envdump", "ocf_root", f.tmp, NULL },
		(const char *[]){ "ip", "192.0.2.10", "cidr_netmask", "24", NULL });
	fx_exec(&f, &req, &r);
	fx_wait(&f, &r, 5000);
	CU_ASSERT_EQUAL(r.rc, VG_OCF_SUCCESS);
	snprintf(want, sizeof(want), "\nOCF_ROOT=%s\n", f.tmp);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, want));
	snprintf(want, sizeof(want), "\nOCF_FUNCTIONS_DIR=%s/lib/heartbeat\n", f.tmp);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, want));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\nOCF_RESKEY_ip=192.0.2.10\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\nOCF_RESKEY_cidr_netmask=24\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\nOCF_RESKEY_CRM_meta_interval=5000\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\nOCF_RESKEY_CRM_meta_notify_type=pre\n"));
	/* the request's variables override the defaults, once */
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\nOCF_RESKEY_CRM_meta_timeout=777\n"));
	CU_ASSERT_PTR_NULL(strstr(r.out, "CRM_meta_timeout=3000"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\nOCF_RESOURCE_INSTANCE=vip\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\nOCF_RESOURCE_PROVIDER=test\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\nOCF_RESOURCE_TYPE=envdump\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\nOCF_RA_VERSION_MAJOR=1\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\nPATH=/usr/sbin:/usr/bin:/sbin:/bin\n"));
	CU_ASSERT_PTR_NULL(strstr(r.out, "VG_TEST_LEAK"));
	unsetenv("VG_TEST_LEAK");
	fx_free(&f);
}

static void test_ocf_exit_codes_map_to_ocf_rc(void)
{
	static const struct { const char *code; int rc; } cases[] = {
		{ "0", 0 }, { "1", 1 }, { "2", 2 }, { "3", 3 }, { "4", 4 }, { "5", 5 },
		{ "6", 6 }, { "7", 7 }, { "8", 8 }, { "9", 9 }, { "10", 1 }, { "200", 1 },
		{ "kill", 1 },
	};
	struct fx f;

	fx_init(&f, OCF_SO);
	make_agent(&f, "codes",
		   "echo \"first line\"\n"
		   "echo \"the $1 went wrong: $OCF_RESKEY_CRM_meta_code\" >&2\n"
		   "[ \"$OCF_RESKEY_CRM_meta_code\" = kill ] && kill -9 $$\n"
		   "exit $OCF_RESKEY_CRM_meta_code\n");
	fx_open(&f, "codes", (const char *[]){ "agent", "test:codes", "ocf_root", f.tmp, NULL },
		NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vg_attr env = { "CRM_meta_code", cases[i].code };

		CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_START, &env, 1), cases[i].rc);
	}
	/* a failure is logged once, at warning, with the instance and the last line */
	CU_ASSERT_STRING_EQUAL(f.warn, "ocf: codes: start of test:codes "
			       "returned 1 (generic error): the start went wrong: kill");
	fx_free(&f);
}

static void test_ocf_timeout_reports_etimedout(void)
{
	struct vg_rsc_request req = { .action = VG_RSC_START, .timeout_ms = 300 };
	struct result r;
	uint64_t ms;
	struct fx f;

	fx_init(&f, OCF_SO);
	make_agent(&f, "slow", "sleep 30\nexit 0\n");
	fx_open(&f, "slow", (const char *[]){ "agent", "test:slow", "ocf_root", f.tmp, NULL },
		NULL);
	fx_exec(&f, &req, &r);
	ms = fx_wait(&f, &r, 5000);
	CU_ASSERT_EQUAL(r.status, -ETIMEDOUT);
	CU_ASSERT_EQUAL(r.rc, VG_OCF_ERR_GENERIC);
	CU_ASSERT(ms >= 250 && ms < 300 + 2000 + 500);
	if (ms < 250 || ms >= 2800)
		fprintf(stderr, "\n  expected -ETIMEDOUT after 250..2800 ms, got it after %llu ms\n",
			(unsigned long long)ms);
	fx_free(&f);
}

static void test_ocf_cancel_reports_ecanceled(void)
{
	struct vg_rsc_request req = { .action = VG_RSC_START, .timeout_ms = 20000 };
	struct result r;
	uint64_t id, ms;
	struct fx f;

	fx_init(&f, OCF_SO);
	make_agent(&f, "slow", "sleep 30\nexit 0\n");
	fx_open(&f, "slow", (const char *[]){ "agent", "test:slow", "ocf_root", f.tmp, NULL },
		NULL);
	id = fx_exec(&f, &req, &r);
	fx_spin(&f, 200); /* let it run a while; nothing completes */
	CU_ASSERT_EQUAL(r.done, 0);
	f.pi->info->ops.resource.cancel(f.pi->state, id);
	CU_ASSERT_EQUAL(r.done, 0); /* never from inside cancel() */
	ms = fx_wait(&f, &r, 5000);
	CU_ASSERT_EQUAL(r.status, -ECANCELED);
	CU_ASSERT(ms < 2500);
	/* an unknown or finished id is ignored */
	f.pi->info->ops.resource.cancel(f.pi->state, id);
	f.pi->info->ops.resource.cancel(f.pi->state, 12345);
	fx_free(&f);
}

static void test_ocf_unknown_action_and_agent_answer_without_running(void)
{
	struct fx f, g;

	fx_init(&f, OCF_SO);
	fx_open(&f, "dummy", (const char *[]){ "agent", "heartbeat:Dummy", NULL }, NULL);
	CU_ASSERT_EQUAL(fx_run(&f, 99, NULL, 0), VG_OCF_ERR_UNIMPLEMENTED);
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_INVALID, NULL, 0), VG_OCF_ERR_UNIMPLEMENTED);
	/* an action the agent does not know: its own answer */
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_PROMOTE, NULL, 0), VG_OCF_ERR_UNIMPLEMENTED);
	fx_free(&f);

	fx_init(&g, OCF_SO);
	fx_open(&g, "gone", (const char *[]){ "agent", "heartbeat:NoSuchAgent", NULL }, NULL);
	CU_ASSERT_EQUAL(fx_run(&g, VG_RSC_MONITOR, NULL, 0), VG_OCF_ERR_INSTALLED);
	fx_free(&g);
}

static void test_ocf_stateful_promote_demote(void)
{
	struct fx f;
	char state[128];

	fx_init(&f, OCF_SO);
	snprintf(state, sizeof(state), "%s/stateful.state", f.tmp);
	fx_open(&f, "ms", (const char *[]){ "agent", "pacemaker:Stateful", NULL },
		(const char *[]){ "state", state, NULL });
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_MONITOR, NULL, 0), VG_OCF_NOT_RUNNING);
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_START, NULL, 0), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_MONITOR, NULL, 0), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_PROMOTE, NULL, 0), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_MONITOR, NULL, 0), VG_OCF_RUNNING_PROMOTED);
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_DEMOTE, NULL, 0), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_MONITOR, NULL, 0), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_STOP, NULL, 0), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_MONITOR, NULL, 0), VG_OCF_NOT_RUNNING);
	fx_free(&f);
}

/* validate as config.c calls it: the instance as open() would get it. */
static int fx_validate(struct fx *f, const char *const *params, const char *const *attrs,
		       char *err, size_t errlen)
{
	struct vg_instance inst;
	int rc;

	fx_conf(f, "r1", params, attrs);
	inst = (struct vg_instance){ .name = f->ic.name, .params = f->ic.values,
				     .n_params = f->ic.n_values, .attrs = f->ic.attrs,
				     .n_attrs = f->ic.n_attrs };
	err[0] = '\0';
	rc = f->reg.plugins[0]->ops.resource.validate(&inst, err, errlen);
	fx_conf_free(f);
	return rc;
}

static void test_ocf_validate_checks_attributes_against_meta_data(void)
{
	const char *dummy[] = { "agent", "heartbeat:Dummy", NULL };
	char err[512], path[256];
	struct fx f;

	fx_init(&f, OCF_SO);
	CU_ASSERT_EQUAL(fx_validate(&f, dummy, (const char *[]){ "state", "/tmp/x", NULL },
				    err, sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(err, "");
	CU_ASSERT_EQUAL(fx_validate(&f, dummy, (const char *[]){ "foo", "1", NULL },
				    err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "attribute \"foo\" is not a parameter of heartbeat:Dummy "
			       "(it has: state, fake)");
	CU_ASSERT_EQUAL(fx_validate(&f, (const char *[]){ "agent", "heartbeat:NoSuchAgent", NULL },
				    NULL, err, sizeof(err)), -ENOENT);
	CU_ASSERT_STRING_EQUAL(err, "agent heartbeat:NoSuchAgent not found: "
			       "/usr/lib/ocf/resource.d/heartbeat/NoSuchAgent: No such file or directory");
	CU_ASSERT_EQUAL(fx_validate(&f, (const char *[]){ "agent", "Dummy", NULL }, NULL,
				    err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "agent must be \"provider:type\" or \"ocf:provider:type\" "
			       "(e.g. \"heartbeat:Dummy\"), got \"Dummy\"");
	CU_ASSERT_EQUAL(fx_validate(&f, (const char *[]){ "agent", "heartbeat:../../x", NULL },
				    NULL, err, sizeof(err)), -EINVAL);

	/* a required parameter, a typed one, comments, and a non-executable agent */
	make_agent(&f, "req",
		   "cat <<'EOF'\n<?xml version=\"1.0\"?>\n<resource-agent name=\"req\">\n"
		   "<!-- <parameter name=\"commented\" required=\"1\"/> -->\n<parameters>\n"
		   "<parameter name=\"ip\" unique=\"1\" required=\"1\">\n"
		   "<content type=\"string\"/></parameter>\n"
		   "<parameter name='count' required='0' unique-group='x'>"
		   "<content type='integer' default='3'/></parameter>\n"
		   "</parameters></resource-agent>\nEOF\n");
	const char *req[] = { "agent", "test:req", "ocf_root", f.tmp, NULL };

	CU_ASSERT_EQUAL(fx_validate(&f, req, (const char *[]){ "ip", "192.0.2.1", NULL },
				    err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(fx_validate(&f, req, (const char *[]){ "count", "2", NULL },
				    err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "attribute \"ip\" is required by test:req and missing");
	CU_ASSERT_EQUAL(fx_validate(&f, req, (const char *[]){ "ip", "a", "count", "x", NULL },
				    err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "attribute \"count\" of test:req must be an integer, got \"x\"");
	snprintf(path, sizeof(path), "%s/resource.d/test/req", f.tmp);
	chmod(path, 0644);
	CU_ASSERT_EQUAL(fx_validate(&f, req, (const char *[]){ "ip", "a", NULL }, err, sizeof(err)),
			-EACCES);
	snprintf(path, sizeof(path), "agent test:req: %s/resource.d/test/req is not an executable file",
		 f.tmp);
	CU_ASSERT_STRING_EQUAL(err, path);
	fx_free(&f);
}

static void test_ocf_validate_reports_failing_meta_data(void)
{
	const char *bad[] = { "agent", "test:bad", NULL, NULL, NULL };
	char err[512];
	struct fx f;

	fx_init(&f, OCF_SO);
	bad[2] = "ocf_root";
	bad[3] = f.tmp;
	make_agent(&f, "bad", "echo 'cannot find ocf-shellfuncs' >&2\nexit 5\n");
	CU_ASSERT_EQUAL(fx_validate(&f, bad, NULL, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "agent test:bad: meta-data failed with exit code 5: "
			       "cannot find ocf-shellfuncs");
	make_agent(&f, "bad", "echo 'hello'\n");
	CU_ASSERT_EQUAL(fx_validate(&f, bad, NULL, err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "agent test:bad: meta-data is not OCF XML (no <resource-agent>)");
	fx_free(&f);
}

/* ---- lsb ---- */

/* An init script whose answers are steered by files in its directory. */
static void make_script(struct fx *f)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/svc", f->tmp);
	write_file(path, 0755,
		   "#!/bin/sh\nd=$(dirname \"$0\")\n"
		   "[ -f \"$d/$1.code\" ] && { echo \"$1 says $(cat \"$d/$1.code\")\"; exit $(cat \"$d/$1.code\"); }\n"
		   "case \"$1\" in\n"
		   "start) touch \"$d/running\";;\n"
		   "stop) rm -f \"$d/running\";;\n"
		   "status) [ -f \"$d/running\" ] || exit 3;;\n"
		   "*) exit 3;;\n"
		   "esac\nexit 0\n");
}

static void set_code(struct fx *f, const char *action, const char *code)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s.code", f->tmp, action);
	if (code)
		write_file(path, 0644, "%s\n", code);
	else
		unlink(path);
}

static void test_lsb_start_status_stop(void)
{
	struct fx f;

	fx_init(&f, LSB_SO);
	make_script(&f);
	fx_open(&f, "svc", (const char *[]){ "script", "svc", "init_dir", f.tmp, NULL }, NULL);
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_MONITOR, NULL, 0), VG_OCF_NOT_RUNNING);
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_START, NULL, 0), VG_OCF_SUCCESS);
	CU_ASSERT(file_exists(f.tmp, "running"));
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_MONITOR, NULL, 0), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_STOP, NULL, 0), VG_OCF_SUCCESS);
	CU_ASSERT(!file_exists(f.tmp, "running"));
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_MONITOR, NULL, 0), VG_OCF_NOT_RUNNING);
	fx_free(&f);
}

static void test_lsb_exit_codes_map_to_ocf_rc(void)
{
	static const struct { const char *action; uint32_t a; const char *code; int rc; } cases[] = {
		{ "status", VG_RSC_MONITOR, "0", 0 }, { "status", VG_RSC_MONITOR, "1", 7 },
		{ "status", VG_RSC_MONITOR, "2", 7 }, { "status", VG_RSC_MONITOR, "3", 7 },
		{ "status", VG_RSC_MONITOR, "4", 1 }, { "status", VG_RSC_MONITOR, "150", 1 },
		{ "start", VG_RSC_START, "1", 1 }, { "start", VG_RSC_START, "2", 2 },
		{ "start", VG_RSC_START, "3", 3 }, { "start", VG_RSC_START, "4", 4 },
		{ "start", VG_RSC_START, "5", 5 }, { "start", VG_RSC_START, "6", 6 },
		{ "start", VG_RSC_START, "7", 7 }, { "start", VG_RSC_START, "8", 1 },
		{ "stop", VG_RSC_STOP, "0", 0 }, { "stop", VG_RSC_STOP, "7", 0 },
		{ "stop", VG_RSC_STOP, "1", 1 },
	};
	struct fx f;
	char script[160];

	fx_init(&f, LSB_SO);
	make_script(&f);
	snprintf(script, sizeof(script), "%s/svc", f.tmp); /* an absolute path */
	fx_open(&f, "svc", (const char *[]){ "script", script, NULL }, NULL);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		set_code(&f, cases[i].action, cases[i].code);
		CU_ASSERT_EQUAL(fx_run(&f, cases[i].a, NULL, 0), cases[i].rc);
		set_code(&f, cases[i].action, NULL);
	}
	snprintf(script, sizeof(script), "lsb: svc: stop of %s/svc returned "
		 "OCF rc 1: stop says 1", f.tmp);
	CU_ASSERT_STRING_EQUAL(f.warn, script);
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_PROMOTE, NULL, 0), VG_OCF_ERR_UNIMPLEMENTED);
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_DEMOTE, NULL, 0), VG_OCF_ERR_UNIMPLEMENTED);
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_NOTIFY, NULL, 0), VG_OCF_ERR_UNIMPLEMENTED);
	CU_ASSERT_EQUAL(fx_run(&f, 99, NULL, 0), VG_OCF_ERR_UNIMPLEMENTED);
	CU_ASSERT_EQUAL(fx_run(&f, VG_RSC_VALIDATE_ALL, NULL, 0), VG_OCF_SUCCESS);
	fx_free(&f);
}

static void test_lsb_meta_data_timeout_and_cancel(void)
{
	struct vg_rsc_request req = { .action = VG_RSC_META_DATA, .timeout_ms = 1000 };
	struct result r;
	char path[256];
	uint64_t id;
	struct fx f;

	fx_init(&f, LSB_SO);
	make_script(&f);
	fx_open(&f, "svc", (const char *[]){ "script", "svc", "init_dir", f.tmp, NULL }, NULL);
	fx_exec(&f, &req, &r);
	fx_wait(&f, &r, 2000);
	CU_ASSERT_EQUAL(r.rc, VG_OCF_SUCCESS);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "<resource-agent name=\"svc\""));
	snprintf(path, sizeof(path), "%s/svc", f.tmp);
	write_file(path, 0755, "#!/bin/sh\nsleep 30\n"); /* a script that hangs */
	req = (struct vg_rsc_request){ .action = VG_RSC_START, .timeout_ms = 300 };
	fx_exec(&f, &req, &r);
	fx_wait(&f, &r, 3000);
	CU_ASSERT_EQUAL(r.status, -ETIMEDOUT);
	req.timeout_ms = 20000;
	id = fx_exec(&f, &req, &r);
	f.pi->info->ops.resource.cancel(f.pi->state, id);
	fx_wait(&f, &r, 3000);
	CU_ASSERT_EQUAL(r.status, -ECANCELED);
	fx_free(&f);
}

static void test_lsb_validate_checks_the_script(void)
{
	char err[512], want[512], path[256];
	struct fx f;

	fx_init(&f, LSB_SO);
	make_script(&f);
	CU_ASSERT_EQUAL(fx_validate(&f, (const char *[]){ "script", "svc", "init_dir", f.tmp, NULL },
				    NULL, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(fx_validate(&f, (const char *[]){ "script", "nosuch", "init_dir", f.tmp, NULL },
				    NULL, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "init script %s/nosuch not found: No such file or directory",
		 f.tmp);
	CU_ASSERT_STRING_EQUAL(err, want);
	CU_ASSERT_EQUAL(fx_validate(&f, (const char *[]){ "script", "a/b", NULL }, NULL,
				    err, sizeof(err)), -EINVAL);
	CU_ASSERT_STRING_EQUAL(err, "script must be a name under /etc/init.d or an absolute path, "
			       "got \"a/b\"");
	snprintf(path, sizeof(path), "%s/svc", f.tmp);
	chmod(path, 0644);
	CU_ASSERT_EQUAL(fx_validate(&f, (const char *[]){ "script", path, NULL }, NULL,
				    err, sizeof(err)), -EACCES);
	snprintf(want, sizeof(want), "init script %s is not an executable file", path);
	CU_ASSERT_STRING_EQUAL(err, want);
	fx_free(&f);
}

static CU_TestInfo tests[] = {
	{ "ocf_dummy_start_monitor_stop", test_ocf_dummy_start_monitor_stop },
	{ "ocf_accepts_ocf_prefixed_agent_and_returns_meta_data",
	  test_ocf_accepts_ocf_prefixed_agent_and_returns_meta_data },
	{ "ocf_environment_is_built_not_inherited", test_ocf_environment_is_built_not_inherited },
	{ "ocf_exit_codes_map_to_ocf_rc", test_ocf_exit_codes_map_to_ocf_rc },
	{ "ocf_timeout_reports_etimedout", test_ocf_timeout_reports_etimedout },
	{ "ocf_cancel_reports_ecanceled", test_ocf_cancel_reports_ecanceled },
	{ "ocf_unknown_action_and_agent_answer_without_running",
	  test_ocf_unknown_action_and_agent_answer_without_running },
	{ "ocf_stateful_promote_demote", test_ocf_stateful_promote_demote },
	{ "ocf_validate_checks_attributes_against_meta_data",
	  test_ocf_validate_checks_attributes_against_meta_data },
	{ "ocf_validate_reports_failing_meta_data", test_ocf_validate_reports_failing_meta_data },
	{ "lsb_start_status_stop", test_lsb_start_status_stop },
	{ "lsb_exit_codes_map_to_ocf_rc", test_lsb_exit_codes_map_to_ocf_rc },
	{ "lsb_meta_data_timeout_and_cancel", test_lsb_meta_data_timeout_and_cancel },
	{ "lsb_validate_checks_the_script", test_lsb_validate_checks_the_script },
	CU_TEST_INFO_NULL,
};

CU_MAIN("resource plugins ocf and lsb", tests);
