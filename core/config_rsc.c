/*
 * Cross-references of the resource model: groups, clones and constraints
 * name resources, groups, clones and nodes that must exist, and a resource
 * belongs to at most one group or clone.  What a table cannot say.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vigil/abi.h>

#include "config_private.h"

#define ROLE_PROMOTED 4 /* enum vg_role, policy.h */

__attribute__((format(printf, 3, 4)))
static int fail_at(struct vg_config_ctx *c, int line, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s:%d: %s", c->path, line, msg);
	return -EINVAL;
}

static ssize_t rsc_index(const struct vg_config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_resources; i++)
		if (!strcmp(cfg->resources[i].name, id))
			return (ssize_t)i;
	return -1;
}

static ssize_t group_index(const struct vg_config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_groups; i++)
		if (!strcmp(cfg->groups[i].id, id))
			return (ssize_t)i;
	return -1;
}

static ssize_t clone_index(const struct vg_config *cfg, const char *id)
{
	for (size_t i = 0; i < cfg->n_clones; i++)
		if (!strcmp(cfg->clones[i].id, id))
			return (ssize_t)i;
	return -1;
}

/*
 * Which group or clone, among those before the one being checked (groups
 * before group `upto_group`, every group and the clones before `upto_clone`
 * for a clone), holds resource `r`: "group \"g\" (line N)", or NULL.
 * The later one is the duplicate, and its line is the one reported.
 */
static const char *owner_of(const struct vg_config *cfg, const char *r, size_t upto_group,
			    size_t upto_clone, char *buf, size_t len)
{
	for (size_t g = 0; g < cfg->n_groups && g < upto_group; g++)
		for (size_t m = 0; m < cfg->groups[g].n_members; m++)
			if (cfg->groups[g].members[m] && !strcmp(cfg->groups[g].members[m], r)) {
				snprintf(buf, len, "group \"%s\" (line %d)", cfg->groups[g].id,
					 cfg->groups[g].line);
				return buf;
			}
	for (size_t k = 0; k < cfg->n_clones && k < upto_clone; k++)
		if (!strcmp(cfg->clones[k].resource, r)) {
			snprintf(buf, len, "clone \"%s\" (line %d)", cfg->clones[k].id,
				 cfg->clones[k].line);
			return buf;
		}
	return NULL;
}

static int check_unique_ids(struct vg_config_ctx *c, const struct vg_config *cfg)
{
	for (size_t g = 0; g < cfg->n_groups; g++) {
		const struct vg_group_conf *gr = &cfg->groups[g];

		if (rsc_index(cfg, gr->id) >= 0 || group_index(cfg, gr->id) != (ssize_t)g)
			return fail_at(c, gr->line, "group id \"%s\" is already used by a resource or group; expected a unique id",
				       gr->id);
	}
	for (size_t k = 0; k < cfg->n_clones; k++) {
		const struct vg_clone_conf *cl = &cfg->clones[k];

		if (rsc_index(cfg, cl->id) >= 0 || group_index(cfg, cl->id) >= 0 ||
		    clone_index(cfg, cl->id) != (ssize_t)k)
			return fail_at(c, cl->line, "clone id \"%s\" is already used by a resource, group or clone; expected a unique id",
				       cl->id);
	}
	return 0;
}

static int check_groups(struct vg_config_ctx *c, const struct vg_config *cfg)
{
	char other[160];

	for (size_t g = 0; g < cfg->n_groups; g++) {
		const struct vg_group_conf *gr = &cfg->groups[g];

		if (gr->n_members == 0)
			return fail_at(c, gr->line, "group \"%s\" must list at least one resource", gr->id);
		for (size_t m = 0; m < gr->n_members; m++) {
			const char *r = gr->members[m] ? gr->members[m] : "";

			if (rsc_index(cfg, r) < 0)
				return fail_at(c, gr->line, "group \"%s\": no resource named \"%s\"",
					       gr->id, r);
			for (size_t j = 0; j < m; j++)
				if (!strcmp(gr->members[j], r))
					return fail_at(c, gr->line, "group \"%s\" lists resource \"%s\" twice",
						       gr->id, r);
			if (owner_of(cfg, r, g, 0, other, sizeof(other)))
				return fail_at(c, gr->line, "group \"%s\": resource \"%s\" already belongs to %s",
					       gr->id, r, other);
		}
	}
	return 0;
}

static int check_clones(struct vg_config_ctx *c, const struct vg_config *cfg)
{
	char other[160];

	for (size_t k = 0; k < cfg->n_clones; k++) {
		const struct vg_clone_conf *cl = &cfg->clones[k];

		if (rsc_index(cfg, cl->resource) < 0)
			return fail_at(c, cl->line, "clone \"%s\": no resource named \"%s\"%s", cl->id,
				       cl->resource, group_index(cfg, cl->resource) >= 0 ?
				       " (clones of groups are not supported)" : "");
		if (owner_of(cfg, cl->resource, SIZE_MAX, k, other, sizeof(other)))
			return fail_at(c, cl->line, "clone \"%s\": resource \"%s\" already belongs to %s",
				       cl->id, cl->resource, other);
		if (cl->promotable && cl->promoted_max == 0)
			return fail_at(c, cl->line, "clone \"%s\": promoted_max must be at least 1 when promotable",
				       cl->id);
	}
	return 0;
}

/* A constraint's resource: a resource, group or clone id. */
static int check_ref(struct vg_config_ctx *c, const struct vg_config *cfg, int line,
		     const char *what, const char *id)
{
	if (rsc_index(cfg, id) >= 0 || group_index(cfg, id) >= 0 || clone_index(cfg, id) >= 0)
		return 0;
	return fail_at(c, line, "%s: no resource, group or clone named \"%s\"", what, id);
}

static int is_promotable(const struct vg_config *cfg, const char *id)
{
	ssize_t k = clone_index(cfg, id);

	return k >= 0 && cfg->clones[k].promotable;
}

static int check_role(struct vg_config_ctx *c, const struct vg_config *cfg, int line,
		      const char *what, const char *key, const char *id, int promoted)
{
	if (!promoted || is_promotable(cfg, id))
		return 0;
	return fail_at(c, line, "%s: %s = \"promoted\" needs \"%s\" to be a promotable clone",
		       what, key, id);
}

static int check_locations(struct vg_config_ctx *c, const struct vg_config *cfg)
{
	for (size_t i = 0; i < cfg->n_locations; i++) {
		const struct vg_location_conf *l = &cfg->locations[i];
		int rc = check_ref(c, cfg, l->line, "location constraint", l->resource);

		if (rc)
			return rc;
		if (!vg_config_node_by_name(cfg, l->node))
			return fail_at(c, l->line, "location constraint: no node named \"%s\"", l->node);
	}
	return 0;
}

static int check_colocations(struct vg_config_ctx *c, const struct vg_config *cfg)
{
	for (size_t i = 0; i < cfg->n_colocations; i++) {
		const struct vg_colocation_conf *o = &cfg->colocations[i];
		int rc = check_ref(c, cfg, o->line, "colocation constraint", o->resource);

		if (!rc)
			rc = check_ref(c, cfg, o->line, "colocation constraint", o->with);
		if (!rc && !strcmp(o->resource, o->with))
			rc = fail_at(c, o->line, "colocation constraint: \"%s\" with itself", o->with);
		if (!rc)
			rc = check_role(c, cfg, o->line, "colocation constraint", "role", o->resource,
					o->role == ROLE_PROMOTED);
		if (!rc)
			rc = check_role(c, cfg, o->line, "colocation constraint", "with_role", o->with,
					o->with_role == ROLE_PROMOTED);
		if (rc)
			return rc;
	}
	return 0;
}

static int check_orders(struct vg_config_ctx *c, struct vg_config *cfg)
{
	for (size_t i = 0; i < cfg->n_orders; i++) {
		struct vg_order_conf *o = &cfg->orders[i];
		int rc = check_ref(c, cfg, o->line, "order constraint", o->first);

		if (!rc)
			rc = check_ref(c, cfg, o->line, "order constraint", o->then);
		if (!rc && !strcmp(o->first, o->then))
			rc = fail_at(c, o->line, "order constraint: \"%s\" after itself", o->then);
		/* the schema stored the index in ("start", "promote") */
		o->first_action = o->first_action ? VG_RSC_PROMOTE : VG_RSC_START;
		o->then_action = o->then_action ? VG_RSC_PROMOTE : VG_RSC_START;
		if (!rc)
			rc = check_role(c, cfg, o->line, "order constraint", "first_action", o->first,
					o->first_action == VG_RSC_PROMOTE);
		if (!rc)
			rc = check_role(c, cfg, o->line, "order constraint", "then_action", o->then,
					o->then_action == VG_RSC_PROMOTE);
		if (rc)
			return rc;
	}
	return 0;
}

static const struct vg_instance_conf *fence_device(const struct vg_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_fence_devices; i++)
		if (!strcmp(cfg->fence_devices[i].name, name))
			return &cfg->fence_devices[i];
	return NULL;
}

static int can_fence(const struct vg_instance_conf *d, const char *node)
{
	for (size_t t = 0; t < d->n_targets; t++)
		if (d->targets[t] && !strcmp(d->targets[t], node))
			return 1;
	return 0;
}

static int check_fencing(struct vg_config_ctx *c, const config_t *lc, const struct vg_config *cfg)
{
	for (size_t i = 0; i < cfg->n_fence_devices; i++) {
		const struct vg_instance_conf *d = &cfg->fence_devices[i];

		for (size_t t = 0; t < d->n_targets; t++)
			if (!d->targets[t] || !vg_config_node_by_name(cfg, d->targets[t]))
				return fail_at(c, d->line, "fence device \"%s\": target \"%s\" is not a node",
					       d->name, d->targets[t] ? d->targets[t] : "");
	}
	if (cfg->fencing_action == VG_FENCE_ON)
		return fail_at(c, config_setting_source_line(config_lookup(lc, "fencing.action")),
			       "fencing.action must be \"reboot\" or \"off\", got \"on\"");
	for (size_t i = 0; i < cfg->n_fence_levels; i++) {
		const struct vg_fence_level_conf *l = &cfg->fence_levels[i];

		if (!vg_config_node_by_name(cfg, l->node))
			return fail_at(c, l->line, "fencing level: no node named \"%s\"", l->node);
		for (size_t d = 0; d < l->n_devices; d++) {
			const struct vg_instance_conf *dev = fence_device(cfg, l->devices[d] ? l->devices[d] : "");

			if (!dev)
				return fail_at(c, l->line, "fencing level %u of %s: no fence device named \"%s\"",
					       l->level, l->node, l->devices[d] ? l->devices[d] : "");
			if (!can_fence(dev, l->node))
				return fail_at(c, l->line, "fencing level %u of %s: device \"%s\" cannot fence %s (its targets do not list it)",
					       l->level, l->node, dev->name, l->node);
		}
	}
	return 0;
}

int vg_config_rsc_check(struct vg_config_ctx *c, const config_t *lc, struct vg_config *cfg)
{
	int rc = check_unique_ids(c, cfg);

	if (!rc)
		rc = check_groups(c, cfg);
	if (!rc)
		rc = check_clones(c, cfg);
	if (!rc)
		rc = check_locations(c, cfg);
	if (!rc)
		rc = check_colocations(c, cfg);
	if (!rc)
		rc = check_orders(c, cfg);
	if (!rc)
		rc = check_fencing(c, lc, cfg);
	return rc;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

void vg_config_rsc_free(struct vg_config *cfg)
{
	for (size_t i = 0; cfg->groups && i < cfg->n_groups; i++) {
		free(cfg->groups[i].id);
		strv_free(cfg->groups[i].members, cfg->groups[i].n_members);
	}
	free(cfg->groups);
	for (size_t i = 0; cfg->clones && i < cfg->n_clones; i++) {
		free(cfg->clones[i].id);
		free(cfg->clones[i].resource);
	}
	free(cfg->clones);
	for (size_t i = 0; cfg->locations && i < cfg->n_locations; i++) {
		free(cfg->locations[i].resource);
		free(cfg->locations[i].node);
	}
	free(cfg->locations);
	for (size_t i = 0; cfg->colocations && i < cfg->n_colocations; i++) {
		free(cfg->colocations[i].resource);
		free(cfg->colocations[i].with);
	}
	free(cfg->colocations);
	for (size_t i = 0; cfg->orders && i < cfg->n_orders; i++) {
		free(cfg->orders[i].first);
		free(cfg->orders[i].then);
	}
	free(cfg->orders);
	for (size_t i = 0; cfg->fence_levels && i < cfg->n_fence_levels; i++) {
		free(cfg->fence_levels[i].node);
		strv_free(cfg->fence_levels[i].devices, cfg->fence_levels[i].n_devices);
	}
	free(cfg->fence_levels);
	free(cfg->fencing_alert);
	for (size_t i = 0; cfg->fence_devices && i < cfg->n_fence_devices; i++)
		strv_free(cfg->fence_devices[i].targets, cfg->fence_devices[i].n_targets);
}
