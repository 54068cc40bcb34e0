/*
 * Policy engine: from placement to actions.  Before the actions are listed,
 * two consequences of mandatory orders (and of groups, whose members are
 * ordered) spread along them: what cannot run because its `first` cannot
 * stops too, and what stays put restarts when its `first` stops or demotes.
 */
#include <errno.h>
#include <stdlib.h>

#include "policy/pe_internal.h"

struct pe_work {
	uint32_t *items;
	size_t n;
	uint8_t *queued;
};

static void work_push(struct pe_work *w, size_t p)
{
	if (!w->queued[p]) {
		w->queued[p] = 1;
		w->items[w->n++] = (uint32_t)p;
	}
}

static int work_pop(struct pe_work *w, size_t *p)
{
	if (w->n == 0)
		return 0;
	*p = w->items[--w->n];
	w->queued[*p] = 0;
	return 1;
}

static int any_in_role(const struct pe_ctx *c, size_t p, uint32_t action)
{
	size_t n;

	for (n = 0; n < c->n_nodes; n++) {
		uint8_t r = c->want[pe_at(c, p, n)];

		if (action == VG_RSC_PROMOTE ? r == VG_ROLE_PROMOTED : pe_running(r))
			return 1;
	}
	return 0;
}

/* Take away p's placement (or only its promotion); push it if it changed. */
static void cut(struct pe_ctx *c, struct pe_work *w, size_t p, int promotion_only,
		const char *why)
{
	size_t n, at;
	int changed = 0;

	if (p >= c->n_prims || c->frozen[p])
		return;
	for (n = 0; n < c->n_nodes; n++) {
		at = pe_at(c, p, n);
		if (c->want[at] == VG_ROLE_PROMOTED && promotion_only) {
			c->want[at] = VG_ROLE_STARTED;
			changed = 1;
		} else if (pe_running(c->want[at]) && !promotion_only) {
			c->want[at] = VG_ROLE_STOPPED;
			changed = 1;
		}
	}
	if (changed) {
		pe_note(c, "%s: %s: %s", pe_prim_name(c, p),
			promotion_only ? "not promoted" : "stopped", why);
		work_push(w, p);
	}
}

static void cut_ref(struct pe_ctx *c, struct pe_work *w, const struct vg_pe_ref *r,
		    int promotion_only, const char *why)
{
	const uint32_t *prims;
	uint32_t one;
	size_t k, np = pe_ref_prims(c, r, &prims, &one);

	for (k = 0; k < np; k++)
		cut(c, w, prims[k], promotion_only, why);
}

/* What p no longer being placed does to orders, group and colocations. */
static void unrunnable_from(struct pe_ctx *c, struct pe_work *w, size_t p)
{
	const struct vg_pe_primitive *pr = &c->m->primitives[p];
	uint32_t i, ci, u = c->unit_of[p];
	size_t k;

	for (i = c->first_of.start[p]; i < c->first_of.start[p + 1]; i++) {
		const struct vg_pe_order *o = &c->m->orders[c->first_of.items[i]];

		if (o->mandatory && !any_in_role(c, p, o->first_action))
			cut_ref(c, w, &o->then, o->then_action == VG_RSC_PROMOTE,
				"a mandatory order makes it wait for what cannot run");
	}
	if (pr->group >= 0 && pr->clone < 0 && !any_in_role(c, p, VG_RSC_START)) {
		const struct vg_pe_group *g = &c->m->groups[pr->group];

		for (k = 0; k + 1 < g->n_members && g->members[k] != p; k++)
			;
		if (k + 1 < g->n_members)
			cut(c, w, g->members[k + 1], 0, "the group member before it does not run");
	}
	for (i = c->coloc_in.start[u]; i < c->coloc_in.start[u + 1]; i++) {
		const struct vg_pe_colocation *co = &c->m->colocations[c->coloc_in.items[i]];
		uint32_t role = co->with_role == VG_ROLE_PROMOTED ? VG_RSC_PROMOTE : VG_RSC_START;

		ci = c->coloc_in.items[i];
		if (c->coloc_broken[ci] || co->score < VG_SCORE_INFINITY ||
		    pe_ref_anchor(c, &co->with) != p || any_in_role(c, p, role))
			continue;
		cut_ref(c, w, &co->rsc, co->rsc_role == VG_ROLE_PROMOTED,
			"colocated (INFINITY) with what does not run");
	}
}

/* Will p stop (or demote, if demote) anywhere in this transition? */
static int will_leave(const struct pe_ctx *c, size_t p, int demote)
{
	size_t n, at;

	for (n = 0; n < c->n_nodes; n++) {
		at = pe_at(c, p, n);
		if (c->lost[at] && (!demote || c->in->state[at].role == VG_ROLE_PROMOTED))
			return 1;
		if (!pe_running(c->cur[at]) || (demote && c->cur[at] != VG_ROLE_PROMOTED))
			continue;
		if (c->failed[at] || c->restart[p])
			return 1;
		if (demote ? c->want[at] != VG_ROLE_PROMOTED : !pe_running(c->want[at]))
			return 1;
	}
	return 0;
}

static void restart_prim(struct pe_ctx *c, struct pe_work *w, size_t p)
{
	if (p >= c->n_prims || c->frozen[p] || c->restart[p] ||
	    !any_in_role(c, p, VG_RSC_START))
		return;
	c->restart[p] = 1;
	work_push(w, p);
}

static void restart_from(struct pe_ctx *c, struct pe_work *w, size_t p)
{
	const struct vg_pe_primitive *pr = &c->m->primitives[p];
	const uint32_t *prims;
	uint32_t i, one;
	size_t k, np;

	for (i = c->first_of.start[p]; i < c->first_of.start[p + 1]; i++) {
		const struct vg_pe_order *o = &c->m->orders[c->first_of.items[i]];

		if (!o->mandatory || !will_leave(c, p, o->first_action == VG_RSC_PROMOTE))
			continue;
		np = pe_ref_prims(c, &o->then, &prims, &one);
		for (k = 0; k < np; k++)
			restart_prim(c, w, prims[k]);
	}
	if (pr->group >= 0 && pr->clone < 0 && will_leave(c, p, 0)) {
		const struct vg_pe_group *g = &c->m->groups[pr->group];

		for (k = 0; k + 1 < g->n_members && g->members[k] != p; k++)
			;
		if (k + 1 < g->n_members)
			restart_prim(c, w, g->members[k + 1]);
	}
}

static int propagate(struct pe_ctx *c)
{
	struct pe_work w = { 0 };
	size_t p;
	int ret = -ENOMEM;

	w.items = malloc((c->n_prims + 1) * sizeof(*w.items));
	w.queued = calloc(c->n_prims + 1, 1);
	if (!w.items || !w.queued)
		goto out;
	ret = 0;
	/* frozen (no quorum): what runs keeps running, nothing restarts */
	if (c->no_starts)
		goto out;
	for (p = c->n_prims; p-- > 0;)
		work_push(&w, p);
	while (work_pop(&w, &p))
		unrunnable_from(c, &w, p);
	for (p = c->n_prims; p-- > 0;)
		work_push(&w, p);
	while (work_pop(&w, &p))
		restart_from(c, &w, p);
out:
	free(w.items);
	free(w.queued);
	return ret;
}

static void add_action(struct pe_ctx *c, uint32_t kind, size_t p, size_t n, uint32_t action)
{
	struct vg_pe_action *a;

	if (c->n_acts == c->cap_acts) {
		size_t cap = c->cap_acts ? 2 * c->cap_acts : 64;

		a = realloc(c->acts, cap * sizeof(*a));
		if (!a) {
			c->err = -ENOMEM;
			return;
		}
		c->acts = a;
		c->cap_acts = cap;
	}
	c->acts[c->n_acts++] = (struct vg_pe_action){
		.kind = kind, .primitive = (uint32_t)p, .node = (uint32_t)n, .action = action,
	};
}

/* Demotes and stops first, then starts and promotes: a readable order. */
static void prim_actions(struct pe_ctx *c, size_t p)
{
	size_t n, at;
	int running, recover;

	for (n = 0; n < c->n_nodes; n++) {
		at = pe_at(c, p, n);
		if (!pe_running(c->cur[at]) || !c->node_up[n])
			continue;
		recover = c->failed[at] || (c->restart[p] && pe_running(c->want[at]));
		if (c->cur[at] == VG_ROLE_PROMOTED && (c->want[at] != VG_ROLE_PROMOTED || recover))
			add_action(c, VG_PE_ACT_RSC, p, n, VG_RSC_DEMOTE);
		if (!pe_running(c->want[at]) || recover)
			add_action(c, VG_PE_ACT_RSC, p, n, VG_RSC_STOP);
	}
	for (n = 0; n < c->n_nodes && !c->no_starts; n++) {
		at = pe_at(c, p, n);
		running = pe_running(c->cur[at]);
		recover = running && (c->failed[at] || c->restart[p]);
		if (!pe_running(c->want[at]))
			continue;
		if (!running || recover)
			add_action(c, VG_PE_ACT_RSC, p, n, VG_RSC_START);
		if (c->want[at] == VG_ROLE_PROMOTED &&
		    (c->cur[at] != VG_ROLE_PROMOTED || recover))
			add_action(c, VG_PE_ACT_RSC, p, n, VG_RSC_PROMOTE);
	}
}

int pe_actions_build(struct pe_ctx *c)
{
	size_t p, n;
	int ret;

	ret = propagate(c);
	if (ret < 0)
		return ret;
	for (n = 0; n < c->n_nodes; n++) {
		c->fence_act[n] = -1;
		if (c->node_fence[n] && !c->no_fencing) {
			c->fence_act[n] = (int32_t)c->n_acts;
			add_action(c, VG_PE_ACT_FENCE, 0, n, 0);
		}
	}
	for (p = 0; p < c->n_prims; p++) {
		c->act_first[p] = (uint32_t)c->n_acts;
		if (!c->frozen[p])
			prim_actions(c, p);
		c->act_count[p] = (uint32_t)(c->n_acts - c->act_first[p]);
	}
	return c->err;
}
