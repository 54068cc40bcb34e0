/*
 * core configuration: one libconfig file, checked against a schema.
 * Every refusal names FILE:LINE and what was expected.
 */
#ifndef VG_CORE_CONFIG_H
#define VG_CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include <vigil/plugin.h>

struct vg_registry;
struct vg_plugin_info;

/* Resources only: meta attributes (`meta { }`), as Pacemaker names them. */
struct vg_rsc_meta_conf {
	uint32_t stickiness;          /* score kept on the current node, default 0 */
	uint32_t migration_threshold; /* failures on a node before moving away; 0: never */
	uint32_t failure_timeout_ms;  /* failures older than this are forgotten; 0: never */
	int target_role;              /* enum vg_target_role (policy.h), default started */
	int on_fail;                  /* enum vg_on_fail (policy.h), default restart */
	int managed;                  /* default true */
};

/* Resources only: operation timeouts and the recurring monitor (`ops { }`). */
struct vg_rsc_ops_conf {
	uint32_t monitor_interval_ms; /* recurring monitor; 0: none.  Default 10000 */
	uint32_t monitor_timeout_ms;  /* default 20000 */
	uint32_t start_timeout_ms;    /* default 20000 */
	uint32_t stop_timeout_ms;     /* default 20000 */
	uint32_t promote_timeout_ms;  /* default 20000 */
	uint32_t demote_timeout_ms;   /* default 20000 */
	uint32_t notify_timeout_ms;   /* default 20000 */
};

/* A configured plugin instance (a link, a resource, a fence device). */
struct vg_instance_conf {
	char *name;                        /* instance name */
	char *plugin;                      /* plugin name as written */
	const struct vg_plugin_info *info; /* resolved in the registry; borrowed */
	struct vg_value *values;           /* one per declared param, checked and typed */
	size_t n_values;
	struct vg_attr *attrs;             /* `attributes` group (VG_PLUGIN_F_ATTRS only) */
	size_t n_attrs;
	int line;                          /* line of the instance in the file */
	struct vg_rsc_meta_conf meta;      /* resources only */
	struct vg_rsc_ops_conf ops;        /* resources only */
	char **targets;                    /* fence devices only: nodes it can fence */
	size_t n_targets;
	uint32_t delay_ms;                 /* fence devices only: wait before acting (two-node races) */
	char **nodes;                      /* replication instances only: the two nodes of the */
	size_t n_nodes;                    /* replicated store; none: opened on every node */
};

/* fencing.levels = ( { node; level; devices = [ ... ]; } ): tried by level, ascending. */
struct vg_fence_level_conf {
	char *node;
	uint32_t level;      /* 1.. */
	char **devices;      /* every device of a level must succeed */
	size_t n_devices;
	int line;
};

/* groups = ( { id; resources = [ ... ]; } ): members start in order. */
struct vg_group_conf {
	char *id;
	char **members;      /* resource ids */
	size_t n_members;
	int line;
};

/* clones = ( { id; resource; max; promotable; promoted_max; } ) */
struct vg_clone_conf {
	char *id;
	char *resource;      /* the cloned resource id */
	uint32_t max;        /* 0: one per node */
	int promotable;
	uint32_t promoted_max; /* default 1 */
	int line;
};

/* constraints.location = ( { resource; node; score; } ) */
struct vg_location_conf {
	char *resource;      /* resource, group or clone id */
	char *node;
	uint32_t score;      /* int32 score (-INFINITY..INFINITY) stored as bits */
	int line;
};

/* constraints.colocation = ( { resource; with; score; role; with_role; } ) */
struct vg_colocation_conf {
	char *resource, *with;
	uint32_t score;      /* int32 score stored as bits */
	int role;            /* enum vg_role: STARTED (any) or PROMOTED */
	int with_role;
	int line;
};

/* constraints.order = ( { first; first_action; then; then_action; kind; } ) */
struct vg_order_conf {
	char *first, *then;
	int first_action;    /* VG_RSC_START or VG_RSC_PROMOTE */
	int then_action;
	int mandatory;       /* kind = "mandatory" (default) or "optional" */
	int line;
};

struct vg_node_conf {
	uint32_t id;         /* 1..  */
	char *name;
	char **addrs;        /* addrs[i] for links[i]; NULL where written as "" */
	size_t n_addrs;
	uint32_t votes;      /* default 1 */
	int line;
};

enum vg_no_quorum_policy {
	VG_NQP_INVALID = 0,
	VG_NQP_STOP = 1,     /* stop every resource (default) */
	VG_NQP_FREEZE = 2,   /* keep what runs, start nothing */
	VG_NQP_IGNORE = 3,   /* act as if quorate (dangerous) */
};

struct vg_config {
	char *path;
	unsigned char digest[32];   /* SHA-256 of the file's bytes */

	/* cluster { name; id; key_file; } */
	char *cluster_name;
	uint32_t cluster_id;        /* 1..2^32-1 */
	char *key_file;             /* absolute path */

	/* logging { level; stderr; syslog; facility; } */
	int log_level;              /* VG_LOG_*, default info */
	int log_stderr;             /* default true */
	int log_syslog;             /* default false */
	char *log_facility;         /* default "daemon" */

	/* plugin_dir: ':'-separated, default the configured pluginsdir */
	char *plugin_dir;
	/* state_dir: default /var/lib/vigil */
	char *state_dir;

	/* ctl { socket; group; } */
	char *ctl_socket;           /* default /run/vigil/vigild.sock */
	char *ctl_group;            /* default NULL: root only */

	/* membership { interval_ms; deadtime_ms; } */
	uint32_t interval_ms;       /* heartbeat interval, default 100 */
	uint32_t deadtime_ms;       /* default 500; >= 2 * interval_ms */

	/* quorum { expected_votes; two_node; wait_for_all; no_quorum_policy; } */
	uint32_t expected_votes;    /* 0: sum of node votes */
	int two_node;
	int wait_for_all;           /* default: true with two_node, else false */
	int no_quorum_policy;       /* enum vg_no_quorum_policy */

	/* scheduling { realtime_priority; mlockall; } for heartbeat timeliness */
	uint32_t rt_priority;       /* SCHED_FIFO priority 1..99; 0: normal scheduling */
	int mlockall;               /* lock vigild's memory: no page faults on the heartbeat path */

	struct vg_node_conf *nodes;
	size_t n_nodes;
	struct vg_instance_conf *links;      /* transports */
	size_t n_links;
	struct vg_instance_conf *resources;  /* resource instances */
	size_t n_resources;
	struct vg_instance_conf *fence_devices;
	size_t n_fence_devices;
	struct vg_instance_conf *replications; /* replication = ( ... ): instances vigild opens */
	size_t n_replications;
	struct vg_group_conf *groups;
	size_t n_groups;
	struct vg_clone_conf *clones;
	size_t n_clones;
	struct vg_location_conf *locations;
	size_t n_locations;
	struct vg_colocation_conf *colocations;
	size_t n_colocations;
	struct vg_order_conf *orders;
	size_t n_orders;

	/* fencing { enabled; timeout_ms; action; priority_delay_ms; alert; levels; } */
	int fencing_enabled;        /* default true: without it a lost node's resources move at once */
	uint32_t fencing_timeout_ms;
	int fencing_action;         /* VG_FENCE_REBOOT (default) or VG_FENCE_OFF */
	uint32_t priority_delay_ms; /* extra wait before fencing a node that runs more resources than us */
	char *fencing_alert;        /* program run with the event in its environment; NULL: none */
	struct vg_fence_level_conf *fence_levels;
	size_t n_fence_levels;
};

/*
 * Load and check `path`.  Plugins named by instances are looked up in
 * `reg` (already loaded) and their parameters validated.  On failure
 * returns a negative errno and writes "FILE:LINE: message" to errbuf.
 */
int vg_config_load(const char *path, const struct vg_registry *reg,
		   struct vg_config **out, char *errbuf, size_t errlen);
void vg_config_free(struct vg_config *cfg);

/*
 * The plugin names a configuration file uses (links, resources, fence
 * devices, replication instances, and string params of links: a wrapper names its inner
 * transport), read without any check, so that only those plugins are
 * loaded before the real vg_config_load().  *names is malloc'd, NULL-
 * terminated; the first *n_named are named as plugins, the rest are only
 * string params that may name one.  Free with vg_config_names_free.
 * -errno if unreadable.
 */
int vg_config_plugin_names(const char *path, char ***names, size_t *n, size_t *n_named);
void vg_config_names_free(char **names);

/*
 * Read the cluster key file: refused (-EPERM, message naming the mode)
 * when group or others may read it; -EINVAL when not a regular file
 * (symbolic links are not followed) or outside 32..4096 bytes.
 * *key is malloc'd, caller frees (and should wipe).  errbuf gets "FILE: ...".
 */
int vg_keyfile_read(const char *path, unsigned char **key, size_t *len, char *errbuf, size_t errlen);

/*
 * Check and type one value against its declaration.  `text` is the
 * value as written (libconfig scalars are given as text by the caller).
 * Used for configured values and for defaults.  BOOL takes
 * true/false/yes/no/on/off/1/0; DURATION_MS takes an optional "ms" or "s"
 * suffix.  On success out->is_set = 1 and, for STRING, ENUM, PATH and
 * SECRET, out->s is a malloc'd copy the caller frees.  On failure *out is
 * zeroed, a negative errno returned and "must be ..., got ..." written to
 * errbuf (the caller prefixes the param's name); a SECRET's value is never
 * written there.
 */
int vg_param_parse(const struct vg_param_decl *decl, const char *text, struct vg_value *out,
		   char *errbuf, size_t errlen);

/*
 * Check and type the parameters of a plugin given as text key/values (an
 * inner transport a wrapper opens, ABI 1.2), by the same rules as a
 * configured instance: unknown, missing required or invalid ones are
 * refused with one line in errbuf.  *values gets one per declared param
 * (free with vg_config_values_free).
 */
int vg_config_values_from_attrs(const struct vg_plugin_info *info, const struct vg_attr *attrs,
				size_t n_attrs, struct vg_value **values, char *errbuf, size_t errlen);
void vg_config_values_free(struct vg_value *values, size_t n);

const struct vg_node_conf *vg_config_node_by_name(const struct vg_config *cfg, const char *name);
const struct vg_node_conf *vg_config_node_by_id(const struct vg_config *cfg, uint32_t id);

/*
 * Is replication instance `ic` configured on node `name`: listed in its
 * `nodes`, or every node when it has none.
 */
int vg_config_repl_on_node(const struct vg_instance_conf *ic, const char *name);

/* The built-in resource plugin that drives a replication instance (core/rsc_replication.c). */
#define VG_RSC_REPLICATION_PLUGIN "replication"

#endif
