/*
 * The replication part of `vigilctl status`: this node's replication
 * instances as their backends last reported them (status() is read now:
 * it is cheap by contract), with the resync progress while one runs.
 */
#include "config.h"
#include "replication.h"
#include "vigild.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static json_t *sync_json(const struct vg_repl_status *st)
{
	uint64_t total = st->sync_total_bytes, done = st->sync_done_bytes;

	if (st->conn != VG_REPL_CONN_SYNC_SOURCE && st->conn != VG_REPL_CONN_SYNC_TARGET)
		return json_null();
	if (done > total)
		done = total; /* a backend's two counters read at slightly different times */
	return json_pack("{s:s, s:I, s:I, s:i}",
			 "direction", st->conn == VG_REPL_CONN_SYNC_SOURCE ? "to peer" : "from peer",
			 "done_bytes", (json_int_t)done, "total_bytes", (json_int_t)total,
			 "percent", total ? (int)(done * 100 / total) : 0);
}

static json_t *repl_json(const struct vg_repl_local *r)
{
	struct vg_repl_status st;
	const char *state = r->pi ? "open" : r->here ? "failed" : "not here";
	json_t *o = json_pack("{s:s, s:s, s:s}", "name", r->conf->name, "plugin", r->conf->plugin,
			      "state", state);
	char gen[20];
	int rc;

	if (!r->pi)
		return o;
	rc = vg_repl_status(r, &st);
	if (rc < 0) {
		json_object_set_new(o, "error", json_string(strerror(-rc)));
		return o;
	}
	snprintf(gen, sizeof(gen), "%016llx", (unsigned long long)st.gen_current);
	json_object_update_new(o, json_pack("{s:s, s:s, s:s, s:s, s:s, s:b, s:I, s:I, s:o, s:s}",
		"role", vg_repl_role_name(st.role), "peer_role", vg_repl_role_name(st.peer_role),
		"disk", vg_repl_disk_name(st.disk), "peer_disk", vg_repl_disk_name(st.peer_disk),
		"conn", vg_repl_conn_name(st.conn), "split_brain", st.split_brain != 0,
		"size_bytes", (json_int_t)st.size_bytes,
		"out_of_sync_bytes", (json_int_t)st.out_of_sync_bytes,
		"sync", sync_json(&st), "generation", gen));
	return o;
}

json_t *vigild_status_replication(const struct vigild *vd)
{
	json_t *arr = json_array();

	for (size_t i = 0; i < vd->repl.n; i++)
		json_array_append_new(arr, repl_json(&vd->repl.v[i]));
	return arr;
}
