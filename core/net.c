/* The frame layer: authenticate once, deduplicate across links, track links. */
#include "net.h"
#include "config.h"
#include "host.h"
#include "log.h"
#include "loop.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t new_incarnation(void)
{
	struct timespec ts;

	/* Wall-clock microseconds: larger at every start, across reboots too. */
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int vg_net_init(struct vg_net *net, const struct vg_config *cfg, uint32_t self_id,
		const void *key, size_t key_len, struct vg_loop *loop,
		const struct vg_logger *log)
{
	int rc;

	memset(net, 0, sizeof(*net));
	net->log = log;
	net->loop = loop;
	net->cluster_id = cfg->cluster_id;
	net->self_id = self_id;
	net->incarnation = new_incarnation();
	net->next_seq = 1;
	rc = vg_wire_key_init(&net->key, key, key_len);
	if (rc < 0)
		return rc;
	net->peers = calloc(cfg->n_nodes, sizeof(*net->peers));
	if (!net->peers) {
		vg_wire_key_free(&net->key);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cfg->n_nodes; i++) {
		net->peers[i].id = cfg->nodes[i].id;
		net->peers[i].name = cfg->nodes[i].name;
		net->peers[i].votes = cfg->nodes[i].votes;
		net->peers[i].is_local = cfg->nodes[i].id == self_id;
	}
	net->n_peers = cfg->n_nodes;
	for (size_t i = 0; i < cfg->n_links && i < VG_MAX_LINKS; i++)
		net->link_names[i] = cfg->links[i].name;
	return 0;
}

void vg_net_free(struct vg_net *net)
{
	vg_wire_key_free(&net->key);
	free(net->peers);
	net->peers = NULL;
}

void vg_net_set_links(struct vg_net *net, struct vg_plugin_inst **links, size_t n_links)
{
	net->links = links;
	net->n_links = n_links < VG_MAX_LINKS ? n_links : VG_MAX_LINKS;
}

struct vg_peer *vg_net_peer(struct vg_net *net, uint32_t id)
{
	for (size_t i = 0; i < net->n_peers; i++)
		if (net->peers[i].id == id)
			return &net->peers[i];
	return NULL;
}

int vg_net_broadcast(struct vg_net *net, uint8_t type, const void *payload, size_t len)
{
	struct vg_wire_hdr hdr = { .type = type, .cluster_id = net->cluster_id,
				   .node_id = net->self_id, .incarnation = net->incarnation,
				   .seq = net->next_seq };
	uint8_t frame[VG_WIRE_MAX_FRAME];
	size_t frame_len;
	int rc, sent = 0;

	rc = vg_wire_encode(&net->key, &hdr, payload, len, frame, sizeof(frame), &frame_len);
	if (rc < 0)
		return rc;
	net->next_seq++;
	for (size_t i = 0; i < net->n_links; i++) {
		rc = vg_plugin_inst_send(net->links[i], VG_NODE_ALL, frame, frame_len);
		if (rc < 0)
			net->drops.send_errors++;
		else
			sent++;
	}
	return sent > 0 || net->n_links == 0 ? 0 : -EIO;
}

/*
 * A newer incarnation is a restart of the peer.  Only called for a frame
 * that is authenticated and newer than anything heard from the peer; the
 * replay windows reset themselves when they see the larger incarnation.
 */
static void peer_restarted(struct vg_net *net, struct vg_peer *p, uint64_t incarnation,
			   uint64_t seq)
{
	if (p->incarnation)
		vg_logf(net->log, VG_LOG_NOTICE, "membership",
			"node %u (%s) restarted: incarnation %llu -> %llu", p->id, p->name,
			(unsigned long long)p->incarnation, (unsigned long long)incarnation);
	p->incarnation = incarnation;
	p->first_seq = seq;
}

void vg_net_frame_received(void *arg, uint32_t link, const void *frame, size_t len,
			   uint32_t from_node)
{
	struct vg_net *net = arg;
	struct vg_wire_hdr hdr;
	const void *payload;
	struct vg_peer *p;
	int rc;

	rc = vg_wire_decode(&net->key, net->cluster_id, frame, len, &hdr, &payload);
	if (rc < 0)
		goto drop;
	if (hdr.node_id == net->self_id) {
		net->drops.self++;
		return;
	}
	p = vg_net_peer(net, hdr.node_id);
	if (!p || link >= VG_MAX_LINKS) {
		net->drops.unknown_node++;
		return;
	}
	/* An old incarnation's frame is a replay: it must not touch anything. */
	if (hdr.incarnation < p->incarnation) {
		rc = -VG_WIRE_DROP_OLD_INCARNATION;
		goto drop;
	}
	/* Fresh on this link keeps the link alive; a copy on the same link is a replay. */
	rc = vg_replay_check(&p->link[link].replay, hdr.incarnation, hdr.seq);
	if (rc == -VG_WIRE_DROP_DUPLICATE)
		rc = -VG_WIRE_DROP_REPLAYED;
	if (rc < 0)
		goto drop;
	if (hdr.incarnation > p->incarnation)
		peer_restarted(net, p, hdr.incarnation, hdr.seq);
	p->link[link].last_heard_ms = vg_loop_now_ms(net->loop);
	p->link[link].reported_down = 0;
	p->link[link].frames++;
	p->last_heard_ms = p->link[link].last_heard_ms;
	/* The same frame came first on another link: counted, not acted on twice. */
	rc = vg_replay_check(&p->replay, hdr.incarnation, hdr.seq);
	if (rc < 0)
		goto drop;
	vg_wire_stats_count(&net->stats, 0);
	if (net->on_frame)
		net->on_frame(net->arg, p, link, &hdr, payload);
	return;
drop:
	vg_wire_stats_count(&net->stats, rc);
}

void vg_net_link_state(void *arg, uint32_t link, uint32_t node_id, int up)
{
	struct vg_net *net = arg;
	struct vg_peer *p = vg_net_peer(net, node_id);

	/* Up needs no news: the next frame brings the link up. */
	if (!p || up || link >= VG_MAX_LINKS || p->link[link].reported_down)
		return;
	p->link[link].reported_down = 1;
	if (net->on_link_down)
		net->on_link_down(net->arg);
}

unsigned vg_net_link_loss_pct(const struct vg_peer *p, uint32_t link)
{
	const struct vg_replay *g = &p->replay, *l = &p->link[link].replay;
	uint64_t span, shift, mask;
	unsigned seen;

	if (g->top_seq == 0 || p->incarnation == 0)
		return 0;
	span = g->top_seq - p->first_seq + 1;
	if (span > 64)
		span = 64;
	if (l->incarnation != g->incarnation || l->top_seq == 0)
		return 100;
	shift = g->top_seq - l->top_seq;
	if (shift >= span)
		return 100;
	mask = span - shift >= 64 ? ~0ull : ((1ull << (span - shift)) - 1);
	seen = (unsigned)__builtin_popcountll(l->bitmap & mask);
	return (unsigned)(100 - (seen * 100) / span);
}
