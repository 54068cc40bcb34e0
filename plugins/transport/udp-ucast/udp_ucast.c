/*
 * udp-ucast — vigil transport over UDP unicast.
 *
 * One socket per instance, bound to this node's address on the link (or the
 * `bind` parameter, or the wildcard).  A frame to one node is one datagram
 * to that node's address; a frame to VG_NODE_ALL is one datagram to every
 * other node that has an address on this link.  Node addresses are IP
 * literals only: a DNS lookup could block vigild's loop.
 *
 * Built against the SDK only.  See docs/plugins/udp.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE    /* if_nametoindex, MSG_NOSIGNAL in strict C11 builds */
#endif
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vigil/plugin.h>

#include "netaddr.h"

#define UCAST_MAX_FRAME   1400
#define UCAST_RX_BURST    64          /* datagrams per fd callback, keeps the loop fair */
#define UCAST_RCVBUF      (1 << 20)   /* 1 MiB, best effort */
#define UCAST_DSCP_CS6    0xc0        /* TOS / traffic class byte for heartbeats */

/* Parameter indexes: the order of ucast_params[]. */
enum { P_PORT, P_BIND, P_COUNT };

static const struct vg_param_decl ucast_params[] = {
	[P_PORT] = { .name = "port", .type = VG_PARAM_INT, .def = "5405",
		     .min = 1, .max = 65535,
		     .help = "UDP port, the same on every node of the link" },
	[P_BIND] = { .name = "bind", .type = VG_PARAM_STRING,
		     .help = "local IP literal to bind (default: this node's address on the link, else the wildcard)" },
	[P_COUNT] = { .name = NULL },
};

/* Another node of the cluster as this link reaches it. */
struct ucast_peer {
	uint32_t id;
	int has_addr;                 /* 0: no address on this link, sends fail with -ENOTCONN */
	struct sockaddr_storage sa;
	socklen_t salen;
};

/* One instance: one link.  Allocated by open, freed by close. */
struct ucast {
	const struct vg_host *host;
	int fd;
	int family;                   /* AF_INET or AF_INET6, the socket's */
	struct vg_watch *watch;
	struct ucast_peer *peers;     /* every other node, owned */
	size_t n_peers;
	uint64_t rx_dropped;          /* oversized or failed receives */
	unsigned char buf[UCAST_MAX_FRAME];
};

/*
 * Choose the local address: `bind`, else this node's address on the link,
 * else unset (*salen = 0; the family is then taken from the peers).
 */
static int ucast_local_addr(struct ucast *u, const struct vg_instance *inst,
			    struct sockaddr_storage *sa, socklen_t *salen, const char **text)
{
	const struct vg_value *bind = &inst->params[P_BIND];
	uint16_t port = (uint16_t)inst->params[P_PORT].i;
	const struct vg_node *self;

	*salen = 0;
	*text = "the wildcard address";
	if (bind->is_set && bind->s) {
		*text = bind->s;
		if (vgc_addr_parse(bind->s, port, sa, salen) < 0) {
			vg_err(u->host, "udp-ucast: bind must be an IPv4 or IPv6 literal, got \"%s\"",
			       bind->s);
			return -EINVAL;
		}
		return 0;
	}
	self = vg_node_by_id(u->host, vg_local_node_id(u->host));
	if (!self || !self->addr)
		return 0;
	*text = self->addr;
	if (vgc_addr_parse(self->addr, port, sa, salen) < 0) {
		vg_err(u->host, "udp-ucast: node %u (%s): address \"%s\" is not an IPv4 or IPv6 literal (names are not resolved)",
		       self->id, self->name, self->addr);
		return -EINVAL;
	}
	return 0;
}

/* Fill one peer from its node; refuses a non-literal address. */
static int ucast_peer_init(struct ucast *u, struct ucast_peer *p,
			   const struct vg_node *n, uint16_t port)
{
	p->id = n->id;
	if (!n->addr)
		return 0;
	if (vgc_addr_parse(n->addr, port, &p->sa, &p->salen) < 0) {
		vg_err(u->host, "udp-ucast: node %u (%s): address \"%s\" is not an IPv4 or IPv6 literal (names are not resolved)",
		       n->id, n->name, n->addr);
		return -EINVAL;
	}
	p->has_addr = 1;
	return 0;
}

/* Build the table of every other node. */
static int ucast_peers_init(struct ucast *u, uint16_t port)
{
	size_t count = vg_node_count(u->host);
	uint32_t self = vg_local_node_id(u->host);
	const struct vg_node *n;
	size_t i;
	int ret;

	u->peers = calloc(count ? count : 1, sizeof(*u->peers));
	if (!u->peers)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		n = vg_node_at(u->host, i);
		if (!n || n->id == self)
			continue;
		ret = ucast_peer_init(u, &u->peers[u->n_peers], n, port);
		if (ret < 0)
			return ret;
		u->n_peers++;
	}
	return 0;
}

/* Every peer must speak the socket's family; the first one decides when unbound. */
static int ucast_family_check(struct ucast *u, int local_family)
{
	size_t i;

	u->family = local_family;
	for (i = 0; i < u->n_peers; i++) {
		if (!u->peers[i].has_addr)
			continue;
		if (!u->family)
			u->family = u->peers[i].sa.ss_family;
		if (u->peers[i].sa.ss_family != u->family) {
			vg_err(u->host, "udp-ucast: node %u: address family differs from the link's (%s); one link is IPv4 or IPv6, not both",
			       u->peers[i].id, u->family == AF_INET ? "IPv4" : "IPv6");
			return -EINVAL;
		}
	}
	if (!u->family)
		u->family = AF_INET;
	return 0;
}

/* Socket options; only SO_REUSEADDR is fatal. */
static int ucast_sockopts(struct ucast *u)
{
	int one = 1, tos = UCAST_DSCP_CS6, rcvbuf = UCAST_RCVBUF;
	int ret;

	if (setsockopt(u->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		ret = -errno;
		vg_err(u->host, "udp-ucast: SO_REUSEADDR: %s", strerror(errno));
		return ret;
	}
	if (u->family == AF_INET6) {
		setsockopt(u->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		ret = setsockopt(u->fd, IPPROTO_IPV6, IPV6_TCLASS, &tos, sizeof(tos));
	} else {
		ret = setsockopt(u->fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos));
	}
	if (ret < 0)
		vg_warn(u->host, "udp-ucast: cannot set DSCP CS6: %s", strerror(errno));
	/* Best effort: rmem_max may cap it; heartbeats still fit. */
	setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	return 0;
}

/* Open the socket and bind it to `sa` (or the wildcard when salen == 0). */
static int ucast_socket_open(struct ucast *u, struct sockaddr_storage *sa, socklen_t salen,
			     uint16_t port, const char *what)
{
	int ret;

	u->fd = socket(u->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (u->fd < 0) {
		ret = -errno;
		vg_err(u->host, "udp-ucast: socket: %s", strerror(errno));
		return ret;
	}
	ret = ucast_sockopts(u);
	if (ret < 0)
		return ret;
	if (!salen) {
		memset(sa, 0, sizeof(*sa));
		sa->ss_family = u->family;
		if (u->family == AF_INET6) {
			((struct sockaddr_in6 *)sa)->sin6_port = htons(port);
			salen = sizeof(struct sockaddr_in6);
		} else {
			((struct sockaddr_in *)sa)->sin_port = htons(port);
			salen = sizeof(struct sockaddr_in);
		}
	}
	if (bind(u->fd, (struct sockaddr *)sa, salen) < 0) {
		ret = -errno;
		vg_err(u->host, "udp-ucast: cannot bind %s port %u: %s",
		       what, port, strerror(errno));
		return ret;
	}
	return 0;
}

/* The peer whose address sent this datagram, or VG_NODE_NONE. */
static uint32_t ucast_peer_lookup(const void *ctx, const struct sockaddr_storage *from)
{
	const struct ucast *u = ctx;
	size_t i;

	for (i = 0; i < u->n_peers; i++)
		if (u->peers[i].has_addr && vgc_addr_equal(&u->peers[i].sa, from))
			return u->peers[i].id;
	return VG_NODE_NONE;
}

/* Readable: up to UCAST_RX_BURST datagrams to the core. */
static void ucast_read_cb(void *arg, int fd, uint32_t events)
{
	struct ucast *u = arg;

	vgc_dgram_read_burst(u->host, fd, events, u->buf, sizeof(u->buf), UCAST_RX_BURST,
			     "udp-ucast", &u->rx_dropped, ucast_peer_lookup, u);
}

static void ucast_close(void *state)
{
	struct ucast *u = state;

	if (!u)
		return;
	vg_fd_unwatch(u->host, u->watch);
	if (u->fd >= 0)
		close(u->fd);
	free(u->peers);
	free(u);
}

static int ucast_open(const struct vg_host *host, const struct vg_instance *inst, void **state)
{
	uint16_t port = (uint16_t)inst->params[P_PORT].i;
	struct sockaddr_storage local;
	socklen_t local_len;
	const char *local_text;
	struct ucast *u;
	int ret;

	u = calloc(1, sizeof(*u));
	if (!u) {
		vg_err(host, "udp-ucast: out of memory");
		return -ENOMEM;
	}
	u->host = host;
	u->fd = -1;
	ret = ucast_local_addr(u, inst, &local, &local_len, &local_text);
	if (ret < 0)
		goto out;
	ret = ucast_peers_init(u, port);
	if (ret < 0)
		goto out;
	ret = ucast_family_check(u, local_len ? local.ss_family : 0);
	if (ret < 0)
		goto out;
	ret = ucast_socket_open(u, &local, local_len, port, local_text);
	if (ret < 0)
		goto out;
	ret = vg_fd_watch(host, u->fd, VG_FD_READ, ucast_read_cb, u, &u->watch);
	if (ret < 0) {
		vg_err(host, "udp-ucast: cannot watch the socket: %s", strerror(-ret));
		goto out;
	}
	vg_info(host, "udp-ucast: link %u: port %u, %zu peer(s)", inst->link, port, u->n_peers);
	*state = u;
	return 0;
out:
	if (ret == -ENOMEM)
		vg_err(host, "udp-ucast: out of memory");
	ucast_close(u);
	return ret;
}

/* One datagram to one peer. */
static int ucast_send_one(struct ucast *u, const struct ucast_peer *p,
			  const void *frame, size_t len)
{
	if (!p->has_addr)
		return -ENOTCONN;
	if (sendto(u->fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL,
		   (const struct sockaddr *)&p->sa, p->salen) >= 0)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
		return -EAGAIN;
	return -errno;
}

/*
 * VG_NODE_ALL: every peer with an address (those without are skipped).
 * All are tried; the first error is returned.
 */
static int ucast_send(void *state, uint32_t to_node, const void *frame, size_t len)
{
	struct ucast *u = state;
	int ret = 0, r;
	size_t i;

	if (len > UCAST_MAX_FRAME)
		return -EMSGSIZE;
	for (i = 0; i < u->n_peers; i++) {
		if (to_node == VG_NODE_ALL) {
			if (!u->peers[i].has_addr)
				continue;
			r = ucast_send_one(u, &u->peers[i], frame, len);
			if (r < 0 && !ret)
				ret = r;
		} else if (u->peers[i].id == to_node) {
			return ucast_send_one(u, &u->peers[i], frame, len);
		}
	}
	return to_node == VG_NODE_ALL ? ret : -ENOTCONN;
}

static size_t ucast_max_frame(void *state)
{
	(void)state;
	return UCAST_MAX_FRAME;
}

static const struct vg_transport_ops ucast_ops = {
	.send = ucast_send,
	.max_frame = ucast_max_frame,
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_TRANSPORT,
	.name = "udp-ucast",
	.version = "1.0",
	.description = "UDP unicast: one datagram per frame and peer, IPv4 or IPv6 literals",
	.params = ucast_params,
	.open = ucast_open,
	.close = ucast_close,
	.ops = &ucast_ops);
