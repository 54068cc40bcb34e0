/*
 * The core's built-in resource plugin "replication" (core/rsc_replication.c)
 * over a fake replication backend, both registered as built-ins in a real
 * registry, opened through the real replication set (core/replication.c)
 * and host table, on a real loop.  The fake's status, and what its promote
 * and demote answer, are set by each test: the OCF mapping of monitor, the
 * started flag, the retry of -EBUSY until the timeout, the immediate
 * failure of other refusals, the forced first promote, stop demoting a
 * primary, ERR_INSTALLED off the instance's nodes.
 */
#include "cu_main.h"
#include "config.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"
#include "replication.h"
#include "rsc_replication.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the fake backend: its state is the test's ---- */

static struct {
	struct vg_repl_status st;
	int status_rc;
	int refuse[8];          /* what the next promotes/demotes return at once; 0: accept */
	size_t n_refuse, calls;
	uint32_t last_flags;
	int complete_status;    /* what an accepted request completes with */
	struct vg_loop *loop;
} fake;

static const struct vg_param_decl fake_params[] = { { .name = NULL } };

struct fake_req {
	vg_repl_done_cb cb;
	void *arg;
	int promote;
};

static void fake_complete(void *arg)
{
	struct fake_req *q = arg;

	if (fake.complete_status == 0)
		fake.st.role = q->promote ? VG_REPL_ROLE_PRIMARY : VG_REPL_ROLE_SECONDARY;
	q->cb(q->arg, fake.complete_status, fake.complete_status ? "refused later" : "ok");
	free(q);
}

static int fake_request(int promote, uint32_t flags, vg_repl_done_cb cb, void *arg)
{
	struct fake_req *q;
	struct vg_timer *t;
	int rc = fake.calls < fake.n_refuse ? fake.refuse[fake.calls] : 0;

	fake.calls++;
	fake.last_flags = flags;
	if (rc)
		return rc;
	q = calloc(1, sizeof(*q));
	*q = (struct fake_req){ .cb = cb, .arg = arg, .promote = promote };
	rc = vg_loop_timer_start(fake.loop, 1, 0, fake_complete, q, NULL, &t);
	if (rc < 0)
		free(q);
	return rc;
}

static int fake_promote(void *s, uint32_t flags, vg_repl_done_cb cb, void *arg)
{
	return fake_request(1, flags, cb, arg);
}

static int fake_demote(void *s, vg_repl_done_cb cb, void *arg)
{
	return fake_request(0, 0, cb, arg);
}

static int fake_status(void *s, struct vg_repl_status *out)
{
	*out = fake.st;
	return fake.status_rc;
}

static int fake_open(const struct vg_host *h, const struct vg_instance *i, void **state)
{
	*state = &fake;
	return 0;
}

static void fake_close(void *state)
{
}

static const struct vg_replication_ops fake_ops = {
	.promote = fake_promote, .demote = fake_demote, .status = fake_status,
};
static const struct vg_plugin fake_plugin = {
	.abi_major = VG_ABI_MAJOR, .abi_minor = VG_ABI_MINOR, .kind = VG_KIND_REPLICATION,
	.name = "fake", .version = "1", .description = "test backend", .params = fake_params,
	.open = fake_open, .close = fake_close, .ops = &fake_ops,
};

/* ---- fixture: nodes n1 (local) and n2, instance r0, resource r ---- */

struct fx {
	struct vg_logger log;
	struct vg_registry reg;
	struct vg_loop *loop;
	struct vg_host_env env;
	struct vg_node_conf nodes[2];
	struct vg_config cfg;
	struct vg_instance_conf repl, rsc;
	struct vg_attr attrs[2];
	char *repl_nodes[2];
	struct vg_repl_set set;
	struct vg_plugin_inst *pi;
};

struct done {
	int called, status, rc;
	char out[256];
};

static void fx_open(struct fx *f, int on_other_nodes)
{
	char err[256];

	memset(f, 0, sizeof(*f));
	memset(&fake, 0, sizeof(fake));
	fake.st = (struct vg_repl_status){ .role = VG_REPL_ROLE_SECONDARY,
		.peer_role = VG_REPL_ROLE_SECONDARY, .disk = VG_REPL_DISK_UPTODATE,
		.peer_disk = VG_REPL_DISK_UPTODATE, .conn = VG_REPL_CONN_CONNECTED };
	vg_logger_init(&f->log);
	f->log.level = VG_LOG_ERR;
	vg_registry_init(&f->reg, &f->log);
	CU_ASSERT_EQUAL_FATAL(vg_registry_add_builtin(&f->reg, &vg_rsc_replication_plugin, err,
						      sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(vg_registry_add_builtin(&f->reg, &fake_plugin, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(vg_loop_new(&f->log, &f->loop), 0);
	fake.loop = f->loop;
	f->nodes[0] = (struct vg_node_conf){ .id = 1, .name = "n1" };
	f->nodes[1] = (struct vg_node_conf){ .id = 2, .name = "n2" };
	f->cfg.nodes = f->nodes;
	f->cfg.n_nodes = 2;
	f->repl = (struct vg_instance_conf){ .name = "r0", .plugin = "fake",
					     .info = vg_registry_find(&f->reg, "fake") };
	f->repl_nodes[0] = "n2";
	f->repl_nodes[1] = "n3";
	if (on_other_nodes) {
		f->repl.nodes = f->repl_nodes;
		f->repl.n_nodes = 2;
	}
	f->cfg.replications = &f->repl;
	f->cfg.n_replications = 1;
	f->rsc = (struct vg_instance_conf){ .name = "r", .plugin = "replication",
		.info = vg_registry_find(&f->reg, VG_RSC_REPLICATION_PLUGIN) };
	f->attrs[0] = (struct vg_attr){ .key = "instance", .value = "r0" };
	f->attrs[1] = (struct vg_attr){ .key = "initial_primary", .value = "n1" };
	CU_ASSERT_EQUAL_FATAL(vg_config_values_from_attrs(f->rsc.info, f->attrs, 2, &f->rsc.values,
							  err, sizeof(err)), 0);
	f->rsc.n_values = f->rsc.info->n_params;
	f->env = (struct vg_host_env){ .loop = f->loop, .log = &f->log, .cfg = &f->cfg,
				       .reg = &f->reg, .local_node_id = 1 };
	CU_ASSERT_EQUAL_FATAL(vg_repl_set_start(&f->set, &f->cfg, "n1", &f->env), 0);
	f->env.repl = &f->set;
	CU_ASSERT_EQUAL_FATAL(vg_plugin_inst_open(&f->env, &f->rsc, 0, &f->pi), 0);
}

static void fx_close(struct fx *f)
{
	vg_plugin_inst_close(f->pi);
	vg_repl_set_stop(&f->set);
	vg_config_values_free(f->rsc.values, f->rsc.n_values);
	vg_loop_free(f->loop);
	vg_registry_free(&f->reg);
}

static void done_cb(void *arg, int status, int rc, const char *output)
{
	struct done *d = arg;

	d->called++;
	d->status = status;
	d->rc = rc;
	snprintf(d->out, sizeof(d->out), "%s", output ? output : "");
}

/* Run `action` to its completion (at most 5 s); returns its OCF rc, -errno status as is. */
static int run(struct fx *f, uint32_t action, uint32_t timeout_ms)
{
	struct vg_rsc_request req = { .action = action, .timeout_ms = timeout_ms };
	struct done d = { 0 };
	uint64_t end;

	CU_ASSERT_EQUAL_FATAL(f->pi->info->ops.resource.exec(f->pi->state, &req, done_cb, &d, NULL), 0);
	CU_ASSERT_EQUAL(d.called, 0); /* never from inside exec() */
	end = vg_loop_update_time(f->loop) + 5000;
	while (!d.called && vg_loop_update_time(f->loop) < end)
		vg_loop_run_once(f->loop, 20);
	CU_ASSERT_EQUAL_FATAL(d.called, 1);
	return d.status < 0 ? d.status : d.rc;
}

static void test_monitor_maps_state_and_started_flag(void)
{
	struct fx f;

	fx_open(&f, 0);
	CU_ASSERT_EQUAL(run(&f, VG_RSC_MONITOR, 0), VG_OCF_NOT_RUNNING); /* probe: not started */
	CU_ASSERT_EQUAL(run(&f, VG_RSC_START, 1000), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(run(&f, VG_RSC_MONITOR, 0), VG_OCF_SUCCESS);
	fake.st.role = VG_REPL_ROLE_PRIMARY;
	CU_ASSERT_EQUAL(run(&f, VG_RSC_MONITOR, 0), VG_OCF_RUNNING_PROMOTED);
	fake.st.role = VG_REPL_ROLE_SECONDARY;
	fake.st.split_brain = 1;
	CU_ASSERT_EQUAL(run(&f, VG_RSC_MONITOR, 0), VG_OCF_ERR_GENERIC);
	fake.st.split_brain = 0;
	fake.st.disk = VG_REPL_DISK_DISKLESS;
	CU_ASSERT_EQUAL(run(&f, VG_RSC_MONITOR, 0), VG_OCF_ERR_GENERIC);
	fake.st.disk = VG_REPL_DISK_UPTODATE;
	fake.status_rc = -ENOTCONN; /* the helper died */
	CU_ASSERT_EQUAL(run(&f, VG_RSC_MONITOR, 0), VG_OCF_ERR_GENERIC);
	fake.status_rc = 0;
	CU_ASSERT_EQUAL(run(&f, VG_RSC_STOP, 1000), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(fake.calls, 0); /* a secondary is not demoted */
	CU_ASSERT_EQUAL(run(&f, VG_RSC_MONITOR, 0), VG_OCF_NOT_RUNNING);
	fx_close(&f);
}

static void test_start_waits_for_state_and_refuses_diskless(void)
{
	struct fx f;

	fx_open(&f, 0);
	fake.status_rc = -ENOTCONN;
	CU_ASSERT_EQUAL(run(&f, VG_RSC_START, 300), -ETIMEDOUT);
	fake.status_rc = 0;
	fake.st.disk = VG_REPL_DISK_DISKLESS;
	CU_ASSERT_EQUAL(run(&f, VG_RSC_START, 1000), VG_OCF_ERR_GENERIC);
	fx_close(&f);
}

static void test_promote_retries_busy_until_accepted(void)
{
	struct fx f;

	fx_open(&f, 0);
	fake.refuse[0] = fake.refuse[1] = -EBUSY;
	fake.n_refuse = 2;
	CU_ASSERT_EQUAL(run(&f, VG_RSC_PROMOTE, 5000), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(fake.calls, 3);
	CU_ASSERT_EQUAL(fake.last_flags, 0);
	CU_ASSERT_EQUAL(fake.st.role, VG_REPL_ROLE_PRIMARY);
	fx_close(&f);
}

static void test_promote_busy_times_out(void)
{
	struct fx f;

	fx_open(&f, 0);
	for (size_t i = 0; i < 8; i++)
		fake.refuse[i] = -EBUSY;
	fake.n_refuse = 8;
	CU_ASSERT_EQUAL(run(&f, VG_RSC_PROMOTE, 600), -ETIMEDOUT);
	CU_ASSERT(fake.calls >= 2 && fake.calls <= 4); /* every 250 ms */
	fx_close(&f);
}

static void test_promote_refused_fails_at_once(void)
{
	struct fx f;

	fx_open(&f, 0);
	fake.refuse[0] = -EPERM;
	fake.n_refuse = 1;
	CU_ASSERT_EQUAL(run(&f, VG_RSC_PROMOTE, 5000), VG_OCF_ERR_GENERIC);
	CU_ASSERT_EQUAL(fake.calls, 1);
	fake.complete_status = -EPERM; /* accepted, refused by the callback */
	CU_ASSERT_EQUAL(run(&f, VG_RSC_PROMOTE, 5000), VG_OCF_ERR_GENERIC);
	CU_ASSERT_EQUAL(fake.calls, 2);
	fx_close(&f);
}

static void test_first_promote_forced_on_initial_primary(void)
{
	struct fx f;

	fx_open(&f, 0);
	fake.st.disk = fake.st.peer_disk = VG_REPL_DISK_INCONSISTENT;
	CU_ASSERT_EQUAL(run(&f, VG_RSC_PROMOTE, 5000), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(fake.last_flags, VG_REPL_PROMOTE_FORCE);
	/* a pair that agreed once is never forced */
	fake.st.role = VG_REPL_ROLE_SECONDARY;
	fake.st.gen_history[0] = 0x1234;
	CU_ASSERT_EQUAL(run(&f, VG_RSC_PROMOTE, 5000), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(fake.last_flags, 0);
	fx_close(&f);
}

static void test_stop_demotes_a_primary(void)
{
	struct fx f;

	fx_open(&f, 0);
	CU_ASSERT_EQUAL(run(&f, VG_RSC_START, 1000), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(run(&f, VG_RSC_PROMOTE, 5000), VG_OCF_SUCCESS);
	fake.refuse[1] = -EBUSY; /* an NBD client still has it open, once */
	fake.n_refuse = 2;
	CU_ASSERT_EQUAL(run(&f, VG_RSC_STOP, 5000), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(fake.calls, 3);
	CU_ASSERT_EQUAL(fake.st.role, VG_REPL_ROLE_SECONDARY);
	CU_ASSERT_EQUAL(run(&f, VG_RSC_MONITOR, 0), VG_OCF_NOT_RUNNING);
	fx_close(&f);
}

static void test_instance_of_other_nodes_is_not_installed_here(void)
{
	struct fx f;

	fx_open(&f, 1);
	CU_ASSERT_PTR_NULL(f.set.v[0].pi);
	CU_ASSERT_EQUAL(run(&f, VG_RSC_START, 1000), VG_OCF_ERR_INSTALLED);
	CU_ASSERT_EQUAL(run(&f, VG_RSC_MONITOR, 0), VG_OCF_NOT_RUNNING);
	CU_ASSERT_EQUAL(run(&f, VG_RSC_PROMOTE, 1000), VG_OCF_ERR_GENERIC);
	fx_close(&f);
}

static CU_TestInfo tests[] = {
	{ "test_monitor_maps_state_and_started_flag", test_monitor_maps_state_and_started_flag },
	{ "test_start_waits_for_state_and_refuses_diskless",
	  test_start_waits_for_state_and_refuses_diskless },
	{ "test_promote_retries_busy_until_accepted", test_promote_retries_busy_until_accepted },
	{ "test_promote_busy_times_out", test_promote_busy_times_out },
	{ "test_promote_refused_fails_at_once", test_promote_refused_fails_at_once },
	{ "test_first_promote_forced_on_initial_primary", test_first_promote_forced_on_initial_primary },
	{ "test_stop_demotes_a_primary", test_stop_demotes_a_primary },
	{ "test_instance_of_other_nodes_is_not_installed_here",
	  test_instance_of_other_nodes_is_not_installed_here },
	CU_TEST_INFO_NULL,
};

CU_MAIN("rsc_replication", tests)
