/*
 * vigild's replication instances: opened once at start, polled every
 * second through status() (synchronous and cheap by contract: the backend
 * answers from what it already knows), closed at shutdown.  A change of
 * what an instance reports is logged once, here, for every backend.
 */
#include "replication.h"
#include "config.h"
#include "host.h"
#include "log.h"
#include "loop.h"
#include "plugin.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *vg_repl_role_name(uint32_t role)
{
	switch (role) {
	case VG_REPL_ROLE_SECONDARY: return "secondary";
	case VG_REPL_ROLE_PRIMARY: return "primary";
	case VG_REPL_ROLE_UNKNOWN: return "unknown";
	default: return "?";
	}
}

const char *vg_repl_disk_name(uint32_t disk)
{
	switch (disk) {
	case VG_REPL_DISK_DISKLESS: return "diskless";
	case VG_REPL_DISK_INCONSISTENT: return "inconsistent";
	case VG_REPL_DISK_OUTDATED: return "outdated";
	case VG_REPL_DISK_UPTODATE: return "uptodate";
	case VG_REPL_DISK_UNKNOWN: return "unknown";
	default: return "?";
	}
}

const char *vg_repl_conn_name(uint32_t conn)
{
	switch (conn) {
	case VG_REPL_CONN_STANDALONE: return "standalone";
	case VG_REPL_CONN_CONNECTING: return "connecting";
	case VG_REPL_CONN_CONNECTED: return "connected";
	case VG_REPL_CONN_SYNC_SOURCE: return "sync-source";
	case VG_REPL_CONN_SYNC_TARGET: return "sync-target";
	default: return "?";
	}
}

int vg_repl_status(const struct vg_repl_local *r, struct vg_repl_status *out)
{
	memset(out, 0, sizeof(*out));
	if (!r->pi)
		return -ENODEV;
	return r->pi->info->ops.replication.status(r->pi->state, out);
}

int vg_repl_promote(struct vg_repl_local *r, uint32_t flags, vg_repl_done_cb cb, void *arg)
{
	if (!r->pi)
		return -ENODEV;
	return r->pi->info->ops.replication.promote(r->pi->state, flags, cb, arg);
}

int vg_repl_demote(struct vg_repl_local *r, vg_repl_done_cb cb, void *arg)
{
	if (!r->pi)
		return -ENODEV;
	return r->pi->info->ops.replication.demote(r->pi->state, cb, arg);
}

static int repl_changed(const struct vg_repl_status *a, const struct vg_repl_status *b)
{
	return a->role != b->role || a->peer_role != b->peer_role || a->disk != b->disk ||
	       a->peer_disk != b->peer_disk || a->conn != b->conn ||
	       a->split_brain != b->split_brain;
}

/* One line per change of state; a resync says how much it has to move. */
static void repl_log_change(struct vg_repl_set *set, struct vg_repl_local *r,
			    const struct vg_repl_status *st, int rc)
{
	const char *name = r->conf->name;
	char sync[64] = "";

	if (rc < 0) {
		if (r->last_rc >= 0)
			vg_logf(set->log, VG_LOG_WARNING, "replication",
				"%s (%s): no state: %s", name, r->conf->plugin, strerror(-rc));
		return;
	}
	if (r->last_rc == 0 && !repl_changed(&r->last, st))
		return;
	if (st->conn == VG_REPL_CONN_SYNC_SOURCE || st->conn == VG_REPL_CONN_SYNC_TARGET)
		snprintf(sync, sizeof(sync), ", resync of %" PRIu64 " bytes", st->sync_total_bytes);
	vg_logf(set->log, st->split_brain ? VG_LOG_WARNING : VG_LOG_NOTICE, "replication",
		"%s (%s): %s/%s, disk %s/%s, %s%s, out of sync %" PRIu64 " bytes%s",
		name, r->conf->plugin, vg_repl_role_name(st->role),
		vg_repl_role_name(st->peer_role), vg_repl_disk_name(st->disk),
		vg_repl_disk_name(st->peer_disk), vg_repl_conn_name(st->conn),
		st->split_brain ? ", SPLIT BRAIN" : "", st->out_of_sync_bytes, sync);
}

static void repl_poll_cb(void *arg)
{
	struct vg_repl_set *set = arg;

	for (size_t i = 0; i < set->n; i++) {
		struct vg_repl_local *r = &set->v[i];
		struct vg_repl_status st;
		int rc;

		if (!r->pi)
			continue;
		rc = vg_repl_status(r, &st);
		repl_log_change(set, r, &st, rc);
		r->last = st;
		r->last_rc = rc < 0 ? rc : 0;
	}
}

int vg_repl_set_start(struct vg_repl_set *set, const struct vg_config *cfg, const char *node,
		      const struct vg_host_env *env)
{
	memset(set, 0, sizeof(*set));
	set->loop = env->loop;
	set->log = env->log;
	set->n = cfg->n_replications;
	set->v = calloc(set->n ? set->n : 1, sizeof(*set->v));
	if (!set->v)
		return -ENOMEM;
	for (size_t i = 0; i < set->n; i++) {
		struct vg_repl_local *r = &set->v[i];
		int rc;

		r->conf = &cfg->replications[i];
		r->last_rc = 1;
		r->here = vg_config_repl_on_node(r->conf, node);
		if (!r->here)
			continue;
		/* A backend that will not open is reported, not fatal: the rest of the node runs. */
		rc = vg_plugin_inst_open(env, r->conf, 0, &r->pi);
		if (rc < 0) {
			r->pi = NULL;
			vg_logf(set->log, VG_LOG_ERR, "replication", "%s (%s): would not open: %s",
				r->conf->name, r->conf->plugin, strerror(-rc));
			continue;
		}
		vg_logf(set->log, VG_LOG_INFO, "replication", "%s (%s): opened", r->conf->name,
			r->conf->plugin);
	}
	if (!set->n)
		return 0;
	return vg_loop_timer_start(set->loop, VG_REPL_POLL_MS, VG_REPL_POLL_MS, repl_poll_cb, set,
				   NULL, &set->poll);
}

void vg_repl_set_stop(struct vg_repl_set *set)
{
	if (!set->v)
		return;
	vg_loop_timer_stop(set->loop, set->poll);
	for (size_t i = set->n; i-- > 0;)
		vg_plugin_inst_close(set->v[i].pi);
	free(set->v);
	memset(set, 0, sizeof(*set));
}

struct vg_repl_local *vg_repl_set_find(struct vg_repl_set *set, const char *name)
{
	for (size_t i = 0; set && i < set->n; i++)
		if (!strcmp(set->v[i].conf->name, name))
			return &set->v[i];
	return NULL;
}
