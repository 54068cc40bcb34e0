/*
 * The serial transport plugin, loaded from the build tree by the real core
 * (registry, param parser, host table, loop): two instances, nodes n1 and
 * n2, on one loop, joined by a pty pair.
 *
 * The pty pair is either socat's (socat -d -d pty,link=DIR/n1 pty,link=DIR/n2),
 * which the tests kill and restart to pull the "cable", or the test's own:
 * two ptys whose masters this program relays, so that it can inject line
 * noise and flip bits on the way.
 */
#include "cu_main.h"
#include "config.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SERIAL_SO TOP_BUILDDIR "/plugins/transport/serial/.libs/serial.so"
#define MAX_FRAME 1400
#define RELAY_BUF 65536

/* socat's pid, global only so that the alarm handler can kill it. */
static volatile pid_t socat_pid = -1;

/* What the core saw from one instance. */
struct node {
	uint32_t id;
	struct vg_logger log;
	struct vg_host_env env;
	struct vg_instance_conf ic;
	struct vg_plugin_inst *pi;
	int verify;              /* 1: frames must be gen(next), gen(next+1..3) counts a loss */
	uint64_t next;           /* index of the frame expected next */
	uint64_t frames, bytes, skipped, bad, bad_from;
	uint64_t link_up, link_down;   /* vg_link_state calls */
	struct timespec last_rx;
	int open_fail_lines, reopen_lines, noise_lines;
	char last_warn[1024];
	char stats[1024];        /* the last "closing"/"device closed" counters line */
	unsigned char last[MAX_FRAME];
	size_t last_len;
};

/* One direction of the test's own relay between two pty masters. */
struct relay_dir {
	int from, to;
	unsigned char buf[RELAY_BUF];
	size_t len, off;
	uint64_t passed;         /* bytes relayed so far */
	uint64_t flip_at;        /* flip bit 0 of the byte at this stream offset; 0: none */
};

struct fx {
	char dir[64];
	struct vg_registry reg;
	struct vg_loop *loop;
	struct vg_config cfg;
	struct vg_node_conf nodes[3];
	char *addrs[3][1];
	struct node n[2];
	int relay;               /* 1: the test relays (masters below), 0: socat */
	int relay_paused;        /* 1: pump() leaves the masters to the test */
	int master[2], slave[2];
	struct relay_dir dir_12, dir_21;
};

static void on_alarm(int sig)
{
	(void)sig;
	if (socat_pid > 0)
		kill(socat_pid, SIGKILL);
	_exit(99);
}

static void log_capture(void *arg, int level, const char *line)
{
	struct node *n = arg;

	if (strstr(line, "cannot open"))
		n->open_fail_lines++;
	if (strstr(line, "reopened"))
		n->reopen_lines++;
	if (strstr(line, "line noise"))
		n->noise_lines++;
	if (level <= VG_LOG_WARNING)
		snprintf(n->last_warn, sizeof(n->last_warn), "%s", line);
	if (strstr(line, "frames in "))
		snprintf(n->stats, sizeof(n->stats), "%s", line);
	if (getenv("SERIAL_TEST_LOG"))
		fprintf(stderr, "n%u: %s\n", n->id, line);
}

/* Frame k: 1..1400 bytes, all 0xC0, all 0xDB, all 0x00 or mixed; unique per k mod 1400. */
static size_t gen(uint64_t k, unsigned char *buf)
{
	size_t len = 1 + (size_t)(k % MAX_FRAME);
	static const unsigned char fill[] = { 0xC0, 0xDB, 0x00 };

	for (size_t i = 0; i < len; i++)
		buf[i] = k % 4 < 3 ? fill[k % 4] : (unsigned char)((k * 31 + i * 7) ^ (i >> 3));
	return len;
}

static int gen_match(uint64_t k, const void *frame, size_t len)
{
	unsigned char want[MAX_FRAME];

	return gen(k, want) == len && memcmp(want, frame, len) == 0;
}

static void rx_cb(void *arg, uint32_t link, const void *frame, size_t len, uint32_t from)
{
	struct node *n = arg;
	uint64_t k;

	(void)link;
	clock_gettime(CLOCK_MONOTONIC, &n->last_rx);
	n->frames++;
	n->bytes += len;
	memcpy(n->last, frame, len);
	n->last_len = len;
	if (from != 3 - n->id)
		n->bad_from++;
	if (!n->verify)
		return;
	for (k = n->next; k < n->next + 4; k++)
		if (gen_match(k, frame, len))
			break;
	if (k == n->next + 4) {
		n->bad++;
		return;
	}
	n->skipped += k - n->next;
	n->next = k + 1;
}

static void link_cb(void *arg, uint32_t link, uint32_t node_id, int up)
{
	struct node *n = arg;

	(void)link;
	if (node_id != 3 - n->id)
		n->bad_from++;
	if (up)
		n->link_up++;
	else
		n->link_down++;
}

/* Two nodes n1, n2 with an address on link 0; a third one (n3) without when `three`. */
static void cfg_build(struct fx *f, int three)
{
	static const char *names[] = { "n1", "n2", "n3" };

	for (int i = 0; i < 3; i++) {
		f->addrs[i][0] = i < 2 ? "serial" : NULL;
		f->nodes[i] = (struct vg_node_conf){ .id = (uint32_t)i + 1, .name = (char *)names[i],
						     .addrs = f->addrs[i], .n_addrs = 1, .votes = 1 };
	}
	f->cfg.nodes = f->nodes;
	f->cfg.n_nodes = three ? 3 : 2;
}

static int fx_init(struct fx *f)
{
	char err[512];

	memset(f, 0, sizeof(*f));
	signal(SIGALRM, on_alarm);
	alarm(90);
	f->master[0] = f->master[1] = f->slave[0] = f->slave[1] = -1;
	for (int i = 0; i < 2; i++) {
		struct node *n = &f->n[i];

		n->id = (uint32_t)i + 1;
		vg_logger_init(&n->log);
		n->log.level = VG_LOG_DEBUG;
		n->log.to_stderr = 0;
		n->log.capture = log_capture;
		n->log.capture_arg = n;
		n->verify = 1;
	}
	vg_registry_init(&f->reg, &f->n[0].log);
	if (vg_registry_load_file(&f->reg, SERIAL_SO, err, sizeof(err)) < 0) {
		fprintf(stderr, "load %s: %s\n", SERIAL_SO, err);
		return -1;
	}
	if (vg_loop_new(&f->n[0].log, &f->loop) < 0)
		return -1;
	cfg_build(f, 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/vg-serial.XXXXXX");
	return mkdtemp(f->dir) ? 0 : -1;
}

/* Open node i (0 or 1) with params "key", "value", ..., NULL over the defaults. */
static int node_open(struct fx *f, int i, ...)
{
	const struct vg_plugin_info *info = vg_registry_find(&f->reg, "serial");
	struct node *n = &f->n[i];
	char err[256], device[128];
	const char *key, *text;
	va_list ap;

	if (!info)
		return -ENOENT;
	snprintf(device, sizeof(device), "%s/%%n", f->dir);
	n->env = (struct vg_host_env){ .loop = f->loop, .log = &n->log, .cfg = &f->cfg,
				       .local_node_id = n->id, .frame_received = rx_cb,
				       .link_state = link_cb, .arg = n };
	n->ic = (struct vg_instance_conf){ .name = "ring9", .plugin = info->name, .info = info,
					   .n_values = info->n_params };
	n->ic.values = calloc(info->n_params, sizeof(*n->ic.values));
	for (size_t p = 0; p < info->n_params; p++) {
		text = strcmp(info->params[p].name, "device") ? info->params[p].def : device;
		va_start(ap, i);
		while ((key = va_arg(ap, const char *))) {
			const char *val = va_arg(ap, const char *);

			if (strcmp(key, info->params[p].name) == 0)
				text = val;
		}
		va_end(ap);
		if (text && vg_param_parse(&info->params[p], text, &n->ic.values[p], err,
					   sizeof(err)) < 0) {
			fprintf(stderr, "param %s: %s\n", info->params[p].name, err);
			return -EINVAL;
		}
	}
	return vg_plugin_inst_open(&n->env, &n->ic, 0, &n->pi);
}

static void node_close(struct node *n)
{
	vg_plugin_inst_close(n->pi);
	n->pi = NULL;
	for (size_t i = 0; i < n->ic.n_values; i++)
		free((char *)n->ic.values[i].s);
	free(n->ic.values);
	n->ic.values = NULL;
	n->ic.n_values = 0;
}

/* ---- socat ---- */

static int links_exist(const char *dir)
{
	char p[128];
	struct stat st;

	snprintf(p, sizeof(p), "%s/n1", dir);
	if (lstat(p, &st) < 0)
		return 0;
	snprintf(p, sizeof(p), "%s/n2", dir);
	return lstat(p, &st) == 0;
}

static int socat_start(const char *dir)
{
	char a[128], b[128], logf[128];
	pid_t pid;
	int fd;

	snprintf(a, sizeof(a), "pty,raw,echo=0,link=%s/n1", dir);
	snprintf(b, sizeof(b), "pty,raw,echo=0,link=%s/n2", dir);
	snprintf(logf, sizeof(logf), "%s/socat.log", dir);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		fd = open(logf, O_WRONLY | O_CREAT | O_APPEND, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp("socat", "socat", "-d", "-d", a, b, (char *)NULL);
		_exit(127);
	}
	socat_pid = pid;
	for (int i = 0; i < 500 && !links_exist(dir); i++)
		usleep(10000);
	if (!links_exist(dir)) {
		fprintf(stderr, "socat did not create %s/n1 and n2 within 5 s (see %s)\n", dir, logf);
		return -ETIMEDOUT;
	}
	return 0;
}

/* SIGTERM, then SIGKILL after 2 s; the links are removed either way. */
static void socat_stop(const char *dir)
{
	char p[128];
	pid_t pid = socat_pid;

	if (pid > 0) {
		kill(pid, SIGTERM);
		for (int i = 0; i < 200 && waitpid(pid, NULL, WNOHANG) == 0; i++)
			usleep(10000);
		if (kill(pid, 0) == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
		}
		socat_pid = -1;
	}
	snprintf(p, sizeof(p), "%s/n1", dir);
	unlink(p);
	snprintf(p, sizeof(p), "%s/n2", dir);
	unlink(p);
}

/* ---- the test's own relay ---- */

static int relay_setup(struct fx *f)
{
	char link[128];

	for (int i = 0; i < 2; i++) {
		f->master[i] = posix_openpt(O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
		if (f->master[i] < 0 || grantpt(f->master[i]) < 0 || unlockpt(f->master[i]) < 0)
			return -1;
		/* Held open so that the master never sees a hang-up before the plugin opens. */
		f->slave[i] = open(ptsname(f->master[i]), O_RDWR | O_NOCTTY | O_CLOEXEC);
		snprintf(link, sizeof(link), "%s/n%d", f->dir, i + 1);
		if (f->slave[i] < 0 || symlink(ptsname(f->master[i]), link) < 0)
			return -1;
	}
	f->dir_12 = (struct relay_dir){ .from = f->master[0], .to = f->master[1] };
	f->dir_21 = (struct relay_dir){ .from = f->master[1], .to = f->master[0] };
	f->relay = 1;
	return 0;
}

static void relay_step(struct relay_dir *d)
{
	ssize_t n;

	if (d->off == d->len) {
		d->off = d->len = 0;
		n = read(d->from, d->buf, sizeof(d->buf));
		if (n <= 0)
			return;
		d->len = (size_t)n;
		if (d->flip_at > d->passed && d->flip_at <= d->passed + d->len) {
			d->buf[d->flip_at - d->passed] ^= 0x01;
			d->flip_at = 0;
		}
		d->passed += d->len;
	}
	n = write(d->to, d->buf + d->off, d->len - d->off);
	if (n > 0)
		d->off += (size_t)n;
}

/* One loop iteration (1 ms at most with the relay, 20 ms with socat). */
static void pump(struct fx *f)
{
	vg_loop_run_once(f->loop, f->relay ? 1 : 20);
	if (f->relay && !f->relay_paused) {
		relay_step(&f->dir_12);
		relay_step(&f->dir_21);
	}
}

/* Pump until *counter reaches `want` or `ms` pass; returns 1 when reached. */
static int pump_until(struct fx *f, const uint64_t *counter, uint64_t want, uint64_t ms)
{
	uint64_t start = vg_loop_update_time(f->loop);

	while (*counter < want && vg_loop_now_ms(f->loop) - start < ms)
		pump(f);
	return *counter >= want;
}

static void pump_for(struct fx *f, uint64_t ms)
{
	uint64_t start = vg_loop_update_time(f->loop);

	while (vg_loop_now_ms(f->loop) - start < ms)
		pump(f);
}

static void fx_free(struct fx *f)
{
	char cmd[128];

	node_close(&f->n[0]);
	node_close(&f->n[1]);
	socat_stop(f->dir);
	for (int i = 0; i < 2; i++) {
		if (f->master[i] >= 0)
			close(f->master[i]);
		if (f->slave[i] >= 0)
			close(f->slave[i]);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (f->dir[0] && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", f->dir);
	if (f->loop)
		vg_loop_free(f->loop);
	vg_registry_free(&f->reg);
	alarm(0);
}

/*
 * Send frames first..first+count-1 from node `from` (0 or 1), waiting on
 * the loop whenever the queue is full.  Returns the number sent.
 */
static uint64_t send_frames(struct fx *f, int from, uint64_t first, uint64_t count)
{
	unsigned char buf[MAX_FRAME];
	uint64_t start = vg_loop_update_time(f->loop), k = first;
	size_t len;
	int ret;

	while (k < first + count && vg_loop_now_ms(f->loop) - start < 20000) {
		len = gen(k, buf);
		ret = vg_plugin_inst_send(f->n[from].pi, VG_NODE_ALL, buf, len);
		if (ret == -EAGAIN) {
			pump(f);
			continue;
		}
		CU_ASSERT_EQUAL(ret, 0);
		if (ret < 0)
			break;
		k++;
	}
	return k - first;
}

/* A stats counter from the last counters line of node n, or -1. */
static long long stat_of(const struct node *n, const char *name)
{
	const char *p = strstr(n->stats, name);

	return p ? atoll(p + strlen(name) + 1) : -1;
}

/* ---- tests ---- */

static void test_serial_frames_of_every_size_arrive_in_order_both_ways(void)
{
	struct fx f;

	if (fx_init(&f) < 0 || socat_start(f.dir) < 0) {
		CU_FAIL("fixture");
		goto out;
	}
	CU_ASSERT_EQUAL(node_open(&f, 0, NULL), 0);
	CU_ASSERT_EQUAL(node_open(&f, 1, NULL), 0);
	if (!f.n[0].pi || !f.n[1].pi)
		goto out;
	CU_ASSERT_EQUAL(vg_plugin_inst_max_frame(f.n[0].pi), MAX_FRAME);
	/* Sizes 1..1400, each direction, while the other direction runs too. */
	CU_ASSERT_EQUAL(send_frames(&f, 0, 0, MAX_FRAME), MAX_FRAME);
	CU_ASSERT_EQUAL(send_frames(&f, 1, 0, MAX_FRAME), MAX_FRAME);
	CU_ASSERT(pump_until(&f, &f.n[1].frames, MAX_FRAME, 10000));
	CU_ASSERT(pump_until(&f, &f.n[0].frames, MAX_FRAME, 10000));
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(f.n[i].next, MAX_FRAME);
		CU_ASSERT_EQUAL(f.n[i].frames, MAX_FRAME);
		CU_ASSERT_EQUAL(f.n[i].skipped, 0);
		CU_ASSERT_EQUAL(f.n[i].bad, 0);
		CU_ASSERT_EQUAL(f.n[i].bad_from, 0);
		CU_ASSERT_EQUAL(f.n[i].link_up, 1);
		CU_ASSERT_EQUAL(f.n[i].link_down, 0);
	}
	node_close(&f.n[0]);
	node_close(&f.n[1]);
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(stat_of(&f.n[i], "frames in"), MAX_FRAME);
		CU_ASSERT_EQUAL(stat_of(&f.n[i], "bad crc"), 0);
		CU_ASSERT_EQUAL(stat_of(&f.n[i], "garbage bytes"), 0);
	}
out:
	fx_free(&f);
}

/* Write `len` bytes straight into the line towards node 2, pumping while it is full. */
static void inject(struct fx *f, const unsigned char *buf, size_t len)
{
	uint64_t start = vg_loop_update_time(f->loop);
	ssize_t n;

	while (len && vg_loop_now_ms(f->loop) - start < 5000) {
		n = write(f->master[1], buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		}
		pump(f);
	}
	CU_ASSERT_EQUAL(len, 0);
}

/* Noise between frames: random bytes (with delimiters and escapes), then a long run. */
static void noise_between_frames(struct fx *f)
{
	unsigned char junk[3000];
	uint32_t x = 12345;

	for (size_t i = 0; i < 512; i++) {
		x = x * 1103515245u + 12345u;
		junk[i] = (unsigned char)(x >> 16);
	}
	junk[100] = 0xC0;
	junk[200] = 0xDB;
	junk[201] = 0x41;            /* a bad escape */
	junk[300] = 0xC0;
	inject(f, junk, 512);
	CU_ASSERT_EQUAL(send_frames(f, 0, 10, 10), 10);
	CU_ASSERT(pump_until(f, &f->n[1].frames, 20, 3000));
	memset(junk, 0x55, sizeof(junk));   /* over-long: no delimiter for 3000 bytes */
	inject(f, junk, sizeof(junk));
	CU_ASSERT_EQUAL(send_frames(f, 0, 20, 10), 10);
	CU_ASSERT(pump_until(f, &f->n[1].frames, 30, 3000));
}

/* One bit flipped inside frames 500 (all 0xC0), 502 (all 0x00) and 503 (mixed). */
static void bit_flips_inside_frames(struct fx *f)
{
	struct node *n2 = &f->n[1];
	uint64_t want;

	n2->next = 500;
	for (uint64_t k = 500; k < 510; k++) {
		int flip = k == 500 || k == 502 || k == 503;

		if (flip)
			f->dir_12.flip_at = f->dir_12.passed + 100;
		want = n2->frames + !flip;
		CU_ASSERT_EQUAL(send_frames(f, 0, k, 1), 1);
		if (flip)
			pump_for(f, 50);
		else
			CU_ASSERT(pump_until(f, &n2->frames, want, 2000));
	}
	CU_ASSERT_EQUAL(n2->frames, 37);
	CU_ASSERT_EQUAL(n2->skipped, 3);
	CU_ASSERT_EQUAL(n2->next, 510);
}

static void test_serial_noise_and_bit_flips_are_dropped_and_counted(void)
{
	struct fx f;
	long long errs;

	if (fx_init(&f) < 0 || relay_setup(&f) < 0) {
		CU_FAIL("fixture");
		goto out;
	}
	CU_ASSERT_EQUAL(node_open(&f, 0, NULL), 0);
	CU_ASSERT_EQUAL(node_open(&f, 1, NULL), 0);
	if (!f.n[0].pi || !f.n[1].pi)
		goto out;
	CU_ASSERT_EQUAL(send_frames(&f, 0, 0, 10), 10);
	CU_ASSERT(pump_until(&f, &f.n[1].frames, 10, 3000));
	noise_between_frames(&f);
	bit_flips_inside_frames(&f);
	CU_ASSERT_EQUAL(send_frames(&f, 1, 0, 10), 10);
	CU_ASSERT(pump_until(&f, &f.n[0].frames, 10, 3000));
	CU_ASSERT_EQUAL(f.n[1].bad, 0);
	CU_ASSERT_EQUAL(f.n[0].bad + f.n[0].skipped, 0);
	/* Every discarded frame came within 10 s: one warning, the rest counted. */
	CU_ASSERT_EQUAL(f.n[1].noise_lines, 1);
	node_close(&f.n[0]);
	node_close(&f.n[1]);
	errs = stat_of(&f.n[1], "bad crc") + stat_of(&f.n[1], "runts") +
	       stat_of(&f.n[1], "bad escapes");
	printf("\n    n2 counters: %s\n    ", f.n[1].stats);
	CU_ASSERT(stat_of(&f.n[1], "bad crc") >= 3);
	CU_ASSERT(stat_of(&f.n[1], "bad escapes") >= 1);
	CU_ASSERT(errs >= 5);
	CU_ASSERT_EQUAL(stat_of(&f.n[1], "oversize"), 1);
	CU_ASSERT(stat_of(&f.n[1], "garbage bytes") >= 3000 + 500);
	CU_ASSERT_EQUAL(stat_of(&f.n[1], "frames in"), 37);
	CU_ASSERT_EQUAL(stat_of(&f.n[0], "bad crc"), 0);
	CU_ASSERT_EQUAL(stat_of(&f.n[0], "garbage bytes"), 0);
out:
	fx_free(&f);
}

/* Send one frame each way every loop turn until both sides count `want` link-ups. */
static int exchange_until_up(struct fx *f, uint64_t want, uint64_t ms)
{
	uint64_t start = vg_loop_update_time(f->loop);
	unsigned char buf[MAX_FRAME];
	size_t len = gen(7, buf);

	while ((f->n[0].link_up < want || f->n[1].link_up < want) &&
	       vg_loop_now_ms(f->loop) - start < ms) {
		vg_plugin_inst_send(f->n[0].pi, 2, buf, len);
		vg_plugin_inst_send(f->n[1].pi, 1, buf, len);
		pump(f);
	}
	return f->n[0].link_up >= want && f->n[1].link_up >= want;
}

static void test_serial_pulled_line_goes_down_and_comes_back(void)
{
	unsigned char buf[MAX_FRAME];
	size_t len = gen(7, buf);
	struct fx f;

	if (fx_init(&f) < 0 || socat_start(f.dir) < 0) {
		CU_FAIL("fixture");
		goto out;
	}
	CU_ASSERT_EQUAL(node_open(&f, 0, "reopen_ms", "100", NULL), 0);
	CU_ASSERT_EQUAL(node_open(&f, 1, "reopen_ms", "100", NULL), 0);
	if (!f.n[0].pi || !f.n[1].pi)
		goto out;
	f.n[0].verify = f.n[1].verify = 0;
	CU_ASSERT(exchange_until_up(&f, 1, 3000));
	/* Both ptys vanish: each side sees a hang-up and says the link is down. */
	socat_stop(f.dir);
	CU_ASSERT(pump_until(&f, &f.n[0].link_down, 1, 3000));
	CU_ASSERT(pump_until(&f, &f.n[1].link_down, 1, 3000));
	CU_ASSERT_EQUAL(vg_plugin_inst_send(f.n[0].pi, 2, buf, len), -ENOTCONN);
	CU_ASSERT_EQUAL(vg_plugin_inst_send(f.n[1].pi, VG_NODE_ALL, buf, len), -ENOTCONN);
	/* About 6 reopen attempts each; the failure is logged once. */
	pump_for(&f, 650);
	CU_ASSERT_EQUAL(f.n[0].open_fail_lines, 1);
	CU_ASSERT_EQUAL(f.n[1].open_fail_lines, 1);
	/* The cable is back: both reopen and frames flow again. */
	if (socat_start(f.dir) < 0) {
		CU_FAIL("socat restart");
		goto out;
	}
	CU_ASSERT(exchange_until_up(&f, 2, 5000));
	CU_ASSERT_EQUAL(f.n[0].reopen_lines, 1);
	CU_ASSERT_EQUAL(f.n[1].reopen_lines, 1);
	pump_for(&f, 200);
	for (int i = 0; i < 2; i++) {
		f.n[i].verify = 1;
		f.n[i].next = 1000;
		f.n[i].frames = 0;
	}
	CU_ASSERT_EQUAL(send_frames(&f, 0, 1000, 50), 50);
	CU_ASSERT_EQUAL(send_frames(&f, 1, 1000, 50), 50);
	CU_ASSERT(pump_until(&f, &f.n[1].frames, 50, 3000));
	CU_ASSERT(pump_until(&f, &f.n[0].frames, 50, 3000));
	for (int i = 0; i < 2; i++) {
		CU_ASSERT_EQUAL(f.n[i].next, 1050);
		CU_ASSERT_EQUAL(f.n[i].skipped + f.n[i].bad + f.n[i].bad_from, 0);
		CU_ASSERT_EQUAL(f.n[i].link_down, 1);
	}
out:
	fx_free(&f);
}

static void test_serial_peer_is_the_other_node_on_the_line(void)
{
	unsigned char buf[MAX_FRAME + 1] = { 0 };
	char want[160];
	struct fx f;

	if (fx_init(&f) < 0) {
		CU_FAIL("fixture");
		goto out;
	}
	/* n3 has no address on the link: n1 refuses to send to it. */
	cfg_build(&f, 1);
	CU_ASSERT_EQUAL(node_open(&f, 0, NULL), 0);
	if (!f.n[0].pi)
		goto out;
	snprintf(want, sizeof(want), "cannot open %s/n1:", f.dir);   /* "%n" expanded */
	CU_ASSERT_PTR_NOT_NULL(strstr(f.n[0].last_warn, want));
	CU_ASSERT_EQUAL(vg_plugin_inst_send(f.n[0].pi, 3, buf, 10), -ENOTCONN);
	CU_ASSERT_EQUAL(vg_plugin_inst_send(f.n[0].pi, 1, buf, 10), -ENOTCONN);
	CU_ASSERT_EQUAL(vg_plugin_inst_send(f.n[0].pi, 2, buf, MAX_FRAME + 1), -EMSGSIZE);
	CU_ASSERT_EQUAL(vg_plugin_inst_send(f.n[0].pi, 2, buf, 0), -EINVAL);
	/* Device not there yet: no path now. */
	CU_ASSERT_EQUAL(vg_plugin_inst_send(f.n[0].pi, 2, buf, 10), -ENOTCONN);
	node_close(&f.n[0]);
	/* n3 itself is not on the line: it opens idle. */
	f.n[1].id = 3;
	CU_ASSERT_EQUAL(node_open(&f, 1, NULL), 0);
	if (f.n[1].pi) {
		CU_ASSERT_EQUAL(vg_plugin_inst_send(f.n[1].pi, VG_NODE_ALL, buf, 10), 0);
		CU_ASSERT_EQUAL(vg_plugin_inst_send(f.n[1].pi, 1, buf, 10), -ENOTCONN);
	}
	node_close(&f.n[1]);
	/* Three nodes with an address: not a point-to-point line. */
	f.addrs[2][0] = "serial";
	CU_ASSERT_EQUAL(node_open(&f, 0, NULL), -EINVAL);
	node_close(&f.n[0]);
	/* No address anywhere in a two-node cluster: the other node is the peer. */
	cfg_build(&f, 0);
	f.addrs[0][0] = f.addrs[1][0] = NULL;
	CU_ASSERT_EQUAL(node_open(&f, 0, NULL), 0);
	node_close(&f.n[0]);
out:
	fx_free(&f);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t ns_between(const struct timespec *a, const struct timespec *b)
{
	return (uint64_t)(b->tv_sec - a->tv_sec) * 1000000000u + (uint64_t)b->tv_nsec -
	       (uint64_t)a->tv_nsec;
}

/* Figures for bench/transport, printed, not asserted: ptys ignore the baud rate. */
static void test_serial_figures_over_a_socat_pty_pair(void)
{
	enum { N_LAT = 300, N_THR = 3000 };
	static uint64_t lat[N_LAT];
	unsigned char buf[100];
	struct timespec t0, t1;
	struct fx f;
	double s;

	if (fx_init(&f) < 0 || socat_start(f.dir) < 0) {
		CU_FAIL("fixture");
		goto out;
	}
	CU_ASSERT_EQUAL(node_open(&f, 0, NULL), 0);
	CU_ASSERT_EQUAL(node_open(&f, 1, NULL), 0);
	if (!f.n[0].pi || !f.n[1].pi)
		goto out;
	f.n[1].verify = 0;
	memset(buf, 0x5a, sizeof(buf));
	for (int i = 0; i < N_LAT; i++) {
		uint64_t want = f.n[1].frames + 1;

		clock_gettime(CLOCK_MONOTONIC, &t0);
		CU_ASSERT_EQUAL(vg_plugin_inst_send(f.n[0].pi, 2, buf, sizeof(buf)), 0);
		CU_ASSERT(pump_until(&f, &f.n[1].frames, want, 1000));
		lat[i] = ns_between(&t0, &f.n[1].last_rx);
	}
	qsort(lat, N_LAT, sizeof(lat[0]), cmp_u64);
	printf("\n    100-byte frame one way n1->n2 over socat ptys, %d samples: p50 %.1f us, p90 %.1f us, p99 %.1f us, max %.1f us\n",
	       N_LAT, lat[N_LAT / 2] / 1e3, lat[N_LAT * 9 / 10] / 1e3, lat[N_LAT * 99 / 100] / 1e3,
	       lat[N_LAT - 1] / 1e3);
	f.n[1].frames = f.n[1].bytes = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (uint64_t k = 0; k < N_THR; k++)
		CU_ASSERT_EQUAL(send_frames(&f, 0, 1399 + k * MAX_FRAME, 1), 1);   /* all 1400 bytes */
	CU_ASSERT(pump_until(&f, &f.n[1].frames, N_THR, 20000));
	clock_gettime(CLOCK_MONOTONIC, &t1);
	s = ns_between(&t0, &t1) / 1e9;
	printf("    %d frames of 1400 bytes n1->n2: %.2f s, %.0f frames/s, %.1f MB/s of payload\n    ",
	       N_THR, s, N_THR / s, N_THR * 1400.0 / s / 1e6);
	CU_ASSERT_EQUAL(f.n[1].frames, N_THR);
	CU_ASSERT_EQUAL(f.n[1].bytes, (uint64_t)N_THR * MAX_FRAME);
out:
	fx_free(&f);
}

/* The example of docs/plugins/serial.md, byte for byte, both ways. */
static void test_serial_wire_format_is_the_documented_one(void)
{
	static const unsigned char payload[] = { 0x01, 0xC0, 0xDB, 0x02 };
	static const unsigned char wire[] = { 0xC0, 0x01, 0xDB, 0xDC, 0xDB, 0xDD, 0x02,
					      0x84, 0x95, 0x53, 0xC1, 0xC0 };
	unsigned char got[64];
	ssize_t n = 0;
	struct fx f;

	if (fx_init(&f) < 0 || relay_setup(&f) < 0) {
		CU_FAIL("fixture");
		goto out;
	}
	CU_ASSERT_EQUAL(node_open(&f, 0, NULL), 0);
	CU_ASSERT_EQUAL(node_open(&f, 1, NULL), 0);
	if (!f.n[0].pi || !f.n[1].pi)
		goto out;
	f.relay_paused = 1;
	f.n[1].verify = 0;
	CU_ASSERT_EQUAL(vg_plugin_inst_send(f.n[0].pi, 2, payload, sizeof(payload)), 0);
	for (int i = 0; i < 100 && n <= 0; i++) {
		pump(&f);
		n = read(f.master[0], got, sizeof(got));
	}
	CU_ASSERT_EQUAL(n, sizeof(wire));
	CU_ASSERT(n == sizeof(wire) && memcmp(got, wire, sizeof(wire)) == 0);
	inject(&f, wire, sizeof(wire));
	CU_ASSERT(pump_until(&f, &f.n[1].frames, 1, 2000));
	CU_ASSERT_EQUAL(f.n[1].last_len, sizeof(payload));
	CU_ASSERT(memcmp(f.n[1].last, payload, sizeof(payload)) == 0);
out:
	fx_free(&f);
}

static CU_TestInfo tests[] = {
	{ "wire format is the documented one", test_serial_wire_format_is_the_documented_one },
	{ "frames of every size arrive in order both ways",
	  test_serial_frames_of_every_size_arrive_in_order_both_ways },
	{ "noise and bit flips are dropped and counted",
	  test_serial_noise_and_bit_flips_are_dropped_and_counted },
	{ "pulled line goes down and comes back", test_serial_pulled_line_goes_down_and_comes_back },
	{ "peer is the other node on the line", test_serial_peer_is_the_other_node_on_the_line },
	{ "figures over a socat pty pair", test_serial_figures_over_a_socat_pty_pair },
	CU_TEST_INFO_NULL,
};

CU_MAIN("serial", tests)
