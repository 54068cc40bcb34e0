/* The cluster as this node sees it, as JSON: what vigilctl status shows. */
#include "config.h"
#include "loop.h"
#include "membership.h"
#include "net.h"
#include "vigild.h"
#include "wire.h"

#include <jansson.h>
#include <stdio.h>

static const char *no_quorum_policy_name(int p)
{
	switch (p) {
	case VG_NQP_STOP: return "stop";
	case VG_NQP_FREEZE: return "freeze";
	case VG_NQP_IGNORE: return "ignore";
	default: return "?";
	}
}

static json_t *ago(uint64_t now, uint64_t then)
{
	return then ? json_integer((json_int_t)(now - then)) : json_null();
}

static json_t *links_json(const struct vigild *vd, const struct vg_peer *p, uint64_t now)
{
	json_t *arr = json_array();

	for (size_t l = 0; l < vd->n_links; l++) {
		const struct vg_link_peer *lp = &p->link[l];

		json_array_append_new(arr, json_pack("{s:i, s:s, s:s, s:o, s:I, s:i}",
			"link", (int)l, "name", vd->cfg->links[l].name,
			"state", lp->up ? "up" : "down",
			"last_heard_ms_ago", ago(now, lp->last_heard_ms),
			"frames", (json_int_t)lp->frames,
			"loss_pct", (int)vg_net_link_loss_pct(p, (uint32_t)l)));
	}
	return arr;
}

static json_t *nodes_json(const struct vigild *vd, uint64_t now)
{
	const struct vg_net *net = &vd->net;
	json_t *arr = json_array();

	for (size_t i = 0; i < net->n_peers; i++) {
		const struct vg_peer *p = &net->peers[i];
		char inc[32];

		snprintf(inc, sizeof(inc), "%llu", (unsigned long long)(p->is_local ?
			 net->incarnation : p->incarnation));
		json_array_append_new(arr, json_pack("{s:i, s:s, s:s, s:b, s:b, s:i, s:s, s:o, s:o}",
			"id", (int)p->id, "name", p->name,
			"state", vg_node_state_name(vg_membership_node_state(&vd->mship, p)),
			"local", p->is_local, "dc", p->id == vd->mship.dc, "votes", (int)p->votes,
			"incarnation", inc,
			"last_heard_ms_ago", p->is_local ? json_integer(0) : ago(now, p->last_heard_ms),
			"links", p->is_local ? json_array() : links_json(vd, p, now)));
	}
	return arr;
}

static json_t *drops_json(const struct vigild *vd)
{
	const struct vg_net *net = &vd->net;
	json_t *o = json_object();

	/* Copies of a frame from the other links are normal: shown apart, not as drops. */
	for (int r = 1; r < VG_WIRE_DROP_MAX; r++)
		if (r != VG_WIRE_DROP_DUPLICATE)
			json_object_set_new(o, vg_wire_drop_name(r),
					    json_integer((json_int_t)net->stats.dropped[r]));
	json_object_set_new(o, "self", json_integer((json_int_t)net->drops.self));
	json_object_set_new(o, "unknown-node", json_integer((json_int_t)net->drops.unknown_node));
	return o;
}

static json_t *quorum_json(const struct vigild *vd)
{
	const struct vg_membership *m = &vd->mship;

	return json_pack("{s:b, s:i, s:i, s:i, s:b, s:{s:b, s:b}, s:s}",
		"quorate", m->q.quorate, "votes", (int)m->q.votes, "expected", (int)m->q.expected,
		"needed", (int)m->q.needed, "two_node", m->qc.two_node,
		"wait_for_all", "enabled", m->qc.wait_for_all, "satisfied", m->all_seen,
		"no_quorum_policy", no_quorum_policy_name(vd->cfg->no_quorum_policy));
}

static json_t *transition_json(const struct vigild *vd)
{
	const struct vg_dc *dc = &vd->dc;
	size_t done = 0, running = 0;

	for (size_t i = 0; dc->active && i < dc->tr.n_actions; i++) {
		done += dc->act_state[i] == VG_DC_ACT_DONE;
		running += dc->act_state[i] == VG_DC_ACT_RUNNING;
	}
	return json_pack("{s:I, s:b, s:i, s:i, s:i}", "id", (json_int_t)dc->transition,
			 "active", dc->active, "actions", (int)(dc->active ? dc->tr.n_actions : 0),
			 "done", (int)done, "running", (int)running);
}

static json_t *fencing_json(const struct vigild *vd)
{
	json_t *pending = json_array();

	for (const struct vg_fence_job *j = vd->fencer.jobs; vd->cluster_ready && j; j = j->next)
		json_array_append_new(pending, json_pack("{s:s, s:s, s:i, s:s, s:I}",
			"target", vd->cfg->nodes[j->node].name,
			"action", j->action == VG_FENCE_OFF ? "off" : "reboot", "level", (int)j->level,
			"last_error", j->detail,
			"ms", (json_int_t)(vg_loop_now_ms(vd->loop) - j->started_ms)));
	return json_pack("{s:b, s:o, s:i, s:O?}", "enabled", vd->cfg->fencing_enabled,
			 "pending", pending, "consecutive_failures", (int)vd->fencer.failures,
			 "history", vd->cluster_ready ?
			 json_object_get(vd->cs.attrs, "fence_history") : NULL);
}

static json_t *cluster_json(const struct vigild *vd)
{
	json_t *standby = json_array();

	for (size_t i = 0; vd->cluster_ready && i < vd->net.n_peers; i++)
		if (vg_attrs_standby(vd->cs.attrs, vd->net.peers[i].name))
			json_array_append_new(standby, json_string(vd->net.peers[i].name));
	return json_pack("{s:b, s:o, s:b, s:o, s:O?}", "maintenance",
			 vd->cluster_ready && vg_attrs_maintenance(vd->cs.attrs), "standby", standby,
			 "fencing", vd->cfg->fencing_enabled,
			 "transition", vd->mship.dc == vd->node_id ? transition_json(vd) : json_null(),
			 "attributes", vd->cluster_ready ? vd->cs.attrs : NULL);
}

json_t *vigild_status_json(const struct vigild *vd)
{
	const struct vg_membership *m = &vd->mship;
	uint64_t now = vg_loop_now_ms(vd->loop);
	const struct vg_peer *dc = m->dc ? vg_net_peer((struct vg_net *)&vd->net, m->dc) : NULL;
	json_t *members = json_array(), *j;

	for (uint16_t i = 0; i < m->view.n_members; i++)
		json_array_append_new(members, json_integer(m->view.members[i]));
	j = json_pack("{s:b, s:{s:s, s:i}, s:{s:i, s:s}, s:I, s:o, s:o, s:{s:I, s:i, s:o}, s:o, s:{s:I, s:I, s:o}, s:i, s:i, s:o, s:o, s:o}",
		"ok", 1,
		"cluster", "name", vd->cfg->cluster_name, "id", (int)vd->cfg->cluster_id,
		"node", "id", (int)vd->node_id, "name", vd->log.ident ? vd->log.ident : "",
		"uptime_ms", (json_int_t)(now - vd->started_ms),
		"quorum", quorum_json(vd),
		"dc", dc ? json_pack("{s:i, s:s}", "id", (int)dc->id, "name", dc->name) : json_null(),
		"view", "id", (json_int_t)m->view.id, "owner", (int)m->view.owner, "members", members,
		"nodes", nodes_json(vd, now),
		"frames", "accepted", (json_int_t)vd->net.stats.accepted,
		"link_copies", (json_int_t)vd->net.stats.dropped[VG_WIRE_DROP_DUPLICATE],
		"dropped", drops_json(vd),
		"interval_ms", (int)m->interval_ms, "deadtime_ms", (int)m->deadtime_ms,
		"resources", vigild_status_resources(vd), "cluster_attrs", cluster_json(vd),
		"fencing", fencing_json(vd));
	json_object_set_new(j, "replication", vigild_status_replication(vd));
	return j;
}
