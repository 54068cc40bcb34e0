/* Membership: heartbeats, dead-time detection, views proposed by the lowest id. */
#include "membership.h"
#include "config.h"
#include "log.h"
#include "loop.h"
#include "wire.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DIGEST_LEN 32
/* Heartbeat flags. */
#define HB_F_QUORATE  (1u << 0)
#define HB_F_ALL_SEEN (1u << 1)
#define HB_F_SHUTDOWN (1u << 2)

static struct vg_mpeer *mpeer(const struct vg_membership *m, const struct vg_peer *p)
{
	return &m->mp[p - m->net->peers];
}

static struct vg_peer *peer_by_id(const struct vg_membership *m, uint32_t id)
{
	return vg_net_peer(m->net, id);
}

static const char *name_of(const struct vg_membership *m, uint32_t id)
{
	struct vg_peer *p = peer_by_id(m, id);

	return p ? p->name : "?";
}

int vg_view_contains(const struct vg_view *v, uint32_t id)
{
	for (uint16_t i = 0; i < v->n_members; i++)
		if (v->members[i] == id)
			return 1;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* The nodes this node can hear now (itself included), ascending. */
static void reachable(const struct vg_membership *m, struct vg_view *r)
{
	r->n_members = 0;
	for (size_t i = 0; i < m->net->n_peers; i++) {
		const struct vg_peer *p = &m->net->peers[i];

		if (p->is_local || (m->mp[i].alive && m->mp[i].config_ok))
			r->members[r->n_members++] = p->id;
	}
	qsort(r->members, r->n_members, sizeof(r->members[0]), cmp_u32);
}

static int same_members(const struct vg_view *a, const struct vg_view *b)
{
	return a->n_members == b->n_members &&
	       memcmp(a->members, b->members, a->n_members * sizeof(a->members[0])) == 0;
}

static void send_heartbeat(struct vg_membership *m)
{
	uint8_t buf[VG_WIRE_MAX_PAYLOAD];
	struct vg_wbuf w;
	uint8_t flags = (m->q.quorate ? HB_F_QUORATE : 0) | (m->all_seen ? HB_F_ALL_SEEN : 0) |
			(m->shutting_down ? HB_F_SHUTDOWN : 0);

	vg_wbuf_init(&w, buf, sizeof(buf));
	vg_wbuf_put_bytes(&w, m->digest, DIGEST_LEN);
	vg_wbuf_put_u64(&w, m->view.id);
	vg_wbuf_put_u32(&w, m->view.owner);
	vg_wbuf_put_u8(&w, flags);
	vg_wbuf_put_u8(&w, 0);
	vg_wbuf_put_u16(&w, m->view.n_members);
	for (uint16_t i = 0; i < m->view.n_members; i++)
		vg_wbuf_put_u32(&w, m->view.members[i]);
	vg_wbuf_put_u64(&w, m->local_state_version);
	vg_wbuf_put_u64(&w, m->attrs_version);
	vg_wbuf_put_u32(&w, m->attrs_origin);
	if (w.err == 0)
		vg_net_broadcast(m->net, VG_MSG_HEARTBEAT, buf, w.len);
}

static void format_members(const struct vg_membership *m, const uint32_t *ids, size_t n,
			   char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? " " : "",
					name_of(m, ids[i]));
}

/* Members of `a` that are not in `b`. */
static size_t view_minus(const struct vg_view *a, const struct vg_view *b, uint32_t *out)
{
	size_t n = 0;

	for (uint16_t i = 0; i < a->n_members; i++)
		if (!vg_view_contains(b, a->members[i]))
			out[n++] = a->members[i];
	return n;
}

static void log_view(struct vg_membership *m, const struct vg_view *old)
{
	uint32_t joined[VG_MAX_NODES] = { 0 }, left[VG_MAX_NODES] = { 0 };
	size_t nj = view_minus(&m->view, old, joined), nl = view_minus(old, &m->view, left);
	char all[1024], js[512], ls[512];

	format_members(m, m->view.members, m->view.n_members, all, sizeof(all));
	format_members(m, joined, nj, js, sizeof(js));
	format_members(m, left, nl, ls, sizeof(ls));
	vg_logf(m->log, VG_LOG_NOTICE, "membership", "view %llu from node %u (%s): [%s]%s%s%s%s",
		(unsigned long long)m->view.id, m->view.owner, name_of(m, m->view.owner), all,
		nj ? "; joined: " : "", nj ? js : "", nl ? "; left: " : "", nl ? ls : "");
}

static void update_quorum(struct vg_membership *m)
{
	struct vg_quorum old = m->q;
	uint32_t votes = 0, dc;

	for (uint16_t i = 0; i < m->view.n_members; i++) {
		struct vg_peer *p = peer_by_id(m, m->view.members[i]);

		votes += p ? p->votes : 0;
	}
	if (!m->all_seen && m->view.n_members == m->net->n_peers) {
		m->all_seen = 1;
		if (m->qc.wait_for_all)
			vg_logf(m->log, VG_LOG_NOTICE, "quorum",
				"every node has been seen: wait_for_all satisfied");
	}
	m->q = vg_quorum_compute(&m->qc, votes, m->all_seen);
	if (m->q.quorate != old.quorate || m->views_installed == 1)
		vg_logf(m->log, m->q.quorate ? VG_LOG_NOTICE : VG_LOG_WARNING, "quorum",
			"%s quorum: %u of %u expected votes, %u needed%s",
			m->q.quorate ? "partition has" : "partition has no", m->q.votes,
			m->q.expected, m->q.needed,
			m->q.waiting_for_all ? " (wait_for_all: not every node seen yet)" : "");
	dc = m->q.quorate && m->view.n_members ? m->view.members[0] : 0;
	if (dc != m->dc) {
		if (dc)
			vg_logf(m->log, VG_LOG_NOTICE, "membership", "DC is node %u (%s)%s", dc,
				name_of(m, dc), dc == m->self ? " (this node)" : "");
		else
			vg_logf(m->log, VG_LOG_WARNING, "membership", "no DC: partition without quorum");
		m->dc = dc;
	}
}

static void install(struct vg_membership *m, const struct vg_view *v)
{
	struct vg_view old = m->view;

	m->view = *v;
	if (v->id > m->max_view_seen)
		m->max_view_seen = v->id;
	m->views_installed++;
	for (uint16_t i = 0; i < v->n_members; i++) {
		struct vg_peer *p = peer_by_id(m, v->members[i]);

		if (p) {
			mpeer(m, p)->ever_member = 1;
			mpeer(m, p)->member_inc = p->incarnation;
		}
	}
	log_view(m, &old);
	update_quorum(m);
	if (m->on_change)
		m->on_change(m->arg);
}

static uint32_t lowest_reachable(const struct vg_membership *m, struct vg_view *r)
{
	reachable(m, r);
	return r->members[0]; /* never empty: this node is in it */
}

/* The lowest reachable id proposes; once the join delay is over. */
static void maybe_propose(struct vg_membership *m)
{
	struct vg_view r;

	if (lowest_reachable(m, &r) != m->self)
		return;
	if (vg_loop_now_ms(m->loop) - m->start_ms < m->deadtime_ms)
		return;
	if (m->view.owner == m->self && same_members(&m->view, &r))
		return;
	r.id = (m->max_view_seen > m->view.id ? m->max_view_seen : m->view.id) + 1;
	r.owner = m->self;
	install(m, &r);
	send_heartbeat(m); /* announce now, not at the next tick */
}

/* Others adopt the newer view of the lowest reachable node, if it has them in it. */
static void maybe_adopt(struct vg_membership *m)
{
	struct vg_view r;
	uint32_t low = lowest_reachable(m, &r);
	struct vg_mpeer *lp;

	if (low == m->self)
		return;
	lp = mpeer(m, peer_by_id(m, low));
	if (lp->announced.owner != low || lp->announced.id <= m->view.id ||
	    !vg_view_contains(&lp->announced, m->self))
		return;
	install(m, &lp->announced);
}

static void link_check(struct vg_membership *m, struct vg_peer *p, size_t l, uint64_t now)
{
	struct vg_link_peer *lp = &p->link[l];
	int up = !lp->reported_down && lp->last_heard_ms && now - lp->last_heard_ms <= m->deadtime_ms;

	if (up == lp->up)
		return;
	lp->up = up;
	if (up)
		vg_logf(m->log, VG_LOG_INFO, "membership", "link %zu (%s) to node %u (%s) up", l,
			m->net->link_names[l], p->id, p->name);
	else
		vg_logf(m->log, VG_LOG_WARNING, "membership",
			"link %zu (%s) to node %u (%s) down%s, last heard %llu ms ago", l,
			m->net->link_names[l], p->id, p->name,
			lp->reported_down ? " (the transport lost its connection)" : "",
			(unsigned long long)(now - lp->last_heard_ms));
}

static void liveness_check(struct vg_membership *m, struct vg_peer *p, uint64_t now)
{
	struct vg_mpeer *mp = mpeer(m, p);
	int alive = !mp->left && mp->heard && p->last_heard_ms &&
		    now - p->last_heard_ms <= m->deadtime_ms;

	for (size_t l = 0; l < m->net->n_links; l++)
		link_check(m, p, l, now);
	if (alive == mp->alive)
		return;
	mp->alive = alive;
	if (alive)
		vg_logf(m->log, VG_LOG_INFO, "membership", "node %u (%s) is alive", p->id, p->name);
	else if (!mp->left)
		vg_logf(m->log, VG_LOG_WARNING, "membership",
			"node %u (%s) lost on all links, last heard %llu ms ago", p->id, p->name,
			(unsigned long long)(now - p->last_heard_ms));
}

/* A check that runs this late waits one loop turn: frames may be queued. */
#define CHECK_LATE_MS 5

static void check_cb(void *arg);

/* The first moment a peer, or one of its links, falls silent for the dead time. */
static uint64_t next_deadline(const struct vg_membership *m)
{
	uint64_t due = 0;

	for (size_t i = 0; i < m->net->n_peers; i++) {
		const struct vg_peer *p = &m->net->peers[i];

		if (p->is_local)
			continue;
		for (size_t l = 0; l < m->net->n_links; l++)
			if (p->link[l].up && (!due || p->link[l].last_heard_ms + m->deadtime_ms + 1 < due))
				due = p->link[l].last_heard_ms + m->deadtime_ms + 1;
		if (m->mp[i].alive && (!due || p->last_heard_ms + m->deadtime_ms + 1 < due))
			due = p->last_heard_ms + m->deadtime_ms + 1;
	}
	return due;
}

/*
 * One timer at the next deadline, not a periodic scan: a silent peer is
 * declared lost within a millisecond of its dead time.  Frames only move
 * deadlines later, so a timer that fires early just looks again.
 */
static void arm_check(struct vg_membership *m)
{
	uint64_t due = next_deadline(m), now = vg_loop_now_ms(m->loop);

	if (m->check && due && m->check_due_ms <= due)
		return;
	vg_loop_timer_stop(m->loop, m->check);
	m->check = NULL;
	if (!due)
		return;
	m->check_due_ms = due;
	vg_loop_timer_start(m->loop, due > now ? due - now : 0, 0, check_cb, m, NULL, &m->check);
}

static void evaluate(struct vg_membership *m)
{
	uint64_t now = vg_loop_now_ms(m->loop);

	for (size_t i = 0; i < m->net->n_peers; i++)
		if (!m->net->peers[i].is_local)
			liveness_check(m, &m->net->peers[i], now);
	maybe_propose(m);
	maybe_adopt(m);
	arm_check(m);
}

static void tick_cb(void *arg)
{
	struct vg_membership *m = arg;

	/* No verdict on liveness here: check_cb gives it, at the deadline. */
	maybe_propose(m);
	maybe_adopt(m);
	send_heartbeat(m);
}

static void check_cb(void *arg)
{
	struct vg_membership *m = arg;
	uint64_t now = vg_loop_now_ms(m->loop);

	m->check = NULL;
	/* The loop was held up: let it read what waits in the sockets first. */
	if (now > m->check_due_ms + CHECK_LATE_MS && !m->check_deferred) {
		m->check_deferred = 1;
		m->check_due_ms = now;
		vg_loop_timer_start(m->loop, 0, 0, check_cb, m, NULL, &m->check);
		return;
	}
	m->check_deferred = 0;
	evaluate(m);
}

static void hex8(const unsigned char *d, char *out)
{
	for (int i = 0; i < 4; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

static void check_digest(struct vg_membership *m, struct vg_peer *p, struct vg_mpeer *mp,
			 const unsigned char *digest)
{
	int ok = memcmp(digest, m->digest, DIGEST_LEN) == 0;
	char theirs[9], ours[9];

	if (ok == mp->config_ok && mp->heard)
		return;
	hex8(digest, theirs);
	hex8(m->digest, ours);
	if (!ok)
		vg_logf(m->log, VG_LOG_ERR, "membership",
			"node %u (%s) runs a different cluster configuration (digest %s..., ours %s...): not admitted",
			p->id, p->name, theirs, ours);
	else if (mp->heard)
		vg_logf(m->log, VG_LOG_NOTICE, "membership",
			"node %u (%s) now runs the same cluster configuration", p->id, p->name);
	mp->config_ok = ok;
}

static int parse_heartbeat(const void *payload, size_t len, const unsigned char **digest,
			   struct vg_view *v, int *flags, struct vg_mpeer *versions)
{
	struct vg_rbuf r;

	vg_rbuf_init(&r, payload, len);
	*digest = vg_rbuf_get_ref(&r, DIGEST_LEN);
	v->id = vg_rbuf_get_u64(&r);
	v->owner = vg_rbuf_get_u32(&r);
	*flags = vg_rbuf_get_u8(&r);
	vg_rbuf_get_u8(&r);
	v->n_members = vg_rbuf_get_u16(&r);
	if (r.err || v->n_members > VG_MAX_NODES)
		return -EBADMSG;
	for (uint16_t i = 0; i < v->n_members; i++)
		v->members[i] = vg_rbuf_get_u32(&r);
	if (r.err)
		return -EBADMSG;
	if (vg_rbuf_remaining(&r) >= 20) {
		versions->state_version = vg_rbuf_get_u64(&r);
		versions->attrs_version = vg_rbuf_get_u64(&r);
		versions->attrs_origin = vg_rbuf_get_u32(&r);
	}
	/* Bytes after the known fields are a later version's: ignored. */
	return r.err ? -EBADMSG : 0;
}

static void on_heartbeat(struct vg_membership *m, struct vg_peer *p, const void *payload,
			 size_t len)
{
	struct vg_mpeer *mp = mpeer(m, p);
	const unsigned char *digest;
	struct vg_view v;
	int flags;

	if (parse_heartbeat(payload, len, &digest, &v, &flags, mp) < 0) {
		vg_logf(m->log, VG_LOG_WARNING, "membership",
			"node %u (%s): malformed heartbeat of %zu bytes dropped", p->id, p->name, len);
		return;
	}
	check_digest(m, p, mp, digest);
	mp->heard = 1;
	mp->left = 0;
	mp->quorate = flags & HB_F_QUORATE;
	if (!!(flags & HB_F_SHUTDOWN) != mp->shutting_down) {
		mp->shutting_down = !!(flags & HB_F_SHUTDOWN);
		if (mp->shutting_down)
			vg_logf(m->log, VG_LOG_NOTICE, "membership", "node %u (%s) is shutting down",
				p->id, p->name);
		if (m->on_change)
			m->on_change(m->arg);
	}
	mp->announced = v;
	if (v.id > m->max_view_seen)
		m->max_view_seen = v.id;
	if (!mp->alive && mp->config_ok) {
		mp->alive = 1;
		vg_logf(m->log, VG_LOG_INFO, "membership", "node %u (%s) is alive", p->id, p->name);
	}
	/* links came up with this frame: their deadlines count from now */
	for (size_t l = 0; l < m->net->n_links; l++)
		link_check(m, p, l, vg_loop_now_ms(m->loop));
	arm_check(m);
	maybe_propose(m);
	maybe_adopt(m);
	if (m->on_heartbeat && mp->config_ok)
		m->on_heartbeat(m->hook_arg, p);
}

static void on_frame(void *arg, struct vg_peer *p, uint32_t link, const struct vg_wire_hdr *hdr,
		     const void *payload)
{
	struct vg_membership *m = arg;
	struct vg_mpeer *mp = mpeer(m, p);

	switch (hdr->type) {
	case VG_MSG_HEARTBEAT:
		on_heartbeat(m, p, payload, hdr->payload_len);
		break;
	case VG_MSG_LEAVE:
		if (mp->left)
			break;
		mp->left = 1;
		mp->alive = 0;
		vg_logf(m->log, VG_LOG_NOTICE, "membership", "node %u (%s) left the cluster",
			p->id, p->name);
		maybe_propose(m);
		maybe_adopt(m);
		break;
	default:
		/* Only peers running our configuration may speak about resources. */
		if (m->on_frame && mp->config_ok && mp->heard)
			m->on_frame(m->hook_arg, p, hdr, payload);
		else
			vg_logf(m->log, VG_LOG_DEBUG, "membership",
				"node %u (%s): frame type %u ignored", p->id, p->name, hdr->type);
		break;
	}
}

static void on_link_down(void *arg)
{
	evaluate(arg);
}

int vg_membership_start(struct vg_membership *m, const struct vg_config *cfg, struct vg_net *net,
			struct vg_loop *loop, const struct vg_logger *log)
{
	int rc;

	memset(m, 0, sizeof(*m));
	m->log = log;
	m->loop = loop;
	m->net = net;
	m->digest = cfg->digest;
	m->self = net->self_id;
	m->interval_ms = cfg->interval_ms;
	m->deadtime_ms = cfg->deadtime_ms;
	m->qc = (struct vg_quorum_conf){ .expected_votes = cfg->expected_votes,
					 .two_node = cfg->two_node,
					 .wait_for_all = cfg->wait_for_all };
	for (size_t i = 0; i < cfg->n_nodes; i++)
		m->qc.total_votes += cfg->nodes[i].votes;
	m->mp = calloc(net->n_peers ? net->n_peers : 1, sizeof(*m->mp));
	if (!m->mp)
		return -ENOMEM;
	m->start_ms = vg_loop_now_ms(loop);
	m->q = vg_quorum_compute(&m->qc, 0, 0);
	net->on_frame = on_frame;
	net->on_link_down = on_link_down;
	net->arg = m;
	vg_logf(log, VG_LOG_NOTICE, "membership",
		"joining: heartbeat every %u ms, dead time %u ms, incarnation %llu", m->interval_ms,
		m->deadtime_ms, (unsigned long long)net->incarnation);
	rc = vg_loop_timer_start(loop, 0, m->interval_ms, tick_cb, m, NULL, &m->tick);
	if (rc < 0) {
		vg_loop_timer_stop(loop, m->tick);
		free(m->mp);
		m->mp = NULL;
	}
	return rc;
}

void vg_membership_announce(struct vg_membership *m)
{
	send_heartbeat(m);
}

void vg_membership_stop(struct vg_membership *m)
{
	if (!m->mp)
		return;
	vg_net_broadcast(m->net, VG_MSG_LEAVE, NULL, 0);
	vg_loop_timer_stop(m->loop, m->tick);
	vg_loop_timer_stop(m->loop, m->check);
	m->tick = m->check = NULL;
	m->net->on_frame = NULL;
	free(m->mp);
	m->mp = NULL;
}

enum vg_node_state vg_membership_node_state(const struct vg_membership *m, const struct vg_peer *p)
{
	const struct vg_mpeer *mp = &m->mp[p - m->net->peers];

	if (p->is_local)
		return vg_view_contains(&m->view, p->id) ? VG_NODE_STATE_MEMBER : VG_NODE_STATE_JOINING;
	if (mp->heard && !mp->config_ok)
		return VG_NODE_STATE_MISMATCH;
	if (mp->left)
		return VG_NODE_STATE_LEFT;
	if (mp->alive)
		return vg_view_contains(&m->view, p->id) ? VG_NODE_STATE_MEMBER : VG_NODE_STATE_JOINING;
	return mp->heard ? VG_NODE_STATE_LOST : VG_NODE_STATE_OFFLINE;
}

const char *vg_node_state_name(enum vg_node_state s)
{
	switch (s) {
	case VG_NODE_STATE_OFFLINE: return "offline";
	case VG_NODE_STATE_JOINING: return "joining";
	case VG_NODE_STATE_MEMBER: return "member";
	case VG_NODE_STATE_LOST: return "lost";
	case VG_NODE_STATE_LEFT: return "left";
	case VG_NODE_STATE_MISMATCH: return "config-mismatch";
	case VG_NODE_STATE_INVALID: break;
	}
	return "invalid";
}
