/*
 * vigil wire protocol codec.  The only place where integers are converted
 * from and to network byte order; layout in docs/protocol.md.
 */
#include <errno.h>
#include <string.h>

#include <stdlib.h>

#include "sha256.h"
#include "wire.h"

_Static_assert(VG_WIRE_OFF_RESERVED + 2 == VG_WIRE_HDR_LEN, "header layout");
_Static_assert(VG_WIRE_MAX_PAYLOAD == 1332, "payload limit");
_Static_assert(VG_WIRE_MAX_PAYLOAD <= UINT16_MAX, "payload_len is a u16");

/* ---- explicit endianness helpers ---- */

static uint16_t vg_be16_get(const uint8_t *p)
{
	return (uint16_t)((unsigned)p[0] << 8 | p[1]);
}

static uint32_t vg_be32_get(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static uint64_t vg_be64_get(const uint8_t *p)
{
	return (uint64_t)vg_be32_get(p) << 32 | vg_be32_get(p + 4);
}

static void vg_be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void vg_be32_put(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static void vg_be64_put(uint8_t *p, uint64_t v)
{
	vg_be32_put(p, (uint32_t)(v >> 32));
	vg_be32_put(p + 4, (uint32_t)v);
}

/* ---- key and MAC ---- */

int vg_wire_key_init(struct vg_wire_key *key, const void *bytes, size_t len)
{
	struct vg_hmac_key *hk;

	key->hmac = NULL;
	if (!bytes || len == 0)
		return -EINVAL;
	hk = malloc(sizeof(*hk));
	if (!hk)
		return -ENOMEM;
	/* keyed once here; each frame starts from the keyed states */
	vg_hmac_sha256_key(hk, bytes, len);
	key->hmac = hk;
	return 0;
}

void vg_wire_key_free(struct vg_wire_key *key)
{
	if (key->hmac)
		explicit_bzero(key->hmac, sizeof(struct vg_hmac_key));
	free(key->hmac);
	key->hmac = NULL;
}

static int vg_wire_mac(const struct vg_wire_key *key, const uint8_t *data,
		       size_t len, uint8_t out[VG_WIRE_MAC_LEN])
{
	if (!key->hmac)
		return -EINVAL;
	vg_hmac_sha256(key->hmac, data, len, out);
	return 0;
}

/* Compare without leaking where the first difference is. */
static int vg_wire_mac_differs(const uint8_t *a, const uint8_t *b)
{
	uint8_t d = 0;

	for (size_t i = 0; i < VG_WIRE_MAC_LEN; i++)
		d |= a[i] ^ b[i];
	return d != 0;
}

/* ---- encode ---- */

static int vg_wire_hdr_valid(const struct vg_wire_hdr *hdr)
{
	return hdr->type != VG_MSG_INVALID && hdr->node_id != 0 &&
	       hdr->incarnation != 0 && hdr->seq != 0;
}

static void vg_wire_hdr_put(uint8_t *b, const struct vg_wire_hdr *hdr,
			    uint16_t payload_len)
{
	vg_be32_put(b + VG_WIRE_OFF_MAGIC, VG_WIRE_MAGIC);
	b[VG_WIRE_OFF_VERSION] = VG_WIRE_VERSION;
	b[VG_WIRE_OFF_TYPE] = hdr->type;
	vg_be16_put(b + VG_WIRE_OFF_FLAGS, hdr->flags);
	vg_be32_put(b + VG_WIRE_OFF_CLUSTER, hdr->cluster_id);
	vg_be32_put(b + VG_WIRE_OFF_NODE, hdr->node_id);
	vg_be64_put(b + VG_WIRE_OFF_INCARNATION, hdr->incarnation);
	vg_be64_put(b + VG_WIRE_OFF_SEQ, hdr->seq);
	vg_be16_put(b + VG_WIRE_OFF_PAYLOAD_LEN, payload_len);
	vg_be16_put(b + VG_WIRE_OFF_RESERVED, 0);
}

int vg_wire_encode(const struct vg_wire_key *key, const struct vg_wire_hdr *hdr,
		   const void *payload, size_t payload_len,
		   void *buf, size_t buflen, size_t *out_len)
{
	uint8_t *b = buf;
	size_t body_len;
	int rc;

	if (!key || !hdr || !buf || !out_len || (!payload && payload_len))
		return -EINVAL;
	if (hdr->flags & ~VG_WIRE_F_KNOWN || !vg_wire_hdr_valid(hdr))
		return -EINVAL;
	if (payload_len > VG_WIRE_MAX_PAYLOAD)
		return -EMSGSIZE;
	body_len = VG_WIRE_HDR_LEN + payload_len;
	if (buflen < body_len + VG_WIRE_MAC_LEN)
		return -EMSGSIZE;
	/* memmove: the payload may already sit at its place in buf */
	if (payload_len)
		memmove(b + VG_WIRE_HDR_LEN, payload, payload_len);
	vg_wire_hdr_put(b, hdr, (uint16_t)payload_len);
	rc = vg_wire_mac(key, b, body_len, b + body_len);
	if (rc < 0)
		return rc;
	*out_len = body_len + VG_WIRE_MAC_LEN;
	return 0;
}

/* ---- decode ---- */

/* What can be checked without the key; trusts nothing else. */
static int vg_wire_check_outer(const uint8_t *b, size_t len)
{
	if (len < VG_WIRE_HDR_LEN + VG_WIRE_MAC_LEN)
		return -VG_WIRE_DROP_TRUNCATED;
	if (len > VG_WIRE_MAX_FRAME)
		return -VG_WIRE_DROP_OVERSIZED;
	if (vg_be32_get(b + VG_WIRE_OFF_MAGIC) != VG_WIRE_MAGIC)
		return -VG_WIRE_DROP_BAD_MAGIC;
	if (b[VG_WIRE_OFF_VERSION] != VG_WIRE_VERSION)
		return -VG_WIRE_DROP_BAD_VERSION;
	return 0;
}

static int vg_wire_check_length(const uint8_t *b, size_t len)
{
	size_t payload_len = vg_be16_get(b + VG_WIRE_OFF_PAYLOAD_LEN);

	if (VG_WIRE_HDR_LEN + payload_len + VG_WIRE_MAC_LEN != len)
		return -VG_WIRE_DROP_BAD_LENGTH;
	return 0;
}

/* Only after the MAC (or in the unverified path): the remaining fields. */
static int vg_wire_parse_inner(const uint8_t *b, struct vg_wire_hdr *hdr)
{
	hdr->version = b[VG_WIRE_OFF_VERSION];
	hdr->type = b[VG_WIRE_OFF_TYPE];
	hdr->flags = vg_be16_get(b + VG_WIRE_OFF_FLAGS);
	hdr->cluster_id = vg_be32_get(b + VG_WIRE_OFF_CLUSTER);
	hdr->node_id = vg_be32_get(b + VG_WIRE_OFF_NODE);
	hdr->incarnation = vg_be64_get(b + VG_WIRE_OFF_INCARNATION);
	hdr->seq = vg_be64_get(b + VG_WIRE_OFF_SEQ);
	hdr->payload_len = vg_be16_get(b + VG_WIRE_OFF_PAYLOAD_LEN);
	if (hdr->flags & ~VG_WIRE_F_KNOWN ||
	    vg_be16_get(b + VG_WIRE_OFF_RESERVED) != 0)
		return -VG_WIRE_DROP_BAD_FLAGS;
	if (!vg_wire_hdr_valid(hdr))
		return -VG_WIRE_DROP_BAD_HEADER;
	return 0;
}

int vg_wire_decode(const struct vg_wire_key *key, uint32_t my_cluster_id,
		   const void *buf, size_t len,
		   struct vg_wire_hdr *hdr, const void **payload)
{
	uint8_t mac[VG_WIRE_MAC_LEN];
	const uint8_t *b = buf;
	size_t body_len;
	int rc;

	if (!b)
		return -VG_WIRE_DROP_TRUNCATED;
	rc = vg_wire_check_outer(b, len);
	if (rc < 0)
		return rc;
	if (vg_be32_get(b + VG_WIRE_OFF_CLUSTER) != my_cluster_id)
		return -VG_WIRE_DROP_OTHER_CLUSTER;
	rc = vg_wire_check_length(b, len);
	if (rc < 0)
		return rc;
	body_len = len - VG_WIRE_MAC_LEN;
	if (vg_wire_mac(key, b, body_len, mac) < 0 ||
	    vg_wire_mac_differs(mac, b + body_len))
		return -VG_WIRE_DROP_BAD_MAC;
	rc = vg_wire_parse_inner(b, hdr);
	if (rc < 0)
		return rc;
	*payload = b + VG_WIRE_HDR_LEN;
	return 0;
}

int vg_wire_decode_unverified(const void *buf, size_t len,
			      struct vg_wire_hdr *hdr, const void **payload)
{
	const uint8_t *b = buf;
	int rc;

	if (!b)
		return -VG_WIRE_DROP_TRUNCATED;
	rc = vg_wire_check_outer(b, len);
	if (rc < 0)
		return rc;
	rc = vg_wire_check_length(b, len);
	if (rc < 0)
		return rc;
	rc = vg_wire_parse_inner(b, hdr);
	if (rc < 0)
		return rc;
	*payload = b + VG_WIRE_HDR_LEN;
	return 0;
}

const char *vg_wire_drop_name(int reason)
{
	static const char *const names[VG_WIRE_DROP_MAX] = {
		[VG_WIRE_DROP_NONE] = "none",
		[VG_WIRE_DROP_TRUNCATED] = "truncated",
		[VG_WIRE_DROP_OVERSIZED] = "oversized",
		[VG_WIRE_DROP_BAD_MAGIC] = "bad-magic",
		[VG_WIRE_DROP_BAD_VERSION] = "bad-version",
		[VG_WIRE_DROP_OTHER_CLUSTER] = "other-cluster",
		[VG_WIRE_DROP_BAD_LENGTH] = "bad-length",
		[VG_WIRE_DROP_BAD_MAC] = "bad-mac",
		[VG_WIRE_DROP_BAD_FLAGS] = "bad-flags",
		[VG_WIRE_DROP_BAD_HEADER] = "bad-header",
		[VG_WIRE_DROP_OLD_INCARNATION] = "old-incarnation",
		[VG_WIRE_DROP_REPLAYED] = "replayed",
		[VG_WIRE_DROP_DUPLICATE] = "duplicate",
	};

	if (reason < 0 && reason > -VG_WIRE_DROP_MAX)
		reason = -reason;
	if (reason < 0 || reason >= VG_WIRE_DROP_MAX || !names[reason])
		return "unknown";
	return names[reason];
}

/* ---- replay window ---- */

int vg_replay_check(struct vg_replay *r, uint64_t incarnation, uint64_t seq)
{
	uint64_t shift, age;

	if (incarnation < r->incarnation)
		return -VG_WIRE_DROP_OLD_INCARNATION;
	if (incarnation > r->incarnation) {
		r->incarnation = incarnation;
		r->top_seq = 0;
		r->bitmap = 0;
	}
	if (seq == 0)
		return -VG_WIRE_DROP_REPLAYED;
	if (seq > r->top_seq) {
		shift = seq - r->top_seq;
		r->bitmap = shift >= VG_REPLAY_WINDOW ? 0 : r->bitmap << shift;
		r->bitmap |= 1;
		r->top_seq = seq;
		return 0;
	}
	age = r->top_seq - seq;
	if (age >= VG_REPLAY_WINDOW)
		return -VG_WIRE_DROP_REPLAYED;
	if (r->bitmap & (UINT64_C(1) << age))
		return -VG_WIRE_DROP_DUPLICATE;
	r->bitmap |= UINT64_C(1) << age;
	return 0;
}

void vg_wire_stats_count(struct vg_wire_stats *s, int rc)
{
	if (rc == 0) {
		s->accepted++;
		return;
	}
	if (rc < 0 && rc > -VG_WIRE_DROP_MAX)
		s->dropped[-rc]++;
	else
		s->dropped[VG_WIRE_DROP_NONE]++;
}

/* ---- payload writer ---- */

void vg_wbuf_init(struct vg_wbuf *w, void *buf, size_t cap)
{
	w->p = buf;
	w->len = 0;
	w->cap = buf ? cap : 0;
	w->err = 0;
}

/* Room for n more bytes, or NULL and a sticky error. */
static uint8_t *vg_wbuf_reserve(struct vg_wbuf *w, size_t n)
{
	uint8_t *at;

	if (w->err || n > w->cap - w->len) {
		w->err = -EMSGSIZE;
		return NULL;
	}
	at = w->p + w->len;
	w->len += n;
	return at;
}

void vg_wbuf_put_u8(struct vg_wbuf *w, uint8_t v)
{
	uint8_t *at = vg_wbuf_reserve(w, 1);

	if (at)
		*at = v;
}

void vg_wbuf_put_u16(struct vg_wbuf *w, uint16_t v)
{
	uint8_t *at = vg_wbuf_reserve(w, 2);

	if (at)
		vg_be16_put(at, v);
}

void vg_wbuf_put_u32(struct vg_wbuf *w, uint32_t v)
{
	uint8_t *at = vg_wbuf_reserve(w, 4);

	if (at)
		vg_be32_put(at, v);
}

void vg_wbuf_put_u64(struct vg_wbuf *w, uint64_t v)
{
	uint8_t *at = vg_wbuf_reserve(w, 8);

	if (at)
		vg_be64_put(at, v);
}

void vg_wbuf_put_bytes(struct vg_wbuf *w, const void *src, size_t n)
{
	uint8_t *at = vg_wbuf_reserve(w, n);

	if (at && n)
		memcpy(at, src, n);
}

/* ---- payload reader ---- */

void vg_rbuf_init(struct vg_rbuf *r, const void *buf, size_t len)
{
	r->p = buf;
	r->len = buf ? len : 0;
	r->off = 0;
	r->err = 0;
}

size_t vg_rbuf_remaining(const struct vg_rbuf *r)
{
	return r->err ? 0 : r->len - r->off;
}

const void *vg_rbuf_get_ref(struct vg_rbuf *r, size_t n)
{
	const uint8_t *at;

	if (r->err || n > r->len - r->off) {
		r->err = -EBADMSG;
		return NULL;
	}
	at = r->p + r->off;
	r->off += n;
	return at;
}

uint8_t vg_rbuf_get_u8(struct vg_rbuf *r)
{
	const uint8_t *at = vg_rbuf_get_ref(r, 1);

	return at ? at[0] : 0;
}

uint16_t vg_rbuf_get_u16(struct vg_rbuf *r)
{
	const uint8_t *at = vg_rbuf_get_ref(r, 2);

	return at ? vg_be16_get(at) : 0;
}

uint32_t vg_rbuf_get_u32(struct vg_rbuf *r)
{
	const uint8_t *at = vg_rbuf_get_ref(r, 4);

	return at ? vg_be32_get(at) : 0;
}

uint64_t vg_rbuf_get_u64(struct vg_rbuf *r)
{
	const uint8_t *at = vg_rbuf_get_ref(r, 8);

	return at ? vg_be64_get(at) : 0;
}

void vg_rbuf_get_bytes(struct vg_rbuf *r, void *dst, size_t n)
{
	const uint8_t *at = vg_rbuf_get_ref(r, n);

	if (at)
		memcpy(dst, at, n);
	else if (n)
		memset(dst, 0, n);
}
