/*
 * vigil-repld's peer link: the TCP connection of one session, plain or in
 * TLS 1.3 with mutual certificate authentication (--tls-*, repl_tls.c).
 * Without TLS every call is repl_full_read/repl_full_write on the socket:
 * the bytes on the wire are those of a helper built before this file.
 *
 * Threads.  The peer thread alone does the TLS handshake; then one receiver
 * thread reads (repl_recv.c) while other threads write, one message at a
 * time under send_lock (repl_send_flags).  An SSL object must not be used
 * by two threads at once, and TLS 1.3 couples both directions: a read may
 * have to write (an alert; a KeyUpdate answer is queued for the next
 * write), a write may find the read side's state changed.  So every SSL
 * call on a link is made under link->ssl_lock, the socket is non-blocking,
 * and a call that would block (SSL_ERROR_WANT_READ/WANT_WRITE) drops the
 * lock, waits in poll() for what OpenSSL asked, and is repeated with the
 * same arguments (as OpenSSL requires).  A reader waiting for data thus
 * never holds the lock a writer needs, nor the reverse, and each SSL call
 * holds it for one record at most (partial writes, repl_tls.c).  Every wait
 * is bounded by timeout_ms, as SO_RCVTIMEO/SO_SNDTIMEO bound the plain one.
 *
 * Acceptance.  In TLS 1.3 the client completes its handshake before the
 * server has checked the client's certificate.  So after its own checks
 * each side writes one byte, REPL_TLS_ACCEPTED, and reads the other's: a
 * side refused by its peer learns it here, before any HELLO, and a refused
 * connection never becomes a session on either side (as the `tls`
 * transport's empty frame, docs/plugins/tls.md).
 */
#include "repl.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tlsname.h"

#define REPL_TLS_ACCEPTED 0x06    /* the acceptance byte, first application data each way */
#define REPL_TLS_DRAIN_MS 200     /* a refusing side reads until the peer closes, this long at most */

struct repl_link {
	struct repl *r;
	int fd;                   /* owned */
	SSL *ssl;                 /* NULL: plain TCP; owned */
	pthread_mutex_t ssl_lock; /* held around every SSL call on ssl */
	int timeout_ms;
	int up;                   /* accepted by both sides */
	int logged;               /* a TLS error of this session was logged */
	char remote[80];          /* "ADDR:PORT" of the other end */
	char verify_why[256];     /* our verify callback's words on a refused certificate */
	char why[256];            /* the last TLS error, in words */
};

static void remote_text(struct repl_link *l)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[64], port[16];

	snprintf(l->remote, sizeof(l->remote), "(unknown)");
	if (getpeername(l->fd, (struct sockaddr *)&ss, &len) == 0 &&
	    getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), port, sizeof(port),
			NI_NUMERICHOST | NI_NUMERICSERV) == 0)
		snprintf(l->remote, sizeof(l->remote), "%s:%s", host, port);
}

/* Wait (lock not held) for what the last SSL call asked: 0, -ETIMEDOUT or -errno. */
static int tls_wait(struct repl_link *l, int ssl_err)
{
	struct pollfd pfd = { .fd = l->fd,
			      .events = ssl_err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN };
	int n;

	do
		n = poll(&pfd, 1, l->timeout_ms);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

/*
 * A failed SSL call, in l->why and as -errno: -EPIPE at the end of the
 * stream (clean or not), -errno of the socket, -EPROTO for a TLS error.
 * Once the session is up, a TLS error is logged once (the receiver only
 * logs the errno).  `saved` is errno right after the call.  Called with
 * ssl_lock held: it guards why and logged too (reader and writers).
 */
static int tls_error(struct repl_link *l, int ssl_err, int saved)
{
	unsigned long e = ERR_peek_last_error();
	int rc = -EPROTO;

	if (ssl_err == SSL_ERROR_ZERO_RETURN) {
		snprintf(l->why, sizeof(l->why), "closed by the peer");
		rc = -EPIPE;
	} else if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING ||
		   (ssl_err == SSL_ERROR_SYSCALL && !e && !saved)) {
		snprintf(l->why, sizeof(l->why), "end of stream without TLS close");
		rc = -EPIPE;
	} else if (ssl_err == SSL_ERROR_SYSCALL && !e) {
		snprintf(l->why, sizeof(l->why), "%s", strerror(saved));
		rc = -saved;
	} else {
		snprintf(l->why, sizeof(l->why), "%s", repl_tls_err("TLS error"));
	}
	ERR_clear_error();
	if (l->up && rc == -EPROTO && !l->logged) {
		l->logged = 1;
		repl_log(l->r, "peer: TLS with %s: %s", l->remote, l->why);
	}
	return rc;
}

/* One SSL_read_ex/SSL_write_ex under the lock: 0, -EAGAIN after a wait (repeat it), or -errno. */
static int tls_io(struct repl_link *l, int writing, void *buf, size_t len, size_t *done)
{
	int ok, err = SSL_ERROR_NONE, saved = 0, rc = 0;

	pthread_mutex_lock(&l->ssl_lock);
	ERR_clear_error();
	errno = 0;
	ok = writing ? SSL_write_ex(l->ssl, buf, len, done) : SSL_read_ex(l->ssl, buf, len, done);
	if (!ok) {
		saved = errno;
		err = SSL_get_error(l->ssl, 0);
		if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
			rc = tls_error(l, err, saved);
	}
	pthread_mutex_unlock(&l->ssl_lock);
	if (ok)
		return 0;
	if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
		rc = tls_wait(l, err);
		return rc < 0 ? rc : -EAGAIN;
	}
	return rc;
}

/* 0 once all `len` bytes are written; -errno otherwise. */
int repl_link_write(struct repl_link *l, const void *buf, size_t len)
{
	const char *p = buf;
	size_t n = 0;
	int rc;

	if (!l->ssl)
		return repl_full_write(l->fd, buf, len);
	while (len > 0) {
		rc = tls_io(l, 1, (void *)p, len, &n);
		if (rc == -EAGAIN)
			continue;
		if (rc < 0)
			return rc;
		p += n;
		len -= n;
	}
	return 0;
}

/* A message's header and payload: one sendmsg on a plain link (one segment, one wakeup). */
int repl_link_write2(struct repl_link *l, const void *a, size_t alen, const void *b, size_t blen)
{
	int rc;

	if (!l->ssl)
		return repl_full_write2(l->fd, a, alen, b, blen);
	rc = repl_link_write(l, a, alen);
	return rc == 0 && blen ? repl_link_write(l, b, blen) : rc;
}

/* Whether bytes of the stream are already waiting (in the socket, or decrypted by OpenSSL). */
int repl_link_pending(struct repl_link *l)
{
	int n = 0;

	if (l->ssl) {
		pthread_mutex_lock(&l->ssl_lock);
		n = SSL_has_pending(l->ssl);
		pthread_mutex_unlock(&l->ssl_lock);
		if (n)
			return 1;
	}
	return ioctl(l->fd, FIONREAD, &n) == 0 && n > 0;
}

/* 0 once all `len` bytes came; -EPIPE at the end of the stream; -ETIMEDOUT; -errno. */
int repl_link_read(struct repl_link *l, void *buf, size_t len)
{
	char *p = buf;
	size_t n = 0;
	int rc;

	if (!l->ssl)
		return repl_full_read(l->fd, buf, len);
	while (len > 0) {
		rc = tls_io(l, 0, p, len, &n);
		if (rc == -EAGAIN)
			continue;
		if (rc < 0)
			return rc;
		p += n;
		len -= n;
	}
	return 0;
}

/*
 * Something to read within timeout_ms: 1, 0 on timeout, -errno (-EINTR
 * included).  Plaintext OpenSSL already holds counts: the socket would not
 * show it.  After the handshake the peer sends nothing but application
 * records (no tickets, no key update: repl_tls.c), so a readable socket
 * means a message is coming.
 */
int repl_link_poll(struct repl_link *l, int timeout_ms)
{
	struct pollfd pfd = { .fd = l ? l->fd : -1, .events = POLLIN };
	int n, pending = 0;

	if (!l)
		return -ENOTCONN;
	if (l->ssl) {
		pthread_mutex_lock(&l->ssl_lock);
		pending = SSL_has_pending(l->ssl);
		pthread_mutex_unlock(&l->ssl_lock);
	}
	if (pending)
		return 1;
	n = poll(&pfd, 1, timeout_ms);
	return n < 0 ? -errno : n;
}

/* The words of a refused certificate, kept by the first verify failure. */
static int verify_cb(int ok, X509_STORE_CTX *sc)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(sc, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct repl_link *l = ssl ? SSL_get_app_data(ssl) : NULL;
	X509 *x = X509_STORE_CTX_get_current_cert(sc);
	char subj[64], issuer[80];

	if (ok || !l || l->verify_why[0])
		return ok;
	repl_tls_name_cn(x ? X509_get_subject_name(x) : NULL, subj, sizeof(subj));
	repl_tls_name_cn(x ? X509_get_issuer_name(x) : NULL, issuer, sizeof(issuer));
	snprintf(l->verify_why, sizeof(l->verify_why),
		 "certificate \"%s\" (issuer \"%s\") does not verify against the CA %s: %s",
		 subj, issuer, l->r->conf.tls_ca,
		 X509_verify_cert_error_string(X509_STORE_CTX_get_error(sc)));
	return ok;
}

/* Who ended a TLS connection that never became a session. */
enum link_end { LINK_REFUSED, LINK_REFUSED_BY_PEER, LINK_FAILED };

/*
 * A connection that never became a session, logged once as long as the
 * reason stays the same (the connector retries every connect_ms; the same
 * line again says nothing new).
 */
static void link_refused(struct repl_link *l, enum link_end who, const char *why)
{
	struct repl *r = l->r;

	if (!strcmp(r->tls_refused, why))
		return;
	snprintf(r->tls_refused, sizeof(r->tls_refused), "%s", why);
	switch (who) {
	case LINK_REFUSED:
		repl_log(r, "peer: TLS with %s refused: %s", l->remote, why);
		break;
	case LINK_REFUSED_BY_PEER:
		repl_log(r, "peer: TLS with %s: the peer refused us (see its log): %s", l->remote, why);
		break;
	case LINK_FAILED:
		repl_log(r, "peer: TLS with %s failed: %s", l->remote, why);
		break;
	}
}

/* Why the handshake failed, and who ended it. */
static enum link_end handshake_why(struct repl_link *l, int ssl_err, int saved, char *why,
				   size_t len)
{
	unsigned long e = ERR_peek_last_error();
	int reason = ERR_GET_REASON(e);

	if (SSL_get_verify_result(l->ssl) != X509_V_OK) {
		snprintf(why, len, "%s", l->verify_why[0] ? l->verify_why :
			 X509_verify_cert_error_string(SSL_get_verify_result(l->ssl)));
		return LINK_REFUSED;
	}
	if (ERR_GET_LIB(e) == ERR_LIB_SSL && reason == SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE) {
		snprintf(why, len, "it sent no certificate (expected one naming \"%s\")",
			 l->r->conf.tls_peer_name);
		return LINK_REFUSED;
	}
	if (ERR_GET_LIB(e) == ERR_LIB_SSL && reason >= SSL_AD_REASON_OFFSET) {
		snprintf(why, len, "%s", repl_tls_err("alert")); /* an alert the peer sent */
		return LINK_REFUSED_BY_PEER;
	}
	if (!e && (ssl_err == SSL_ERROR_SYSCALL || ssl_err == SSL_ERROR_ZERO_RETURN)) {
		snprintf(why, len, "the connection ended during the TLS handshake (%s): "
			 "does the peer run without TLS?", saved ? strerror(saved) : "end of stream");
		return LINK_FAILED;
	}
	snprintf(why, len, "TLS handshake: %s", repl_tls_err("unknown error"));
	return LINK_FAILED;
}

/*
 * A refused connection: end our side, then read (and drop) what the peer
 * still sends until it closes, so that our alert or close_notify reaches
 * it rather than a reset that would discard it.
 */
static void drain_close(struct repl_link *l)
{
	struct pollfd pfd = { .fd = l->fd, .events = POLLIN };
	uint64_t end = repl_now_ms() + REPL_TLS_DRAIN_MS, now;
	char buf[256];

	shutdown(l->fd, SHUT_WR);
	while ((now = repl_now_ms()) < end && poll(&pfd, 1, (int)(end - now)) > 0 &&
	       read(l->fd, buf, sizeof(buf)) > 0)
		;
}

static int tls_handshake(struct repl_link *l, int connector)
{
	char why[REPL_TLS_WHY_MAX];
	int ret, err, saved, rc;

	for (;;) {
		ERR_clear_error();
		errno = 0;
		ret = connector ? SSL_connect(l->ssl) : SSL_accept(l->ssl);
		if (ret == 1)
			return 0;
		saved = errno;
		err = SSL_get_error(l->ssl, ret);
		if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE)
			break;
		rc = tls_wait(l, err);
		if (rc < 0) {
			snprintf(why, sizeof(why), "no TLS handshake within %d ms", l->timeout_ms);
			link_refused(l, LINK_FAILED, why);
			return rc;
		}
	}
	link_refused(l, handshake_why(l, err, saved, why, sizeof(why)), why);
	ERR_clear_error();
	drain_close(l);
	return -EACCES;
}

/* After the handshake: the peer's certificate must name --tls-peer-name; then both accept. */
static int tls_accept_peer(struct repl_link *l)
{
	X509 *x = SSL_get0_peer_certificate(l->ssl);
	const char *want = l->r->conf.tls_peer_name;
	uint8_t yes = REPL_TLS_ACCEPTED, theirs = 0;
	char name[64], why[REPL_TLS_WHY_MAX];
	int rc;

	repl_tls_name_cn(x ? X509_get_subject_name(x) : NULL, name, sizeof(name));
	if (!x || !vgc_tls_cert_names(x, want)) {
		snprintf(why, sizeof(why), "certificate names \"%s\", expected \"%s\" (--tls-peer-name)",
			 name, want);
		link_refused(l, LINK_REFUSED, why);
		SSL_shutdown(l->ssl);
		ERR_clear_error();
		drain_close(l);
		return -EACCES;
	}
	rc = repl_link_write(l, &yes, 1);
	if (rc == 0)
		rc = repl_link_read(l, &theirs, 1);
	if (rc == 0 && theirs != REPL_TLS_ACCEPTED) {
		snprintf(l->why, sizeof(l->why), "acceptance byte 0x%02x, expected 0x%02x", theirs, yes);
		rc = -EPROTO;
	}
	if (rc == -ETIMEDOUT)
		snprintf(l->why, sizeof(l->why), "no answer within %d ms", l->timeout_ms);
	if (rc < 0) {
		snprintf(why, sizeof(why), "the connection ended before it accepted ours: %s", l->why);
		link_refused(l, LINK_REFUSED_BY_PEER, why);
		return -EACCES;
	}
	l->up = 1;
	l->r->tls_refused[0] = '\0';
	repl_log(l->r, "peer: TLS with %s: %s %s, its certificate names \"%s\"", l->remote,
		 SSL_get_version(l->ssl), SSL_get_cipher_name(l->ssl), want);
	return 0;
}

static int tls_start(struct repl_link *l, int connector)
{
	int fl = fcntl(l->fd, F_GETFL);
	int rc;

	if (fl < 0 || fcntl(l->fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	l->ssl = SSL_new(l->r->tls_ctx);
	if (!l->ssl || SSL_set_fd(l->ssl, l->fd) != 1) {
		repl_log(l->r, "peer: TLS: SSL_new: %s", repl_tls_err("out of memory"));
		ERR_clear_error();
		return -ENOMEM;
	}
	SSL_set_app_data(l->ssl, l);
	SSL_set_verify(l->ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, verify_cb);
	rc = tls_handshake(l, connector);
	return rc < 0 ? rc : tls_accept_peer(l);
}

/*
 * Take the connected socket `fd` (owned from now on, even on failure) and
 * make it a link: with TLS, the handshake and both sides' acceptance,
 * within timeout_ms each.  -EACCES: refused (logged); *out is then NULL.
 */
int repl_link_open(struct repl *r, int fd, int connector, struct repl_link **out)
{
	struct repl_link *l = calloc(1, sizeof(*l));
	int rc = 0;

	*out = NULL;
	if (!l) {
		close(fd);
		return -ENOMEM;
	}
	*l = (struct repl_link){ .r = r, .fd = fd, .timeout_ms = (int)r->conf.timeout_ms };
	pthread_mutex_init(&l->ssl_lock, NULL);
	if (r->tls_ctx) {
		remote_text(l);
		rc = tls_start(l, connector);
	}
	if (rc < 0) {
		repl_link_close(l);
		return rc;
	}
	*out = l;
	return 0;
}

/* Free the link and close its socket.  No other thread may use it any more (send_lock). */
void repl_link_close(struct repl_link *l)
{
	if (!l)
		return;
	SSL_free(l->ssl);
	close(l->fd);
	pthread_mutex_destroy(&l->ssl_lock);
	free(l);
}
