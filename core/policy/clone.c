/*
 * Policy engine: anonymous clones.  Instances go to the best eligible
 * nodes, one per node; for promotable clones, up to promoted_max of the
 * running instances are promoted, the currently promoted one staying
 * promoted on a tie.
 */
#include "policy/pe_internal.h"

static void place_instances(struct pe_ctx *c, size_t p, uint32_t max,
			    vg_score *vec, const uint8_t *here)
{
	uint32_t k;
	size_t n;

	for (k = 0; k < max; k++) {
		int32_t best = -1;

		for (n = 0; n < c->n_nodes; n++) {
			if (c->want[pe_at(c, p, n)] != VG_ROLE_STOPPED || vec[n] < 0)
				continue;
			if (best < 0 || pe_better(c, vec, here, n, (size_t)best))
				best = (int32_t)n;
		}
		if (best < 0)
			break;
		c->want[pe_at(c, p, (size_t)best)] = VG_ROLE_STARTED;
		c->node_load[best]++;
	}
}

/* Promotion: score, then the node promoted now, then the lowest id. */
static int promote_better(const struct pe_ctx *c, const vg_score *vec,
			  const uint8_t *here, size_t a, size_t b)
{
	if (vec[a] != vec[b])
		return vec[a] > vec[b];
	if (here[a] != here[b])
		return here[a] > here[b];
	return c->in->nodes[a].id < c->in->nodes[b].id;
}

static void promote_instances(struct pe_ctx *c, uint32_t u, size_t p, uint32_t max,
			      vg_score *vec, uint8_t *here)
{
	const struct vg_pe_primitive *pr = &c->m->primitives[p];
	uint32_t k;
	size_t n, at;

	pe_prim_scores(c, p, vec, 0);
	for (n = 0; n < c->n_nodes; n++) {
		at = pe_at(c, p, n);
		here[n] = c->cur[at] == VG_ROLE_PROMOTED && !c->failed[at];
		if (!pe_running(c->want[at]))
			vec[n] = PE_NEG_INF;
		else if (here[n])
			vec[n] = vg_score_add(vec[n], pr->stickiness);
	}
	pe_coloc_apply(c, u, VG_ROLE_PROMOTED, vec);
	pe_coloc_influence(c, u, VG_ROLE_PROMOTED, vec);
	for (k = 0; k < max; k++) {
		int32_t best = -1;

		for (n = 0; n < c->n_nodes; n++) {
			if (c->want[pe_at(c, p, n)] != VG_ROLE_STARTED || vec[n] < 0)
				continue;
			if (best < 0 || promote_better(c, vec, here, n, (size_t)best))
				best = (int32_t)n;
		}
		if (best < 0)
			break;
		c->want[pe_at(c, p, (size_t)best)] = VG_ROLE_PROMOTED;
	}
	if (k == 0)
		pe_note(c, "%s: no instance can be promoted", c->m->clones[c->units[u].index].id);
}

void pe_alloc_clone(struct pe_ctx *c, uint32_t u, vg_score *vec, uint8_t *here)
{
	const struct vg_pe_clone *cl = &c->m->clones[c->units[u].index];
	size_t p = cl->primitive, n, at;
	uint32_t max = cl->max ? cl->max : (uint32_t)c->n_nodes;
	uint32_t promoted_max = cl->promoted_max ? cl->promoted_max : 1;

	pe_prim_scores(c, p, vec, 1);
	pe_coloc_apply(c, u, VG_ROLE_STARTED, vec);
	pe_coloc_influence(c, u, VG_ROLE_STARTED, vec);
	for (n = 0; n < c->n_nodes; n++) {
		at = pe_at(c, p, n);
		here[n] = pe_running(c->cur[at]) && !c->failed[at];
	}
	place_instances(c, p, max, vec, here);
	for (n = 0; n < c->n_nodes; n++)
		if (c->want[pe_at(c, p, n)] != VG_ROLE_STOPPED)
			break;
	if (n == c->n_nodes) {
		pe_note(c, "%s: stopped: no node may run an instance", cl->id);
		return;
	}
	if (cl->promotable && c->m->primitives[p].target_role != VG_TARGET_UNPROMOTED)
		promote_instances(c, u, p, promoted_max, vec, here);
}
