/*
 * vigil-repld's peer protocol: messages between the two helpers over TCP.
 * Every message is a 32-byte header in network byte order, then `len`
 * payload bytes.  Numbers are append-only, 0 invalid (docs/replication.md).
 */
#ifndef VIGIL_REPL_WIRE_H
#define VIGIL_REPL_WIRE_H

#include <endian.h>
#include <stdint.h>
#include <string.h>

#define REPL_WIRE_MAGIC   0x56475250u /* "VGRP" */
#define REPL_WIRE_VERSION 3u /* 2: DATA/ZERO flag REPL_F_SYNC, APPLIED; 3: RS_DATA up to
				 REPL_RS_MAX (several regions) */
#define REPL_HDR_LEN      32u

enum repl_msg {
	REPL_MSG_INVALID = 0,
	REPL_MSG_HELLO = 1,       /* payload: struct repl_hello (encoded) */
	REPL_MSG_BITMAP = 2,      /* payload: the sender's dirty bitmap */
	REPL_MSG_DECIDE = 3,      /* off: enum repl_decision as the sender sees it */
	REPL_MSG_DATA = 4,        /* a replicated write: seq, off, payload; flags REPL_F_SYNC */
	REPL_MSG_ZERO = 5,        /* zero off..off+len (trim, write zeroes): seq, no payload; flags */
	REPL_MSG_FLUSH = 6,       /* make everything before durable; acked by seq */
	REPL_MSG_ACK = 7,         /* seq: every message up to seq is durable on the peer */
	REPL_MSG_RS_DATA = 8,     /* resync: off (region-aligned), payload: whole regions, at most
				     REPL_RS_MAX bytes */
	REPL_MSG_RS_DONE = 9,     /* end of resync; payload: the source's 4 generation ids */
	REPL_MSG_RS_DONE_ACK = 10,
	REPL_MSG_PING = 11,
	REPL_MSG_STATE = 12,      /* off: role << 32 | disk of the sender */
	REPL_MSG_OV_REQ = 13,     /* verify: seq = verify id, off = region; payload: its SHA-256 */
	REPL_MSG_OV_REPLY = 14,   /* seq, off as asked; payload: u32 1 = differs, 0 = same */
	REPL_MSG_APPLIED = 15,    /* seq: every message up to seq is written on the peer (not yet
				     durable: ACK says that) */
};

/* Header flags of DATA and ZERO. */
#define REPL_F_SYNC 1u /* make it and everything before durable, then ACK (else APPLIED) */

/* Header field offsets. */
#define REPL_OFF_MAGIC 0   /* u32 */
#define REPL_OFF_TYPE  4   /* u16 */
#define REPL_OFF_FLAGS 6   /* u16 */
#define REPL_OFF_SEQ   8   /* u64 */
#define REPL_OFF_OFF   16  /* u64 */
#define REPL_OFF_LEN   24  /* u32, then 4 reserved bytes (0) */

/* HELLO payload layout (offsets). */
#define REPL_HELLO_VERSION  0   /* u32 */
#define REPL_HELLO_PROTOCOL 4   /* u32: 'A' or 'C' */
#define REPL_HELLO_NAME_ID  8   /* u64 */
#define REPL_HELLO_SIZE     16  /* u64 */
#define REPL_HELLO_REGION   24  /* u32 */
#define REPL_HELLO_ROLE     28  /* u32 */
#define REPL_HELLO_DISK     32  /* u32 */
#define REPL_HELLO_FLAGS    36  /* u32: REPL_MF_* */
#define REPL_HELLO_GEN      40  /* 4 x u64 */
#define REPL_HELLO_LEN_V1   72  /* what older helpers send: the fields below are then 0 */
#define REPL_HELLO_PROMOTED 72  /* u64: wall clock ms of the last promotion */
#define REPL_HELLO_AFTER_SB 80  /* u32: enum repl_sb_policy */
#define REPL_HELLO_RESERVED 84  /* u32: 0 */
#define REPL_HELLO_LEN      88

static inline void repl_put16(uint8_t *p, uint16_t v) { v = htobe16(v); memcpy(p, &v, 2); }
static inline void repl_put32(uint8_t *p, uint32_t v) { v = htobe32(v); memcpy(p, &v, 4); }
static inline void repl_put64(uint8_t *p, uint64_t v) { v = htobe64(v); memcpy(p, &v, 8); }
static inline uint16_t repl_get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return be16toh(v); }
static inline uint32_t repl_get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return be32toh(v); }
static inline uint64_t repl_get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return be64toh(v); }

#endif
