/*
 * vigil-repld store I/O on the primary, with NBD's durability rules: a
 * write is written locally and sent to the peer in the same order as it hit
 * the local disk; it is made durable only when it carries FUA, and a FLUSH
 * makes every earlier write durable, on both nodes.  Protocol C acknowledges
 * a plain write once the peer has written it (APPLIED) and a FUA write or a
 * flush once the peer has made it durable (ACK); protocol A waits for
 * neither.  A write stays in the in-flight ring until the peer's ACK says it
 * is durable there: if the session fails first its regions become dirty.
 * Without a peer session the written regions are marked in the dirty
 * bitmap.  Connected or not, a mark covering every write is on disk before
 * the data is written (its activity extent, repl_al_cover), so a crash
 * never hides a difference.
 */
#include "repl.h"
#include "repl_wire.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int repl_send_flags(struct repl *r, uint16_t type, uint16_t flags, uint64_t seq, uint64_t off,
		    const void *payload, uint32_t len)
{
	uint8_t hdr[REPL_HDR_LEN] = { 0 };
	struct repl_link *link;
	int rc;

	repl_put32(hdr + REPL_OFF_MAGIC, REPL_WIRE_MAGIC);
	repl_put16(hdr + REPL_OFF_TYPE, type);
	repl_put16(hdr + REPL_OFF_FLAGS, flags);
	repl_put64(hdr + REPL_OFF_SEQ, seq);
	repl_put64(hdr + REPL_OFF_OFF, off);
	repl_put32(hdr + REPL_OFF_LEN, payload ? len : 0);
	pthread_mutex_lock(&r->send_lock);
	pthread_mutex_lock(&r->lock);
	link = r->peer_link;
	pthread_mutex_unlock(&r->lock);
	rc = !link ? -ENOTCONN : repl_link_write2(link, hdr, sizeof(hdr), payload, payload ? len : 0);
	pthread_mutex_unlock(&r->send_lock);
	return rc;
}

int repl_send(struct repl *r, uint16_t type, uint64_t seq, uint64_t off,
	      const void *payload, uint32_t len)
{
	return repl_send_flags(r, type, 0, seq, off, payload, len);
}

/*
 * End the peer session: writes not acked yet become dirty regions, and a
 * primary starts a new generation for them.  Idempotent; takes r->lock.
 */
void repl_session_fail(struct repl *r, const char *why)
{
	pthread_mutex_lock(&r->lock);
	if (r->peer_fd < 0) {
		pthread_mutex_unlock(&r->lock);
		return;
	}
	repl_log(r, "peer: session lost: %s (%zu writes unacked)", why, r->if_len);
	for (size_t i = 0; i < r->if_len; i++) {
		const struct repl_inflight *w = &r->inflight[(r->if_head + i) % REPL_INFLIGHT_MAX];

		repl_bits_set(r, w->off, w->len);
	}
	if (r->if_len && r->role == VG_REPL_ROLE_PRIMARY)
		repl_gen_start_changes(r);
	if (r->if_len)
		repl_meta_save(r);
	r->if_len = 0;
	shutdown(r->peer_fd, SHUT_RDWR);
	r->peer_fd = -1;
	r->peer_link = NULL;
	r->session_up = 0;
	r->session_id++;
	pthread_cond_broadcast(&r->session_cond);
	r->peer_role = VG_REPL_ROLE_UNKNOWN;
	r->peer_disk = VG_REPL_DISK_UNKNOWN;
	if (r->conn != VG_REPL_CONN_STANDALONE)
		r->conn = VG_REPL_CONN_CONNECTING;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
}

/*
 * Before changing off..off+len: with a session, queue the write as in
 * flight and return its sequence number; without one, record the regions
 * (on disk first) and return 0.  *sync is set when the peer must make it
 * durable: FUA, or a ring half full of writes waiting for a durable ACK.
 * Called with write_lock held.
 */
static int64_t write_begin(struct repl *r, uint64_t off, uint32_t len, uint64_t *session,
			   int *sync)
{
	int64_t seq = 0;
	int rc = 0, save;

	pthread_mutex_lock(&r->lock);
	do {
		while (r->session_up && r->if_len == REPL_INFLIGHT_MAX)
			pthread_cond_wait(&r->cond, &r->lock);
		rc = r->role == VG_REPL_ROLE_PRIMARY ? repl_al_room(r, off, len) : -EROFS;
	} while (rc == 0 && r->session_up && r->if_len == REPL_INFLIGHT_MAX);
	*session = r->session_id;
	if (rc < 0)
		goto out;
	save = repl_al_cover(r, off, len) != 0;
	if (r->session_up) {
		struct repl_inflight *w = &r->inflight[(r->if_head + r->if_len) % REPL_INFLIGHT_MAX];

		seq = (int64_t)++r->next_seq;
		*w = (struct repl_inflight){ .seq = (uint64_t)seq, .off = off, .len = len };
		r->if_len++;
		*sync |= r->if_len >= REPL_INFLIGHT_SYNC;
	} else {
		repl_bits_set(r, off, len);
		save |= r->md.gen[REPL_GEN_BITMAP] == 0;
		repl_gen_start_changes(r);
	}
	if (save)
		rc = repl_meta_save(r);
out:
	pthread_mutex_unlock(&r->lock);
	return rc < 0 ? rc : seq;
}

/*
 * Protocol C: wait until the peer has written `seq` (durable: made it
 * durable), or the session ended (the write is then dirty).
 */
static void wait_ack(struct repl *r, uint64_t seq, uint64_t session, int durable)
{
	if (r->conf.protocol != 'C' || seq == 0)
		return;
	pthread_mutex_lock(&r->lock);
	while (r->session_id == session && r->acked_seq < seq &&
	       (durable || r->applied_seq < seq))
		pthread_cond_wait(&r->cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
}

static int local_sync(struct repl *r)
{
	return fdatasync(r->store_fd) < 0 ? -errno : 0;
}

/* A write or zeroing: durable on both nodes before it returns only with `fua`. */
static int replicate(struct repl *r, uint16_t type, uint64_t off, const void *buf, uint32_t len,
		     int fua, int (*local)(struct repl *, uint64_t, const void *, uint32_t))
{
	uint64_t session;
	int64_t seq;
	int rc, sync = fua;

	pthread_mutex_lock(&r->write_lock);
	seq = write_begin(r, off, len, &session, &sync);
	if (seq < 0) {
		pthread_mutex_unlock(&r->write_lock);
		return (int)seq;
	}
	rc = local(r, off, buf, len);
	if (rc == 0 && seq > 0 &&
	    repl_send_flags(r, type, sync ? REPL_F_SYNC : 0, (uint64_t)seq, off, buf, len) < 0)
		repl_session_fail(r, "send failed");
	pthread_mutex_unlock(&r->write_lock);
	if (rc == 0 && fua)
		rc = local_sync(r);
	wait_ack(r, (uint64_t)seq, session, fua);
	return rc;
}

/*
 * Write to the store, then start its writeback at once (sync_file_range,
 * not waiting): the fdatasync that a FLUSH, a FUA write, a group commit or
 * the end of a resync needs later finds less to write, and the disk works
 * while the stream goes on.  A failure there is only a lost head start:
 * the fdatasync reports errors.
 */
int repl_store_write(struct repl *r, uint64_t off, const void *buf, uint32_t len)
{
	const uint8_t *p = buf;
	uint64_t start = off;
	uint32_t total = len;

	while (len > 0) {
		ssize_t n = pwrite(r->store_fd, p, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		off += (uint64_t)n;
		len -= (uint32_t)n;
	}
	sync_file_range(r->store_fd, (off_t)start, total, SYNC_FILE_RANGE_WRITE);
	return 0;
}

int repl_local_zero(struct repl *r, uint64_t off, uint32_t len)
{
	static const uint8_t zeros[65536];
	int rc;

	if (!r->is_blockdev &&
	    fallocate(r->store_fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, len) == 0)
		return 0;
	while (len > 0) {
		uint32_t n = len < sizeof(zeros) ? len : sizeof(zeros);

		rc = repl_store_write(r, off, zeros, n);
		if (rc < 0)
			return rc;
		off += n;
		len -= n;
	}
	return 0;
}

static int local_zero_cb(struct repl *r, uint64_t off, const void *buf, uint32_t len)
{
	return repl_local_zero(r, off, len);
}

int repl_write(struct repl *r, uint64_t off, const void *buf, uint32_t len, int fua)
{
	return replicate(r, REPL_MSG_DATA, off, buf, len, fua, repl_store_write);
}

/* Trim and write-zeroes both zero the range, so both copies stay byte-identical. */
int repl_zero(struct repl *r, uint64_t off, uint32_t len, int fua)
{
	return replicate(r, REPL_MSG_ZERO, off, NULL, len, fua, local_zero_cb);
}

/*
 * Every earlier write durable: a local fdatasync, and a FLUSH the peer
 * ACKs after its own (waited for under protocol C).  The FLUSH is sent
 * first so that both syncs run at once.
 */
int repl_flush(struct repl *r)
{
	uint64_t session;
	int64_t seq = 0;
	int rc;

	pthread_mutex_lock(&r->write_lock);
	pthread_mutex_lock(&r->lock);
	while (r->session_up && r->if_len == REPL_INFLIGHT_MAX)
		pthread_cond_wait(&r->cond, &r->lock);
	session = r->session_id;
	if (r->session_up) {
		seq = (int64_t)++r->next_seq;
		r->inflight[(r->if_head + r->if_len) % REPL_INFLIGHT_MAX] =
			(struct repl_inflight){ .seq = (uint64_t)seq };
		r->if_len++;
	}
	pthread_mutex_unlock(&r->lock);
	if (seq > 0 && repl_send(r, REPL_MSG_FLUSH, (uint64_t)seq, 0, NULL, 0) < 0)
		repl_session_fail(r, "send failed");
	pthread_mutex_unlock(&r->write_lock);
	rc = local_sync(r);
	wait_ack(r, (uint64_t)seq, session, 1);
	return rc;
}
