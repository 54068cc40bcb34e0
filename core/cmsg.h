/*
 * Payloads of the resource frames (types 6..11, docs/protocol.md): encode
 * into and decode from a frame payload.  Decoding checks every length.
 */
#ifndef VG_CORE_CMSG_H
#define VG_CORE_CMSG_H

#include <stddef.h>
#include <stdint.h>

/* RSC_OP (DC -> node) and RSC_RESULT (node -> DC). */
struct vg_cmsg_op {
	uint32_t to;            /* node id the frame is for */
	uint64_t transition;    /* DC's transition id (with the DC's incarnation below) */
	uint64_t dc_incarnation;
	uint32_t action_id;     /* index in the transition */
	uint32_t rsc;           /* primitive index (configuration order) */
	uint8_t action;         /* VG_RSC_* */
	int32_t status;         /* RESULT: 0 or -errno */
	uint8_t rc;             /* RESULT: OCF rc */
	uint64_t state_version; /* RESULT: the node's state version once it took the result in */
};

/* STATE_REQ and ATTRS_REQ. */
struct vg_cmsg_req {
	uint32_t to;
	uint64_t version;       /* the version the requester saw announced */
};

/* One entry of a node's resource state. */
struct vg_cmsg_rsc {
	uint32_t rsc;
	uint8_t role;           /* enum vg_role */
	uint8_t failed;
	uint32_t fail_count;
	uint32_t failure_age_ms; /* ms since the last failure; UINT32_MAX: none */
	uint8_t last_action;    /* the last operation: VG_RSC_*, 0: none */
	uint8_t last_rc;
	uint8_t last_timed_out;
	uint32_t last_age_ms;   /* ms since it ended */
};

#define VG_CMSG_STATE_HDR 19
#define VG_CMSG_RSC_LEN 21

/* STATE: chunk `chunk` of `n_chunks` of a node's state at `version`. */
struct vg_cmsg_state {
	uint64_t version;
	uint16_t chunk, n_chunks;
	uint8_t probed;
	uint16_t n;
	struct vg_cmsg_rsc *entries;  /* decode: filled up to the capacity given */
};

#define VG_CMSG_ATTRS_HDR 18

/* ATTRS: chunk of the cluster attributes' JSON text. */
struct vg_cmsg_attrs {
	uint64_t version;
	uint32_t origin;
	uint16_t chunk, n_chunks;
	uint16_t len;
	const uint8_t *bytes;   /* decode: borrowed from the payload */
};

size_t vg_cmsg_op_encode(const struct vg_cmsg_op *m, int result, void *buf, size_t cap);
int vg_cmsg_op_decode(const void *p, size_t len, int result, struct vg_cmsg_op *m);
size_t vg_cmsg_req_encode(const struct vg_cmsg_req *m, void *buf, size_t cap);
int vg_cmsg_req_decode(const void *p, size_t len, struct vg_cmsg_req *m);
/* Entries per STATE frame. */
size_t vg_cmsg_state_per_frame(void);
size_t vg_cmsg_state_encode(const struct vg_cmsg_state *m, void *buf, size_t cap);
/* m->entries must hold vg_cmsg_state_per_frame() entries. */
int vg_cmsg_state_decode(const void *p, size_t len, struct vg_cmsg_state *m);
size_t vg_cmsg_attrs_per_frame(void);
size_t vg_cmsg_attrs_encode(const struct vg_cmsg_attrs *m, void *buf, size_t cap);
int vg_cmsg_attrs_decode(const void *p, size_t len, struct vg_cmsg_attrs *m);

#endif
