/*
 * vigildump summary: the counters of struct dump_stats as text, or as one
 * JSON object built with jansson.  Field meanings: docs/vigildump.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "dump.h"

/* Heartbeat inter-arrival statistics of one link, milliseconds. */
struct hb_summary {
	size_t count;
	double mean, min, max, jitter, p99;
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static int hb_summarise(const struct dump_series *sr, struct hb_summary *h)
{
	double sum = 0, var = 0, *sorted;
	size_t i, rank;

	memset(h, 0, sizeof(*h));
	if (!sr->n)
		return 0;
	sorted = malloc(sr->n * sizeof(*sorted));
	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, sr->v, sr->n * sizeof(*sorted));
	qsort(sorted, sr->n, sizeof(*sorted), cmp_double);
	for (i = 0; i < sr->n; i++)
		sum += sorted[i];
	h->count = sr->n;
	h->mean = sum / (double)sr->n;
	for (i = 0; i < sr->n; i++)
		var += (sorted[i] - h->mean) * (sorted[i] - h->mean);
	h->jitter = sqrt(var / (double)sr->n);
	h->min = sorted[0];
	h->max = sorted[sr->n - 1];
	/* nearest rank: the smallest value with >= 99% at or below it */
	rank = (size_t)ceil(0.99 * (double)sr->n);
	h->p99 = sorted[rank ? rank - 1 : 0];
	free(sorted);
	return 0;
}

static uint64_t sender_range(const struct dump_sender *s)
{
	return s->seq_last ? s->seq_last - s->seq_first + 1 : 0;
}

static uint64_t sender_loss(const struct dump_sender *s)
{
	uint64_t range = sender_range(s);

	return range > s->seqs.count ? range - s->seqs.count : 0;
}

static uint64_t link_missing(const struct dump_sender *s,
			     const struct dump_link *l)
{
	uint64_t range = sender_range(s);

	return range > l->seqs.count ? range - l->seqs.count : 0;
}

static double pct(uint64_t part, uint64_t whole)
{
	return whole ? 100.0 * (double)part / (double)whole : 0.0;
}

static uint64_t node_restarts(const struct dump_stats *st, uint32_t node_id)
{
	size_t i;

	for (i = 0; i < st->n_nodes; i++)
		if (st->nodes[i].node_id == node_id)
			return st->nodes[i].restarts;
	return 0;
}

/* ---- text ---- */

static void text_link(const struct dump_sender *s, const struct dump_link *l,
		      FILE *out)
{
	char src[64], dst[64];
	struct hb_summary h;

	dump_addr_format(&l->src, src, sizeof(src));
	dump_addr_format(&l->dst, dst, sizeof(dst));
	fprintf(out, "  link %s -> %s: frames %" PRIu64 " loss %.2f%% (%"
		PRIu64 "/%" PRIu64 ") duplicates %" PRIu64 " heartbeats %"
		PRIu64 "\n", src, dst, l->frames,
		pct(link_missing(s, l), sender_range(s)), link_missing(s, l),
		sender_range(s), l->duplicates, l->heartbeats);
	if (hb_summarise(&l->hb_ms, &h) < 0 || !h.count)
		return;
	fprintf(out, "    heartbeat interval ms: mean %.3f min %.3f max %.3f"
		" jitter %.3f p99 %.3f (%zu intervals)\n", h.mean, h.min,
		h.max, h.jitter, h.p99, h.count);
}

static void text_sender(const struct vigildump *d, const struct dump_sender *s,
			FILE *out)
{
	size_t i;

	fprintf(out, "sender node %" PRIu32 " inc %" PRIu64 ": frames %" PRIu64,
		s->node_id, s->incarnation, s->frames);
	if (d->have_key)
		fprintf(out, " mac ok %" PRIu64 " bad %" PRIu64, s->mac_ok,
			s->mac_bad);
	fprintf(out, " seq %" PRIu64 "..%" PRIu64 " loss %" PRIu64
		" duplicates %" PRIu64 " restarts %" PRIu64 "\n",
		s->seq_first, s->seq_last, sender_loss(s), s->duplicates,
		node_restarts(&d->st, s->node_id));
	for (i = 0; i < s->n_links; i++)
		text_link(s, &s->links[i], out);
}

int dump_summary_text(const struct vigildump *d, FILE *out)
{
	const struct dump_stats *st = &d->st;
	size_t i;
	int any = 0;

	fprintf(out, "summary: %" PRIu64 " packets, %" PRIu64
		" vigil frames, %" PRIu64 " other%s\n", st->packets, st->vigil,
		st->other, d->have_key ? "" : " (unauthenticated: no key)");
	for (i = 1; i < VG_WIRE_DROP_MAX; i++) {
		if (!st->dropped[i])
			continue;
		fprintf(out, "%s%s %" PRIu64, any ? ", " : "dropped: ",
			vg_wire_drop_name((int)i), st->dropped[i]);
		any = 1;
	}
	if (any)
		fputc('\n', out);
	for (i = 0; i < st->n_senders; i++)
		text_sender(d, &st->senders[i], out);
	return ferror(out) ? -EIO : 0;
}

/* ---- JSON ---- */

static json_t *json_u64(uint64_t v)
{
	return json_integer(v > INT64_MAX ? INT64_MAX : (json_int_t)v);
}

static json_t *json_hb(const struct dump_series *sr)
{
	struct hb_summary h;

	if (hb_summarise(sr, &h) < 0 || !h.count)
		return NULL;
	return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f}",
			 "count", (json_int_t)h.count, "mean", h.mean,
			 "min", h.min, "max", h.max, "jitter", h.jitter,
			 "p99", h.p99);
}

static json_t *json_link(const struct dump_sender *s,
			 const struct dump_link *l)
{
	char src[64], dst[64];
	uint64_t missing = link_missing(s, l);

	dump_addr_format(&l->src, src, sizeof(src));
	dump_addr_format(&l->dst, dst, sizeof(dst));
	return json_pack("{s:s, s:s, s:o, s:o, s:o, s:f, s:o, s:o, s:o?}",
			 "src", src, "dst", dst,
			 "frames", json_u64(l->frames),
			 "received", json_u64(l->seqs.count),
			 "missing", json_u64(missing),
			 "loss_pct", pct(missing, sender_range(s)),
			 "duplicates", json_u64(l->duplicates),
			 "heartbeats", json_u64(l->heartbeats),
			 "hb_interval_ms", json_hb(&l->hb_ms));
}

static json_t *json_sender(const struct vigildump *d,
			   const struct dump_sender *s)
{
	json_t *links = json_array(), *o;
	size_t i;

	for (i = 0; links && i < s->n_links; i++)
		if (json_array_append_new(links, json_link(s, &s->links[i])))
			goto fail;
	o = json_pack("{s:I, s:o, s:o, s:o?, s:o?, s:o, s:o, s:o, s:o, s:o,"
		      " s:o, s:o, s:o}",
		      "node", (json_int_t)s->node_id,
		      "incarnation", json_u64(s->incarnation),
		      "frames", json_u64(s->frames),
		      "mac_ok", d->have_key ? json_u64(s->mac_ok) : NULL,
		      "mac_bad", d->have_key ? json_u64(s->mac_bad) : NULL,
		      "accepted", json_u64(s->accepted),
		      "seq_first", json_u64(s->seq_first),
		      "seq_last", json_u64(s->seq_last),
		      "received", json_u64(s->seqs.count),
		      "loss", json_u64(sender_loss(s)),
		      "duplicates", json_u64(s->duplicates),
		      "restarts", json_u64(node_restarts(&d->st, s->node_id)),
		      "links", links);
	return o;
fail:
	json_decref(links);
	return NULL;
}

static json_t *json_dropped(const struct dump_stats *st)
{
	json_t *o = json_object();
	size_t i;

	for (i = 1; o && i < VG_WIRE_DROP_MAX; i++) {
		if (json_object_set_new(o, vg_wire_drop_name((int)i),
					json_u64(st->dropped[i]))) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *json_nodes(const struct dump_stats *st)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a && i < st->n_nodes; i++) {
		if (json_array_append_new(a, json_pack("{s:I, s:o, s:o}",
				"node", (json_int_t)st->nodes[i].node_id,
				"last_incarnation",
				json_u64(st->nodes[i].last_incarnation),
				"restarts", json_u64(st->nodes[i].restarts)))) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

int dump_summary_json(const struct vigildump *d, FILE *out)
{
	const struct dump_stats *st = &d->st;
	json_t *senders = json_array(), *root = NULL;
	size_t i;
	int rc = -ENOMEM;

	for (i = 0; senders && i < st->n_senders; i++)
		if (json_array_append_new(senders,
					  json_sender(d, &st->senders[i])))
			goto out;
	root = json_pack("{s:o, s:o, s:o, s:b, s:o, s:o, s:o}",
			 "packets", json_u64(st->packets),
			 "vigil", json_u64(st->vigil),
			 "other", json_u64(st->other),
			 "authenticated", d->have_key,
			 "dropped", json_dropped(st),
			 "senders", senders,
			 "nodes", json_nodes(st));
	senders = NULL;		/* json_pack took it, even on failure */
	if (!root)
		goto out;
	rc = json_dumpf(root, out, JSON_INDENT(2) | JSON_SORT_KEYS) < 0 ?
	     -EIO : 0;
	fputc('\n', out);
out:
	json_decref(root);
	json_decref(senders);
	return rc;
}
