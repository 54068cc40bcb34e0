/*
 * The tls transport, loaded from the build tree by the real core (registry,
 * config value parser, host table, loop).  One loop hosts three instances
 * as nodes n1..n3 on 127.0.0.1..3, each with its own host env; certificates
 * come from scripts/vigil-tls-certs in a temporary directory.
 *
 * Every test runs a 10 ms repeating timer while it spins the loop and fails
 * when two ticks are more than 50 ms apart (not counting time the scheduler
 * kept the process off the CPU): nothing the plugin does, handshakes
 * included, may block the loop.
 */
#include "cu_main.h"
#include "config.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TLS_SO TOP_BUILDDIR "/plugins/transport/tls/.libs/tls.so"
#define N_NODES 3
#define MAX_GAP_MS 50

/* Written once by certs_dir(), removed at exit. */
static char certs[64];

struct rxf {
	uint32_t from;
	size_t len;
	unsigned char *data;
};

struct mesh;

/* One node: its env, its instance, what it was told. */
struct node {
	struct mesh *m;
	uint32_t id;
	struct vg_host_env env;
	struct vg_instance_conf ic;
	struct vg_plugin_inst *pi;
	int up[N_NODES + 1];      /* link state per peer id */
	int ups[N_NODES + 1];     /* times reported up */
	int downs[N_NODES + 1];
	struct rxf *rx;
	size_t n_rx, cap_rx;
	int echo;                 /* send every frame back to its sender */
	int pings;                /* ping mode: round trips left */
	uint64_t ping_sent_ns;
	uint64_t *rtt_ns;
	size_t n_rtt;
};

struct mesh {
	struct vg_logger log;
	struct vg_registry reg;
	struct vg_loop *loop;
	const struct vg_plugin_info *info;
	struct vg_config cfg;
	struct vg_node_conf nc[N_NODES];
	char *addrs[N_NODES][1];
	struct node n[N_NODES + 1];  /* n[1..3] */
	char port[8];
	char lines[64][512];         /* warnings and errors, in order */
	size_t n_lines;
	struct vg_timer *tick;
	uint64_t last_tick_ns, last_delay_ns, max_gap_ns;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void certs_rm(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", certs);
	if (certs[0] && system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", certs);
}

/* The certificate directory: CA, n1..n3, expired/n3, ca2/n1..n3. */
static const char *certs_dir(void)
{
	const char *src = getenv("TOP_SRCDIR");
	char cmd[512];

	if (certs[0])
		return certs;
	snprintf(certs, sizeof(certs), "/tmp/vg-tls-test.XXXXXX");
	if (!mkdtemp(certs))
		return NULL;
	atexit(certs_rm);
	snprintf(cmd, sizeof(cmd), "'%s/scripts/vigil-tls-certs' --expired n3 --ca2 '%s' n1 n2 n3 >/dev/null",
		 src ? src : TESTS_SRCDIR "/..", certs);
	return system(cmd) == 0 ? certs : NULL;
}

static void capture_cb(void *arg, int level, const char *line)
{
	struct mesh *m = arg;

	if (level <= VG_LOG_WARNING && m->n_lines < 64)
		snprintf(m->lines[m->n_lines++], sizeof(m->lines[0]), "%s", line);
}

/* The first captured line containing every given fragment (NULL-ended), or NULL. */
static const char *line_find(struct mesh *m, ...)
{
	const char *frag;
	va_list ap;
	int ok;

	for (size_t i = 0; i < m->n_lines; i++) {
		ok = 1;
		va_start(ap, m);
		while ((frag = va_arg(ap, const char *)))
			ok = ok && strstr(m->lines[i], frag);
		va_end(ap);
		if (ok)
			return m->lines[i];
	}
	return NULL;
}

static void frame_cb(void *arg, uint32_t link, const void *frame, size_t len, uint32_t from)
{
	struct node *nd = arg;
	struct rxf *r;

	if (nd->echo) {
		vg_plugin_inst_send(nd->pi, from, frame, len);
		return;
	}
	if (nd->pings) {
		nd->rtt_ns[nd->n_rtt++] = mono_ns() - nd->ping_sent_ns;
		if (--nd->pings > 0) {
			nd->ping_sent_ns = mono_ns();
			vg_plugin_inst_send(nd->pi, from, frame, len);
		}
		return;
	}
	if (nd->n_rx == nd->cap_rx) {
		nd->cap_rx = nd->cap_rx ? 2 * nd->cap_rx : 256;
		nd->rx = realloc(nd->rx, nd->cap_rx * sizeof(*nd->rx));
	}
	r = &nd->rx[nd->n_rx++];
	r->from = from;
	r->len = len;
	r->data = malloc(len);
	memcpy(r->data, frame, len);
}

static void link_cb(void *arg, uint32_t link, uint32_t node_id, int up)
{
	struct node *nd = arg;

	if (node_id > N_NODES)
		return;
	nd->up[node_id] = up;
	if (up)
		nd->ups[node_id]++;
	else
		nd->downs[node_id]++;
}

/* Time this thread spent runnable but waiting for a CPU (schedstat), 0 if unknown. */
static uint64_t run_delay_ns(void)
{
	unsigned long long cpu = 0, wait = 0;
	FILE *fp = fopen("/proc/thread-self/schedstat", "r");

	if (fp) {
		if (fscanf(fp, "%llu %llu", &cpu, &wait) != 2)
			wait = 0;
		fclose(fp);
	}
	return wait;
}

/*
 * The gap between two ticks, minus the time the scheduler kept us off the
 * CPU (a loaded build machine): what is left is time the loop was held up
 * by the code it ran, a blocking call included.
 */
static void tick_cb(void *arg)
{
	struct mesh *m = arg;
	uint64_t now = mono_ns(), delay = run_delay_ns(), gap;

	if (m->last_tick_ns) {
		gap = now - m->last_tick_ns;
		gap -= delay - m->last_delay_ns < gap ? delay - m->last_delay_ns : gap;
		if (gap > m->max_gap_ns)
			m->max_gap_ns = gap;
	}
	m->last_tick_ns = now;
	m->last_delay_ns = delay;
}

static int mesh_init(struct mesh *m)
{
	static const char *names[N_NODES] = { "n1", "n2", "n3" };
	static char addr_text[N_NODES][16];
	static int port_seq;
	char err[512];

	memset(m, 0, sizeof(*m));
	vg_logger_init(&m->log);
	m->log.level = getenv("VG_TEST_VERBOSE") ? VG_LOG_DEBUG : VG_LOG_NOTICE;
	m->log.to_stderr = getenv("VG_TEST_VERBOSE") != NULL;
	m->log.capture = capture_cb;
	m->log.capture_arg = m;
	vg_registry_init(&m->reg, &m->log);
	if (!certs_dir() || vg_registry_load_file(&m->reg, TLS_SO, err, sizeof(err)) < 0) {
		fprintf(stderr, "\n  setup: %s\n", certs[0] ? err : "cannot create certificates");
		return -1;
	}
	m->info = vg_registry_find(&m->reg, "tls");
	if (!m->info || vg_loop_new(&m->log, &m->loop) < 0)
		return -1;
	for (int i = 0; i < N_NODES; i++) {
		snprintf(addr_text[i], sizeof(addr_text[i]), "127.0.0.%d", i + 1);
		m->addrs[i][0] = addr_text[i];
		m->nc[i] = (struct vg_node_conf){ .id = (uint32_t)i + 1, .name = (char *)names[i],
						  .addrs = m->addrs[i], .n_addrs = 1, .votes = 1 };
	}
	m->cfg.nodes = m->nc;
	m->cfg.n_nodes = N_NODES;
	/* Below the ephemeral range (32768..), so no outgoing connection holds it. */
	snprintf(m->port, sizeof(m->port), "%d", 20000 + (int)(getpid() % 800) * 16 + port_seq++ % 16);
	for (uint32_t id = 1; id <= N_NODES; id++) {
		m->n[id] = (struct node){ .m = m, .id = id };
		m->n[id].env = (struct vg_host_env){ .loop = m->loop, .log = &m->log, .cfg = &m->cfg,
						     .local_node_id = id, .frame_received = frame_cb,
						     .link_state = link_cb, .arg = &m->n[id] };
	}
	return vg_loop_timer_start(m->loop, 10, 10, tick_cb, m, NULL, &m->tick);
}

static void node_close(struct node *nd)
{
	vg_plugin_inst_close(nd->pi);
	nd->pi = NULL;
	for (size_t i = 0; i < nd->ic.n_values; i++)
		free((char *)nd->ic.values[i].s);
	free(nd->ic.values);
	nd->ic.values = NULL;
	nd->ic.n_values = 0;
}

static void mesh_free(struct mesh *m)
{
	for (int id = 1; id <= N_NODES; id++) {
		struct node *nd = &m->n[id];

		node_close(nd);
		for (size_t i = 0; i < nd->n_rx; i++)
			free(nd->rx[i].data);
		free(nd->rx);
		free(nd->rtt_ns);
	}
	if (m->loop)
		vg_loop_free(m->loop);
	vg_registry_free(&m->reg);
}

/*
 * Open node `id` with params "key", "value", ..., NULL over the defaults
 * ca, cert, key (templates with %n in the cert directory) and the port.
 */
static int node_open(struct mesh *m, uint32_t id, ...)
{
	const struct vg_plugin_info *info = m->info;
	struct node *nd = &m->n[id];
	char ca[128], cert[128], key[128], err[256];
	const char *k, *text;
	va_list ap;

	snprintf(ca, sizeof(ca), "%s/ca.crt", certs);
	snprintf(cert, sizeof(cert), "%s/%%n.crt", certs);
	snprintf(key, sizeof(key), "%s/%%n.key", certs);
	nd->ic = (struct vg_instance_conf){ .name = "ring0", .plugin = info->name, .info = info,
					    .n_values = info->n_params };
	nd->ic.values = calloc(info->n_params, sizeof(*nd->ic.values));
	for (size_t i = 0; i < info->n_params; i++) {
		const char *pn = info->params[i].name;

		text = !strcmp(pn, "ca") ? ca : !strcmp(pn, "cert") ? cert :
		       !strcmp(pn, "key") ? key : !strcmp(pn, "port") ? m->port : info->params[i].def;
		va_start(ap, id);
		while ((k = va_arg(ap, const char *))) {
			const char *v = va_arg(ap, const char *);

			if (!strcmp(k, pn))
				text = v;
		}
		va_end(ap);
		if (text && vg_param_parse(&info->params[i], text, &nd->ic.values[i], err,
					   sizeof(err)) < 0) {
			fprintf(stderr, "param %s: %s\n", pn, err);
			return -1;
		}
	}
	memset(nd->up, 0, sizeof(nd->up));
	if (vg_plugin_inst_open(&nd->env, &nd->ic, 0, &nd->pi) < 0) {
		fprintf(stderr, "\n  open n%u: %s\n", id, m->n_lines ? m->lines[m->n_lines - 1] : "?");
		return -1;
	}
	return 0;
}

/* Spin the loop until cond(m) or timeout; gaps between ticks count only here. */
static int run_until(struct mesh *m, int (*cond)(struct mesh *), uint64_t timeout_ms)
{
	uint64_t end = mono_ns() + timeout_ms * 1000000u;

	m->last_tick_ns = 0;
	while (!(cond && cond(m)) && mono_ns() < end)
		vg_loop_run_once(m->loop, 10);
	m->last_tick_ns = 0;
	return cond ? cond(m) : 1;
}

static int all_up(struct mesh *m)
{
	for (int a = 1; a <= N_NODES; a++)
		for (int b = 1; b <= N_NODES; b++)
			if (a != b && (!m->n[a].pi || !m->n[b].pi || !m->n[a].up[b]))
				return 0;
	return 1;
}

/* Frame k of stream `s`: 1..1400 bytes, "VGL1" first as real frames, then noise. */
static size_t frame_gen(uint32_t s, uint32_t k, unsigned char *buf)
{
	uint32_t x = s * 2654435761u ^ (k + 1) * 40503u, i;
	size_t len;

	x ^= x << 13; x ^= x >> 17; x ^= x << 5;
	len = 1 + x % 1400;
	for (i = 0; i < len; i++) {
		x ^= x << 13; x ^= x >> 17; x ^= x << 5;
		buf[i] = (unsigned char)x;
	}
	if (len >= 4)
		memcpy(buf, "VGL1", 4);
	return len;
}

/* Send frame k of stream s, spinning the loop while the transport says -EAGAIN. */
static int send_gen(struct mesh *m, uint32_t from, uint32_t to, uint32_t s, uint32_t k)
{
	unsigned char buf[1400];
	size_t len = frame_gen(s, k, buf);
	int ret, tries = 0;

	while ((ret = vg_plugin_inst_send(m->n[from].pi, to, buf, len)) == -EAGAIN && tries++ < 1000)
		vg_loop_run_once(m->loop, 1);
	return ret;
}

static size_t n_from(struct node *nd, uint32_t from)
{
	size_t c = 0;

	for (size_t i = 0; i < nd->n_rx; i++)
		c += nd->rx[i].from == from;
	return c;
}

/* The frames nd got from `from` are exactly stream s, frames 0..count-1, in order. */
static int stream_ok(struct node *nd, uint32_t from, uint32_t s, uint32_t count)
{
	unsigned char buf[1400];
	uint32_t k = 0;
	size_t len;

	for (size_t i = 0; i < nd->n_rx; i++) {
		if (nd->rx[i].from != from)
			continue;
		len = frame_gen(s, k++, buf);
		if (nd->rx[i].len != len || memcmp(nd->rx[i].data, buf, len)) {
			fprintf(stderr, "\n  node %u: frame %u from %u differs (len %zu, expected %zu)\n",
				nd->id, k - 1, from, nd->rx[i].len, len);
			return 0;
		}
	}
	return k == count;
}

static size_t want_frames;     /* for frames_arrived() */

static int frames_arrived(struct mesh *m)
{
	size_t total = 0;

	for (int id = 1; id <= N_NODES; id++)
		total += m->n[id].n_rx;
	return total >= want_frames;
}

static int open_all(struct mesh *m)
{
	for (uint32_t id = 1; id <= N_NODES; id++)
		if (node_open(m, id, NULL) < 0)
			return -1;
	return 0;
}

static void test_tls_mesh_carries_frames_in_order_with_sender(void)
{
	struct mesh m;
	const uint32_t per = 400;

	CU_ASSERT_FATAL(mesh_init(&m) == 0);
	CU_ASSERT_FATAL(open_all(&m) == 0);
	CU_ASSERT_TRUE(run_until(&m, all_up, 5000));
	/* Back to back, three streams at once: 1->2, 3->1, 2->3. */
	for (uint32_t k = 0; k < per; k++) {
		CU_ASSERT_EQUAL(send_gen(&m, 1, 2, 12, k), 0);
		CU_ASSERT_EQUAL(send_gen(&m, 3, 1, 31, k), 0);
		CU_ASSERT_EQUAL(send_gen(&m, 2, 3, 23, k), 0);
	}
	want_frames = 3 * per;
	CU_ASSERT_TRUE(run_until(&m, frames_arrived, 10000));
	CU_ASSERT_TRUE(stream_ok(&m.n[2], 1, 12, per));
	CU_ASSERT_TRUE(stream_ok(&m.n[1], 3, 31, per));
	CU_ASSERT_TRUE(stream_ok(&m.n[3], 2, 23, per));
	CU_ASSERT_EQUAL(n_from(&m.n[1], 2), 0);
	/* Broadcast from n2 reaches n1 and n3 only. */
	for (uint32_t k = 0; k < 50; k++)
		CU_ASSERT_EQUAL(send_gen(&m, 2, VG_NODE_ALL, 99, k), 0);
	want_frames = 3 * per + 100;
	CU_ASSERT_TRUE(run_until(&m, frames_arrived, 5000));
	CU_ASSERT_EQUAL(n_from(&m.n[1], 2), 50);
	CU_ASSERT_EQUAL(n_from(&m.n[3], 2), per + 50);
	CU_ASSERT_EQUAL(m.n[2].n_rx, per);
	CU_ASSERT_TRUE(m.max_gap_ns < MAX_GAP_MS * 1000000u);
	fprintf(stderr, "\n  largest gap between 10 ms ticks: %.1f ms\n", m.max_gap_ns / 1e6);
	mesh_free(&m);
}

static void test_tls_send_refusals(void)
{
	struct mesh m;
	unsigned char big[1401] = "VGL1";

	CU_ASSERT_FATAL(mesh_init(&m) == 0);
	CU_ASSERT_FATAL(node_open(&m, 1, NULL) == 0);
	CU_ASSERT_EQUAL(vg_plugin_inst_max_frame(m.n[1].pi), 1400);
	CU_ASSERT_EQUAL(vg_plugin_inst_send(m.n[1].pi, 2, big, 100), -ENOTCONN);
	CU_ASSERT_EQUAL(vg_plugin_inst_send(m.n[1].pi, VG_NODE_ALL, big, 100), -ENOTCONN);
	CU_ASSERT_EQUAL(vg_plugin_inst_send(m.n[1].pi, 9, big, 100), -ENOTCONN);
	CU_ASSERT_EQUAL(vg_plugin_inst_send(m.n[1].pi, 2, big, sizeof(big)), -EMSGSIZE);
	node_close(&m.n[1]);
	mesh_free(&m);
}

static void test_tls_key_readable_by_others_refused(void)
{
	struct mesh m;
	char key[96];

	CU_ASSERT_FATAL(mesh_init(&m) == 0);
	snprintf(key, sizeof(key), "%s/loose.key", certs);
	{
		char cmd[320];

		snprintf(cmd, sizeof(cmd), "cp '%s/n1.key' '%s' && chmod 0640 '%s'", certs, key, key);
		CU_ASSERT_FATAL(system(cmd) == 0);
	}
	CU_ASSERT_EQUAL(node_open(&m, 1, "key", key, NULL), -1);
	CU_ASSERT_PTR_NOT_NULL(line_find(&m, "loose.key", "group or others", "0640", NULL));
	mesh_free(&m);
}

static int up_1_2_and_2_1(struct mesh *m)
{
	return m->n[1].up[2] && m->n[2].up[1] && m->n[2].up[3] && m->n[3].up[2];
}

static int down_2(struct mesh *m)
{
	return !m->n[1].up[2] && !m->n[3].up[2];
}

static void test_tls_peer_restart_reconnects(void)
{
	struct mesh m;
	uint64_t t0;

	CU_ASSERT_FATAL(mesh_init(&m) == 0);
	CU_ASSERT_FATAL(open_all(&m) == 0);
	CU_ASSERT_TRUE_FATAL(run_until(&m, all_up, 5000));
	node_close(&m.n[2]);
	t0 = mono_ns();
	CU_ASSERT_TRUE(run_until(&m, down_2, 2000));
	CU_ASSERT_EQUAL(m.n[1].downs[2], 1);
	CU_ASSERT_EQUAL(m.n[3].downs[2], 1);
	fprintf(stderr, "\n  n2 closed: link down seen after %.1f ms",
		(mono_ns() - t0) / 1e6);
	run_until(&m, NULL, 300);     /* n1 dials a closed port meanwhile: backoff grows */
	CU_ASSERT_FATAL(node_open(&m, 2, NULL) == 0);
	t0 = mono_ns();
	CU_ASSERT_TRUE(run_until(&m, up_1_2_and_2_1, 3000));
	fprintf(stderr, "; reopened: links up again after %.1f ms\n", (mono_ns() - t0) / 1e6);
	CU_ASSERT_EQUAL(m.n[1].ups[2], 2);
	CU_ASSERT_EQUAL(m.n[3].ups[2], 2);
	CU_ASSERT_EQUAL(send_gen(&m, 2, 1, 21, 0), 0);
	want_frames = 1;
	CU_ASSERT_TRUE(run_until(&m, frames_arrived, 2000));
	CU_ASSERT_TRUE(stream_ok(&m.n[1], 2, 21, 1));
	CU_ASSERT_TRUE(m.max_gap_ns < MAX_GAP_MS * 1000000u);
	mesh_free(&m);
}

/* Sent without running the loop: the socket fills, the queue fills, then -EAGAIN. */
static void test_tls_busy_peer_queues_then_drops_with_eagain(void)
{
	struct mesh m;
	uint32_t k, sent = 0;
	int ret = 0;

	CU_ASSERT_FATAL(mesh_init(&m) == 0);
	CU_ASSERT_FATAL(open_all(&m) == 0);
	CU_ASSERT_TRUE_FATAL(run_until(&m, all_up, 5000));
	for (k = 0; k < 200000 && ret == 0; k++) {
		unsigned char buf[1400];
		size_t len = frame_gen(5, k, buf);

		ret = vg_plugin_inst_send(m.n[1].pi, 2, buf, len);
		sent += ret == 0;
	}
	CU_ASSERT_EQUAL(ret, -EAGAIN);
	want_frames = sent;
	CU_ASSERT_TRUE(run_until(&m, frames_arrived, 20000));
	CU_ASSERT_TRUE(stream_ok(&m.n[2], 1, 5, sent));
	CU_ASSERT_TRUE(m.n[1].up[2] && m.n[2].up[1]);
	CU_ASSERT_TRUE(m.max_gap_ns < MAX_GAP_MS * 1000000u);
	fprintf(stderr, "\n  %u frames taken before -EAGAIN, all delivered in order; largest tick gap %.1f ms\n",
		sent, m.max_gap_ns / 1e6);
	mesh_free(&m);
}

static int down_1_2(struct mesh *m)
{
	return m->n[2].downs[1] > 0;
}

/* A length prefix above max_frame ends the connection; the link comes back. */
static void test_tls_oversized_frame_closes_connection(void)
{
	unsigned char big[1500] = "VGL1";
	struct mesh m;

	CU_ASSERT_FATAL(mesh_init(&m) == 0);
	CU_ASSERT_FATAL(node_open(&m, 1, "max_frame", "2000", NULL) == 0);
	CU_ASSERT_FATAL(node_open(&m, 2, NULL) == 0);
	CU_ASSERT_FATAL(node_open(&m, 3, NULL) == 0);
	CU_ASSERT_TRUE_FATAL(run_until(&m, all_up, 5000));
	CU_ASSERT_EQUAL(vg_plugin_inst_send(m.n[1].pi, 2, big, sizeof(big)), 0);
	CU_ASSERT_TRUE(run_until(&m, down_1_2, 2000));
	CU_ASSERT_PTR_NOT_NULL(line_find(&m, "link to n1", "frame of 1500 bytes announced, max_frame is 1400", NULL));
	CU_ASSERT_EQUAL(m.n[2].n_rx, 0);
	CU_ASSERT_TRUE(run_until(&m, all_up, 3000));
	mesh_free(&m);
}

static int up_2_3(struct mesh *m)
{
	return m->n[2].up[3] && m->n[3].up[2];
}

static int up_1_2(struct mesh *m)
{
	return m->n[2].up[1] && m->n[1].up[2];
}

/* Node `bad` never up with anyone, and nobody up with it. */
static int isolated(struct mesh *m, uint32_t bad)
{
	for (uint32_t id = 1; id <= N_NODES; id++)
		if (id != bad && (m->n[id].ups[bad] || m->n[bad].ups[id]))
			return 0;
	return 1;
}

/*
 * Open n1..n3 with node `bad`'s certificate and key replaced by the given
 * files, let it try for 1.5 s (several backoff periods), check the good
 * pair came up and `bad` stayed isolated.
 */
static void refusal_run(struct mesh *m, uint32_t bad, const char *cert, const char *key,
			int (*good_up)(struct mesh *))
{
	char c[160], k[160];

	snprintf(c, sizeof(c), "%s/%s", certs, cert);
	snprintf(k, sizeof(k), "%s/%s", certs, key);
	for (uint32_t id = 1; id <= N_NODES; id++) {
		if (id == bad) {
			CU_ASSERT_FATAL(node_open(m, id, "cert", c, "key", k, NULL) == 0);
		} else {
			CU_ASSERT_FATAL(node_open(m, id, NULL) == 0);
		}
	}
	CU_ASSERT_TRUE(run_until(m, good_up, 3000));
	run_until(m, NULL, 1500);
	CU_ASSERT_TRUE(isolated(m, bad));
	CU_ASSERT_TRUE(m->max_gap_ns < MAX_GAP_MS * 1000000u);
}

static void test_tls_refuses_certificate_of_another_ca(void)
{
	struct mesh m;
	const char *l;

	CU_ASSERT_FATAL(mesh_init(&m) == 0);
	refusal_run(&m, 1, "ca2/%n.crt", "ca2/%n.key", up_2_3);
	l = line_find(&m, "connection from 127.0.0.1:", "refused: certificate verify failed: unable to get local issuer certificate", NULL);
	CU_ASSERT_PTR_NOT_NULL(l);
	fprintf(stderr, "\n  %s\n", l ? l : "(no line)");
	mesh_free(&m);
}

static void test_tls_refuses_expired_certificate(void)
{
	struct mesh m;
	const char *l;
	char want[64];

	CU_ASSERT_FATAL(mesh_init(&m) == 0);
	refusal_run(&m, 3, "expired/%n.crt", "expired/%n.key", up_1_2);
	snprintf(want, sizeof(want), "connection to n3 (127.0.0.3:%s) refused", m.port);
	l = line_find(&m, want, "certificate verify failed: certificate has expired", NULL);
	CU_ASSERT_PTR_NOT_NULL(l);
	CU_ASSERT_PTR_NOT_NULL(line_find(&m, "our certificate", "certificate has expired", NULL));
	fprintf(stderr, "\n  %s\n", l ? l : "(no line)");
	mesh_free(&m);
}

static void test_tls_refuses_certificate_naming_another_node(void)
{
	struct mesh m;
	const char *l;
	char want[64];

	/* n1 (a connector) shows n2's certificate: the acceptors refuse it. */
	CU_ASSERT_FATAL(mesh_init(&m) == 0);
	refusal_run(&m, 1, "n2.crt", "n2.key", up_2_3);
	l = line_find(&m, "connection from 127.0.0.1:", "refused: certificate names \"n2\", expected \"n1\"", NULL);
	CU_ASSERT_PTR_NOT_NULL(l);
	fprintf(stderr, "\n  %s", l ? l : "(no line)");
	mesh_free(&m);
	/* n3 (an acceptor) shows n1's certificate: the connectors refuse it. */
	CU_ASSERT_FATAL(mesh_init(&m) == 0);
	refusal_run(&m, 3, "n1.crt", "n1.key", up_1_2);
	snprintf(want, sizeof(want), "connection to n3 (127.0.0.3:%s) refused", m.port);
	l = line_find(&m, want, "certificate names \"n1\", expected \"n3\"", NULL);
	CU_ASSERT_PTR_NOT_NULL(l);
	fprintf(stderr, "\n  %s\n", l ? l : "(no line)");
	mesh_free(&m);
}

/* Start tcpdump on lo for `port`; returns its pid once it listens, or -1. */
static pid_t tcpdump_start(const char *pcap, const char *errf, const char *port)
{
	char filter[32], line[256];
	pid_t pid;
	FILE *fp;

	snprintf(filter, sizeof(filter), "tcp port %s", port);
	pid = fork();
	if (pid == 0) {
		if (!freopen(errf, "w", stderr))
			_exit(127);
		execlp("timeout", "timeout", "30", "tcpdump", "-i", "lo", "-n", "-U", "-B", "16384",
		       "--immediate-mode", "-Z", "root", "-w", pcap, filter, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; pid > 0 && i < 100; i++) {
		usleep(50000);
		fp = fopen(errf, "r");
		while (fp && fgets(line, sizeof(line), fp))
			if (strstr(line, "listening on")) {
				fclose(fp);
				return pid;
			}
		if (fp)
			fclose(fp);
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return -1;
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return -1;
}

/* SIGINT, then SIGKILL after 3 s; always reaps. */
static void tcpdump_stop(pid_t pid)
{
	for (int i = 0; i < 60; i++) {
		if (i == 0)
			kill(pid, SIGINT);
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(50000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static void test_tls_no_plaintext_on_the_wire(void)
{
	char dir[] = "/tmp/vg-tls-pcap.XXXXXX", pcap[64], errf[64], cmd[96];
	static unsigned char bytes[4 << 20];
	struct mesh m;
	struct stat st = { 0 };
	off_t last = -1;
	size_t n = 0, plain = 0;
	pid_t pid;
	FILE *fp;

	if (geteuid() != 0 || system("command -v tcpdump >/dev/null 2>&1") != 0) {
		fprintf(stderr, "\n  SKIP: needs root and tcpdump\n");
		return;
	}
	CU_ASSERT_FATAL(mesh_init(&m) == 0);
	CU_ASSERT_FATAL(mkdtemp(dir) != NULL);
	snprintf(pcap, sizeof(pcap), "%s/lo.pcap", dir);
	snprintf(errf, sizeof(errf), "%s/tcpdump.err", dir);
	pid = tcpdump_start(pcap, errf, m.port);
	CU_ASSERT_FATAL(pid > 0);
	CU_ASSERT(open_all(&m) == 0);
	CU_ASSERT(run_until(&m, all_up, 5000));
	for (uint32_t k = 0; k < 200; k++) {
		CU_ASSERT_EQUAL(send_gen(&m, 1, VG_NODE_ALL, 7, k), 0);
		plain += 2 * frame_gen(7, k, bytes);
	}
	want_frames = 400;
	CU_ASSERT(run_until(&m, frames_arrived, 5000));
	/* Let tcpdump catch up (a loaded machine): until the file stops growing. */
	for (int i = 0; i < 30 && (i < 3 || st.st_size != last); i++) {
		last = st.st_size;
		run_until(&m, NULL, 100);
		if (stat(pcap, &st) < 0)
			break;
	}
	tcpdump_stop(pid);
	fp = fopen(pcap, "rb");
	if (fp) {
		n = fread(bytes, 1, sizeof(bytes), fp);
		fclose(fp);
	}
	/*
	 * A complete capture holds more than the frames' bytes (TLS adds its
	 * own); on a loaded machine tcpdump may lose some, but it must have
	 * seen most of the traffic, and never a frame in clear.
	 */
	CU_ASSERT(n >= plain / 2);
	CU_ASSERT_PTR_NULL(memmem(bytes, n, "VGL1", 4));
	fprintf(stderr, "\n  capture: %zu bytes for %zu bytes of frames, \"VGL1\" %s\n", n, plain,
		memmem(bytes, n, "VGL1", 4) ? "FOUND" : "absent");
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	mesh_free(&m);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int pings_done(struct mesh *m)
{
	return m->n[1].pings == 0;
}

/* Figures, not a timed test: p50/p99 of 1000 round trips of a 100-byte frame. */
static void test_tls_round_trip_figures(void)
{
	unsigned char frame[100];
	struct mesh m;
	struct node *a;
	const size_t count = 1000;

	CU_ASSERT_FATAL(mesh_init(&m) == 0);
	CU_ASSERT_FATAL(open_all(&m) == 0);
	CU_ASSERT_TRUE_FATAL(run_until(&m, all_up, 5000));
	a = &m.n[1];
	memset(frame, 0x5a, sizeof(frame));
	memcpy(frame, "VGL1", 4);
	m.n[2].echo = 1;
	a->rtt_ns = calloc(count, sizeof(*a->rtt_ns));
	a->pings = (int)count;
	a->ping_sent_ns = mono_ns();
	CU_ASSERT_EQUAL(vg_plugin_inst_send(a->pi, 2, frame, sizeof(frame)), 0);
	CU_ASSERT_TRUE(run_until(&m, pings_done, 20000));
	CU_ASSERT_EQUAL(a->n_rtt, count);
	if (a->n_rtt == count) {
		qsort(a->rtt_ns, count, sizeof(*a->rtt_ns), cmp_u64);
		fprintf(stderr, "\n  tls round trip, 100-byte frame, loopback, one loop, %zu trips: "
			"p50 %.1f us, p99 %.1f us, max %.1f us\n", count,
			a->rtt_ns[count / 2] / 1e3, a->rtt_ns[count * 99 / 100] / 1e3,
			a->rtt_ns[count - 1] / 1e3);
	}
	mesh_free(&m);
}

static CU_TestInfo tests[] = {
	{ "test_tls_mesh_carries_frames_in_order_with_sender", test_tls_mesh_carries_frames_in_order_with_sender },
	{ "test_tls_send_refusals", test_tls_send_refusals },
	{ "test_tls_key_readable_by_others_refused", test_tls_key_readable_by_others_refused },
	{ "test_tls_peer_restart_reconnects", test_tls_peer_restart_reconnects },
	{ "test_tls_busy_peer_queues_then_drops_with_eagain", test_tls_busy_peer_queues_then_drops_with_eagain },
	{ "test_tls_oversized_frame_closes_connection", test_tls_oversized_frame_closes_connection },
	{ "test_tls_refuses_certificate_of_another_ca", test_tls_refuses_certificate_of_another_ca },
	{ "test_tls_refuses_expired_certificate", test_tls_refuses_expired_certificate },
	{ "test_tls_refuses_certificate_naming_another_node", test_tls_refuses_certificate_naming_another_node },
	{ "test_tls_no_plaintext_on_the_wire", test_tls_no_plaintext_on_the_wire },
	{ "test_tls_round_trip_figures", test_tls_round_trip_figures },
	CU_TEST_INFO_NULL,
};

CU_MAIN("tls", tests)
