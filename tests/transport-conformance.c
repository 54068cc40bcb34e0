/*
 * transport-conformance — runs any transport plugin through the checks
 * every vigil transport must pass, with the real core: the registry loads
 * the plugin, config.c types its parameters, host.c opens two instances
 * (nodes n1 and n2 of a two-node configuration) on one event loop.
 *
 *   transport-conformance --plugin-dir DIRS PLUGIN [--addr1 A --addr2 B]
 *       [--param k=v]... [--param1 k=v]... [--param2 k=v]...
 *       [--attr k=v]... [--attr1 k=v]... [--attr2 k=v]...
 *       [--peer-restart] [--lossy] [--seed N] [--verbose]
 *
 * "%n" in a value becomes the node's name (n1, n2), "%i" its id (1, 2); the
 * addresses are optional (a serial line has none).  One line per check,
 * "ok - ..." or "not ok - ...", then "N passed, N failed"; exit 1 on any
 * failure, 2 on a usage error.  Log lines of the core and the plugin go to
 * stderr.  See docs/plugin-guide.md, "Testing a transport".
 *
 * Test frames: byte 0 is 0xa0 | sender id (frames a node receives from
 * itself, as udp-mcast with loop=true delivers them, are ignored), byte 1
 * the phase, bytes 2..5 the sequence (little endian), then bytes derived
 * from these; a shorter frame is a prefix of that.
 */
#include "config.h"
#include "conformance.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TC_MAX_KV        32
#define TC_BURST         200   /* frames each way in the burst */
#define TC_BATCH         20    /* burst frames sent per loop iteration */
#define TC_PROBE_LEN     64
#define TC_TICK_MS       5
#define TC_GAP_MAX_MS    50    /* longest the loop may be held */
#define TC_RESEND_MS     50
#define TC_HDR           6

enum tc_phase {
	PH_NONE = 0, PH_PROBE_12, PH_PROBE_21, PH_BURST, PH_BCAST_1, PH_BCAST_2,
	PH_VANISH, PH_RESUME_12, PH_RESUME_21,
};

/* key=value pairs, strings owned. */
struct tc_kv {
	struct vg_attr a[TC_MAX_KV];
	size_t n;
};

struct tc_opts {
	const char *dirs, *plugin, *addr[2];
	struct tc_kv param[3], attr[3];   /* [0] both nodes, [1] n1, [2] n2 */
	int peer_restart, lossy, verbose;
	uint64_t seed;
};

/* What one node received in the current phase. */
struct tc_rx {
	uint64_t frames, matched, dup, corrupt, stray, bad_hint, own;
};

/* One expected frame. */
struct tc_expect {
	unsigned char *data;
	size_t len;
	int got;
};

struct tc;

/* One node: its instance and what it saw. */
struct tc_side {
	struct tc *tc;
	int idx;                      /* 0 or 1 */
	uint32_t id;                  /* idx + 1 */
	struct vg_host_env env;
	struct vg_instance_conf ic;
	struct vg_plugin_inst *pi;
	struct tc_kv params, attrs;
	int link_known;               /* the plugin reported the peer's link state */
	int link_up;                  /* what it reported last */
	uint64_t link_downs;          /* link_state(peer, 0) calls */
	struct tc_rx rx;
	struct tc_expect *exp;        /* what it expects in this phase */
	size_t n_exp;
};

struct tc {
	struct tc_opts o;
	struct vg_logger log;
	struct vg_registry reg;
	struct vg_loop *loop;
	struct vg_config cfg;
	struct vg_node_conf nodes[2];
	char *addrs[2][1];
	const struct vg_plugin_info *info;
	struct tc_side side[2];
	enum tc_phase phase;
	size_t max_frame;
	unsigned char *buf;           /* max_frame + 1 bytes */
	uint64_t rng;
	struct vg_timer *tick;
	uint64_t last_tick_ms, max_gap_ms, max_send_ms;
	uint64_t last_wait_ms;        /* time spent waiting for a CPU, at the last tick */
	uint64_t gap_wall_ms;         /* the longest gap before subtracting that */
	int in_send;
	uint64_t reentrant;
	struct conf_tally t;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Time this thread spent runnable but waiting for a CPU (field 2 of
 * /proc/thread-self/schedstat, ns), or 0 when the kernel does not say.
 * A busy machine preempts the suite; only the rest of a gap is the loop
 * being held (by running code, or by a call that sleeps).
 */
static uint64_t cpu_wait_ms(void)
{
	unsigned long long run_ns, wait_ns;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "%llu %llu", &run_ns, &wait_ns);
	fclose(f);
	return n == 2 ? wait_ns / 1000000 : 0;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

/* ---- test frames ---- */

static void frame_fill(unsigned char *p, size_t len, uint32_t sender, int phase, uint32_t seq)
{
	unsigned char hdr[TC_HDR] = { (unsigned char)(0xa0 | sender), (unsigned char)phase,
				      seq & 0xff, (seq >> 8) & 0xff, (seq >> 16) & 0xff, seq >> 24 };
	uint64_t s = (UINT64_C(0x9e3779b97f4a7c15) * (seq + 1)) ^ ((uint64_t)phase << 40) ^ sender;

	memcpy(p, hdr, len < TC_HDR ? len : TC_HDR);
	for (size_t i = TC_HDR; i < len; i++)
		p[i] = (unsigned char)(xorshift(&s) >> 56);
}

static void expect_free(struct tc_side *sd)
{
	for (size_t i = 0; i < sd->n_exp; i++)
		free(sd->exp[i].data);
	free(sd->exp);
	sd->exp = NULL;
	sd->n_exp = 0;
}

/* What side `sd` expects from its peer: n frames, random sizes 1..max_frame or `len`. */
static int expect_make(struct tc *tc, struct tc_side *sd, size_t n, size_t len)
{
	expect_free(sd);
	sd->exp = calloc(n ? n : 1, sizeof(*sd->exp));
	if (!sd->exp)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		struct tc_expect *e = &sd->exp[i];

		e->len = len ? len : 1 + xorshift(&tc->rng) % tc->max_frame;
		e->data = malloc(e->len);
		if (!e->data)
			return -ENOMEM;
		frame_fill(e->data, e->len, 3 - sd->id, tc->phase, (uint32_t)i);
		sd->n_exp++;
	}
	return 0;
}

/* A new phase: every node forgets what it saw and expects n frames. */
static int phase_begin(struct tc *tc, enum tc_phase ph, size_t n, size_t len)
{
	tc->phase = ph;
	for (int i = 0; i < 2; i++) {
		memset(&tc->side[i].rx, 0, sizeof(tc->side[i].rx));
		if (expect_make(tc, &tc->side[i], n, len) < 0)
			return -ENOMEM;
	}
	/* the suite's own work is not the plugin's: gaps count from here */
	if (tc->last_tick_ms) {
		tc->last_tick_ms = mono_ms();
		tc->last_wait_ms = cpu_wait_ms();
	}
	return 0;
}

/* The expected frame this received one is, or NULL. */
static struct tc_expect *expect_match(struct tc_side *sd, const unsigned char *p, size_t len)
{
	struct tc_expect *e, *found = NULL;
	uint32_t seq;

	if (len >= TC_HDR) {
		seq = p[2] | (uint32_t)p[3] << 8 | (uint32_t)p[4] << 16 | (uint32_t)p[5] << 24;
		if (seq >= sd->n_exp)
			return NULL;
		e = &sd->exp[seq];
		return e->len == len && !memcmp(e->data, p, len) ? e : NULL;
	}
	for (size_t i = 0; i < sd->n_exp; i++) {
		e = &sd->exp[i];
		if (e->len == len && !memcmp(e->data, p, len) && (!found || (found->got && !e->got)))
			found = e;
	}
	return found;
}

/* ---- callbacks of the core (the suite plays membership) ---- */

static void tc_frame_cb(void *arg, uint32_t link, const void *frame, size_t len, uint32_t from)
{
	struct tc_side *sd = arg;
	const unsigned char *p = frame;
	struct tc_expect *e;

	if (sd->tc->in_send)
		sd->tc->reentrant++;
	if (len && p[0] == (0xa0 | sd->id)) {
		sd->rx.own++;   /* its own frame looped back (udp-mcast loop=true) */
		return;
	}
	sd->rx.frames++;
	if (from != VG_NODE_NONE && from != 3 - sd->id)
		sd->rx.bad_hint++;
	if (!len || p[0] != (0xa0 | (3 - sd->id))) {
		sd->rx.corrupt++;
		return;
	}
	if (len >= 2 && p[1] != sd->tc->phase) {
		sd->rx.stray++;  /* a late copy from an earlier phase */
		return;
	}
	e = expect_match(sd, p, len);
	if (!e)
		sd->rx.corrupt++;
	else if (e->got++)
		sd->rx.dup++;
	else
		sd->rx.matched++;
}

static void tc_link_cb(void *arg, uint32_t link, uint32_t node, int up)
{
	struct tc_side *sd = arg;

	if (sd->tc->in_send)
		sd->tc->reentrant++;
	if (node != 3 - sd->id)
		return;
	sd->link_known = 1;
	sd->link_up = up;
	if (!up)
		sd->link_downs++;
}

/* Every TC_TICK_MS: how long the loop was held since the last tick. */
static void tc_tick_cb(void *arg)
{
	struct tc *tc = arg;
	uint64_t now = mono_ms(), wait = cpu_wait_ms(), gap, held;

	if (tc->last_tick_ms) {
		gap = now - tc->last_tick_ms;
		held = gap - (wait - tc->last_wait_ms < gap ? wait - tc->last_wait_ms : gap);
		if (held > tc->max_gap_ms)
			tc->max_gap_ms = held;
		if (gap > tc->gap_wall_ms)
			tc->gap_wall_ms = gap;
	}
	tc->last_tick_ms = now;
	tc->last_wait_ms = wait;
}

/* A send through the core, timed (less waits for a CPU), with the re-entrancy flag raised. */
static int tc_send(struct tc *tc, int from, uint32_t to, const void *data, size_t len)
{
	uint64_t t0 = mono_ms(), w0 = cpu_wait_ms(), dt, dw;
	int ret;

	tc->in_send = 1;
	ret = vg_plugin_inst_send(tc->side[from].pi, to, data, len);
	tc->in_send = 0;
	dt = mono_ms() - t0;
	dw = cpu_wait_ms() - w0;
	dt -= dw < dt ? dw : dt;
	if (dt > tc->max_send_ms)
		tc->max_send_ms = dt;
	return ret;
}

static void run_for(struct tc *tc, uint64_t ms)
{
	uint64_t end = mono_ms() + ms;

	while (mono_ms() < end)
		vg_loop_run_once(tc->loop, 5);
}

/* ---- parameters and instances ---- */

/*
 * "k=v" into kv, with "%n" replaced by the node's name (n1, n2) as the
 * tls and serial plugins do themselves, and "%i" by its id (1, 2); node 0
 * keeps the text as is.  A key given before is replaced (a node's own
 * value wins over the shared one).
 */
static int kv_add(struct tc_kv *kv, const char *text, int node)
{
	const char *eq = strchr(text, '='), *v;
	size_t klen, i;
	char *val, *p;

	if (!eq || eq == text)
		return -EINVAL;
	klen = (size_t)(eq - text);
	for (i = 0; i < kv->n; i++) {
		if (strlen(kv->a[i].key) == klen && !strncmp(kv->a[i].key, text, klen)) {
			free((char *)kv->a[i].key);
			free((char *)kv->a[i].value);
			kv->a[i] = kv->a[--kv->n];
			break;
		}
	}
	if (kv->n >= TC_MAX_KV)
		return -EINVAL;
	val = malloc(strlen(eq + 1) + 1);  /* "%n" -> "n1", "%i" -> "1": never longer */
	if (!val)
		return -ENOMEM;
	for (p = val, v = eq + 1; *v; v++) {
		if (node && v[0] == '%' && (v[1] == 'n' || v[1] == 'i')) {
			if (*++v == 'n')
				*p++ = 'n';
			*p++ = (char)('0' + node);
		} else {
			*p++ = *v;
		}
	}
	*p = '\0';
	kv->a[kv->n].key = strndup(text, klen);
	kv->a[kv->n].value = val;
	kv->n++;
	return kv->a[kv->n - 1].key ? 0 : -ENOMEM;
}

static void kv_free(struct tc_kv *kv)
{
	for (size_t i = 0; i < kv->n; i++) {
		free((char *)kv->a[i].key);
		free((char *)kv->a[i].value);
	}
	kv->n = 0;
}

/* The node's params and attrs: the shared ones, then its own (text as given). */
static int side_kv(struct tc *tc, struct tc_side *sd)
{
	const struct tc_kv *src[2][2] = { { &tc->o.param[0], &tc->o.param[1 + sd->idx] },
					  { &tc->o.attr[0], &tc->o.attr[1 + sd->idx] } };
	struct tc_kv *dst[2] = { &sd->params, &sd->attrs };
	char text[4096];
	int ret;

	for (int t = 0; t < 2; t++) {
		for (int s = 0; s < 2; s++) {
			for (size_t i = 0; i < src[t][s]->n; i++) {
				snprintf(text, sizeof(text), "%s=%s", src[t][s]->a[i].key,
					 src[t][s]->a[i].value);
				ret = kv_add(dst[t], text, (int)sd->id);
				if (ret < 0)
					return ret;
			}
		}
	}
	return 0;
}

static int side_open(struct tc *tc, struct tc_side *sd)
{
	char err[512];
	int ret;

	sd->ic = (struct vg_instance_conf){ .name = "conformance", .plugin = tc->info->name,
					    .info = tc->info, .n_values = tc->info->n_params };
	ret = vg_config_values_from_attrs(tc->info, sd->params.a, sd->params.n, &sd->ic.values,
					  err, sizeof(err));
	if (ret < 0) {
		fprintf(stderr, "n%u: params: %s\n", sd->id, err);
		return ret;
	}
	if (sd->attrs.n) {
		sd->ic.attrs = sd->attrs.a;
		sd->ic.n_attrs = sd->attrs.n;
	}
	ret = vg_plugin_inst_open(&sd->env, &sd->ic, 0, &sd->pi);
	if (ret < 0) {
		vg_config_values_free(sd->ic.values, sd->ic.n_values);
		sd->ic.values = NULL;
		sd->pi = NULL;
	}
	return ret;
}

static void side_close(struct tc_side *sd)
{
	if (!sd->pi)
		return;
	vg_plugin_inst_close(sd->pi);
	sd->pi = NULL;
	vg_config_values_free(sd->ic.values, sd->ic.n_values);
	sd->ic.values = NULL;
}

/* Registry, two-node configuration, loop, the 5 ms tick. */
static int tc_setup(struct tc *tc)
{
	size_t refused = 0;

	vg_logger_init(&tc->log);
	tc->log.level = tc->o.verbose ? VG_LOG_DEBUG : VG_LOG_NOTICE;
	vg_registry_init(&tc->reg, &tc->log);
	vg_registry_load_path(&tc->reg, tc->o.dirs, &refused);
	tc->info = vg_registry_find(&tc->reg, tc->o.plugin);
	if (!tc->info || tc->info->kind != VG_KIND_TRANSPORT) {
		fprintf(stderr, "transport-conformance: no transport plugin \"%s\" in %s (%zu refused)\n",
			tc->o.plugin, tc->o.dirs, refused);
		return -ENOENT;
	}
	if ((tc->o.attr[0].n || tc->o.attr[1].n || tc->o.attr[2].n) &&
	    !(tc->info->flags & VG_PLUGIN_F_ATTRS)) {
		fprintf(stderr, "transport-conformance: plugin \"%s\" takes no attributes\n",
			tc->o.plugin);
		return -EINVAL;
	}
	for (int i = 0; i < 2; i++) {
		tc->addrs[i][0] = (char *)tc->o.addr[i];
		tc->nodes[i] = (struct vg_node_conf){ .id = (uint32_t)i + 1,
			.name = i ? "n2" : "n1", .addrs = tc->addrs[i],
			.n_addrs = tc->o.addr[i] ? 1 : 0, .votes = 1 };
	}
	tc->cfg.nodes = tc->nodes;
	tc->cfg.n_nodes = 2;
	if (vg_loop_new(&tc->log, &tc->loop) < 0)
		return -ENOMEM;
	for (int i = 0; i < 2; i++) {
		struct tc_side *sd = &tc->side[i];

		sd->tc = tc;
		sd->idx = i;
		sd->id = (uint32_t)i + 1;
		sd->env = (struct vg_host_env){ .loop = tc->loop, .log = &tc->log, .cfg = &tc->cfg,
			.reg = &tc->reg, .local_node_id = sd->id, .frame_received = tc_frame_cb,
			.link_state = tc_link_cb, .arg = sd };
		if (side_kv(tc, sd) < 0)
			return -ENOMEM;
	}
	return vg_loop_timer_start(tc->loop, TC_TICK_MS, TC_TICK_MS, tc_tick_cb, tc, NULL,
				   &tc->tick);
}

static void tc_teardown(struct tc *tc)
{
	for (int i = 0; i < 2; i++) {
		side_close(&tc->side[i]);
		expect_free(&tc->side[i]);
		kv_free(&tc->side[i].params);
		kv_free(&tc->side[i].attrs);
	}
	for (int i = 0; i < 3; i++) {
		kv_free(&tc->o.param[i]);
		kv_free(&tc->o.attr[i]);
	}
	if (tc->loop) {
		vg_loop_timer_stop(tc->loop, tc->tick);
		vg_loop_free(tc->loop);
	}
	vg_registry_free(&tc->reg);
	free(tc->buf);
}

/* ---- the checks ---- */

/*
 * Send one probe from side `from` to `to` every TC_RESEND_MS until the
 * peer got it; 0 with *took_ms, or -ETIMEDOUT after limit_ms.
 */
static int probe(struct tc *tc, int from, uint32_t to, enum tc_phase ph, uint64_t limit_ms,
		 uint64_t *took_ms)
{
	struct tc_side *peer = &tc->side[1 - from];
	uint64_t start = mono_ms(), next = 0, now;
	size_t len = tc->max_frame < TC_PROBE_LEN ? tc->max_frame : TC_PROBE_LEN;

	if (phase_begin(tc, ph, 1, len) < 0)
		return -ENOMEM;
	while ((now = mono_ms()) - start < limit_ms) {
		if (peer->rx.matched) {
			*took_ms = now - start;
			return 0;
		}
		if (now >= next) {
			tc_send(tc, from, to, peer->exp[0].data, peer->exp[0].len);
			next = now + TC_RESEND_MS;
		}
		vg_loop_run_once(tc->loop, 5);
	}
	return -ETIMEDOUT;
}

static void check_probe(struct tc *tc, int from, uint32_t to, enum tc_phase ph,
			uint64_t limit_ms, const char *what)
{
	uint64_t took = 0;
	int ret = probe(tc, from, to, ph, limit_ms, &took);
	const struct tc_rx *rx = &tc->side[1 - from].rx;

	if (ret == 0 && !rx->bad_hint)
		conf_check(&tc->t, 1, "%s: n%d -> n%d delivered in %llu ms", what, from + 1, 2 - from,
		      (unsigned long long)took);
	else
		conf_check(&tc->t, 0, "%s: n%d -> n%d: %s within %llu ms (%llu frames seen, %llu corrupt, %llu with a wrong from_node)",
		      what, from + 1, 2 - from, ret ? "not delivered" : "delivered",
		      (unsigned long long)limit_ms, (unsigned long long)rx->frames,
		      (unsigned long long)rx->corrupt, (unsigned long long)rx->bad_hint);
}

/* Up to TC_BATCH frames of the burst from each side; -EAGAIN: again later. */
static int burst_send(struct tc *tc, size_t sent[2], uint64_t *eagain, int *err)
{
	int busy = 0;

	for (int i = 0; i < 2; i++) {
		struct tc_side *peer = &tc->side[1 - i];

		for (int b = 0; b < TC_BATCH && sent[i] < TC_BURST; b++) {
			struct tc_expect *e = &peer->exp[sent[i]];
			int ret = tc_send(tc, i, peer->id, e->data, e->len);

			if (ret == -EAGAIN) {
				(*eagain)++;
				break;
			}
			if (ret < 0 && !*err)
				*err = ret;
			sent[i]++;
		}
		busy |= sent[i] < TC_BURST;
	}
	return busy;
}

static void check_burst(struct tc *tc)
{
	size_t sent[2] = { 0, 0 };
	uint64_t eagain = 0, start = mono_ms(), quiet;
	int err = 0, busy = 1;

	if (phase_begin(tc, PH_BURST, TC_BURST, 0) < 0)
	{
		conf_check(&tc->t, 0, "burst: out of memory");
		return;
	}
	while (busy && mono_ms() - start < 10000) {
		busy = burst_send(tc, sent, &eagain, &err);
		vg_loop_run_once(tc->loop, busy ? 0 : 5);
	}
	/* all sent: wait for them (lossy: until 1 s after the last send) */
	quiet = mono_ms();
	while (mono_ms() - start < 15000 &&
	       (tc->side[0].rx.matched < TC_BURST || tc->side[1].rx.matched < TC_BURST) &&
	       (!tc->o.lossy || mono_ms() - quiet < 1000))
		vg_loop_run_once(tc->loop, 5);
	for (int i = 0; i < 2; i++) {
		const struct tc_rx *rx = &tc->side[1 - i].rx;
		int ok = !err && !rx->corrupt && !rx->bad_hint && sent[i] == TC_BURST &&
			 (tc->o.lossy ? rx->matched > 0 : rx->matched == TC_BURST && !rx->dup);

		conf_check(&tc->t, ok, "burst of %d frames of 1..%zu bytes n%d -> n%d in %llu ms: %llu intact, %llu duplicated, %llu corrupt or cut, %llu with a wrong from_node, %llu own ignored, %zu sent, %llu -EAGAIN (resent)%s%s",
		      TC_BURST, tc->max_frame, i + 1, 2 - i,
		      (unsigned long long)(mono_ms() - start), (unsigned long long)rx->matched,
		      (unsigned long long)rx->dup, (unsigned long long)rx->corrupt,
		      (unsigned long long)rx->bad_hint, (unsigned long long)rx->own, sent[i],
		      (unsigned long long)eagain,
		      err ? ", send error: " : "", err ? strerror(-err) : "");
	}
}

static void check_emsgsize(struct tc *tc)
{
	size_t m[2];

	for (int i = 0; i < 2; i++) {
		int ret;

		m[i] = vg_plugin_inst_max_frame(tc->side[i].pi);
		frame_fill(tc->buf, tc->max_frame + 1, (uint32_t)i + 1, PH_NONE, 0);
		ret = tc_send(tc, i, 2 - (uint32_t)i, tc->buf, m[i] + 1);
		conf_check(&tc->t, ret == -EMSGSIZE, "n%d: send of max_frame+1 (%zu bytes) returns -EMSGSIZE (got %d%s%s)",
		      i + 1, m[i] + 1, ret, ret < 0 ? ": " : "", ret < 0 ? strerror(-ret) : "");
	}
}

/* Instance 2 closed: sends from 1 for 1 s, each must return at once. */
static void check_vanish(struct tc *tc)
{
	uint64_t start = mono_ms(), sends = 0, errors = 0, before = tc->max_send_ms;
	int last_err = 0;

	side_close(&tc->side[1]);
	tc->max_send_ms = 0;
	if (phase_begin(tc, PH_VANISH, 1, TC_PROBE_LEN < tc->max_frame ? TC_PROBE_LEN : tc->max_frame) < 0)
	{
		conf_check(&tc->t, 0, "peer vanished: out of memory");
		return;
	}
	while (mono_ms() - start < 1000) {
		for (int k = 0; k < 2; k++) {
			int ret = tc_send(tc, 0, k ? VG_NODE_ALL : 2, tc->side[1].exp[0].data,
					  tc->side[1].exp[0].len);

			sends++;
			if (ret < 0) {
				errors++;
				last_err = ret;
			}
		}
		run_for(tc, 10);
	}
	conf_check(&tc->t, tc->max_send_ms <= TC_GAP_MAX_MS,
	      "peer vanished: %llu sends from n1 in 1 s, longest %llu ms (limit %d), %llu errors%s%s",
	      (unsigned long long)sends, (unsigned long long)tc->max_send_ms, TC_GAP_MAX_MS,
	      (unsigned long long)errors, last_err ? ", last: " : "",
	      last_err ? strerror(-last_err) : "");
	if (before > tc->max_send_ms)
		tc->max_send_ms = before;
}

/*
 * Reopen instance 2: delivery both ways; a transport that reports link
 * states (a stream) must show the link to n2 up again on n1.
 */
static void check_resume(struct tc *tc)
{
	struct tc_side *n1 = &tc->side[0];
	uint64_t start;
	int ret;

	ret = side_open(tc, &tc->side[1]);
	conf_check(&tc->t, ret == 0, "peer back: reopen instance 2%s%s", ret ? ": " : "",
	      ret ? strerror(-ret) : "");
	if (ret)
		return;
	check_probe(tc, 0, 2, PH_RESUME_12, 5000, "peer back");
	check_probe(tc, 1, 1, PH_RESUME_21, 5000, "peer back");
	if (!n1->link_known)
		return;
	start = mono_ms();
	while (!n1->link_up && mono_ms() - start < 5000)
		vg_loop_run_once(tc->loop, 5);
	conf_check(&tc->t, n1->link_up, "peer back: n1 shows the link to n2 up (reported down %llu time(s) meanwhile)",
	      (unsigned long long)n1->link_downs);
}

/* Returns 0 when both instances opened (the final checks then mean something). */
static int run_checks(struct tc *tc)
{
	int ret;

	for (int i = 0; i < 2; i++) {
		ret = side_open(tc, &tc->side[i]);
		conf_check(&tc->t, ret == 0, "open instance %d (n%d) of %s%s%s", i + 1, i + 1,
		      tc->info->name, ret ? ": " : "", ret ? strerror(-ret) : "");
		if (ret)
			return ret;
	}
	tc->max_frame = vg_plugin_inst_max_frame(tc->side[0].pi);
	conf_check(&tc->t, tc->max_frame > 0 && tc->max_frame == vg_plugin_inst_max_frame(tc->side[1].pi),
	      "max_frame %zu on both instances", tc->max_frame);
	tc->buf = malloc(tc->max_frame + 1);
	if (!tc->max_frame || !tc->buf)
		return 0;
	check_probe(tc, 0, 2, PH_PROBE_12, 2000, "delivery");
	check_probe(tc, 1, 1, PH_PROBE_21, 2000, "delivery");
	check_burst(tc);
	check_probe(tc, 0, VG_NODE_ALL, PH_BCAST_1, 2000, "broadcast VG_NODE_ALL");
	check_probe(tc, 1, VG_NODE_ALL, PH_BCAST_2, 2000, "broadcast VG_NODE_ALL");
	check_emsgsize(tc);
	if (tc->o.peer_restart) {
		check_vanish(tc);
		check_resume(tc);
	} else {
		printf("# peer restart not checked: give --peer-restart\n");
	}
	return 0;
}

static void run_final_checks(struct tc *tc)
{
	conf_check(&tc->t, tc->max_gap_ms <= TC_GAP_MAX_MS && tc->max_send_ms <= TC_GAP_MAX_MS,
	      "no blocking: the %d ms timer's longest gap was %llu ms (wall clock %llu ms with waits for a CPU), longest send %llu ms (limit %d for both)",
	      TC_TICK_MS, (unsigned long long)tc->max_gap_ms, (unsigned long long)tc->gap_wall_ms,
	      (unsigned long long)tc->max_send_ms, TC_GAP_MAX_MS);
	conf_check(&tc->t, tc->reentrant == 0,
	      "no callback from inside send (%llu re-entrant calls)", (unsigned long long)tc->reentrant);
}

/* ---- command line ---- */

static void usage(void)
{
	fprintf(stderr,
		"usage: transport-conformance --plugin-dir DIRS PLUGIN [--addr1 A --addr2 B]\n"
		"         [--param k=v]... [--param1 k=v]... [--param2 k=v]...\n"
		"         [--attr k=v]... [--attr1 k=v]... [--attr2 k=v]...\n"
		"         [--peer-restart] [--lossy] [--seed N] [--verbose]\n"
		"  \"%%n\" in a value is the node's name (n1, n2), \"%%i\" its id (1, 2).\n");
}

static int parse_args(struct tc_opts *o, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "plugin-dir", required_argument, NULL, 'd' }, { "addr1", required_argument, NULL, '1' },
		{ "addr2", required_argument, NULL, '2' }, { "param", required_argument, NULL, 'p' },
		{ "param1", required_argument, NULL, 'P' }, { "param2", required_argument, NULL, 'Q' },
		{ "attr", required_argument, NULL, 'a' }, { "attr1", required_argument, NULL, 'A' },
		{ "attr2", required_argument, NULL, 'B' }, { "peer-restart", no_argument, NULL, 'r' },
		{ "lossy", no_argument, NULL, 'l' }, { "seed", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret = 0;

	while (ret == 0 && (c = getopt_long(argc, argv, "v", opts, NULL)) != -1) {
		switch (c) {
		case 'd': o->dirs = optarg; break;
		case '1': o->addr[0] = optarg; break;
		case '2': o->addr[1] = optarg; break;
		case 'p': ret = kv_add(&o->param[0], optarg, 0); break;
		case 'P': ret = kv_add(&o->param[1], optarg, 0); break;
		case 'Q': ret = kv_add(&o->param[2], optarg, 0); break;
		case 'a': ret = kv_add(&o->attr[0], optarg, 0); break;
		case 'A': ret = kv_add(&o->attr[1], optarg, 0); break;
		case 'B': ret = kv_add(&o->attr[2], optarg, 0); break;
		case 'r': o->peer_restart = 1; break;
		case 'l': o->lossy = 1; break;
		case 's': o->seed = strtoull(optarg, NULL, 0); break;
		case 'v': o->verbose = 1; break;
		default: return -EINVAL;
		}
	}
	if (ret < 0 || optind != argc - 1 || !o->dirs)
		return -EINVAL;
	o->plugin = argv[optind];
	return 0;
}

int main(int argc, char **argv)
{
	static struct tc tc;
	int ret;

	if (parse_args(&tc.o, argc, argv) < 0) {
		usage();
		return 2;
	}
	/* As vigild does (core/daemon.c): a write to a closed socket is an error, not a death. */
	signal(SIGPIPE, SIG_IGN);
	tc.rng = tc.o.seed ? tc.o.seed : (mono_ms() ^ ((uint64_t)getpid() << 32)) | 1;
	printf("# %s: n1 at %s, n2 at %s, seed %llu%s\n", tc.o.plugin,
	       tc.o.addr[0] ? tc.o.addr[0] : "-", tc.o.addr[1] ? tc.o.addr[1] : "-",
	       (unsigned long long)tc.rng, tc.o.lossy ? ", lossy" : "");
	ret = tc_setup(&tc);
	if (ret < 0) {
		conf_check(&tc.t, 0, "load plugin %s and set up the loop: %s", tc.o.plugin, strerror(-ret));
	} else if (run_checks(&tc) == 0) {
		run_final_checks(&tc);
	}
	tc_teardown(&tc);
	printf("%d passed, %d failed\n", tc.t.passed, tc.t.failed);
	return tc.t.failed ? 1 : 0;
}
