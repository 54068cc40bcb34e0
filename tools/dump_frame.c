/*
 * vigildump: one captured packet.  Find the UDP payload, recognise a vigil
 * frame by its magic, decode it (verified with the key, unverified
 * without), print one line and count it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dump.h"

#define DIGEST_LEN	32u
#define HB_FLAG_QUORATE	0x01u
#define HB_FLAG_ALL_SEEN 0x02u
#define HB_MAX_SHOWN	16	/* members listed on one line */

static const char *type_name(uint8_t type, char *buf, size_t len)
{
	switch (type) {
	case VG_MSG_HEARTBEAT:
		return "HEARTBEAT";
	case VG_MSG_JOIN:
		return "JOIN";
	case VG_MSG_MEMBERSHIP:
		return "MEMBERSHIP";
	case VG_MSG_LEAVE:
		return "LEAVE";
	case VG_MSG_CONFIG_MISMATCH:
		return "CONFIG_MISMATCH";
	default:
		snprintf(buf, len, "type-%u", type);
		return buf;
	}
}

static void print_endpoint(FILE *f, const struct dump_addr *a, uint16_t port)
{
	char ip[64];

	dump_addr_format(a, ip, sizeof(ip));
	fprintf(f, a->af == AF_INET6 ? "[%s]:%u" : "%s:%u", ip, port);
}

static void print_prefix(FILE *f, const struct dump_pkt *pkt)
{
	struct tm tm;
	time_t t = pkt->ts.tv_sec;

	localtime_r(&t, &tm);
	fprintf(f, "%02d:%02d:%02d.%06ld ", tm.tm_hour, tm.tm_min, tm.tm_sec,
		(long)pkt->ts.tv_usec);
	print_endpoint(f, &pkt->src, pkt->sport);
	fputs(" -> ", f);
	print_endpoint(f, &pkt->dst, pkt->dport);
}

/* HEARTBEAT payload, the layout of core/membership.c. */
static void print_heartbeat(FILE *f, const void *payload, size_t len)
{
	const uint8_t *digest;
	struct vg_rbuf r;
	uint64_t view_id;
	uint32_t owner;
	uint16_t n, i;
	uint8_t flags;

	vg_rbuf_init(&r, payload, len);
	digest = vg_rbuf_get_ref(&r, DIGEST_LEN);
	view_id = vg_rbuf_get_u64(&r);
	owner = vg_rbuf_get_u32(&r);
	flags = vg_rbuf_get_u8(&r);
	vg_rbuf_get_u8(&r);
	n = vg_rbuf_get_u16(&r);
	if (r.err) {
		fputs(" heartbeat-truncated", f);
		return;
	}
	fprintf(f, " view %" PRIu64 "/%" PRIu32 " cfg %02x%02x%02x%02x",
		view_id, owner, digest[0], digest[1], digest[2], digest[3]);
	fprintf(f, " members %u [", n);
	for (i = 0; i < n; i++) {
		uint32_t id = vg_rbuf_get_u32(&r);

		if (r.err)
			break;
		if (i < HB_MAX_SHOWN)
			fprintf(f, "%s%" PRIu32, i ? "," : "", id);
	}
	fprintf(f, "%s]%s%s%s", n > HB_MAX_SHOWN ? ",..." : "",
		flags & HB_FLAG_QUORATE ? " quorate" : " not-quorate",
		flags & HB_FLAG_ALL_SEEN ? " all-seen" : "",
		r.err ? " members-truncated" : "");
}

static void print_frame(struct vigildump *d, const struct dump_pkt *pkt,
			const struct vg_wire_hdr *hdr, const void *payload,
			int mac, int rc, int dup)
{
	FILE *f = d->lines;
	char tbuf[16];

	print_prefix(f, pkt);
	fprintf(f, " node %" PRIu32 " inc %" PRIu64 " seq %" PRIu64 " %s %zuB",
		hdr->node_id, hdr->incarnation, hdr->seq,
		type_name(hdr->type, tbuf, sizeof(tbuf)), pkt->len);
	fputs(mac == 1 ? " mac=ok" : mac == 0 ? " mac=BAD" : " mac=?", f);
	if (rc < 0 && rc != -VG_WIRE_DROP_BAD_MAC)
		fprintf(f, " drop=%s cluster=0x%08" PRIx32, vg_wire_drop_name(rc),
			hdr->cluster_id);
	if (dup)
		fputs(" dup", f);
	if (hdr->type == VG_MSG_HEARTBEAT && rc >= 0)
		print_heartbeat(f, payload, hdr->payload_len);
	fputc('\n', f);
}

static void print_undecodable(struct vigildump *d, const struct dump_pkt *pkt,
			      int rc)
{
	print_prefix(d->lines, pkt);
	fprintf(d->lines, " vigil %zuB drop=%s\n", pkt->len,
		vg_wire_drop_name(rc));
}

/*
 * Decode: the unverified parse gives the header whenever the outer checks
 * and the length pass; with the key, vg_wire_decode() then judges it
 * against -c (or the frame's own cluster id when -c is not given).
 * *mac: 1 ok, 0 bad, -1 not checked.  Returns 0 or -enum vg_wire_drop.
 */
static int decode(struct vigildump *d, const struct dump_pkt *pkt,
		  struct vg_wire_hdr *hdr, const void **payload, int *mac)
{
	uint32_t cluster;
	int rc;

	*mac = -1;
	memset(hdr, 0, sizeof(*hdr));
	rc = vg_wire_decode_unverified(pkt->payload, pkt->len, hdr, payload);
	if (rc < 0 && rc != -VG_WIRE_DROP_BAD_FLAGS &&
	    rc != -VG_WIRE_DROP_BAD_HEADER)
		return rc;		/* header not parsed */
	cluster = d->opt.have_cluster ? d->opt.cluster_id : hdr->cluster_id;
	if (!d->have_key)
		return hdr->cluster_id != cluster ?
		       -VG_WIRE_DROP_OTHER_CLUSTER : rc;
	rc = vg_wire_decode(&d->key, cluster, pkt->payload, pkt->len, hdr,
			    payload);
	if (rc == 0 || rc == -VG_WIRE_DROP_BAD_FLAGS ||
	    rc == -VG_WIRE_DROP_BAD_HEADER)
		*mac = 1;
	else if (rc == -VG_WIRE_DROP_BAD_MAC)
		*mac = 0;
	return rc;
}

static int is_vigil(const struct dump_pkt *pkt)
{
	static const uint8_t magic[4] = { 'V', 'G', 'L', '1' };

	return pkt->len >= sizeof(magic) &&
	       memcmp(pkt->payload, magic, sizeof(magic)) == 0;
}

static void frame(struct vigildump *d, const struct dump_pkt *pkt)
{
	struct dump_frame_info fi = { .pkt = pkt };
	const void *payload = NULL;
	struct vg_wire_hdr hdr;
	int rc, mac;

	rc = decode(d, pkt, &hdr, &payload, &mac);
	if (rc < 0)
		d->st.dropped[-rc < VG_WIRE_DROP_MAX ? -rc : 0]++;
	if (rc < 0 && hdr.node_id == 0) {
		if (!d->opt.quiet)
			print_undecodable(d, pkt, rc);
		return;
	}
	fi.hdr = &hdr;
	fi.mac = mac;
	fi.counted = rc == 0;
	/* other cluster, bad flags, bad header: shown, not a sender's */
	if (rc == 0 || rc == -VG_WIRE_DROP_BAD_MAC) {
		if (dump_stats_frame(&d->st, &fi) < 0)
			fprintf(stderr, "vigildump: out of memory, statistics incomplete\n");
	}
	if (!d->opt.quiet)
		print_frame(d, pkt, &hdr, payload, mac, rc, fi.duplicate);
}

static int port_wanted(const struct dump_opts *o, const struct dump_pkt *pkt)
{
	int i;

	for (i = 0; i < o->n_ports; i++)
		if (pkt->sport == o->port[i] || pkt->dport == o->port[i])
			return 1;
	return o->n_ports == 0;
}

void dump_packet(struct vigildump *d, const struct timeval *ts,
		 const uint8_t *data, size_t caplen)
{
	struct dump_pkt pkt;

	memset(&pkt, 0, sizeof(pkt));
	pkt.ts = *ts;
	if (dump_pkt_parse(d->dlt, data, caplen, &pkt) < 0) {
		d->st.packets++;
		d->st.other++;
		return;
	}
	if (!port_wanted(&d->opt, &pkt))
		return;			/* -p: not counted at all */
	d->st.packets++;
	if (!is_vigil(&pkt)) {
		d->st.other++;
		return;
	}
	d->st.vigil++;
	frame(d, &pkt);
}
