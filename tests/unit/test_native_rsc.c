/*
 * The native resource plugins, process and ipaddr, loaded from the build
 * tree by the real core (registry, config value parser, host table, loop)
 * and driven through their ops as vigild's executor does.
 *
 * The ipaddr tests move this program into a network namespace of its own
 * (unshare(CLONE_NEWNET), so they run last) with a veth pair v0/v1 and
 * 198.18.0.1/24 on v0; they need root and are skipped without it.
 */
#include "cu_main.h"
#include "config.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#define PROCESS_SO TOP_BUILDDIR "/plugins/resource/process/.libs/process.so"
#define IPADDR_SO TOP_BUILDDIR "/plugins/resource/ipaddr/.libs/ipaddr.so"

/* What one test holds: a logger, a registry with one plugin, a loop. */
struct fx {
	struct vg_logger log;
	struct vg_registry reg;
	struct vg_loop *loop;
	struct vg_host_env env;
	const struct vg_plugin_info *info;
	char dir[64];            /* scratch directory for pidfiles and logs */
};

/* One instance: its configuration (built by hand, as config.c would) and the open handle. */
struct rsc {
	struct vg_instance_conf ic;
	struct vg_plugin_inst *pi;
};

/* The result of one op. */
struct result {
	int done;
	int status;
	int rc;
	char output[4096];
};

static int fx_init(struct fx *f, const char *so, const char *name)
{
	char err[512];

	memset(f, 0, sizeof(*f));
	vg_logger_init(&f->log);
	f->log.level = VG_LOG_NOTICE;
	vg_registry_init(&f->reg, &f->log);
	if (vg_registry_load_file(&f->reg, so, err, sizeof(err)) < 0) {
		fprintf(stderr, "load %s: %s\n", so, err);
		return -1;
	}
	f->info = vg_registry_find(&f->reg, name);
	if (!f->info || vg_loop_new(&f->log, &f->loop) < 0)
		return -1;
	f->env = (struct vg_host_env){ .loop = f->loop, .log = &f->log };
	snprintf(f->dir, sizeof(f->dir), "/tmp/vg-native-rsc.XXXXXX");
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

/*
 * Open an instance with params given as "key", "value", ..., NULL; every
 * other declared param gets its default, parsed by the core's parser.
 */
static int rsc_open(struct fx *f, struct rsc *r, ...)
{
	const struct vg_plugin_info *info = f->info;
	const char *key, *text;
	char err[256];
	va_list ap;

	memset(r, 0, sizeof(*r));
	r->ic = (struct vg_instance_conf){ .name = "t", .plugin = info->name, .info = info,
					   .n_values = info->n_params };
	r->ic.values = calloc(info->n_params, sizeof(*r->ic.values));
	for (size_t i = 0; i < info->n_params; i++) {
		text = info->params[i].def;
		va_start(ap, r);
		while ((key = va_arg(ap, const char *))) {
			const char *val = va_arg(ap, const char *);

			if (strcmp(key, info->params[i].name) == 0)
				text = val;
		}
		va_end(ap);
		if (text && vg_param_parse(&info->params[i], text, &r->ic.values[i], err,
					   sizeof(err)) < 0) {
			fprintf(stderr, "param %s: %s\n", info->params[i].name, err);
			return -1;
		}
	}
	return vg_plugin_inst_open(&f->env, &r->ic, 0, &r->pi);
}

static void rsc_close(struct rsc *r)
{
	vg_plugin_inst_close(r->pi);
	r->pi = NULL;
	for (size_t i = 0; i < r->ic.n_values; i++)
		free((char *)r->ic.values[i].s);
	free(r->ic.values);
}

static void op_done_cb(void *arg, int status, int rc, const char *output)
{
	struct result *res = arg;

	res->done = 1;
	res->status = status;
	res->rc = rc;
	snprintf(res->output, sizeof(res->output), "%s", output ? output : "");
}

/* Run one action to its end (at most 20 s of loop); returns the OCF rc, or -1000 + status. */
static int rsc_run(struct fx *f, struct rsc *r, uint32_t action, uint32_t timeout_ms,
		   struct result *res)
{
	struct vg_rsc_request req = { .action = action, .timeout_ms = timeout_ms };
	uint64_t start;
	uint64_t id;

	memset(res, 0, sizeof(*res));
	if (r->pi->info->ops.resource.exec(r->pi->state, &req, op_done_cb, res, &id) < 0)
		return -2000;
	CU_ASSERT_FALSE(res->done); /* never from inside exec() */
	start = vg_loop_update_time(f->loop);
	while (!res->done && vg_loop_now_ms(f->loop) - start < 20000)
		vg_loop_run_once(f->loop, 50);
	if (!res->done)
		return -3000;
	if (res->status < 0)
		return -1000 + res->status;
	return res->rc;
}

/* Spin the loop for `ms` (background timers, announcements). */
static void loop_for(struct fx *f, uint64_t ms)
{
	uint64_t start = vg_loop_update_time(f->loop);

	while (vg_loop_now_ms(f->loop) - start < ms)
		vg_loop_run_once(f->loop, 10);
}

/* ---- process ---- */

static pid_t pidfile_pid(const char *path)
{
	FILE *fp = fopen(path, "r");
	int pid = -1;

	if (!fp)
		return -1;
	if (fscanf(fp, "%d", &pid) != 1)
		pid = -1;
	fclose(fp);
	return pid;
}

/* State letter and process group of `pid` from /proc, or 0 when it is gone. */
static char pid_state(pid_t pid, int *pgrp)
{
	char path[64], buf[512], *p;
	char state = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fp = fopen(path, "r");
	if (!fp)
		return 0;
	p = fgets(buf, sizeof(buf), fp);
	fclose(fp);
	p = p ? strrchr(buf, ')') : NULL;
	if (p && sscanf(p + 2, "%c %*d %d", &state, pgrp) != 2)
		state = 0;
	return state;
}

/* Gone, or a zombie nobody reaps (pid 1 of a container may not). */
static int pid_gone(pid_t pid)
{
	int pgrp;
	char st = pid_state(pid, &pgrp);

	return st == 0 || st == 'Z' || st == 'X';
}

/* No live process left in the process group `pgid`. */
static int group_gone(pid_t pgid)
{
	struct dirent *de;
	int pgrp, live = 0;
	DIR *d = opendir("/proc");
	char st;

	while (d && (de = readdir(d))) {
		int pid = atoi(de->d_name);

		if (pid <= 0)
			continue;
		st = pid_state(pid, &pgrp);
		if (st && st != 'Z' && st != 'X' && pgrp == pgid)
			live++;
	}
	if (d)
		closedir(d);
	return live == 0;
}

static void test_process_start_survives_restart_then_stops(void)
{
	struct fx f;
	struct rsc r1, r2;
	struct result res;
	char pidfile[128];
	pid_t pid;

	CU_ASSERT_FATAL(fx_init(&f, PROCESS_SO, "process") == 0);
	snprintf(pidfile, sizeof(pidfile), "%s/sleep.pid", f.dir);
	CU_ASSERT_FATAL(rsc_open(&f, &r1, "command", "sleep 300", "pidfile", pidfile, NULL) == 0);
	CU_ASSERT_EQUAL(rsc_run(&f, &r1, VG_RSC_START, 5000, &res), VG_OCF_SUCCESS);
	pid = pidfile_pid(pidfile);
	CU_ASSERT_FATAL(pid > 1);
	CU_ASSERT_EQUAL(kill(pid, 0), 0);
	CU_ASSERT_EQUAL(getpgid(pid), pid);      /* a group (and session) of its own */
	CU_ASSERT_EQUAL(getsid(pid), pid);
	CU_ASSERT_EQUAL(rsc_run(&f, &r1, VG_RSC_MONITOR, 5000, &res), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(vg_loop_child_count(f.loop), 0); /* the launcher is reaped */

	/* vigild restarts: the old instance goes, a new one finds the process. */
	rsc_close(&r1);
	CU_ASSERT_EQUAL(kill(pid, 0), 0);
	CU_ASSERT_FATAL(rsc_open(&f, &r2, "command", "sleep 300", "pidfile", pidfile, NULL) == 0);
	CU_ASSERT_EQUAL(rsc_run(&f, &r2, VG_RSC_MONITOR, 5000, &res), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(rsc_run(&f, &r2, VG_RSC_START, 5000, &res), VG_OCF_SUCCESS);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.output, "already running"));
	CU_ASSERT_EQUAL(pidfile_pid(pidfile), pid);

	CU_ASSERT_EQUAL(rsc_run(&f, &r2, VG_RSC_STOP, 10000, &res), VG_OCF_SUCCESS);
	CU_ASSERT(pid_gone(pid));
	CU_ASSERT_NOT_EQUAL(access(pidfile, F_OK), 0);
	CU_ASSERT_EQUAL(rsc_run(&f, &r2, VG_RSC_MONITOR, 5000, &res), VG_OCF_NOT_RUNNING);
	CU_ASSERT_EQUAL(rsc_run(&f, &r2, VG_RSC_STOP, 5000, &res), VG_OCF_SUCCESS);
	rsc_close(&r2);
	fx_free(&f);
}

static void test_process_ignoring_sigterm_is_killed_after_grace(void)
{
	struct fx f;
	struct rsc r;
	struct result res;
	char pidfile[128];
	uint64_t t0, took_ms;
	pid_t pid;

	CU_ASSERT_FATAL(fx_init(&f, PROCESS_SO, "process") == 0);
	snprintf(pidfile, sizeof(pidfile), "%s/stubborn.pid", f.dir);
	CU_ASSERT_FATAL(rsc_open(&f, &r, "command", "trap \"\" TERM; while :; do sleep 1; done",
				 "pidfile", pidfile, "stop_grace_ms", "400", NULL) == 0);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_START, 5000, &res), VG_OCF_SUCCESS);
	pid = pidfile_pid(pidfile);
	CU_ASSERT_FATAL(pid > 1);
	t0 = vg_loop_update_time(f.loop);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_STOP, 10000, &res), VG_OCF_SUCCESS);
	took_ms = vg_loop_update_time(f.loop) - t0;
	CU_ASSERT(took_ms >= 400 && took_ms < 3000);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.output, "SIGKILL"));
	CU_ASSERT(pid_gone(pid));
	CU_ASSERT(group_gone(pid)); /* nothing of its group is left */
	rsc_close(&r);
	fx_free(&f);
}

static void test_process_failing_health_command_is_error(void)
{
	struct fx f;
	struct rsc r;
	struct result res;
	char pidfile[128], flag[128], health[400];

	CU_ASSERT_FATAL(fx_init(&f, PROCESS_SO, "process") == 0);
	snprintf(pidfile, sizeof(pidfile), "%s/h.pid", f.dir);
	snprintf(flag, sizeof(flag), "%s/healthy", f.dir);
	/*
	 * Healthy once `flag` exists, and only when SIGPIPE is not ignored
	 * (bit 12 of SigIgn).  Signals 32 and 33 are glibc's own and may stay
	 * ignored whatever a program does, as under make -j.  Read by the
	 * shell itself (awk would show its own: mawk ignores SIGPIPE).
	 */
	snprintf(health, sizeof(health), "test -e %s || { echo sick; exit 3; }; "
		 "while read k v; do [ \"$k\" = SigIgn: ] && ign=$v; done < /proc/self/status; "
		 "[ $(( 0x$ign & 0x1000 )) -eq 0 ] || { echo SIGPIPE ignored: $ign; exit 4; }", flag);
	signal(SIGPIPE, SIG_IGN); /* as vigild does */
	CU_ASSERT_FATAL(rsc_open(&f, &r, "command", "sleep 300", "pidfile", pidfile,
				 "health_command", health, "cwd", f.dir, NULL) == 0);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_START, 5000, &res), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_MONITOR, 5000, &res), VG_OCF_ERR_GENERIC);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.output, "sick"));
	CU_ASSERT_EQUAL(close(open(flag, O_CREAT | O_WRONLY, 0644)), 0);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_MONITOR, 5000, &res), VG_OCF_SUCCESS);
	if (res.rc != VG_OCF_SUCCESS)
		fprintf(stderr, "monitor said: %s\n", res.output);
	signal(SIGPIPE, SIG_DFL);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_STOP, 10000, &res), VG_OCF_SUCCESS);
	rsc_close(&r);
	fx_free(&f);
}

static void test_process_command_exiting_at_once_fails_start(void)
{
	struct fx f;
	struct rsc r;
	struct result res;
	char pidfile[128], logf[128];

	CU_ASSERT_FATAL(fx_init(&f, PROCESS_SO, "process") == 0);
	snprintf(pidfile, sizeof(pidfile), "%s/x.pid", f.dir);
	snprintf(logf, sizeof(logf), "%s/x.log", f.dir);
	CU_ASSERT_FATAL(rsc_open(&f, &r, "command", "echo cannot bind port; exit 1",
				 "pidfile", pidfile, "log_file", logf, NULL) == 0);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_START, 5000, &res), VG_OCF_ERR_GENERIC);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.output, "cannot bind port")); /* the log's tail */
	CU_ASSERT_NOT_EQUAL(access(pidfile, F_OK), 0);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_MONITOR, 5000, &res), VG_OCF_NOT_RUNNING);
	rsc_close(&r);
	fx_free(&f);
}

static void test_process_reused_pid_is_not_running(void)
{
	struct fx f;
	struct rsc r;
	struct result res;
	char pidfile[128];
	FILE *fp;

	CU_ASSERT_FATAL(fx_init(&f, PROCESS_SO, "process") == 0);
	snprintf(pidfile, sizeof(pidfile), "%s/old.pid", f.dir);
	/* Our own pid, alive, but with another start time: someone else now. */
	fp = fopen(pidfile, "w");
	CU_ASSERT_FATAL(fp != NULL);
	fprintf(fp, "%d 1\n", (int)getpid());
	fclose(fp);
	CU_ASSERT_FATAL(rsc_open(&f, &r, "command", "sleep 300", "pidfile", pidfile, NULL) == 0);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_MONITOR, 5000, &res), VG_OCF_NOT_RUNNING);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_STOP, 5000, &res), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(kill(getpid(), 0), 0); /* and we were not signalled */
	rsc_close(&r);
	fx_free(&f);
}

static void test_process_slow_health_times_out_and_cancels(void)
{
	struct fx f;
	struct rsc r;
	struct result res, res2;
	struct vg_rsc_request req = { .action = VG_RSC_MONITOR, .timeout_ms = 10000 };
	char pidfile[128];
	uint64_t id, t0;

	CU_ASSERT_FATAL(fx_init(&f, PROCESS_SO, "process") == 0);
	snprintf(pidfile, sizeof(pidfile), "%s/slow.pid", f.dir);
	CU_ASSERT_FATAL(rsc_open(&f, &r, "command", "sleep 300", "pidfile", pidfile,
				 "health_command", "sleep 30", NULL) == 0);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_START, 5000, &res), VG_OCF_SUCCESS);
	t0 = vg_loop_update_time(f.loop);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_MONITOR, 300, &res), -1000 - ETIMEDOUT);
	CU_ASSERT(vg_loop_update_time(f.loop) - t0 < 5000);
	/* Cancelled: -ECANCELED from the loop, and the health check is ended. */
	memset(&res2, 0, sizeof(res2));
	CU_ASSERT_EQUAL_FATAL(r.pi->info->ops.resource.exec(r.pi->state, &req, op_done_cb,
							    &res2, &id), 0);
	loop_for(&f, 50);
	r.pi->info->ops.resource.cancel(r.pi->state, id);
	CU_ASSERT_FALSE(res2.done);
	t0 = vg_loop_update_time(f.loop);
	while (!res2.done && vg_loop_update_time(f.loop) - t0 < 5000)
		vg_loop_run_once(f.loop, 50);
	CU_ASSERT_EQUAL(res2.status, -ECANCELED);
	loop_for(&f, 100);
	CU_ASSERT_EQUAL(vg_loop_child_count(f.loop), 0);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_STOP, 10000, &res), VG_OCF_SUCCESS);
	rsc_close(&r);
	fx_free(&f);
}

static void test_process_runs_as_user(void)
{
	struct fx f;
	struct rsc r;
	struct result res;
	char pidfile[128], path[64], line[256];
	unsigned uid = 0;
	FILE *fp;
	pid_t pid;

	if (getuid() != 0) {
		fprintf(stderr, "skipped: not root\n");
		return;
	}
	CU_ASSERT_FATAL(fx_init(&f, PROCESS_SO, "process") == 0);
	snprintf(pidfile, sizeof(pidfile), "%s/u.pid", f.dir);
	CU_ASSERT_FATAL(rsc_open(&f, &r, "command", "sleep 300", "pidfile", pidfile,
				 "user", "nobody", NULL) == 0);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_START, 5000, &res), VG_OCF_SUCCESS);
	pid = pidfile_pid(pidfile);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	fp = fopen(path, "r");
	CU_ASSERT_FATAL(fp != NULL);
	while (fgets(line, sizeof(line), fp))
		if (sscanf(line, "Uid: %u", &uid) == 1)
			break;
	fclose(fp);
	CU_ASSERT_EQUAL(uid, 65534);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_STOP, 10000, &res), VG_OCF_SUCCESS);
	rsc_close(&r);
	fx_free(&f);
}

static void test_process_meta_data_and_validate(void)
{
	struct fx f;
	struct rsc r;
	struct result res;
	struct vg_value v[16] = { { 0 } };
	struct vg_instance inst = { .name = "t", .params = v };
	char err[256], pidfile[128];
	char errp[256];

	CU_ASSERT_FATAL(fx_init(&f, PROCESS_SO, "process") == 0);
	snprintf(pidfile, sizeof(pidfile), "%s/m.pid", f.dir);
	CU_ASSERT_FATAL(rsc_open(&f, &r, "command", "sleep 1", "pidfile", pidfile,
				 "cwd", "/nonexistent-dir", NULL) == 0);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_META_DATA, 5000, &res), VG_OCF_SUCCESS);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.output, "<parameter name=\"command\" required=\"1\">"));
	CU_ASSERT_PTR_NOT_NULL(strstr(res.output, "default=\"5000\""));
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_VALIDATE_ALL, 5000, &res), VG_OCF_ERR_CONFIGURED);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.output, "/nonexistent-dir"));
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_PROMOTE, 5000, &res), VG_OCF_ERR_UNIMPLEMENTED);
	/* The 1.1 validate op, before any open: an unknown user is refused. */
	for (size_t i = 0; i < r.ic.n_values && i < 16; i++)
		v[i] = r.ic.values[i];
	v[2] = (struct vg_value){ .is_set = 1, .s = "no-such-user-vg" };
	v[3] = (struct vg_value){ .is_set = 1, .s = "/" };
	inst.n_params = r.ic.n_values;
	CU_ASSERT_EQUAL(f.info->ops.resource.validate(&inst, err, sizeof(err)), -ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "no-such-user-vg"));
	v[2] = (struct vg_value){ 0 };
	CU_ASSERT_EQUAL(f.info->ops.resource.validate(&inst, errp, sizeof(errp)), 0);
	rsc_close(&r);
	fx_free(&f);
}

/* ---- ipaddr, in a network namespace of our own ---- */

static int netns_state; /* 0 untried, 1 ready, -1 cannot */

static int netns_ready(void)
{
	if (netns_state)
		return netns_state > 0;
	netns_state = -1;
	if (getuid() != 0 || unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr, "skipped: needs root and a network namespace\n");
		return 0;
	}
	if (system("ip link set lo up && ip link add v0 type veth peer name v1 && "
		   "ip link set v0 up && ip link set v1 up && "
		   "ip addr add 198.18.0.1/24 dev v0") != 0)
		return 0;
	netns_state = 1;
	return 1;
}

/* A non-blocking capture of `proto` (ETH_P_ARP, ETH_P_IPV6) on `ifname`. */
static int capture_open(const char *ifname, int proto)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(proto),
				   .sll_ifindex = (int)if_nametoindex(ifname) };
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(proto));

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Gratuitous ARPs for `ip` read from `fd`: sender and target address both `ip`. */
static int count_garp(int fd, const char *ip)
{
	unsigned char pkt[128], want[4];
	int n = 0;

	inet_pton(AF_INET, ip, want);
	while (recv(fd, pkt, sizeof(pkt), 0) >= 28) {
		if (memcmp(pkt + 14, want, 4) == 0 && memcmp(pkt + 24, want, 4) == 0)
			n++;
	}
	return n;
}

/* Unsolicited NAs for `ip`: ICMPv6 136, hop limit 255, to ff02::1, override, target `ip`. */
static int count_na(int fd, const char *ip)
{
	unsigned char pkt[256], want[16];
	ssize_t len;
	int n = 0;

	inet_pton(AF_INET6, ip, want);
	while ((len = recv(fd, pkt, sizeof(pkt), 0)) >= 40 + 24) {
		if (pkt[6] != 58 || pkt[7] != 255 || pkt[40] != 136)
			continue;
		if (pkt[24] != 0xff || pkt[25] != 0x02 || !(pkt[44] & 0x20))
			continue;
		if (memcmp(pkt + 48, want, 16) == 0)
			n++;
	}
	return n;
}

/* Exit status of `ip -o addr show dev v0 | grep -q PATTERN`: 0 when it is there. */
static int addr_shown(const char *pattern)
{
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "ip -o addr show dev v0 | grep -q -- '%s'", pattern);
	return system(cmd) == 0;
}

static void test_ipaddr_v4_start_announces_monitor_stop(void)
{
	struct fx f;
	struct rsc r;
	struct result res;
	int cap, n;

	if (!netns_ready())
		return;
	CU_ASSERT_FATAL(fx_init(&f, IPADDR_SO, "ipaddr") == 0);
	cap = capture_open("v1", ETH_P_ARP);
	CU_ASSERT_FATAL(cap >= 0);
	CU_ASSERT_FATAL(rsc_open(&f, &r, "address", "198.18.0.10/24", "interface", "v0",
				 "label", "v0:vip", "arp_count", "3", "arp_interval_ms", "50",
				 NULL) == 0);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_MONITOR, 5000, &res), VG_OCF_NOT_RUNNING);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_START, 5000, &res), VG_OCF_SUCCESS);
	CU_ASSERT(addr_shown("inet 198.18.0.10/24 brd 198.18.0.255 .* v0:vip"));
	n = count_garp(cap, "198.18.0.10");
	CU_ASSERT(n >= 1 && n <= 2); /* the first round: a request and a reply */
	loop_for(&f, 300);
	n += count_garp(cap, "198.18.0.10");
	CU_ASSERT_EQUAL(n, 6);       /* three rounds in all */
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_MONITOR, 5000, &res), VG_OCF_SUCCESS);
	/* Started again while present: success, and announced again. */
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_START, 5000, &res), VG_OCF_SUCCESS);
	CU_ASSERT(count_garp(cap, "198.18.0.10") >= 1);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_STOP, 5000, &res), VG_OCF_SUCCESS);
	CU_ASSERT_FALSE(addr_shown("198.18.0.10/"));
	CU_ASSERT(addr_shown("198.18.0.1/24")); /* the interface's own address stays */
	loop_for(&f, 200);
	CU_ASSERT_EQUAL(count_garp(cap, "198.18.0.10"), 0); /* stop ended the rounds */
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_MONITOR, 5000, &res), VG_OCF_NOT_RUNNING);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_STOP, 5000, &res), VG_OCF_SUCCESS);
	close(cap);
	rsc_close(&r);
	fx_free(&f);
}

static void test_ipaddr_interface_and_prefix_found_by_subnet(void)
{
	struct fx f;
	struct rsc r, bad;
	struct result res;

	if (!netns_ready())
		return;
	CU_ASSERT_FATAL(fx_init(&f, IPADDR_SO, "ipaddr") == 0);
	CU_ASSERT_FATAL(rsc_open(&f, &r, "address", "198.18.0.11", "arp_count", "1", NULL) == 0);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_START, 5000, &res), VG_OCF_SUCCESS);
	CU_ASSERT(addr_shown("inet 198.18.0.11/24 "));
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_STOP, 5000, &res), VG_OCF_SUCCESS);
	CU_ASSERT_FALSE(addr_shown("198.18.0.11/"));
	/* No address of any interface covers it: a configuration error. */
	CU_ASSERT_FATAL(rsc_open(&f, &bad, "address", "198.19.7.7", NULL) == 0);
	CU_ASSERT_EQUAL(rsc_run(&f, &bad, VG_RSC_START, 5000, &res), VG_OCF_ERR_CONFIGURED);
	rsc_close(&bad);
	rsc_close(&r);
	fx_free(&f);
}

static void test_ipaddr_link_down_is_error(void)
{
	struct fx f;
	struct rsc r;
	struct result res;

	if (!netns_ready())
		return;
	CU_ASSERT_FATAL(fx_init(&f, IPADDR_SO, "ipaddr") == 0);
	CU_ASSERT_FATAL(rsc_open(&f, &r, "address", "198.18.0.12/24", "interface", "v0",
				 "arp_count", "0", NULL) == 0);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_START, 5000, &res), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(system("ip link set v1 down"), 0); /* v0 loses its carrier */
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_MONITOR, 5000, &res), VG_OCF_ERR_GENERIC);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.output, "down"));
	CU_ASSERT_EQUAL(system("ip link set v1 up"), 0);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_STOP, 5000, &res), VG_OCF_SUCCESS);
	rsc_close(&r);
	fx_free(&f);
}

static void test_ipaddr_v6_add_announce_remove(void)
{
	struct fx f;
	struct rsc r;
	struct result res;
	int cap, n;

	if (!netns_ready())
		return;
	CU_ASSERT_FATAL(fx_init(&f, IPADDR_SO, "ipaddr") == 0);
	cap = capture_open("v1", ETH_P_IPV6);
	CU_ASSERT_FATAL(cap >= 0);
	CU_ASSERT_FATAL(rsc_open(&f, &r, "address", "2001:db8::10/64", "interface", "v0",
				 "arp_count", "2", "arp_interval_ms", "50", NULL) == 0);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_START, 5000, &res), VG_OCF_SUCCESS);
	CU_ASSERT(addr_shown("inet6 2001:db8::10/64 "));
	CU_ASSERT_FALSE(addr_shown("2001:db8::10/64 .*tentative")); /* usable at once */
	loop_for(&f, 200);
	n = count_na(cap, "2001:db8::10");
	CU_ASSERT_EQUAL(n, 2);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_MONITOR, 5000, &res), VG_OCF_SUCCESS);
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_STOP, 5000, &res), VG_OCF_SUCCESS);
	CU_ASSERT_FALSE(addr_shown("2001:db8::10/"));
	CU_ASSERT_EQUAL(rsc_run(&f, &r, VG_RSC_MONITOR, 5000, &res), VG_OCF_NOT_RUNNING);
	close(cap);
	rsc_close(&r);
	fx_free(&f);
}

static void test_ipaddr_validate_refuses_bad_address_and_interface(void)
{
	struct fx f;
	struct vg_value v[5] = { { 0 } };
	struct vg_instance inst = { .name = "t", .params = v, .n_params = 5 };
	char err[256];

	CU_ASSERT_FATAL(fx_init(&f, IPADDR_SO, "ipaddr") == 0);
	v[0] = (struct vg_value){ .is_set = 1, .s = "198.18.0.300/24" };
	CU_ASSERT_EQUAL(f.info->ops.resource.validate(&inst, err, sizeof(err)), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "198.18.0.300/24"));
	v[0].s = "2001:db8::10/129";
	CU_ASSERT_EQUAL(f.info->ops.resource.validate(&inst, err, sizeof(err)), -EINVAL);
	v[0].s = "198.18.0.10/24";
	v[1] = (struct vg_value){ .is_set = 1, .s = "nosuchif0" };
	CU_ASSERT_EQUAL(f.info->ops.resource.validate(&inst, err, sizeof(err)), -ENODEV);
	v[1] = (struct vg_value){ .is_set = 1, .s = "lo" };
	CU_ASSERT_EQUAL(f.info->ops.resource.validate(&inst, err, sizeof(err)), 0);
	fx_free(&f);
}

static CU_TestInfo tests[] = {
	{ "test_process_start_survives_restart_then_stops",
	  test_process_start_survives_restart_then_stops },
	{ "test_process_ignoring_sigterm_is_killed_after_grace",
	  test_process_ignoring_sigterm_is_killed_after_grace },
	{ "test_process_failing_health_command_is_error",
	  test_process_failing_health_command_is_error },
	{ "test_process_command_exiting_at_once_fails_start",
	  test_process_command_exiting_at_once_fails_start },
	{ "test_process_reused_pid_is_not_running", test_process_reused_pid_is_not_running },
	{ "test_process_slow_health_times_out_and_cancels",
	  test_process_slow_health_times_out_and_cancels },
	{ "test_process_runs_as_user", test_process_runs_as_user },
	{ "test_process_meta_data_and_validate", test_process_meta_data_and_validate },
	{ "test_ipaddr_validate_refuses_bad_address_and_interface",
	  test_ipaddr_validate_refuses_bad_address_and_interface },
	/* From here on the program lives in its own network namespace. */
	{ "test_ipaddr_v4_start_announces_monitor_stop",
	  test_ipaddr_v4_start_announces_monitor_stop },
	{ "test_ipaddr_interface_and_prefix_found_by_subnet",
	  test_ipaddr_interface_and_prefix_found_by_subnet },
	{ "test_ipaddr_link_down_is_error", test_ipaddr_link_down_is_error },
	{ "test_ipaddr_v6_add_announce_remove", test_ipaddr_v6_add_announce_remove },
	CU_TEST_INFO_NULL,
};

CU_MAIN("native_rsc", tests)
