/*
 * Policy engine: scores.  A node's score for a primitive is the saturating
 * sum of its locations, its stickiness where it runs, and the colocations of
 * its unit; -INFINITY means it may not run there at all.
 */
#include "policy/pe_internal.h"

vg_score vg_score_add(vg_score a, vg_score b)
{
	int64_t s;

	/* -INFINITY wins over everything, even +INFINITY: a ban is a ban. */
	if (a <= PE_NEG_INF || b <= PE_NEG_INF)
		return PE_NEG_INF;
	if (a >= VG_SCORE_INFINITY || b >= VG_SCORE_INFINITY)
		return VG_SCORE_INFINITY;
	s = (int64_t)a + b;
	if (s >= VG_SCORE_INFINITY)
		return VG_SCORE_INFINITY;
	if (s <= PE_NEG_INF)
		return PE_NEG_INF;
	return (vg_score)s;
}

/* score * factor / INFINITY, for the pull of colocated dependents. */
static vg_score score_scale(vg_score score, vg_score factor)
{
	int64_t s = (int64_t)score * factor / VG_SCORE_INFINITY;

	if (s >= VG_SCORE_INFINITY)
		return VG_SCORE_INFINITY;
	if (s <= PE_NEG_INF)
		return PE_NEG_INF;
	return (vg_score)s;
}

/*
 * migration_threshold failures on a node ban the primitive there, until
 * the last failure is older than failure_timeout_ms (if any).  A fail
 * count of INFINITY (a failed start: start-failure-is-fatal) bans it
 * whatever the threshold.  on-fail=ignore failures never ban.
 */
int pe_banned(const struct pe_ctx *c, size_t p, size_t n)
{
	const struct vg_pe_primitive *pr = &c->m->primitives[p];
	const struct vg_pe_rsc_state *st = &c->in->state[pe_at(c, p, n)];
	uint64_t now = c->in->now_ms;
	int fatal = st->fail_count >= VG_SCORE_INFINITY;

	if (pr->on_fail == VG_ON_FAIL_IGNORE || (pr->migration_threshold == 0 && !fatal))
		return 0;
	if (!fatal && st->fail_count < pr->migration_threshold)
		return 0;
	if (pr->failure_timeout_ms > 0 && now >= st->last_failure_ms &&
	    now - st->last_failure_ms >= pr->failure_timeout_ms)
		return 0;
	return 1;
}

/* Eligibility, locations and (if sticky) stickiness of one primitive. */
void pe_prim_scores(const struct pe_ctx *c, size_t p, vg_score *vec, int sticky)
{
	const struct vg_pe_primitive *pr = &c->m->primitives[p];
	size_t n, i;

	for (n = 0; n < c->n_nodes; n++) {
		size_t at = pe_at(c, p, n);
		int ok = c->node_ok[n] && !c->stop_only[p] && !pe_banned(c, p, n);

		/* on-fail=stop: never again where it failed (clone instances) */
		if (c->failed[at] && pr->on_fail == VG_ON_FAIL_STOP)
			ok = 0;
		vec[n] = ok ? 0 : PE_NEG_INF;
		if (sticky && pe_running(c->cur[at]) && !c->failed[at])
			vec[n] = vg_score_add(vec[n], pr->stickiness);
	}
	for (i = c->loc.start[p]; i < c->loc.start[p + 1]; i++) {
		const struct pe_loc *l = &c->locs[i];

		vec[l->node] = vg_score_add(vec[l->node], l->score);
	}
}

static uint32_t role_or_started(uint32_t role)
{
	return role == VG_ROLE_PROMOTED ? VG_ROLE_PROMOTED : VG_ROLE_STARTED;
}

/* Is the anchor primitive of `with` on node n in at least `role`? */
static int with_on(const struct pe_ctx *c, uint32_t w, uint32_t role, size_t n)
{
	uint8_t r = c->want[pe_at(c, w, n)];

	return role == VG_ROLE_PROMOTED ? r == VG_ROLE_PROMOTED : pe_running(r);
}

/*
 * Colocations of unit u (in rsc_role) with units already placed:
 * INFINITY restricts to where `with` is, -INFINITY excludes it, a finite
 * score is added there.
 */
void pe_coloc_apply(const struct pe_ctx *c, uint32_t u, uint32_t rsc_role,
		    vg_score *vec)
{
	uint32_t i, ci, w;
	size_t n;

	for (i = c->coloc_out.start[u]; i < c->coloc_out.start[u + 1]; i++) {
		const struct vg_pe_colocation *co;

		ci = c->coloc_out.items[i];
		co = &c->m->colocations[ci];
		if (c->coloc_broken[ci] || role_or_started(co->rsc_role) != rsc_role)
			continue;
		w = pe_ref_anchor(c, &co->with);
		for (n = 0; n < c->n_nodes; n++) {
			int on = with_on(c, w, role_or_started(co->with_role), n);

			if (co->score >= VG_SCORE_INFINITY && !on)
				vec[n] = PE_NEG_INF;
			else if (co->score <= PE_NEG_INF && on)
				vec[n] = PE_NEG_INF;
			else if (on)
				vec[n] = vg_score_add(vec[n], co->score);
		}
	}
}

/* The positive preferences of one dependent primitive, scaled by factor. */
static void pull_of(const struct pe_ctx *c, uint32_t d, vg_score factor, vg_score *vec)
{
	const struct vg_pe_primitive *pr = &c->m->primitives[d];
	size_t i, n;

	for (i = c->loc.start[d]; i < c->loc.start[d + 1]; i++) {
		const struct pe_loc *l = &c->locs[i];

		if (l->score > 0)
			vec[l->node] = vg_score_add(vec[l->node], score_scale(l->score, factor));
	}
	if (pr->stickiness <= 0)
		return;
	for (n = 0; n < c->n_nodes; n++) {
		size_t at = pe_at(c, d, n);

		if (pe_running(c->cur[at]) && !c->failed[at])
			vec[n] = vg_score_add(vec[n], score_scale(pr->stickiness, factor));
	}
}

/* Colocation chains deeper than this do not pull (and cycles stop here). */
#define PULL_DEPTH_MAX 8

static void coloc_pull(const struct pe_ctx *c, uint32_t u, uint32_t with_role, vg_score factor,
		       unsigned depth, vg_score *vec)
{
	const struct vg_pe_colocation *co;
	const uint32_t *prims;
	uint32_t i, one, k, np;

	if (depth >= PULL_DEPTH_MAX || factor <= 0)
		return;
	for (i = c->coloc_in.start[u]; i < c->coloc_in.start[u + 1]; i++) {
		co = &c->m->colocations[c->coloc_in.items[i]];
		if (c->coloc_broken[c->coloc_in.items[i]] || co->score <= 0 ||
		    role_or_started(co->with_role) != with_role ||
		    role_or_started(co->rsc_role) != VG_ROLE_STARTED ||
		    co->rsc.kind == VG_PE_CLONE)
			continue;
		np = (uint32_t)pe_ref_prims(c, &co->rsc, &prims, &one);
		for (k = 0; k < np; k++) {
			vg_score f = score_scale(co->score, factor);

			if (prims[k] >= c->n_prims || c->frozen[prims[k]] ||
			    c->m->primitives[prims[k]].clone >= 0)
				continue;
			pull_of(c, prims[k], f, vec);
			/* what is colocated with the dependent pulls too, along the chain */
			coloc_pull(c, c->unit_of[prims[k]], VG_ROLE_STARTED, f, depth + 1, vec);
		}
	}
}

/*
 * Resources colocated with unit u (with u in with_role) pull it towards
 * the nodes they prefer, as Pacemaker merges dependents' scores: positive
 * locations and stickiness, scaled by score/INFINITY at each step of a
 * colocation chain.  Bans of dependents do not push (they only make the
 * dependent stop).
 */
void pe_coloc_influence(const struct pe_ctx *c, uint32_t u, uint32_t with_role,
			vg_score *vec)
{
	coloc_pull(c, u, with_role, VG_SCORE_INFINITY, 0, vec);
}

/* Is node a a better choice than node b?  Score, spread, stay, lowest id. */
int pe_better(const struct pe_ctx *c, const vg_score *vec, const uint8_t *here,
	      size_t a, size_t b)
{
	if (vec[a] != vec[b])
		return vec[a] > vec[b];
	if (c->node_load[a] != c->node_load[b])
		return c->node_load[a] < c->node_load[b];
	if (here && here[a] != here[b])
		return here[a] > here[b];
	return c->in->nodes[a].id < c->in->nodes[b].id;
}

/* The best node with a score >= 0, or -1. */
int32_t pe_best_node(const struct pe_ctx *c, const vg_score *vec, const uint8_t *here)
{
	size_t n, best = 0;

	for (n = 1; n < c->n_nodes; n++)
		if (pe_better(c, vec, here, n, best))
			best = n;
	if (c->n_nodes == 0 || vec[best] < 0)
		return -1;
	return (int32_t)best;
}
