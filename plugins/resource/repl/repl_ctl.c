/*
 * repl plugin: the helper's control socket.  One connection per request:
 * connect (non-blocking; a UNIX socket connects at once or fails), send one
 * line, watch for the reply line on the loop, bounded by REPL_CTL_MS.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "repl.h"

void repl_parse_status(const char *line, struct repl_status *s)
{
	char key[32], val[96];
	int n;

	memset(s, 0, sizeof(*s));
	for (const char *p = line + 2; sscanf(p, " %31[^=]=%95s%n", key, val, &n) == 2; p += n) {
		if (!strcmp(key, "role")) snprintf(s->role, sizeof(s->role), "%.15s", val);
		else if (!strcmp(key, "peer_role")) snprintf(s->peer_role, sizeof(s->peer_role), "%.15s", val);
		else if (!strcmp(key, "disk")) snprintf(s->disk, sizeof(s->disk), "%.15s", val);
		else if (!strcmp(key, "peer_disk")) snprintf(s->peer_disk, sizeof(s->peer_disk), "%.15s", val);
		else if (!strcmp(key, "conn")) snprintf(s->conn, sizeof(s->conn), "%.15s", val);
		else if (!strcmp(key, "split_brain")) s->split_brain = atoi(val);
		else if (!strcmp(key, "gen")) s->gen = strtoull(val, NULL, 16);
	}
}

void repl_ctl_close(struct repl_op *op)
{
	const struct vg_host *h = op->r->host;

	vg_timer_stop(h, op->ctl_timer);
	op->ctl_timer = NULL;
	if (op->watch)
		vg_fd_unwatch(h, op->watch);
	op->watch = NULL;
	if (op->fd >= 0)
		close(op->fd);
	op->fd = -1;
	op->on_reply = NULL;
}

static void repl_ctl_done(struct repl_op *op, int rc, const char *line)
{
	repl_reply_cb cb = op->on_reply;

	repl_ctl_close(op);
	cb(op, rc, line);
}

static void repl_ctl_fd_cb(void *arg, int fd, uint32_t events)
{
	struct repl_op *op = arg;
	ssize_t n;
	char *nl;

	(void)events;
	n = read(fd, op->rbuf + op->rlen, sizeof(op->rbuf) - 1 - op->rlen);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		repl_ctl_done(op, n == 0 ? -ECONNRESET : -errno, "control socket closed");
		return;
	}
	op->rlen += (size_t)n;
	op->rbuf[op->rlen] = '\0';
	nl = strchr(op->rbuf, '\n');
	if (!nl) {
		if (op->rlen == sizeof(op->rbuf) - 1)
			repl_ctl_done(op, -EPROTO, "reply line too long");
		return;
	}
	*nl = '\0';
	if (!strncmp(op->rbuf, "ok", 2)) {
		repl_ctl_done(op, 0, op->rbuf);
	} else if (!strncmp(op->rbuf, "err ", 4)) {
		char *why;
		long rc = strtol(op->rbuf + 4, &why, 10);

		repl_ctl_done(op, rc < 0 ? (int)rc : -EIO, why + (*why == ' '));
	} else {
		repl_ctl_done(op, -EPROTO, op->rbuf);
	}
}

static void repl_ctl_timeout_cb(void *arg)
{
	struct repl_op *op = arg;

	op->ctl_timer = NULL;
	repl_ctl_done(op, -ETIMEDOUT, "the helper did not answer");
}

/* From the loop: connect, send the line, watch for the reply. */
static void repl_ctl_begin_cb(void *arg)
{
	struct repl_op *op = arg;
	struct repl *r = op->r;
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	size_t len = strlen(op->req);
	int rc = 0;

	vg_timer_stop(r->host, op->ctl_timer);
	op->ctl_timer = NULL;
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", r->ctl);
	op->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (op->fd < 0 || connect(op->fd, (struct sockaddr *)&un, sizeof(un)) < 0)
		rc = -errno;
	else if (send(op->fd, op->req, len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)len)
		rc = -EIO; /* a short line into an empty socket: only on failure */
	else
		rc = vg_fd_watch(r->host, op->fd, VG_FD_READ, repl_ctl_fd_cb, op, &op->watch);
	if (rc == 0)
		rc = vg_timer_start(r->host, REPL_CTL_MS, 0, repl_ctl_timeout_cb, op, &op->ctl_timer);
	if (rc < 0)
		repl_ctl_done(op, rc, strerror(-rc));
}

/* Send `line` to the helper; `cb` gets the reply, always from the loop. */
int repl_ctl(struct repl_op *op, const char *line, repl_reply_cb cb)
{
	snprintf(op->req, sizeof(op->req), "%s\n", line);
	op->on_reply = cb;
	op->rlen = 0;
	return vg_timer_start(op->r->host, 0, 0, repl_ctl_begin_cb, op, &op->ctl_timer);
}
