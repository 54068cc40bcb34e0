/*
 * Replication instances (`replication = ( { name; plugin; nodes; params; } )`):
 * what the schema table cannot say.  A replicated store lives on two nodes,
 * so `nodes`, when given, names two nodes of the node list; and every
 * resource of the built-in "replication" resource plugin names an instance
 * that exists.  docs/replication.md describes the section.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config_private.h"
#include "plugin.h"

#define REPL_NODES 2 /* one store between this node and one peer (vigil/replication.h) */

int vg_config_repl_on_node(const struct vg_instance_conf *ic, const char *name)
{
	if (!ic->n_nodes)
		return 1;
	for (size_t i = 0; i < ic->n_nodes; i++)
		if (ic->nodes[i] && !strcmp(ic->nodes[i], name))
			return 1;
	return 0;
}

static void node_names(const struct vg_config *cfg, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < cfg->n_nodes && used < len; i++)
		used += snprintf(buf + used, len - used, "%s%s", i ? ", " : "", cfg->nodes[i].name);
}

static int check_nodes(struct vg_config_ctx *c, const config_setting_t *e,
		       const struct vg_config *cfg, const struct vg_instance_conf *in)
{
	const config_setting_t *s = config_setting_get_member(e, "nodes");
	char list[512];

	if (!s)
		return 0;
	if (in->n_nodes != REPL_NODES)
		return vg_config_fail(c, s, "replication instance \"%s\": nodes must name %d nodes "
				      "(one store replicated between two), got %zu",
				      in->name, REPL_NODES, in->n_nodes);
	for (size_t i = 0; i < in->n_nodes; i++) {
		const char *n = in->nodes[i] ? in->nodes[i] : "";

		if (!vg_config_node_by_name(cfg, n)) {
			node_names(cfg, list, sizeof(list));
			return vg_config_fail(c, s, "replication instance \"%s\": nodes must name nodes "
					      "of the node list (%s), got \"%s\"", in->name, list, n);
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(in->nodes[j], n))
				return vg_config_fail(c, s, "replication instance \"%s\": nodes must name "
						      "two different nodes, got \"%s\" twice",
						      in->name, n);
	}
	return 0;
}

static const struct vg_instance_conf *repl_find(const struct vg_config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->n_replications; i++)
		if (!strcmp(cfg->replications[i].name, name))
			return &cfg->replications[i];
	return NULL;
}

/* The value of the built-in resource's param `instance`; NULL when unset. */
static const char *instance_param(const struct vg_instance_conf *r)
{
	for (size_t i = 0; i < r->info->n_params && i < r->n_values; i++)
		if (!strcmp(r->info->params[i].name, "instance"))
			return r->values[i].s;
	return NULL;
}

/* Every resource of the built-in plugin names a configured replication instance. */
static int check_resources(struct vg_config_ctx *c, const config_t *lc, const struct vg_config *cfg)
{
	const config_setting_t *list = config_lookup(lc, "resources");
	char names[512];
	size_t used = 0;

	snprintf(names, sizeof(names), "none");
	for (size_t i = 0; i < cfg->n_replications && used < sizeof(names); i++)
		used += snprintf(names + used, sizeof(names) - used, "%s%s", i ? ", " : "",
				 cfg->replications[i].name);
	for (size_t i = 0; i < cfg->n_resources; i++) {
		const struct vg_instance_conf *r = &cfg->resources[i];
		const config_setting_t *e = config_setting_get_elem(list, (unsigned int)i), *at;
		const char *want;

		if (r->info->kind != VG_KIND_RESOURCE || strcmp(r->info->name, VG_RSC_REPLICATION_PLUGIN))
			continue;
		want = instance_param(r);
		if (!want || repl_find(cfg, want))
			continue; /* unset: refused already as a missing required param */
		at = config_setting_get_member(config_setting_get_member(e, "params"), "instance");
		return vg_config_fail(c, at ? at : e, "resource \"%s\" (%s): param instance must name "
				      "a replication instance (configured: %s), got \"%s\"",
				      r->name, r->plugin, names, want);
	}
	return 0;
}

int vg_config_repl_check(struct vg_config_ctx *c, const config_t *lc, struct vg_config *cfg)
{
	const config_setting_t *list = config_lookup(lc, "replication");
	int rc = 0;

	for (size_t i = 0; i < cfg->n_replications && !rc; i++)
		rc = check_nodes(c, config_setting_get_elem(list, (unsigned int)i), cfg,
				 &cfg->replications[i]);
	if (!rc)
		rc = check_resources(c, lc, cfg);
	return rc;
}
