/*
 * vigil-repld receiver: one thread per peer session applies what the peer
 * sends, in order.  A secondary writes replicated data and answers APPLIED;
 * a FLUSH, or a write flagged REPL_F_SYNC (FUA), is made durable with
 * everything before it and answered ACK (both protocols: an ACK always
 * means durable on the peer).  When the stream pauses for REPL_IDLE_SYNC_MS
 * with writes not yet durable, or REPL_SYNC_BYTES of them have piled up,
 * one fdatasync covers them all and is ACKed, so the primary forgets them
 * (group commit).  Every number from the wire is checked against the store
 * before it is used; anything malformed ends the session, never the store.
 */
#include "repl.h"
#include "repl_wire.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPL_IDLE_SYNC_MS 2            /* a pause this long: sync what was applied */
#define REPL_SYNC_BYTES   (64u << 20)  /* this much applied since the last sync: sync now */

struct rx {
	struct repl *r;
	struct repl_link *link;
	uint8_t *buf;    /* payload, grown up to REPL_MAX_IO */
	size_t cap;
	uint64_t applied; /* last write applied and not ACKed since (0: none) */
	uint64_t unanswered; /* last write applied and not answered APPLIED yet (0: none) */
	uint64_t unsynced; /* bytes written to the store since the last fdatasync */
};

static int rx_payload(struct rx *x, uint32_t len)
{
	if (len > x->cap) {
		uint8_t *b = realloc(x->buf, len);

		if (!b)
			return -ENOMEM;
		x->buf = b;
		x->cap = len;
	}
	return repl_link_read(x->link, x->buf, len);
}

static int in_store(const struct repl *r, uint64_t off, uint32_t len)
{
	return off <= r->md.size && len <= r->md.size - off;
}

/* Everything written so far durable, then ACK `seq`. */
static int rx_sync(struct rx *x, uint64_t seq)
{
	if (x->unsynced && fdatasync(x->r->store_fd) < 0)
		return -errno;
	x->unsynced = 0;
	x->applied = 0;
	x->unanswered = 0;
	return repl_send(x->r, REPL_MSG_ACK, seq, 0, NULL, 0);
}

/* DATA, ZERO, FLUSH: apply it, sync when asked, then answer with its sequence number. */
static int rx_write(struct rx *x, uint16_t type, uint16_t flags, uint64_t seq, uint64_t off,
		    uint32_t len)
{
	struct repl *r = x->r;
	int sync = type == REPL_MSG_FLUSH || (flags & REPL_F_SYNC);
	int rc = 0;

	if (type != REPL_MSG_FLUSH && !in_store(r, off, len))
		return -ERANGE;
	if (type == REPL_MSG_DATA)
		rc = rx_payload(x, len);
	pthread_mutex_lock(&r->lock);
	if (r->role == VG_REPL_ROLE_PRIMARY)
		rc = -EBUSY; /* two primaries: refuse the peer's writes */
	pthread_mutex_unlock(&r->lock);
	if (rc == 0 && type == REPL_MSG_DATA)
		rc = repl_store_write(r, off, x->buf, len);
	else if (rc == 0 && type == REPL_MSG_ZERO)
		rc = repl_local_zero(r, off, len);
	if (rc < 0)
		return rc;
	x->unsynced += type == REPL_MSG_FLUSH ? 0 : len;
	if (sync || x->unsynced >= REPL_SYNC_BYTES)
		return rx_sync(x, seq);
	x->applied = x->unanswered = seq;
	return 0;
}

/*
 * APPLIED for the last write applied, unless more of the stream is already
 * waiting: then the answer after it covers this one too.  A burst of
 * writes costs one answer (and one wakeup of the primary); a lone write is
 * answered as soon as it is written.
 */
static int rx_answer(struct rx *x)
{
	if (!x->unanswered || repl_link_pending(x->link))
		return 0;
	x->unanswered = 0;
	return repl_send(x->r, REPL_MSG_APPLIED, x->applied, 0, NULL, 0);
}

static void rx_applied(struct repl *r, uint64_t seq)
{
	pthread_mutex_lock(&r->lock);
	if (seq > r->applied_seq && seq <= r->next_seq)
		r->applied_seq = seq;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* Durable on the peer up to `seq`: those writes leave the in-flight ring. */
static void rx_ack(struct repl *r, uint64_t seq)
{
	pthread_mutex_lock(&r->lock);
	if (seq > r->acked_seq && seq <= r->next_seq)
		r->acked_seq = seq;
	while (r->if_len && r->inflight[r->if_head].seq <= r->acked_seq) {
		r->if_head = (r->if_head + 1) % REPL_INFLIGHT_MAX;
		r->if_len--;
	}
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

static int rx_rs_data(struct rx *x, uint64_t off, uint32_t len)
{
	struct repl *r = x->r;
	int rc, target;

	pthread_mutex_lock(&r->lock);
	target = r->conn == VG_REPL_CONN_SYNC_TARGET;
	pthread_mutex_unlock(&r->lock);
	if (!in_store(r, off, len) || len > REPL_RS_MAX || off % REPL_REGION_SIZE || !target)
		return -EPROTO;
	rc = rx_payload(x, len);
	if (rc == 0)
		rc = repl_store_write(r, off, x->buf, len);
	x->unsynced += len;
	if (rc == 0) {
		pthread_mutex_lock(&r->lock);
		r->sync_done += len;
		if (r->sync_total < r->sync_done)
			r->sync_total = r->sync_done;
		r->resynced_total += len;
		pthread_mutex_unlock(&r->lock);
	}
	return rc;
}

static int rx_rs_done(struct rx *x, uint32_t len)
{
	struct repl *r = x->r;
	uint64_t gen[REPL_GEN_N];
	int rc, target;

	pthread_mutex_lock(&r->lock);
	target = r->conn == VG_REPL_CONN_SYNC_TARGET;
	pthread_mutex_unlock(&r->lock);
	if (len != 8 * REPL_GEN_N || !target)
		return -EPROTO;
	rc = rx_payload(x, len);
	if (rc == 0 && fdatasync(r->store_fd) < 0)
		rc = -errno;
	if (rc == 0)
		x->unsynced = 0;
	for (int i = 0; i < REPL_GEN_N; i++)
		gen[i] = repl_get64(x->buf + 8 * i);
	if (rc == 0)
		rc = repl_resync_finish_target(r, gen);
	if (rc == 0)
		rc = repl_send(r, REPL_MSG_RS_DONE_ACK, 0, 0, NULL, 0);
	return rc;
}

static void rx_state(struct repl *r, uint64_t v)
{
	pthread_mutex_lock(&r->lock);
	r->peer_role = (uint32_t)(v >> 32);
	r->peer_disk = (uint32_t)v;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/* OV_REQ: compare our checksum of the region with the peer's, answer which. */
static int rx_ov_req(struct rx *x, uint64_t id, uint64_t off, uint32_t len)
{
	struct repl *r = x->r;
	int rc;

	if (len != REPL_DIGEST_LEN || off % REPL_REGION_SIZE || off >= r->md.size)
		return -EPROTO;
	rc = rx_payload(x, len);
	return rc < 0 ? rc : repl_verify_answer(r, id, off, x->buf);
}

static int rx_ov_reply(struct rx *x, uint64_t id, uint64_t off, uint32_t len)
{
	int rc;

	if (len != 4 || off % REPL_REGION_SIZE || off >= x->r->md.size)
		return -EPROTO;
	rc = rx_payload(x, len);
	if (rc == 0)
		repl_verify_result(x->r, id, off, repl_get32(x->buf));
	return rc;
}

static int rx_one(struct rx *x, const uint8_t *hdr)
{
	uint16_t type = repl_get16(hdr + REPL_OFF_TYPE), flags = repl_get16(hdr + REPL_OFF_FLAGS);
	uint64_t seq = repl_get64(hdr + REPL_OFF_SEQ), off = repl_get64(hdr + REPL_OFF_OFF);
	uint32_t len = repl_get32(hdr + REPL_OFF_LEN);

	if (repl_get32(hdr + REPL_OFF_MAGIC) != REPL_WIRE_MAGIC || len > REPL_MAX_IO)
		return -EPROTO;
	switch (type) {
	case REPL_MSG_DATA:
	case REPL_MSG_ZERO:
	case REPL_MSG_FLUSH:
		return rx_write(x, type, flags, seq, off, len);
	case REPL_MSG_ACK:
		rx_ack(x->r, seq);
		return len ? -EPROTO : 0;
	case REPL_MSG_APPLIED:
		rx_applied(x->r, seq);
		return len ? -EPROTO : 0;
	case REPL_MSG_RS_DATA:
		return rx_rs_data(x, off, len);
	case REPL_MSG_RS_DONE:
		return rx_rs_done(x, len);
	case REPL_MSG_RS_DONE_ACK:
		pthread_mutex_lock(&x->r->lock);
		x->r->rs_done_acked = 1;
		pthread_cond_broadcast(&x->r->cond);
		pthread_mutex_unlock(&x->r->lock);
		return len ? -EPROTO : 0;
	case REPL_MSG_PING:
		return len ? -EPROTO : 0;
	case REPL_MSG_STATE:
		rx_state(x->r, off);
		return len ? -EPROTO : 0;
	case REPL_MSG_OV_REQ:
		return rx_ov_req(x, seq, off, len);
	case REPL_MSG_OV_REPLY:
		return rx_ov_reply(x, seq, off, len);
	default:
		return -EPROTO;
	}
}

void *repl_recv_thread(void *arg);

void *repl_recv_thread(void *arg)
{
	struct rx x = { .r = arg };
	struct repl *r = x.r;
	uint8_t hdr[REPL_HDR_LEN];
	char why[128] = "connection closed";
	int rc;

	pthread_mutex_lock(&r->lock);
	x.link = r->peer_link;
	pthread_mutex_unlock(&r->lock);
	for (;;) {
		rc = rx_answer(&x);
		if (rc < 0) {
			snprintf(why, sizeof(why), "send: %s", strerror(-rc));
			break;
		}
		rc = repl_link_poll(x.link, x.applied ? REPL_IDLE_SYNC_MS : (int)r->conf.timeout_ms);
		if (rc == 0 && x.applied) {
			/* A pause with writes not yet durable: one sync for all of them. */
			rc = rx_sync(&x, x.applied);
			if (rc < 0) {
				snprintf(why, sizeof(why), "sync: %s", strerror(-rc));
				break;
			}
			continue;
		}
		if (rc == 0) {
			snprintf(why, sizeof(why), "peer silent for %u ms", r->conf.timeout_ms);
			break;
		}
		if (rc == -EINTR)
			continue;
		rc = rc < 0 ? rc : repl_link_read(x.link, hdr, sizeof(hdr));
		if (rc == 0)
			rc = rx_one(&x, hdr);
		if (rc < 0) {
			if (rc != -EPIPE)
				snprintf(why, sizeof(why), "receive: %s", strerror(-rc));
			break;
		}
		pthread_mutex_lock(&r->lock);
		r->last_rx_ms = repl_now_ms();
		pthread_mutex_unlock(&r->lock);
	}
	repl_session_fail(r, why);
	free(x.buf);
	return NULL;
}
