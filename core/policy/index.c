/*
 * Policy engine: indexes built once per computation so that nothing later
 * scans every constraint for every resource (no O(R^2)): placement units,
 * locations expanded to primitives, colocations per unit, orders per
 * primitive.
 */
#include <errno.h>
#include <stdlib.h>

#include "policy/pe_internal.h"

#define PE_NONE UINT32_MAX

/* The primitives a reference names: a group's members, a clone's primitive. */
size_t pe_ref_prims(const struct pe_ctx *c, const struct vg_pe_ref *r,
		    const uint32_t **prims, uint32_t *one)
{
	const struct vg_pe_model *m = c->m;

	switch (r->kind) {
	case VG_PE_PRIMITIVE:
		if (r->index >= m->n_primitives)
			return 0;
		*one = r->index;
		*prims = one;
		return 1;
	case VG_PE_GROUP:
		if (r->index >= m->n_groups)
			return 0;
		*prims = m->groups[r->index].members;
		return m->groups[r->index].n_members;
	case VG_PE_CLONE:
		if (r->index >= m->n_clones ||
		    m->clones[r->index].primitive >= m->n_primitives)
			return 0;
		*one = m->clones[r->index].primitive;
		*prims = one;
		return 1;
	default:
		return 0;
	}
}

/* The primitive whose placement says where a reference "is". */
uint32_t pe_ref_anchor(const struct pe_ctx *c, const struct vg_pe_ref *r)
{
	const uint32_t *prims;
	uint32_t one;

	if (pe_ref_prims(c, r, &prims, &one) == 0 || prims[0] >= c->n_prims)
		return PE_NONE;
	return prims[0];
}

uint32_t pe_ref_unit(const struct pe_ctx *c, const struct vg_pe_ref *r)
{
	uint32_t p = pe_ref_anchor(c, r);

	return p == PE_NONE ? PE_NONE : c->unit_of[p];
}

static int csr_alloc(struct pe_csr *l, size_t n_keys, const uint32_t *counts)
{
	size_t k;

	l->start = malloc((n_keys + 1) * sizeof(*l->start));
	if (!l->start)
		return -ENOMEM;
	l->start[0] = 0;
	for (k = 0; k < n_keys; k++)
		l->start[k + 1] = l->start[k] + counts[k];
	l->items = malloc((l->start[n_keys] + 1) * sizeof(*l->items));
	return l->items ? 0 : -ENOMEM;
}

static void csr_free(struct pe_csr *l)
{
	free(l->start);
	free(l->items);
	l->start = NULL;
	l->items = NULL;
}

/* A clone's primitive belongs to the clone unit, a member to its group's. */
static int build_units(struct pe_ctx *c, uint32_t *tmp)
{
	const struct vg_pe_model *m = c->m;
	size_t p, n_aggr = m->n_groups + m->n_clones;
	uint32_t *aggr_unit = tmp, key;

	c->units = malloc((c->n_prims + 1) * sizeof(*c->units));
	if (!c->units)
		return -ENOMEM;
	for (p = 0; p < n_aggr; p++)
		aggr_unit[p] = PE_NONE;
	for (p = 0; p < c->n_prims; p++) {
		const struct vg_pe_primitive *pr = &m->primitives[p];
		struct pe_unit u = { VG_PE_PRIMITIVE, (uint32_t)p };

		if (pr->clone >= 0 && (size_t)pr->clone < m->n_clones) {
			u = (struct pe_unit){ VG_PE_CLONE, (uint32_t)pr->clone };
			key = m->n_groups + (uint32_t)pr->clone;
		} else if (pr->group >= 0 && (size_t)pr->group < m->n_groups) {
			u = (struct pe_unit){ VG_PE_GROUP, (uint32_t)pr->group };
			key = (uint32_t)pr->group;
		} else {
			c->unit_of[p] = (uint32_t)c->n_units;
			c->units[c->n_units++] = u;
			continue;
		}
		if (aggr_unit[key] == PE_NONE) {
			aggr_unit[key] = (uint32_t)c->n_units;
			c->units[c->n_units++] = u;
		}
		c->unit_of[p] = aggr_unit[key];
	}
	return 0;
}

static const struct vg_pe_location *loc_at(const struct pe_ctx *c, size_t i)
{
	if (i < c->m->n_locations)
		return &c->m->locations[i];
	return &c->in->runtime_locations[i - c->m->n_locations];
}

/* Locations expanded to primitives: one pass counts, one fills. */
static int build_locations(struct pe_ctx *c, uint32_t *cnt)
{
	size_t i, k, n_loc = c->m->n_locations + c->in->n_runtime_locations;
	const uint32_t *prims;
	uint32_t one;
	int pass, ret;

	for (pass = 0; pass < 2; pass++) {
		for (k = 0; k < c->n_prims; k++)
			cnt[k] = pass ? c->loc.start[k] : 0;
		for (i = 0; i < n_loc; i++) {
			const struct vg_pe_location *l = loc_at(c, i);
			size_t n = pe_ref_prims(c, &l->rsc, &prims, &one);

			if (l->node >= c->n_nodes)
				continue;
			for (k = 0; k < n; k++) {
				if (prims[k] >= c->n_prims)
					continue;
				if (pass)
					c->locs[cnt[prims[k]]] = (struct pe_loc){ l->node, l->score };
				cnt[prims[k]]++;
			}
		}
		if (pass)
			break;
		ret = csr_alloc(&c->loc, c->n_prims, cnt);
		if (ret < 0)
			return ret;
		c->locs = malloc((c->loc.start[c->n_prims] + 1) * sizeof(*c->locs));
		if (!c->locs)
			return -ENOMEM;
	}
	return 0;
}

/* Colocations by the unit placed with (in) and the unit placed (out). */
static int build_colocations(struct pe_ctx *c, uint32_t *cnt_out, uint32_t *cnt_in)
{
	size_t i, n = c->m->n_colocations;
	int pass, ret;

	c->coloc_broken = calloc(n + 1, 1);
	if (!c->coloc_broken)
		return -ENOMEM;
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < c->n_units; i++) {
			cnt_out[i] = pass ? c->coloc_out.start[i] : 0;
			cnt_in[i] = pass ? c->coloc_in.start[i] : 0;
		}
		for (i = 0; i < n; i++) {
			const struct vg_pe_colocation *co = &c->m->colocations[i];
			uint32_t u = pe_ref_unit(c, &co->rsc), w = pe_ref_unit(c, &co->with);

			if (u == PE_NONE || w == PE_NONE || u == w)
				continue;
			if (pass) {
				c->coloc_out.items[cnt_out[u]] = (uint32_t)i;
				c->coloc_in.items[cnt_in[w]] = (uint32_t)i;
			}
			cnt_out[u]++;
			cnt_in[w]++;
		}
		if (pass)
			break;
		ret = csr_alloc(&c->coloc_out, c->n_units, cnt_out);
		if (ret == 0)
			ret = csr_alloc(&c->coloc_in, c->n_units, cnt_in);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Orders by each primitive their `first` names (restart/unrunnable spread). */
static int build_orders(struct pe_ctx *c, uint32_t *cnt)
{
	size_t i, k, n;
	const uint32_t *prims;
	uint32_t one;
	int pass, ret;

	for (pass = 0; pass < 2; pass++) {
		for (k = 0; k < c->n_prims; k++)
			cnt[k] = pass ? c->first_of.start[k] : 0;
		for (i = 0; i < c->m->n_orders; i++) {
			n = pe_ref_prims(c, &c->m->orders[i].first, &prims, &one);
			for (k = 0; k < n; k++) {
				if (prims[k] >= c->n_prims)
					continue;
				if (pass)
					c->first_of.items[cnt[prims[k]]] = (uint32_t)i;
				cnt[prims[k]]++;
			}
		}
		if (pass)
			break;
		ret = csr_alloc(&c->first_of, c->n_prims, cnt);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int pe_index_build(struct pe_ctx *c)
{
	size_t n_tmp = c->n_prims + c->m->n_groups + c->m->n_clones + 1;
	uint32_t *tmp = malloc(2 * n_tmp * sizeof(*tmp));
	int ret = -ENOMEM;

	if (!tmp)
		goto out;
	ret = build_units(c, tmp);
	if (ret == 0)
		ret = build_locations(c, tmp);
	if (ret == 0)
		ret = build_colocations(c, tmp, tmp + n_tmp);
	if (ret == 0)
		ret = build_orders(c, tmp);
out:
	free(tmp);
	return ret;
}

void pe_index_free(struct pe_ctx *c)
{
	free(c->units);
	free(c->locs);
	free(c->coloc_broken);
	csr_free(&c->loc);
	csr_free(&c->coloc_out);
	csr_free(&c->coloc_in);
	csr_free(&c->first_of);
}
