/*
 * bench/transport_bench: round-trip time and frames per second between two
 * nodes over one transport plugin, both instances on one vigild-style loop
 * (so each round trip crosses the plugin twice and the kernel twice), or
 * over two plain UDP sockets on the same loop ("raw-udp": the floor).
 *
 *   transport_bench raw-udp ADDR1 ADDR2 [ROUNDS]
 *   transport_bench PLUGIN ADDR1 ADDR2 [ROUNDS] [-p k=v]... [-1 k=v]... [-2 k=v]...
 *
 * Prints `transport=T rtt_p50_us=N rtt_p99_us=N fps=N`.  fps: frames of
 * 100 bytes per second with 32 in flight, measured over one second.
 */
#include "config.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <getopt.h>
#include <unistd.h>

#define FRAME_LEN 100
#define WINDOW 32
#define MAX_ATTRS 16

struct bench;

struct end {
	struct bench *b;
	uint32_t id;
	struct vg_host_env env;
	struct vg_instance_conf ic;
	struct vg_plugin_inst *pi;
	int fd;                       /* raw-udp */
	struct vg_watch *w;
	struct sockaddr_in peer;
};

struct bench {
	struct vg_logger log;
	struct vg_loop *loop;
	struct vg_registry reg;
	struct vg_config cfg;
	struct vg_node_conf nodes[2];
	char *addrs[2][1];
	struct end e[2];
	int raw;
	/* ping-pong */
	uint64_t sent_ns;
	uint64_t *rtt_ns;
	size_t rounds, done;
	/* throughput */
	int flood;
	uint64_t flood_received, flood_sent;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int bench_send(struct end *from, const void *buf, size_t len)
{
	if (from->b->raw)
		return sendto(from->fd, buf, len, 0, (struct sockaddr *)&from->peer,
			      sizeof(from->peer)) < 0 ? -errno : 0;
	return vg_plugin_inst_send(from->pi, from->id == 1 ? 2 : 1, buf, len);
}

/* Node 2 echoes; node 1 times the round trip and sends the next ping. */
static void on_frame(struct end *e, const void *frame, size_t len)
{
	struct bench *b = e->b;
	uint8_t buf[FRAME_LEN];

	if (len != FRAME_LEN)
		return;
	if (e->id == 2) {
		bench_send(e, frame, len);
		return;
	}
	if (b->flood) {
		b->flood_received++;
		memset(buf, 'f', sizeof(buf));
		if (bench_send(e, buf, sizeof(buf)) == 0)
			b->flood_sent++;
		return;
	}
	b->rtt_ns[b->done++] = now_ns() - b->sent_ns;
	if (b->done < b->rounds) {
		memset(buf, 'p', sizeof(buf));
		b->sent_ns = now_ns();
		bench_send(e, buf, sizeof(buf));
	}
}

static void plugin_rx(void *arg, uint32_t link, const void *frame, size_t len, uint32_t from)
{
	struct end *e = arg;

	if (from != e->id)
		on_frame(e, frame, len);
}

static void raw_rx(void *arg, int fd, uint32_t events)
{
	uint8_t buf[2048];
	ssize_t n;

	for (int i = 0; i < 64 && (n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0; i++)
		on_frame(arg, buf, (size_t)n);
}

static int raw_open(struct bench *b, struct end *e, const char *self, const char *peer)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(5399) };

	e->fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (e->fd < 0 || inet_pton(AF_INET, self, &sa.sin_addr) != 1 ||
	    bind(e->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	e->peer = sa;
	if (inet_pton(AF_INET, peer, &e->peer.sin_addr) != 1)
		return -EINVAL;
	return vg_loop_fd_watch(b->loop, e->fd, VG_FD_READ, raw_rx, e, NULL, &e->w);
}

/* key=value list into attrs; values borrowed from argv. */
static size_t parse_kv(char **kv, size_t n, struct vg_attr *attrs)
{
	size_t k = 0;

	for (size_t i = 0; i < n && k < MAX_ATTRS; i++) {
		char *eq = strchr(kv[i], '=');

		if (!eq)
			continue;
		*eq = '\0';
		attrs[k++] = (struct vg_attr){ .key = kv[i], .value = eq + 1 };
	}
	return k;
}

static int plugin_open(struct bench *b, struct end *e, const char *plugin,
		       const struct vg_attr *params, size_t n)
{
	char err[512];
	int rc;

	e->ic.info = vg_registry_find(&b->reg, plugin);
	if (!e->ic.info || e->ic.info->kind != VG_KIND_TRANSPORT) {
		fprintf(stderr, "transport_bench: no transport plugin \"%s\" (VIGIL_PLUGIN_PATH?)\n", plugin);
		return -ENOENT;
	}
	e->ic.name = "bench";
	e->ic.plugin = (char *)plugin;
	e->ic.n_values = e->ic.info->n_params;
	rc = vg_config_values_from_attrs(e->ic.info, params, n, &e->ic.values, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "transport_bench: %s\n", err);
		return rc;
	}
	e->env = (struct vg_host_env){ .loop = b->loop, .log = &b->log, .cfg = &b->cfg, .reg = &b->reg,
				       .local_node_id = e->id, .frame_received = plugin_rx, .arg = e };
	return vg_plugin_inst_open(&e->env, &e->ic, 0, &e->pi);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Run the loop until `cond` or `limit_ms`. */
static void run(struct bench *b, const int *cond, uint64_t limit_ms)
{
	uint64_t end = vg_loop_update_time(b->loop) + limit_ms;

	while ((!cond || !*cond) && vg_loop_now_ms(b->loop) < end)
		vg_loop_run_once(b->loop, 5);
}

static int measure(struct bench *b, const char *name, size_t rounds)
{
	uint8_t buf[FRAME_LEN];
	uint64_t t0, p50, p99;
	int done = 0;

	memset(buf, 'p', sizeof(buf));
	/* warm-up: until an echo comes back (streams connect first) */
	b->rounds = 1;
	for (int i = 0; i < 100 && b->done == 0; i++) {
		b->sent_ns = now_ns();
		bench_send(&b->e[0], buf, sizeof(buf));
		run(b, NULL, 100);
	}
	if (b->done == 0) {
		fprintf(stderr, "transport_bench: %s: no echo within 10 s\n", name);
		return 1;
	}
	b->done = 0;
	b->rounds = rounds;
	b->sent_ns = now_ns();
	bench_send(&b->e[0], buf, sizeof(buf));
	while (b->done < b->rounds && !done) {
		run(b, NULL, 1000);
		done = b->done == 0; /* nothing in a whole second: lost */
	}
	if (b->done < b->rounds / 2) {
		fprintf(stderr, "transport_bench: %s: only %zu of %zu round trips\n", name, b->done,
			b->rounds);
		return 1;
	}
	qsort(b->rtt_ns, b->done, sizeof(*b->rtt_ns), cmp_u64);
	p50 = b->rtt_ns[b->done / 2];
	p99 = b->rtt_ns[(b->done * 99 + 99) / 100 - 1];
	/* throughput: WINDOW frames in flight, each echo answered by a new frame */
	b->flood = 1;
	memset(buf, 'f', sizeof(buf));
	for (int i = 0; i < WINDOW; i++)
		bench_send(&b->e[0], buf, sizeof(buf));
	run(b, NULL, 200);
	b->flood_received = 0;
	t0 = now_ns();
	run(b, NULL, 1000);
	printf("transport=%s rtt_p50_us=%llu rtt_p99_us=%llu fps=%llu\n", name,
	       (unsigned long long)(p50 / 1000), (unsigned long long)(p99 / 1000),
	       (unsigned long long)(2 * b->flood_received * 1000000000ull / (now_ns() - t0)));
	return 0;
}

int main(int argc, char **argv)
{
	static struct bench b;
	struct vg_attr common[MAX_ATTRS], p1[MAX_ATTRS * 2], p2[MAX_ATTRS * 2];
	char *kv_c[MAX_ATTRS], *kv_1[MAX_ATTRS], *kv_2[MAX_ATTRS];
	size_t n_c = 0, n_1 = 0, n_2 = 0, rounds = 1000, a, b1, b2;
	const char *path = getenv("VIGIL_PLUGIN_PATH");
	int opt, rc;

	while ((opt = getopt(argc, argv, "p:1:2:n:")) != -1) {
		if (opt == 'p' && n_c < MAX_ATTRS)
			kv_c[n_c++] = optarg;
		else if (opt == '1' && n_1 < MAX_ATTRS)
			kv_1[n_1++] = optarg;
		else if (opt == '2' && n_2 < MAX_ATTRS)
			kv_2[n_2++] = optarg;
		else if (opt == 'n')
			rounds = strtoul(optarg, NULL, 10);
	}
	if (argc - optind != 3 || rounds < 10) {
		fprintf(stderr, "usage: transport_bench [-n ROUNDS] [-p k=v]... [-1 k=v]... [-2 k=v]... PLUGIN|raw-udp ADDR1 ADDR2\n");
		return 2;
	}
	vg_logger_init(&b.log);
	b.log.level = VG_LOG_WARNING;
	if (vg_loop_new(&b.log, &b.loop) < 0)
		return 1;
	b.rtt_ns = calloc(rounds, sizeof(*b.rtt_ns));
	b.raw = !strcmp(argv[optind], "raw-udp");
	for (int i = 0; i < 2; i++) {
		b.e[i] = (struct end){ .b = &b, .id = (uint32_t)i + 1, .fd = -1 };
		b.addrs[i][0] = argv[optind + 1 + i];
		b.nodes[i] = (struct vg_node_conf){ .id = (uint32_t)i + 1, .name = i ? "n2" : "n1",
						    .addrs = b.addrs[i], .n_addrs = 1, .votes = 1 };
	}
	b.cfg.nodes = b.nodes;
	b.cfg.n_nodes = 2;
	if (b.raw) {
		rc = raw_open(&b, &b.e[0], argv[optind + 1], argv[optind + 2]);
		if (rc == 0)
			rc = raw_open(&b, &b.e[1], argv[optind + 2], argv[optind + 1]);
	} else {
		vg_registry_init(&b.reg, &b.log);
		if (path)
			vg_registry_load_path(&b.reg, path, NULL);
		a = parse_kv(kv_c, n_c, common);
		memcpy(p1, common, a * sizeof(*common));
		memcpy(p2, common, a * sizeof(*common));
		b1 = a + parse_kv(kv_1, n_1, p1 + a);
		b2 = a + parse_kv(kv_2, n_2, p2 + a);
		rc = plugin_open(&b, &b.e[0], argv[optind], p1, b1);
		if (rc == 0)
			rc = plugin_open(&b, &b.e[1], argv[optind], p2, b2);
	}
	if (rc < 0) {
		fprintf(stderr, "transport_bench: %s: cannot open: %s\n", argv[optind], strerror(-rc));
		return 1;
	}
	return measure(&b, argv[optind], rounds);
}
