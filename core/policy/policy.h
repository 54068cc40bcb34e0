/*
 * The policy engine: a pure function (model, cluster state) -> transition.
 * No I/O, no clock, no globals: everything it knows comes in through
 * struct vg_pe_input, everything it decides goes out in struct
 * vg_pe_transition.  The DC runs it; `vigilctl simulate` and the tests run
 * it on saved states.  See docs/policy.md.
 */
#ifndef VG_CORE_POLICY_H
#define VG_CORE_POLICY_H

#include <stddef.h>
#include <stdint.h>

/* Scores saturate at +-INFINITY; INFINITY + -INFINITY = -INFINITY. */
#define VG_SCORE_INFINITY 1000000
typedef int32_t vg_score;

/* Roles of a resource on a node.  0 invalid. */
enum vg_role {
	VG_ROLE_INVALID = 0,
	VG_ROLE_UNKNOWN = 1,    /* not probed yet on that node */
	VG_ROLE_STOPPED = 2,
	VG_ROLE_STARTED = 3,    /* running (unpromoted for promotable clones) */
	VG_ROLE_PROMOTED = 4,
};

/* What a primitive should be: meta attribute target_role. */
enum vg_target_role {
	VG_TARGET_INVALID = 0,
	VG_TARGET_STOPPED = 1,
	VG_TARGET_STARTED = 2,    /* default */
	VG_TARGET_PROMOTED = 3,   /* promotable clones: promote up to promoted_max (default) */
	VG_TARGET_UNPROMOTED = 4, /* promotable clones: run, never promote */
};

/* meta on_fail: what a failed operation leads to. */
enum vg_on_fail {
	VG_ON_FAIL_INVALID = 0,
	VG_ON_FAIL_RESTART = 1,   /* stop and start again (default), counting failures */
	VG_ON_FAIL_STOP = 2,      /* stop and leave stopped */
	VG_ON_FAIL_BLOCK = 3,     /* leave it as it is, do nothing more with it */
	VG_ON_FAIL_IGNORE = 4,    /* pretend it succeeded */
	VG_ON_FAIL_FENCE = 5,     /* fence the node */
};

/* Anything a constraint can name. */
enum vg_pe_kind {
	VG_PE_PRIMITIVE = 1,
	VG_PE_GROUP = 2,
	VG_PE_CLONE = 3,
};

struct vg_pe_ref {
	uint32_t kind;             /* enum vg_pe_kind */
	uint32_t index;            /* into the model's array of that kind */
};

struct vg_pe_primitive {
	const char *id;
	int32_t group;             /* index of its group, -1: none */
	int32_t clone;             /* index of its clone, -1: none */
	vg_score stickiness;       /* added to the node it runs on; default 0 */
	uint32_t migration_threshold; /* failures on a node before it is banned there; 0: never */
	uint32_t failure_timeout_ms;  /* failures older than this are forgotten; 0: never */
	uint32_t target_role;      /* enum vg_target_role */
	uint32_t on_fail;          /* enum vg_on_fail */
	int managed;               /* 0: never touch it (is-managed=false) */
};

struct vg_pe_group {
	const char *id;
	uint32_t *members;         /* primitive indexes, in start order */
	size_t n_members;
};

/* Anonymous clone of one primitive: at most one instance per node. */
struct vg_pe_clone {
	const char *id;
	uint32_t primitive;        /* the cloned primitive */
	uint32_t max;              /* instances; 0: one per node */
	int promotable;
	uint32_t promoted_max;     /* promotable: promoted instances, default 1 */
};

struct vg_pe_location {
	struct vg_pe_ref rsc;
	uint32_t node;             /* node index */
	vg_score score;
};

/* Place `rsc` (in `rsc_role`) relative to `with` (in `with_role`). */
struct vg_pe_colocation {
	struct vg_pe_ref rsc;
	struct vg_pe_ref with;
	vg_score score;            /* INFINITY: must be together; -INFINITY: never */
	uint32_t rsc_role;         /* enum vg_role: STARTED (any running) or PROMOTED */
	uint32_t with_role;        /* enum vg_role: STARTED (any running) or PROMOTED */
};

/* `then_action` of `then` waits for `first_action` of `first`. */
struct vg_pe_order {
	struct vg_pe_ref first;
	uint32_t first_action;     /* VG_RSC_START or VG_RSC_PROMOTE (vigil/abi.h) */
	struct vg_pe_ref then;
	uint32_t then_action;      /* VG_RSC_START or VG_RSC_PROMOTE */
	int mandatory;             /* 1: also stops in reverse; 0: optional (only when both are in one transition) */
};

/* The configuration, compiled once per configuration (policy/model.c). */
struct vg_pe_model {
	struct vg_pe_primitive *primitives;
	size_t n_primitives;
	struct vg_pe_group *groups;
	size_t n_groups;
	struct vg_pe_clone *clones;
	size_t n_clones;
	struct vg_pe_location *locations;
	size_t n_locations;
	struct vg_pe_colocation *colocations;
	size_t n_colocations;
	struct vg_pe_order *orders;
	size_t n_orders;
	const char **node_names;   /* node index -> name, for messages */
	size_t n_nodes;
};

struct vg_pe_node {
	uint32_t id;               /* node id (ties are broken by the lowest id) */
	int online;                /* member of this (quorate) view */
	int standby;               /* may run nothing */
	int unclean;               /* lost and not yet fenced: fenced (with fencing on), and what
	                              it ran may still run there until then */
};

/* What is known of one primitive on one node. */
struct vg_pe_rsc_state {
	uint32_t role;             /* enum vg_role as last observed */
	int failed;                /* the last operation failed: recovery needed */
	uint32_t fail_count;       /* failures on this node since the last cleanup; >= VG_SCORE_INFINITY
	                              (a failed start) bans it there whatever migration_threshold */
	uint64_t last_failure_ms;  /* on the input's clock; for failure_timeout_ms */
};

enum vg_pe_no_quorum {
	VG_PE_NQ_INVALID = 0,
	VG_PE_NQ_STOP = 1,
	VG_PE_NQ_FREEZE = 2,
	VG_PE_NQ_IGNORE = 3,
};

struct vg_pe_input {
	const struct vg_pe_model *model;
	struct vg_pe_node *nodes;         /* model->n_nodes of them */
	struct vg_pe_rsc_state *state;    /* [primitive * n_nodes + node] */
	/* Extra locations from the operator (vigilctl resource move/ban); may be NULL. */
	const struct vg_pe_location *runtime_locations;
	size_t n_runtime_locations;
	int quorate;
	uint32_t no_quorum;               /* enum vg_pe_no_quorum */
	int fencing_enabled;              /* 0: unclean nodes count as stopped (logged loudly by the DC) */
	int maintenance;                  /* 1: touch nothing */
	uint64_t now_ms;                  /* for failure timeouts */
};

/* Actions of a transition. */
enum vg_pe_action_kind {
	VG_PE_ACT_INVALID = 0,
	VG_PE_ACT_RSC = 1,      /* run a resource action (start, stop, promote, demote) */
	VG_PE_ACT_FENCE = 2,    /* fence a node (before anything that depends on it) */
};

struct vg_pe_action {
	uint32_t kind;          /* enum vg_pe_action_kind */
	uint32_t primitive;     /* VG_PE_ACT_RSC: primitive index */
	uint32_t node;          /* node index where it runs (or the node to fence) */
	uint32_t action;        /* VG_PE_ACT_RSC: VG_RSC_START/STOP/PROMOTE/DEMOTE */
	uint32_t *deps;         /* indexes of actions that must complete first */
	size_t n_deps;
};

/* Where each primitive should end up (for status and `vigilctl simulate`). */
struct vg_pe_placement {
	int32_t node;           /* node index, -1: stopped (on every node) */
	uint32_t role;          /* enum vg_role: STOPPED, STARTED or PROMOTED */
	int32_t *clone_nodes;   /* clones: nodes that run an instance (n_clone_nodes), else NULL */
	uint32_t *clone_roles;  /* clones: role on each of clone_nodes */
	size_t n_clone_nodes;
};

struct vg_pe_transition {
	struct vg_pe_action *actions;
	size_t n_actions;
	struct vg_pe_placement *placement;   /* one per primitive */
	/* Human explanations ("db: cannot run anywhere: banned on n1 after 3 failures"). */
	char **notes;
	size_t n_notes;
};

/*
 * Compute the transition.  Actions are listed in an order that satisfies
 * their dependencies (a dependency always has a lower index).  Returns 0
 * or -ENOMEM.  Free with vg_pe_transition_free().
 */
int vg_pe_compute(const struct vg_pe_input *in, struct vg_pe_transition *out);
void vg_pe_transition_free(struct vg_pe_transition *t);

vg_score vg_score_add(vg_score a, vg_score b);

#endif
