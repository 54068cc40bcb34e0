/*
 * tls — one connection: a non-blocking state machine driven by its fd watch
 * and timers (connect, handshake, identity check, acceptance, frames), the
 * stream framing ([length:2 big-endian][frame]) and the output buffer.
 *
 * After the handshake each side checks the other's identity (tls_ctx.c),
 * then writes one empty frame: "I accept you".  A side reports the link up
 * when it has accepted the peer and read the peer's empty frame, so a
 * connection one side refuses is never up on either.
 *
 * Teardown is always deferred to a 0 ms timer (tls_conn_fail): a failure
 * found while the core is inside send(), or while a received frame is being
 * handed up, never frees memory a caller still uses nor calls the core back
 * from inside its own call.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "tls.h"

#define TLS_RX_BUDGET (256 * 1024) /* bytes read per wake-up, keeps the loop fair */

static void tls_conn_io(struct tls_conn *c);

/* Ask the loop for what the connection waits for now. */
static void tls_conn_events(struct tls_conn *c)
{
	uint32_t want;

	if (c->state == TLS_CONN_FAILED || !c->watch)
		return;
	if (c->state == TLS_CONN_CONNECTING)
		want = VG_FD_WRITE;
	else
		want = VG_FD_READ;
	if (c->ssl_wants_write || c->tx_off < c->tx_len)
		want |= VG_FD_WRITE;
	if (want != c->events && vg_fd_modify(c->t->host, c->watch, want) == 0)
		c->events = want;
}

void tls_conn_destroy(struct tls_conn *c)
{
	const struct vg_host *h = c->t->host;

	vg_timer_stop(h, c->deadline);
	vg_timer_stop(h, c->reap);
	vg_timer_stop(h, c->kick);
	vg_fd_unwatch(h, c->watch);
	SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	free(c->rx);
	free(c->tx);
	free(c);
}

/* The reap timer: forget the connection, report the link down, redial. */
static void tls_conn_reap_cb(void *arg)
{
	struct tls_conn *c = arg;
	struct tls_peer *p = c->peer;
	struct tls *t = c->t;
	int was_up;

	c->reap = NULL;
	if (!p || p->conn != c) {
		tls_pending_unlink(t, c);
		tls_conn_destroy(c);
		return;
	}
	was_up = p->up;
	p->conn = NULL;
	p->up = 0;
	tls_peer_queue_clear(p);
	tls_conn_destroy(c);
	if (was_up)
		vg_link_state(t->host, p->id, 0);
	if (p->outbound)
		tls_peer_schedule(p);
}

/*
 * Log why the connection ends (`what`: "refused" or "failed") and tear it
 * down at the next loop iteration.  A reason already logged for the same
 * peer is repeated at debug level only, so a peer that stays away does not
 * fill the log every backoff period.
 */
void tls_conn_fail(struct tls_conn *c, const char *what, const char *fmt, ...)
{
	struct tls *t = c->t;
	struct tls_peer *p = c->peer ? c->peer : tls_peer_by_addr(t, &c->sa);
	int level = VG_LOG_WARNING;
	va_list ap;

	if (c->state == TLS_CONN_FAILED)
		return;
	va_start(ap, fmt);
	vsnprintf(c->reason, sizeof(c->reason), fmt, ap);
	va_end(ap);
	if (c->state == TLS_CONN_UP && c->peer) {
		vg_warn(t->host, "tls: link to %s (%s) down: %s", p->name, c->remote, c->reason);
	} else {
		if (p && !strcmp(p->last_reason, c->reason))
			level = VG_LOG_DEBUG;
		else if (p)
			snprintf(p->last_reason, sizeof(p->last_reason), "%s", c->reason);
		if (c->outbound)
			vg_log(t->host, level, "tls: connection to %s (%s) %s: %s",
			       p->name, c->remote, what, c->reason);
		else
			vg_log(t->host, level, "tls: connection from %s %s: %s",
			       c->remote, what, c->reason);
	}
	c->state = TLS_CONN_FAILED;
	vg_fd_unwatch(t->host, c->watch);
	c->watch = NULL;
	vg_timer_stop(t->host, c->deadline);
	c->deadline = NULL;
	vg_timer_stop(t->host, c->kick);
	c->kick = NULL;
	if (vg_timer_start(t->host, 0, 0, tls_conn_reap_cb, c, &c->reap) < 0)
		vg_err(t->host, "tls: cannot start a timer: connection to %s stays idle until close",
		       c->remote);
}

/* Fail with the reason OpenSSL gives for `ret`/`err`. */
static void tls_conn_ssl_fail(struct tls_conn *c, int err, int ret)
{
	char reason[TLS_REASON_MAX];
	int refused = SSL_get_verify_result(c->ssl) != X509_V_OK;

	if (c->state == TLS_CONN_WAIT_ACK && (err == SSL_ERROR_ZERO_RETURN || err == SSL_ERROR_SYSCALL)) {
		ERR_clear_error();
		tls_conn_fail(c, "failed", "closed by the peer before it accepted us (see its log)");
		return;
	}
	tls_ssl_reason(c->ssl, err, ret, reason, sizeof(reason));
	tls_conn_fail(c, refused ? "refused" : "failed", "%s", reason);
}

/* The link is up: frames may flow. */
static void tls_conn_up(struct tls_conn *c)
{
	struct tls_peer *p = c->peer;
	struct tls *t = c->t;

	vg_timer_stop(t->host, c->deadline);
	c->deadline = NULL;
	c->state = TLS_CONN_UP;
	p->up = 1;
	p->backoff_ms = t->backoff_min_ms;
	p->last_reason[0] = '\0';
	vg_notice(t->host, "tls: link to %s (%s) up, %s", p->name, c->remote,
		  SSL_get_cipher_name(c->ssl));
	vg_link_state(t->host, p->id, 1);
}

/*
 * Inbound, both sides accepted: this connection now carries the peer's
 * link.  A previous one (the peer restarted and dialled again) is replaced.
 */
static void tls_conn_accepted(struct tls_conn *c)
{
	struct tls_peer *p = c->peer;
	struct tls *t = c->t;
	struct tls_conn *old = p->conn;
	int was_up = p->up;

	tls_pending_unlink(t, c);
	if (old) {
		vg_notice(t->host, "tls: %s connected again from %s: the previous connection is closed",
			  p->name, c->remote);
		p->conn = NULL;
		p->up = 0;
		tls_peer_queue_clear(p);
		tls_conn_destroy(old);
		if (was_up)
			vg_link_state(t->host, p->id, 0);
	}
	p->conn = c;
	tls_conn_up(c);
}

/* One frame out of the stream. */
static void tls_conn_frame(struct tls_conn *c, const unsigned char *data, size_t len)
{
	if (c->state == TLS_CONN_WAIT_ACK) {
		if (len)
			tls_conn_fail(c, "failed", "protocol error: a frame before the peer's acceptance");
		else if (c->outbound)
			tls_conn_up(c);
		else
			tls_conn_accepted(c);
		return;
	}
	if (len)
		vg_frame_received(c->t->host, data, len, c->peer->id);
}

/* Cut the received bytes into frames; keep an incomplete tail. */
static void tls_conn_frames(struct tls_conn *c)
{
	size_t pos = 0, flen;

	while (c->rx_len - pos >= 2 && c->state != TLS_CONN_FAILED) {
		flen = (size_t)c->rx[pos] << 8 | c->rx[pos + 1];
		if (flen > c->t->max_frame) {
			tls_conn_fail(c, "failed", "protocol error: frame of %zu bytes announced, max_frame is %zu",
				      flen, c->t->max_frame);
			return;
		}
		if (c->rx_len - pos - 2 < flen)
			break;
		tls_conn_frame(c, c->rx + pos + 2, flen);
		pos += 2 + flen;
	}
	if (c->state == TLS_CONN_FAILED)
		return;
	memmove(c->rx, c->rx + pos, c->rx_len - pos);
	c->rx_len -= pos;
}

static void tls_conn_kick_cb(void *arg)
{
	struct tls_conn *c = arg;

	c->kick = NULL;
	tls_conn_io(c);
}

/*
 * Read what the socket has, up to a budget.  Past the budget, what OpenSSL
 * already holds would not wake the loop again: a 0 ms timer resumes.
 */
static void tls_conn_read(struct tls_conn *c)
{
	size_t total = 0;
	int n, err;

	while (c->state == TLS_CONN_UP || c->state == TLS_CONN_WAIT_ACK) {
		if (total >= TLS_RX_BUDGET) {
			if (!c->kick && SSL_has_pending(c->ssl))
				vg_timer_start(c->t->host, 0, 0, tls_conn_kick_cb, c, &c->kick);
			return;
		}
		ERR_clear_error();
		n = SSL_read(c->ssl, c->rx + c->rx_len, (int)(c->rx_cap - c->rx_len));
		if (n > 0) {
			c->rx_len += (size_t)n;
			total += (size_t)n;
			tls_conn_frames(c);
			continue;
		}
		err = SSL_get_error(c->ssl, n);
		if (err == SSL_ERROR_WANT_WRITE)
			c->ssl_wants_write = 1;
		if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
			tls_conn_ssl_fail(c, err, n);
		return;
	}
}

/* Pack queued frames behind each other into the empty output buffer. */
static void tls_conn_refill(struct tls_conn *c)
{
	struct tls_peer *p = c->peer;
	struct tls_frame *f;

	c->tx_off = c->tx_len = 0;
	if (c->state != TLS_CONN_UP || !p || p->conn != c)
		return;
	while (p->q_count && c->tx_len + p->queue[p->q_head]->len <= c->tx_cap) {
		f = tls_peer_dequeue(p);
		memcpy(c->tx + c->tx_len, f->data, f->len);
		c->tx_len += f->len;
		free(f);
	}
}

/*
 * Write the output buffer, then the queue.  The buffer is refilled only
 * once it is fully written, so a retry after SSL_ERROR_WANT_WRITE always
 * sees the same bytes.  Returns 0, or -EPIPE when the connection failed.
 */
static int tls_conn_flush(struct tls_conn *c)
{
	int n, err;

	while (c->state == TLS_CONN_UP || c->state == TLS_CONN_WAIT_ACK) {
		if (c->tx_off == c->tx_len) {
			tls_conn_refill(c);
			if (!c->tx_len)
				return 0;
		}
		ERR_clear_error();
		n = SSL_write(c->ssl, c->tx + c->tx_off, (int)(c->tx_len - c->tx_off));
		if (n > 0) {
			c->tx_off += (size_t)n;
			continue;
		}
		err = SSL_get_error(c->ssl, n);
		if (err == SSL_ERROR_WANT_WRITE)
			c->ssl_wants_write = 1;
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
			return 0;
		tls_conn_ssl_fail(c, err, n);
		return -EPIPE;
	}
	return c->state == TLS_CONN_FAILED ? -EPIPE : 0;
}

/* Established connection: read, write, ask for the right events. */
static void tls_conn_io(struct tls_conn *c)
{
	c->ssl_wants_write = 0;
	tls_conn_read(c);
	tls_conn_flush(c);
	tls_conn_events(c);
}


static void tls_conn_handshake(struct tls_conn *c)
{
	int ret, err;

	c->ssl_wants_write = 0;
	ERR_clear_error();
	ret = SSL_do_handshake(c->ssl);
	if (ret != 1) {
		err = SSL_get_error(c->ssl, ret);
		if (err == SSL_ERROR_WANT_WRITE)
			c->ssl_wants_write = 1;
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE)
			tls_conn_events(c);
		else
			tls_conn_ssl_fail(c, err, ret);
		return;
	}
	if (tls_identify(c) < 0)
		return;
	/* We accept the peer: say so, and wait for the peer to say the same. */
	c->tx[0] = 0;
	c->tx[1] = 0;
	c->tx_off = 0;
	c->tx_len = 2;
	c->state = TLS_CONN_WAIT_ACK;
	tls_conn_io(c);
}

/* Start TLS on the connected socket. */
static void tls_conn_tls_start(struct tls_conn *c)
{
	c->ssl = SSL_new(c->t->ctx);
	if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1) {
		ERR_clear_error();
		tls_conn_fail(c, "failed", "out of memory for the TLS session");
		return;
	}
	if (c->outbound)
		SSL_set_connect_state(c->ssl);
	else
		SSL_set_accept_state(c->ssl);
	c->state = TLS_CONN_HANDSHAKE;
	tls_conn_handshake(c);
}

/* Outbound: the non-blocking connect() finished, well or not. */
static void tls_conn_connected(struct tls_conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	if (err) {
		tls_conn_fail(c, "failed", "%s", strerror(err));
		return;
	}
	tls_conn_tls_start(c);
}

static void tls_conn_cb(void *arg, int fd, uint32_t events)
{
	struct tls_conn *c = arg;

	switch (c->state) {
	case TLS_CONN_CONNECTING:
		tls_conn_connected(c);
		break;
	case TLS_CONN_HANDSHAKE:
		tls_conn_handshake(c);
		break;
	case TLS_CONN_WAIT_ACK:
	case TLS_CONN_UP:
		tls_conn_io(c);
		break;
	case TLS_CONN_FAILED:
	case TLS_CONN_INVALID:
		break;
	}
}

static void tls_conn_deadline_cb(void *arg)
{
	struct tls_conn *c = arg;
	const char *stage = c->state == TLS_CONN_CONNECTING ? "connecting" :
			    c->state == TLS_CONN_HANDSHAKE ? "in the TLS handshake" :
			    "waiting for the acceptor";

	c->deadline = NULL;
	tls_conn_fail(c, "failed", "timed out after %llu ms %s",
		      (unsigned long long)c->t->connect_timeout_ms, stage);
}

/*
 * A connection on `fd` (connected or connecting, non-blocking, owned by
 * the connection from now on, even on failure).  The caller links it to
 * its peer or to the pending list, then calls tls_conn_start().
 */
int tls_conn_new(struct tls *t, int fd, const struct sockaddr_storage *sa, int outbound,
		 struct tls_conn **out)
{
	struct tls_conn *c = calloc(1, sizeof(*c));
	int ret = -ENOMEM;

	if (!c) {
		close(fd);
		return -ENOMEM;
	}
	c->t = t;
	c->fd = fd;
	c->sa = *sa;
	c->outbound = outbound;
	c->state = outbound ? TLS_CONN_CONNECTING : TLS_CONN_HANDSHAKE;
	tls_addr_format(sa, c->remote, sizeof(c->remote));
	c->rx_cap = TLS_RX_CHUNK + 2 + t->max_frame;
	c->tx_cap = TLS_TX_CHUNK > 2 + t->max_frame ? TLS_TX_CHUNK : 2 + t->max_frame;
	c->rx = malloc(c->rx_cap);
	c->tx = malloc(c->tx_cap);
	if (!c->rx || !c->tx)
		goto out;
	c->events = outbound ? VG_FD_WRITE : VG_FD_READ;
	ret = vg_fd_watch(t->host, fd, c->events, tls_conn_cb, c, &c->watch);
	if (ret < 0)
		goto out;
	ret = vg_timer_start(t->host, t->connect_timeout_ms, 0, tls_conn_deadline_cb, c,
			     &c->deadline);
	if (ret < 0)
		goto out;
	*out = c;
	return 0;
out:
	tls_conn_destroy(c);
	return ret;
}

/* Outbound: connect(); inbound: the server side of the handshake. */
int tls_conn_start(struct tls_conn *c)
{
	socklen_t len = c->sa.ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
						      sizeof(struct sockaddr_in);

	if (!c->outbound) {
		tls_conn_tls_start(c);
		return 0;
	}
	if (connect(c->fd, (const struct sockaddr *)&c->sa, len) == 0) {
		tls_conn_tls_start(c);
		return 0;
	}
	if (errno != EINPROGRESS)
		tls_conn_fail(c, "failed", "%s", strerror(errno));
	return 0;
}

/* 1 while bytes wait in the output buffer. */
int tls_conn_busy(const struct tls_conn *c)
{
	return c->tx_off < c->tx_len;
}

/*
 * One frame on an established connection: written at once when nothing
 * waits before it, else queued (queue_max frames) or refused with -EAGAIN.
 */
int tls_conn_send(struct tls_conn *c, const void *frame, size_t len)
{
	struct tls_peer *p = c->peer;
	struct tls_frame *f;

	if (!tls_conn_busy(c) && !p->q_count) {
		c->tx[0] = (unsigned char)(len >> 8);
		c->tx[1] = (unsigned char)len;
		memcpy(c->tx + 2, frame, len);
		c->tx_off = 0;
		c->tx_len = 2 + len;
		if (tls_conn_flush(c) < 0)
			return -ENOTCONN;
		tls_conn_events(c);
		return 0;
	}
	if (p->q_count >= c->t->queue_max)
		return -EAGAIN;
	f = malloc(sizeof(*f) + 2 + len);
	if (!f)
		return -ENOMEM;
	f->len = 2 + len;
	f->data[0] = (unsigned char)(len >> 8);
	f->data[1] = (unsigned char)len;
	memcpy(f->data + 2, frame, len);
	p->queue[(p->q_head + p->q_count) % c->t->queue_max] = f;
	p->q_count++;
	return 0;
}
