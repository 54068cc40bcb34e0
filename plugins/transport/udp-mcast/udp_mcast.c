/*
 * udp-mcast — vigil transport over UDP multicast.
 *
 * One socket per instance, bound to the group address and port (so other
 * groups on the same port are not received) and joined to the group on one
 * interface.  Every frame is one datagram to the group, also a frame meant
 * for a single node: the core drops frames that are not for it.  Node
 * addresses are IP literals only (no DNS: it could block vigild's loop);
 * they pick the interface and name the sender of a datagram.
 *
 * Built against the SDK only.  See docs/plugins/udp.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE    /* struct ip_mreqn, IP_MULTICAST_ALL, getifaddrs */
#endif
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vigil/plugin.h>

#include "netaddr.h"

#define MCAST_MAX_FRAME   1400
#define MCAST_RX_BURST    64          /* datagrams per fd callback, keeps the loop fair */
#define MCAST_RCVBUF      (1 << 20)   /* 1 MiB, best effort */
#define MCAST_DSCP_CS6    0xc0        /* TOS / traffic class byte for heartbeats */

/* Parameter indexes: the order of mcast_params[]. */
enum { P_GROUP, P_PORT, P_TTL, P_INTERFACE, P_LOOP, P_COUNT };

static const struct vg_param_decl mcast_params[] = {
	[P_GROUP] = { .name = "group", .type = VG_PARAM_STRING, .def = "239.192.77.1",
		      .help = "multicast group, an IPv4 or IPv6 literal" },
	[P_PORT] = { .name = "port", .type = VG_PARAM_INT, .def = "5406",
		     .min = 1, .max = 65535, .help = "UDP port of the group" },
	[P_TTL] = { .name = "ttl", .type = VG_PARAM_INT, .def = "1",
		    .min = 1, .max = 255, .help = "multicast TTL / hop limit (1: this segment only)" },
	[P_INTERFACE] = { .name = "interface", .type = VG_PARAM_STRING,
			  .help = "interface name (default: the one holding this node's address on the link)" },
	[P_LOOP] = { .name = "loop", .type = VG_PARAM_BOOL, .def = "false",
		     .help = "deliver own datagrams back to this host (IP_MULTICAST_LOOP)" },
	[P_COUNT] = { .name = NULL },
};

/* A node with an address on this link: names the sender of a datagram. */
struct mcast_node {
	uint32_t id;
	struct sockaddr_storage sa;
};

/* One instance: one link.  Allocated by open, freed by close. */
struct mcast {
	const struct vg_host *host;
	int fd;
	struct vg_watch *watch;
	struct sockaddr_storage group;     /* destination of every frame */
	socklen_t group_len;
	unsigned int ifindex;              /* 0: the kernel's choice */
	struct sockaddr_storage local;     /* this node's address, if it has one */
	int has_local;
	struct mcast_node *nodes;          /* owned */
	size_t n_nodes;
	uint64_t rx_dropped;               /* oversized or empty datagrams */
	unsigned char buf[MCAST_MAX_FRAME];
};

static int mcast_is_group(const struct sockaddr_storage *sa)
{
	if (sa->ss_family == AF_INET)
		return IN_MULTICAST(ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr));
	return IN6_IS_ADDR_MULTICAST(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

/* `group` must be a multicast literal. */
static int mcast_group_init(struct mcast *m, const struct vg_instance *inst)
{
	const char *s = inst->params[P_GROUP].s;
	uint16_t port = (uint16_t)inst->params[P_PORT].i;

	if (!s || vgc_addr_parse(s, port, &m->group, &m->group_len) < 0 ||
	    !mcast_is_group(&m->group)) {
		vg_err(m->host, "udp-mcast: group must be an IPv4 (224.0.0.0/4) or IPv6 (ff00::/8) multicast literal, got \"%s\"",
		       s ? s : "");
		return -EINVAL;
	}
	return 0;
}

/* Record every node's address; a non-literal or wrong-family one is refused. */
static int mcast_nodes_init(struct mcast *m)
{
	size_t i, count = vg_node_count(m->host);
	uint32_t self = vg_local_node_id(m->host);
	const struct vg_node *n;
	struct mcast_node *mn;
	socklen_t len;

	m->nodes = calloc(count ? count : 1, sizeof(*m->nodes));
	if (!m->nodes)
		return -ENOMEM;
	for (i = 0; i < count; i++) {
		n = vg_node_at(m->host, i);
		if (!n || !n->addr)
			continue;
		mn = &m->nodes[m->n_nodes];
		if (vgc_addr_parse(n->addr, 0, &mn->sa, &len) < 0 ||
		    mn->sa.ss_family != m->group.ss_family) {
			vg_err(m->host, "udp-mcast: node %u (%s): address \"%s\" must be an %s literal like the group (names are not resolved)",
			       n->id, n->name, n->addr,
			       m->group.ss_family == AF_INET ? "IPv4" : "IPv6");
			return -EINVAL;
		}
		mn->id = n->id;
		m->n_nodes++;
		if (n->id == self) {
			m->local = mn->sa;
			m->has_local = 1;
		}
	}
	return 0;
}

/* Index of the interface that holds this node's address, or 0 when none does. */
static unsigned int mcast_ifindex_by_addr(const struct sockaddr_storage *addr)
{
	struct ifaddrs *ifa, *p;
	unsigned int idx = 0;

	if (getifaddrs(&ifa) < 0)
		return 0;
	for (p = ifa; p && !idx; p = p->ifa_next) {
		if (!p->ifa_addr || p->ifa_addr->sa_family != addr->ss_family)
			continue;
		if (vgc_addr_equal((const struct sockaddr_storage *)p->ifa_addr, addr))
			idx = if_nametoindex(p->ifa_name);
	}
	freeifaddrs(ifa);
	return idx;
}

/* `interface`, else the one holding this node's address, else the kernel's choice. */
static int mcast_ifindex_init(struct mcast *m, const struct vg_instance *inst)
{
	const struct vg_value *ifname = &inst->params[P_INTERFACE];
	char buf[INET6_ADDRSTRLEN];
	const void *a;

	if (ifname->is_set && ifname->s) {
		m->ifindex = if_nametoindex(ifname->s);
		if (!m->ifindex) {
			vg_err(m->host, "udp-mcast: interface \"%s\": no such interface", ifname->s);
			return -ENODEV;
		}
		return 0;
	}
	if (!m->has_local)
		return 0;
	m->ifindex = mcast_ifindex_by_addr(&m->local);
	if (m->ifindex)
		return 0;
	if (m->local.ss_family == AF_INET)
		a = &((struct sockaddr_in *)&m->local)->sin_addr;
	else
		a = &((struct sockaddr_in6 *)&m->local)->sin6_addr;
	inet_ntop(m->local.ss_family, a, buf, sizeof(buf));
	vg_err(m->host, "udp-mcast: node %u: address %s is on no local interface; configure it or set interface",
	       vg_local_node_id(m->host), buf);
	return -EADDRNOTAVAIL;
}

/* An interface- or link-local IPv6 group is only meaningful on one interface. */
static int mcast_scope_init(struct mcast *m, const char *group)
{
	struct sockaddr_in6 *g = (struct sockaddr_in6 *)&m->group;

	if (m->group.ss_family != AF_INET6 ||
	    (!IN6_IS_ADDR_MC_LINKLOCAL(&g->sin6_addr) && !IN6_IS_ADDR_MC_NODELOCAL(&g->sin6_addr)))
		return 0;
	if (!m->ifindex) {
		vg_err(m->host, "udp-mcast: group %s is link-local: set interface, or give this node an address on the link",
		       group);
		return -EINVAL;
	}
	if (!g->sin6_scope_id)
		g->sin6_scope_id = m->ifindex;
	return 0;
}

/* IPv4: TTL, loop, outgoing interface, DSCP.  Only a wrong interface is fatal. */
static int mcast_sockopts4(struct mcast *m, int ttl, int loop)
{
	struct ip_mreqn mr = { .imr_ifindex = (int)m->ifindex };
	int tos = MCAST_DSCP_CS6, off = 0, ret;

	if (m->has_local)
		mr.imr_address = ((struct sockaddr_in *)&m->local)->sin_addr;
	if ((m->ifindex || m->has_local) &&
	    setsockopt(m->fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof(mr)) < 0) {
		ret = -errno;
		vg_err(m->host, "udp-mcast: IP_MULTICAST_IF (interface %u): %s",
		       m->ifindex, strerror(-ret));
		return ret;
	}
	if (setsockopt(m->fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl)) < 0 ||
	    setsockopt(m->fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop, sizeof(loop)) < 0) {
		ret = -errno;
		vg_err(m->host, "udp-mcast: ttl %d / loop %d: %s", ttl, loop, strerror(-ret));
		return ret;
	}
	if (setsockopt(m->fd, IPPROTO_IP, IP_TOS, &tos, sizeof(tos)) < 0)
		vg_warn(m->host, "udp-mcast: cannot set DSCP CS6: %s", strerror(errno));
	/* Bound to the group already; this also keeps other sockets' groups out. */
	setsockopt(m->fd, IPPROTO_IP, IP_MULTICAST_ALL, &off, sizeof(off));
	return 0;
}

/* IPv6: hop limit, loop, outgoing interface, traffic class. */
static int mcast_sockopts6(struct mcast *m, int hops, int loop)
{
	int tclass = MCAST_DSCP_CS6, one = 1, ret;
	unsigned int uloop = (unsigned int)loop;

	setsockopt(m->fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (m->ifindex &&
	    setsockopt(m->fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &m->ifindex, sizeof(m->ifindex)) < 0) {
		ret = -errno;
		vg_err(m->host, "udp-mcast: IPV6_MULTICAST_IF (interface %u): %s",
		       m->ifindex, strerror(-ret));
		return ret;
	}
	if (setsockopt(m->fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
	    setsockopt(m->fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &uloop, sizeof(uloop)) < 0) {
		ret = -errno;
		vg_err(m->host, "udp-mcast: ttl %d / loop %d: %s", hops, loop, strerror(-ret));
		return ret;
	}
	if (setsockopt(m->fd, IPPROTO_IPV6, IPV6_TCLASS, &tclass, sizeof(tclass)) < 0)
		vg_warn(m->host, "udp-mcast: cannot set DSCP CS6: %s", strerror(errno));
	return 0;
}

/* Socket, options, bind to group:port. */
static int mcast_socket_open(struct mcast *m, const struct vg_instance *inst)
{
	int one = 1, rcvbuf = MCAST_RCVBUF, ret;
	int ttl = (int)inst->params[P_TTL].i, loop = inst->params[P_LOOP].i ? 1 : 0;

	m->fd = socket(m->group.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (m->fd < 0) {
		ret = -errno;
		vg_err(m->host, "udp-mcast: socket: %s", strerror(errno));
		return ret;
	}
	if (setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		ret = -errno;
		vg_err(m->host, "udp-mcast: SO_REUSEADDR: %s", strerror(errno));
		return ret;
	}
	/* Best effort: rmem_max may cap it; heartbeats still fit. */
	setsockopt(m->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (m->group.ss_family == AF_INET)
		ret = mcast_sockopts4(m, ttl, loop);
	else
		ret = mcast_sockopts6(m, ttl, loop);
	if (ret < 0)
		return ret;
	if (bind(m->fd, (struct sockaddr *)&m->group, m->group_len) < 0) {
		ret = -errno;
		vg_err(m->host, "udp-mcast: cannot bind group %s port %lld: %s",
		       inst->params[P_GROUP].s, (long long)inst->params[P_PORT].i, strerror(errno));
		return ret;
	}
	return 0;
}

/* Join the group on the chosen interface. */
static int mcast_join(struct mcast *m, const char *group)
{
	struct ip_mreqn mr4 = { .imr_ifindex = (int)m->ifindex };
	struct ipv6_mreq mr6 = { .ipv6mr_interface = m->ifindex };
	int ret;

	if (m->group.ss_family == AF_INET) {
		mr4.imr_multiaddr = ((struct sockaddr_in *)&m->group)->sin_addr;
		if (m->has_local)
			mr4.imr_address = ((struct sockaddr_in *)&m->local)->sin_addr;
		ret = setsockopt(m->fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr4, sizeof(mr4));
	} else {
		mr6.ipv6mr_multiaddr = ((struct sockaddr_in6 *)&m->group)->sin6_addr;
		ret = setsockopt(m->fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr6, sizeof(mr6));
	}
	if (ret < 0) {
		ret = -errno;
		vg_err(m->host, "udp-mcast: cannot join group %s on interface %u: %s%s",
		       group, m->ifindex, strerror(-ret),
		       m->ifindex ? "" : " (no route to the group: set interface)");
	}
	return ret;
}

/* The node whose address sent this datagram, or VG_NODE_NONE. */
static uint32_t mcast_node_lookup(const void *ctx, const struct sockaddr_storage *from)
{
	const struct mcast *m = ctx;
	size_t i;

	for (i = 0; i < m->n_nodes; i++)
		if (vgc_addr_equal(&m->nodes[i].sa, from))
			return m->nodes[i].id;
	return VG_NODE_NONE;
}

/* Readable: up to MCAST_RX_BURST datagrams to the core. */
static void mcast_read_cb(void *arg, int fd, uint32_t events)
{
	struct mcast *m = arg;

	vgc_dgram_read_burst(m->host, fd, events, m->buf, sizeof(m->buf), MCAST_RX_BURST,
			     "udp-mcast", &m->rx_dropped, mcast_node_lookup, m);
}

static void mcast_close(void *state)
{
	struct mcast *m = state;

	if (!m)
		return;
	vg_fd_unwatch(m->host, m->watch);
	if (m->fd >= 0)
		close(m->fd);        /* also leaves the group */
	free(m->nodes);
	free(m);
}

static int mcast_open(const struct vg_host *host, const struct vg_instance *inst, void **state)
{
	struct mcast *m;
	int ret;

	m = calloc(1, sizeof(*m));
	if (!m) {
		vg_err(host, "udp-mcast: out of memory");
		return -ENOMEM;
	}
	m->host = host;
	m->fd = -1;
	ret = mcast_group_init(m, inst);
	if (ret < 0)
		goto out;
	ret = mcast_nodes_init(m);
	if (ret < 0)
		goto out;
	ret = mcast_ifindex_init(m, inst);
	if (ret < 0)
		goto out;
	ret = mcast_scope_init(m, inst->params[P_GROUP].s);
	if (ret < 0)
		goto out;
	ret = mcast_socket_open(m, inst);
	if (ret < 0)
		goto out;
	ret = mcast_join(m, inst->params[P_GROUP].s);
	if (ret < 0)
		goto out;
	ret = vg_fd_watch(host, m->fd, VG_FD_READ, mcast_read_cb, m, &m->watch);
	if (ret < 0) {
		vg_err(host, "udp-mcast: cannot watch the socket: %s", strerror(-ret));
		goto out;
	}
	vg_info(host, "udp-mcast: link %u: group %s port %lld, interface %u, ttl %lld, loop %s",
		inst->link, inst->params[P_GROUP].s, (long long)inst->params[P_PORT].i,
		m->ifindex, (long long)inst->params[P_TTL].i, inst->params[P_LOOP].i ? "on" : "off");
	*state = m;
	return 0;
out:
	if (ret == -ENOMEM)
		vg_err(host, "udp-mcast: out of memory");
	mcast_close(m);
	return ret;
}

/*
 * Every frame goes to the group, whatever `to_node` is: multicast has no
 * cheaper path to one node, and the core drops frames not meant for it.
 */
static int mcast_send(void *state, uint32_t to_node, const void *frame, size_t len)
{
	struct mcast *m = state;

	(void)to_node;
	if (len > MCAST_MAX_FRAME)
		return -EMSGSIZE;
	if (sendto(m->fd, frame, len, MSG_DONTWAIT | MSG_NOSIGNAL,
		   (const struct sockaddr *)&m->group, m->group_len) >= 0)
		return 0;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
		return -EAGAIN;
	return -errno;
}

static size_t mcast_max_frame(void *state)
{
	(void)state;
	return MCAST_MAX_FRAME;
}

static const struct vg_transport_ops mcast_ops = {
	.send = mcast_send,
	.max_frame = mcast_max_frame,
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_TRANSPORT,
	.name = "udp-mcast",
	.version = "1.0",
	.description = "UDP multicast: every frame is one datagram to the group, IPv4 or IPv6",
	.params = mcast_params,
	.open = mcast_open,
	.close = mcast_close,
	.ops = &mcast_ops);
