/*
 * vigil-repld resync: who sends to whom, decided from the generation ids
 * of both sides (DRBD's UUID rules, docs/replication.md), and the sending
 * of the dirty regions.
 */
#include "repl.h"
#include "repl_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const decision_names[] = {
	[REPL_D_INVALID] = "invalid",
	[REPL_D_NONE] = "no-resync",
	[REPL_D_SOURCE_BITMAP] = "source-bitmap",
	[REPL_D_SOURCE_FULL] = "source-full",
	[REPL_D_TARGET_BITMAP] = "target-bitmap",
	[REPL_D_TARGET_FULL] = "target-full",
	[REPL_D_SPLIT_BRAIN] = "split-brain",
	[REPL_D_UNRELATED] = "unrelated-data",
};

const char *repl_decision_name(enum repl_decision d)
{
	return d <= REPL_D_UNRELATED ? decision_names[d] : "invalid";
}

enum repl_decision repl_decision_mirror(enum repl_decision d)
{
	switch (d) {
	case REPL_D_SOURCE_BITMAP:
		return REPL_D_TARGET_BITMAP;
	case REPL_D_SOURCE_FULL:
		return REPL_D_TARGET_FULL;
	case REPL_D_TARGET_BITMAP:
		return REPL_D_SOURCE_BITMAP;
	case REPL_D_TARGET_FULL:
		return REPL_D_SOURCE_FULL;
	case REPL_D_INVALID:
	case REPL_D_NONE:
	case REPL_D_SPLIT_BRAIN:
	case REPL_D_UNRELATED:
		break;
	}
	return d;
}

static int in_history(const uint64_t *gen, uint64_t g)
{
	return g != 0 && (gen[REPL_GEN_HIST0] == g || gen[REPL_GEN_HIST1] == g);
}

/* Do the two sets {bitmap, history} share a generation: they descend from a common one. */
static int related(const uint64_t *a, const uint64_t *b)
{
	for (int i = REPL_GEN_BITMAP; i < REPL_GEN_N; i++)
		for (int j = REPL_GEN_BITMAP; j < REPL_GEN_N; j++)
			if (a[i] != 0 && a[i] != REPL_GEN_JUST_CREATED && a[i] == b[j])
				return 1;
	return 0;
}

/*
 * The rules, first match wins (l = this node, p = the peer; C current,
 * B bitmap, H history):
 *   both C just-created                    -> none (nothing agreed yet)
 *   l.C just-created / p.C just-created    -> target-full / source-full
 *   l.C == p.C                             -> none (a primary that crashed
 *                                             started a new generation at restart)
 *   l.B == p.C                             -> source-bitmap (peer unchanged since)
 *   p.B == l.C                             -> target-bitmap
 *   l.B == p.B                             -> split brain (both changed since)
 *   p.C in l.H / l.C in p.H                -> source-full / target-full
 *   any common B or H                      -> split brain
 *   else                                   -> unrelated
 */
enum repl_decision repl_decide(const uint64_t *g, const uint64_t *p)
{

	if (g[REPL_GEN_CURRENT] == REPL_GEN_JUST_CREATED && p[REPL_GEN_CURRENT] == REPL_GEN_JUST_CREATED)
		return REPL_D_NONE;
	if (g[REPL_GEN_CURRENT] == REPL_GEN_JUST_CREATED)
		return REPL_D_TARGET_FULL;
	if (p[REPL_GEN_CURRENT] == REPL_GEN_JUST_CREATED)
		return REPL_D_SOURCE_FULL;
	if (g[REPL_GEN_CURRENT] == p[REPL_GEN_CURRENT])
		return REPL_D_NONE;
	if (g[REPL_GEN_BITMAP] != 0 && g[REPL_GEN_BITMAP] == p[REPL_GEN_CURRENT])
		return REPL_D_SOURCE_BITMAP;
	if (p[REPL_GEN_BITMAP] != 0 && p[REPL_GEN_BITMAP] == g[REPL_GEN_CURRENT])
		return REPL_D_TARGET_BITMAP;
	if (g[REPL_GEN_BITMAP] != 0 && g[REPL_GEN_BITMAP] == p[REPL_GEN_BITMAP])
		return REPL_D_SPLIT_BRAIN;
	if (in_history(g, p[REPL_GEN_CURRENT]))
		return REPL_D_SOURCE_FULL;
	if (in_history(p, g[REPL_GEN_CURRENT]))
		return REPL_D_TARGET_FULL;
	return related(g, p) ? REPL_D_SPLIT_BRAIN : REPL_D_UNRELATED;
}

static const char *const sb_names[] = {
	[REPL_SB_INVALID] = "invalid",
	[REPL_SB_NONE] = "none",
	[REPL_SB_DISCARD_ZERO_CHANGES] = "discard-zero-changes",
	[REPL_SB_DISCARD_YOUNGER_PRIMARY] = "discard-younger-primary",
	[REPL_SB_DISCARD_SECONDARY] = "discard-secondary",
};

const char *repl_sb_policy_name(uint32_t policy)
{
	return policy <= REPL_SB_DISCARD_SECONDARY ? sb_names[policy] : "invalid";
}

/* REPL_SB_INVALID when `s` names no policy. */
uint32_t repl_sb_policy_parse(const char *s)
{
	for (uint32_t i = REPL_SB_NONE; i <= REPL_SB_DISCARD_SECONDARY; i++)
		if (strcmp(s, sb_names[i]) == 0)
			return i;
	return REPL_SB_INVALID;
}

/*
 * x is a primary that crashed (and restarted as secondary, not promoted
 * since) with no change made apart from y before the crash, and y changed
 * the data after it: y.B is x.B (both left the generation they shared), or
 * y is primary and still on it.  x's own changes are at most the writes in
 * flight at the crash, never acknowledged under protocol C: x is the target.
 */
static int crash_discards(const struct repl_side *x, const struct repl_side *y)
{
	uint64_t shared = x->gen[REPL_GEN_BITMAP];

	if (!(x->flags & REPL_MF_CRASHED) || x->role == VG_REPL_ROLE_PRIMARY ||
	    (y->flags & REPL_MF_CRASHED) || shared == 0 || shared == REPL_GEN_JUST_CREATED)
		return 0;
	return y->gen[REPL_GEN_BITMAP] == shared ||
	       (y->gen[REPL_GEN_CURRENT] == shared && y->role == VG_REPL_ROLE_PRIMARY);
}

/* +1: l keeps its data (source), -1: l is discarded (target), 0: the policy cannot tell. */
static int sb_policy_vote(const struct repl_side *l, const struct repl_side *p, uint32_t policy)
{
	switch (policy) {
	case REPL_SB_DISCARD_ZERO_CHANGES:
		if ((l->dirty_bits == 0) != (p->dirty_bits == 0))
			return l->dirty_bits == 0 ? -1 : 1;
		if (l->dirty_bits == 0) /* neither changed anything: the higher generation stays */
			return l->gen[REPL_GEN_CURRENT] > p->gen[REPL_GEN_CURRENT] ? 1 : -1;
		return 0;
	case REPL_SB_DISCARD_YOUNGER_PRIMARY:
		if (l->promoted_ms == p->promoted_ms)
			return 0;
		return l->promoted_ms > p->promoted_ms ? -1 : 1;
	case REPL_SB_DISCARD_SECONDARY:
		if (l->role == p->role)
			return 0;
		return l->role == VG_REPL_ROLE_SECONDARY ? -1 : 1;
	default:
		return 0;
	}
}

/*
 * A split brain, resolved by `policy` when it can (both sides compute the
 * same, mirrored): an inconsistent side (an interrupted resync toward it)
 * stays the target; otherwise the policy votes; a primary is never
 * discarded.  The target gets the union of both bitmaps.
 */
static enum repl_decision sb_resolve(const struct repl_side *l, const struct repl_side *p,
				     uint32_t policy, const char **how)
{
	int vote = 0;

	if (policy <= REPL_SB_NONE || policy > REPL_SB_DISCARD_SECONDARY)
		return REPL_D_SPLIT_BRAIN;
	if ((l->disk == VG_REPL_DISK_INCONSISTENT) != (p->disk == VG_REPL_DISK_INCONSISTENT))
		vote = l->disk == VG_REPL_DISK_INCONSISTENT ? -1 : 1;
	else
		vote = sb_policy_vote(l, p, policy);
	if (vote == 0) {
		*how = "the policy cannot choose a side";
		return REPL_D_SPLIT_BRAIN;
	}
	if ((vote < 0 ? l : p)->role == VG_REPL_ROLE_PRIMARY) {
		*how = "the policy would discard the primary's data: not applied";
		return REPL_D_SPLIT_BRAIN;
	}
	*how = repl_sb_policy_name(policy);
	return vote < 0 ? REPL_D_TARGET_BITMAP : REPL_D_SOURCE_BITMAP;
}

/*
 * The decision with everything both sides said: a crashed primary's
 * in-flight writes are discarded first, then repl_decide(), then a split
 * brain goes to the recovery policy.  *how: why a split brain was (or was
 * not) resolved, NULL otherwise.
 */
enum repl_decision repl_decide_sides(const struct repl_side *l, const struct repl_side *p,
				     uint32_t policy, const char **how)
{
	enum repl_decision d;

	*how = NULL;
	if (crash_discards(l, p)) {
		*how = "crashed primary";
		return REPL_D_TARGET_BITMAP;
	}
	if (crash_discards(p, l)) {
		*how = "crashed primary";
		return REPL_D_SOURCE_BITMAP;
	}
	d = repl_decide(l->gen, p->gen);
	return d == REPL_D_SPLIT_BRAIN ? sb_resolve(l, p, policy, how) : d;
}

static int session_alive(struct repl *r, uint64_t session)
{
	int alive;

	pthread_mutex_lock(&r->lock);
	alive = r->session_id == session && !r->stopping;
	pthread_mutex_unlock(&r->lock);
	return alive;
}

/* Send regions first..first+n-1 as they are now, ordered with application writes by write_lock. */
static int send_run(struct repl *r, uint64_t first, uint64_t n, uint8_t *buf)
{
	uint64_t off = first * REPL_REGION_SIZE, len = 0;
	int rc = 0;

	for (uint64_t i = 0; i < n; i++)
		len += repl_region_len(r, first + i);
	pthread_mutex_lock(&r->write_lock);
	if (pread(r->store_fd, buf, len, (off_t)off) != (ssize_t)len)
		rc = -EIO;
	if (rc == 0)
		rc = repl_send(r, REPL_MSG_RS_DATA, 0, off, buf, (uint32_t)len);
	pthread_mutex_unlock(&r->write_lock);
	if (rc == 0) {
		pthread_mutex_lock(&r->lock);
		r->sync_done += len;
		r->resynced_total += len;
		pthread_mutex_unlock(&r->lock);
	}
	return rc;
}

/*
 * Sync source: send every region dirty at the start (no new bit is set
 * while the session is up), then RS_DONE with our generation ids, and wait
 * for the target's confirmation.  0 when the resync completed.
 */
int repl_resync_source(struct repl *r, uint64_t session)
{
	const uint64_t run_max = REPL_RS_MAX / REPL_REGION_SIZE;
	uint8_t gens[8 * REPL_GEN_N], *buf = malloc(REPL_RS_MAX);
	uint64_t run = 0, first = 0;
	int rc = 0, dirty;

	if (!buf)
		return -ENOMEM;

	/* Runs of consecutive dirty regions, up to REPL_RS_MAX bytes a message. */
	for (uint64_t i = 0; rc == 0 && i <= r->md.n_regions; i++) {
		if (!session_alive(r, session)) {
			rc = -ECONNRESET;
			break;
		}
		pthread_mutex_lock(&r->lock);
		dirty = i < r->md.n_regions && repl_bit_test(r, i);
		pthread_mutex_unlock(&r->lock);
		if (dirty && run == 0)
			first = i;
		run += dirty;
		if (run && (!dirty || run == run_max)) {
			rc = send_run(r, first, run, buf);
			run = 0;
		}
	}
	free(buf);
	pthread_mutex_lock(&r->lock);
	for (int i = 0; i < REPL_GEN_N; i++)
		repl_put64(gens + 8 * i, r->md.gen[i]);
	pthread_mutex_unlock(&r->lock);
	if (rc == 0)
		rc = repl_send(r, REPL_MSG_RS_DONE, 0, 0, gens, sizeof(gens));
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&r->lock);
	while (r->session_id == session && !r->rs_done_acked && !r->stopping)
		pthread_cond_wait(&r->cond, &r->lock);
	rc = r->session_id == session && r->rs_done_acked ? 0 : -ECONNRESET;
	pthread_mutex_unlock(&r->lock);
	return rc;
}

static void history_push(uint64_t *g, uint64_t v)
{
	if (v == 0 || v == REPL_GEN_JUST_CREATED || g[REPL_GEN_HIST0] == v)
		return;
	g[REPL_GEN_HIST1] = g[REPL_GEN_HIST0];
	g[REPL_GEN_HIST0] = v;
}

/* Both copies agree again: the bitmap generation goes to history, the bitmap is cleared. */
int repl_resync_finish_source(struct repl *r)
{
	uint64_t *g = r->md.gen;
	int rc;

	pthread_mutex_lock(&r->lock);
	history_push(g, g[REPL_GEN_BITMAP]);
	g[REPL_GEN_BITMAP] = 0;
	r->md.flags &= ~REPL_MF_CRASHED;
	repl_bits_clear_all(r);
	r->conn = VG_REPL_CONN_CONNECTED;
	r->peer_disk = VG_REPL_DISK_UPTODATE;
	rc = repl_meta_save(r);
	repl_log(r, "sync: resync done as source: %llu bytes sent", (unsigned long long)r->sync_done);
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return rc;
}

/* Called by the receiver on RS_DONE, after the data is durable: adopt the source's generation. */
int repl_resync_finish_target(struct repl *r, const uint64_t *src_gen)
{
	uint64_t *g = r->md.gen;
	int rc;

	pthread_mutex_lock(&r->lock);
	if (g[REPL_GEN_CURRENT] != src_gen[REPL_GEN_CURRENT])
		history_push(g, g[REPL_GEN_CURRENT]);
	g[REPL_GEN_CURRENT] = src_gen[REPL_GEN_CURRENT];
	g[REPL_GEN_BITMAP] = 0;
	r->md.flags &= ~REPL_MF_CRASHED;
	repl_bits_clear_all(r);
	r->md.disk = VG_REPL_DISK_UPTODATE;
	r->conn = VG_REPL_CONN_CONNECTED;
	rc = repl_meta_save(r);
	repl_log(r, "sync: resync done as target: %llu bytes received, disk up-to-date",
		 (unsigned long long)r->sync_done);
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return rc;
}
