/*
 * vigil-repld — the replication helper of the `block` replication plugin
 * (docs/replication.md).  One process per replicated store; plain blocking
 * threads, never linked into vigild.
 *
 * Threads: main (control socket), peer (connect/accept, handshake, resync,
 * keepalive), receiver (one per peer session), nbd (serves the store while
 * primary).  `lock` guards every member below marked [L]; `write_lock`
 * serialises application writes against session changes and resync reads
 * (the order of a local write and its send must be the order the peer
 * sees); `send_lock` keeps messages whole on the socket.  Lock order:
 * write_lock, then lock, then send_lock.
 */
#ifndef VIGIL_REPL_H
#define VIGIL_REPL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <vigil/abi.h>

#define REPL_REGION_SIZE  65536u            /* bytes per bitmap bit */
#define REPL_AL_REGIONS   64u               /* regions per activity extent (4 MiB) */
#define REPL_AL_MAX       256u              /* extents marked before the marks are dropped */
#define REPL_MAX_IO       (32u << 20)       /* largest NBD request and DATA message */
#define REPL_RS_MAX       (1u << 20)        /* largest RS_DATA message (wire version 3) */
#define REPL_INFLIGHT_MAX 4096              /* replicated writes not yet durable on the peer */
#define REPL_INFLIGHT_SYNC (REPL_INFLIGHT_MAX / 2) /* this many: the next asks the peer to sync */

/* Generation identifier of a store that never held agreed data (DRBD's "just created"). */
#define REPL_GEN_JUST_CREATED 4u

#define REPL_TLS_WHY_MAX 384     /* a TLS refusal in words */

enum { REPL_GEN_CURRENT, REPL_GEN_BITMAP, REPL_GEN_HIST0, REPL_GEN_HIST1, REPL_GEN_N };

/* Metadata flags (struct repl_meta.flags). */
#define REPL_MF_PRIMARY (1u << 0) /* set while primary: found at start = the primary crashed */
#define REPL_MF_CRASHED (1u << 1) /* the current generation was started by a crashed primary's
				     restart, after no change without the peer: its only own
				     changes are writes that were in flight (never acknowledged
				     under protocol C); cleared by promotion or a resync */
#define REPL_MF_AL      (1u << 2) /* written by a helper with an activity log: the bitmap on
				     disk covers every write that may differ after a crash */

/* What to do with a split brain (--after-split-brain).  Wire values: 0 invalid. */
enum repl_sb_policy {
	REPL_SB_INVALID = 0,
	REPL_SB_NONE = 1,                 /* stay standalone and report */
	REPL_SB_DISCARD_ZERO_CHANGES = 2, /* the side without changes since the split is the target */
	REPL_SB_DISCARD_YOUNGER_PRIMARY = 3, /* the side promoted last is the target */
	REPL_SB_DISCARD_SECONDARY = 4,    /* the side secondary at reconnect is the target */
};

/* Online verify states (status `verify=`). */
enum { REPL_V_NONE, REPL_V_RUNNING, REPL_V_DONE, REPL_V_FAILED };
#define REPL_VERIFY_LIST 8      /* differing offsets kept for the status line */
#define REPL_VERIFY_WINDOW 16   /* checksum requests awaiting the peer's answer */

/* The metadata kept in <store>.meta (repl_meta.c has the on-disk layout). */
struct repl_meta {
	uint64_t size;          /* store bytes */
	uint32_t region_size;   /* REPL_REGION_SIZE */
	uint64_t n_regions;
	uint64_t gen[REPL_GEN_N];
	uint32_t disk;          /* enum vg_repl_disk: INCONSISTENT, OUTDATED or UPTODATE */
	uint32_t flags;         /* REPL_MF_* */
	uint64_t name_id;       /* hash of the resource name: refuses a wrong peer */
	uint64_t promoted_ms;   /* wall clock of the last promotion (0: never; metadata v2) */
	uint8_t *bitmap;        /* n_regions bits, owned */
};

/* What the handshake decided (each side computes it; they must mirror). */
enum repl_decision {
	REPL_D_INVALID = 0,
	REPL_D_NONE = 1,          /* same data: no resync */
	REPL_D_SOURCE_BITMAP = 2, /* send the dirty regions */
	REPL_D_SOURCE_FULL = 3,   /* send everything */
	REPL_D_TARGET_BITMAP = 4,
	REPL_D_TARGET_FULL = 5,
	REPL_D_SPLIT_BRAIN = 6,   /* both changed since they last agreed */
	REPL_D_UNRELATED = 7,     /* no common generation at all */
};

/* One side of a handshake, what the decision depends on. */
struct repl_side {
	uint64_t gen[REPL_GEN_N];
	uint32_t role, disk, flags;
	uint64_t dirty_bits;    /* bits set in its bitmap */
	uint64_t promoted_ms;
};

/* A replicated write not yet durable on the peer (its ACK retires it). */
struct repl_inflight {
	uint64_t seq, off;
	uint32_t len;
};

struct repl_conf {
	const char *store, *meta, *name, *listen, *peer, *nbd, *ctl, *log;
	/* TLS on the peer link: all of cert, key, ca and peer_name, or none (plain TCP) */
	const char *tls_cert, *tls_key, *tls_ca, *tls_peer_name;
	char protocol;          /* 'A' or 'C' */
	uint32_t timeout_ms;    /* peer silent this long: the session fails */
	uint32_t ping_ms;
	uint32_t connect_ms;    /* retry interval */
	uint32_t after_sb;      /* enum repl_sb_policy */
};

struct repl {
	struct repl_conf conf;
	int store_fd;
	int is_blockdev;
	pthread_mutex_t lock;
	pthread_mutex_t write_lock;
	pthread_mutex_t send_lock;
	pthread_cond_t cond;     /* any change of the [L] state */
	pthread_cond_t session_cond; /* a session ended (CLOCK_MONOTONIC) */
	struct repl_meta md;     /* [L] */
	uint64_t dirty_bits;     /* [L] bits set in md.bitmap */
	/*
	 * [L] The activity log (repl_meta.c): extents of REPL_AL_REGIONS
	 * regions written since the last time both copies were known durable;
	 * the bitmap on disk claims all their regions dirty, md.bitmap stays
	 * exact.  A crashed primary resyncs these, not the whole store.
	 */
	uint8_t *al;
	uint32_t al_count;
	uint32_t role, peer_role, peer_disk, conn; /* [L] enum vg_repl_* */
	int split_brain;         /* [L] */
	int want_connect;        /* [L] 0: standalone by request or after a refusal */
	int nbd_clients;         /* [L] */
	/* The peer session. */
	int peer_fd;             /* [L] -1 when none */
	struct repl_link *peer_link; /* [L] the session's link, NULL when none; freed by the
				    peer thread under send_lock once the session ended */
	int session_up;          /* [L] writes are replicated */
	uint64_t session_id;     /* [L] bumped when a session ends */
	uint64_t next_seq;       /* [L] last sequence number sent */
	uint64_t applied_seq;    /* [L] written on the peer up to this one (APPLIED) */
	uint64_t acked_seq;      /* [L] durable on the peer up to this one (ACK) */
	struct repl_inflight inflight[REPL_INFLIGHT_MAX]; /* [L] ring */
	size_t if_head, if_len;  /* [L] */
	int rs_done_acked;       /* [L] the target confirmed the end of a resync */
	uint64_t sync_total, sync_done, resynced_total; /* [L] bytes */
	uint64_t last_rx_ms;     /* [L] */
	int stopping;            /* [L] */
	/* Online verify (repl_verify.c). */
	uint32_t verify_state;   /* [L] REPL_V_* */
	uint64_t verify_id, verify_session; /* [L] */
	uint64_t verify_sent, verify_replied; /* [L] requests */
	uint64_t verify_total, verify_done, verify_diff; /* [L] bytes */
	uint64_t verify_regions; /* [L] regions that differ */
	uint64_t verify_offs[REPL_VERIFY_LIST]; /* [L] the first differing offsets */
	FILE *log_out;           /* --log, or NULL for stderr */
	struct ssl_ctx_st *tls_ctx; /* SSL_CTX from --tls-*, NULL: plain TCP (repl_tls.c) */
	char tls_refused[REPL_TLS_WHY_MAX]; /* peer thread: the last TLS refusal logged */
};

/* repld.c */
void repl_log(struct repl *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
uint64_t repl_now_ms(void);
const char *repl_role_name(uint32_t v);
const char *repl_disk_name(uint32_t v);
const char *repl_conn_name(uint32_t v);
int repl_full_write(int fd, const void *buf, size_t len);
int repl_full_write2(int fd, const void *a, size_t alen, const void *b, size_t blen);
int repl_full_read(int fd, void *buf, size_t len);
struct sockaddr_storage;
int repl_parse_addr(const char *hostport, struct sockaddr_storage *ss, unsigned int *len);
int repl_listen(const struct sockaddr_storage *ss, unsigned int len);

/* repl_meta.c: call with r->lock held (or before threads start). */
int repl_meta_load(struct repl *r);
int repl_meta_save(struct repl *r);
void repl_meta_free(struct repl_meta *md);
int repl_bit_test(const struct repl *r, uint64_t region);
int repl_bits_set(struct repl *r, uint64_t off, uint64_t len);
void repl_bits_clear_all(struct repl *r);
int repl_al_cover(struct repl *r, uint64_t off, uint64_t len);
int repl_al_room(struct repl *r, uint64_t off, uint64_t len);
void repl_al_clear(struct repl *r);
void repl_bits_set_all(struct repl *r);
uint64_t repl_gen_new(void);
int repl_gen_start_changes(struct repl *r);
uint64_t repl_region_len(const struct repl *r, uint64_t region);

/* repl_io.c: the store, with replication (primary side). */
int repl_store_write(struct repl *r, uint64_t off, const void *buf, uint32_t len);
int repl_write(struct repl *r, uint64_t off, const void *buf, uint32_t len, int fua);
int repl_zero(struct repl *r, uint64_t off, uint32_t len, int fua);
int repl_flush(struct repl *r);
int repl_local_zero(struct repl *r, uint64_t off, uint32_t len);
void repl_session_fail(struct repl *r, const char *why);
int repl_send(struct repl *r, uint16_t type, uint64_t seq, uint64_t off,
	      const void *payload, uint32_t len);
int repl_send_flags(struct repl *r, uint16_t type, uint16_t flags, uint64_t seq, uint64_t off,
		    const void *payload, uint32_t len);

/* repl_peer.c */
void *repl_peer_thread(void *arg);

/* repl_sync.c */
enum repl_decision repl_decide(const uint64_t *l_gen, const uint64_t *p_gen);
enum repl_decision repl_decide_sides(const struct repl_side *l, const struct repl_side *p,
				     uint32_t policy, const char **how);
const char *repl_sb_policy_name(uint32_t policy);
uint32_t repl_sb_policy_parse(const char *s);
enum repl_decision repl_decision_mirror(enum repl_decision d);
const char *repl_decision_name(enum repl_decision d);
int repl_resync_source(struct repl *r, uint64_t session);
int repl_resync_finish_source(struct repl *r);
int repl_resync_finish_target(struct repl *r, const uint64_t *src_gen);

/* repl_verify.c */
int repl_verify_start(struct repl *r, uint64_t *id, const char **why);
int repl_verify_answer(struct repl *r, uint64_t id, uint64_t off, const uint8_t *digest);
void repl_verify_result(struct repl *r, uint64_t id, uint64_t off, uint32_t differs);
int repl_region_digest(struct repl *r, uint64_t off, uint8_t *buf, uint8_t *digest);
#define REPL_DIGEST_LEN 32

/* repl_tls.c: the TLS identity (docs/replication.md "TLS on the peer link"). */
struct x509_st;
struct X509_name_st;
int repl_tls_setup(struct repl *r);
void repl_tls_name_cn(struct X509_name_st *n, char *buf, size_t len);
const char *repl_tls_err(const char *dflt);

/*
 * repl_link.c: the peer connection, plain TCP or TLS.  open takes the fd
 * (closed on failure; -EACCES: refused, logged); read/write move whole
 * buffers (0 or -errno, -EPIPE at end of stream); poll: 1 readable, 0 after
 * timeout_ms, -errno; close frees it (no other thread may use it then).
 */
struct repl_link;
int repl_link_open(struct repl *r, int fd, int connector, struct repl_link **out);
int repl_link_write(struct repl_link *l, const void *buf, size_t len);
int repl_link_write2(struct repl_link *l, const void *a, size_t alen, const void *b, size_t blen);
int repl_link_pending(struct repl_link *l);
int repl_link_read(struct repl_link *l, void *buf, size_t len);
int repl_link_poll(struct repl_link *l, int timeout_ms);
void repl_link_close(struct repl_link *l);

/* repl_nbd.c */
void *repl_nbd_thread(void *arg);

/* repl_ctl.c */
int repl_ctl_serve(struct repl *r);
void repl_status_line(struct repl *r, char *buf, size_t len);

#endif
