/*
 * The configuration schema: every group of the file as a table of keys
 * (type, flags, range or choices, default, where it is stored), and the
 * per-element checks a table cannot say.  The walker in config.c reads
 * every group the same way.  docs/configuration.md describes each key.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_private.h"

#ifndef VG_PLUGINS_DIR
#define VG_PLUGINS_DIR "/usr/local/lib/vigil/plugins"
#endif
#ifndef VG_STATE_DIR
#define VG_STATE_DIR "/var/lib/vigil"
#endif
#ifndef VG_RUN_DIR
#define VG_RUN_DIR "/run/vigil"
#endif

static int cfg_node_check(struct vg_config_ctx *c, const config_setting_t *e, void *base, size_t idx);
static int cfg_link_check(struct vg_config_ctx *c, const config_setting_t *e, void *base, size_t idx);
static int cfg_resource_check(struct vg_config_ctx *c, const config_setting_t *e, void *base, size_t idx);
static int cfg_fence_check(struct vg_config_ctx *c, const config_setting_t *e, void *base, size_t idx);
static int cfg_repl_check(struct vg_config_ctx *c, const config_setting_t *e, void *base, size_t idx);

static const char *const cfg_log_levels[] = { "err", "warning", "notice", "info", "debug", NULL };
static const char *const cfg_facilities[] = { "daemon", "user", "local0", "local1", "local2",
	"local3", "local4", "local5", "local6", "local7", NULL };
static const char *const cfg_nq_policies[] = { "stop", "freeze", "ignore", NULL };

#define C_OFF(m) offsetof(struct vg_config, m)
#define N_OFF(m) offsetof(struct vg_node_conf, m)
#define I_OFF(m) offsetof(struct vg_instance_conf, m)

static const struct cfg_key cfg_cluster_keys[] = {
	{ .name = "name", .type = CT_STRING, .flags = CF_REQUIRED, .charset = "_-",
	  .off = C_OFF(cluster_name) },
	{ .name = "id", .type = CT_INT, .flags = CF_REQUIRED, .min = 1, .max = UINT32_MAX,
	  .off = C_OFF(cluster_id) },
	{ .name = "key_file", .type = CT_STRING, .flags = CF_REQUIRED | CF_ABSPATH,
	  .off = C_OFF(key_file) },
	{ .name = NULL },
};
static const struct cfg_key cfg_logging_keys[] = {
	{ .name = "level", .type = CT_ENUM, .min = VG_LOG_ERR, .choices = cfg_log_levels,
	  .def = "info", .off = C_OFF(log_level) },
	{ .name = "stderr", .type = CT_BOOL, .def = "true", .off = C_OFF(log_stderr) },
	{ .name = "syslog", .type = CT_BOOL, .def = "false", .off = C_OFF(log_syslog) },
	{ .name = "facility", .type = CT_STRING, .choices = cfg_facilities, .def = "daemon",
	  .off = C_OFF(log_facility) },
	{ .name = NULL },
};
static const struct cfg_key cfg_ctl_keys[] = {
	{ .name = "socket", .type = CT_STRING, .flags = CF_ABSPATH,
	  .def = VG_RUN_DIR "/vigild.sock", .off = C_OFF(ctl_socket) },
	{ .name = "group", .type = CT_STRING, .off = C_OFF(ctl_group) },
	{ .name = NULL },
};
static const struct cfg_key cfg_membership_keys[] = {
	{ .name = "interval_ms", .type = CT_INT, .min = 5, .max = 10000, .def = "100",
	  .off = C_OFF(interval_ms) },
	{ .name = "deadtime_ms", .type = CT_INT, .min = 20, .max = 60000, .def = "500",
	  .off = C_OFF(deadtime_ms) },
	{ .name = NULL },
};
static const struct cfg_key cfg_scheduling_keys[] = {
	{ .name = "realtime_priority", .type = CT_INT, .min = 0, .max = 99, .def = "0",
	  .off = C_OFF(rt_priority) },
	{ .name = "mlockall", .type = CT_BOOL, .def = "false", .off = C_OFF(mlockall) },
	{ .name = NULL },
};
static const struct cfg_key cfg_quorum_keys[] = {
	{ .name = "expected_votes", .type = CT_INT, .min = 0, .max = 1000, .def = "0",
	  .off = C_OFF(expected_votes) },
	{ .name = "two_node", .type = CT_BOOL, .def = "false", .off = C_OFF(two_node) },
	/* no default in the table: it follows two_node (cfg_check_cross) */
	{ .name = "wait_for_all", .type = CT_BOOL, .off = C_OFF(wait_for_all) },
	{ .name = "no_quorum_policy", .type = CT_ENUM, .min = VG_NQP_STOP,
	  .choices = cfg_nq_policies, .def = "stop", .off = C_OFF(no_quorum_policy) },
	{ .name = NULL },
};
static const struct cfg_key cfg_node_keys[] = {
	{ .name = "id", .type = CT_INT, .flags = CF_REQUIRED, .min = 1, .max = UINT32_MAX,
	  .off = N_OFF(id) },
	{ .name = "name", .type = CT_STRING, .flags = CF_REQUIRED, .charset = "_.-",
	  .off = N_OFF(name) },
	{ .name = "addresses", .type = CT_STRINGS, .off = N_OFF(addrs), .off_n = N_OFF(n_addrs) },
	{ .name = "votes", .type = CT_INT, .min = 0, .max = 255, .def = "1", .off = N_OFF(votes) },
	{ .name = NULL },
};
/* links, resources and fence devices differ only in how the instance is named */
#define CFG_INSTANCE_KEYS(namekey, nameflags)                                          \
	{ .name = namekey, .type = CT_STRING, .flags = nameflags, .charset = "_.-",     \
	  .off = I_OFF(name) },                                                         \
	{ .name = "plugin", .type = CT_STRING, .flags = CF_REQUIRED, .off = I_OFF(plugin) }, \
	{ .name = "params", .type = CT_PARAMS },                                        \
	{ .name = "attributes", .type = CT_PARAMS },                                    \
	{ .name = NULL }
static const struct cfg_key cfg_link_keys[] = { CFG_INSTANCE_KEYS("name", 0) };

static const char *const cfg_target_roles[] = { "stopped", "started", "promoted", "unpromoted", NULL };
static const char *const cfg_on_fail[] = { "restart", "stop", "block", "ignore", "fence", NULL };
static const char *const cfg_roles[] = { "started", "promoted", NULL };
static const char *const cfg_actions[] = { "start", "promote", NULL };
static const char *const cfg_order_kinds[] = { "optional", "mandatory", NULL };

#define M_OFF(m) offsetof(struct vg_instance_conf, meta.m)
#define O_OFF(m) offsetof(struct vg_instance_conf, ops.m)
static const struct cfg_key cfg_meta_keys[] = {
	{ .name = "stickiness", .type = CT_INT, .min = 0, .max = VG_CFG_SCORE_INFINITY, .def = "0",
	  .off = M_OFF(stickiness) },
	{ .name = "migration_threshold", .type = CT_INT, .min = 0, .max = 1000000, .def = "0",
	  .off = M_OFF(migration_threshold) },
	{ .name = "failure_timeout_ms", .type = CT_INT, .min = 0, .max = 86400000, .def = "0",
	  .off = M_OFF(failure_timeout_ms) },
	{ .name = "target_role", .type = CT_ENUM, .min = 1, .choices = cfg_target_roles,
	  .def = "started", .off = M_OFF(target_role) },
	{ .name = "on_fail", .type = CT_ENUM, .min = 1, .choices = cfg_on_fail, .def = "restart",
	  .off = M_OFF(on_fail) },
	{ .name = "managed", .type = CT_BOOL, .def = "true", .off = M_OFF(managed) },
	{ .name = NULL },
};
#define CFG_OP_KEY(key, member, def_ms)                                              \
	{ .name = key, .type = CT_INT, .min = 0, .max = 86400000, .def = def_ms,       \
	  .off = O_OFF(member) }
static const struct cfg_key cfg_ops_keys[] = {
	CFG_OP_KEY("monitor_interval_ms", monitor_interval_ms, "10000"),
	CFG_OP_KEY("monitor_timeout_ms", monitor_timeout_ms, "20000"),
	CFG_OP_KEY("start_timeout_ms", start_timeout_ms, "20000"),
	CFG_OP_KEY("stop_timeout_ms", stop_timeout_ms, "20000"),
	CFG_OP_KEY("promote_timeout_ms", promote_timeout_ms, "20000"),
	CFG_OP_KEY("demote_timeout_ms", demote_timeout_ms, "20000"),
	CFG_OP_KEY("notify_timeout_ms", notify_timeout_ms, "20000"),
	{ .name = NULL },
};
static const struct cfg_group cfg_meta = { cfg_meta_keys, 0, NULL };
static const struct cfg_group cfg_ops = { cfg_ops_keys, 0, NULL };
static const struct cfg_key cfg_resource_keys[] = {
	{ .name = "meta", .type = CT_GROUP, .sub = &cfg_meta },
	{ .name = "ops", .type = CT_GROUP, .sub = &cfg_ops },
	CFG_INSTANCE_KEYS("id", CF_REQUIRED)
};

#define G_OFF(m) offsetof(struct vg_group_conf, m)
static const struct cfg_key cfg_group_keys[] = {
	{ .name = "id", .type = CT_STRING, .flags = CF_REQUIRED, .charset = "_.-", .off = G_OFF(id) },
	{ .name = "resources", .type = CT_STRINGS, .flags = CF_REQUIRED, .off = G_OFF(members),
	  .off_n = G_OFF(n_members) },
	{ .name = NULL },
};
#define K_OFF(m) offsetof(struct vg_clone_conf, m)
static const struct cfg_key cfg_clone_keys[] = {
	{ .name = "id", .type = CT_STRING, .flags = CF_REQUIRED, .charset = "_.-", .off = K_OFF(id) },
	{ .name = "resource", .type = CT_STRING, .flags = CF_REQUIRED, .off = K_OFF(resource) },
	{ .name = "max", .type = CT_INT, .min = 0, .max = 1000, .def = "0", .off = K_OFF(max) },
	{ .name = "promotable", .type = CT_BOOL, .def = "false", .off = K_OFF(promotable) },
	{ .name = "promoted_max", .type = CT_INT, .min = 0, .max = 1000, .def = "1",
	  .off = K_OFF(promoted_max) },
	{ .name = NULL },
};
#define L_OFF(m) offsetof(struct vg_location_conf, m)
static const struct cfg_key cfg_location_keys[] = {
	{ .name = "resource", .type = CT_STRING, .flags = CF_REQUIRED, .off = L_OFF(resource) },
	{ .name = "node", .type = CT_STRING, .flags = CF_REQUIRED, .off = L_OFF(node) },
	{ .name = "score", .type = CT_SCORE, .flags = CF_REQUIRED, .off = L_OFF(score) },
	{ .name = NULL },
};
#define C2_OFF(m) offsetof(struct vg_colocation_conf, m)
static const struct cfg_key cfg_colocation_keys[] = {
	{ .name = "resource", .type = CT_STRING, .flags = CF_REQUIRED, .off = C2_OFF(resource) },
	{ .name = "with", .type = CT_STRING, .flags = CF_REQUIRED, .off = C2_OFF(with) },
	{ .name = "score", .type = CT_SCORE, .def = "INFINITY", .off = C2_OFF(score) },
	{ .name = "role", .type = CT_ENUM, .min = 3, .choices = cfg_roles, .def = "started",
	  .off = C2_OFF(role) },
	{ .name = "with_role", .type = CT_ENUM, .min = 3, .choices = cfg_roles, .def = "started",
	  .off = C2_OFF(with_role) },
	{ .name = NULL },
};
#define R_OFF(m) offsetof(struct vg_order_conf, m)
static const struct cfg_key cfg_order_keys[] = {
	{ .name = "first", .type = CT_STRING, .flags = CF_REQUIRED, .off = R_OFF(first) },
	{ .name = "then", .type = CT_STRING, .flags = CF_REQUIRED, .off = R_OFF(then) },
	{ .name = "first_action", .type = CT_ENUM, .min = 0, .choices = cfg_actions,
	  .def = "start", .off = R_OFF(first_action) },
	{ .name = "then_action", .type = CT_ENUM, .min = 0, .choices = cfg_actions,
	  .def = "start", .off = R_OFF(then_action) },
	{ .name = "kind", .type = CT_ENUM, .min = 0, .choices = cfg_order_kinds,
	  .def = "mandatory", .off = R_OFF(mandatory) },
	{ .name = NULL },
};
#define F_OFF(m) offsetof(struct vg_config, m)
/* Elements remember their line: cross-reference refusals (config_rsc.c) name it. */
#define CFG_LINE_CHECK(fn, type)                                                        \
	static int fn(struct vg_config_ctx *c, const config_setting_t *e, void *base,   \
		      size_t idx)                                                       \
	{                                                                               \
		((type *)base)[idx].line = config_setting_source_line(e);               \
		return 0;                                                               \
	}
CFG_LINE_CHECK(cfg_group_line, struct vg_group_conf)
CFG_LINE_CHECK(cfg_clone_line, struct vg_clone_conf)
CFG_LINE_CHECK(cfg_location_line, struct vg_location_conf)
CFG_LINE_CHECK(cfg_colocation_line, struct vg_colocation_conf)
CFG_LINE_CHECK(cfg_order_line, struct vg_order_conf)
static const char *const cfg_fence_actions[] = { "off", "on", "reboot", NULL };
#define FL_OFF(m) offsetof(struct vg_fence_level_conf, m)
static const struct cfg_key cfg_level_keys[] = {
	{ .name = "node", .type = CT_STRING, .flags = CF_REQUIRED, .off = FL_OFF(node) },
	{ .name = "level", .type = CT_INT, .flags = CF_REQUIRED, .min = 1, .max = 9,
	  .off = FL_OFF(level) },
	{ .name = "devices", .type = CT_STRINGS, .flags = CF_REQUIRED, .off = FL_OFF(devices),
	  .off_n = FL_OFF(n_devices) },
	{ .name = NULL },
};
CFG_LINE_CHECK(cfg_level_line, struct vg_fence_level_conf)
static const struct cfg_group cfg_level_g = {
	cfg_level_keys, sizeof(struct vg_fence_level_conf), cfg_level_line };
static const struct cfg_key cfg_fencing_keys[] = {
	{ .name = "enabled", .type = CT_BOOL, .def = "true", .off = F_OFF(fencing_enabled) },
	{ .name = "timeout_ms", .type = CT_INT, .min = 1000, .max = 3600000, .def = "60000",
	  .off = F_OFF(fencing_timeout_ms) },
	/* "on" is in the list for the enum's numbering (VG_FENCE_*), refused in config_rsc.c */
	{ .name = "action", .type = CT_ENUM, .min = 1, .choices = cfg_fence_actions,
	  .def = "reboot", .off = F_OFF(fencing_action) },
	{ .name = "priority_delay_ms", .type = CT_INT, .min = 0, .max = 600000, .def = "0",
	  .off = F_OFF(priority_delay_ms) },
	{ .name = "alert", .type = CT_STRING, .flags = CF_ABSPATH, .off = F_OFF(fencing_alert) },
	{ .name = "levels", .type = CT_LIST, .sub = &cfg_level_g, .off = F_OFF(fence_levels),
	  .off_n = F_OFF(n_fence_levels) },
	{ .name = NULL },
};


static const struct cfg_group cfg_group_g = {
	cfg_group_keys, sizeof(struct vg_group_conf), cfg_group_line };
static const struct cfg_group cfg_clone_g = {
	cfg_clone_keys, sizeof(struct vg_clone_conf), cfg_clone_line };
static const struct cfg_group cfg_location_g = {
	cfg_location_keys, sizeof(struct vg_location_conf), cfg_location_line };
static const struct cfg_group cfg_colocation_g = {
	cfg_colocation_keys, sizeof(struct vg_colocation_conf), cfg_colocation_line };
static const struct cfg_group cfg_order_g = {
	cfg_order_keys, sizeof(struct vg_order_conf), cfg_order_line };
static const struct cfg_key cfg_constraint_keys[] = {
	{ .name = "location", .type = CT_LIST, .sub = &cfg_location_g,
	  .off = C_OFF(locations), .off_n = C_OFF(n_locations) },
	{ .name = "colocation", .type = CT_LIST, .sub = &cfg_colocation_g,
	  .off = C_OFF(colocations), .off_n = C_OFF(n_colocations) },
	{ .name = "order", .type = CT_LIST, .sub = &cfg_order_g,
	  .off = C_OFF(orders), .off_n = C_OFF(n_orders) },
	{ .name = NULL },
};
static const struct cfg_group cfg_constraints = { cfg_constraint_keys, 0, NULL };
static const struct cfg_group cfg_fencing = { cfg_fencing_keys, 0, NULL };
static const struct cfg_key cfg_fence_keys[] = {
	{ .name = "targets", .type = CT_STRINGS, .flags = CF_REQUIRED, .off = I_OFF(targets),
	  .off_n = I_OFF(n_targets) },
	{ .name = "delay_ms", .type = CT_INT, .min = 0, .max = 600000, .def = "0",
	  .off = I_OFF(delay_ms) },
	CFG_INSTANCE_KEYS("name", CF_REQUIRED)
};

/* nodes are checked against the node list once it is read (config_repl.c) */
static const struct cfg_key cfg_repl_keys[] = {
	{ .name = "nodes", .type = CT_STRINGS, .off = I_OFF(nodes), .off_n = I_OFF(n_nodes) },
	CFG_INSTANCE_KEYS("name", CF_REQUIRED)
};

static const struct cfg_group cfg_cluster = { cfg_cluster_keys, 0, NULL };
static const struct cfg_group cfg_logging = { cfg_logging_keys, 0, NULL };
static const struct cfg_group cfg_ctl = { cfg_ctl_keys, 0, NULL };
static const struct cfg_group cfg_membership = { cfg_membership_keys, 0, NULL };
static const struct cfg_group cfg_quorum = { cfg_quorum_keys, 0, NULL };
static const struct cfg_group cfg_scheduling = { cfg_scheduling_keys, 0, NULL };
static const struct cfg_group cfg_node = {
	cfg_node_keys, sizeof(struct vg_node_conf), cfg_node_check };
static const struct cfg_group cfg_link = {
	cfg_link_keys, sizeof(struct vg_instance_conf), cfg_link_check };
static const struct cfg_group cfg_resource = {
	cfg_resource_keys, sizeof(struct vg_instance_conf), cfg_resource_check };
static const struct cfg_group cfg_fence = {
	cfg_fence_keys, sizeof(struct vg_instance_conf), cfg_fence_check };
static const struct cfg_group cfg_repl = {
	cfg_repl_keys, sizeof(struct vg_instance_conf), cfg_repl_check };

static const struct cfg_key cfg_root_keys[] = {
	{ .name = "cluster", .type = CT_GROUP, .flags = CF_REQUIRED, .sub = &cfg_cluster },
	{ .name = "logging", .type = CT_GROUP, .sub = &cfg_logging },
	{ .name = "plugin_dir", .type = CT_STRING, .def = VG_PLUGINS_DIR, .off = C_OFF(plugin_dir) },
	{ .name = "state_dir", .type = CT_STRING, .flags = CF_ABSPATH, .def = VG_STATE_DIR,
	  .off = C_OFF(state_dir) },
	{ .name = "ctl", .type = CT_GROUP, .sub = &cfg_ctl },
	{ .name = "membership", .type = CT_GROUP, .sub = &cfg_membership },
	{ .name = "quorum", .type = CT_GROUP, .sub = &cfg_quorum },
	{ .name = "scheduling", .type = CT_GROUP, .sub = &cfg_scheduling },
	{ .name = "nodes", .type = CT_LIST, .flags = CF_REQUIRED, .min = 1, .sub = &cfg_node,
	  .off = C_OFF(nodes), .off_n = C_OFF(n_nodes) },
	{ .name = "links", .type = CT_LIST, .sub = &cfg_link,
	  .off = C_OFF(links), .off_n = C_OFF(n_links) },
	{ .name = "resources", .type = CT_LIST, .sub = &cfg_resource,
	  .off = C_OFF(resources), .off_n = C_OFF(n_resources) },
	{ .name = "fence_devices", .type = CT_LIST, .sub = &cfg_fence,
	  .off = C_OFF(fence_devices), .off_n = C_OFF(n_fence_devices) },
	{ .name = "replication", .type = CT_LIST, .sub = &cfg_repl,
	  .off = C_OFF(replications), .off_n = C_OFF(n_replications) },
	{ .name = "groups", .type = CT_LIST, .sub = &cfg_group_g,
	  .off = C_OFF(groups), .off_n = C_OFF(n_groups) },
	{ .name = "clones", .type = CT_LIST, .sub = &cfg_clone_g,
	  .off = C_OFF(clones), .off_n = C_OFF(n_clones) },
	{ .name = "constraints", .type = CT_GROUP, .sub = &cfg_constraints },
	{ .name = "fencing", .type = CT_GROUP, .sub = &cfg_fencing },
	{ .name = NULL },
};
const struct cfg_group vg_cfg_root = { cfg_root_keys, 0, NULL };

static int cfg_node_check(struct vg_config_ctx *c, const config_setting_t *e, void *base, size_t idx)
{
	struct vg_node_conf *nodes = base, *n = &nodes[idx];

	n->line = config_setting_source_line(e);
	for (size_t j = 0; j < idx; j++) {
		if (nodes[j].id == n->id)
			return vg_config_fail(c, config_setting_get_member(e, "id"),
					      "nodes[%zu].id must be unique, got %" PRIu32
					      " again (node \"%s\" at line %d)",
					      idx, n->id, nodes[j].name, nodes[j].line);
		if (!strcmp(nodes[j].name, n->name))
			return vg_config_fail(c, config_setting_get_member(e, "name"),
					      "nodes[%zu].name must be unique, got \"%s\" again (line %d)",
					      idx, n->name, nodes[j].line);
	}
	return 0;
}

static int cfg_link_check(struct vg_config_ctx *c, const config_setting_t *e, void *base, size_t idx)
{
	struct vg_instance_conf *in = (struct vg_instance_conf *)base + idx;

	if (!in->name && asprintf(&in->name, "link%zu", idx) < 0) {
		in->name = NULL;
		return -ENOMEM;
	}
	return vg_config_instance_check(c, e, base, idx, VG_KIND_TRANSPORT, "link");
}

static int cfg_resource_check(struct vg_config_ctx *c, const config_setting_t *e, void *base, size_t idx)
{
	return vg_config_instance_check(c, e, base, idx, VG_KIND_RESOURCE, "resource");
}

static int cfg_fence_check(struct vg_config_ctx *c, const config_setting_t *e, void *base, size_t idx)
{
	return vg_config_instance_check(c, e, base, idx, VG_KIND_FENCE, "fence device");
}

static int cfg_repl_check(struct vg_config_ctx *c, const config_setting_t *e, void *base, size_t idx)
{
	return vg_config_instance_check(c, e, base, idx, VG_KIND_REPLICATION, "replication instance");
}
