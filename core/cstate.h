/*
 * The cluster state every node keeps: what each node observes of its
 * resources (replicated from each executor: pushed on change, pulled when a
 * heartbeat announces a version we do not hold), and the cluster
 * attributes set by the operator (standby, maintenance, moves, cleanups),
 * replicated the same way, newest (version, origin) winning.
 */
#ifndef VG_CORE_CSTATE_H
#define VG_CORE_CSTATE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

struct vg_loop;
struct vg_logger;
struct vg_config;
struct vg_net;
struct vg_membership;
struct vg_executor;
struct vg_peer;
struct vg_wire_hdr;

/* The last operation of a resource on a node, for status. */
struct vg_lastop {
	uint8_t action;                /* VG_RSC_*, 0: none yet */
	uint8_t rc;
	uint8_t timed_out;
	uint64_t at_ms;                /* when it ended, on our clock */
};

struct vg_node_rstate {
	uint64_t version;              /* complete version held; 0: none */
	uint64_t incarnation;          /* of the node, when that version was held */
	uint64_t announced;            /* the version its last heartbeat announced */
	int stale;                     /* joined the view since: wait for a fresh state */
	int was_member;                /* in the previous view */
	int probed;
	struct vg_pe_rsc_state *rsc;   /* one per primitive; last_failure_ms on our clock */
	struct vg_lastop *last;        /* one per primitive */
	struct vg_lastop *asm_last;
	/* a version being assembled from its chunks */
	uint64_t asm_version;
	uint16_t asm_chunks, asm_left;
	uint8_t *asm_got;
	struct vg_pe_rsc_state *asm_rsc;
	int asm_probed;
	uint64_t last_req_ms;
};

struct vg_cstate {
	struct vg_loop *loop;
	const struct vg_logger *log;
	const struct vg_config *cfg;
	struct vg_net *net;
	struct vg_membership *m;
	struct vg_executor *ex;
	size_t self;                   /* index of this node */
	size_t n_nodes, n_rsc;
	struct vg_node_rstate *nodes;  /* configuration order */
	/* cluster attributes */
	json_t *attrs;                 /* owned */
	uint64_t attrs_version;
	uint32_t attrs_origin;
	char *attrs_dir;               /* <state_dir>/<node> */
	char *asm_text;                /* attributes being assembled */
	uint64_t asm_version;
	uint32_t asm_origin;
	uint16_t asm_chunks, asm_left;
	uint8_t *asm_got;
	uint64_t attrs_last_req_ms;
	int attrs_saving, attrs_save_pending;
	/* a node's state or the attributes changed */
	void (*on_update)(void *arg);
	void *arg;
};

int vg_cstate_start(struct vg_cstate *cs, const struct vg_config *cfg, struct vg_net *net,
		    struct vg_membership *m, struct vg_executor *ex, struct vg_loop *loop,
		    const struct vg_logger *log);
void vg_cstate_stop(struct vg_cstate *cs);

/* The executor changed: take its state, announce and push it. */
void vg_cstate_local_changed(struct vg_cstate *cs);

/* Frames and heartbeats from membership's hooks. */
void vg_cstate_frame(struct vg_cstate *cs, struct vg_peer *p, const struct vg_wire_hdr *hdr,
		     const void *payload);
void vg_cstate_heartbeat(struct vg_cstate *cs, struct vg_peer *p);

/*
 * Replace the attributes with `doc` (reference stolen) as a new version
 * from this node, save and push them.
 */
void vg_cstate_attrs_set(struct vg_cstate *cs, json_t *doc);

/*
 * The view changed: a node that (re)joined may have changed its resources
 * while away, so what we hold of it is stale until it sends its state again.
 */
void vg_cstate_view_changed(struct vg_cstate *cs);

/* Do we hold every member's current state (as their heartbeats announce)? */
int vg_cstate_synced(const struct vg_cstate *cs);

/* Readers of the attributes. */
int vg_attrs_standby(const json_t *attrs, const char *node);
int vg_attrs_maintenance(const json_t *attrs);

#endif
