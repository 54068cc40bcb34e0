/*
 * vigildump statistics: per sender incarnation, per link of a sender, per
 * node (restarts).  A sequence counts as received for the sender when it
 * arrived on any of its links; for the link, when it arrived on that link.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dump.h"

/* Widest span of sequences tracked per set: 2^27 bits, 16 MiB. */
#define SEQSET_MAX_BYTES	((size_t)1 << 24)
#define SEQSET_MIN_BYTES	64u

/* Grow to cover [base, base + nbytes * 8) and `seq`; base stays 8-aligned. */
static int seqset_cover(struct dump_seqset *s, uint64_t seq)
{
	uint64_t new_base = s->base, end = s->base + (uint64_t)s->nbytes * 8;
	size_t front = 0, nbytes;
	uint8_t *bits;

	if (seq < s->base) {
		new_base = seq & ~(uint64_t)7;
		front = (size_t)((s->base - new_base) / 8);
		if (s->base - new_base > (uint64_t)SEQSET_MAX_BYTES * 8)
			return -E2BIG;
	}
	if (seq >= end && seq - new_base >= (uint64_t)SEQSET_MAX_BYTES * 8)
		return -E2BIG;
	nbytes = s->nbytes + front;
	while ((seq - new_base) / 8 >= nbytes)
		nbytes = nbytes * 2 > SEQSET_MAX_BYTES ? SEQSET_MAX_BYTES
						       : nbytes * 2;
	if (front + s->nbytes > nbytes || nbytes > SEQSET_MAX_BYTES)
		return -E2BIG;
	bits = realloc(s->bits, nbytes);
	if (!bits)
		return -ENOMEM;
	memset(bits + s->nbytes, 0, nbytes - s->nbytes);
	if (front) {
		memmove(bits + front, bits, s->nbytes);
		memset(bits, 0, front);
	}
	s->bits = bits;
	s->nbytes = nbytes;
	s->base = new_base;
	return 0;
}

/* 1: added, 0: already there, negative errno: not tracked. */
static int seqset_add(struct dump_seqset *s, uint64_t seq)
{
	uint64_t i;
	int rc;

	if (!s->bits) {
		s->bits = calloc(SEQSET_MIN_BYTES, 1);
		if (!s->bits)
			return -ENOMEM;
		s->nbytes = SEQSET_MIN_BYTES;
		s->base = seq & ~(uint64_t)7;
	}
	if (seq < s->base || seq - s->base >= (uint64_t)s->nbytes * 8) {
		rc = seqset_cover(s, seq);
		if (rc < 0)
			return rc;
	}
	i = seq - s->base;
	if (s->bits[i / 8] & (1u << (i % 8)))
		return 0;
	s->bits[i / 8] |= (uint8_t)(1u << (i % 8));
	s->count++;
	return 1;
}

static int series_push(struct dump_series *sr, double v)
{
	size_t cap;
	double *nv;

	if (sr->n == sr->cap) {
		cap = sr->cap ? sr->cap * 2 : 64;
		nv = realloc(sr->v, cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		sr->v = nv;
		sr->cap = cap;
	}
	sr->v[sr->n++] = v;
	return 0;
}

/* Make room for one more element of `size` bytes in *arr of *n. */
static int grow(void **arr, size_t n, size_t size)
{
	void *na;

	/* capacity is implicit: powers of two from 4 */
	if (n >= 4 && (n & (n - 1)))
		return 0;
	na = realloc(*arr, (n < 4 ? 4 : n * 2) * size);
	if (!na)
		return -ENOMEM;
	*arr = na;
	return 0;
}

static struct dump_node *node_get(struct dump_stats *st, uint32_t node_id)
{
	struct dump_node *n;
	size_t i;

	for (i = 0; i < st->n_nodes; i++)
		if (st->nodes[i].node_id == node_id)
			return &st->nodes[i];
	if (grow((void **)&st->nodes, st->n_nodes, sizeof(*n)) < 0)
		return NULL;
	n = &st->nodes[st->n_nodes++];
	memset(n, 0, sizeof(*n));
	n->node_id = node_id;
	return n;
}

static struct dump_sender *sender_get(struct dump_stats *st,
				      const struct vg_wire_hdr *hdr)
{
	struct dump_sender *s;
	size_t i;

	for (i = 0; i < st->n_senders; i++) {
		s = &st->senders[i];
		if (s->node_id == hdr->node_id &&
		    s->incarnation == hdr->incarnation)
			return s;
	}
	if (grow((void **)&st->senders, st->n_senders, sizeof(*s)) < 0)
		return NULL;
	s = &st->senders[st->n_senders++];
	memset(s, 0, sizeof(*s));
	s->node_id = hdr->node_id;
	s->incarnation = hdr->incarnation;
	return s;
}

static struct dump_link *link_get(struct dump_sender *s,
				  const struct dump_pkt *pkt)
{
	struct dump_link *l;
	size_t i;

	for (i = 0; i < s->n_links; i++) {
		l = &s->links[i];
		if (dump_addr_equal(&l->src, &pkt->src) &&
		    dump_addr_equal(&l->dst, &pkt->dst))
			return l;
	}
	if (grow((void **)&s->links, s->n_links, sizeof(*l)) < 0)
		return NULL;
	l = &s->links[s->n_links++];
	memset(l, 0, sizeof(*l));
	l->src = pkt->src;
	l->dst = pkt->dst;
	return l;
}

static double tv_ms(const struct timeval *a, const struct timeval *b)
{
	return (double)(a->tv_sec - b->tv_sec) * 1e3 +
	       (double)(a->tv_usec - b->tv_usec) / 1e3;
}

static int link_heartbeat(struct dump_link *l, const struct timeval *ts)
{
	int rc = 0;

	l->heartbeats++;
	if (l->last_hb.tv_sec || l->last_hb.tv_usec)
		rc = series_push(&l->hb_ms, tv_ms(ts, &l->last_hb));
	l->last_hb = *ts;
	return rc;
}

/* An authenticated (or, without key, any) frame: sequences and intervals. */
static int sender_accept(struct dump_sender *s, struct dump_frame_info *fi)
{
	const struct vg_wire_hdr *hdr = fi->hdr;
	struct dump_link *l;
	int rc;

	l = link_get(s, fi->pkt);
	if (!l)
		return -ENOMEM;
	s->accepted++;
	l->frames++;
	rc = seqset_add(&l->seqs, hdr->seq);
	if (rc == 0) {
		l->duplicates++;
		s->duplicates++;
		fi->duplicate = 1;
		return 0;
	}
	if (rc < 0)		/* too far from the others: not tracked */
		return rc == -ENOMEM ? rc : 0;
	rc = seqset_add(&s->seqs, hdr->seq);
	if (rc < 0)
		return rc == -ENOMEM ? rc : 0;
	if (!s->seq_first || hdr->seq < s->seq_first)
		s->seq_first = hdr->seq;
	if (hdr->seq > s->seq_last)
		s->seq_last = hdr->seq;
	if (hdr->type == VG_MSG_HEARTBEAT)
		return link_heartbeat(l, &fi->pkt->ts);
	return 0;
}

int dump_stats_frame(struct dump_stats *st, struct dump_frame_info *fi)
{
	struct dump_sender *s;
	struct dump_node *n;

	fi->duplicate = 0;
	if (fi->counted) {
		/* only authenticated headers may claim a restart */
		n = node_get(st, fi->hdr->node_id);
		if (!n)
			return -ENOMEM;
		if (n->last_incarnation &&
		    n->last_incarnation != fi->hdr->incarnation)
			n->restarts++;
		n->last_incarnation = fi->hdr->incarnation;
	}
	s = sender_get(st, fi->hdr);
	if (!s)
		return -ENOMEM;
	s->frames++;
	if (fi->mac == 1)
		s->mac_ok++;
	else if (fi->mac == 0)
		s->mac_bad++;
	if (!fi->counted)
		return 0;
	return sender_accept(s, fi);
}

void dump_stats_free(struct dump_stats *st)
{
	struct dump_sender *s;
	size_t i, j;

	for (i = 0; i < st->n_senders; i++) {
		s = &st->senders[i];
		for (j = 0; j < s->n_links; j++) {
			free(s->links[j].seqs.bits);
			free(s->links[j].hb_ms.v);
		}
		free(s->links);
		free(s->seqs.bits);
	}
	free(st->senders);
	free(st->nodes);
	memset(st, 0, sizeof(*st));
}
