/*
 * Policy engine: node choice.  Units are placed one at a time, each after
 * the units it is colocated with (depth-first over colocations, in
 * configuration order; a cycle is broken by dropping the colocation that
 * closes it).  A unit's node is the best by score, then the least loaded
 * in this run, then the one it already runs on, then the lowest node id.
 */
#include <errno.h>
#include <stdlib.h>

#include "policy/pe_internal.h"

/* unmanaged, blocked, maintenance, frozen: it stays where it is */
void pe_fix_to_current(struct pe_ctx *c, size_t p)
{
	size_t n, at;

	for (n = 0; n < c->n_nodes; n++) {
		at = pe_at(c, p, n);
		c->want[at] = pe_running(c->cur[at]) ? c->cur[at] : VG_ROLE_STOPPED;
		if (pe_running(c->want[at]))
			c->node_load[n]++;
	}
}

static int unit_order(struct pe_ctx *c, uint32_t *order)
{
	uint32_t *stack = malloc((c->n_units + 1) * sizeof(*stack));
	uint32_t *pos = malloc((c->n_units + 1) * sizeof(*pos));
	uint8_t *state = calloc(c->n_units + 1, 1);
	size_t root, depth, k = 0;
	int ret = -ENOMEM;

	if (!stack || !pos || !state)
		goto out;
	for (root = 0; root < c->n_units; root++) {
		if (state[root])
			continue;
		depth = 0;
		stack[depth++] = (uint32_t)root;
		state[root] = 1;
		pos[root] = c->coloc_out.start[root];
		while (depth > 0) {
			uint32_t u = stack[depth - 1], ci, w;

			if (pos[u] == c->coloc_out.start[u + 1]) {
				state[u] = 2;
				order[k++] = u;
				depth--;
				continue;
			}
			ci = c->coloc_out.items[pos[u]++];
			w = pe_ref_unit(c, &c->m->colocations[ci].with);
			if (state[w] == 0) {
				state[w] = 1;
				pos[w] = c->coloc_out.start[w];
				stack[depth++] = w;
			} else if (state[w] == 1) {
				c->coloc_broken[ci] = 1;
				pe_note(c, "colocation of %s with %s ignored: it closes a cycle",
					pe_prim_name(c, pe_ref_anchor(c, &c->m->colocations[ci].rsc)),
					pe_prim_name(c, pe_ref_anchor(c, &c->m->colocations[ci].with)));
			}
		}
	}
	ret = 0;
out:
	free(stack);
	free(pos);
	free(state);
	return ret;
}

/* Say why a unit stays stopped: an INFINITY colocation with nothing. */
static void explain_stopped(struct pe_ctx *c, uint32_t u, size_t p)
{
	uint32_t i, w, ci;
	size_t n;

	if (c->m->primitives[p].target_role == VG_TARGET_STOPPED) {
		pe_note(c, "%s: stopped: its target role is stopped", pe_prim_name(c, p));
		return;
	}
	if (c->stop_only[p])
		return; /* on-fail=stop, said when the failure was read */
	for (i = c->coloc_out.start[u]; i < c->coloc_out.start[u + 1]; i++) {
		ci = c->coloc_out.items[i];
		if (c->coloc_broken[ci] || c->m->colocations[ci].score < VG_SCORE_INFINITY)
			continue;
		w = pe_ref_anchor(c, &c->m->colocations[ci].with);
		for (n = 0; n < c->n_nodes; n++)
			if (pe_running(c->want[pe_at(c, w, n)]))
				break;
		if (n == c->n_nodes) {
			pe_note(c, "%s: stopped: colocated (INFINITY) with %s, which does not run",
				pe_prim_name(c, p), pe_prim_name(c, w));
			return;
		}
	}
	pe_note(c, "%s: stopped: no node may run it (no node with a score >= 0)",
		pe_prim_name(c, p));
}

static void place(struct pe_ctx *c, size_t p, size_t n)
{
	c->want[pe_at(c, p, n)] = VG_ROLE_STARTED;
	c->node_load[n]++;
}

static void alloc_primitive(struct pe_ctx *c, uint32_t u, vg_score *vec, uint8_t *here)
{
	size_t p = c->units[u].index, n;
	int32_t best;

	pe_prim_scores(c, p, vec, 1);
	pe_coloc_apply(c, u, VG_ROLE_STARTED, vec);
	pe_coloc_influence(c, u, VG_ROLE_STARTED, vec);
	for (n = 0; n < c->n_nodes; n++)
		here[n] = pe_running(c->cur[pe_at(c, p, n)]) && !c->failed[pe_at(c, p, n)];
	best = pe_best_node(c, vec, here);
	if (best < 0)
		explain_stopped(c, u, p);
	else
		place(c, p, (size_t)best);
}

/*
 * Later members' scores are merged into the group's only while some node
 * stays allowed: a member that can run nowhere then stops (with the members
 * after it) instead of stopping the whole group.
 */
static void group_scores(struct pe_ctx *c, uint32_t u, vg_score *acc, vg_score *tmp)
{
	const struct vg_pe_group *g = &c->m->groups[c->units[u].index];
	size_t i, n;
	int any;

	pe_prim_scores(c, g->members[0], acc, 1);
	pe_coloc_apply(c, u, VG_ROLE_STARTED, acc);
	pe_coloc_influence(c, u, VG_ROLE_STARTED, acc);
	for (i = 1; i < g->n_members; i++) {
		pe_prim_scores(c, g->members[i], tmp, 1);
		for (any = 0, n = 0; n < c->n_nodes; n++) {
			tmp[n] = vg_score_add(acc[n], tmp[n]);
			any |= tmp[n] >= 0;
		}
		if (!any)
			break;
		for (n = 0; n < c->n_nodes; n++)
			acc[n] = tmp[n];
	}
}

static void alloc_group(struct pe_ctx *c, uint32_t u, vg_score *acc, uint8_t *here)
{
	const struct vg_pe_group *g = &c->m->groups[c->units[u].index];
	vg_score *tmp = acc + c->n_nodes;
	size_t i, n, at;
	int32_t best;

	group_scores(c, u, acc, tmp);
	for (n = 0; n < c->n_nodes; n++) {
		here[n] = 0;
		for (i = 0; i < g->n_members; i++) {
			at = pe_at(c, g->members[i], n);
			here[n] |= pe_running(c->cur[at]) && !c->failed[at];
		}
	}
	best = pe_best_node(c, acc, here);
	if (best < 0) {
		explain_stopped(c, u, g->members[0]);
		return;
	}
	for (i = 0; i < g->n_members; i++) {
		pe_prim_scores(c, g->members[i], tmp, 0);
		if (tmp[best] <= PE_NEG_INF)
			break;
		place(c, g->members[i], (size_t)best);
	}
	if (i < g->n_members)
		pe_note(c, "%s: %s cannot run on %s: it and the %zu member(s) after it stay stopped",
			c->m->groups[c->units[u].index].id, pe_prim_name(c, g->members[i]),
			pe_node_name(c, (size_t)best), g->n_members - i - 1);
}

static int unit_frozen(const struct pe_ctx *c, uint32_t u)
{
	const struct pe_unit *un = &c->units[u];
	const struct vg_pe_group *g;
	size_t i;

	switch (un->kind) {
	case VG_PE_GROUP:
		g = &c->m->groups[un->index];
		for (i = 0; i < g->n_members; i++)
			if (c->frozen[g->members[i]])
				return 1;
		return 0;
	case VG_PE_CLONE:
		return c->frozen[c->m->clones[un->index].primitive];
	default:
		return c->frozen[un->index];
	}
}

static void fix_unit(struct pe_ctx *c, uint32_t u)
{
	const struct pe_unit *un = &c->units[u];
	const struct vg_pe_group *g;
	size_t i;

	switch (un->kind) {
	case VG_PE_GROUP:
		g = &c->m->groups[un->index];
		for (i = 0; i < g->n_members; i++)
			pe_fix_to_current(c, g->members[i]);
		break;
	case VG_PE_CLONE:
		pe_fix_to_current(c, c->m->clones[un->index].primitive);
		break;
	default:
		pe_fix_to_current(c, un->index);
		break;
	}
}

int pe_allocate(struct pe_ctx *c)
{
	uint32_t *order = malloc((c->n_units + 1) * sizeof(*order));
	vg_score *vec = malloc((2 * c->n_nodes + 1) * sizeof(*vec));
	uint8_t *here = malloc(c->n_nodes + 1);
	size_t i;
	int ret = -ENOMEM;

	if (!order || !vec || !here)
		goto out;
	ret = unit_order(c, order);
	if (ret < 0)
		goto out;
	for (i = 0; i < c->n_units; i++) {
		uint32_t u = order[i];

		if (unit_frozen(c, u))
			fix_unit(c, u);
		else if (c->units[u].kind == VG_PE_GROUP)
			alloc_group(c, u, vec, here);
		else if (c->units[u].kind == VG_PE_CLONE)
			pe_alloc_clone(c, u, vec, here);
		else
			alloc_primitive(c, u, vec, here);
	}
out:
	free(order);
	free(vec);
	free(here);
	return ret;
}
