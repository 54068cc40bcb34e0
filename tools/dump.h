/*
 * vigildump internals: packet parsing (dump_packet.c), frame decoding and
 * the per-frame line (dump_frame.c), statistics (dump_stats.c) and the
 * summary (dump_summary.c).  One context, struct vigildump, owns all state.
 */
#ifndef VIGIL_TOOLS_DUMP_H
#define VIGIL_TOOLS_DUMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>

#include "wire.h"

/* An IPv4 or IPv6 address as seen on the wire (network byte order). */
struct dump_addr {
	int af;			/* AF_INET or AF_INET6 */
	uint8_t a[16];		/* 4 bytes used for AF_INET */
};

/* One UDP datagram found in a captured packet.  `payload` is borrowed. */
struct dump_pkt {
	struct timeval ts;
	struct dump_addr src, dst;
	uint16_t sport, dport;
	const uint8_t *payload;
	size_t len;		/* captured payload bytes */
};

/*
 * Find the UDP payload in a packet of link type `dlt`.  Returns 0, or
 * -ENOENT for anything that is not a (first fragment of a) UDP datagram
 * over IPv4/IPv6, -EPROTONOSUPPORT for an unsupported link type.
 */
int dump_pkt_parse(int dlt, const uint8_t *data, size_t caplen,
		   struct dump_pkt *pkt);
/* Whether vigildump understands link type `dlt`. */
int dump_dlt_supported(int dlt);
/* The address as text (inet_ntop) into buf. */
void dump_addr_format(const struct dump_addr *a, char *buf, size_t len);
int dump_addr_equal(const struct dump_addr *a, const struct dump_addr *b);

/* Set of sequence numbers: a bitmap from `base`, grown on demand. */
struct dump_seqset {
	uint64_t base;		/* seq of bit 0 */
	uint8_t *bits;		/* malloc'd, nbytes long */
	size_t nbytes;
	uint64_t count;		/* distinct seqs in the set */
};

/* Inter-arrival times, milliseconds; `v` malloc'd. */
struct dump_series {
	double *v;
	size_t n, cap;
};

/* (sender, src ip, dst ip or group): one link of one sender incarnation. */
struct dump_link {
	struct dump_addr src, dst;
	uint64_t frames;	/* accepted frames on this link */
	uint64_t duplicates;	/* same seq twice on this link */
	uint64_t heartbeats;
	struct timeval last_hb;	/* arrival of the last heartbeat, 0 none */
	struct dump_seqset seqs;
	struct dump_series hb_ms;
};

/* One incarnation of one node, as far as the capture shows it. */
struct dump_sender {
	uint32_t node_id;
	uint64_t incarnation;
	uint64_t frames;	/* frames claiming to be from it */
	uint64_t mac_ok, mac_bad;
	uint64_t accepted;	/* frames counted in seqs (mac ok, or no key) */
	uint64_t seq_first, seq_last;	/* lowest, highest accepted; 0 none */
	uint64_t duplicates;
	struct dump_seqset seqs;	/* received on any link */
	struct dump_link *links;	/* malloc'd array */
	size_t n_links;
};

/* Per node: incarnation changes in arrival order. */
struct dump_node {
	uint32_t node_id;
	uint64_t last_incarnation;
	uint64_t restarts;
};

struct dump_stats {
	uint64_t packets;	/* handed to us by pcap */
	uint64_t other;		/* not a vigil frame (no magic, not UDP) */
	uint64_t vigil;		/* vigil frames (magic found) */
	uint64_t dropped[VG_WIRE_DROP_MAX];
	struct dump_sender *senders;	/* malloc'd array */
	size_t n_senders;
	struct dump_node *nodes;	/* malloc'd array */
	size_t n_nodes;
};

#define DUMP_MAX_PORTS	32

struct dump_opts {
	const char *iface;	/* -i */
	const char *file;	/* -r */
	const char *keyfile;	/* -k */
	uint32_t cluster_id;	/* -c */
	int have_cluster;
	uint16_t port[DUMP_MAX_PORTS];	/* -p: src or dst port must be one */
	int n_ports;		/* 0: any port */
	uint64_t count;		/* -n, 0 = no limit */
	unsigned int seconds;	/* -t, 0 = no limit */
	int quiet;		/* -q */
	int json;		/* --json */
	char *filter;		/* malloc'd: the arguments left, NULL none */
};

struct vigildump {
	struct dump_opts opt;
	struct vg_wire_key key;
	int have_key;
	void *pcap;		/* pcap_t * */
	int dlt;
	int sigfd;		/* signalfd for SIGINT/SIGTERM, -1 none */
	int stop;		/* set by the packet handler: -n or -t reached */
	struct timeval first_ts;
	FILE *lines;		/* per-frame lines: stdout, stderr with --json */
	struct dump_stats st;
};

/* One captured packet: parse, decode, print, count. */
void dump_packet(struct vigildump *d, const struct timeval *ts,
		 const uint8_t *data, size_t caplen);

/* Account one frame; `accepted` when its MAC is ok (or no key is given). */
struct dump_frame_info {
	const struct dump_pkt *pkt;
	const struct vg_wire_hdr *hdr;
	int mac;		/* 1 ok, 0 bad, -1 unknown */
	int counted;		/* 1: seq stats; 0: only frames/mac_bad */
	int duplicate;		/* out: same seq already seen on this link */
};
int dump_stats_frame(struct dump_stats *st, struct dump_frame_info *fi);
void dump_stats_free(struct dump_stats *st);

/* Summary of `st` on `out`: text, or one JSON object.  0 or -errno. */
int dump_summary_text(const struct vigildump *d, FILE *out);
int dump_summary_json(const struct vigildump *d, FILE *out);

#endif /* VIGIL_TOOLS_DUMP_H */
