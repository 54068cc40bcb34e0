/* configuration -> policy model: references resolved once, by index. */
#include "model.h"
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int vg_pe_model_ref(const struct vg_pe_model *m, const char *id, struct vg_pe_ref *out)
{
	for (size_t i = 0; i < m->n_primitives; i++)
		if (!strcmp(m->primitives[i].id, id)) {
			*out = (struct vg_pe_ref){ VG_PE_PRIMITIVE, (uint32_t)i };
			return 0;
		}
	for (size_t i = 0; i < m->n_groups; i++)
		if (!strcmp(m->groups[i].id, id)) {
			*out = (struct vg_pe_ref){ VG_PE_GROUP, (uint32_t)i };
			return 0;
		}
	for (size_t i = 0; i < m->n_clones; i++)
		if (!strcmp(m->clones[i].id, id)) {
			*out = (struct vg_pe_ref){ VG_PE_CLONE, (uint32_t)i };
			return 0;
		}
	return -ENOENT;
}

int vg_pe_model_node(const struct vg_pe_model *m, const char *name)
{
	for (size_t i = 0; i < m->n_nodes; i++)
		if (!strcmp(m->node_names[i], name))
			return (int)i;
	return -1;
}

static void build_primitives(const struct vg_config *cfg, struct vg_pe_model *m)
{
	for (size_t i = 0; i < cfg->n_resources; i++) {
		const struct vg_rsc_meta_conf *meta = &cfg->resources[i].meta;

		m->primitives[i] = (struct vg_pe_primitive){
			.id = cfg->resources[i].name,
			.group = -1,
			.clone = -1,
			.stickiness = (vg_score)meta->stickiness,
			.migration_threshold = meta->migration_threshold,
			.failure_timeout_ms = meta->failure_timeout_ms,
			.target_role = (uint32_t)meta->target_role,
			.on_fail = (uint32_t)meta->on_fail,
			.managed = meta->managed,
		};
	}
}

static int build_groups(const struct vg_config *cfg, struct vg_pe_model *m)
{
	for (size_t g = 0; g < cfg->n_groups; g++) {
		struct vg_pe_group *pg = &m->groups[g];
		struct vg_pe_ref r;

		pg->id = cfg->groups[g].id;
		pg->members = calloc(cfg->groups[g].n_members, sizeof(*pg->members));
		if (!pg->members)
			return -ENOMEM;
		for (size_t i = 0; i < cfg->groups[g].n_members; i++) {
			vg_pe_model_ref(m, cfg->groups[g].members[i], &r);
			pg->members[pg->n_members++] = r.index;
			m->primitives[r.index].group = (int32_t)g;
		}
	}
	return 0;
}

static void build_clones(const struct vg_config *cfg, struct vg_pe_model *m)
{
	for (size_t k = 0; k < cfg->n_clones; k++) {
		const struct vg_clone_conf *cc = &cfg->clones[k];
		struct vg_pe_ref r;

		vg_pe_model_ref(m, cc->resource, &r);
		m->clones[k] = (struct vg_pe_clone){ .id = cc->id, .primitive = r.index,
						     .max = cc->max, .promotable = cc->promotable,
						     .promoted_max = cc->promoted_max };
		m->primitives[r.index].clone = (int32_t)k;
	}
}

static void build_constraints(const struct vg_config *cfg, struct vg_pe_model *m)
{
	for (size_t i = 0; i < cfg->n_locations; i++) {
		const struct vg_location_conf *l = &cfg->locations[i];

		vg_pe_model_ref(m, l->resource, &m->locations[i].rsc);
		m->locations[i].node = (uint32_t)vg_pe_model_node(m, l->node);
		m->locations[i].score = (vg_score)(int32_t)l->score;
	}
	for (size_t i = 0; i < cfg->n_colocations; i++) {
		const struct vg_colocation_conf *c = &cfg->colocations[i];
		struct vg_pe_colocation *pc = &m->colocations[i];

		vg_pe_model_ref(m, c->resource, &pc->rsc);
		vg_pe_model_ref(m, c->with, &pc->with);
		pc->score = (vg_score)(int32_t)c->score;
		pc->rsc_role = (uint32_t)c->role;
		pc->with_role = (uint32_t)c->with_role;
	}
	for (size_t i = 0; i < cfg->n_orders; i++) {
		const struct vg_order_conf *o = &cfg->orders[i];
		struct vg_pe_order *po = &m->orders[i];

		vg_pe_model_ref(m, o->first, &po->first);
		vg_pe_model_ref(m, o->then, &po->then);
		po->first_action = (uint32_t)o->first_action;
		po->then_action = (uint32_t)o->then_action;
		po->mandatory = o->mandatory;
	}
}

int vg_pe_model_build(const struct vg_config *cfg, struct vg_pe_model *m)
{
	memset(m, 0, sizeof(*m));
	m->primitives = calloc(cfg->n_resources + 1, sizeof(*m->primitives));
	m->groups = calloc(cfg->n_groups + 1, sizeof(*m->groups));
	m->clones = calloc(cfg->n_clones + 1, sizeof(*m->clones));
	m->locations = calloc(cfg->n_locations + 1, sizeof(*m->locations));
	m->colocations = calloc(cfg->n_colocations + 1, sizeof(*m->colocations));
	m->orders = calloc(cfg->n_orders + 1, sizeof(*m->orders));
	m->node_names = calloc(cfg->n_nodes + 1, sizeof(*m->node_names));
	if (!m->primitives || !m->groups || !m->clones || !m->locations || !m->colocations ||
	    !m->orders || !m->node_names)
		goto nomem;
	m->n_primitives = cfg->n_resources;
	m->n_groups = cfg->n_groups;
	m->n_clones = cfg->n_clones;
	m->n_locations = cfg->n_locations;
	m->n_colocations = cfg->n_colocations;
	m->n_orders = cfg->n_orders;
	m->n_nodes = cfg->n_nodes;
	for (size_t i = 0; i < cfg->n_nodes; i++)
		m->node_names[i] = cfg->nodes[i].name;
	build_primitives(cfg, m);
	if (build_groups(cfg, m) < 0)
		goto nomem;
	build_clones(cfg, m);
	build_constraints(cfg, m);
	return 0;
nomem:
	vg_pe_model_free(m);
	return -ENOMEM;
}

void vg_pe_model_free(struct vg_pe_model *m)
{
	for (size_t g = 0; m->groups && g < m->n_groups; g++)
		free(m->groups[g].members);
	free(m->primitives);
	free(m->groups);
	free(m->clones);
	free(m->locations);
	free(m->colocations);
	free(m->orders);
	free(m->node_names);
	memset(m, 0, sizeof(*m));
}
