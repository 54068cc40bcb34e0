/*
 * chaos — a vigil transport that wraps another one and injects loss, delay,
 * duplication and reordering, for tests on machines without netem.
 *
 * The instance opens the inner transport named by `plugin` (ABI 1.2,
 * vg_inner_open) with its own `attributes` group as the inner's params.
 * Frames go send -> inject -> inner send, and inner receive -> inject ->
 * vg_frame_received; the inner's link states pass through untouched.
 *
 * A frame that enters an affected direction is dropped (loss_pct), else
 * copied (dup_pct); each copy waits delay_ms plus 0..jitter_ms in one queue
 * ordered by due time (frames due at the same time keep their order), and
 * when it leaves the queue it may be held back (reorder_pct) until the next
 * frame of its direction has gone, or until a flush timer fires.  At most
 * CHAOS_MAX_HELD frames are held; beyond that a frame is dropped and counted.
 *
 * Randomness is this instance's own xorshift64* state: a fixed seed gives
 * the same decisions for the same sequence of frames.
 *
 * Built against the SDK only.  See docs/plugins/chaos.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <vigil/plugin.h>

#define CHAOS_MAX_HELD       1024  /* frames waiting in the delay queue or reorder slots */
#define CHAOS_REORDER_MAX_MS 100   /* a held-back frame goes when no next one came by then */

enum { P_PLUGIN, P_LOSS, P_DELAY, P_JITTER, P_DUP, P_REORDER, P_DIRECTION, P_SEED, P_COUNT };

/* Directions: index of the stats and reorder slots, and bits of the `direction` mask. */
enum chaos_dir { DIR_RX = 0, DIR_TX = 1, DIR_COUNT };

static const char *const chaos_directions[] = { "rx", "tx", "both", NULL };

static const struct vg_param_decl chaos_params[] = {
	[P_PLUGIN] = { .name = "plugin", .type = VG_PARAM_STRING, .flags = VG_PARAM_REQUIRED,
		       .help = "the wrapped transport plugin (its params are this instance's attributes)" },
	[P_LOSS] = { .name = "loss_pct", .type = VG_PARAM_INT, .def = "0", .min = 0, .max = 100,
		     .help = "percentage of frames dropped" },
	[P_DELAY] = { .name = "delay_ms", .type = VG_PARAM_DURATION_MS, .def = "0",
		      .min = 0, .max = 60000, .help = "delay added to every frame" },
	[P_JITTER] = { .name = "jitter_ms", .type = VG_PARAM_DURATION_MS, .def = "0",
		       .min = 0, .max = 60000, .help = "uniform extra delay 0..jitter_ms per frame" },
	[P_DUP] = { .name = "dup_pct", .type = VG_PARAM_INT, .def = "0", .min = 0, .max = 100,
		    .help = "percentage of frames delivered twice" },
	[P_REORDER] = { .name = "reorder_pct", .type = VG_PARAM_INT, .def = "0", .min = 0, .max = 100,
			.help = "percentage of frames held back and delivered after the next one" },
	[P_DIRECTION] = { .name = "direction", .type = VG_PARAM_ENUM, .def = "both",
			  .choices = chaos_directions,
			  .help = "frames affected: received (rx), sent (tx) or both" },
	[P_SEED] = { .name = "seed", .type = VG_PARAM_INT, .def = "0",
		     .help = "random seed; 0: from the clock (logged), else reproducible" },
	[P_COUNT] = { .name = NULL },
};

/* What happened to the frames of one direction; logged at close. */
struct chaos_stats {
	uint64_t in, out, dropped, duplicated, delayed, reordered, overflow, errors;
};

/* A held frame: in the delay queue or a reorder slot.  Owned by the instance. */
struct chaos_frame {
	struct chaos_frame *next;   /* delay queue, by due time */
	uint64_t due_ms;
	enum chaos_dir dir;
	uint32_t node;              /* tx: destination; rx: the inner's from_node hint */
	size_t len;
	unsigned char data[];
};

struct chaos;

/* Reorder: one frame of a direction held back until the next one has gone. */
struct chaos_slot {
	struct chaos *c;
	enum chaos_dir dir;
	struct chaos_frame *frame;  /* NULL: empty */
	struct vg_timer *timer;     /* one-shot flush, CHAOS_REORDER_MAX_MS */
};

/* One instance.  Allocated by open, freed by close. */
struct chaos {
	const struct vg_host *host;
	const char *name;
	struct vg_inner *inner;
	uint64_t rng;                           /* xorshift64* state, never 0 */
	int64_t loss_pct, dup_pct, reorder_pct;
	uint64_t delay_ms, jitter_ms;
	unsigned dir_mask;                      /* bit (1 << DIR_*) set: injected */
	struct chaos_frame *queue;              /* delay queue, sorted by due_ms */
	struct vg_timer *queue_timer;           /* one-shot, for the queue's head */
	struct chaos_slot slot[DIR_COUNT];
	size_t n_held;
	struct chaos_stats st[DIR_COUNT];
};

static uint64_t chaos_rand(struct chaos *c)
{
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return c->rng * UINT64_C(2685821657736338717);
}

/* 1 with probability pct/100. */
static int chaos_chance(struct chaos *c, int64_t pct)
{
	return pct > 0 && (int64_t)(chaos_rand(c) % 100) < pct;
}

/* splitmix64 of the seed, so that small seeds give well-mixed states. */
static void chaos_seed(struct chaos *c, uint64_t seed)
{
	uint64_t z = seed + UINT64_C(0x9e3779b97f4a7c15);

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	z ^= z >> 31;
	c->rng = z ? z : UINT64_C(0x9e3779b97f4a7c15);
}

/* Hand one frame on: to the inner transport (tx) or to the core (rx). */
static int chaos_deliver(struct chaos *c, enum chaos_dir dir, uint32_t node,
			 const void *data, size_t len)
{
	int ret = 0;

	if (dir == DIR_TX) {
		ret = vg_inner_send(c->host, c->inner, node, data, len);
		if (ret < 0)
			c->st[dir].errors++;
	} else {
		vg_frame_received(c->host, data, len, node);
	}
	c->st[dir].out++;
	return ret;
}

static struct chaos_frame *chaos_frame_new(struct chaos *c, enum chaos_dir dir, uint32_t node,
					   const void *data, size_t len)
{
	struct chaos_frame *f;

	if (c->n_held >= CHAOS_MAX_HELD) {
		c->st[dir].overflow++;
		return NULL;
	}
	f = malloc(sizeof(*f) + len);
	if (!f) {
		c->st[dir].overflow++;
		return NULL;
	}
	f->next = NULL;
	f->dir = dir;
	f->node = node;
	f->len = len;
	memcpy(f->data, data, len);
	c->n_held++;
	return f;
}

static void chaos_frame_free(struct chaos *c, struct chaos_frame *f)
{
	c->n_held--;
	free(f);
}

/* Reorder slot timer: the frame held back saw no next one; let it go. */
static void chaos_slot_flush(struct chaos_slot *sl)
{
	struct chaos_frame *f = sl->frame;

	sl->frame = NULL;
	vg_timer_stop(sl->c->host, sl->timer);
	sl->timer = NULL;
	if (!f)
		return;
	chaos_deliver(sl->c, sl->dir, f->node, f->data, f->len);
	chaos_frame_free(sl->c, f);
}

static void chaos_slot_timer_cb(void *arg)
{
	struct chaos_slot *sl = arg;

	sl->timer = NULL;   /* one-shot: freed by the core on return */
	chaos_slot_flush(sl);
}

/*
 * The last step of a frame: maybe held back in its direction's reorder
 * slot, else delivered, followed by a frame the slot held.
 */
static int chaos_release(struct chaos *c, enum chaos_dir dir, uint32_t node,
			 const void *data, size_t len)
{
	struct chaos_slot *sl = &c->slot[dir];
	struct chaos_frame *f;
	int ret;

	if (!sl->frame && chaos_chance(c, c->reorder_pct)) {
		f = chaos_frame_new(c, dir, node, data, len);
		if (!f)
			return dir == DIR_TX ? -EAGAIN : 0;
		if (vg_timer_start(c->host, CHAOS_REORDER_MAX_MS, 0, chaos_slot_timer_cb, sl,
				   &sl->timer) < 0) {
			chaos_frame_free(c, f);
			return chaos_deliver(c, dir, node, data, len);
		}
		sl->frame = f;
		c->st[dir].reordered++;
		return 0;
	}
	ret = chaos_deliver(c, dir, node, data, len);
	chaos_slot_flush(sl);
	return ret;
}

static void chaos_queue_timer_cb(void *arg);

/* Arm the one-shot timer for the head of the delay queue. */
static void chaos_queue_arm(struct chaos *c)
{
	uint64_t now = vg_now_ms(c->host), after;

	vg_timer_stop(c->host, c->queue_timer);
	c->queue_timer = NULL;
	if (!c->queue)
		return;
	after = c->queue->due_ms > now ? c->queue->due_ms - now : 0;
	if (vg_timer_start(c->host, after, 0, chaos_queue_timer_cb, c, &c->queue_timer) < 0)
		vg_warn(c->host, "chaos: cannot arm the delay timer; %zu frame(s) wait", c->n_held);
}

/* Due frames leave the queue in order; at least the head (its timer fired). */
static void chaos_queue_timer_cb(void *arg)
{
	struct chaos *c = arg;
	uint64_t now = vg_now_ms(c->host);
	struct chaos_frame *f;

	c->queue_timer = NULL;       /* one-shot: freed by the core on return */
	do {
		f = c->queue;
		c->queue = f->next;
		chaos_release(c, f->dir, f->node, f->data, f->len);
		chaos_frame_free(c, f);
	} while (c->queue && c->queue->due_ms <= now);
	chaos_queue_arm(c);
}

/* Put one copy in the delay queue; frames due at the same time keep their order. */
static int chaos_delay(struct chaos *c, enum chaos_dir dir, uint32_t node,
		       const void *data, size_t len)
{
	struct chaos_frame *f, **pp;
	uint64_t extra = c->jitter_ms ? chaos_rand(c) % (c->jitter_ms + 1) : 0;

	f = chaos_frame_new(c, dir, node, data, len);
	if (!f)
		return dir == DIR_TX ? -EAGAIN : 0;
	f->due_ms = vg_now_ms(c->host) + c->delay_ms + extra;
	for (pp = &c->queue; *pp && (*pp)->due_ms <= f->due_ms; pp = &(*pp)->next)
		;
	f->next = *pp;
	*pp = f;
	c->st[dir].delayed++;
	if (c->queue == f || !c->queue_timer)
		chaos_queue_arm(c);
	return 0;
}

/* A frame enters: tx from send(), rx from the inner transport. */
static int chaos_inject(struct chaos *c, enum chaos_dir dir, uint32_t node,
			const void *data, size_t len)
{
	int copies = 1, ret = 0, r, i;

	c->st[dir].in++;
	if (!(c->dir_mask & (1u << dir)))
		return chaos_deliver(c, dir, node, data, len);
	if (chaos_chance(c, c->loss_pct)) {
		c->st[dir].dropped++;
		return 0;
	}
	if (chaos_chance(c, c->dup_pct)) {
		c->st[dir].duplicated++;
		copies = 2;
	}
	for (i = 0; i < copies; i++) {
		if (c->delay_ms || c->jitter_ms)
			r = chaos_delay(c, dir, node, data, len);
		else
			r = chaos_release(c, dir, node, data, len);
		if (i == 0)
			ret = r;
	}
	return ret;
}

static void chaos_inner_rx(void *arg, const void *frame, size_t len, uint32_t from_node)
{
	chaos_inject(arg, DIR_RX, from_node, frame, len);
}

static void chaos_inner_link(void *arg, uint32_t node_id, int up)
{
	struct chaos *c = arg;

	vg_link_state(c->host, node_id, up);
}

static void chaos_stats_log(struct chaos *c)
{
	static const char *const names[DIR_COUNT] = { "rx", "tx" };
	const struct chaos_stats *s;
	int d;

	for (d = 0; d < DIR_COUNT; d++) {
		s = &c->st[d];
		vg_info(c->host, "chaos: %s: frames in %llu out %llu, dropped %llu, duplicated %llu, delayed %llu, reordered %llu, overflow %llu, send errors %llu",
			names[d], (unsigned long long)s->in, (unsigned long long)s->out,
			(unsigned long long)s->dropped, (unsigned long long)s->duplicated,
			(unsigned long long)s->delayed, (unsigned long long)s->reordered,
			(unsigned long long)s->overflow, (unsigned long long)s->errors);
	}
}

static void chaos_close(void *state)
{
	struct chaos *c = state;
	struct chaos_frame *f;
	size_t discarded = c->n_held;
	int d;

	vg_timer_stop(c->host, c->queue_timer);
	while ((f = c->queue)) {
		c->queue = f->next;
		chaos_frame_free(c, f);
	}
	for (d = 0; d < DIR_COUNT; d++) {
		vg_timer_stop(c->host, c->slot[d].timer);
		if (c->slot[d].frame)
			chaos_frame_free(c, c->slot[d].frame);
	}
	if (c->inner) {
		chaos_stats_log(c);
		if (discarded)
			vg_info(c->host, "chaos: %zu held frame(s) discarded at close", discarded);
	}
	vg_inner_close(c->host, c->inner);
	free(c);
}

/* Parameters into the instance; a seed of 0 comes from the clock and is logged. */
static void chaos_configure(struct chaos *c, const struct vg_instance *inst)
{
	const struct vg_value *p = inst->params;
	static const unsigned masks[] = { 1u << DIR_RX, 1u << DIR_TX, (1u << DIR_RX) | (1u << DIR_TX) };
	uint64_t seed = (uint64_t)p[P_SEED].i;
	struct timespec ts;

	c->loss_pct = p[P_LOSS].i;
	c->dup_pct = p[P_DUP].i;
	c->reorder_pct = p[P_REORDER].i;
	c->delay_ms = (uint64_t)p[P_DELAY].i;
	c->jitter_ms = (uint64_t)p[P_JITTER].i;
	c->dir_mask = masks[p[P_DIRECTION].i >= 0 && p[P_DIRECTION].i < 3 ? p[P_DIRECTION].i : 2];
	if (!seed) {
		clock_gettime(CLOCK_REALTIME, &ts);
		seed = ((uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec) ^
		       ((uint64_t)(uintptr_t)c << 16) ^ vg_local_node_id(c->host);
		seed &= INT64_MAX;
		if (!seed)
			seed = 1;
	}
	chaos_seed(c, seed);
	vg_info(c->host, "chaos: link %u over %s: loss %lld%%, delay %llu+0..%llu ms, dup %lld%%, reorder %lld%%, direction %s, seed %llu%s",
		inst->link, p[P_PLUGIN].s, (long long)c->loss_pct,
		(unsigned long long)c->delay_ms, (unsigned long long)c->jitter_ms,
		(long long)c->dup_pct, (long long)c->reorder_pct, p[P_DIRECTION].s,
		(unsigned long long)seed, p[P_SEED].i ? "" : " (from the clock)");
}

static int chaos_open(const struct vg_host *host, const struct vg_instance *inst, void **state)
{
	static const struct vg_inner_cbs cbs = {
		.frame_received = chaos_inner_rx,
		.link_state = chaos_inner_link,
	};
	const char *plugin = inst->params[P_PLUGIN].s;
	struct chaos *c;
	int ret;

	if (!plugin || !*plugin || !strcmp(plugin, "chaos")) {
		vg_err(host, "chaos: plugin must name another transport plugin, got \"%s\"",
		       plugin ? plugin : "");
		return -EINVAL;
	}
	c = calloc(1, sizeof(*c));
	if (!c) {
		vg_err(host, "chaos: out of memory");
		return -ENOMEM;
	}
	c->host = host;
	c->name = inst->name;
	for (int d = 0; d < DIR_COUNT; d++)
		c->slot[d] = (struct chaos_slot){ .c = c, .dir = (enum chaos_dir)d };
	ret = vg_inner_open(host, plugin, inst->attrs, inst->n_attrs, &cbs, c, &c->inner);
	if (ret < 0) {
		vg_err(host, "chaos: cannot open the inner transport \"%s\": %s%s", plugin,
		       strerror(-ret), ret == -ENOSYS ? " (this vigild is older than ABI 1.2)" : "");
		c->inner = NULL;
		chaos_close(c);
		return ret;
	}
	chaos_configure(c, inst);
	*state = c;
	return 0;
}

static int chaos_send(void *state, uint32_t to_node, const void *frame, size_t len)
{
	struct chaos *c = state;

	if (len > vg_inner_max_frame(c->host, c->inner))
		return -EMSGSIZE;
	return chaos_inject(c, DIR_TX, to_node, frame, len);
}

static size_t chaos_max_frame(void *state)
{
	struct chaos *c = state;

	return vg_inner_max_frame(c->host, c->inner);
}

static const struct vg_transport_ops chaos_ops = {
	.send = chaos_send,
	.max_frame = chaos_max_frame,
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_TRANSPORT,
	.name = "chaos",
	.version = "1.0",
	.description = "wraps another transport and injects loss, delay, duplication and reordering (tests)",
	.params = chaos_params,
	.open = chaos_open,
	.close = chaos_close,
	.ops = &chaos_ops,
	.flags = VG_PLUGIN_F_ATTRS);
