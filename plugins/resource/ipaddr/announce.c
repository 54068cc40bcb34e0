/*
 * ipaddr plugin: tell the segment that the address moved here.
 * IPv4: gratuitous ARP, a request and a reply with sender = target = the
 * address, broadcast, over an AF_PACKET datagram socket bound to the link.
 * IPv6: an unsolicited neighbour advertisement (override flag, target
 * link-layer address option) to ff02::1 with hop limit 255, from the
 * address itself, over a raw ICMPv6 socket (the kernel fills the checksum).
 * The first round goes out at once; the rest from a repeating timer.
 */
#include "ipaddr.h"

#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

/* An Ethernet/IPv4 ARP packet body (after the link header). */
struct ipa_arp {
	struct arphdr hdr;
	unsigned char sha[ETH_ALEN];
	unsigned char spa[4];
	unsigned char tha[ETH_ALEN];
	unsigned char tpa[4];
} __attribute__((packed));

/* An NA with one option: the target link-layer address (Ethernet). */
struct ipa_na {
	struct nd_neighbor_advert na;
	struct nd_opt_hdr opt;
	unsigned char mac[ETH_ALEN];
} __attribute__((packed));

void ipa_announce_init(struct ipa_announce *an, const struct vg_host *host, const char *name)
{
	*an = (struct ipa_announce){ .host = host, .name = name, .fd = -1 };
}

void ipa_announce_stop(struct ipa_announce *an)
{
	vg_timer_stop(an->host, an->timer);
	an->timer = NULL;
	if (an->fd >= 0)
		close(an->fd);
	an->fd = -1;
	an->left = 0;
}

static int arp_open(struct ipa_announce *an)
{
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP),
				   .sll_ifindex = an->ifindex };

	an->fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ARP));
	if (an->fd < 0)
		return -errno;
	if (bind(an->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0)
		return -errno;
	return 0;
}

static int arp_send_one(struct ipa_announce *an, int op)
{
	struct sockaddr_ll to = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ARP),
				  .sll_ifindex = an->ifindex, .sll_halen = ETH_ALEN };
	struct ipa_arp p = {
		.hdr = { .ar_hrd = htons(ARPHRD_ETHER), .ar_pro = htons(ETH_P_IP),
			 .ar_hln = ETH_ALEN, .ar_pln = 4, .ar_op = htons((uint16_t)op) },
	};

	memset(to.sll_addr, 0xff, ETH_ALEN);
	memcpy(p.sha, an->mac, ETH_ALEN);
	memcpy(p.spa, an->vip.bytes, 4);
	memcpy(p.tpa, an->vip.bytes, 4);
	/* Request: target hardware unknown (zero); reply: broadcast. */
	if (op == ARPOP_REPLY)
		memset(p.tha, 0xff, ETH_ALEN);
	if (sendto(an->fd, &p, sizeof(p), MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	return 0;
}

static int na_open(struct ipa_announce *an)
{
	struct sockaddr_in6 src = { .sin6_family = AF_INET6 };
	int hops = 255, rc;

	an->fd = socket(AF_INET6, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_ICMPV6);
	if (an->fd < 0)
		return -errno;
	rc = setsockopt(an->fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops));
	if (rc == 0)
		rc = setsockopt(an->fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &an->ifindex,
				sizeof(an->ifindex));
	if (rc < 0)
		return -errno;
	memcpy(&src.sin6_addr, an->vip.bytes, 16);
	if (bind(an->fd, (struct sockaddr *)&src, sizeof(src)) < 0)
		return -errno;
	return 0;
}

static int na_send_one(struct ipa_announce *an)
{
	struct sockaddr_in6 to = { .sin6_family = AF_INET6, .sin6_scope_id = (uint32_t)an->ifindex };
	struct ipa_na p = {
		.na = { .nd_na_type = ND_NEIGHBOR_ADVERT, .nd_na_flags_reserved = ND_NA_FLAG_OVERRIDE },
		.opt = { .nd_opt_type = ND_OPT_TARGET_LINKADDR, .nd_opt_len = 1 },
	};

	to.sin6_addr.s6_addr[0] = 0xff; /* ff02::1, all nodes */
	to.sin6_addr.s6_addr[1] = 0x02;
	to.sin6_addr.s6_addr[15] = 0x01;
	memcpy(&p.na.nd_na_target, an->vip.bytes, 16);
	memcpy(p.mac, an->mac, ETH_ALEN);
	if (sendto(an->fd, &p, sizeof(p), MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to)) < 0)
		return -errno;
	return 0;
}

/* One round: an ARP request and an ARP reply, or one NA. */
static int announce_round(struct ipa_announce *an)
{
	int rc;

	if (an->vip.family == AF_INET6)
		return na_send_one(an);
	rc = arp_send_one(an, ARPOP_REQUEST);
	if (rc == 0)
		rc = arp_send_one(an, ARPOP_REPLY);
	return rc;
}

static void announce_tick(void *arg)
{
	struct ipa_announce *an = arg;
	int rc;

	rc = announce_round(an);
	if (rc < 0)
		vg_warn(an->host, "ipaddr: %s: announcement %u failed: %s", an->name, an->sent + 1,
			strerror(-rc));
	else
		an->sent++;
	if (--an->left == 0)
		ipa_announce_stop(an); /* stops this repeating timer: allowed from its callback */
}

int ipa_announce_start(struct ipa_announce *an, const struct ipa_addr *vip,
		       const struct ipa_link *link, unsigned count, uint64_t interval_ms)
{
	int rc;

	ipa_announce_stop(an);
	if (count == 0)
		return 0;
	if (link->mac_len != ETH_ALEN || (link->flags & IFF_NOARP))
		return -EOPNOTSUPP; /* no neighbour protocol on this link */
	an->vip = *vip;
	an->ifindex = link->ifindex;
	memcpy(an->mac, link->mac, ETH_ALEN);
	an->mac_len = ETH_ALEN;
	an->sent = 0;
	rc = vip->family == AF_INET6 ? na_open(an) : arp_open(an);
	if (rc == 0)
		rc = announce_round(an);
	if (rc < 0)
		goto fail;
	an->sent = 1;
	an->left = count - 1;
	if (an->left == 0) {
		ipa_announce_stop(an);
		return 0;
	}
	rc = vg_timer_start(an->host, interval_ms, interval_ms, announce_tick, an, &an->timer);
	if (rc < 0)
		goto fail;
	return 0;
fail:
	ipa_announce_stop(an);
	return rc;
}
