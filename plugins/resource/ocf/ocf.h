/*
 * ocf resource plugin, internal: where an agent lives, the environment it
 * runs in, and the configuration check against its meta-data.  Shared by
 * ocf.c (actions), ocf_env.c and ocf_validate.c; never installed.
 */
#ifndef VG_PLUGIN_OCF_H
#define VG_PLUGIN_OCF_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include <vigil/plugin.h>

/* Indexes into the declaration table: open() gets the values in this order. */
enum {
	OCF_P_AGENT,
	OCF_P_OCF_ROOT,
};

/* What the agent may take for the meta-data action at configuration load. */
#define OCF_META_TIMEOUT_MS 10000

/* An agent, resolved from the `agent` and `ocf_root` parameters. */
struct ocf_agent {
	char provider[64];   /* "heartbeat" */
	char type[128];      /* "Dummy" */
	char root[PATH_MAX]; /* OCF_ROOT, "/usr/lib/ocf" */
	char path[PATH_MAX]; /* root/resource.d/provider/type */
	char spec[200];      /* "heartbeat:Dummy", for messages */
};

/*
 * Resolve "provider:type" or "ocf:provider:type" under `root`.  Returns 0,
 * or -EINVAL with one line in err saying what was expected.
 */
int ocf_agent_parse(const char *spec, const char *root, struct ocf_agent *a,
		    char *err, size_t errlen);

/* The agent file exists and is executable: 0, or -ENOENT/-EACCES and a line in err. */
int ocf_agent_check(const struct ocf_agent *a, char *err, size_t errlen);

/* OCF name of an action ("start", "meta-data"), or NULL for an unknown one. */
const char *ocf_action_name(uint32_t action);

/*
 * Environment of one agent call: NULL-terminated "KEY=value" strings, all
 * malloc'd and owned by the struct (ocf_env_free).
 */
struct ocf_env {
	char **v;
	size_t n, cap;
};

/*
 * Build the environment for `action` of instance `inst` (its name and
 * attributes).  `req` may be NULL (meta-data at configuration load): no
 * extra variables then, and timeout_ms is used for CRM_meta_timeout.
 */
int ocf_env_build(struct ocf_env *e, const struct ocf_agent *a, const struct vg_instance *inst,
		  const struct vg_rsc_request *req, uint32_t timeout_ms);
void ocf_env_free(struct ocf_env *e);

/* vg_resource_ops.validate: the agent exists, attributes match its meta-data. */
int ocf_validate(const struct vg_instance *inst, char *errbuf, size_t errlen);

#endif
