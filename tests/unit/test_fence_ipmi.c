/*
 * The ipmi fence plugin, loaded from the build tree by the real core
 * (registry, config value parser, host table, loop) and driven through its
 * ops as vigild's fencer does, against a real BMC simulator: OpenIPMI's
 * ipmi_sim on 127.0.0.1, started by each test with a lan.conf of its own.
 * Its chassis power is a file written by a chassis_control script, so
 * Chassis Control changes what Get Chassis Status reports; ipmitool
 * (lanplus) checks the state independently.  Skipped when ipmi_sim or
 * ipmitool is missing.
 *
 * Every ipmi_sim is in a process group of its own and killed by pid at the
 * end of its test, and by an atexit() handler if a test stops early.
 */
#include "cu_main.h"
#include "config.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IPMI_SO TOP_BUILDDIR "/plugins/fence/ipmi/.libs/ipmi.so"
#define SIM_USER "admin"
#define SIM_PASS "s3cret-pw"

/* One ipmi_sim: its scratch directory, port and pid. */
struct sim {
	char dir[64];
	int port;
	pid_t pid;
};

/*
 * Safety net for a test that stops early (a fatal assertion): at exit,
 * every sim still listed is killed and its directory removed.
 */
static struct sim live_sims[32];

static void sim_kill_rm(struct sim *s)
{
	char cmd[128];

	if (s->pid > 0) {
		kill(-s->pid, SIGCONT);
		kill(-s->pid, SIGKILL);
		waitpid(s->pid, NULL, 0);
		s->pid = 0;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", s->dir);
	if (s->dir[0] && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", s->dir);
	s->dir[0] = '\0';
}

static void sims_kill_all(void)
{
	for (size_t i = 0; i < sizeof(live_sims) / sizeof(live_sims[0]); i++)
		if (live_sims[i].dir[0])
			sim_kill_rm(&live_sims[i]);
}

/* List (add = 1) or forget (0) the sim with this directory. */
static void sims_track(const struct sim *s, int add)
{
	static int registered;

	if (!registered && atexit(sims_kill_all) == 0)
		registered = 1;
	for (size_t i = 0; i < sizeof(live_sims) / sizeof(live_sims[0]); i++) {
		if (add && !live_sims[i].dir[0]) {
			live_sims[i] = *s;
			return;
		}
		if (!add && strcmp(live_sims[i].dir, s->dir) == 0) {
			live_sims[i].dir[0] = '\0';
			return;
		}
	}
}

static int have_tools(void)
{
	return system("command -v ipmi_sim >/dev/null && command -v ipmitool >/dev/null") == 0;
}

/* A free UDP port on 127.0.0.1 (the kernel's pick; ipmi_sim binds it just after). */
static int free_udp_port(void)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	int fd = socket(AF_INET, SOCK_DGRAM, 0), port = -1;

	if (fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sin, &len) == 0)
		port = ntohs(sin.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static int write_file(const char *dir, const char *name, mode_t mode, const char *fmt, ...)
{
	char path[128];
	va_list ap;
	FILE *fp;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fp = fopen(path, "w");
	if (!fp)
		return -1;
	va_start(ap, fmt);
	vfprintf(fp, fmt, ap);
	va_end(ap);
	fclose(fp);
	return chmod(path, mode);
}

/*
 * The chassis_control program: "get power" prints the state file,
 * "set power V" writes it, after `lag` seconds when that file exists (a
 * BMC whose power changes some time after the command).  Every call is
 * appended to power.log.
 */
static const char chassis_script[] =
	"#!/bin/sh\n"
	"d=$1; shift; op=$1; shift\n"
	"echo \"$op $*\" >> $d/power.log\n"
	"case $op in\n"
	"get) for p in \"$@\"; do case $p in\n"
	"     power) echo \"power:$(cat $d/power)\";;\n"
	"     boot) echo boot:default;;\n"
	"     esac; done;;\n"
	"set) while [ -n \"$1\" ]; do p=$1; v=$2; shift 2\n"
	"     [ $p = power ] || continue\n"
	"     if [ -e $d/lag ]; then (sleep $(cat $d/lag); echo $v > $d/power) >/dev/null 2>&1 &\n"
	"     else echo $v > $d/power; fi; done;;\n"
	"*) exit 1;;\n"
	"esac\n";

static int sim_files(struct sim *s)
{
	if (write_file(s->dir, "chassis.sh", 0755, "%s", chassis_script) < 0 ||
	    write_file(s->dir, "power", 0644, "1\n") < 0 ||
	    write_file(s->dir, "sim.emu", 0644,
		       "mc_setbmc 0x20\n"
		       "mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02\n"
		       "mc_enable 0x20\n") < 0)
		return -1;
	return write_file(s->dir, "lan.conf", 0644,
			  "name \"vgtest\"\n"
			  "set_working_mc 0x20\n"
			  "  startlan 1\n"
			  "    addr 127.0.0.1 %d\n"
			  "    priv_limit admin\n"
			  "    allowed_auths_callback none md2 md5 straight\n"
			  "    allowed_auths_user none md2 md5 straight\n"
			  "    allowed_auths_operator none md2 md5 straight\n"
			  "    allowed_auths_admin none md2 md5 straight\n"
			  "    guid a123456789abcdefa123456789abcdef\n"
			  "  endlan\n"
			  "  chassis_control \"%s/chassis.sh %s\"\n"
			  "  user 2 true \"" SIM_USER "\" \"" SIM_PASS "\" admin 10 none md2 md5 straight\n"
			  "  user 3 true \"viewer\" \"viewer-pw\" user 10 none md2 md5 straight\n",
			  s->port, s->dir, s->dir);
}

/* ipmi_sim has its socket when /proc/net/udp lists 127.0.0.1:port. */
static int sim_listening(int port)
{
	char line[256], want[32];
	FILE *fp = fopen("/proc/net/udp", "r");
	int found = 0;

	snprintf(want, sizeof(want), "0100007F:%04X", port);
	while (fp && !found && fgets(line, sizeof(line), fp))
		found = strstr(line, want) != NULL;
	if (fp)
		fclose(fp);
	return found;
}

static int sim_start(struct sim *s)
{
	char conf[128], emu[128], state[128], logf[128];

	memset(s, 0, sizeof(*s));
	snprintf(s->dir, sizeof(s->dir), "/tmp/vg-ipmi.XXXXXX");
	if (!mkdtemp(s->dir))
		return -1;
	sims_track(s, 1);
	if (chmod(s->dir, 0755) < 0)
		return -1;
	s->port = free_udp_port();
	snprintf(state, sizeof(state), "%s/state", s->dir);
	if (s->port < 0 || mkdir(state, 0700) < 0 || sim_files(s) < 0)
		return -1;
	snprintf(conf, sizeof(conf), "%s/lan.conf", s->dir);
	snprintf(emu, sizeof(emu), "%s/sim.emu", s->dir);
	snprintf(logf, sizeof(logf), "%s/sim.log", s->dir);
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		setpgid(0, 0);
		if (!freopen(logf, "w", stdout) || dup2(fileno(stdout), 2) < 0)
			_exit(126);
		execlp("ipmi_sim", "ipmi_sim", "-c", conf, "-f", emu, "-s", state, "-n", (char *)NULL);
		_exit(127);
	}
	setpgid(s->pid, s->pid);
	sims_track(s, 0);
	sims_track(s, 1);   /* now with its pid */
	for (int i = 0; i < 100 && !sim_listening(s->port); i++)
		usleep(50 * 1000);
	if (!sim_listening(s->port)) {
		fprintf(stderr, "ipmi_sim did not bind 127.0.0.1:%d; see %s\n", s->port, logf);
		return -1;
	}
	return 0;
}

static void sim_stop(struct sim *s)
{
	if (!s->dir[0])
		return;
	sims_track(s, 0);
	sim_kill_rm(s);
}

/* How many lines of power.log contain `what`. */
static int power_log_count(const struct sim *s, const char *what)
{
	char path[128], line[128];
	FILE *fp;
	int n = 0;

	snprintf(path, sizeof(path), "%s/power.log", s->dir);
	fp = fopen(path, "r");
	while (fp && fgets(line, sizeof(line), fp))
		n += strstr(line, what) != NULL;
	if (fp)
		fclose(fp);
	return n;
}

/* ipmitool's own view: 1 when "chassis power status" printed `want`. */
static int ipmitool_says(const struct sim *s, const char *want)
{
	char cmd[256], out[256] = "";
	size_t n;
	FILE *p;

	snprintf(cmd, sizeof(cmd), "timeout 20 ipmitool -I lanplus -C 3 -H 127.0.0.1 -p %d -U "
		 SIM_USER " -P " SIM_PASS " chassis power status 2>&1", s->port);
	p = popen(cmd, "r");
	if (!p)
		return 0;
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	pclose(p);
	if (!strstr(out, want))
		fprintf(stderr, "ipmitool said \"%s\", expected \"%s\"\n", out, want);
	return strstr(out, want) != NULL;
}

/* ---- the plugin on a real loop ---- */

struct fx {
	struct vg_logger log;
	struct vg_registry reg;
	struct vg_loop *loop;
	struct vg_host_env env;
	const struct vg_plugin_info *info;
	struct vg_instance_conf ic;
	struct vg_plugin_inst *pi;
	char pwfile[128];
};

struct result {
	int done;
	int status;
	int power;
	char detail[512];
	uint64_t took_ms;
};

static int fx_init(struct fx *f, const struct sim *s, const char *password)
{
	char err[512];

	memset(f, 0, sizeof(*f));
	vg_logger_init(&f->log);
	f->log.level = getenv("VG_TEST_DEBUG") ? VG_LOG_DEBUG : VG_LOG_WARNING;
	vg_registry_init(&f->reg, &f->log);
	if (vg_registry_load_file(&f->reg, IPMI_SO, err, sizeof(err)) < 0) {
		fprintf(stderr, "load %s: %s\n", IPMI_SO, err);
		return -1;
	}
	f->info = vg_registry_find(&f->reg, "ipmi");
	if (!f->info || f->info->kind != VG_KIND_FENCE || vg_loop_new(&f->log, &f->loop) < 0)
		return -1;
	f->env = (struct vg_host_env){ .loop = f->loop, .log = &f->log };
	snprintf(f->pwfile, sizeof(f->pwfile), "%s/pw", s->dir);
	return write_file(s->dir, "pw", 0600, "%s\n", password);
}

/* Fill ic.values: "key", "value", ..., NULL over the declared defaults. */
static int fx_values(struct fx *f, va_list ap0)
{
	const struct vg_plugin_info *info = f->info;
	const char *key, *text;
	char err[256];
	va_list ap;

	f->ic = (struct vg_instance_conf){ .name = "bmc-n1", .plugin = info->name, .info = info,
					   .n_values = info->n_params };
	f->ic.values = calloc(info->n_params, sizeof(*f->ic.values));
	for (size_t i = 0; i < info->n_params; i++) {
		text = info->params[i].def;
		va_copy(ap, ap0);
		while ((key = va_arg(ap, const char *))) {
			const char *val = va_arg(ap, const char *);

			if (strcmp(key, info->params[i].name) == 0)
				text = val;
		}
		va_end(ap);
		if (text && vg_param_parse(&info->params[i], text, &f->ic.values[i], err,
					   sizeof(err)) < 0) {
			fprintf(stderr, "param %s: %s\n", info->params[i].name, err);
			return -1;
		}
	}
	return 0;
}

static void fx_values_free(struct fx *f)
{
	for (size_t i = 0; i < f->ic.n_values; i++)
		free((char *)f->ic.values[i].s);
	free(f->ic.values);
	f->ic.values = NULL;
	f->ic.n_values = 0;
}

/* Validate, then open, an instance with the given params. */
static int fx_open(struct fx *f, ...)
{
	struct vg_instance inst;
	char err[256] = "";
	va_list ap;
	int ret;

	va_start(ap, f);
	ret = fx_values(f, ap);
	va_end(ap);
	if (ret < 0)
		return ret;
	inst = (struct vg_instance){ .name = f->ic.name, .params = f->ic.values,
				     .n_params = f->ic.n_values };
	ret = f->info->ops.fence.validate(&inst, err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "validate: %s\n", err);
		return ret;
	}
	return vg_plugin_inst_open(&f->env, &f->ic, 0, &f->pi);
}

static void fx_free(struct fx *f)
{
	if (f->pi)
		vg_plugin_inst_close(f->pi);
	fx_values_free(f);
	if (f->loop)
		vg_loop_free(f->loop);
	vg_registry_free(&f->reg);
}

static void done_cb(void *arg, int status, int power, const char *detail)
{
	struct result *res = arg;

	res->done = 1;
	res->status = status;
	res->power = power;
	snprintf(res->detail, sizeof(res->detail), "%s", detail ? detail : "");
}

/* Start one action; returns what exec() returned. */
static int fx_exec(struct fx *f, uint32_t action, uint32_t timeout_ms, struct result *res)
{
	struct vg_fence_request req = { .action = action, .target = "n1", .timeout_ms = timeout_ms };
	uint64_t id;
	int ret;

	memset(res, 0, sizeof(*res));
	res->took_ms = vg_loop_update_time(f->loop);
	ret = f->pi->info->ops.fence.exec(f->pi->state, &req, done_cb, res, &id);
	CU_ASSERT_FALSE(res->done); /* never from inside exec() */
	return ret;
}

/* Spin the loop until the result is in (at most limit_ms); returns its status. */
static int fx_wait(struct fx *f, struct result *res, uint64_t limit_ms)
{
	uint64_t start = res->took_ms;

	while (!res->done && vg_loop_now_ms(f->loop) - start < limit_ms)
		vg_loop_run_once(f->loop, 20);
	res->took_ms = vg_loop_update_time(f->loop) - start;
	if (!res->done)
		return -1000;
	if (res->status < 0 || getenv("VG_TEST_DEBUG"))
		fprintf(stderr, "[%u ms] status %d (%s), power %d: %s\n", (unsigned)res->took_ms,
			res->status, strerror(-res->status), res->power, res->detail);
	return res->status;
}

static int fx_run(struct fx *f, uint32_t action, uint32_t timeout_ms, struct result *res)
{
	if (fx_exec(f, action, timeout_ms, res) < 0)
		return -2000;
	return fx_wait(f, res, timeout_ms + 2000);
}

#define NEED_TOOLS()                                                         \
	do {                                                                 \
		if (!have_tools()) {                                         \
			fprintf(stderr, "ipmi_sim or ipmitool missing: skipped\n"); \
			return;                                              \
		}                                                            \
	} while (0)

/*
 * A sim and an instance of the plugin opened on it with extra params.  On
 * failure both are undone before the test returns: no sim outlives it.
 */
#define SETUP(s, f, password, ...)                                                   \
	do {                                                                         \
		NEED_TOOLS();                                                        \
		memset(&(f), 0, sizeof(f));                                          \
		if (sim_start(&(s)) < 0 || fx_init(&(f), &(s), (password)) < 0 ||   \
		    (snprintf(port, sizeof(port), "%d", (s).port),                   \
		     fx_open(&(f), "address", "127.0.0.1", "port", port,             \
			     "user", SIM_USER, "password_file", (f).pwfile,          \
			     ##__VA_ARGS__, NULL)) < 0) {                            \
			CU_FAIL("cannot set up ipmi_sim and the plugin");            \
			fx_free(&(f));                                               \
			sim_stop(&(s));                                              \
			return;                                                      \
		}                                                                    \
	} while (0)

static void test_ipmi_off_on_status_agree_with_ipmitool(void)
{
	struct sim s;
	struct fx f;
	struct result res;
	char port[16];

	SETUP(s, f, SIM_PASS);
	CU_ASSERT_EQUAL(fx_run(&f, VG_FENCE_STATUS, 10000, &res), 0);
	CU_ASSERT_EQUAL(res.power, VG_POWER_ON);

	CU_ASSERT_EQUAL(fx_run(&f, VG_FENCE_OFF, 10000, &res), 0);
	CU_ASSERT_EQUAL(res.power, VG_POWER_OFF);
	fprintf(stderr, "\n  power off confirmed in %u ms (cipher suite 3: %s)\n",
		(unsigned)res.took_ms, res.detail);
	CU_ASSERT(ipmitool_says(&s, "Chassis Power is off"));
	CU_ASSERT_EQUAL(power_log_count(&s, "set power 0"), 1);
	CU_ASSERT_EQUAL(fx_run(&f, VG_FENCE_STATUS, 10000, &res), 0);
	CU_ASSERT_EQUAL(res.power, VG_POWER_OFF);

	/* Already off: confirmed without a second Chassis Control. */
	CU_ASSERT_EQUAL(fx_run(&f, VG_FENCE_OFF, 10000, &res), 0);
	CU_ASSERT_EQUAL(power_log_count(&s, "set power 0"), 1);

	CU_ASSERT_EQUAL(fx_run(&f, VG_FENCE_ON, 10000, &res), 0);
	CU_ASSERT_EQUAL(res.power, VG_POWER_ON);
	CU_ASSERT(ipmitool_says(&s, "Chassis Power is on"));
	fx_free(&f);
	sim_stop(&s);
}

static void test_ipmi_reboot_goes_off_then_on(void)
{
	struct sim s;
	struct fx f;
	struct result res;
	char port[16];

	SETUP(s, f, SIM_PASS);
	CU_ASSERT_EQUAL(fx_run(&f, VG_FENCE_REBOOT, 10000, &res), 0);
	CU_ASSERT_EQUAL(res.power, VG_POWER_ON);
	CU_ASSERT_EQUAL(power_log_count(&s, "set power 0"), 1);
	CU_ASSERT_EQUAL(power_log_count(&s, "set power 1"), 1);
	CU_ASSERT(ipmitool_says(&s, "Chassis Power is on"));
	fx_free(&f);
	sim_stop(&s);
}

static void test_ipmi_reboot_by_power_cycle(void)
{
	struct sim s;
	struct fx f;
	struct result res;
	char port[16];

	/* ipmi_sim's cycle: power 0 now, power 1 a second later. */
	SETUP(s, f, SIM_PASS, "reboot_method", "cycle", "power_wait_ms", "300");
	CU_ASSERT_EQUAL(fx_run(&f, VG_FENCE_REBOOT, 10000, &res), 0);
	CU_ASSERT_EQUAL(res.power, VG_POWER_ON);
	CU_ASSERT_EQUAL(power_log_count(&s, "set power 0"), 1);
	CU_ASSERT_EQUAL(power_log_count(&s, "set power 1"), 1);
	CU_ASSERT(res.took_ms >= 900);   /* it waited to see power back */
	fx_free(&f);
	sim_stop(&s);
}

static void test_ipmi_monitor_list_and_target(void)
{
	struct sim s;
	struct fx f;
	struct result res;
	char port[16];
	struct vg_fence_request req = { .action = VG_FENCE_OFF, .target = "n2", .timeout_ms = 5000 };

	SETUP(s, f, SIM_PASS, "target", "n1");
	CU_ASSERT_EQUAL(fx_run(&f, VG_FENCE_MONITOR, 10000, &res), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.detail, "reachable"));
	CU_ASSERT_EQUAL(power_log_count(&s, "power"), 0);   /* no chassis command */
	CU_ASSERT_EQUAL(fx_run(&f, VG_FENCE_LIST, 10000, &res), 0);
	CU_ASSERT_STRING_EQUAL(res.detail, "n1");
	/* One BMC powers one node: another target is refused at once. */
	CU_ASSERT_EQUAL(f.pi->info->ops.fence.exec(f.pi->state, &req, done_cb, &res, NULL), -EINVAL);
	fx_free(&f);
	sim_stop(&s);
}

static void test_ipmi_cipher_suite_0(void)
{
	struct sim s;
	struct fx f;
	struct result res;
	char port[16];

	SETUP(s, f, SIM_PASS, "cipher_suite", "0");
	CU_ASSERT_EQUAL(fx_run(&f, VG_FENCE_OFF, 10000, &res), 0);
	CU_ASSERT_EQUAL(res.power, VG_POWER_OFF);
	CU_ASSERT(ipmitool_says(&s, "Chassis Power is off"));
	fx_free(&f);
	sim_stop(&s);
}

static void test_ipmi_wrong_password_is_eacces(void)
{
	struct sim s;
	struct fx f;
	struct result res;
	char port[16];

	SETUP(s, f, "not-the-password");
	CU_ASSERT_EQUAL(fx_run(&f, VG_FENCE_OFF, 10000, &res), -EACCES);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.detail, "RAKP 2: BMC refused the credentials"));
	CU_ASSERT(res.took_ms < 10000);
	CU_ASSERT_EQUAL(power_log_count(&s, "set"), 0);
	fx_free(&f);
	sim_stop(&s);
}

static void test_ipmi_unknown_user_is_eacces(void)
{
	struct sim s;
	struct fx f;
	struct result res;
	char port[16];

	SETUP(s, f, SIM_PASS, "user", "nobody");
	CU_ASSERT_EQUAL(fx_run(&f, VG_FENCE_STATUS, 10000, &res), -EACCES);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.detail, "RAKP 2"));
	fx_free(&f);
	sim_stop(&s);
}

static void test_ipmi_user_privilege_cannot_power_off(void)
{
	struct sim s;
	struct fx f;
	struct result res;
	char port[16];

	SETUP(s, f, "viewer-pw", "user", "viewer", "privilege", "user");
	CU_ASSERT_EQUAL(fx_run(&f, VG_FENCE_STATUS, 10000, &res), 0);
	CU_ASSERT_EQUAL(res.power, VG_POWER_ON);
	CU_ASSERT_EQUAL(fx_run(&f, VG_FENCE_OFF, 10000, &res), -EACCES);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.detail, "Chassis Control"));
	CU_ASSERT_EQUAL(power_log_count(&s, "set"), 0);
	fx_free(&f);
	sim_stop(&s);
}

static void test_ipmi_nothing_listening_fails_fast(void)
{
	struct sim s;
	struct fx f;
	struct result res;
	char port[16];
	int st;

	/* A scratch directory only: no ipmi_sim on that port. */
	memset(&s, 0, sizeof(s));
	snprintf(s.dir, sizeof(s.dir), "/tmp/vg-ipmi.XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(s.dir) != NULL);
	sims_track(&s, 1);
	CU_ASSERT_FATAL(fx_init(&f, &s, SIM_PASS) == 0);
	snprintf(port, sizeof(port), "%d", free_udp_port());
	CU_ASSERT_FATAL(fx_open(&f, "address", "127.0.0.1", "port", port, "user", SIM_USER,
				"password_file", f.pwfile, NULL) == 0);
	/* ICMP port unreachable on every try: 3 tries, 1 s apart. */
	st = fx_run(&f, VG_FENCE_OFF, 20000, &res);
	CU_ASSERT(st == -EHOSTUNREACH || st == -ETIMEDOUT);
	CU_ASSERT(res.took_ms < 5000);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.detail, "127.0.0.1 port"));
	CU_ASSERT_PTR_NOT_NULL(strstr(res.detail, "Get Channel Authentication Capabilities"));
	/* The request's own timeout caps the instance's. */
	CU_ASSERT_EQUAL(fx_run(&f, VG_FENCE_STATUS, 1500, &res), -ETIMEDOUT);
	CU_ASSERT(res.took_ms >= 1400 && res.took_ms < 2500);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.detail, "timed out after 1500 ms"));
	fx_free(&f);
	sim_stop(&s);
}

/* Spin the loop until power.log has `n` lines with `what` (at most 10 s). */
static int loop_until_logged(struct fx *f, const struct sim *s, const char *what, int n,
			     const struct result *res)
{
	uint64_t start = vg_loop_update_time(f->loop);

	while (!res->done && power_log_count(s, what) < n &&
	       vg_loop_now_ms(f->loop) - start < 10000)
		vg_loop_run_once(f->loop, 10);
	return power_log_count(s, what) >= n ? 0 : -1;
}

static void test_ipmi_bmc_stopping_mid_session_times_out(void)
{
	struct sim s;
	struct fx f;
	struct result res;
	char port[16];

	/* The power goes off 5 s after the command: the plugin polls meanwhile. */
	SETUP(s, f, SIM_PASS, "power_wait_ms", "300");
	CU_ASSERT_FATAL(write_file(s.dir, "lag", 0644, "5\n") == 0);
	CU_ASSERT_FATAL(fx_exec(&f, VG_FENCE_OFF, 15000, &res) == 0);
	/* Stopped once it polls: the status read before the command, then one after. */
	CU_ASSERT_FATAL(loop_until_logged(&f, &s, "get power", 2, &res) == 0);
	CU_ASSERT_EQUAL(kill(-s.pid, SIGSTOP), 0);
	CU_ASSERT_EQUAL(fx_wait(&f, &res, 17000), -ETIMEDOUT);
	CU_ASSERT(res.took_ms < 8000);   /* 3 tries of a poll, not the whole 15 s */
	CU_ASSERT_PTR_NOT_NULL(strstr(res.detail, "stopped answering at Get Chassis Status"));
	CU_ASSERT_EQUAL(res.power, VG_POWER_UNKNOWN);
	kill(-s.pid, SIGCONT);
	fx_free(&f);
	sim_stop(&s);
}

static void test_ipmi_polls_until_power_is_off(void)
{
	struct sim s;
	struct fx f;
	struct result res;
	char port[16];

	SETUP(s, f, SIM_PASS, "power_wait_ms", "200");
	CU_ASSERT_FATAL(write_file(s.dir, "lag", 0644, "1\n") == 0);
	CU_ASSERT_EQUAL(fx_run(&f, VG_FENCE_OFF, 10000, &res), 0);
	CU_ASSERT_EQUAL(res.power, VG_POWER_OFF);
	CU_ASSERT(res.took_ms >= 1000);
	CU_ASSERT(power_log_count(&s, "get power") >= 4);   /* before, then while it lags */
	/* Power that never changes in time: the request's timeout says where it was. */
	CU_ASSERT_FATAL(write_file(s.dir, "lag", 0644, "30\n") == 0);
	CU_ASSERT_EQUAL(fx_run(&f, VG_FENCE_ON, 2500, &res), -ETIMEDOUT);
	CU_ASSERT_PTR_NOT_NULL(strstr(res.detail, "timed out after 2500 ms (step: "));
	fx_free(&f);
	sim_stop(&s);
}

static void test_ipmi_cancel_reports_ecanceled(void)
{
	struct sim s;
	struct fx f;
	struct result res;
	char port[16];
	struct vg_fence_request req = { .action = VG_FENCE_OFF, .timeout_ms = 10000 };
	uint64_t id;

	SETUP(s, f, SIM_PASS, "power_wait_ms", "300");
	CU_ASSERT_FATAL(write_file(s.dir, "lag", 0644, "5\n") == 0);
	memset(&res, 0, sizeof(res));
	res.took_ms = vg_loop_update_time(f.loop);
	CU_ASSERT_FATAL(f.pi->info->ops.fence.exec(f.pi->state, &req, done_cb, &res, &id) == 0);
	CU_ASSERT_FATAL(loop_until_logged(&f, &s, "set power 0", 1, &res) == 0);
	f.pi->info->ops.fence.cancel(f.pi->state, id);
	CU_ASSERT_FALSE(res.done);   /* reported from the loop */
	CU_ASSERT_EQUAL(fx_wait(&f, &res, 2000), -ECANCELED);
	/* The BMC still serves new sessions: the cancelled one was closed. */
	CU_ASSERT_EQUAL(fx_run(&f, VG_FENCE_MONITOR, 10000, &res), 0);
	fx_free(&f);
	sim_stop(&s);
}

/* validate() on params given as key, value, ..., NULL; its message in err. */
static int validate(struct fx *f, char *err, size_t errlen, ...)
{
	struct vg_instance inst;
	va_list ap;
	int ret;

	va_start(ap, errlen);
	ret = fx_values(f, ap);
	va_end(ap);
	if (ret < 0)
		return -1000;
	inst = (struct vg_instance){ .name = "bmc", .params = f->ic.values, .n_params = f->ic.n_values };
	err[0] = '\0';
	ret = f->info->ops.fence.validate(&inst, err, errlen);
	fx_values_free(f);
	return ret;
}

static void test_ipmi_validate_refuses_bad_config(void)
{
	struct sim s;
	struct fx f;
	char err[256], bad[160];

	memset(&s, 0, sizeof(s));
	snprintf(s.dir, sizeof(s.dir), "/tmp/vg-ipmi.XXXXXX");
	CU_ASSERT_FATAL(mkdtemp(s.dir) != NULL);
	sims_track(&s, 1);
	CU_ASSERT_FATAL(fx_init(&f, &s, SIM_PASS) == 0);
	CU_ASSERT_EQUAL(validate(&f, err, sizeof(err), "address", "10.0.0.9",
				 "password_file", f.pwfile, NULL), 0);
	CU_ASSERT_EQUAL(validate(&f, err, sizeof(err), "address", "fe80::1%lo", NULL), 0);
	CU_ASSERT_EQUAL(validate(&f, err, sizeof(err), "address", "bmc1.example.com", NULL), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "literal"));
	CU_ASSERT_EQUAL(validate(&f, err, sizeof(err), "address", "10.0.0.9",
				 "cipher_suite", "1", NULL), -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "cipher_suite"));
	CU_ASSERT_EQUAL(validate(&f, err, sizeof(err), "address", "10.0.0.9",
				 "user", "a-user-name-of-17b", NULL), -EINVAL);
	snprintf(bad, sizeof(bad), "%s/missing", s.dir);
	CU_ASSERT_EQUAL(validate(&f, err, sizeof(err), "address", "10.0.0.9",
				 "password_file", bad, NULL), -ENOENT);
	CU_ASSERT_EQUAL(chmod(f.pwfile, 0640), 0);
	CU_ASSERT_EQUAL(validate(&f, err, sizeof(err), "address", "10.0.0.9",
				 "password_file", f.pwfile, NULL), -EPERM);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "chmod 600"));
	CU_ASSERT_EQUAL(write_file(s.dir, "pw", 0600, "123456789012345678901\n"), 0);
	CU_ASSERT_EQUAL(validate(&f, err, sizeof(err), "address", "10.0.0.9",
				 "password_file", f.pwfile, NULL), -EINVAL);
	fx_free(&f);
	sim_stop(&s);
}

static CU_TestInfo tests[] = {
	{ "validate_refuses_bad_config", test_ipmi_validate_refuses_bad_config },
	{ "off_on_status_agree_with_ipmitool", test_ipmi_off_on_status_agree_with_ipmitool },
	{ "reboot_goes_off_then_on", test_ipmi_reboot_goes_off_then_on },
	{ "reboot_by_power_cycle", test_ipmi_reboot_by_power_cycle },
	{ "monitor_list_and_target", test_ipmi_monitor_list_and_target },
	{ "cipher_suite_0", test_ipmi_cipher_suite_0 },
	{ "wrong_password_is_eacces", test_ipmi_wrong_password_is_eacces },
	{ "unknown_user_is_eacces", test_ipmi_unknown_user_is_eacces },
	{ "user_privilege_cannot_power_off", test_ipmi_user_privilege_cannot_power_off },
	{ "nothing_listening_fails_fast", test_ipmi_nothing_listening_fails_fast },
	{ "bmc_stopping_mid_session_times_out", test_ipmi_bmc_stopping_mid_session_times_out },
	{ "polls_until_power_is_off", test_ipmi_polls_until_power_is_off },
	{ "cancel_reports_ecanceled", test_ipmi_cancel_reports_ecanceled },
	CU_TEST_INFO_NULL,
};

CU_MAIN("fence_ipmi", tests)
