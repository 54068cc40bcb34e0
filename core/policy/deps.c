/*
 * Policy engine: the action graph.  Edges come from each primitive's own
 * life cycle (stop before start elsewhere, demote before stop, start before
 * promote, fencing before recovery), from groups, orders and INFINITY
 * colocations.  The actions are then listed in a topological order (Kahn,
 * first-in first-out from creation order: deterministic), so that every
 * dependency has a lower index.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "policy/pe_internal.h"

static void add_edge(struct pe_ctx *c, size_t from, size_t to)
{
	struct pe_edge *e;

	if (from == to)
		return;
	if (c->n_edges == c->cap_edges) {
		size_t cap = c->cap_edges ? 2 * c->cap_edges : 64;

		e = realloc(c->edges, cap * sizeof(*e));
		if (!e) {
			c->err = -ENOMEM;
			return;
		}
		c->edges = e;
		c->cap_edges = cap;
	}
	c->edges[c->n_edges++] = (struct pe_edge){ (uint32_t)from, (uint32_t)to };
}

/*
 * Every action `to_act` of primitive `to` waits for every action `from_act`
 * of primitive `from`; same_node restricts to pairs on one node.
 */
static void link(struct pe_ctx *c, size_t from, uint32_t from_act, size_t to,
		 uint32_t to_act, int same_node)
{
	size_t i, j, fe, te;

	if (from >= c->n_prims || to >= c->n_prims)
		return;
	fe = c->act_first[from] + c->act_count[from];
	te = c->act_first[to] + c->act_count[to];
	for (j = c->act_first[to]; j < te; j++) {
		if (c->acts[j].action != to_act)
			continue;
		for (i = c->act_first[from]; i < fe; i++)
			if (c->acts[i].action == from_act &&
			    (!same_node || c->acts[i].node == c->acts[j].node))
				add_edge(c, i, j);
	}
}

static void link_fences(struct pe_ctx *c, size_t p, size_t j)
{
	size_t n;

	for (n = 0; n < c->n_nodes; n++)
		if (c->lost[pe_at(c, p, n)] && c->fence_act[n] >= 0)
			add_edge(c, (size_t)c->fence_act[n], j);
}

static void prim_edges(struct pe_ctx *c, size_t p)
{
	int is_clone = c->m->primitives[p].clone >= 0;
	size_t j, end = c->act_first[p] + c->act_count[p];

	/* a primitive never starts while it may still run elsewhere */
	link(c, p, VG_RSC_STOP, p, VG_RSC_START, is_clone);
	link(c, p, VG_RSC_DEMOTE, p, VG_RSC_STOP, 1);
	link(c, p, VG_RSC_START, p, VG_RSC_PROMOTE, 1);
	/* one promoted instance: the old one demotes first */
	link(c, p, VG_RSC_DEMOTE, p, VG_RSC_PROMOTE, 0);
	for (j = c->act_first[p]; j < end; j++) {
		uint32_t a = c->acts[j].action;

		if (a == VG_RSC_PROMOTE || (a == VG_RSC_START && !is_clone))
			link_fences(c, p, j);
	}
}

static void group_edges(struct pe_ctx *c, const struct vg_pe_group *g)
{
	size_t k;

	for (k = 1; k < g->n_members; k++) {
		link(c, g->members[k - 1], VG_RSC_START, g->members[k], VG_RSC_START, 0);
		link(c, g->members[k], VG_RSC_STOP, g->members[k - 1], VG_RSC_STOP, 0);
	}
}

static uint32_t undo_of(uint32_t action)
{
	return action == VG_RSC_PROMOTE ? VG_RSC_DEMOTE : VG_RSC_STOP;
}

static void order_edges(struct pe_ctx *c, const struct vg_pe_order *o)
{
	const uint32_t *fp, *tp;
	uint32_t f1, t1;
	size_t nf = pe_ref_prims(c, &o->first, &fp, &f1);
	size_t nt = pe_ref_prims(c, &o->then, &tp, &t1);
	size_t i, k;

	for (i = 0; i < nf; i++) {
		for (k = 0; k < nt; k++) {
			link(c, fp[i], o->first_action, tp[k], o->then_action, 0);
			if (o->mandatory)
				link(c, tp[k], undo_of(o->then_action),
				     fp[i], undo_of(o->first_action), 0);
		}
	}
}

/* What is colocated with something leaves before it. */
static void coloc_edges(struct pe_ctx *c, size_t ci)
{
	const struct vg_pe_colocation *co = &c->m->colocations[ci];
	uint32_t ra = co->rsc_role == VG_ROLE_PROMOTED ? VG_RSC_DEMOTE : VG_RSC_STOP;
	uint32_t wa = co->with_role == VG_ROLE_PROMOTED ? VG_RSC_DEMOTE : VG_RSC_STOP;
	const uint32_t *rp, *wp;
	uint32_t r1, w1;
	size_t nr, nw, i, k;

	if (co->score < VG_SCORE_INFINITY || c->coloc_broken[ci])
		return;
	nr = pe_ref_prims(c, &co->rsc, &rp, &r1);
	nw = pe_ref_prims(c, &co->with, &wp, &w1);
	for (i = 0; i < nr; i++)
		for (k = 0; k < nw; k++)
			if (rp[i] != wp[k])
				link(c, rp[i], ra, wp[k], wa, 0);
}

static int edge_cmp(const void *a, const void *b)
{
	const struct pe_edge *x = a, *y = b;

	if (x->to != y->to)
		return x->to < y->to ? -1 : 1;
	if (x->from != y->from)
		return x->from < y->from ? -1 : 1;
	return 0;
}

int pe_deps_build(struct pe_ctx *c)
{
	size_t i, k;

	for (i = 0; i < c->n_prims; i++)
		prim_edges(c, i);
	for (i = 0; i < c->m->n_groups; i++)
		group_edges(c, &c->m->groups[i]);
	for (i = 0; i < c->m->n_orders; i++)
		order_edges(c, &c->m->orders[i]);
	for (i = 0; i < c->m->n_colocations; i++)
		coloc_edges(c, i);
	if (c->err)
		return c->err;
	if (c->n_edges > 0)
		qsort(c->edges, c->n_edges, sizeof(*c->edges), edge_cmp);
	for (i = 0, k = 0; i < c->n_edges; i++)
		if (k == 0 || edge_cmp(&c->edges[k - 1], &c->edges[i]) != 0)
			c->edges[k++] = c->edges[i];
	c->n_edges = k;
	return 0;
}

/* Kahn's algorithm; actions left in a cycle follow in creation order. */
static int topo_order(struct pe_ctx *c, uint32_t *pos)
{
	size_t n = c->n_acts, i, head = 0, tail = 0;
	uint32_t *indeg = calloc(n + 1, sizeof(*indeg));
	uint32_t *succ_start = calloc(n + 2, sizeof(*succ_start));
	uint32_t *succ = malloc((c->n_edges + 1) * sizeof(*succ));
	uint32_t *queue = malloc((n + 1) * sizeof(*queue));
	int ret = -ENOMEM;

	if (!indeg || !succ_start || !succ || !queue)
		goto out;
	for (i = 0; i < c->n_edges; i++) {
		indeg[c->edges[i].to]++;
		succ_start[c->edges[i].from + 2]++;
	}
	for (i = 2; i < n + 2; i++)
		succ_start[i] += succ_start[i - 1];
	for (i = 0; i < c->n_edges; i++)
		succ[succ_start[c->edges[i].from + 1]++] = c->edges[i].to;
	for (i = 0; i < n; i++) {
		pos[i] = UINT32_MAX;
		if (indeg[i] == 0)
			queue[tail++] = (uint32_t)i;
	}
	while (head < tail) {
		uint32_t a = queue[head], s;

		pos[a] = (uint32_t)head++;
		for (s = succ_start[a]; s < succ_start[a + 1]; s++)
			if (--indeg[succ[s]] == 0)
				queue[tail++] = succ[s];
	}
	if (tail < n)
		pe_note(c, "the action graph has a cycle (conflicting orders?): "
			"%zu action(s) lose the dependencies that close it", n - tail);
	for (i = 0; i < n; i++)
		if (pos[i] == UINT32_MAX)
			pos[i] = (uint32_t)tail++;
	ret = 0;
out:
	free(indeg);
	free(succ_start);
	free(succ);
	free(queue);
	return ret;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* One block holds the actions and all their deps: free(actions) frees all. */
int pe_emit(struct pe_ctx *c, struct vg_pe_transition *out)
{
	uint32_t *pos = malloc((c->n_acts + 1) * sizeof(*pos));
	struct vg_pe_action *acts = NULL;
	uint32_t *pool;
	size_t i, e = 0;
	int ret = -ENOMEM;

	if (!pos)
		goto out;
	ret = topo_order(c, pos);
	if (ret < 0 || c->n_acts == 0)
		goto out;
	ret = -ENOMEM;
	acts = malloc(c->n_acts * sizeof(*acts) + c->n_edges * sizeof(*pool));
	if (!acts)
		goto out;
	pool = (uint32_t *)(acts + c->n_acts);
	for (i = 0; i < c->n_acts; i++) {
		struct vg_pe_action *a = &acts[pos[i]];

		*a = c->acts[i];
		a->deps = pool + e;
		/* edges are sorted by `to`: this action's are consecutive */
		for (; e < c->n_edges && c->edges[e].to == i; e++)
			if (pos[c->edges[e].from] < pos[i])
				a->deps[a->n_deps++] = pos[c->edges[e].from];
		if (a->n_deps == 0)
			a->deps = NULL;
		else
			qsort(a->deps, a->n_deps, sizeof(*a->deps), u32_cmp);
	}
	out->actions = acts;
	out->n_actions = c->n_acts;
	ret = 0;
out:
	free(pos);
	return ret;
}
