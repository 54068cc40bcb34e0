/*
 * vigil-repld online verify: compare both copies without stopping.  The
 * side asked (`verify` on the control socket) reads each region and its
 * SHA-256 under write_lock and sends the checksum (OV_REQ) in the stream
 * of replicated writes; the peer's receiver, which applies that stream in
 * order, checksums the same region as of the same point and answers
 * whether it differs (OV_REPLY).  Differences are logged and counted, not
 * repaired.  Run from the primary for exact results under writes: asked
 * on the secondary, a region written meanwhile may be reported.
 */
#include "repl.h"
#include "repl_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

/* SHA-256 of the region at `off` (buf: REPL_REGION_SIZE bytes). */
int repl_region_digest(struct repl *r, uint64_t off, uint8_t *buf, uint8_t *digest)
{
	uint64_t len = repl_region_len(r, off / REPL_REGION_SIZE);
	unsigned int dlen = 0;

	if (pread(r->store_fd, buf, len, (off_t)off) != (ssize_t)len)
		return -EIO;
	if (!EVP_Digest(buf, len, digest, &dlen, EVP_sha256(), NULL) || dlen != REPL_DIGEST_LEN)
		return -EIO;
	return 0;
}

/* The peer's side: from the receiver thread, in stream order. */
int repl_verify_answer(struct repl *r, uint64_t id, uint64_t off, const uint8_t *digest)
{
	uint8_t mine[REPL_DIGEST_LEN], res[4], *buf = malloc(REPL_REGION_SIZE);
	uint32_t differs;
	int rc;

	if (!buf)
		return -ENOMEM;
	rc = repl_region_digest(r, off, buf, mine);
	free(buf);
	if (rc < 0)
		return rc;
	differs = memcmp(mine, digest, REPL_DIGEST_LEN) != 0;
	if (differs)
		repl_log(r, "verify: region at offset %llu (%llu bytes) differs from the peer's",
			 (unsigned long long)off,
			 (unsigned long long)repl_region_len(r, off / REPL_REGION_SIZE));
	repl_put32(res, differs);
	return repl_send(r, REPL_MSG_OV_REPLY, id, off, res, sizeof(res));
}

/* The asking side: one answer. */
void repl_verify_result(struct repl *r, uint64_t id, uint64_t off, uint32_t differs)
{
	uint64_t len = repl_region_len(r, off / REPL_REGION_SIZE);

	pthread_mutex_lock(&r->lock);
	if (id == r->verify_id && r->verify_state == REPL_V_RUNNING &&
	    r->verify_replied < r->verify_sent) {
		r->verify_replied++;
		r->verify_done += len;
		if (differs) {
			if (r->verify_regions < REPL_VERIFY_LIST)
				r->verify_offs[r->verify_regions] = off;
			r->verify_regions++;
			r->verify_diff += len;
			repl_log(r, "verify: region at offset %llu (%llu bytes) DIFFERS between the copies",
				 (unsigned long long)off, (unsigned long long)len);
		}
		pthread_cond_broadcast(&r->cond);
	}
	pthread_mutex_unlock(&r->lock);
}

static int verify_alive(struct repl *r)
{
	return r->session_id == r->verify_session && r->session_up && !r->stopping;
}

/* Checksum and send one region, ordered with the replicated writes. */
static int verify_region(struct repl *r, uint64_t region, uint8_t *buf)
{
	uint8_t digest[REPL_DIGEST_LEN];
	uint64_t off = region * REPL_REGION_SIZE, id;
	int rc;

	pthread_mutex_lock(&r->lock);
	while (verify_alive(r) && r->verify_sent - r->verify_replied >= REPL_VERIFY_WINDOW)
		pthread_cond_wait(&r->cond, &r->lock);
	rc = verify_alive(r) ? 0 : -ECONNRESET;
	id = r->verify_id;
	pthread_mutex_unlock(&r->lock);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&r->write_lock);
	rc = repl_region_digest(r, off, buf, digest);
	if (rc == 0) {
		pthread_mutex_lock(&r->lock);
		r->verify_sent++;
		pthread_mutex_unlock(&r->lock);
		rc = repl_send(r, REPL_MSG_OV_REQ, id, off, digest, sizeof(digest));
	}
	pthread_mutex_unlock(&r->write_lock);
	return rc;
}

static void *verify_thread(void *arg)
{
	struct repl *r = arg;
	uint8_t *buf = malloc(REPL_REGION_SIZE);
	int rc = buf ? 0 : -ENOMEM;

	for (uint64_t i = 0; rc == 0 && i < r->md.n_regions; i++)
		rc = verify_region(r, i, buf);
	free(buf);
	pthread_mutex_lock(&r->lock);
	while (rc == 0 && verify_alive(r) && r->verify_replied < r->verify_sent)
		pthread_cond_wait(&r->cond, &r->lock);
	if (rc == 0 && r->verify_replied < r->verify_sent)
		rc = -ECONNRESET;
	r->verify_state = rc == 0 ? REPL_V_DONE : REPL_V_FAILED;
	repl_log(r, "verify %llu: %s: %llu of %llu bytes compared, %llu regions differ (%llu bytes)",
		 (unsigned long long)r->verify_id, rc == 0 ? "done" : strerror(-rc),
		 (unsigned long long)r->verify_done, (unsigned long long)r->verify_total,
		 (unsigned long long)r->verify_regions, (unsigned long long)r->verify_diff);
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Start a verify of the whole store; *id names it in the status line. */
int repl_verify_start(struct repl *r, uint64_t *id, const char **why)
{
	pthread_t t;
	int rc = 0;

	pthread_mutex_lock(&r->lock);
	if (r->verify_state == REPL_V_RUNNING) {
		*why = "a verify is running";
		rc = -EBUSY;
	} else if (!r->session_up || r->conn != VG_REPL_CONN_CONNECTED) {
		*why = "not connected to the peer (or resyncing)";
		rc = -ENOTCONN;
	}
	if (rc == 0) {
		*id = ++r->verify_id;
		r->verify_session = r->session_id;
		r->verify_sent = r->verify_replied = 0;
		r->verify_total = r->md.size;
		r->verify_done = r->verify_diff = r->verify_regions = 0;
		r->verify_state = REPL_V_RUNNING;
		repl_log(r, "verify %llu: comparing %llu bytes with the peer", (unsigned long long)*id,
			 (unsigned long long)r->md.size);
		if (pthread_create(&t, NULL, verify_thread, r) != 0) {
			r->verify_state = REPL_V_FAILED;
			*why = "no verify thread";
			rc = -EAGAIN;
		} else {
			pthread_detach(t);
		}
	}
	pthread_mutex_unlock(&r->lock);
	return rc;
}
