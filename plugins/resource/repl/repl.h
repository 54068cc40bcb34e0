/*
 * repl plugin: what its files share.  repl.c: the actions; repl_ctl.c: the
 * helper's control socket; repl_conf.c: per-node values and validation.
 */
#ifndef VG_REPL_RSC_H
#define VG_REPL_RSC_H

#include <stddef.h>
#include <stdint.h>

#include <vigil/plugin.h>

#include "pidfile.h"

#define REPL_CTL_MS           3000  /* one control request, at most */
#define REPL_LINE_MAX         1024
#define REPL_GEN_JUST_CREATED 4ull  /* vigil-repld: a store that never held agreed data */

/* Indexes into the declaration table (repl.c): open() gets the values in this order. */
enum {
	P_STORE, P_LISTEN, P_PEER, P_ADDRESSES, P_NBD, P_PROTOCOL, P_CONTROL, P_PIDFILE,
	P_HELPER, P_LOG, P_TIMEOUT_MS, P_INITIAL_PRIMARY, P_STOP_GRACE_MS, P_AFTER_SPLIT_BRAIN,
	P_TLS_CERT, P_TLS_KEY, P_TLS_CA, P_TLS_PEER_NAME,
};

struct repl;
struct repl_op;

/* A control reply: rc 0 ("ok ..."), the helper's negative errno, or a transport error. */
typedef void (*repl_reply_cb)(struct repl_op *op, int rc, const char *line);

/* What vigil-repld's `status` says, the fields used here. */
struct repl_status {
	char role[16], peer_role[16], disk[16], peer_disk[16], conn[16];
	int split_brain;
	unsigned long long gen;
};

struct repl_op {
	struct repl *r;
	struct repl_op *next;
	uint64_t id;
	uint32_t action;
	vg_rsc_done_cb cb;
	void *arg;
	int status;               /* -ETIMEDOUT / -ECANCELED decided early */
	int rc;
	const char *text;         /* meta-data; borrowed */
	char msg[1024];
	struct vg_timer *timer;   /* report, poll, retry */
	struct vg_timer *deadline;
	struct vg_child *child;   /* launcher */
	struct proc_ident ident;
	uint64_t since_ms;
	int killed, busy_logged;
	/* the control request in flight */
	char req[32];
	repl_reply_cb on_reply;
	int fd;
	struct vg_watch *watch;
	struct vg_timer *ctl_timer;
	char rbuf[REPL_LINE_MAX];
	size_t rlen;
};

struct repl {
	const struct vg_host *host;
	const char *name;          /* instance name, borrowed */
	const char *node;          /* local node name, borrowed from the core */
	const struct vg_value *params;
	const char *initial_primary;
	uint64_t stop_grace_ms;
	char store[4096], pidfile[4096], log[4096], nbd[4096];
	char ctl[108], listen[128], peer[128], timeout[16];
	char peer_node[64];        /* the other node in addresses ("" without it) */
	char tls_cert[4096], tls_key[4096], tls_ca[4096]; /* %n expanded */
	char *argv[40];            /* env --default-signal helper ...; strings above */
	char *meta;
	uint64_t next_id;
	struct repl_op *ops;
};

/* repl_conf.c */
/* Per-node values (%n, addresses) and the helper's command line: 0 or -errno (logged). */
int repl_configure(struct repl *r, const struct vg_value *v);
/* validate: 0, or -errno with one line in errbuf. */
int repl_check(const struct vg_value *v, char *errbuf, size_t errlen);

/* repl_ctl.c */
/* Send `line` to the helper; `cb` gets the reply, always later, from the loop. */
int repl_ctl(struct repl_op *op, const char *line, repl_reply_cb cb);
/* Drop the request in flight, if any, without its callback. */
void repl_ctl_close(struct repl_op *op);
/* The fields of a `status` reply line ("ok role=..."). */
void repl_parse_status(const char *line, struct repl_status *s);

#endif
