/*
 * Hand-built policy engine models for tests/unit/test_policy.c: a small
 * fixed-size model (MAXN nodes, MAXP primitives "A".."H" on nodes
 * "n1".."n4"), helpers to add constraints and state, to run the engine
 * (fx_run also checks that every dependency has a lower index) and to
 * query the transition.
 */
#ifndef VG_TEST_PE_FIXTURE_H
#define VG_TEST_PE_FIXTURE_H

#include <vigil/abi.h>

#include "policy/policy.h"

#define MAXN 4
#define MAXP 8
#define INF VG_SCORE_INFINITY

struct fx {
	struct vg_pe_primitive prims[MAXP];
	struct vg_pe_group groups[2];
	uint32_t members[2][MAXP];
	struct vg_pe_clone clones[2];
	struct vg_pe_location locs[16];
	struct vg_pe_colocation colocs[8];
	struct vg_pe_order orders[8];
	const char *node_names[MAXN];
	struct vg_pe_model m;
	struct vg_pe_node nodes[MAXN];
	struct vg_pe_rsc_state state[MAXP * MAXN];
	struct vg_pe_input in;
	struct vg_pe_transition t;
};

enum { A, B, C, D, E };
enum { N1, N2, N3, N4 };
enum { P = VG_PE_PRIMITIVE, G = VG_PE_GROUP, K = VG_PE_CLONE };
enum { START = VG_RSC_START, STOP = VG_RSC_STOP, PROMOTE = VG_RSC_PROMOTE,
       DEMOTE = VG_RSC_DEMOTE };

/* Reset f to n_nodes online nodes and n_prims stopped, managed primitives. */
void fx_init(struct fx *f, size_t n_nodes, size_t n_prims);
struct vg_pe_rsc_state *fx_st(struct fx *f, size_t p, size_t n);
void fx_run_on(struct fx *f, size_t p, size_t n, uint32_t role);
void fx_loc(struct fx *f, uint32_t kind, uint32_t idx, uint32_t node, vg_score score);
void fx_coloc(struct fx *f, uint32_t rk, uint32_t r, uint32_t rrole, uint32_t wk,
	      uint32_t w, uint32_t wrole, vg_score score);
void fx_order(struct fx *f, uint32_t fk, uint32_t first, uint32_t fa, uint32_t tk,
	      uint32_t then, uint32_t ta, int mandatory);
void fx_group(struct fx *f, const uint32_t *members, size_t n);
void fx_clone(struct fx *f, uint32_t p, uint32_t max, int promotable);
void fx_run(struct fx *f);
int fx_find(const struct fx *f, size_t p, size_t n, uint32_t action);
int fx_find_fence(const struct fx *f, size_t n);
int fx_waits_for(const struct fx *f, int b, int a);
int fx_has_note(const struct fx *f, const char *needle);
void fx_done(struct fx *f);

#endif
