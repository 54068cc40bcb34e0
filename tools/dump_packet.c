/*
 * vigildump: from a captured packet to its UDP payload.  Link types
 * Ethernet (with VLAN tags), Linux cooked v1/v2 ("any"), raw IPv4/IPv6;
 * IPv4 with options (non-first fragments ignored), IPv6 with extension
 * headers skipped.  Every length is checked against the captured bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include <pcap/pcap.h>

#include "dump.h"

#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_IPV6	0x86dd
#define ETHERTYPE_VLAN	0x8100
#define ETHERTYPE_QINQ	0x88a8
#define ETHERTYPE_QINQ_OLD 0x9100
#define UDP_HDR_LEN	8u
#define MAX_IPV6_EXT	8	/* extension headers followed before giving up */

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

int dump_dlt_supported(int dlt)
{
	switch (dlt) {
	case DLT_EN10MB:
	case DLT_LINUX_SLL:
	case DLT_LINUX_SLL2:
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return 1;
	default:
		return 0;
	}
}

static int parse_udp(const uint8_t *p, size_t len, struct dump_pkt *pkt)
{
	size_t ulen;

	if (len < UDP_HDR_LEN)
		return -ENOENT;
	pkt->sport = get16(p);
	pkt->dport = get16(p + 2);
	ulen = get16(p + 4);
	if (ulen < UDP_HDR_LEN)
		return -ENOENT;
	pkt->payload = p + UDP_HDR_LEN;
	/* snaplen or a first fragment may have cut the datagram short */
	pkt->len = ulen - UDP_HDR_LEN;
	if (pkt->len > len - UDP_HDR_LEN)
		pkt->len = len - UDP_HDR_LEN;
	return 0;
}

static int parse_ipv4(const uint8_t *p, size_t len, struct dump_pkt *pkt)
{
	size_t ihl, tot;

	if (len < 20 || p[0] >> 4 != 4)
		return -ENOENT;
	ihl = (size_t)(p[0] & 0x0f) * 4;
	tot = get16(p + 2);
	if (ihl < 20 || tot < ihl || len < ihl)
		return -ENOENT;
	if (get16(p + 6) & 0x1fff)	/* fragment offset: not the first */
		return -ENOENT;
	if (p[9] != IPPROTO_UDP)
		return -ENOENT;
	if (tot < len)			/* Ethernet padding */
		len = tot;
	pkt->src.af = AF_INET;
	pkt->dst.af = AF_INET;
	memcpy(pkt->src.a, p + 12, 4);
	memcpy(pkt->dst.a, p + 16, 4);
	return parse_udp(p + ihl, len - ihl, pkt);
}

/* Skip IPv6 extension headers; returns the offset of UDP or -ENOENT. */
static long ipv6_skip_ext(const uint8_t *p, size_t len)
{
	size_t off = 40, hlen;
	uint8_t nh = p[6];
	int i;

	for (i = 0; i < MAX_IPV6_EXT; i++) {
		if (nh == IPPROTO_UDP)
			return (long)off;
		if (len < off + 8)
			return -ENOENT;
		switch (nh) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
			hlen = ((size_t)p[off + 1] + 1) * 8;
			break;
		case IPPROTO_FRAGMENT:
			if (get16(p + off + 2) & 0xfff8)
				return -ENOENT;	/* not the first fragment */
			hlen = 8;
			break;
		case IPPROTO_AH:
			hlen = ((size_t)p[off + 1] + 2) * 4;
			break;
		default:		/* ESP, no next header, others */
			return -ENOENT;
		}
		nh = p[off];
		off += hlen;
	}
	return -ENOENT;
}

static int parse_ipv6(const uint8_t *p, size_t len, struct dump_pkt *pkt)
{
	size_t plen;
	long off;

	if (len < 40 || p[0] >> 4 != 6)
		return -ENOENT;
	plen = get16(p + 4);
	if (40 + plen < len)
		len = 40 + plen;
	off = ipv6_skip_ext(p, len);
	if (off < 0 || (size_t)off > len)
		return -ENOENT;
	pkt->src.af = AF_INET6;
	pkt->dst.af = AF_INET6;
	memcpy(pkt->src.a, p + 8, 16);
	memcpy(pkt->dst.a, p + 24, 16);
	return parse_udp(p + off, len - (size_t)off, pkt);
}

static int parse_ethertype(uint16_t type, const uint8_t *p, size_t len,
			   struct dump_pkt *pkt)
{
	if (type == ETHERTYPE_IPV4)
		return parse_ipv4(p, len, pkt);
	if (type == ETHERTYPE_IPV6)
		return parse_ipv6(p, len, pkt);
	return -ENOENT;
}

static int parse_ether(const uint8_t *p, size_t len, struct dump_pkt *pkt)
{
	size_t off = 12;
	uint16_t type;

	if (len < 14)
		return -ENOENT;
	type = get16(p + off);
	/* up to two tags: 802.1Q, or 802.1ad QinQ */
	while (type == ETHERTYPE_VLAN || type == ETHERTYPE_QINQ ||
	       type == ETHERTYPE_QINQ_OLD) {
		off += 4;
		if (len < off + 2 || off > 20)
			return -ENOENT;
		type = get16(p + off);
	}
	off += 2;
	return parse_ethertype(type, p + off, len - off, pkt);
}

static int parse_raw(const uint8_t *p, size_t len, struct dump_pkt *pkt)
{
	if (len < 1)
		return -ENOENT;
	if (p[0] >> 4 == 4)
		return parse_ipv4(p, len, pkt);
	return parse_ipv6(p, len, pkt);
}

int dump_pkt_parse(int dlt, const uint8_t *data, size_t caplen,
		   struct dump_pkt *pkt)
{
	switch (dlt) {
	case DLT_EN10MB:
		return parse_ether(data, caplen, pkt);
	case DLT_LINUX_SLL:	/* 16 bytes, protocol at 14 */
		if (caplen < 16)
			return -ENOENT;
		return parse_ethertype(get16(data + 14), data + 16,
				       caplen - 16, pkt);
	case DLT_LINUX_SLL2:	/* 20 bytes, protocol at 0 */
		if (caplen < 20)
			return -ENOENT;
		return parse_ethertype(get16(data), data + 20, caplen - 20,
				       pkt);
	case DLT_RAW:
	case DLT_IPV4:
	case DLT_IPV6:
		return parse_raw(data, caplen, pkt);
	default:
		return -EPROTONOSUPPORT;
	}
}

void dump_addr_format(const struct dump_addr *a, char *buf, size_t len)
{
	char ip[INET6_ADDRSTRLEN];

	if (!inet_ntop(a->af, a->a, ip, sizeof(ip)))
		snprintf(ip, sizeof(ip), "?");
	snprintf(buf, len, "%s", ip);
}

int dump_addr_equal(const struct dump_addr *a, const struct dump_addr *b)
{
	return a->af == b->af &&
	       memcmp(a->a, b->a, a->af == AF_INET ? 4 : 16) == 0;
}
