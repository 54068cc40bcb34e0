/*
 * The event loop: one epoll set owns every fd, one timerfd drives a
 * min-heap of timers, a signalfd delivers signals and SIGCHLD, and children
 * are reaped with a per-child timeout (SIGTERM, then SIGKILL).
 * Single-threaded; nothing here blocks.
 */
#ifndef VG_CORE_LOOP_H
#define VG_CORE_LOOP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <vigil/host.h>

struct vg_logger;
struct vg_loop;

/* Handles (the SDK's opaque types), owned by the loop. */
struct vg_timer {
	struct vg_loop *loop;
	uint64_t due_ms;
	uint64_t repeat_ms;
	vg_timer_cb cb;
	void *arg;
	const void *owner;    /* plugin instance that started it, or NULL */
	size_t heap_idx;      /* position in the heap, SIZE_MAX when not queued */
	int firing;           /* inside its callback */
	int stopped;          /* stopped while firing: free after the callback */
};

struct vg_watch {
	struct vg_loop *loop;
	int fd;
	uint32_t events;
	vg_fd_cb cb;
	void *arg;
	const void *owner;
	int dead;             /* unwatched: freed at the end of the iteration */
	struct vg_watch *next_dead;
	struct vg_watch *prev, *next; /* live watches of the loop */
};

struct vg_child;

typedef void (*vg_signal_cb)(void *arg, int signo);

int vg_loop_new(const struct vg_logger *log, struct vg_loop **out);
void vg_loop_free(struct vg_loop *loop);

/* Monotonic ms, read once per iteration (and at creation). */
uint64_t vg_loop_now_ms(const struct vg_loop *loop);
/* Re-read the clock now (for code that measures inside an iteration). */
uint64_t vg_loop_update_time(struct vg_loop *loop);

/* Run until vg_loop_stop(); returns the code given to it. */
int vg_loop_run(struct vg_loop *loop);
/* One iteration: wait at most timeout_ms (-1: until something happens). */
int vg_loop_run_once(struct vg_loop *loop, int timeout_ms);
void vg_loop_stop(struct vg_loop *loop, int code);
int vg_loop_stopped(const struct vg_loop *loop);

/* Timers (timer.c).  after_ms from now; repeat_ms 0 = once. */
int vg_loop_timer_start(struct vg_loop *loop, uint64_t after_ms, uint64_t repeat_ms,
			vg_timer_cb cb, void *arg, const void *owner, struct vg_timer **out);
void vg_loop_timer_stop(struct vg_loop *loop, struct vg_timer *t);
size_t vg_loop_timer_count(const struct vg_loop *loop);

/* fd watches. */
int vg_loop_fd_watch(struct vg_loop *loop, int fd, uint32_t events, vg_fd_cb cb, void *arg,
		     const void *owner, struct vg_watch **out);
int vg_loop_fd_modify(struct vg_loop *loop, struct vg_watch *w, uint32_t events);
void vg_loop_fd_unwatch(struct vg_loop *loop, struct vg_watch *w);

/* Signals: the signal is blocked and delivered through the signalfd. */
int vg_loop_signal(struct vg_loop *loop, int signo, vg_signal_cb cb, void *arg);

/* Children (child.c). */
int vg_loop_spawn(struct vg_loop *loop, const struct vg_spawn *req, vg_child_cb cb, void *arg,
		  const void *owner, struct vg_child **out);
void vg_loop_child_cancel(struct vg_loop *loop, struct vg_child *c);
size_t vg_loop_child_count(const struct vg_loop *loop);

/* Stop every timer and watch, and kill every child, that `owner` holds (no callbacks). */
void vg_loop_release_owner(struct vg_loop *loop, const void *owner);

/* Internal to loop.c/timer.c/child.c. */
struct vg_timer_heap {
	struct vg_timer **items;
	size_t n, cap;
};
int vg_timers_arm(struct vg_loop *loop);
void vg_timers_run(struct vg_loop *loop);
void vg_timers_free(struct vg_loop *loop);
void vg_children_reap(struct vg_loop *loop);
void vg_children_free(struct vg_loop *loop);
void vg_loop_release_children(struct vg_loop *loop, const void *owner);
struct vg_timer_heap *vg_loop_heap(struct vg_loop *loop);
int vg_loop_timerfd(const struct vg_loop *loop);
const struct vg_logger *vg_loop_log(const struct vg_loop *loop);
struct vg_child **vg_loop_children_head(struct vg_loop *loop);

#endif
