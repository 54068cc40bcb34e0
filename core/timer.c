/* Timers: a min-heap ordered by due time, armed on one timerfd. */
#include "loop.h"
#include "log.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/timerfd.h>

/* A timer that runs later than this is logged: the loop was held up. */
#define LATE_WARN_MS 5

static int before(const struct vg_timer *a, const struct vg_timer *b)
{
	return a->due_ms < b->due_ms;
}

static void heap_set(struct vg_timer_heap *h, size_t i, struct vg_timer *t)
{
	h->items[i] = t;
	t->heap_idx = i;
}

static void sift_up(struct vg_timer_heap *h, size_t i)
{
	struct vg_timer *t = h->items[i];

	while (i > 0 && before(t, h->items[(i - 1) / 2])) {
		heap_set(h, i, h->items[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
	heap_set(h, i, t);
}

static void sift_down(struct vg_timer_heap *h, size_t i)
{
	struct vg_timer *t = h->items[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(h->items[c + 1], h->items[c]))
			c++;
		if (!before(h->items[c], t))
			break;
		heap_set(h, i, h->items[c]);
		i = c;
	}
	heap_set(h, i, t);
}

static int heap_push(struct vg_timer_heap *h, struct vg_timer *t)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		struct vg_timer **items = realloc(h->items, cap * sizeof(*items));

		if (!items)
			return -ENOMEM;
		h->items = items;
		h->cap = cap;
	}
	h->items[h->n] = t;
	t->heap_idx = h->n++;
	sift_up(h, t->heap_idx);
	return 0;
}

static void heap_remove(struct vg_timer_heap *h, struct vg_timer *t)
{
	size_t i = t->heap_idx;

	t->heap_idx = SIZE_MAX;
	if (--h->n == i)
		return;
	heap_set(h, i, h->items[h->n]);
	if (i > 0 && before(h->items[i], h->items[(i - 1) / 2]))
		sift_up(h, i);
	else
		sift_down(h, i);
}

int vg_loop_timer_start(struct vg_loop *loop, uint64_t after_ms, uint64_t repeat_ms,
			vg_timer_cb cb, void *arg, const void *owner, struct vg_timer **out)
{
	struct vg_timer *t;
	int rc;

	if (!cb || !out)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	*t = (struct vg_timer){ .loop = loop, .due_ms = vg_loop_now_ms(loop) + after_ms,
				.repeat_ms = repeat_ms, .cb = cb, .arg = arg, .owner = owner };
	rc = heap_push(vg_loop_heap(loop), t);
	if (rc < 0) {
		free(t);
		return rc;
	}
	*out = t;
	return 0;
}

void vg_loop_timer_stop(struct vg_loop *loop, struct vg_timer *t)
{
	if (!t)
		return;
	if (t->firing) {
		t->stopped = 1;
		return;
	}
	if (t->heap_idx != SIZE_MAX)
		heap_remove(vg_loop_heap(loop), t);
	free(t);
}

size_t vg_loop_timer_count(const struct vg_loop *loop)
{
	return vg_loop_heap((struct vg_loop *)loop)->n;
}

int vg_timers_arm(struct vg_loop *loop)
{
	struct vg_timer_heap *h = vg_loop_heap(loop);
	struct itimerspec its = { 0 };

	if (h->n > 0) {
		uint64_t due = h->items[0]->due_ms;

		/* Absolute time on the same clock; 0 would disarm, so at least 1 ns. */
		its.it_value.tv_sec = (time_t)(due / 1000);
		its.it_value.tv_nsec = (long)(due % 1000) * 1000000L;
		if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(vg_loop_timerfd(loop), TFD_TIMER_ABSTIME, &its, NULL) < 0)
		return -errno;
	return 0;
}

static void fire(struct vg_loop *loop, struct vg_timer *t, uint64_t now)
{
	struct vg_timer_heap *h = vg_loop_heap(loop);

	if (now > t->due_ms + LATE_WARN_MS)
		vg_logf(vg_loop_log(loop), VG_LOG_WARNING, "loop",
			"timer ran %llu ms late: the loop was held up",
			(unsigned long long)(now - t->due_ms));
	heap_remove(h, t);
	t->firing = 1;
	t->cb(t->arg);
	t->firing = 0;
	if (t->stopped || t->repeat_ms == 0) {
		free(t);
		return;
	}
	/* Keep the cadence, but never queue a burst of catch-up runs. */
	t->due_ms += t->repeat_ms;
	if (t->due_ms <= now)
		t->due_ms = now + t->repeat_ms;
	if (heap_push(h, t) < 0) {
		vg_logf(vg_loop_log(loop), VG_LOG_ERR, "loop", "out of memory re-arming a timer");
		free(t);
	}
}

void vg_timers_run(struct vg_loop *loop)
{
	struct vg_timer_heap *h = vg_loop_heap(loop);
	uint64_t now = vg_loop_update_time(loop);
	/* Bounded: timers started by callbacks with after_ms 0 wait a turn. */
	size_t budget = h->n;

	while (budget-- > 0 && h->n > 0 && h->items[0]->due_ms <= now)
		fire(loop, h->items[0], now);
}

void vg_timers_free(struct vg_loop *loop)
{
	struct vg_timer_heap *h = vg_loop_heap(loop);

	for (size_t i = 0; i < h->n; i++)
		free(h->items[i]);
	free(h->items);
	h->items = NULL;
	h->n = h->cap = 0;
}
