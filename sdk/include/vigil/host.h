/*
 * vigil plugin SDK — the host-services table.
 *
 * vigild hands every plugin instance a `const struct vg_host *` when it opens
 * it.  It is the only way a plugin reaches the core: plugins link against
 * nothing of vigild and call these services through the static inline
 * wrappers at the end of this file (vg_log(), vg_timer_start(), ...).
 *
 * Threading: every service must be called from the thread that called the
 * plugin (vigild's single event-loop thread).  Every callback below is
 * called on that thread, never re-entrantly from inside the service call
 * that registered it.
 *
 * Lifetime: the table lives from open() until close() returns.  When an
 * instance is closed, the core stops every timer and fd watch the instance
 * still holds and cancels its children without calling their callbacks.
 *
 * Versioning: members are only ever appended.  `minor` says which exist: a
 * member added in 1.N may be called only when minor >= N (the wrappers check).
 */
#ifndef VIGIL_HOST_H
#define VIGIL_HOST_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <vigil/abi.h>

struct vg_host;

/* Opaque handles owned by the core. */
struct vg_timer;
struct vg_watch;
struct vg_child;
struct vg_inner;
struct vg_attr;

/*
 * Timer callback.  `arg` is what was given to timer_start.  A one-shot
 * timer's handle is freed by the core when this callback returns: forget
 * it here.  A repeating timer stays valid until timer_stop().
 */
typedef void (*vg_timer_cb)(void *arg);

/*
 * fd watch callback.  `events` is a mask of VG_FD_READ, VG_FD_WRITE and
 * VG_FD_ERROR.  The fd is non-blocking business of the plugin: the core
 * never reads, writes or closes it.
 */
typedef void (*vg_fd_cb)(void *arg, int fd, uint32_t events);

/* A child process to run: see vg_host.spawn. */
struct vg_spawn {
	/* Program to execute: an absolute path, or a name looked up in PATH. */
	const char *path;
	/* argv for the child, NULL-terminated; argv[0] is the program name. */
	char *const *argv;
	/*
	 * Environment, NULL-terminated "KEY=value" strings.  NULL means the
	 * child inherits vigild's environment.
	 */
	char *const *envp;
	/* Bytes written to the child's stdin, then stdin is closed.  May be NULL. */
	const void *stdin_data;
	size_t stdin_len;
	/*
	 * Time the child may run.  When it expires the child's process group
	 * gets SIGTERM; after kill_grace_ms more, SIGKILL.  0 means no limit.
	 */
	uint32_t timeout_ms;
	/* Grace between SIGTERM and SIGKILL.  0 means 2000 ms. */
	uint32_t kill_grace_ms;
	/*
	 * stdout and stderr are captured together up to this many bytes; the
	 * rest is read and dropped.  0 means 64 KiB.
	 */
	size_t output_max;
};

/* How a child ended: given to vg_child_cb. */
struct vg_child_result {
	int pid;              /* the child's pid */
	int exited;           /* 1 when it called exit(); exit_code is valid */
	int exit_code;        /* 0..255 */
	int signal;           /* signal that ended it, 0 if it exited */
	int timed_out;        /* 1 when the core killed it for its timeout */
	uint64_t duration_ms; /* from spawn to reap */
	const char *output;   /* captured stdout+stderr, NUL-terminated; borrowed until the callback returns */
	size_t output_len;    /* bytes in output, without the NUL */
};

/*
 * Child completion.  Called exactly once per successful spawn (unless the
 * instance is closed first); the vg_child handle is invalid afterwards.
 */
typedef void (*vg_child_cb)(void *arg, const struct vg_child_result *res);

/*
 * Events of an inner transport (ABI 1.2), delivered to the transport that
 * opened it instead of to the core; `arg` is what inner_open was given.
 * Same meaning as vg_host.frame_received and vg_host.link_state.
 */
struct vg_inner_cbs {
	void (*frame_received)(void *arg, const void *frame, size_t len, uint32_t from_node);
	void (*link_state)(void *arg, uint32_t node_id, int up);
};

/* A node of the cluster, as configured. */
struct vg_node {
	uint32_t id;          /* 1..UINT32_MAX, unique in the cluster */
	const char *name;     /* unique node name */
	/*
	 * This node's address on the link of the calling transport instance
	 * (its entry in the node's `addresses` list at the link's index),
	 * or NULL when there is none or the caller is not a transport.
	 */
	const char *addr;
	int is_local;         /* 1 for the node this vigild runs as */
};

/*
 * The services.  Call them through the wrappers below.  All functions
 * returning int return 0 on success or a negative errno.
 */
struct vg_host {
	/* ABI minor of this table.  Members added in 1.N exist when minor >= N. */
	uint32_t minor;
	/* Core-private context.  Plugins must not read or change it. */
	void *core;

	/* --- 1.0 --- */

	/* Log one line (no trailing newline needed), tagged with the instance. */
	void (*log)(const struct vg_host *h, int level, const char *msg);

	/* CLOCK_MONOTONIC in milliseconds, as read at this loop iteration. */
	uint64_t (*now_ms)(const struct vg_host *h);

	/*
	 * Start a timer that fires after `after_ms`, then every `repeat_ms`
	 * (0: once).  On success *out is the handle.
	 */
	int (*timer_start)(const struct vg_host *h, uint64_t after_ms, uint64_t repeat_ms,
			   vg_timer_cb cb, void *arg, struct vg_timer **out);
	/* Stop and free a timer.  NULL is ignored. */
	void (*timer_stop)(const struct vg_host *h, struct vg_timer *t);

	/* Watch `fd` for `events` (VG_FD_READ | VG_FD_WRITE) on the core's loop. */
	int (*fd_watch)(const struct vg_host *h, int fd, uint32_t events,
			vg_fd_cb cb, void *arg, struct vg_watch **out);
	/* Change the events of a watch. */
	int (*fd_modify)(const struct vg_host *h, struct vg_watch *w, uint32_t events);
	/* Stop and free a watch (the fd stays open).  NULL is ignored. */
	void (*fd_unwatch)(const struct vg_host *h, struct vg_watch *w);

	/*
	 * Run a child process in its own process group, without blocking.
	 * `req` and everything it points to is copied; it may be freed on
	 * return.  On success *out (if not NULL) is the handle.
	 */
	int (*spawn)(const struct vg_host *h, const struct vg_spawn *req,
		     vg_child_cb cb, void *arg, struct vg_child **out);
	/*
	 * End a child early: SIGTERM now, SIGKILL after its grace.  The
	 * callback still fires, once, when it is reaped (timed_out = 0,
	 * signal set).  NULL is ignored.
	 */
	void (*child_cancel)(const struct vg_host *h, struct vg_child *c);

	/* Number of configured nodes; node_at(0 .. count-1) lists them. */
	size_t (*node_count)(const struct vg_host *h);
	/* The i-th node, or NULL if out of range.  Valid until close. */
	const struct vg_node *(*node_at)(const struct vg_host *h, size_t i);
	/* The node with this id, or NULL.  Valid until close. */
	const struct vg_node *(*node_by_id)(const struct vg_host *h, uint32_t id);
	/* Id of the node this vigild runs as. */
	uint32_t (*local_node_id)(const struct vg_host *h);

	/*
	 * Transports only: hand one received frame to the core.  `frame` is
	 * borrowed for the call.  `from_node` is the sender the transport
	 * believes in (an authenticated stream peer, a known address), or
	 * VG_NODE_NONE; the core authenticates the frame either way.
	 */
	void (*frame_received)(const struct vg_host *h, const void *frame, size_t len,
			       uint32_t from_node);
	/*
	 * Transports only: a connection-oriented transport reports that its
	 * path to `node_id` went up (1) or down (0).  Datagram transports need
	 * not call it: the core tracks links from heartbeats.
	 */
	void (*link_state)(const struct vg_host *h, uint32_t node_id, int up);

	/* --- 1.2 --- */

	/*
	 * Transports only: open an instance of another transport plugin on
	 * this instance's link, for a transport that wraps another (chaos).
	 * `plugin` is the inner plugin's name; `params` its parameters as
	 * text, checked by the core as if configured (unknown, missing or
	 * invalid ones refused, with one log line).  The inner's frames and
	 * link states go to `cbs` with `arg`.  The handle is valid until
	 * inner_close, or until this instance closes (the core closes what
	 * is left).
	 */
	int (*inner_open)(const struct vg_host *h, const char *plugin, const struct vg_attr *params,
			  size_t n_params, const struct vg_inner_cbs *cbs, void *arg,
			  struct vg_inner **out);
	/* Send through the inner transport: as vg_transport_ops.send. */
	int (*inner_send)(const struct vg_host *h, struct vg_inner *in, uint32_t to_node,
			  const void *frame, size_t len);
	/* The inner transport's largest frame. */
	size_t (*inner_max_frame)(const struct vg_host *h, struct vg_inner *in);
	/* Close an inner transport.  NULL is ignored. */
	void (*inner_close)(const struct vg_host *h, struct vg_inner *in);
};

/* --- wrappers: the way plugins call the host --- */

/* printf-style log line at `level` (VG_LOG_*). */
static inline void vg_log(const struct vg_host *h, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline void vg_log(const struct vg_host *h, int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	h->log(h, level, buf);
}

#define vg_err(h, ...)    vg_log((h), VG_LOG_ERR, __VA_ARGS__)
#define vg_warn(h, ...)   vg_log((h), VG_LOG_WARNING, __VA_ARGS__)
#define vg_notice(h, ...) vg_log((h), VG_LOG_NOTICE, __VA_ARGS__)
#define vg_info(h, ...)   vg_log((h), VG_LOG_INFO, __VA_ARGS__)
#define vg_debug(h, ...)  vg_log((h), VG_LOG_DEBUG, __VA_ARGS__)

static inline uint64_t vg_now_ms(const struct vg_host *h)
{
	return h->now_ms(h);
}

static inline int vg_timer_start(const struct vg_host *h, uint64_t after_ms, uint64_t repeat_ms,
				 vg_timer_cb cb, void *arg, struct vg_timer **out)
{
	return h->timer_start(h, after_ms, repeat_ms, cb, arg, out);
}

static inline void vg_timer_stop(const struct vg_host *h, struct vg_timer *t)
{
	h->timer_stop(h, t);
}

static inline int vg_fd_watch(const struct vg_host *h, int fd, uint32_t events,
			      vg_fd_cb cb, void *arg, struct vg_watch **out)
{
	return h->fd_watch(h, fd, events, cb, arg, out);
}

static inline int vg_fd_modify(const struct vg_host *h, struct vg_watch *w, uint32_t events)
{
	return h->fd_modify(h, w, events);
}

static inline void vg_fd_unwatch(const struct vg_host *h, struct vg_watch *w)
{
	h->fd_unwatch(h, w);
}

static inline int vg_spawn(const struct vg_host *h, const struct vg_spawn *req,
			   vg_child_cb cb, void *arg, struct vg_child **out)
{
	return h->spawn(h, req, cb, arg, out);
}

static inline void vg_child_cancel(const struct vg_host *h, struct vg_child *c)
{
	h->child_cancel(h, c);
}

static inline size_t vg_node_count(const struct vg_host *h)
{
	return h->node_count(h);
}

static inline const struct vg_node *vg_node_at(const struct vg_host *h, size_t i)
{
	return h->node_at(h, i);
}

static inline const struct vg_node *vg_node_by_id(const struct vg_host *h, uint32_t id)
{
	return h->node_by_id(h, id);
}

static inline uint32_t vg_local_node_id(const struct vg_host *h)
{
	return h->local_node_id(h);
}

static inline void vg_frame_received(const struct vg_host *h, const void *frame, size_t len,
				     uint32_t from_node)
{
	h->frame_received(h, frame, len, from_node);
}

static inline void vg_link_state(const struct vg_host *h, uint32_t node_id, int up)
{
	h->link_state(h, node_id, up);
}

/* 1.2 wrappers: -ENOSYS (or nothing) on a host older than 1.2. */
static inline int vg_inner_open(const struct vg_host *h, const char *plugin,
				const struct vg_attr *params, size_t n_params,
				const struct vg_inner_cbs *cbs, void *arg, struct vg_inner **out)
{
	return h->minor >= 2 ? h->inner_open(h, plugin, params, n_params, cbs, arg, out) : -ENOSYS;
}

static inline int vg_inner_send(const struct vg_host *h, struct vg_inner *in, uint32_t to_node,
				const void *frame, size_t len)
{
	return h->minor >= 2 ? h->inner_send(h, in, to_node, frame, len) : -ENOSYS;
}

static inline size_t vg_inner_max_frame(const struct vg_host *h, struct vg_inner *in)
{
	return h->minor >= 2 ? h->inner_max_frame(h, in) : 0;
}

static inline void vg_inner_close(const struct vg_host *h, struct vg_inner *in)
{
	if (h->minor >= 2)
		h->inner_close(h, in);
}

#endif /* VIGIL_HOST_H */
