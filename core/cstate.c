/* The replicated cluster state: resource states per node, cluster attributes. */
#include "cstate.h"
#include "cmsg.h"
#include "config.h"
#include "executor.h"
#include "log.h"
#include "loop.h"
#include "membership.h"
#include "net.h"
#include "wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static size_t node_index(const struct vg_cstate *cs, const struct vg_peer *p)
{
	return (size_t)(p - cs->net->peers);
}

static void updated(struct vg_cstate *cs)
{
	if (cs->on_update)
		cs->on_update(cs->arg);
}

/* --- resource state ------------------------------------------------------ */

static void push_state(struct vg_cstate *cs)
{
	const struct vg_node_rstate *me = &cs->nodes[cs->self];
	size_t per = vg_cmsg_state_per_frame();
	size_t n_chunks = cs->n_rsc ? (cs->n_rsc + per - 1) / per : 1;
	struct vg_cmsg_rsc entries[VG_WIRE_MAX_PAYLOAD / VG_CMSG_RSC_LEN];
	uint8_t buf[VG_WIRE_MAX_PAYLOAD];
	uint64_t now = vg_loop_now_ms(cs->loop);

	for (size_t c = 0; c < n_chunks; c++) {
		struct vg_cmsg_state st = { .version = me->version, .chunk = (uint16_t)c,
					    .n_chunks = (uint16_t)n_chunks, .probed = (uint8_t)me->probed,
					    .entries = entries };
		size_t len;

		for (size_t i = c * per; i < cs->n_rsc && i < (c + 1) * per; i++) {
			const struct vg_pe_rsc_state *r = &me->rsc[i];
			const struct vg_lastop *l = &me->last[i];

			entries[st.n++] = (struct vg_cmsg_rsc){
				.rsc = (uint32_t)i, .role = (uint8_t)r->role, .failed = (uint8_t)r->failed,
				.fail_count = r->fail_count,
				.failure_age_ms = r->last_failure_ms ?
					(uint32_t)(now - r->last_failure_ms) : UINT32_MAX,
				.last_action = l->action, .last_rc = l->rc,
				.last_timed_out = l->timed_out,
				.last_age_ms = l->action ? (uint32_t)(now - l->at_ms) : 0,
			};
		}
		len = vg_cmsg_state_encode(&st, buf, sizeof(buf));
		if (len)
			vg_net_broadcast(cs->net, VG_MSG_STATE, buf, len);
	}
}

void vg_cstate_local_changed(struct vg_cstate *cs)
{
	struct vg_node_rstate *me = &cs->nodes[cs->self];
	uint64_t now = vg_loop_now_ms(cs->loop), wall = wall_ms();

	for (size_t i = 0; i < cs->n_rsc; i++) {
		const struct vg_rsc_local *r = &cs->ex->rsc[i];
		uint64_t age = r->last_failure_wall_ms && wall > r->last_failure_wall_ms ?
			       wall - r->last_failure_wall_ms : 0;

		me->rsc[i] = (struct vg_pe_rsc_state){
			.role = r->role, .failed = r->failed, .fail_count = r->fail_count,
			.last_failure_ms = r->last_failure_wall_ms ? (now > age ? now - age : 1) : 0,
		};
		if (r->n_hist) {
			const struct vg_op_record *h = &r->hist[r->n_hist - 1];
			uint64_t ago = wall > h->wall_ms ? wall - h->wall_ms : 0;

			me->last[i] = (struct vg_lastop){ .action = (uint8_t)h->action,
				.rc = (uint8_t)h->rc, .timed_out = h->status == -ETIMEDOUT,
				.at_ms = now > ago ? now - ago : 1 };
		}
	}
	me->version = cs->ex->version;
	me->probed = vg_executor_probed(cs->ex);
	cs->m->local_state_version = me->version;
	push_state(cs);
	updated(cs);
}

static int asm_begin(struct vg_node_rstate *ns, size_t n_rsc, const struct vg_cmsg_state *st)
{
	free(ns->asm_got);
	ns->asm_got = calloc(st->n_chunks, 1);
	if (!ns->asm_got)
		return -ENOMEM;
	if (!ns->asm_rsc)
		ns->asm_rsc = calloc(n_rsc ? n_rsc : 1, sizeof(*ns->asm_rsc));
	if (!ns->asm_last)
		ns->asm_last = calloc(n_rsc ? n_rsc : 1, sizeof(*ns->asm_last));
	if (!ns->asm_rsc || !ns->asm_last)
		return -ENOMEM;
	ns->asm_version = st->version;
	ns->asm_chunks = ns->asm_left = st->n_chunks;
	return 0;
}

/* A restarted node counts its versions from 1 again: forget what we held of it. */
static void check_incarnation(struct vg_cstate *cs, struct vg_node_rstate *ns,
			      const struct vg_peer *p)
{
	if (ns->incarnation == p->incarnation)
		return;
	ns->incarnation = p->incarnation;
	ns->version = 0;
	ns->asm_version = 0;
	ns->probed = 0;
	ns->stale = 1;
	for (size_t r = 0; r < cs->n_rsc; r++) {
		ns->rsc[r] = (struct vg_pe_rsc_state){ .role = VG_ROLE_UNKNOWN };
		ns->last[r] = (struct vg_lastop){ 0 };
	}
}

static void on_state(struct vg_cstate *cs, struct vg_peer *p, const void *payload, size_t len)
{
	struct vg_cmsg_rsc entries[VG_WIRE_MAX_PAYLOAD / VG_CMSG_RSC_LEN];
	struct vg_cmsg_state st = { .entries = entries };
	struct vg_node_rstate *ns = &cs->nodes[node_index(cs, p)];
	uint64_t now = vg_loop_now_ms(cs->loop);

	check_incarnation(cs, ns, p);
	if (vg_cmsg_state_decode(payload, len, &st) < 0 ||
	    (st.version <= ns->version && !ns->stale))
		return;
	if ((st.version != ns->asm_version || st.n_chunks != ns->asm_chunks) &&
	    asm_begin(ns, cs->n_rsc, &st) < 0)
		return;
	if (ns->asm_got[st.chunk])
		return;
	for (uint16_t i = 0; i < st.n; i++) {
		const struct vg_cmsg_rsc *e = &entries[i];

		if (e->rsc >= cs->n_rsc)
			continue;
		ns->asm_rsc[e->rsc] = (struct vg_pe_rsc_state){
			.role = e->role, .failed = e->failed, .fail_count = e->fail_count,
			.last_failure_ms = e->failure_age_ms == UINT32_MAX ? 0 :
				(now > e->failure_age_ms ? now - e->failure_age_ms : 1),
		};
		ns->asm_last[e->rsc] = (struct vg_lastop){ .action = e->last_action,
			.rc = e->last_rc, .timed_out = e->last_timed_out,
			.at_ms = now > e->last_age_ms ? now - e->last_age_ms : 1 };
	}
	ns->asm_got[st.chunk] = 1;
	ns->asm_probed = st.probed;
	if (--ns->asm_left)
		return;
	memcpy(ns->rsc, ns->asm_rsc, cs->n_rsc * sizeof(*ns->rsc));
	memcpy(ns->last, ns->asm_last, cs->n_rsc * sizeof(*ns->last));
	ns->version = st.version;
	ns->probed = ns->asm_probed;
	ns->asm_version = 0;
	ns->stale = 0;
	vg_logf(cs->log, VG_LOG_DEBUG, "cstate", "node %u (%s): state version %llu held%s", p->id,
		p->name, (unsigned long long)st.version, ns->probed ? "" : " (still probing)");
	updated(cs);
}

static void request(struct vg_cstate *cs, uint8_t type, uint32_t to, uint64_t version)
{
	struct vg_cmsg_req req = { .to = to, .version = version };
	uint8_t buf[32];
	size_t len = vg_cmsg_req_encode(&req, buf, sizeof(buf));

	if (len)
		vg_net_broadcast(cs->net, type, buf, len);
}

/* --- cluster attributes -------------------------------------------------- */

static int attrs_newer(uint64_t v1, uint32_t o1, uint64_t v2, uint32_t o2)
{
	return v1 > v2 || (v1 == v2 && o1 > o2);
}

static void push_attrs(struct vg_cstate *cs)
{
	char *text = json_dumps(cs->attrs, JSON_COMPACT);
	size_t len, per = vg_cmsg_attrs_per_frame(), n_chunks;
	uint8_t buf[VG_WIRE_MAX_PAYLOAD];

	if (!text)
		return;
	len = strlen(text);
	n_chunks = len ? (len + per - 1) / per : 1;
	for (size_t c = 0; c < n_chunks && c < UINT16_MAX; c++) {
		size_t off = c * per, n = len - off < per ? len - off : per;
		struct vg_cmsg_attrs a = { .version = cs->attrs_version, .origin = cs->attrs_origin,
					   .chunk = (uint16_t)c, .n_chunks = (uint16_t)n_chunks,
					   .len = (uint16_t)n, .bytes = (const uint8_t *)text + off };
		size_t flen = vg_cmsg_attrs_encode(&a, buf, sizeof(buf));

		if (flen)
			vg_net_broadcast(cs->net, VG_MSG_ATTRS, buf, flen);
	}
	free(text);
}

static void attrs_saved_cb(void *arg, const struct vg_child_result *res);

static void attrs_save(struct vg_cstate *cs)
{
	json_t *file = json_pack("{s:I, s:i, s:O}", "version", (json_int_t)cs->attrs_version,
				 "origin", (int)cs->attrs_origin, "attributes", cs->attrs);
	char *text = file ? json_dumps(file, JSON_INDENT(1)) : NULL;
	char *argv[] = { "/bin/sh", "-c",
			 "mkdir -p \"$1\" && cat > \"$1/attrs.json.tmp\" && "
			 "mv \"$1/attrs.json.tmp\" \"$1/attrs.json\"",
			 "vigild-attrs", cs->attrs_dir, NULL };
	struct vg_spawn req = { .path = argv[0], .argv = argv, .timeout_ms = 10000 };

	json_decref(file);
	if (!text)
		return;
	if (cs->attrs_saving) {
		cs->attrs_save_pending = 1;
		free(text);
		return;
	}
	req.stdin_data = text;
	req.stdin_len = strlen(text);
	/* Written by a child: disk I/O never runs on the loop. */
	if (vg_loop_spawn(cs->loop, &req, attrs_saved_cb, cs, NULL, NULL) == 0)
		cs->attrs_saving = 1;
	free(text);
}

static void attrs_saved_cb(void *arg, const struct vg_child_result *res)
{
	struct vg_cstate *cs = arg;

	cs->attrs_saving = 0;
	if (!res->exited || res->exit_code)
		vg_logf(cs->log, VG_LOG_ERR, "cstate", "saving attributes in %s failed: %s",
			cs->attrs_dir, res->output);
	if (cs->attrs_save_pending) {
		cs->attrs_save_pending = 0;
		attrs_save(cs);
	}
}

/* Cleanups and restarts the operator asked for, applied to our resources. */
static void attrs_apply_local(struct vg_cstate *cs)
{
	json_t *cleanup = json_object_get(cs->attrs, "cleanup");
	json_t *restart = json_object_get(cs->attrs, "restart");

	for (size_t i = 0; i < cs->n_rsc; i++) {
		struct vg_rsc_local *r = &cs->ex->rsc[i];
		uint64_t c = (uint64_t)json_integer_value(json_object_get(cleanup, r->conf->name));
		uint64_t s = (uint64_t)json_integer_value(json_object_get(restart, r->conf->name));

		if (c > r->cleanup_gen) {
			r->cleanup_gen = c;
			vg_executor_cleanup(cs->ex, (uint32_t)i);
		}
		if (s > r->restart_gen) {
			r->restart_gen = s;
			vg_executor_restart(cs->ex, (uint32_t)i);
		}
	}
}

static void attrs_adopt(struct vg_cstate *cs, json_t *doc, uint64_t version, uint32_t origin)
{
	json_decref(cs->attrs);
	cs->attrs = doc;
	cs->attrs_version = version;
	cs->attrs_origin = origin;
	cs->m->attrs_version = version;
	cs->m->attrs_origin = origin;
	attrs_save(cs);
	attrs_apply_local(cs);
	updated(cs);
}

void vg_cstate_attrs_set(struct vg_cstate *cs, json_t *doc)
{
	uint64_t v = cs->attrs_version;

	for (size_t i = 0; i < cs->n_nodes; i++)
		if (cs->m->mp[i].attrs_version > v)
			v = cs->m->mp[i].attrs_version;
	attrs_adopt(cs, doc, v + 1, cs->m->self);
	vg_logf(cs->log, VG_LOG_INFO, "cstate", "cluster attributes version %llu set here",
		(unsigned long long)cs->attrs_version);
	push_attrs(cs);
}

static void on_attrs(struct vg_cstate *cs, const void *payload, size_t len)
{
	struct vg_cmsg_attrs a;
	size_t per = vg_cmsg_attrs_per_frame();
	json_error_t err;
	json_t *doc;

	if (vg_cmsg_attrs_decode(payload, len, &a) < 0 ||
	    !attrs_newer(a.version, a.origin, cs->attrs_version, cs->attrs_origin))
		return;
	if (a.version != cs->asm_version || a.origin != cs->asm_origin ||
	    a.n_chunks != cs->asm_chunks) {
		free(cs->asm_text);
		free(cs->asm_got);
		cs->asm_text = calloc((size_t)a.n_chunks * per + 1, 1);
		cs->asm_got = calloc(a.n_chunks, 1);
		if (!cs->asm_text || !cs->asm_got)
			return;
		cs->asm_version = a.version;
		cs->asm_origin = a.origin;
		cs->asm_chunks = cs->asm_left = a.n_chunks;
	}
	if (cs->asm_got[a.chunk])
		return;
	memcpy(cs->asm_text + (size_t)a.chunk * per, a.bytes, a.len);
	cs->asm_got[a.chunk] = 1;
	if (--cs->asm_left)
		return;
	doc = json_loads(cs->asm_text, 0, &err);
	cs->asm_version = 0;
	if (!json_is_object(doc)) {
		vg_logf(cs->log, VG_LOG_WARNING, "cstate", "cluster attributes from node %u unreadable: %s",
			a.origin, err.text);
		json_decref(doc);
		return;
	}
	vg_logf(cs->log, VG_LOG_INFO, "cstate", "cluster attributes version %llu from node %u",
		(unsigned long long)a.version, a.origin);
	attrs_adopt(cs, doc, a.version, a.origin);
}

static void attrs_load(struct vg_cstate *cs)
{
	char path[4096];
	json_error_t err;
	json_t *file, *doc;

	snprintf(path, sizeof(path), "%s/attrs.json", cs->attrs_dir);
	file = json_load_file(path, 0, &err);
	doc = json_object_get(file, "attributes");
	if (json_is_object(doc)) {
		cs->attrs = json_incref(doc);
		cs->attrs_version = (uint64_t)json_integer_value(json_object_get(file, "version"));
		cs->attrs_origin = (uint32_t)json_integer_value(json_object_get(file, "origin"));
		vg_logf(cs->log, VG_LOG_INFO, "cstate", "cluster attributes version %llu read from %s",
			(unsigned long long)cs->attrs_version, path);
	} else {
		cs->attrs = json_object();
	}
	json_decref(file);
	cs->m->attrs_version = cs->attrs_version;
	cs->m->attrs_origin = cs->attrs_origin;
}

/* --- hooks --------------------------------------------------------------- */

void vg_cstate_frame(struct vg_cstate *cs, struct vg_peer *p, const struct vg_wire_hdr *hdr,
		     const void *payload)
{
	struct vg_cmsg_req req;

	switch (hdr->type) {
	case VG_MSG_STATE_REQ:
		if (vg_cmsg_req_decode(payload, hdr->payload_len, &req) == 0 && req.to == cs->m->self)
			push_state(cs);
		break;
	case VG_MSG_STATE:
		on_state(cs, p, payload, hdr->payload_len);
		break;
	case VG_MSG_ATTRS_REQ:
		if (vg_cmsg_req_decode(payload, hdr->payload_len, &req) == 0 && req.to == cs->m->self)
			push_attrs(cs);
		break;
	case VG_MSG_ATTRS:
		on_attrs(cs, payload, hdr->payload_len);
		break;
	default:
		break;
	}
}

/* A heartbeat announces versions: ask for what we do not hold, at most twice an interval. */
void vg_cstate_heartbeat(struct vg_cstate *cs, struct vg_peer *p)
{
	size_t i = node_index(cs, p);
	const struct vg_mpeer *mp = &cs->m->mp[i];
	struct vg_node_rstate *ns = &cs->nodes[i];
	uint64_t now = vg_loop_now_ms(cs->loop), gap = 2 * cs->m->interval_ms;

	check_incarnation(cs, ns, p);
	if (mp->state_version != ns->announced) {
		/* the DC waits for announced and held versions to agree: tell it */
		ns->announced = mp->state_version;
		if (ns->announced == ns->version)
			updated(cs);
	}
	if (mp->state_version && (mp->state_version != ns->version || ns->stale) &&
	    now - ns->last_req_ms >= gap) {
		ns->last_req_ms = now;
		vg_logf(cs->log, VG_LOG_DEBUG, "cstate", "node %u (%s) announces state version %llu, we hold %llu%s: asking",
			p->id, p->name, (unsigned long long)mp->state_version,
			(unsigned long long)ns->version, ns->stale ? " (stale)" : "");
		request(cs, VG_MSG_STATE_REQ, p->id, mp->state_version);
	}
	if (attrs_newer(mp->attrs_version, mp->attrs_origin, cs->attrs_version, cs->attrs_origin) &&
	    now - cs->attrs_last_req_ms >= gap) {
		cs->attrs_last_req_ms = now;
		request(cs, VG_MSG_ATTRS_REQ, p->id, mp->attrs_version);
	}
}

void vg_cstate_view_changed(struct vg_cstate *cs)
{
	for (size_t i = 0; i < cs->n_nodes; i++) {
		struct vg_node_rstate *ns = &cs->nodes[i];
		const struct vg_peer *p = &cs->net->peers[i];
		int member = vg_view_contains(&cs->m->view, p->id);

		if (member && !ns->was_member && i != cs->self) {
			ns->stale = 1;
			ns->last_req_ms = vg_loop_now_ms(cs->loop);
			request(cs, VG_MSG_STATE_REQ, p->id, 0);
		}
		ns->was_member = member;
	}
}

int vg_cstate_synced(const struct vg_cstate *cs)
{
	for (uint16_t i = 0; i < cs->m->view.n_members; i++) {
		struct vg_peer *p = vg_net_peer(cs->net, cs->m->view.members[i]);
		size_t n = p ? node_index(cs, p) : 0;

		if (!p)
			return 0;
		if (!cs->nodes[n].probed || cs->nodes[n].stale)
			return 0;
		if (n != cs->self && cs->m->mp[n].state_version != cs->nodes[n].version)
			return 0;
	}
	return 1;
}

int vg_cstate_start(struct vg_cstate *cs, const struct vg_config *cfg, struct vg_net *net,
		    struct vg_membership *m, struct vg_executor *ex, struct vg_loop *loop,
		    const struct vg_logger *log)
{
	memset(cs, 0, sizeof(*cs));
	*cs = (struct vg_cstate){ .loop = loop, .log = log, .cfg = cfg, .net = net, .m = m,
				  .ex = ex, .n_nodes = net->n_peers, .n_rsc = cfg->n_resources };
	cs->self = (size_t)(vg_net_peer(net, net->self_id) - net->peers);
	cs->nodes = calloc(cs->n_nodes, sizeof(*cs->nodes));
	if (!cs->nodes)
		return -ENOMEM;
	for (size_t i = 0; i < cs->n_nodes; i++) {
		cs->nodes[i].rsc = calloc(cs->n_rsc ? cs->n_rsc : 1, sizeof(*cs->nodes[i].rsc));
		cs->nodes[i].last = calloc(cs->n_rsc ? cs->n_rsc : 1, sizeof(*cs->nodes[i].last));
		if (!cs->nodes[i].rsc || !cs->nodes[i].last)
			return -ENOMEM;
		for (size_t r = 0; r < cs->n_rsc; r++)
			cs->nodes[i].rsc[r].role = VG_ROLE_UNKNOWN;
	}
	cs->attrs_dir = strdup(ex->state_path);
	if (!cs->attrs_dir)
		return -ENOMEM;
	attrs_load(cs);
	attrs_apply_local(cs);
	return 0;
}

void vg_cstate_stop(struct vg_cstate *cs)
{
	for (size_t i = 0; cs->nodes && i < cs->n_nodes; i++) {
		free(cs->nodes[i].rsc);
		free(cs->nodes[i].last);
		free(cs->nodes[i].asm_rsc);
		free(cs->nodes[i].asm_last);
		free(cs->nodes[i].asm_got);
	}
	free(cs->nodes);
	json_decref(cs->attrs);
	free(cs->attrs_dir);
	free(cs->asm_text);
	free(cs->asm_got);
	memset(cs, 0, sizeof(*cs));
}

int vg_attrs_standby(const json_t *attrs, const char *node)
{
	return json_is_true(json_object_get(json_object_get(attrs, "standby"), node));
}

int vg_attrs_maintenance(const json_t *attrs)
{
	return json_is_true(json_object_get(attrs, "maintenance"));
}
