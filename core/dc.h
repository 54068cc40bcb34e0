/*
 * The DC (coordinator): on the lowest node of a quorate view, it runs the
 * policy engine on the replicated cluster state and drives the resulting
 * transition: each action is sent to its node (or run here) once its
 * dependencies completed; a failed action or any change of the cluster
 * aborts it, and the engine runs again once the running actions ended and
 * every member's state is known.  On every node, the worker half runs the
 * actions the DC sends and answers with their results.
 */
#ifndef VG_CORE_DC_H
#define VG_CORE_DC_H

#include <stddef.h>
#include <stdint.h>

#include "policy/policy.h"

struct vg_loop;
struct vg_logger;
struct vg_config;
struct vg_net;
struct vg_membership;
struct vg_cstate;
struct vg_executor;
struct vg_fencer;
struct vg_peer;
struct vg_wire_hdr;

enum vg_dc_act_state {
	VG_DC_ACT_INVALID = 0,
	VG_DC_ACT_PENDING = 1,
	VG_DC_ACT_RUNNING = 2,
	VG_DC_ACT_DONE = 3,
	VG_DC_ACT_FAILED = 4,
};

#define VG_DC_RECENT 64

/* Worker: results of recent requests, so that a retransmitted one is answered again. */
struct vg_dc_recent {
	uint64_t dc_incarnation, transition;
	uint32_t action_id;
	int done;
	int32_t status;
	uint8_t rc;
	uint32_t rsc;
	uint8_t action;
	uint64_t state_version;
};

struct vg_dc {
	struct vg_loop *loop;
	const struct vg_logger *log;
	const struct vg_config *cfg;
	struct vg_net *net;
	struct vg_membership *m;
	struct vg_cstate *cs;
	struct vg_executor *ex;
	struct vg_fencer *fencer;  /* set by the caller after start; NULL: cannot fence */
	struct vg_pe_model model;
	/* the transition being driven */
	uint64_t transition;
	struct vg_pe_transition tr;
	uint32_t *act_state;       /* enum vg_dc_act_state per action */
	uint64_t *act_sent_ms;
	uint64_t *need_version;    /* per node: the state version its last result promised */
	uint64_t *need_inc;        /* ... in this incarnation of the node (a restart voids it) */
	int active, aborted, fence_failed;
	size_t n_running;
	uint64_t started_ms;
	struct vg_timer *kick, *retx, *expiry;
	int was_dc;
	int warned_no_fencing;
	/* worker */
	struct vg_dc_recent recent[VG_DC_RECENT];
	size_t recent_next;
	/* last computed placement, for status */
	uint64_t computed_ms;
};

int vg_dc_start(struct vg_dc *dc, const struct vg_config *cfg, struct vg_net *net,
		struct vg_membership *m, struct vg_cstate *cs, struct vg_executor *ex,
		struct vg_loop *loop, const struct vg_logger *log);
void vg_dc_stop(struct vg_dc *dc);

/* Something changed (view, quorum, a state, the attributes): look again soon. */
void vg_dc_kick(struct vg_dc *dc);
/* The view or the attributes changed: a running transition stops starting actions. */
void vg_dc_abort(struct vg_dc *dc, const char *why);
/* RSC_OP and RSC_RESULT frames. */
void vg_dc_frame(struct vg_dc *dc, struct vg_peer *p, const struct vg_wire_hdr *hdr,
		 const void *payload);

/* Build the engine's input from the cluster state (also for `simulate` and status). */
int vg_dc_input(struct vg_dc *dc, struct vg_pe_input *in);
void vg_dc_input_free(struct vg_pe_input *in);

#endif
