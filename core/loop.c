/* The event loop: epoll over every fd, with timers and signals as fds too. */
#include "loop.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define MAX_SIGNALS 8
#define EPOLL_BATCH 32

struct vg_signal_handler {
	int signo;
	vg_signal_cb cb;
	void *arg;
};

struct vg_loop {
	const struct vg_logger *log;
	int epfd;
	int timerfd;
	int sigfd;
	sigset_t sigmask;
	struct vg_watch *timer_watch;
	struct vg_watch *signal_watch;
	struct vg_signal_handler signals[MAX_SIGNALS];
	size_t n_signals;
	struct vg_timer_heap heap;
	struct vg_child *children;
	struct vg_watch *dead;
	struct vg_watch *watches;
	uint64_t now_ms;
	int stop;
	int stop_code;
};

static uint64_t clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t vg_loop_now_ms(const struct vg_loop *loop)
{
	return loop->now_ms;
}

uint64_t vg_loop_update_time(struct vg_loop *loop)
{
	loop->now_ms = clock_ms();
	return loop->now_ms;
}

struct vg_timer_heap *vg_loop_heap(struct vg_loop *loop)
{
	return &loop->heap;
}

int vg_loop_timerfd(const struct vg_loop *loop)
{
	return loop->timerfd;
}

const struct vg_logger *vg_loop_log(const struct vg_loop *loop)
{
	return loop->log;
}

struct vg_child **vg_loop_children_head(struct vg_loop *loop)
{
	return &loop->children;
}

static void timerfd_cb(void *arg, int fd, uint32_t events)
{
	struct vg_loop *loop = arg;
	uint64_t expirations;

	/* Non-blocking: a spurious wake-up just reads EAGAIN. */
	if (read(fd, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
		vg_logf(loop->log, VG_LOG_WARNING, "loop", "timerfd read: %s", strerror(errno));
	vg_timers_run(loop);
}

static void signalfd_cb(void *arg, int fd, uint32_t events)
{
	struct vg_loop *loop = arg;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			vg_children_reap(loop);
			continue;
		}
		for (size_t i = 0; i < loop->n_signals; i++)
			if (loop->signals[i].signo == (int)si.ssi_signo)
				loop->signals[i].cb(loop->signals[i].arg, (int)si.ssi_signo);
	}
}

static int signalfd_update(struct vg_loop *loop)
{
	if (sigprocmask(SIG_BLOCK, &loop->sigmask, NULL) < 0)
		return -errno;
	if (signalfd(loop->sigfd, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC) < 0)
		return -errno;
	return 0;
}

int vg_loop_new(const struct vg_logger *log, struct vg_loop **out)
{
	struct vg_loop *loop;
	int rc = -ENOMEM;

	loop = calloc(1, sizeof(*loop));
	if (!loop)
		return -ENOMEM;
	loop->log = log;
	loop->epfd = loop->timerfd = loop->sigfd = -1;
	loop->now_ms = clock_ms();
	sigemptyset(&loop->sigmask);
	sigaddset(&loop->sigmask, SIGCHLD);
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	loop->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (loop->epfd < 0 || loop->timerfd < 0)
		goto fail_errno;
	loop->sigfd = signalfd(-1, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (loop->sigfd < 0)
		goto fail_errno;
	rc = signalfd_update(loop);
	if (rc < 0)
		goto fail;
	rc = vg_loop_fd_watch(loop, loop->timerfd, VG_FD_READ, timerfd_cb, loop, NULL,
			      &loop->timer_watch);
	if (rc < 0)
		goto fail;
	rc = vg_loop_fd_watch(loop, loop->sigfd, VG_FD_READ, signalfd_cb, loop, NULL,
			      &loop->signal_watch);
	if (rc < 0)
		goto fail;
	*out = loop;
	return 0;
fail_errno:
	rc = -errno;
fail:
	vg_loop_free(loop);
	return rc;
}

static void free_dead_watches(struct vg_loop *loop)
{
	while (loop->dead) {
		struct vg_watch *w = loop->dead;

		loop->dead = w->next_dead;
		free(w);
	}
}

void vg_loop_free(struct vg_loop *loop)
{
	if (!loop)
		return;
	vg_children_free(loop);
	vg_timers_free(loop);
	if (loop->timer_watch)
		vg_loop_fd_unwatch(loop, loop->timer_watch);
	if (loop->signal_watch)
		vg_loop_fd_unwatch(loop, loop->signal_watch);
	free_dead_watches(loop);
	if (loop->sigfd >= 0)
		close(loop->sigfd);
	if (loop->timerfd >= 0)
		close(loop->timerfd);
	if (loop->epfd >= 0)
		close(loop->epfd);
	free(loop);
}

static uint32_t to_epoll(uint32_t events)
{
	return ((events & VG_FD_READ) ? EPOLLIN : 0) | ((events & VG_FD_WRITE) ? EPOLLOUT : 0);
}

int vg_loop_fd_watch(struct vg_loop *loop, int fd, uint32_t events, vg_fd_cb cb, void *arg,
		     const void *owner, struct vg_watch **out)
{
	struct epoll_event ev = { .events = to_epoll(events) };
	struct vg_watch *w;

	if (fd < 0 || !cb)
		return -EINVAL;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	*w = (struct vg_watch){ .loop = loop, .fd = fd, .events = events, .cb = cb, .arg = arg,
				.owner = owner };
	ev.data.ptr = w;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		int rc = -errno;

		free(w);
		return rc;
	}
	w->next = loop->watches;
	if (w->next)
		w->next->prev = w;
	loop->watches = w;
	if (out)
		*out = w;
	return 0;
}

int vg_loop_fd_modify(struct vg_loop *loop, struct vg_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = to_epoll(events), .data.ptr = w };

	if (!w || w->dead)
		return -EINVAL;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0)
		return -errno;
	w->events = events;
	return 0;
}

void vg_loop_fd_unwatch(struct vg_loop *loop, struct vg_watch *w)
{
	if (!w || w->dead)
		return;
	/* The fd may already be closed by its owner: ignore EBADF/ENOENT. */
	epoll_ctl(loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	if (w->prev)
		w->prev->next = w->next;
	else
		loop->watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
	/* Freed after the current batch: a later event of it may be pending. */
	w->dead = 1;
	w->next_dead = loop->dead;
	loop->dead = w;
}

int vg_loop_signal(struct vg_loop *loop, int signo, vg_signal_cb cb, void *arg)
{
	if (loop->n_signals == MAX_SIGNALS || signo == SIGCHLD)
		return -EINVAL;
	loop->signals[loop->n_signals++] = (struct vg_signal_handler){ signo, cb, arg };
	sigaddset(&loop->sigmask, signo);
	return signalfd_update(loop);
}

static void dispatch(struct epoll_event *evs, int n)
{
	for (int i = 0; i < n; i++) {
		struct vg_watch *w = evs[i].data.ptr;
		uint32_t got = 0;

		if (w->dead)
			continue;
		if (evs[i].events & EPOLLIN)
			got |= VG_FD_READ;
		if (evs[i].events & EPOLLOUT)
			got |= VG_FD_WRITE;
		if (evs[i].events & (EPOLLERR | EPOLLHUP))
			got |= VG_FD_ERROR | (w->events & VG_FD_READ);
		w->cb(w->arg, w->fd, got);
	}
}

int vg_loop_run_once(struct vg_loop *loop, int timeout_ms)
{
	struct epoll_event evs[EPOLL_BATCH];
	int n, rc;

	rc = vg_timers_arm(loop);
	if (rc < 0)
		return rc;
	n = epoll_wait(loop->epfd, evs, EPOLL_BATCH, timeout_ms);
	if (n < 0 && errno != EINTR)
		return -errno;
	loop->now_ms = clock_ms();
	if (n > 0)
		dispatch(evs, n);
	free_dead_watches(loop);
	return 0;
}

int vg_loop_run(struct vg_loop *loop)
{
	int rc;

	loop->stop = 0;
	while (!loop->stop) {
		rc = vg_loop_run_once(loop, -1);
		if (rc < 0)
			return rc;
	}
	return loop->stop_code;
}

void vg_loop_stop(struct vg_loop *loop, int code)
{
	loop->stop = 1;
	loop->stop_code = code;
}

int vg_loop_stopped(const struct vg_loop *loop)
{
	return loop->stop;
}

void vg_loop_release_owner(struct vg_loop *loop, const void *owner)
{
	struct vg_watch *w, *next;

	if (!owner)
		return;
	/* Removing from a heap moves other items: rescan after each stop. */
	for (;;) {
		size_t i = 0;

		while (i < loop->heap.n && loop->heap.items[i]->owner != owner)
			i++;
		if (i == loop->heap.n)
			break;
		vg_loop_timer_stop(loop, loop->heap.items[i]);
	}
	vg_loop_release_children(loop, owner);
	for (w = loop->watches; w; w = next) {
		next = w->next;
		if (w->owner == owner)
			vg_loop_fd_unwatch(loop, w);
	}
}
