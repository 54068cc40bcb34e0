/*
 * vigil wire protocol codec: frame header, HMAC-SHA-256 trailer, per-sender
 * replay window, and bounds-checked payload writer/reader.  No I/O.
 *
 * The byte layout is documented in docs/protocol.md; keep both true.
 * Every number in this header that appears on the wire has an explicit
 * value, 0 is invalid, values are append-only; tests/unit/test_wire.c pins
 * them.
 */
#ifndef VIGIL_CORE_WIRE_H
#define VIGIL_CORE_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define VG_WIRE_MAGIC		0x56474C31u	/* "VGL1" */
#define VG_WIRE_VERSION		1u
#define VG_WIRE_HDR_LEN		36u		/* fixed header, bytes */
#define VG_WIRE_MAC_LEN		32u		/* HMAC-SHA-256 trailer, bytes */
#define VG_WIRE_MAX_FRAME	1400u		/* header + payload + MAC, bytes */
#define VG_WIRE_MAX_PAYLOAD \
	(VG_WIRE_MAX_FRAME - VG_WIRE_HDR_LEN - VG_WIRE_MAC_LEN)	/* 1332 */

/* Header field offsets (bytes from the start of the frame). */
#define VG_WIRE_OFF_MAGIC	0
#define VG_WIRE_OFF_VERSION	4
#define VG_WIRE_OFF_TYPE	5
#define VG_WIRE_OFF_FLAGS	6
#define VG_WIRE_OFF_CLUSTER	8
#define VG_WIRE_OFF_NODE	12
#define VG_WIRE_OFF_INCARNATION	16
#define VG_WIRE_OFF_SEQ		24
#define VG_WIRE_OFF_PAYLOAD_LEN	32
#define VG_WIRE_OFF_RESERVED	34

/* Header flags.  Bits, append-only. */
#define VG_WIRE_F_ENCRYPTED	(1u << 0)	/* reserved for AES-GCM; must be 0 */
#define VG_WIRE_F_KNOWN		0u		/* flags this version accepts */

/* Frame types.  Append-only, never renumbered nor reused. */
enum vg_msg_type {
	VG_MSG_INVALID = 0,
	VG_MSG_HEARTBEAT = 1,
	VG_MSG_JOIN = 2,
	VG_MSG_MEMBERSHIP = 3,		/* the DC's agreed member set */
	VG_MSG_LEAVE = 4,
	VG_MSG_CONFIG_MISMATCH = 5,
	VG_MSG_RSC_OP = 6,		/* DC -> node: run a resource action */
	VG_MSG_RSC_RESULT = 7,		/* node -> DC: how it ended */
	VG_MSG_STATE_REQ = 8,		/* ask a node for its resource state */
	VG_MSG_STATE = 9,		/* a node's resource state, in chunks */
	VG_MSG_ATTRS_REQ = 10,		/* ask a node for its cluster attributes */
	VG_MSG_ATTRS = 11,		/* cluster attributes (JSON), in chunks */
};

/*
 * Why a frame was dropped.  vg_wire_decode() and vg_replay_check() return
 * the negated value.  Append-only; VG_WIRE_DROP_MAX moves with it.
 */
enum vg_wire_drop {
	VG_WIRE_DROP_NONE = 0,		/* not a drop; also "unknown code" slot */
	VG_WIRE_DROP_TRUNCATED = 1,	/* shorter than header + MAC */
	VG_WIRE_DROP_OVERSIZED = 2,	/* longer than VG_WIRE_MAX_FRAME */
	VG_WIRE_DROP_BAD_MAGIC = 3,
	VG_WIRE_DROP_BAD_VERSION = 4,
	VG_WIRE_DROP_OTHER_CLUSTER = 5,
	VG_WIRE_DROP_BAD_LENGTH = 6,	/* payload_len disagrees with frame size */
	VG_WIRE_DROP_BAD_MAC = 7,	/* forged, corrupted, or another key */
	VG_WIRE_DROP_BAD_FLAGS = 8,	/* unknown flag bit or reserved != 0 */
	VG_WIRE_DROP_BAD_HEADER = 9,	/* type, node id, incarnation or seq 0 */
	VG_WIRE_DROP_OLD_INCARNATION = 10, /* sender restarted since */
	VG_WIRE_DROP_REPLAYED = 11,	/* seq left of the replay window */
	VG_WIRE_DROP_DUPLICATE = 12,	/* seq already seen: copy from another link */
	VG_WIRE_DROP_MAX
};

/* Decoded header, host byte order. */
struct vg_wire_hdr {
	uint8_t version;	/* encode: ignored, always VG_WIRE_VERSION */
	uint8_t type;		/* enum vg_msg_type; unknown non-0 types pass decode */
	uint16_t flags;		/* VG_WIRE_F_*; must be 0 in this version */
	uint32_t cluster_id;
	uint32_t node_id;	/* sender; 0 invalid */
	uint64_t incarnation;	/* sender start, e.g. CLOCK_REALTIME us; 0 invalid */
	uint64_t seq;		/* per sender incarnation, from 1 */
	uint16_t payload_len;	/* encode: ignored, taken from the argument */
};

/*
 * Cluster key with its HMAC state prepared once.  Opaque: use the
 * functions below.  Not thread-safe (vigild is single-threaded): encode
 * and decode reuse the context.
 */
struct vg_wire_key {
	void *hmac;		/* struct vg_hmac_key * (sha256.h): the padded key's states */
};

/*
 * Prepare `key` from `len` bytes (>= 1; the key file gives >= 32).  The
 * bytes are not kept: the caller may wipe them afterwards.
 * Returns 0, -EINVAL, or -ENOMEM.  Free with vg_wire_key_free().
 */
int vg_wire_key_init(struct vg_wire_key *key, const void *bytes, size_t len);
void vg_wire_key_free(struct vg_wire_key *key);

/*
 * Write one frame: header from `hdr` (version and payload_len ignored),
 * `payload_len` bytes of `payload` (may be NULL when 0; may point at
 * buf + VG_WIRE_HDR_LEN to build the payload in place), and the MAC.
 * *out_len gets the frame length.
 * Returns 0, -EMSGSIZE (payload > VG_WIRE_MAX_PAYLOAD or buf too small),
 * -EINVAL (a header field decode would drop: flags, type/node/inc/seq 0),
 * or -EIO (OpenSSL failure).
 */
int vg_wire_encode(const struct vg_wire_key *key, const struct vg_wire_hdr *hdr,
		   const void *payload, size_t payload_len,
		   void *buf, size_t buflen, size_t *out_len);

/*
 * Check and parse one received frame of `len` bytes.  Checks, in order:
 * size, magic, version, cluster id, length, MAC (constant time), and only
 * then trusts flags, reserved and the other fields.  On success fills
 * *hdr and sets *payload to buf + VG_WIRE_HDR_LEN (borrowed from buf,
 * hdr->payload_len bytes).  Does not touch any replay window: call
 * vg_replay_check() for the sender next.
 * Returns 0 or -enum vg_wire_drop.
 */
int vg_wire_decode(const struct vg_wire_key *key, uint32_t my_cluster_id,
		   const void *buf, size_t len,
		   struct vg_wire_hdr *hdr, const void **payload);

/*
 * As vg_wire_decode() without the cluster id and MAC checks: for
 * vigildump without the key.  Never act on what it returns.
 */
int vg_wire_decode_unverified(const void *buf, size_t len,
			      struct vg_wire_hdr *hdr, const void **payload);

/* Name of a drop reason ("bad-mac"); takes the reason or its negation. */
const char *vg_wire_drop_name(int reason);

/* Per-sender replay window; zero-initialise for an unknown sender. */
struct vg_replay {
	uint64_t incarnation;	/* current sender incarnation */
	uint64_t top_seq;	/* highest accepted seq in it, 0 = none */
	uint64_t bitmap;	/* bit i: top_seq - i seen */
};

#define VG_REPLAY_WINDOW	64u	/* sequences tracked below top_seq, incl. */

/*
 * Accept and record (return 0), or refuse with -VG_WIRE_DROP_OLD_INCARNATION
 * (incarnation below the current one), -VG_WIRE_DROP_REPLAYED (seq 0, or
 * at or beyond VG_REPLAY_WINDOW below top_seq) or -VG_WIRE_DROP_DUPLICATE
 * (seen).  A larger incarnation resets the window: the sender restarted.
 * Call only for frames vg_wire_decode() accepted.
 */
int vg_replay_check(struct vg_replay *r, uint64_t incarnation, uint64_t seq);

/* Counters of received frames by outcome. */
struct vg_wire_stats {
	uint64_t accepted;
	uint64_t dropped[VG_WIRE_DROP_MAX];	/* [0]: unknown codes */
};

/* Count a result of vg_wire_decode()/vg_replay_check(): 0 is accepted. */
void vg_wire_stats_count(struct vg_wire_stats *s, int rc);

/*
 * Payload writer, big-endian.  Writing past cap writes nothing, sets err
 * to -EMSGSIZE and keeps it; check err once at the end.  `p` is borrowed.
 */
struct vg_wbuf {
	uint8_t *p;
	size_t len, cap;
	int err;
};

void vg_wbuf_init(struct vg_wbuf *w, void *buf, size_t cap);
void vg_wbuf_put_u8(struct vg_wbuf *w, uint8_t v);
void vg_wbuf_put_u16(struct vg_wbuf *w, uint16_t v);
void vg_wbuf_put_u32(struct vg_wbuf *w, uint32_t v);
void vg_wbuf_put_u64(struct vg_wbuf *w, uint64_t v);
void vg_wbuf_put_bytes(struct vg_wbuf *w, const void *src, size_t n);

/*
 * Payload reader, big-endian.  Reading past len returns 0 (get_bytes
 * zero-fills, get_ref returns NULL), reads nothing, sets err to -EBADMSG
 * and keeps it; every later read fails too.  `p` is borrowed.
 */
struct vg_rbuf {
	const uint8_t *p;
	size_t len, off;
	int err;
};

void vg_rbuf_init(struct vg_rbuf *r, const void *buf, size_t len);
uint8_t vg_rbuf_get_u8(struct vg_rbuf *r);
uint16_t vg_rbuf_get_u16(struct vg_rbuf *r);
uint32_t vg_rbuf_get_u32(struct vg_rbuf *r);
uint64_t vg_rbuf_get_u64(struct vg_rbuf *r);
void vg_rbuf_get_bytes(struct vg_rbuf *r, void *dst, size_t n);
/* Pointer to the next n bytes inside the buffer (borrowed), or NULL. */
const void *vg_rbuf_get_ref(struct vg_rbuf *r, size_t n);
/* Bytes left to read; 0 once err is set. */
size_t vg_rbuf_remaining(const struct vg_rbuf *r);

#endif /* VIGIL_CORE_WIRE_H */
