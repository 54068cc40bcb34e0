/*
 * vigil-repld peer sessions: one side connects, the other accepts (the one
 * whose listen address sorts first connects).  A session is a handshake
 * (HELLO with generation ids, BITMAP, DECIDE — the decisions of both sides
 * must mirror), then a receiver thread applying the peer's messages, while
 * this thread runs the resync (as source) and the keepalive.
 */
#include "repl.h"
#include "repl_wire.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* What the peer said in its HELLO and BITMAP. */
struct peer_hello {
	struct repl_side side;
	uint32_t after_sb;
	uint8_t *bitmap;   /* owned */
	size_t bm_len;
};

static void set_timeouts(int fd, uint32_t ms)
{
	struct timeval tv = { .tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000 };
	int one = 1;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

static int open_listener(struct repl *r)
{
	struct sockaddr_storage ss;
	socklen_t len;

	if (repl_parse_addr(r->conf.listen, &ss, &len) < 0)
		return -EINVAL;
	return repl_listen(&ss, len);
}

static int try_connect(struct repl *r)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd;

	if (repl_parse_addr(r->conf.peer, &ss, &len) < 0)
		return -EINVAL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	set_timeouts(fd, r->conf.timeout_ms);
	if (connect(fd, (struct sockaddr *)&ss, len) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int try_accept(struct repl *r, int lfd)
{
	struct pollfd pfd = { .fd = lfd, .events = POLLIN };
	int fd;

	if (poll(&pfd, 1, (int)r->conf.connect_ms) <= 0)
		return -EAGAIN;
	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0)
		set_timeouts(fd, r->conf.timeout_ms);
	return fd < 0 ? -errno : fd;
}

/* Write one message straight to the link (handshake: no session yet). */
static int send_raw(struct repl_link *ln, uint16_t type, uint64_t off, const void *payload,
		    uint32_t len)
{
	uint8_t hdr[REPL_HDR_LEN] = { 0 };
	int rc;

	repl_put32(hdr + REPL_OFF_MAGIC, REPL_WIRE_MAGIC);
	repl_put16(hdr + REPL_OFF_TYPE, type);
	repl_put64(hdr + REPL_OFF_OFF, off);
	repl_put32(hdr + REPL_OFF_LEN, len);
	rc = repl_link_write(ln, hdr, sizeof(hdr));
	return rc == 0 && len ? repl_link_write(ln, payload, len) : rc;
}

/* Read one message of `type` whose payload is at most `max` bytes into a new buffer. */
static int recv_raw(struct repl_link *ln, uint16_t type, uint32_t max, uint64_t *off,
		    uint8_t **payload, uint32_t *len)
{
	uint8_t hdr[REPL_HDR_LEN];
	int rc = repl_link_read(ln, hdr, sizeof(hdr));

	if (rc < 0)
		return rc;
	if (repl_get32(hdr + REPL_OFF_MAGIC) != REPL_WIRE_MAGIC ||
	    repl_get16(hdr + REPL_OFF_TYPE) != type || repl_get32(hdr + REPL_OFF_LEN) > max)
		return -EPROTO;
	*off = repl_get64(hdr + REPL_OFF_OFF);
	*len = repl_get32(hdr + REPL_OFF_LEN);
	*payload = malloc(*len + 1);
	if (!*payload)
		return -ENOMEM;
	rc = repl_link_read(ln, *payload, *len);
	if (rc < 0) {
		free(*payload);
		*payload = NULL;
	}
	return rc;
}

static int send_hello(struct repl *r, struct repl_link *ln)
{
	uint8_t h[REPL_HELLO_LEN] = { 0 }, *bm;
	size_t bm_len;
	int rc = -ENOMEM;

	pthread_mutex_lock(&r->lock);
	repl_put32(h + REPL_HELLO_VERSION, REPL_WIRE_VERSION);
	repl_put32(h + REPL_HELLO_PROTOCOL, (uint32_t)r->conf.protocol);
	repl_put64(h + REPL_HELLO_NAME_ID, r->md.name_id);
	repl_put64(h + REPL_HELLO_SIZE, r->md.size);
	repl_put32(h + REPL_HELLO_REGION, r->md.region_size);
	repl_put32(h + REPL_HELLO_ROLE, r->role);
	repl_put32(h + REPL_HELLO_DISK, r->md.disk);
	repl_put32(h + REPL_HELLO_FLAGS, r->md.flags);
	for (int i = 0; i < REPL_GEN_N; i++)
		repl_put64(h + REPL_HELLO_GEN + 8 * i, r->md.gen[i]);
	repl_put64(h + REPL_HELLO_PROMOTED, r->md.promoted_ms);
	repl_put32(h + REPL_HELLO_AFTER_SB, r->conf.after_sb);
	bm_len = (r->md.n_regions + 7) / 8;
	bm = malloc(bm_len + 1);
	if (bm)
		memcpy(bm, r->md.bitmap, bm_len);
	pthread_mutex_unlock(&r->lock);
	if (bm) {
		rc = send_raw(ln, REPL_MSG_HELLO, 0, h, sizeof(h));
		if (rc == 0)
			rc = send_raw(ln, REPL_MSG_BITMAP, 0, bm, (uint32_t)bm_len);
	}
	free(bm);
	return rc;
}

static int check_hello(struct repl *r, const uint8_t *h, uint32_t len, struct peer_hello *ph)
{
	const char *why = NULL;

	ph->after_sb = len >= REPL_HELLO_LEN ? repl_get32(h + REPL_HELLO_AFTER_SB) : REPL_SB_NONE;
	ph->side.promoted_ms = len >= REPL_HELLO_LEN ? repl_get64(h + REPL_HELLO_PROMOTED) : 0;

	if (repl_get32(h + REPL_HELLO_VERSION) != REPL_WIRE_VERSION)
		why = "protocol version";
	else if (repl_get64(h + REPL_HELLO_NAME_ID) != r->md.name_id)
		why = "resource name";
	else if (repl_get64(h + REPL_HELLO_SIZE) != r->md.size)
		why = "store size";
	else if (repl_get32(h + REPL_HELLO_REGION) != r->md.region_size)
		why = "region size";
	else if (repl_get32(h + REPL_HELLO_PROTOCOL) != (uint32_t)r->conf.protocol)
		why = "replication protocol (A/C)";
	else if (ph->after_sb != r->conf.after_sb)
		why = "split-brain recovery policy (--after-split-brain)";
	if (why) {
		repl_log(r, "peer: refusing %s: its %s differs from ours", r->conf.peer, why);
		return -EPROTO;
	}
	ph->side.role = repl_get32(h + REPL_HELLO_ROLE);
	ph->side.disk = repl_get32(h + REPL_HELLO_DISK);
	ph->side.flags = repl_get32(h + REPL_HELLO_FLAGS);
	for (int i = 0; i < REPL_GEN_N; i++)
		ph->side.gen[i] = repl_get64(h + REPL_HELLO_GEN + 8 * i);
	return 0;
}

static int recv_hello(struct repl *r, struct repl_link *ln, struct peer_hello *ph)
{
	uint8_t *h = NULL;
	uint32_t len;
	uint64_t off;
	size_t bm_len = (r->md.n_regions + 7) / 8;
	int rc;

	rc = recv_raw(ln, REPL_MSG_HELLO, REPL_HELLO_LEN, &off, &h, &len);
	if (rc == 0 && len != REPL_HELLO_LEN && len != REPL_HELLO_LEN_V1)
		rc = -EPROTO;
	if (rc == 0)
		rc = check_hello(r, h, len, ph);
	free(h);
	if (rc == 0)
		rc = recv_raw(ln, REPL_MSG_BITMAP, (uint32_t)bm_len, &off, &ph->bitmap, &len);
	if (rc == 0 && len != bm_len)
		rc = -EPROTO;
	ph->bm_len = len;
	ph->side.dirty_bits = 0;
	for (size_t i = 0; rc == 0 && i < len; i++)
		ph->side.dirty_bits += (uint64_t)__builtin_popcount(ph->bitmap[i]);
	return rc;
}

/* Exchange HELLO/BITMAP/DECIDE; the connecting side speaks first. */
static int handshake(struct repl *r, struct repl_link *ln, int connector, struct peer_hello *ph,
		     enum repl_decision *d, const char **how)
{
	struct repl_side me;
	uint8_t *nothing = NULL;
	uint64_t theirs = 0;
	uint32_t len;
	int rc;

	rc = connector ? send_hello(r, ln) : recv_hello(r, ln, ph);
	if (rc == 0)
		rc = connector ? recv_hello(r, ln, ph) : send_hello(r, ln);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&r->lock);
	me = (struct repl_side){ .role = r->role, .disk = r->md.disk, .flags = r->md.flags,
				 .dirty_bits = r->dirty_bits, .promoted_ms = r->md.promoted_ms };
	memcpy(me.gen, r->md.gen, sizeof(me.gen));
	*d = repl_decide_sides(&me, &ph->side, r->conf.after_sb, how);
	pthread_mutex_unlock(&r->lock);
	if (connector)
		rc = send_raw(ln, REPL_MSG_DECIDE, *d, NULL, 0);
	if (rc == 0)
		rc = recv_raw(ln, REPL_MSG_DECIDE, 0, &theirs, &nothing, &len);
	free(nothing);
	if (rc == 0 && !connector)
		rc = send_raw(ln, REPL_MSG_DECIDE, *d, NULL, 0);
	if (rc == 0 && theirs != repl_decision_mirror(*d)) {
		repl_log(r, "peer: decisions do not mirror (ours %s, theirs %s): disconnecting",
			 repl_decision_name(*d), repl_decision_name((enum repl_decision)theirs));
		rc = -EPROTO;
	}
	return rc;
}

/* Why this decision cannot be carried out with these roles, or NULL. */
static const char *refusal(struct repl *r, enum repl_decision d, const struct peer_hello *ph)
{
	int source = d == REPL_D_SOURCE_BITMAP || d == REPL_D_SOURCE_FULL;
	int target = d == REPL_D_TARGET_BITMAP || d == REPL_D_TARGET_FULL;

	if (d == REPL_D_SPLIT_BRAIN)
		return "split brain: both sides changed the data since they last agreed";
	if (d == REPL_D_UNRELATED)
		return "the peer's data is unrelated to ours (no common generation)";
	if (r->role == VG_REPL_ROLE_PRIMARY && ph->side.role == VG_REPL_ROLE_PRIMARY)
		return "both nodes are primary";
	if (source && ph->side.role == VG_REPL_ROLE_PRIMARY)
		return "the peer is primary but has older data";
	if (target && r->role == VG_REPL_ROLE_PRIMARY)
		return "this node is primary but has older data";
	if (source && r->md.disk != VG_REPL_DISK_UPTODATE)
		return "the sync source's disk is not up-to-date";
	return NULL;
}

/* Make the session live (under write_lock: no write is half-way). */
static uint64_t session_start(struct repl *r, int fd, struct repl_link *link,
			      enum repl_decision d, const struct peer_hello *ph)
{
	uint64_t session;

	pthread_mutex_lock(&r->write_lock);
	pthread_mutex_lock(&r->lock);
	r->peer_fd = fd;
	r->peer_link = link;
	r->session_up = 1;
	session = r->session_id;
	r->next_seq = r->applied_seq = r->acked_seq = 0;
	r->if_len = 0;
	r->rs_done_acked = 0;
	r->peer_role = ph->side.role;
	r->peer_disk = ph->side.disk;
	r->last_rx_ms = repl_now_ms();
	r->sync_done = 0;
	r->conn = VG_REPL_CONN_CONNECTED;
	if (d == REPL_D_SOURCE_BITMAP || d == REPL_D_SOURCE_FULL) {
		for (size_t i = 0; i < ph->bm_len; i++)
			r->md.bitmap[i] |= ph->bitmap[i];
		if (d == REPL_D_SOURCE_FULL)
			repl_bits_set_all(r);
		r->dirty_bits = 0;
		for (uint64_t i = 0; i < r->md.n_regions; i++)
			r->dirty_bits += repl_bit_test(r, i);
		r->conn = VG_REPL_CONN_SYNC_SOURCE;
		r->sync_total = r->dirty_bits * REPL_REGION_SIZE;
	} else if (d == REPL_D_TARGET_BITMAP || d == REPL_D_TARGET_FULL) {
		r->md.disk = VG_REPL_DISK_INCONSISTENT;
		repl_meta_save(r);
		r->conn = VG_REPL_CONN_SYNC_TARGET;
		/* what the source will send: the union of both bitmaps, or all (status shows it) */
		r->sync_total = 0;
		for (uint64_t i = 0; i < r->md.n_regions; i++)
			r->sync_total += d == REPL_D_TARGET_FULL || repl_bit_test(r, i) ||
					 (i / 8 < ph->bm_len && (ph->bitmap[i / 8] >> (i % 8) & 1));
		r->sync_total *= REPL_REGION_SIZE;
	} else {
		r->sync_total = 0;
	}
	repl_log(r, "peer: connected to %s (%s, peer %s/%s), %s", r->conf.peer,
		 repl_decision_name(d), repl_role_name(ph->side.role), repl_disk_name(ph->side.disk),
		 repl_conn_name(r->conn));
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	pthread_mutex_unlock(&r->write_lock);
	return session;
}

/*
 * Keepalive until the session ends: a ping every ping_ms, a timeout when
 * the peer is silent.  It sleeps on its own condition (session_cond, told
 * only when a session ends), not on `cond`, which every APPLIED and ACK
 * broadcasts.
 */
static void keepalive(struct repl *r, uint64_t session)
{
	struct timespec ts;
	uint64_t silent;

	pthread_mutex_lock(&r->lock);
	while (r->session_id == session && !r->stopping) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += (long)(r->conf.ping_ms % 1000) * 1000000;
		ts.tv_sec += r->conf.ping_ms / 1000 + ts.tv_nsec / 1000000000;
		ts.tv_nsec %= 1000000000;
		while (r->session_id == session &&
		       pthread_cond_timedwait(&r->session_cond, &r->lock, &ts) != ETIMEDOUT)
			;
		if (r->session_id != session)
			break;
		silent = repl_now_ms() - r->last_rx_ms;
		pthread_mutex_unlock(&r->lock);
		if (silent > r->conf.timeout_ms)
			repl_session_fail(r, "peer silent");
		else if (repl_send(r, REPL_MSG_PING, 0, 0, NULL, 0) < 0)
			repl_session_fail(r, "ping failed");
		pthread_mutex_lock(&r->lock);
	}
	pthread_mutex_unlock(&r->lock);
}

void *repl_recv_thread(void *arg);

/* Say loudly whose changes a recovery rule discards, and how much. */
static void log_discard(struct repl *r, enum repl_decision d, const char *how,
			const struct peer_hello *ph)
{
	int mine = d == REPL_D_TARGET_BITMAP || d == REPL_D_TARGET_FULL;
	uint64_t bits;

	pthread_mutex_lock(&r->lock);
	bits = mine ? r->dirty_bits : ph->side.dirty_bits;
	repl_log(r, "peer: %s%s: DISCARDING THE %s's CHANGES: %llu bytes (%llu regions) of generation %016llx "
		 "are overwritten from the %s (generation %016llx)",
		 strcmp(how, "crashed primary") == 0 ? "" : "SPLIT BRAIN resolved by after-split-brain=",
		 how, mine ? "LOCAL NODE" : "PEER", (unsigned long long)(bits * REPL_REGION_SIZE),
		 (unsigned long long)bits,
		 (unsigned long long)(mine ? r->md.gen[REPL_GEN_CURRENT] : ph->side.gen[REPL_GEN_CURRENT]),
		 mine ? "peer" : "local node",
		 (unsigned long long)(mine ? ph->side.gen[REPL_GEN_CURRENT] : r->md.gen[REPL_GEN_CURRENT]));
	pthread_mutex_unlock(&r->lock);
}

/*
 * One session on the connected socket `fd` (closed at the end).  0 once it
 * was live, whatever ended it; < 0 when it never was (refused), so that
 * the connector waits connect_ms before it tries again.
 */
static int session_run(struct repl *r, int fd, int connector)
{
	struct peer_hello ph = { 0 };
	enum repl_decision d = REPL_D_INVALID;
	const char *why, *how = NULL;
	struct repl_link *link;
	pthread_t rx;
	uint64_t session;
	int rc;

	rc = repl_link_open(r, fd, connector, &link);
	if (rc < 0)
		return rc;
	rc = handshake(r, link, connector, &ph, &d, &how);
	if (rc < 0)
		goto out;
	why = refusal(r, d, &ph);
	if (!why && how)
		log_discard(r, d, how, &ph);
	else if (how && d == REPL_D_SPLIT_BRAIN)
		repl_log(r, "peer: split brain not resolved by after-split-brain=%s: %s",
			 repl_sb_policy_name(r->conf.after_sb), how);
	if (why) {
		pthread_mutex_lock(&r->lock);
		r->split_brain = d == REPL_D_SPLIT_BRAIN;
		r->want_connect = 0;
		r->conn = VG_REPL_CONN_STANDALONE;
		repl_log(r, "peer: %s: standalone, neither copy touched (gen %016llx:%016llx, peer %016llx:%016llx)",
			 why, (unsigned long long)r->md.gen[0], (unsigned long long)r->md.gen[1],
			 (unsigned long long)ph.side.gen[0], (unsigned long long)ph.side.gen[1]);
		pthread_cond_broadcast(&r->cond);
		pthread_mutex_unlock(&r->lock);
		rc = -EPROTO;
		goto out;
	}
	session = session_start(r, fd, link, d, &ph);
	if (pthread_create(&rx, NULL, repl_recv_thread, r) != 0) {
		repl_session_fail(r, "no receiver thread");
		goto out;
	}
	if (d == REPL_D_SOURCE_BITMAP || d == REPL_D_SOURCE_FULL) {
		if (repl_resync_source(r, session) == 0)
			repl_resync_finish_source(r);
		else
			repl_session_fail(r, "resync interrupted");
	}
	keepalive(r, session);
	pthread_join(rx, NULL);
out:
	free(ph.bitmap);
	repl_session_fail(r, "session ended"); /* no-op unless still published */
	/* A sender reads peer_link and writes to it under send_lock: none holds it now. */
	pthread_mutex_lock(&r->send_lock);
	repl_link_close(link);
	pthread_mutex_unlock(&r->send_lock);
	return rc;
}

static void wait_ms(struct repl *r, uint32_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += (long)(ms % 1000) * 1000000;
	ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	pthread_mutex_lock(&r->lock);
	if (!r->stopping)
		pthread_cond_timedwait(&r->cond, &r->lock, &ts);
	pthread_mutex_unlock(&r->lock);
}

void *repl_peer_thread(void *arg)
{
	struct repl *r = arg;
	int connector = strcmp(r->conf.listen, r->conf.peer) < 0, lfd = -1, fd, want;

	if (!connector && (lfd = open_listener(r)) < 0) {
		repl_log(r, "peer: cannot listen on %s: %s", r->conf.listen, strerror(-lfd));
		return NULL;
	}
	for (;;) {
		pthread_mutex_lock(&r->lock);
		while (!r->want_connect && !r->stopping)
			pthread_cond_wait(&r->cond, &r->lock);
		want = !r->stopping;
		if (want && r->conn == VG_REPL_CONN_STANDALONE)
			r->conn = VG_REPL_CONN_CONNECTING;
		pthread_mutex_unlock(&r->lock);
		if (!want)
			break;
		fd = connector ? try_connect(r) : try_accept(r, lfd);
		if (fd >= 0 && session_run(r, fd, connector) == 0)
			continue;
		if (connector)
			wait_ms(r, r->conf.connect_ms);
	}
	if (lfd >= 0)
		close(lfd);
	return NULL;
}
