/*
 * The frame layer between transports and membership: one sequence counter
 * per incarnation, every frame sent on every link, every received frame
 * authenticated (wire.c), deduplicated across links, counted per reason,
 * and each peer's liveness tracked per link.
 */
#ifndef VG_CORE_NET_H
#define VG_CORE_NET_H

#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define VG_MAX_LINKS 8
#define VG_MAX_NODES 256

struct vg_loop;
struct vg_config;
struct vg_logger;
struct vg_plugin_inst;

/* One peer as seen on one link. */
struct vg_link_peer {
	uint64_t last_heard_ms;    /* 0: never heard on this link */
	uint64_t frames;           /* authenticated frames received on this link */
	struct vg_replay replay;   /* per link: a copy is fresh on this link once */
	int up;                    /* heard within the dead time */
	int reported_down;         /* the transport said the path is gone (until a frame comes) */
};

struct vg_peer {
	uint32_t id;
	const char *name;          /* borrowed from the configuration */
	uint32_t votes;
	int is_local;
	uint64_t incarnation;      /* current, 0: never heard */
	uint64_t first_seq;        /* first sequence heard in this incarnation */
	uint64_t last_heard_ms;    /* any link */
	struct vg_replay replay;   /* across links: each frame acted on once */
	struct vg_link_peer link[VG_MAX_LINKS];
	void *mship;               /* membership's per-peer state */
};

/* Non-wire reasons a verified frame is dropped. */
struct vg_net_drops {
	uint64_t self;             /* our own frame (multicast loop) */
	uint64_t unknown_node;     /* MAC fine, node id not in the configuration */
	uint64_t send_errors;      /* a link's send() failed */
};

typedef void (*vg_net_frame_cb)(void *arg, struct vg_peer *from, uint32_t link,
				const struct vg_wire_hdr *hdr, const void *payload);

struct vg_net {
	const struct vg_logger *log;
	struct vg_loop *loop;
	struct vg_wire_key key;
	uint32_t cluster_id;
	uint32_t self_id;
	uint64_t incarnation;
	uint64_t next_seq;
	struct vg_plugin_inst **links;  /* borrowed */
	size_t n_links;
	const char *link_names[VG_MAX_LINKS];
	struct vg_peer *peers;          /* one per configured node, config order */
	size_t n_peers;
	struct vg_wire_stats stats;
	struct vg_net_drops drops;
	vg_net_frame_cb on_frame;       /* accepted, fresh frames */
	void (*on_link_down)(void *arg); /* a transport reported a path gone */
	void *arg;
};

/* `key` bytes are not kept.  Peers are made from the configuration's nodes. */
int vg_net_init(struct vg_net *net, const struct vg_config *cfg, uint32_t self_id,
		const void *key, size_t key_len, struct vg_loop *loop,
		const struct vg_logger *log);
void vg_net_free(struct vg_net *net);
void vg_net_set_links(struct vg_net *net, struct vg_plugin_inst **links, size_t n_links);

/* Encode once with the next sequence and send on every link to every node. */
int vg_net_broadcast(struct vg_net *net, uint8_t type, const void *payload, size_t len);

/* The host's frame_received callback (struct vg_host_env.frame_received). */
void vg_net_frame_received(void *arg, uint32_t link, const void *frame, size_t len,
			   uint32_t from_node);

/*
 * The host's link_state callback: a connection-oriented transport (tls,
 * serial) says its path to a node went down, sooner than heartbeats could.
 */
void vg_net_link_state(void *arg, uint32_t link, uint32_t node_id, int up);

struct vg_peer *vg_net_peer(struct vg_net *net, uint32_t id);

/* Loss over the last 64 sequences of the peer, on one link, in percent. */
unsigned vg_net_link_loss_pct(const struct vg_peer *p, uint32_t link);

#endif
