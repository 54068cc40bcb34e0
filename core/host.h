/*
 * Plugin instances and the host-services table each one is given.
 * Every instance gets its own struct vg_host, so that its log lines carry
 * its name and everything it holds on the loop is released when it closes.
 */
#ifndef VG_CORE_HOST_H
#define VG_CORE_HOST_H

#include <stddef.h>
#include <stdint.h>

#include <vigil/plugin.h>

struct vg_loop;
struct vg_logger;
struct vg_config;
struct vg_plugin_info;
struct vg_instance_conf;
struct vg_registry;
struct vg_repl_set;

/* What the core lends every instance; must outlive them all. */
struct vg_host_env {
	struct vg_loop *loop;
	const struct vg_logger *log;
	const struct vg_config *cfg;   /* nodes come from here; NULL: no nodes */
	const struct vg_registry *reg; /* for inner transports (ABI 1.2); NULL: none */
	struct vg_repl_set *repl;      /* replication instances, for the core's built-in
					* resource plugin "replication"; NULL: none */
	uint32_t local_node_id;
	/* Transport callbacks into the core (membership); NULL: frames dropped. */
	void (*frame_received)(void *arg, uint32_t link, const void *frame, size_t len,
			       uint32_t from_node);
	void (*link_state)(void *arg, uint32_t link, uint32_t node_id, int up);
	void *arg;
};

struct vg_plugin_inst {
	struct vg_host host;                 /* handed to the plugin */
	const struct vg_host_env *env;
	const struct vg_plugin_info *info;   /* borrowed from the registry */
	struct vg_instance inst;             /* handed to the plugin */
	char *tag;                           /* log subsystem: "ring0(udp-ucast)" */
	struct vg_node *nodes;               /* the node table as this instance sees it */
	size_t n_nodes;
	void *state;                         /* the plugin's */
	struct vg_inner *inners;             /* inner transports it opened (ABI 1.2) */
};

/*
 * Open an instance of `ic->info` (checked by config.c).  `link` is the
 * link index for transports.  On failure the plugin has cleaned up and a
 * line naming the instance was logged.
 */
int vg_plugin_inst_open(const struct vg_host_env *env, const struct vg_instance_conf *ic,
			uint32_t link, struct vg_plugin_inst **out);
void vg_plugin_inst_close(struct vg_plugin_inst *pi);

/*
 * The environment an instance was opened with, from the host table it was
 * given: for the core's built-in plugins only (a plugin built against the
 * SDK never sees the core).
 */
const struct vg_host_env *vg_host_env_of(const struct vg_host *h);

/* Transports: ops->send / ops->max_frame, the only core callers of those ops. */
int vg_plugin_inst_send(struct vg_plugin_inst *pi, uint32_t to_node, const void *frame, size_t len);
size_t vg_plugin_inst_max_frame(struct vg_plugin_inst *pi);

#endif
