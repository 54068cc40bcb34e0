/*
 * Membership: heartbeats on every link, failure detection by dead time, and
 * views agreed through the coordinator.  The lowest node id of the set of
 * nodes a node can hear proposes the view; the others adopt it.  Heartbeats
 * carry the sender's installed view, so a view is announced on every
 * heartbeat and a lost frame costs at most one interval.
 * The payloads are documented in docs/protocol.md.
 */
#ifndef VG_CORE_MEMBERSHIP_H
#define VG_CORE_MEMBERSHIP_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "quorum.h"

struct vg_config;
struct vg_loop;
struct vg_logger;

/* What membership says of a node.  Shown by vigilctl; append-only. */
enum vg_node_state {
	VG_NODE_STATE_INVALID = 0,
	VG_NODE_STATE_OFFLINE = 1,   /* never heard since this node started */
	VG_NODE_STATE_JOINING = 2,   /* heard, not yet in the view */
	VG_NODE_STATE_MEMBER = 3,    /* in the installed view */
	VG_NODE_STATE_LOST = 4,      /* not heard on any link within the dead time */
	VG_NODE_STATE_LEFT = 5,      /* said goodbye (clean shutdown) */
	VG_NODE_STATE_MISMATCH = 6,  /* different cluster configuration: not admitted */
};

struct vg_view {
	uint64_t id;                 /* grows with every new view in the cluster */
	uint32_t owner;              /* the node that proposed it */
	uint16_t n_members;
	uint32_t members[VG_MAX_NODES]; /* ascending node ids */
};

/* Membership's state of one peer (vg_peer.mship). */
struct vg_mpeer {
	int alive;                   /* heard within the dead time, not left */
	int left;
	int config_ok;               /* its heartbeat's digest matches ours */
	int heard;                   /* a heartbeat arrived since we started */
	int ever_member;
	int quorate;                 /* as it announced */
	struct vg_view announced;    /* the view in its last heartbeat */
	uint64_t state_version;      /* of its resource state, as announced */
	uint64_t attrs_version;      /* of its cluster attributes, as announced */
	uint32_t attrs_origin;
	int shutting_down;           /* announced: its resources should move away */
	uint64_t member_inc;         /* its incarnation when it was last a member */
};

struct vg_membership {
	const struct vg_logger *log;
	struct vg_loop *loop;
	struct vg_net *net;
	const unsigned char *digest; /* 32 bytes, the configuration's */
	uint32_t self;
	uint32_t interval_ms, deadtime_ms;
	struct vg_mpeer *mp;         /* one per net->peers[i] */
	struct vg_view view;         /* installed */
	uint64_t max_view_seen;
	uint64_t start_ms;
	int all_seen;                /* every node was a member at once */
	struct vg_quorum_conf qc;
	struct vg_quorum q;
	uint32_t dc;                 /* coordinator, 0: none (no quorum) */
	uint64_t views_installed;
	struct vg_timer *tick;        /* heartbeat, every interval */
	struct vg_timer *check;       /* liveness, at the next peer's or link's deadline */
	uint64_t check_due_ms;
	int check_deferred;           /* the check ran late and waits one loop turn */
	/* Called after every view or quorum change (resources hook in here). */
	void (*on_change)(void *arg);
	void *arg;
	/* This node is shutting down: announced in heartbeats (flag bit 2). */
	int shutting_down;
	/* Announced in every heartbeat; owned by the cluster state (cstate.c). */
	uint64_t local_state_version;
	uint64_t attrs_version;
	uint32_t attrs_origin;
	/* Frames of other types, and every heartbeat after membership used it. */
	void (*on_frame)(void *arg, struct vg_peer *p, const struct vg_wire_hdr *hdr,
			 const void *payload);
	void (*on_heartbeat)(void *arg, struct vg_peer *p);
	void *hook_arg;
};

int vg_membership_start(struct vg_membership *m, const struct vg_config *cfg, struct vg_net *net,
			struct vg_loop *loop, const struct vg_logger *log);
/* Say goodbye on every link (clean shutdown), then stop. */
void vg_membership_stop(struct vg_membership *m);
/* Send a heartbeat now (something it announces changed). */
void vg_membership_announce(struct vg_membership *m);

enum vg_node_state vg_membership_node_state(const struct vg_membership *m, const struct vg_peer *p);
const char *vg_node_state_name(enum vg_node_state s);
int vg_view_contains(const struct vg_view *v, uint32_t id);

#endif
