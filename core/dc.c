/* The DC's transition driver, and every node's worker for the DC's requests. */
#include "dc.h"
#include "cmsg.h"
#include "config.h"
#include "cstate.h"
#include "executor.h"
#include "fencer.h"
#include "log.h"
#include "loop.h"
#include "membership.h"
#include "net.h"
#include "policy/model.h"
#include "wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* An unanswered request is sent again after this many heartbeat intervals. */
#define RETX_INTERVALS 4
/* After a failed fencing, wait before trying again. */
#define FENCE_RETRY_MS 5000

static int is_dc(const struct vg_dc *dc)
{
	return dc->m->dc && dc->m->dc == dc->m->self && dc->m->q.quorate;
}

static const char *node_name(const struct vg_dc *dc, uint32_t node)
{
	return node < dc->model.n_nodes ? dc->model.node_names[node] : "?";
}

static void kick_cb(void *arg);

void vg_dc_kick(struct vg_dc *dc)
{
	if (!dc->kick)
		vg_loop_timer_start(dc->loop, 0, 0, kick_cb, dc, NULL, &dc->kick);
}

static void kick_later(struct vg_dc *dc, uint64_t ms)
{
	vg_loop_timer_stop(dc->loop, dc->kick);
	vg_loop_timer_start(dc->loop, ms, 0, kick_cb, dc, NULL, &dc->kick);
}

/* --- the engine's input ---------------------------------------------------- */

/*
 * Lost uncleanly while a member, and not fenced in the incarnation it had
 * as a member (a fenced node that boots again has a new one: it is clean).
 */
static int node_unclean(struct vg_dc *dc, size_t i)
{
	const struct vg_peer *p = &dc->net->peers[i];
	const char *fenced;
	char inc[32];

	if (p->is_local || !dc->m->mp[i].ever_member)
		return 0;
	if (vg_membership_node_state(dc->m, p) != VG_NODE_STATE_LOST)
		return 0;
	fenced = json_string_value(json_object_get(json_object_get(dc->cs->attrs, "fenced"), p->name));
	snprintf(inc, sizeof(inc), "%llu", (unsigned long long)dc->m->mp[i].member_inc);
	return !fenced || strcmp(fenced, inc) != 0;
}

static void input_locations(struct vg_dc *dc, struct vg_pe_input *in, struct vg_pe_location *out)
{
	json_t *locs = json_object_get(dc->cs->attrs, "locations"), *l;
	size_t i;

	json_array_foreach(locs, i, l) {
		struct vg_pe_location *pl = &out[in->n_runtime_locations];
		const char *rsc = json_string_value(json_object_get(l, "resource"));
		int node = vg_pe_model_node(&dc->model, json_string_value(json_object_get(l, "node")) ?: "");

		if (!rsc || node < 0 || vg_pe_model_ref(&dc->model, rsc, &pl->rsc) < 0)
			continue;
		pl->node = (uint32_t)node;
		pl->score = (vg_score)json_integer_value(json_object_get(l, "score"));
		in->n_runtime_locations++;
	}
}

int vg_dc_input(struct vg_dc *dc, struct vg_pe_input *in)
{
	size_t n = dc->model.n_nodes, r_n = dc->model.n_primitives;
	struct vg_pe_location *locs;

	memset(in, 0, sizeof(*in));
	in->model = &dc->model;
	in->nodes = calloc(n ? n : 1, sizeof(*in->nodes));
	in->state = calloc(n * r_n + 1, sizeof(*in->state));
	locs = calloc(json_array_size(json_object_get(dc->cs->attrs, "locations")) + 1, sizeof(*locs));
	if (!in->nodes || !in->state || !locs) {
		free(locs);
		vg_dc_input_free(in);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct vg_peer *p = &dc->net->peers[i];
		int member = vg_view_contains(&dc->m->view, p->id);
		int unclean = dc->cfg->fencing_enabled && node_unclean(dc, i);

		/* a node shutting down is standby: its resources move away first */
		in->nodes[i] = (struct vg_pe_node){ .id = p->id, .online = member,
			.standby = vg_attrs_standby(dc->cs->attrs, p->name) ||
				   (p->is_local ? dc->m->shutting_down : dc->m->mp[i].shutting_down),
			.unclean = unclean };
		for (size_t r = 0; r < r_n; r++) {
			struct vg_pe_rsc_state *st = &in->state[r * n + i];

			/* what a member or an unclean node runs is known; others run nothing */
			if (member || unclean)
				*st = dc->cs->nodes[i].rsc[r];
			else
				*st = (struct vg_pe_rsc_state){ .role = VG_ROLE_STOPPED };
			if (!member && !unclean)
				st->fail_count = dc->cs->nodes[i].rsc[r].fail_count;
		}
	}
	in->runtime_locations = locs;
	input_locations(dc, in, locs);
	in->quorate = dc->m->q.quorate;
	in->no_quorum = (uint32_t)dc->cfg->no_quorum_policy;
	in->fencing_enabled = dc->cfg->fencing_enabled;
	in->maintenance = vg_attrs_maintenance(dc->cs->attrs);
	in->now_ms = vg_loop_now_ms(dc->loop);
	return 0;
}

void vg_dc_input_free(struct vg_pe_input *in)
{
	free(in->nodes);
	free(in->state);
	free((void *)in->runtime_locations);
	memset(in, 0, sizeof(*in));
}

/* --- driving a transition ------------------------------------------------- */

static void dispatch(struct vg_dc *dc);

static size_t node_of_id(const struct vg_dc *dc, uint32_t id)
{
	return (size_t)(vg_net_peer(dc->net, id) - dc->net->peers);
}

static void log_action(struct vg_dc *dc, size_t i, const char *what)
{
	const struct vg_pe_action *a = &dc->tr.actions[i];

	if (a->kind == VG_PE_ACT_FENCE)
		vg_logf(dc->log, VG_LOG_NOTICE, "dc", "transition %llu: fence %s %s",
			(unsigned long long)dc->transition, node_name(dc, a->node), what);
	else
		vg_logf(dc->log, VG_LOG_NOTICE, "dc", "transition %llu: %s %s on %s %s",
			(unsigned long long)dc->transition, vg_rsc_action_name(a->action),
			dc->model.primitives[a->primitive].id, node_name(dc, a->node), what);
}

static void transition_end(struct vg_dc *dc)
{
	vg_logf(dc->log, dc->aborted ? VG_LOG_WARNING : VG_LOG_NOTICE, "dc",
		"transition %llu %s after %llu ms", (unsigned long long)dc->transition,
		dc->aborted ? "aborted" : "complete",
		(unsigned long long)(vg_loop_now_ms(dc->loop) - dc->started_ms));
	dc->active = 0;
	vg_loop_timer_stop(dc->loop, dc->retx);
	dc->retx = NULL;
	if (dc->fence_failed)
		kick_later(dc, FENCE_RETRY_MS);
	else
		vg_dc_kick(dc);
	dc->fence_failed = 0;
}

static void action_done(struct vg_dc *dc, size_t i, int ok)
{
	if (i >= dc->tr.n_actions || dc->act_state[i] != VG_DC_ACT_RUNNING)
		return;
	dc->act_state[i] = ok ? VG_DC_ACT_DONE : VG_DC_ACT_FAILED;
	dc->n_running--;
	log_action(dc, i, ok ? "done" : "FAILED");
	if (!ok)
		dc->aborted = 1;
	dispatch(dc);
}

static void local_done(void *arg, uint32_t rsc, uint32_t action, int status, int rc)
{
	struct vg_dc *dc = arg;

	for (size_t i = 0; i < dc->tr.n_actions; i++) {
		const struct vg_pe_action *a = &dc->tr.actions[i];

		if (dc->act_state[i] == VG_DC_ACT_RUNNING && a->kind == VG_PE_ACT_RSC &&
		    a->primitive == rsc && a->action == action &&
		    dc->net->peers[a->node].id == dc->m->self) {
			action_done(dc, i, status == 0 && rc == VG_OCF_SUCCESS);
			return;
		}
	}
}

static void fence_done(void *arg, uint32_t node, int status, const char *detail)
{
	struct vg_dc *dc = arg;

	for (size_t i = 0; dc->active && i < dc->tr.n_actions; i++) {
		const struct vg_pe_action *a = &dc->tr.actions[i];

		if (dc->act_state[i] == VG_DC_ACT_RUNNING && a->kind == VG_PE_ACT_FENCE &&
		    a->node == node) {
			if (status < 0)
				dc->fence_failed = 1;
			action_done(dc, i, status == 0);
			return;
		}
	}
}

static void send_op(struct vg_dc *dc, size_t i)
{
	const struct vg_pe_action *a = &dc->tr.actions[i];
	struct vg_cmsg_op op = { .to = dc->net->peers[a->node].id, .transition = dc->transition,
				 .dc_incarnation = dc->net->incarnation, .action_id = (uint32_t)i,
				 .rsc = a->primitive, .action = (uint8_t)a->action };
	uint8_t buf[64];
	size_t len = vg_cmsg_op_encode(&op, 0, buf, sizeof(buf));

	dc->act_sent_ms[i] = vg_loop_now_ms(dc->loop);
	if (len)
		vg_net_broadcast(dc->net, VG_MSG_RSC_OP, buf, len);
}

static void run_action(struct vg_dc *dc, size_t i)
{
	const struct vg_pe_action *a = &dc->tr.actions[i];
	int rc;

	dc->act_state[i] = VG_DC_ACT_RUNNING;
	dc->n_running++;
	log_action(dc, i, "started");
	if (a->kind == VG_PE_ACT_FENCE) {
		rc = dc->fencer ? vg_fencer_fence(dc->fencer, a->node, 0, "dc", fence_done, dc) : -ENODEV;
		if (rc == -ENODEV)
			vg_logf(dc->log, VG_LOG_ERR, "dc",
				"cannot fence %s: no fence device can reach it; its resources stay where they were until it is fenced or comes back",
				node_name(dc, a->node));
		if (rc < 0) {
			dc->fence_failed = 1;
			action_done(dc, i, 0);
		}
		return;
	}
	if (dc->net->peers[a->node].id != dc->m->self) {
		send_op(dc, i);
		return;
	}
	rc = vg_executor_exec(dc->ex, a->primitive, a->action, local_done, dc);
	if (rc < 0)
		action_done(dc, i, 0);
}

static int deps_done(const struct vg_dc *dc, size_t i)
{
	const struct vg_pe_action *a = &dc->tr.actions[i];

	for (size_t d = 0; d < a->n_deps; d++)
		if (dc->act_state[a->deps[d]] != VG_DC_ACT_DONE)
			return 0;
	return 1;
}

static void dispatch(struct vg_dc *dc)
{
	size_t done = 0;

	for (size_t i = 0; i < dc->tr.n_actions && !dc->aborted; i++)
		if (dc->act_state[i] == VG_DC_ACT_PENDING && deps_done(dc, i))
			run_action(dc, i);
	for (size_t i = 0; i < dc->tr.n_actions; i++)
		done += dc->act_state[i] == VG_DC_ACT_DONE;
	if (dc->active && dc->n_running == 0 && (dc->aborted || done == dc->tr.n_actions))
		transition_end(dc);
}

static void retx_cb(void *arg)
{
	struct vg_dc *dc = arg;
	uint64_t now = vg_loop_now_ms(dc->loop), gap = RETX_INTERVALS * dc->m->interval_ms;

	for (size_t i = 0; i < dc->tr.n_actions; i++) {
		const struct vg_pe_action *a = &dc->tr.actions[i];

		if (dc->act_state[i] == VG_DC_ACT_RUNNING && a->kind == VG_PE_ACT_RSC &&
		    dc->net->peers[a->node].id != dc->m->self && now - dc->act_sent_ms[i] >= gap)
			send_op(dc, i);
	}
}

static void transition_clear(struct vg_dc *dc)
{
	vg_pe_transition_free(&dc->tr);
	free(dc->act_state);
	free(dc->act_sent_ms);
	dc->act_state = NULL;
	dc->act_sent_ms = NULL;
	dc->active = dc->aborted = 0;
	dc->n_running = 0;
	vg_loop_timer_stop(dc->loop, dc->retx);
	dc->retx = NULL;
}

static int start_transition(struct vg_dc *dc, struct vg_pe_transition *tr)
{
	transition_clear(dc);
	dc->tr = *tr;
	dc->act_state = calloc(tr->n_actions + 1, sizeof(*dc->act_state));
	dc->act_sent_ms = calloc(tr->n_actions + 1, sizeof(*dc->act_sent_ms));
	if (!dc->act_state || !dc->act_sent_ms) {
		transition_clear(dc);
		return -ENOMEM;
	}
	for (size_t i = 0; i < tr->n_actions; i++)
		dc->act_state[i] = VG_DC_ACT_PENDING;
	dc->transition++;
	dc->active = 1;
	dc->started_ms = vg_loop_now_ms(dc->loop);
	vg_logf(dc->log, VG_LOG_NOTICE, "dc", "transition %llu: %zu action(s)",
		(unsigned long long)dc->transition, tr->n_actions);
	vg_loop_timer_start(dc->loop, RETX_INTERVALS * dc->m->interval_ms,
			    RETX_INTERVALS * dc->m->interval_ms, retx_cb, dc, NULL, &dc->retx);
	dispatch(dc);
	return 0;
}

/* Failures forgotten later (failure_timeout_ms) need another look then. */
static void arm_expiry(struct vg_dc *dc, const struct vg_pe_input *in)
{
	uint64_t next = 0;

	for (size_t r = 0; r < dc->model.n_primitives; r++) {
		uint32_t timeout = dc->model.primitives[r].failure_timeout_ms;

		for (size_t n = 0; timeout && n < dc->model.n_nodes; n++) {
			const struct vg_pe_rsc_state *st = &in->state[r * dc->model.n_nodes + n];
			uint64_t at = st->last_failure_ms + timeout;

			if (st->fail_count && st->last_failure_ms && at > in->now_ms &&
			    (!next || at < next))
				next = at;
		}
	}
	vg_loop_timer_stop(dc->loop, dc->expiry);
	dc->expiry = NULL;
	if (next)
		vg_loop_timer_start(dc->loop, next - in->now_ms + 1, 0, kick_cb, dc, NULL, &dc->expiry);
}

static int synced(const struct vg_dc *dc)
{
	if (!vg_cstate_synced(dc->cs)) {
		vg_logf(dc->log, VG_LOG_DEBUG, "dc", "waiting for the members' resource states");
		return 0;
	}
	for (size_t i = 0; i < dc->model.n_nodes; i++)
		if (vg_view_contains(&dc->m->view, dc->net->peers[i].id) &&
		    dc->need_inc[i] == dc->net->peers[i].incarnation &&
		    dc->cs->nodes[i].version < dc->need_version[i])
			return 0;
	return 1;
}

static void warn_no_fencing(struct vg_dc *dc)
{
	for (size_t i = 0; i < dc->model.n_nodes; i++) {
		if (!node_unclean(dc, i))
			continue;
		if (!dc->warned_no_fencing)
			vg_logf(dc->log, VG_LOG_WARNING, "dc",
				"FENCING IS DISABLED: the resources of lost node %s are recovered without fencing it; if it still runs them, they run twice",
				node_name(dc, (uint32_t)i));
		dc->warned_no_fencing = 1;
		return;
	}
	dc->warned_no_fencing = 0;
}

static void compute(struct vg_dc *dc)
{
	struct vg_pe_input in;
	struct vg_pe_transition tr;

	if (vg_dc_input(dc, &in) < 0)
		return;
	if (!dc->cfg->fencing_enabled)
		warn_no_fencing(dc);
	if (vg_pe_compute(&in, &tr) < 0) {
		vg_logf(dc->log, VG_LOG_ERR, "dc", "policy engine: out of memory");
		vg_dc_input_free(&in);
		return;
	}
	dc->computed_ms = in.now_ms;
	for (size_t i = 0; i < tr.n_notes; i++)
		vg_logf(dc->log, VG_LOG_INFO, "policy", "%s", tr.notes[i]);
	arm_expiry(dc, &in);
	vg_dc_input_free(&in);
	if (tr.n_actions == 0) {
		vg_pe_transition_free(&tr);
		return;
	}
	start_transition(dc, &tr);
}

static void kick_cb(void *arg)
{
	struct vg_dc *dc = arg;

	dc->kick = NULL;
	if (!is_dc(dc)) {
		if (dc->was_dc)
			transition_clear(dc);
		dc->was_dc = 0;
		return;
	}
	if (!dc->was_dc)
		vg_logf(dc->log, VG_LOG_NOTICE, "dc", "this node is the DC: taking charge of resources");
	dc->was_dc = 1;
	if (dc->active || !synced(dc))
		return; /* the end of the transition, or the missing state, kicks again */
	compute(dc);
}

/*
 * The view or the attributes changed under a running transition: start
 * nothing more; actions on nodes that left will never answer.
 */
void vg_dc_abort(struct vg_dc *dc, const char *why)
{
	if (!dc->active) {
		vg_dc_kick(dc);
		return;
	}
	if (!dc->aborted)
		vg_logf(dc->log, VG_LOG_NOTICE, "dc", "transition %llu: aborting: %s",
			(unsigned long long)dc->transition, why);
	dc->aborted = 1;
	for (size_t i = 0; i < dc->tr.n_actions; i++) {
		const struct vg_pe_action *a = &dc->tr.actions[i];

		if (dc->act_state[i] == VG_DC_ACT_RUNNING && a->kind == VG_PE_ACT_RSC &&
		    !vg_view_contains(&dc->m->view, dc->net->peers[a->node].id))
			action_done(dc, i, 0);
	}
	if (!is_dc(dc)) {
		transition_clear(dc);
		vg_dc_kick(dc);
		return;
	}
	dispatch(dc);
}

/* --- the worker: the DC's requests to this node ---------------------------- */

static struct vg_dc_recent *recent_find(struct vg_dc *dc, const struct vg_cmsg_op *op)
{
	for (size_t i = 0; i < VG_DC_RECENT; i++) {
		struct vg_dc_recent *r = &dc->recent[i];

		if (r->transition == op->transition && r->dc_incarnation == op->dc_incarnation &&
		    r->action_id == op->action_id && r->transition)
			return r;
	}
	return NULL;
}

static void send_result(struct vg_dc *dc, const struct vg_dc_recent *r, uint32_t to)
{
	struct vg_cmsg_op res = { .to = to, .transition = r->transition,
				  .dc_incarnation = r->dc_incarnation, .action_id = r->action_id,
				  .rsc = r->rsc, .action = r->action, .status = r->status, .rc = r->rc,
				  .state_version = r->state_version };
	uint8_t buf[64];
	size_t len = vg_cmsg_op_encode(&res, 1, buf, sizeof(buf));

	if (len)
		vg_net_broadcast(dc->net, VG_MSG_RSC_RESULT, buf, len);
}

struct worker_req {
	struct vg_dc *dc;
	struct vg_dc_recent *slot;
	uint32_t dc_id;
};

static void worker_done(void *arg, uint32_t rsc, uint32_t action, int status, int rc)
{
	struct worker_req *w = arg;

	w->slot->done = 1;
	w->slot->status = status;
	w->slot->rc = (uint8_t)rc;
	w->slot->state_version = w->dc->ex->version;
	send_result(w->dc, w->slot, w->dc_id);
	free(w);
}

static void on_op(struct vg_dc *dc, struct vg_peer *from, const struct vg_cmsg_op *op)
{
	struct vg_dc_recent *slot = recent_find(dc, op);
	struct worker_req *w;
	int rc;

	if (op->to != dc->m->self)
		return;
	if (slot) {
		if (slot->done)
			send_result(dc, slot, from->id); /* our answer was lost */
		return;
	}
	if (from->id != dc->m->dc) {
		vg_logf(dc->log, VG_LOG_WARNING, "dc", "request from node %u (%s), not the DC: ignored",
			from->id, from->name);
		return;
	}
	slot = &dc->recent[dc->recent_next++ % VG_DC_RECENT];
	*slot = (struct vg_dc_recent){ .dc_incarnation = op->dc_incarnation,
				       .transition = op->transition, .action_id = op->action_id,
				       .rsc = op->rsc, .action = op->action };
	w = malloc(sizeof(*w));
	if (!w)
		return;
	*w = (struct worker_req){ .dc = dc, .slot = slot, .dc_id = from->id };
	rc = vg_executor_exec(dc->ex, op->rsc, op->action, worker_done, w);
	if (rc < 0)
		worker_done(w, op->rsc, op->action, rc, VG_OCF_ERR_GENERIC);
}

static void on_result(struct vg_dc *dc, struct vg_peer *from, const struct vg_cmsg_op *res)
{
	size_t i = res->action_id;

	if (res->to != dc->m->self || !dc->active || res->transition != dc->transition ||
	    res->dc_incarnation != dc->net->incarnation || i >= dc->tr.n_actions ||
	    dc->net->peers[dc->tr.actions[i].node].id != from->id)
		return;
	if (res->state_version > dc->need_version[node_of_id(dc, from->id)] ||
	    dc->need_inc[node_of_id(dc, from->id)] != from->incarnation) {
		dc->need_version[node_of_id(dc, from->id)] = res->state_version;
		dc->need_inc[node_of_id(dc, from->id)] = from->incarnation;
	}
	action_done(dc, i, res->status == 0 && res->rc == VG_OCF_SUCCESS);
}

void vg_dc_frame(struct vg_dc *dc, struct vg_peer *p, const struct vg_wire_hdr *hdr,
		 const void *payload)
{
	struct vg_cmsg_op op;

	switch (hdr->type) {
	case VG_MSG_RSC_OP:
		if (vg_cmsg_op_decode(payload, hdr->payload_len, 0, &op) == 0)
			on_op(dc, p, &op);
		break;
	case VG_MSG_RSC_RESULT:
		if (vg_cmsg_op_decode(payload, hdr->payload_len, 1, &op) == 0)
			on_result(dc, p, &op);
		break;
	default:
		break;
	}
}

int vg_dc_start(struct vg_dc *dc, const struct vg_config *cfg, struct vg_net *net,
		struct vg_membership *m, struct vg_cstate *cs, struct vg_executor *ex,
		struct vg_loop *loop, const struct vg_logger *log)
{
	memset(dc, 0, sizeof(*dc));
	*dc = (struct vg_dc){ .loop = loop, .log = log, .cfg = cfg, .net = net, .m = m, .cs = cs,
			      .ex = ex };
	dc->need_version = calloc(cfg->n_nodes + 1, sizeof(*dc->need_version));
	dc->need_inc = calloc(cfg->n_nodes + 1, sizeof(*dc->need_inc));
	if (!dc->need_version || !dc->need_inc)
		return -ENOMEM;
	return vg_pe_model_build(cfg, &dc->model);
}

void vg_dc_stop(struct vg_dc *dc)
{
	transition_clear(dc);
	vg_loop_timer_stop(dc->loop, dc->kick);
	vg_loop_timer_stop(dc->loop, dc->expiry);
	vg_pe_model_free(&dc->model);
	free(dc->need_version);
	free(dc->need_inc);
	memset(dc, 0, sizeof(*dc));
}
