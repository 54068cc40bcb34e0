/*
 * ipaddr plugin: rtnetlink without blocking.  One socket per struct
 * ipa_nl, one transaction at a time, matched by sequence number; replies
 * are read when the loop says the socket is readable.  Errors come back
 * as the kernel's -errno, with its extended-ACK text when it gives one.
 */
#include "ipaddr.h"

#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#define IPA_NL_BUF 32768

/* A request: header, family header, attributes. */
struct ipa_nl_req {
	struct nlmsghdr nlh;
	union {
		struct ifaddrmsg ifa;
		struct ifinfomsg ifi;
	};
	char attrs[256];
};

static int nl_attr_put(struct nlmsghdr *nlh, size_t max, int type, const void *data, size_t len)
{
	struct nlattr *nla = (struct nlattr *)((char *)nlh + NLMSG_ALIGN(nlh->nlmsg_len));
	size_t need = NLA_HDRLEN + len;

	if (NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(need) > max)
		return -ENOBUFS;
	nla->nla_type = (uint16_t)type;
	nla->nla_len = (uint16_t)need;
	memcpy((char *)nla + NLA_HDRLEN, data, len);
	nlh->nlmsg_len = (uint32_t)(NLMSG_ALIGN(nlh->nlmsg_len) + NLA_ALIGN(need));
	return 0;
}

/* The kernel's one-line reason in an extended ACK, if any. */
static void nl_ext_ack(struct ipa_nl *nl, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = NLMSG_DATA(nlh);
	size_t off = sizeof(*e), len = nlh->nlmsg_len - NLMSG_HDRLEN;
	const struct nlattr *a;

	nl->errmsg[0] = '\0';
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	while (off + NLA_HDRLEN <= len) {
		a = (const struct nlattr *)((const char *)e + off);
		if (a->nla_len < NLA_HDRLEN || off + a->nla_len > len)
			return;
		if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
			snprintf(nl->errmsg, sizeof(nl->errmsg), "%.*s",
				 (int)(a->nla_len - NLA_HDRLEN), (const char *)a + NLA_HDRLEN);
			return;
		}
		off += NLA_ALIGN(a->nla_len);
	}
}

/* The transaction ended: go idle first, the callback may start another. */
static void nl_done(struct ipa_nl *nl, int err)
{
	nl->seq = 0;
	nl->on_done(nl->arg, err);
}

/* Handle one message; returns 1 when it ended the transaction. */
static int nl_handle(struct ipa_nl *nl, const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e;

	if (nlh->nlmsg_seq != nl->seq)
		return 0; /* a late reply to an abandoned request */
	switch (nlh->nlmsg_type) {
	case NLMSG_ERROR:
		if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e))) {
			nl_done(nl, -EBADMSG);
			return 1;
		}
		e = NLMSG_DATA(nlh);
		if (e->error)
			nl_ext_ack(nl, nlh);
		nl_done(nl, e->error > 0 ? -e->error : e->error);
		return 1;
	case NLMSG_DONE:
		nl_done(nl, 0);
		return 1;
	case NLMSG_NOOP:
		return 0;
	default:
		if (nl->on_msg)
			nl->on_msg(nl->arg, nlh);
		return 0;
	}
}

static void nl_readable(void *arg, int fd, uint32_t events)
{
	struct ipa_nl *nl = arg;
	char buf[IPA_NL_BUF] __attribute__((aligned(NLMSG_ALIGNTO))); /* dumps fill what we offer */
	const struct nlmsghdr *nlh;
	struct sockaddr_nl from;
	socklen_t fromlen;
	ssize_t n;

	while (nl->seq) {
		fromlen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			nl_done(nl, n < 0 ? -errno : -EPIPE);
			return;
		}
		if (from.nl_pid != 0)
			continue; /* only the kernel answers our requests */
		for (nlh = (const struct nlmsghdr *)buf; NLMSG_OK(nlh, (size_t)n);
		     nlh = NLMSG_NEXT(nlh, n)) {
			if (nl_handle(nl, nlh))
				return; /* nl may be closed or busy with the next request */
		}
	}
}

int ipa_nl_open(struct ipa_nl *nl, const struct vg_host *host)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int one = 1, rc;

	*nl = (struct ipa_nl){ .host = host, .fd = -1,
			       .last_seq = (uint32_t)(vg_now_ms(host) & 0x7fffffff) };
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (nl->fd < 0)
		return -errno;
	/* Best effort: the reason in text, and no echo of our request in errors. */
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = vg_fd_watch(host, nl->fd, VG_FD_READ, nl_readable, nl, &nl->watch);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	close(nl->fd);
	nl->fd = -1;
	return rc;
}

void ipa_nl_close(struct ipa_nl *nl)
{
	if (nl->fd < 0)
		return;
	vg_fd_unwatch(nl->host, nl->watch);
	nl->watch = NULL;
	close(nl->fd);
	nl->fd = -1;
	nl->seq = 0;
}

/* Send `req` as the next transaction; the reply comes through the watch. */
static int nl_send(struct ipa_nl *nl, struct ipa_nl_req *req, ipa_nl_msg_cb on_msg,
		   ipa_nl_done_cb on_done, void *arg)
{
	static const struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	ssize_t n;

	if (nl->fd < 0 || nl->seq)
		return -EBUSY;
	nl->seq = ++nl->last_seq ? nl->last_seq : ++nl->last_seq; /* 0 means idle */
	req->nlh.nlmsg_seq = nl->seq;
	req->nlh.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nl->on_msg = on_msg;
	nl->on_done = on_done;
	nl->arg = arg;
	nl->errmsg[0] = '\0';
	n = sendto(nl->fd, req, req->nlh.nlmsg_len, MSG_DONTWAIT, (const struct sockaddr *)&kernel,
		   sizeof(kernel));
	if (n != (ssize_t)req->nlh.nlmsg_len) {
		nl->seq = 0;
		return n < 0 ? -errno : -EIO;
	}
	return 0;
}

int ipa_nl_getaddr(struct ipa_nl *nl, int family, ipa_nl_msg_cb on_msg, ipa_nl_done_cb on_done,
		   void *arg)
{
	struct ipa_nl_req req = {
		.nlh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
			 .nlmsg_type = RTM_GETADDR, .nlmsg_flags = NLM_F_DUMP },
		.ifa = { .ifa_family = (uint8_t)family },
	};

	return nl_send(nl, &req, on_msg, on_done, arg);
}

int ipa_nl_getlink(struct ipa_nl *nl, int ifindex, ipa_nl_msg_cb on_msg, ipa_nl_done_cb on_done,
		   void *arg)
{
	struct ipa_nl_req req = {
		.nlh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
			 .nlmsg_type = RTM_GETLINK },
		.ifi = { .ifi_family = AF_UNSPEC, .ifi_index = ifindex },
	};

	return nl_send(nl, &req, on_msg, on_done, arg);
}

/* IPv4 attributes: the broadcast address of the subnet and the label. */
static int nl_put_inet(struct ipa_nl_req *req, const struct ipa_addr *a, const char *label)
{
	unsigned char brd[4];
	uint32_t host_mask;
	int rc = 0;

	if (a->prefix < 31) {
		host_mask = a->prefix == 0 ? 0xffffffffu : (1u << (32 - a->prefix)) - 1;
		for (int i = 0; i < 4; i++)
			brd[i] = a->bytes[i] | (unsigned char)(host_mask >> (8 * (3 - i)));
		rc = nl_attr_put(&req->nlh, sizeof(*req), IFA_BROADCAST, brd, 4);
	}
	if (rc == 0 && label)
		rc = nl_attr_put(&req->nlh, sizeof(*req), IFA_LABEL, label, strlen(label) + 1);
	return rc;
}

int ipa_nl_setaddr(struct ipa_nl *nl, int add, const struct ipa_addr *a, int ifindex,
		   const char *label, ipa_nl_done_cb on_done, void *arg)
{
	struct ipa_nl_req req = {
		.nlh = { .nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg)),
			 .nlmsg_type = add ? RTM_NEWADDR : RTM_DELADDR,
			 .nlmsg_flags = add ? NLM_F_CREATE | NLM_F_EXCL : 0 },
		.ifa = { .ifa_family = (uint8_t)a->family, .ifa_prefixlen = (uint8_t)a->prefix,
			 .ifa_scope = RT_SCOPE_UNIVERSE, .ifa_index = (uint32_t)ifindex },
	};
	size_t len = ipa_addr_len(a->family);
	uint32_t flags = IFA_F_NODAD;
	int rc;

	rc = nl_attr_put(&req.nlh, sizeof(req), IFA_LOCAL, a->bytes, len);
	if (rc == 0)
		rc = nl_attr_put(&req.nlh, sizeof(req), IFA_ADDRESS, a->bytes, len);
	if (rc == 0 && add && a->family == AF_INET)
		rc = nl_put_inet(&req, a, label);
	if (rc == 0 && add && a->family == AF_INET6) {
		/* Usable at once: no duplicate address detection to wait for. */
		req.ifa.ifa_flags = IFA_F_NODAD;
		rc = nl_attr_put(&req.nlh, sizeof(req), IFA_FLAGS, &flags, sizeof(flags));
	}
	if (rc < 0)
		return rc;
	return nl_send(nl, &req, NULL, on_done, arg);
}

int ipa_nl_parse_addr(const struct nlmsghdr *nlh, struct ipa_ifaddr *out)
{
	const struct ifaddrmsg *ifa = NLMSG_DATA(nlh);
	const struct rtattr *rta;
	int len = (int)nlh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifa));
	const void *local = NULL, *address = NULL;

	if (nlh->nlmsg_type != RTM_NEWADDR || len < 0)
		return -EINVAL;
	if (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6)
		return -EINVAL;
	for (rta = IFA_RTA(ifa); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (RTA_PAYLOAD(rta) < ipa_addr_len(ifa->ifa_family))
			continue;
		if (rta->rta_type == IFA_LOCAL)
			local = RTA_DATA(rta);
		else if (rta->rta_type == IFA_ADDRESS)
			address = RTA_DATA(rta);
	}
	/* IFA_LOCAL is the address itself (IFA_ADDRESS is the peer on p2p links). */
	if (!local)
		local = address;
	if (!local)
		return -EINVAL;
	*out = (struct ipa_ifaddr){ .family = ifa->ifa_family, .ifindex = (int)ifa->ifa_index,
				    .prefix = ifa->ifa_prefixlen };
	memcpy(out->bytes, local, ipa_addr_len(ifa->ifa_family));
	return 0;
}

int ipa_nl_parse_link(const struct nlmsghdr *nlh, struct ipa_link *out)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(nlh);
	const struct rtattr *rta;
	int len = (int)nlh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));

	if (nlh->nlmsg_type != RTM_NEWLINK || len < 0)
		return -EINVAL;
	*out = (struct ipa_link){ .ifindex = ifi->ifi_index, .flags = ifi->ifi_flags };
	for (rta = IFLA_RTA(ifi); RTA_OK(rta, len); rta = RTA_NEXT(rta, len)) {
		if (rta->rta_type != IFLA_ADDRESS || RTA_PAYLOAD(rta) > sizeof(out->mac))
			continue;
		out->mac_len = RTA_PAYLOAD(rta);
		memcpy(out->mac, RTA_DATA(rta), out->mac_len);
	}
	return 0;
}
