/*
 * Internals of the policy engine, shared by core/policy/{engine,index,
 * score,alloc,clone,actions,deps}.c.  Nothing here leaves the engine: one
 * struct pe_ctx lives for one vg_pe_compute() call and owns every array.
 */
#ifndef VG_CORE_POLICY_INTERNAL_H
#define VG_CORE_POLICY_INTERNAL_H

#include <stdint.h>
#include <stddef.h>

#include <vigil/abi.h>

#include "policy/policy.h"

#define PE_NEG_INF (-VG_SCORE_INFINITY)

/* Compressed lists: items of key k are items[start[k] .. start[k + 1]). */
struct pe_csr {
	uint32_t *start;        /* n_keys + 1 entries */
	uint32_t *items;
};

/* What is placed as one: a lone primitive, a group, or a clone. */
struct pe_unit {
	uint32_t kind;          /* enum vg_pe_kind */
	uint32_t index;         /* into the model's array of that kind */
};

/* A location after expansion of groups and clones to primitives. */
struct pe_loc {
	uint32_t node;
	vg_score score;
};

/* One edge of the action graph: action `to` waits for action `from`. */
struct pe_edge {
	uint32_t from;
	uint32_t to;
};

struct pe_ctx {
	const struct vg_pe_input *in;
	const struct vg_pe_model *m;
	size_t n_nodes;
	size_t n_prims;
	int err;                /* first -ENOMEM met; checked by the driver */
	int no_starts;          /* no-quorum freeze: stops and demotes only */
	int no_fencing;         /* no-quorum stop: nothing is fenced */

	/* nodes */
	uint8_t *node_ok;       /* may run resources: online, not standby, clean */
	uint8_t *node_up;       /* can run actions: online and clean */
	uint8_t *node_fence;    /* to be fenced (unclean, or on-fail=fence) */
	uint32_t *node_load;    /* primitives placed there in this run */

	/* per primitive x node, [p * n_nodes + n] */
	uint8_t *cur;           /* enum vg_role we act on: STOPPED/STARTED/PROMOTED */
	uint8_t *failed;        /* running there and needs recovery */
	uint8_t *lost;          /* may still run on a node about to be fenced */
	uint8_t *want;          /* placement: STOPPED/STARTED/PROMOTED */

	/* per primitive */
	uint8_t *frozen;        /* no actions at all (unmanaged, blocked, maintenance) */
	uint8_t *stop_only;     /* on-fail=stop after a failure: never placed */
	uint8_t *restart;       /* restart where it stays (mandatory order upstream) */
	uint32_t *unit_of;
	struct pe_csr loc;      /* prim p's locations: locs[loc.start[p] .. loc.start[p + 1]) */
	struct pe_loc *locs;
	struct pe_csr first_of; /* prim -> orders whose `first` names it */

	/* units */
	struct pe_unit *units;
	size_t n_units;
	struct pe_csr coloc_out; /* unit -> colocations where it is rsc */
	struct pe_csr coloc_in;  /* unit -> colocations where it is with */
	uint8_t *coloc_broken;   /* per colocation: dropped to break a cycle */

	/* actions, as generated (before the topological sort) */
	struct vg_pe_action *acts;
	size_t n_acts, cap_acts;
	uint32_t *act_first;    /* prim -> its first action (they are contiguous) */
	uint32_t *act_count;
	int32_t *fence_act;     /* node -> its fence action, -1: none */
	struct pe_edge *edges;
	size_t n_edges, cap_edges;

	/* notes */
	char **notes;
	size_t n_notes, cap_notes;
};

static inline size_t pe_at(const struct pe_ctx *c, size_t p, size_t n)
{
	return p * c->n_nodes + n;
}

static inline int pe_running(uint8_t role)
{
	return role == VG_ROLE_STARTED || role == VG_ROLE_PROMOTED;
}

/* engine.c */
void pe_note(struct pe_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *pe_node_name(const struct pe_ctx *c, size_t n);
const char *pe_prim_name(const struct pe_ctx *c, size_t p);

/* index.c: units, expanded locations, constraint lists per resource */
int pe_index_build(struct pe_ctx *c);
void pe_index_free(struct pe_ctx *c);
size_t pe_ref_prims(const struct pe_ctx *c, const struct vg_pe_ref *r,
		    const uint32_t **prims, uint32_t *one);
uint32_t pe_ref_unit(const struct pe_ctx *c, const struct vg_pe_ref *r);
uint32_t pe_ref_anchor(const struct pe_ctx *c, const struct vg_pe_ref *r);

/* score.c: node scores of one primitive */
int pe_banned(const struct pe_ctx *c, size_t p, size_t n);
void pe_prim_scores(const struct pe_ctx *c, size_t p, vg_score *vec, int sticky);
void pe_coloc_apply(const struct pe_ctx *c, uint32_t u, uint32_t rsc_role,
		    vg_score *vec);
void pe_coloc_influence(const struct pe_ctx *c, uint32_t u, uint32_t with_role,
			vg_score *vec);
int pe_better(const struct pe_ctx *c, const vg_score *vec, const uint8_t *here,
	      size_t a, size_t b);
int32_t pe_best_node(const struct pe_ctx *c, const vg_score *vec, const uint8_t *here);

/* alloc.c: placement of every unit */
int pe_allocate(struct pe_ctx *c);
void pe_fix_to_current(struct pe_ctx *c, size_t p);

/* clone.c */
void pe_alloc_clone(struct pe_ctx *c, uint32_t u, vg_score *vec, uint8_t *here);

/* actions.c: restart propagation and the actions of each primitive */
int pe_actions_build(struct pe_ctx *c);

/* deps.c: edges of the action graph, topological order, output */
int pe_deps_build(struct pe_ctx *c);
int pe_emit(struct pe_ctx *c, struct vg_pe_transition *out);

#endif
