/*
 * The replication instances of vigild's configuration (`replication = (...)`):
 * opened at start on the nodes they name, closed at shutdown, their
 * status() read every second and its changes logged.  The built-in
 * resource plugin "replication" (rsc_replication.c) drives them for the
 * cluster; `vigilctl status` shows them (status_repl.c).  The only core
 * callers of a replication plugin's ops are here.
 */
#ifndef VG_CORE_REPLICATION_H
#define VG_CORE_REPLICATION_H

#include <stddef.h>
#include <stdint.h>

#include <vigil/plugin.h>

struct vg_loop;
struct vg_logger;
struct vg_config;
struct vg_host_env;
struct vg_instance_conf;
struct vg_plugin_inst;

#define VG_REPL_POLL_MS 1000

struct vg_repl_local {
	const struct vg_instance_conf *conf;
	int here;                    /* configured on this node */
	struct vg_plugin_inst *pi;   /* NULL: not here, or it would not open */
	struct vg_repl_status last;  /* what the last poll read */
	int last_rc;                 /* status()'s return then; 1 before the first poll */
};

struct vg_repl_set {
	struct vg_loop *loop;
	const struct vg_logger *log;
	struct vg_repl_local *v;     /* one per cfg->replications[i], same order */
	size_t n;
	struct vg_timer *poll;
};

/* Open every instance configured on node `node` (others are listed, not opened). */
int vg_repl_set_start(struct vg_repl_set *set, const struct vg_config *cfg, const char *node,
		      const struct vg_host_env *env);
void vg_repl_set_stop(struct vg_repl_set *set);

/* The instance named `name`, opened or not; NULL when not configured. */
struct vg_repl_local *vg_repl_set_find(struct vg_repl_set *set, const char *name);

/*
 * The instance's status now (zeroed first, as the ABI promises): 0, or a
 * negative errno when it knows nothing (-ENODEV: not opened here).
 */
int vg_repl_status(const struct vg_repl_local *r, struct vg_repl_status *out);
/* The ops: 0 when accepted (cb follows, from the loop), or a negative errno. */
int vg_repl_promote(struct vg_repl_local *r, uint32_t flags, vg_repl_done_cb cb, void *arg);
int vg_repl_demote(struct vg_repl_local *r, vg_repl_done_cb cb, void *arg);

/* Names of the VG_REPL_* numbers, as status shows them ("?" for others). */
const char *vg_repl_role_name(uint32_t role);
const char *vg_repl_disk_name(uint32_t disk);
const char *vg_repl_conn_name(uint32_t conn);

#endif
