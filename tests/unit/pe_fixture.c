/* Hand-built policy engine models for the policy tests: see pe_fixture.h. */
#include <string.h>

#include <CUnit/CUnit.h>

#include "pe_fixture.h"

void fx_init(struct fx *f, size_t n_nodes, size_t n_prims)
{
	static const char *const rsc[MAXP] = { "A", "B", "C", "D", "E", "F", "G", "H" };
	static const char *const node[MAXN] = { "n1", "n2", "n3", "n4" };
	size_t i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < n_prims; i++)
		f->prims[i] = (struct vg_pe_primitive){
			.id = rsc[i], .group = -1, .clone = -1, .target_role = VG_TARGET_STARTED,
			.on_fail = VG_ON_FAIL_RESTART, .managed = 1,
		};
	for (i = 0; i < n_nodes; i++) {
		f->nodes[i] = (struct vg_pe_node){ .id = (uint32_t)i + 1, .online = 1 };
		f->node_names[i] = node[i];
	}
	for (i = 0; i < MAXP * MAXN; i++)
		f->state[i].role = VG_ROLE_STOPPED;
	f->m = (struct vg_pe_model){
		.primitives = f->prims, .n_primitives = n_prims, .groups = f->groups,
		.clones = f->clones, .locations = f->locs, .colocations = f->colocs,
		.orders = f->orders, .node_names = f->node_names, .n_nodes = n_nodes,
	};
	f->in = (struct vg_pe_input){
		.model = &f->m, .nodes = f->nodes, .state = f->state, .quorate = 1,
		.no_quorum = VG_PE_NQ_STOP, .fencing_enabled = 1, .now_ms = 1000000,
	};
}

struct vg_pe_rsc_state *fx_st(struct fx *f, size_t p, size_t n)
{
	return &f->state[p * f->m.n_nodes + n];
}

void fx_run_on(struct fx *f, size_t p, size_t n, uint32_t role)
{
	fx_st(f, p, n)->role = role;
}

void fx_loc(struct fx *f, uint32_t kind, uint32_t idx, uint32_t node, vg_score score)
{
	f->locs[f->m.n_locations++] = (struct vg_pe_location){ { kind, idx }, node, score };
}

void fx_coloc(struct fx *f, uint32_t rk, uint32_t r, uint32_t rrole, uint32_t wk,
		  uint32_t w, uint32_t wrole, vg_score score)
{
	f->colocs[f->m.n_colocations++] = (struct vg_pe_colocation){
		{ rk, r }, { wk, w }, score, rrole, wrole,
	};
}

void fx_order(struct fx *f, uint32_t fk, uint32_t first, uint32_t fa, uint32_t tk,
		  uint32_t then, uint32_t ta, int mandatory)
{
	f->orders[f->m.n_orders++] = (struct vg_pe_order){
		{ fk, first }, fa, { tk, then }, ta, mandatory,
	};
}

void fx_group(struct fx *f, const uint32_t *members, size_t n)
{
	size_t g = f->m.n_groups++, i;

	f->groups[g] = (struct vg_pe_group){ "grp", f->members[g], n };
	for (i = 0; i < n; i++) {
		f->members[g][i] = members[i];
		f->prims[members[i]].group = (int32_t)g;
	}
}

void fx_clone(struct fx *f, uint32_t p, uint32_t max, int promotable)
{
	size_t k = f->m.n_clones++;

	f->clones[k] = (struct vg_pe_clone){ "cln", p, max, promotable, 1 };
	f->prims[p].clone = (int32_t)k;
}

/* Every dependency has a lower index, in every test. */
static void check_deps(const struct vg_pe_transition *t)
{
	size_t i, k;

	for (i = 0; i < t->n_actions; i++)
		for (k = 0; k < t->actions[i].n_deps; k++)
			CU_ASSERT(t->actions[i].deps[k] < i);
}

void fx_run(struct fx *f)
{
	vg_pe_transition_free(&f->t);
	CU_ASSERT_EQUAL_FATAL(vg_pe_compute(&f->in, &f->t), 0);
	check_deps(&f->t);
}

int fx_find(const struct fx *f, size_t p, size_t n, uint32_t action)
{
	size_t i;

	for (i = 0; i < f->t.n_actions; i++) {
		const struct vg_pe_action *a = &f->t.actions[i];

		if (a->kind == VG_PE_ACT_RSC && a->primitive == p && a->node == n &&
		    a->action == action)
			return (int)i;
	}
	return -1;
}

int fx_find_fence(const struct fx *f, size_t n)
{
	size_t i;

	for (i = 0; i < f->t.n_actions; i++)
		if (f->t.actions[i].kind == VG_PE_ACT_FENCE && f->t.actions[i].node == n)
			return (int)i;
	return -1;
}

/* Does action b (transitively) wait for action a? */
int fx_waits_for(const struct fx *f, int b, int a)
{
	const struct vg_pe_action *x;
	size_t k;

	if (a < 0 || b < 0)
		return 0;
	x = &f->t.actions[b];
	for (k = 0; k < x->n_deps; k++)
		if ((int)x->deps[k] == a || fx_waits_for(f, (int)x->deps[k], a))
			return 1;
	return 0;
}

int fx_has_note(const struct fx *f, const char *needle)
{
	size_t i;

	for (i = 0; i < f->t.n_notes; i++)
		if (strstr(f->t.notes[i], needle))
			return 1;
	return 0;
}

void fx_done(struct fx *f)
{
	vg_pe_transition_free(&f->t);
}
