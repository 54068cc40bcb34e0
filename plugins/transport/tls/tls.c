/*
 * tls — vigil transport over TLS 1.3 on TCP, with mutual certificate
 * authentication against the cluster's CA.
 *
 * A full mesh of one connection per pair of nodes: the node with the lower
 * id connects, the higher one accepts, so there is never a duplicate.  Each
 * connection is a non-blocking state machine (tls_conn.c); certificates and
 * identity checks are in tls_ctx.c.  This file holds the instance: its
 * parameters, the peers, the listening socket, reconnection with
 * exponential backoff and send().
 *
 * Built against the SDK and OpenSSL only.  See docs/plugins/tls.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE    /* accept4, TCP_USER_TIMEOUT in strict C11 builds */
#endif
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>

#include "tls.h"

#define TLS_DSCP_CS6        0xc0    /* TOS / traffic class byte, as udp-ucast */
#define TLS_ACCEPT_BURST    16      /* connections accepted per wake-up */
#define TLS_PENDING_MAX     64      /* inbound connections not yet identified */
#define TLS_USER_TIMEOUT_MS 5000    /* unacknowledged data this long ends a connection */
#define TLS_KEEPALIVE_S     1       /* idle time and interval of TCP keepalive probes */
#define TLS_KEEPALIVE_CNT   3
#define TLS_STRANGER_LOG_MS 10000   /* at most one warning per period about non-nodes */
#define TLS_ACCEPT_PAUSE_MS 1000    /* out of fds: wait before accepting again */

static const struct vg_param_decl tls_params[] = {
	[P_PORT] = { .name = "port", .type = VG_PARAM_INT, .def = "5407",
		     .min = 1, .max = 65535,
		     .help = "TCP port, the same on every node of the link" },
	[P_CA] = { .name = "ca", .type = VG_PARAM_PATH, .flags = VG_PARAM_REQUIRED,
		   .help = "the cluster CA certificate (PEM) peers' certificates must chain to" },
	[P_CERT] = { .name = "cert", .type = VG_PARAM_PATH, .flags = VG_PARAM_REQUIRED,
		     .help = "this node's certificate chain (PEM); %n is replaced by the node name" },
	[P_KEY] = { .name = "key", .type = VG_PARAM_PATH, .flags = VG_PARAM_REQUIRED,
		    .help = "this node's private key (PEM, mode 0600); %n is replaced by the node name" },
	[P_BIND] = { .name = "bind", .type = VG_PARAM_STRING,
		     .help = "local IP literal to listen on and connect from (default: this node's address on the link)" },
	[P_CONNECT_TIMEOUT] = { .name = "connect_timeout_ms", .type = VG_PARAM_DURATION_MS,
				.def = "2000", .min = 10, .max = 600000,
				.help = "time a connection may take to connect, handshake and be accepted" },
	[P_BACKOFF_MIN] = { .name = "backoff_min_ms", .type = VG_PARAM_DURATION_MS, .def = "100",
			    .min = 1, .max = 600000,
			    .help = "first delay before dialling a lost peer again; doubles per failure" },
	[P_BACKOFF_MAX] = { .name = "backoff_max_ms", .type = VG_PARAM_DURATION_MS, .def = "5000",
			    .min = 1, .max = 600000,
			    .help = "longest delay between two attempts to dial a peer" },
	[P_QUEUE_MAX] = { .name = "queue_max", .type = VG_PARAM_INT, .def = "256",
			  .min = 1, .max = 65536,
			  .help = "frames queued per peer while its connection is busy; more are dropped" },
	[P_MAX_FRAME] = { .name = "max_frame", .type = VG_PARAM_INT, .def = "1400",
			  .min = 68, .max = 65535,
			  .help = "largest frame carried, the same on every node (the core's frames are 1400)" },
	[P_COUNT] = { .name = NULL },
};

/* "192.0.2.1:5407" or "[2001:db8::1]:5407". */
void tls_addr_format(const struct sockaddr_storage *sa, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (sa->ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &s6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(s6->sin6_port));
	} else {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &s4->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(s4->sin_port));
	}
}

/* The first peer whose address on the link is `sa`'s, or NULL. */
struct tls_peer *tls_peer_by_addr(struct tls *t, const struct sockaddr_storage *sa)
{
	size_t i;

	for (i = 0; i < t->n_peers; i++)
		if (t->peers[i].has_addr && vgc_addr_equal(&t->peers[i].sa, sa))
			return &t->peers[i];
	return NULL;
}

struct tls_frame *tls_peer_dequeue(struct tls_peer *p)
{
	struct tls_frame *f;

	if (!p->q_count)
		return NULL;
	f = p->queue[p->q_head];
	p->queue[p->q_head] = NULL;
	p->q_head = (p->q_head + 1) % p->t->queue_max;
	p->q_count--;
	return f;
}

/* Frames for a connection that ended are stale: the core sends anew. */
void tls_peer_queue_clear(struct tls_peer *p)
{
	while (p->q_count)
		free(tls_peer_dequeue(p));
	p->q_head = 0;
}

void tls_pending_unlink(struct tls *t, struct tls_conn *c)
{
	struct tls_conn **pp;

	for (pp = &t->pending; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			c->next = NULL;
			t->n_pending--;
			return;
		}
	}
}

/* Socket options of every connection; none is fatal. */
static void tls_sock_opts(struct tls *t, int fd)
{
	int one = 1, tos = TLS_DSCP_CS6, idle = TLS_KEEPALIVE_S, cnt = TLS_KEEPALIVE_CNT;
	unsigned int user_timeout = TLS_USER_TIMEOUT_MS;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (t->local.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	else
		setsockopt(fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof(user_timeout));
}

/* Dial one peer now; failures end in tls_conn_fail, which schedules a retry. */
static int tls_peer_connect(struct tls_peer *p)
{
	struct tls *t = p->t;
	struct sockaddr_storage src = t->local;
	struct tls_conn *c;
	int fd, ret;

	fd = socket(p->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	tls_sock_opts(t, fd);
	/* From our address on the link: the acceptor checks it. */
	if (!t->local_is_any) {
		if (src.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&src)->sin6_port = 0;
		else
			((struct sockaddr_in *)&src)->sin_port = 0;
		if (bind(fd, (struct sockaddr *)&src, t->local_len) < 0) {
			ret = -errno;
			close(fd);
			return ret;
		}
	}
	ret = tls_conn_new(t, fd, &p->sa, 1, &c);
	if (ret < 0)
		return ret;
	c->peer = p;
	p->conn = c;
	return tls_conn_start(c);
}

static void tls_peer_retry_cb(void *arg)
{
	struct tls_peer *p = arg;
	int ret;

	p->retry = NULL;
	ret = tls_peer_connect(p);
	if (ret < 0) {
		vg_warn(p->t->host, "tls: cannot dial %s (%s): %s", p->name, p->addr_text,
			strerror(-ret));
		tls_peer_schedule(p);
	}
}

/* Dial again after the current backoff, which then doubles up to its maximum. */
void tls_peer_schedule(struct tls_peer *p)
{
	struct tls *t = p->t;
	uint64_t delay = p->backoff_ms;

	if (p->retry || p->conn)
		return;
	p->backoff_ms = delay * 2 < t->backoff_max_ms ? delay * 2 : t->backoff_max_ms;
	if (vg_timer_start(t->host, delay, 0, tls_peer_retry_cb, p, &p->retry) < 0)
		vg_err(t->host, "tls: cannot start a timer: %s is not dialled again", p->name);
}

static void tls_accept_resume_cb(void *arg)
{
	struct tls *t = arg;

	t->accept_pause = NULL;
	vg_fd_modify(t->host, t->lwatch, VG_FD_READ);
}

/* A connection from an address that is no node's on this link. */
static void tls_stranger(struct tls *t, int fd, const struct sockaddr_storage *sa)
{
	char text[TLS_ADDR_TEXT];
	uint64_t now = vg_now_ms(t->host);
	int level = VG_LOG_DEBUG;

	if (!t->stranger_log_ms || now - t->stranger_log_ms >= TLS_STRANGER_LOG_MS) {
		t->stranger_log_ms = now;
		level = VG_LOG_WARNING;
	}
	tls_addr_format(sa, text, sizeof(text));
	vg_log(t->host, level, "tls: connection from %s refused: not the address of a node on this link",
	       text);
	close(fd);
}

/* One accepted socket: a pending connection until its certificate is checked. */
static void tls_accept_one(struct tls *t, int fd, const struct sockaddr_storage *sa)
{
	struct tls_conn *c;

	if (!tls_peer_by_addr(t, sa)) {
		tls_stranger(t, fd, sa);
		return;
	}
	if (t->n_pending >= TLS_PENDING_MAX) {
		vg_warn(t->host, "tls: %zu connections in handshake already: one more refused",
			t->n_pending);
		close(fd);
		return;
	}
	tls_sock_opts(t, fd);
	if (tls_conn_new(t, fd, sa, 0, &c) < 0)
		return;
	c->next = t->pending;
	t->pending = c;
	t->n_pending++;
	tls_conn_start(c);
}

static void tls_accept_cb(void *arg, int fd, uint32_t events)
{
	struct tls *t = arg;
	struct sockaddr_storage sa;
	socklen_t len;
	int i, cfd;

	for (i = 0; i < TLS_ACCEPT_BURST; i++) {
		len = sizeof(sa);
		cfd = accept4(fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd >= 0) {
			tls_accept_one(t, cfd, &sa);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
			vg_warn(t->host, "tls: accept: %s; accepting again in %d ms",
				strerror(errno), TLS_ACCEPT_PAUSE_MS);
			if (!t->accept_pause &&
			    vg_timer_start(t->host, TLS_ACCEPT_PAUSE_MS, 0, tls_accept_resume_cb, t,
					   &t->accept_pause) == 0)
				vg_fd_modify(t->host, t->lwatch, 0);
		} else if (errno != EAGAIN && errno != EWOULDBLOCK) {
			vg_debug(t->host, "tls: accept: %s", strerror(errno));
		}
		return;
	}
}

/* The listening socket on our address (or `bind`) and port. */
static int tls_listen(struct tls *t, const char *what)
{
	int one = 1, ret;

	t->lfd = socket(t->local.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
	if (t->lfd < 0) {
		ret = -errno;
		vg_err(t->host, "tls: socket: %s", strerror(errno));
		return ret;
	}
	setsockopt(t->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (t->local.ss_family == AF_INET6)
		setsockopt(t->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(t->lfd, (struct sockaddr *)&t->local, t->local_len) < 0 ||
	    listen(t->lfd, 64) < 0) {
		ret = -errno;
		vg_err(t->host, "tls: cannot listen on %s port %u: %s", what, t->port, strerror(errno));
		return ret;
	}
	ret = vg_fd_watch(t->host, t->lfd, VG_FD_READ, tls_accept_cb, t, &t->lwatch);
	if (ret < 0)
		vg_err(t->host, "tls: cannot watch the listening socket: %s", strerror(-ret));
	return ret;
}

/* Our address: `bind`, else this node's address on the link (required then). */
static int tls_local_addr(struct tls *t, const struct vg_instance *inst, const struct vg_node *self,
			  const char **text)
{
	const struct vg_value *bind = &inst->params[P_BIND];
	struct sockaddr_in6 any6 = { 0 };

	*text = bind->is_set && bind->s ? bind->s : self->addr;
	if (!*text) {
		vg_err(t->host, "tls: node %u (%s) has no address on link %u and bind is not set",
		       self->id, self->name, t->link);
		return -EINVAL;
	}
	if (vgc_addr_parse(*text, t->port, &t->local, &t->local_len) < 0) {
		vg_err(t->host, "tls: %s \"%s\" is not an IPv4 or IPv6 literal (names are not resolved)",
		       *text == self->addr ? "this node's address" : "bind", *text);
		return -EINVAL;
	}
	if (t->local.ss_family == AF_INET)
		t->local_is_any = ((struct sockaddr_in *)&t->local)->sin_addr.s_addr == htonl(INADDR_ANY);
	else
		t->local_is_any = !memcmp(&((struct sockaddr_in6 *)&t->local)->sin6_addr,
					  &any6.sin6_addr, sizeof(any6.sin6_addr));
	return 0;
}

/* Fill one peer from its node; refuses a non-literal address or another family. */
static int tls_peer_init(struct tls *t, struct tls_peer *p, const struct vg_node *n)
{
	p->t = t;
	p->id = n->id;
	p->name = n->name;
	p->outbound = t->local_id < n->id;
	p->backoff_ms = t->backoff_min_ms;
	p->queue = calloc(t->queue_max, sizeof(*p->queue));
	if (!p->queue)
		return -ENOMEM;
	if (!n->addr)
		return 0;
	if (vgc_addr_parse(n->addr, t->port, &p->sa, &p->salen) < 0) {
		vg_err(t->host, "tls: node %u (%s): address \"%s\" is not an IPv4 or IPv6 literal (names are not resolved)",
		       n->id, n->name, n->addr);
		return -EINVAL;
	}
	if (p->sa.ss_family != t->local.ss_family) {
		vg_err(t->host, "tls: node %u (%s): address \"%s\" is not of our family (%s); one link is IPv4 or IPv6",
		       n->id, n->name, n->addr, t->local.ss_family == AF_INET ? "IPv4" : "IPv6");
		return -EINVAL;
	}
	tls_addr_format(&p->sa, p->addr_text, sizeof(p->addr_text));
	p->has_addr = 1;
	return 0;
}

static int tls_peers_init(struct tls *t)
{
	size_t count = vg_node_count(t->host), i;
	const struct vg_node *n;
	int ret;

	t->peers = calloc(count ? count : 1, sizeof(*t->peers));
	if (!t->peers)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		n = vg_node_at(t->host, i);
		if (!n || n->id == t->local_id)
			continue;
		ret = tls_peer_init(t, &t->peers[t->n_peers++], n);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static void tls_close(void *state)
{
	struct tls *t = state;
	struct tls_conn *c;
	size_t i;

	if (!t)
		return;
	for (i = 0; t->peers && i < t->n_peers; i++) {
		struct tls_peer *p = &t->peers[i];

		vg_timer_stop(t->host, p->retry);
		/* Best effort close_notify: the peer logs a clean close. */
		if (p->conn && p->conn->state == TLS_CONN_UP && SSL_shutdown(p->conn->ssl) < 0)
			ERR_clear_error();
		if (p->conn)
			tls_conn_destroy(p->conn);
		if (p->queue)
			tls_peer_queue_clear(p);
		free(p->queue);
	}
	while ((c = t->pending)) {
		t->pending = c->next;
		tls_conn_destroy(c);
	}
	vg_timer_stop(t->host, t->accept_pause);
	vg_fd_unwatch(t->host, t->lwatch);
	if (t->lfd >= 0)
		close(t->lfd);
	SSL_CTX_free(t->ctx);
	free(t->peers);
	free(t);
}

/* Typed parameters into the instance. */
static int tls_params_read(struct tls *t, const struct vg_instance *inst)
{
	const struct vg_value *v = inst->params;

	t->port = (uint16_t)v[P_PORT].i;
	t->connect_timeout_ms = (uint64_t)v[P_CONNECT_TIMEOUT].i;
	t->backoff_min_ms = (uint64_t)v[P_BACKOFF_MIN].i;
	t->backoff_max_ms = (uint64_t)v[P_BACKOFF_MAX].i;
	t->queue_max = (size_t)v[P_QUEUE_MAX].i;
	t->max_frame = (size_t)v[P_MAX_FRAME].i;
	if (t->backoff_max_ms < t->backoff_min_ms) {
		vg_err(t->host, "tls: backoff_max_ms (%llu) must be at least backoff_min_ms (%llu)",
		       (unsigned long long)t->backoff_max_ms, (unsigned long long)t->backoff_min_ms);
		return -EINVAL;
	}
	return 0;
}

/* Dial every peer with a higher id, from the loop (never inside open). */
static int tls_dial_all(struct tls *t)
{
	size_t i, n = 0;

	for (i = 0; i < t->n_peers; i++) {
		struct tls_peer *p = &t->peers[i];

		if (!p->outbound || !p->has_addr)
			continue;
		if (vg_timer_start(t->host, 0, 0, tls_peer_retry_cb, p, &p->retry) < 0)
			return -ENOMEM;
		n++;
	}
	return (int)n;
}

static int tls_open(const struct vg_host *host, const struct vg_instance *inst, void **state)
{
	const struct vg_node *self = vg_node_by_id(host, vg_local_node_id(host));
	const char *where;
	struct tls *t;
	int ret;

	if (!self) {
		vg_err(host, "tls: this node (id %u) is not in the node list", vg_local_node_id(host));
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t) {
		vg_err(host, "tls: out of memory");
		return -ENOMEM;
	}
	t->host = host;
	t->link = inst->link;
	t->lfd = -1;
	t->local_id = self->id;
	t->local_name = self->name;
	ret = tls_params_read(t, inst);
	if (ret < 0)
		goto out;
	ret = tls_local_addr(t, inst, self, &where);
	if (ret < 0)
		goto out;
	ret = tls_peers_init(t);
	if (ret < 0)
		goto out;
	ret = tls_ctx_open(t, inst);
	if (ret < 0)
		goto out;
	ret = tls_listen(t, where);
	if (ret < 0)
		goto out;
	ret = tls_dial_all(t);
	if (ret < 0)
		goto out;
	vg_info(host, "tls: link %u: %s port %u, %zu peer(s), dialling %d", t->link, where, t->port,
		t->n_peers, ret);
	*state = t;
	return 0;
out:
	if (ret == -ENOMEM)
		vg_err(host, "tls: out of memory");
	tls_close(t);
	return ret;
}

/* One frame to one peer: -ENOTCONN unless its link is up. */
static int tls_peer_send(struct tls_peer *p, const void *frame, size_t len)
{
	if (!p->up || !p->conn || p->conn->state != TLS_CONN_UP)
		return -ENOTCONN;
	return tls_conn_send(p->conn, frame, len);
}

/*
 * VG_NODE_ALL: every peer whose link is up (others are skipped); the first
 * error is returned, -ENOTCONN when no link is up.
 */
static int tls_send(void *state, uint32_t to_node, const void *frame, size_t len)
{
	struct tls *t = state;
	int ret = 0, r, sent = 0;
	size_t i;

	if (len > t->max_frame)
		return -EMSGSIZE;
	for (i = 0; i < t->n_peers; i++) {
		struct tls_peer *p = &t->peers[i];

		if (to_node != VG_NODE_ALL) {
			if (p->id == to_node)
				return tls_peer_send(p, frame, len);
			continue;
		}
		if (!p->up)
			continue;
		r = tls_peer_send(p, frame, len);
		sent++;
		if (r < 0 && !ret)
			ret = r;
	}
	return sent ? ret : -ENOTCONN;
}

static size_t tls_max_frame(void *state)
{
	return ((struct tls *)state)->max_frame;
}

static const struct vg_transport_ops tls_ops = {
	.send = tls_send,
	.max_frame = tls_max_frame,
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_TRANSPORT,
	.name = "tls",
	.version = "1.0",
	.description = "TLS 1.3 over TCP: a full mesh with mutual certificate authentication against the cluster CA",
	.params = tls_params,
	.open = tls_open,
	.close = tls_close,
	.ops = &tls_ops);
