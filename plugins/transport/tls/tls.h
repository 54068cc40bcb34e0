/*
 * tls — vigil transport over TLS 1.3 on TCP: private declarations shared by
 * tls.c (instance, peers, listener, send), tls_conn.c (one connection's
 * non-blocking state machine and stream framing) and tls_ctx.c (OpenSSL
 * context, certificate files, peer identity).  SDK and OpenSSL only.
 *
 * Stream format, both directions: a sequence of [length:2 big-endian][frame].
 * Each side, once it has checked the other's certificate and address,
 * writes one empty frame (length 0) first, and reports the link up only
 * when it has read the peer's: a connection either side refuses is never
 * up.  Empty frames after that are ignored.  See docs/plugins/tls.md.
 */
#ifndef VG_PLUGIN_TLS_H
#define VG_PLUGIN_TLS_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <openssl/ssl.h>

#include <vigil/plugin.h>

#include "netaddr.h"
#include "tlsname.h"

#define TLS_DEFAULT_MAX_FRAME 1400
#define TLS_RX_CHUNK          16384   /* one TLS record's plaintext at most */
#define TLS_TX_CHUNK          16384   /* bytes packed per SSL_write */
#define TLS_ADDR_TEXT         (INET6_ADDRSTRLEN + 10) /* "[addr]:port" */
#define TLS_REASON_MAX        256

/* Parameter indexes: the order of tls_params[] in tls.c. */
enum {
	P_PORT, P_CA, P_CERT, P_KEY, P_BIND, P_CONNECT_TIMEOUT, P_BACKOFF_MIN,
	P_BACKOFF_MAX, P_QUEUE_MAX, P_MAX_FRAME, P_COUNT
};

enum tls_conn_state {
	TLS_CONN_INVALID = 0,
	TLS_CONN_CONNECTING = 1, /* outbound: non-blocking connect() in progress */
	TLS_CONN_HANDSHAKE = 2,  /* TLS handshake in progress */
	TLS_CONN_WAIT_ACK = 3,   /* we accepted the peer; waiting for its empty frame */
	TLS_CONN_UP = 4,         /* frames flow; the peer's link is up */
	TLS_CONN_FAILED = 5,     /* torn down at the next loop iteration (reap timer) */
};

struct tls;
struct tls_peer;

/* One TCP connection.  Owned by its peer (peer->conn) or, inbound before
 * the peer is known, by the instance's pending list. */
struct tls_conn {
	struct tls *t;
	struct tls_peer *peer;        /* outbound: from the start; inbound: once identified
				       * (attached as peer->conn only once up) */
	int outbound;                 /* 1: we connected */
	enum tls_conn_state state;
	int fd;
	struct vg_watch *watch;
	uint32_t events;              /* events the watch asks for now */
	SSL *ssl;
	int ssl_wants_write;          /* the last SSL call waits for POLLOUT */
	struct vg_timer *deadline;    /* connect + handshake must end before it */
	struct vg_timer *reap;        /* 0 ms: tear down outside any caller's stack */
	struct vg_timer *kick;        /* 0 ms: read what OpenSSL holds already */
	char remote[TLS_ADDR_TEXT];   /* "127.0.0.2:5407", for log lines */
	struct sockaddr_storage sa;   /* remote address */
	char reason[TLS_REASON_MAX];  /* why it failed, for the link-down line */
	unsigned char *rx;            /* stream bytes not yet framed, rx_cap bytes */
	size_t rx_len, rx_cap;
	unsigned char *tx;            /* framed bytes being written, tx_cap bytes */
	size_t tx_len, tx_off, tx_cap;
	struct tls_conn *next;        /* pending list (inbound, unidentified) */
};

/* A queued frame: the length prefix is already in front. */
struct tls_frame {
	size_t len;                   /* bytes in data, prefix included */
	unsigned char data[];
};

/* Another node of the cluster on this link. */
struct tls_peer {
	struct tls *t;
	uint32_t id;
	const char *name;             /* borrowed from the host's node table */
	int has_addr;
	struct sockaddr_storage sa;   /* its address on the link, port = ours */
	socklen_t salen;
	char addr_text[TLS_ADDR_TEXT];
	int outbound;                 /* 1: our id is lower, we connect */
	struct tls_conn *conn;        /* current connection, or NULL */
	int up;                       /* link reported up */
	struct tls_frame **queue;     /* ring of queue_max frames waiting for the socket */
	size_t q_head, q_count;
	uint64_t backoff_ms;          /* next reconnect delay */
	struct vg_timer *retry;       /* one-shot: reconnect */
	char last_reason[TLS_REASON_MAX]; /* last refusal logged as a warning */
};

/* One instance: one link. */
struct tls {
	const struct vg_host *host;
	uint32_t link;
	uint16_t port;
	const char *local_name;
	uint32_t local_id;
	SSL_CTX *ctx;
	int lfd;
	struct vg_watch *lwatch;
	struct sockaddr_storage local; /* bound address (port = 0 for outbound sockets) */
	socklen_t local_len;
	int local_is_any;             /* wildcard: outbound sockets are not bound */
	uint64_t connect_timeout_ms, backoff_min_ms, backoff_max_ms;
	size_t queue_max, max_frame;
	struct tls_peer *peers;       /* every other node, owned */
	size_t n_peers;
	struct tls_conn *pending;     /* inbound, not yet identified */
	size_t n_pending;
	struct vg_timer *accept_pause; /* out of fds: accept again when it fires */
	uint64_t stranger_log_ms;     /* last warning about a non-node address */
};

/* tls.c */
void tls_addr_format(const struct sockaddr_storage *sa, char *buf, size_t len);
struct tls_peer *tls_peer_by_addr(struct tls *t, const struct sockaddr_storage *sa);
void tls_peer_queue_clear(struct tls_peer *p);
struct tls_frame *tls_peer_dequeue(struct tls_peer *p);
void tls_peer_schedule(struct tls_peer *p);
void tls_pending_unlink(struct tls *t, struct tls_conn *c);

/* tls_conn.c */
int tls_conn_new(struct tls *t, int fd, const struct sockaddr_storage *sa, int outbound,
		 struct tls_conn **out);
int tls_conn_start(struct tls_conn *c);
void tls_conn_fail(struct tls_conn *c, const char *what, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void tls_conn_destroy(struct tls_conn *c);
int tls_conn_send(struct tls_conn *c, const void *frame, size_t len);
int tls_conn_busy(const struct tls_conn *c);

/* tls_ctx.c */
int tls_ctx_open(struct tls *t, const struct vg_instance *inst);
void tls_cert_first_name(X509 *x, char *buf, size_t len);
void tls_ssl_reason(SSL *ssl, int ssl_err, int ret, char *buf, size_t len);
int tls_identify(struct tls_conn *c);

#endif /* VG_PLUGIN_TLS_H */
