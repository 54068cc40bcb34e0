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

const struct vg_node_conf *vg_config_node_by_name(const struct vg_config *cfg, const char *name);
const struct vg_node_conf *vg_config_node_by_id(const struct vg_config *cfg, uint32_t id);

#endif
