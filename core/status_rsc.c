/* The resource part of `vigilctl status`: where each resource runs, as known here. */
#include "config.h"
#include "cstate.h"
#include "executor.h"
#include "loop.h"
#include "policy/pe_json.h"
#include "vigild.h"

#include <jansson.h>

static const char *owner_of(const struct vg_pe_model *m, size_t r, const char **kind)
{
	const struct vg_pe_primitive *p = &m->primitives[r];

	*kind = NULL;
	if (p->group >= 0) {
		*kind = "group";
		return m->groups[p->group].id;
	}
	if (p->clone >= 0) {
		*kind = m->clones[p->clone].promotable ? "promotable clone" : "clone";
		return m->clones[p->clone].id;
	}
	return NULL;
}

static json_t *lastop_json(const struct vg_lastop *l, uint64_t now)
{
	if (!l->action)
		return json_null();
	return json_pack("{s:s, s:i, s:b, s:I}", "action", vg_rsc_action_name(l->action),
			 "rc", (int)l->rc, "timed_out", l->timed_out,
			 "ms_ago", (json_int_t)(now - l->at_ms));
}

static json_t *rsc_json(const struct vigild *vd, size_t r, uint64_t now)
{
	const struct vg_pe_model *m = &vd->dc.model;
	json_t *on = json_array(), *nodes = json_array();
	const char *kind, *owner = owner_of(m, r, &kind);

	for (size_t n = 0; n < vd->cs.n_nodes; n++) {
		const struct vg_node_rstate *ns = &vd->cs.nodes[n];
		const struct vg_pe_rsc_state *st = &ns->rsc[r];
		int member = vg_view_contains(&vd->mship.view, vd->net.peers[n].id);

		if (!ns->version)
			continue;
		if (member && (st->role == VG_ROLE_STARTED || st->role == VG_ROLE_PROMOTED))
			json_array_append_new(on, json_string(vd->net.peers[n].name));
		if (st->role == VG_ROLE_STOPPED && !st->fail_count && !ns->last[r].action)
			continue;
		json_array_append_new(nodes, json_pack("{s:s, s:s, s:b, s:b, s:i, s:o}",
			"node", vd->net.peers[n].name, "role", vg_role_name(st->role),
			"current", member, "failed", st->failed, "fail_count", (int)st->fail_count,
			"last_op", lastop_json(&ns->last[r], now)));
	}
	return json_pack("{s:s, s:s, s:s?, s:s?, s:o, s:o}", "id", m->primitives[r].id,
			 "plugin", vd->cfg->resources[r].plugin, "in", owner, "in_kind", kind,
			 "running_on", on, "nodes", nodes);
}

json_t *vigild_status_resources(const struct vigild *vd)
{
	uint64_t now = vg_loop_now_ms(vd->loop);
	json_t *arr = json_array();

	if (!vd->cluster_ready)
		return arr;
	for (size_t r = 0; r < vd->dc.model.n_primitives; r++)
		json_array_append_new(arr, rsc_json(vd, r, now));
	return arr;
}

json_t *vigild_cluster_state_json(struct vigild *vd)
{
	struct vg_pe_input in;
	json_t *j;

	if (!vd->cluster_ready || vg_dc_input(&vd->dc, &in) < 0)
		return json_pack("{s:b, s:s}", "ok", 0, "error", "cluster state not available yet");
	j = vg_pe_input_to_json(&in);
	vg_dc_input_free(&in);
	json_object_set_new(j, "ok", json_true());
	return j;
}
