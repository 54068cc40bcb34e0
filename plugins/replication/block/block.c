/*
 * block — the built-in replication backend (docs/replication.md).
 *
 * The plugin does no disk or network I/O of its own: it runs vigil-repld
 * (one helper process per instance, through vg_spawn, restarted when it
 * dies) and talks to it over the helper's control socket, one line per
 * request, without blocking vigild's loop.  status() answers from the last
 * status line, refreshed every status_interval_ms and after every request.
 * Pending requests are dropped without callback at close().  A helper found
 * already serving the control socket at open (an earlier vigild died and
 * left it running) is adopted rather than doubled (blk_adopt).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <vigil/plugin.h>

#include "nodeval.h"

#ifndef REPLD_PATH
#define REPLD_PATH "/usr/local/libexec/vigil/vigil-repld"
#endif

#define BLK_CONNECT_RETRY_MS 200
#define BLK_RESTART_MS       1000
#define BLK_REQUEST_MS       10000 /* a helper that does not answer is restarted */
#define BLK_LINE_MAX         1024

/* Appended params (addresses) go last: the order is the values' order in open(). */
enum {
	P_STORE, P_LISTEN, P_PEER, P_NBD, P_CTL, P_PROTOCOL, P_TIMEOUT_MS, P_HELPER, P_LOG,
	P_STATUS_INTERVAL_MS, P_AFTER_SPLIT_BRAIN, P_ADDRESSES, P_TLS_CERT, P_TLS_KEY, P_TLS_CA,
	P_TLS_PEER_NAME,
};

static const char *const protocols[] = { "C", "A", NULL };
static const char *const sb_policies[] = { "none", "discard-zero-changes",
					   "discard-younger-primary", "discard-secondary", NULL };

static const struct vg_param_decl blk_params[] = {
	[P_STORE] = { .name = "store", .type = VG_PARAM_PATH, .flags = VG_PARAM_REQUIRED,
		      .help = "backing file or block device (%n: node name); metadata in <store>.meta" },
	[P_LISTEN] = { .name = "listen", .type = VG_PARAM_STRING,
		       .help = "local replication address, ADDR:PORT (or use addresses)" },
	[P_PEER] = { .name = "peer", .type = VG_PARAM_STRING,
		     .help = "the peer's replication address, ADDR:PORT (or use addresses)" },
	[P_NBD] = { .name = "nbd", .type = VG_PARAM_STRING, .flags = VG_PARAM_REQUIRED,
		    .help = "where the primary serves NBD: unix:PATH (%n: node name) or ADDR:PORT" },
	[P_CTL] = { .name = "ctl", .type = VG_PARAM_PATH,
		    .help = "helper control socket (%n: node name; default <store>.ctl)" },
	[P_PROTOCOL] = { .name = "protocol", .type = VG_PARAM_ENUM, .def = "C", .choices = protocols,
			 .help = "C: ack when durable on both nodes; A: when durable locally and sent" },
	[P_TIMEOUT_MS] = { .name = "timeout_ms", .type = VG_PARAM_DURATION_MS, .def = "5000",
			   .min = 100, .max = 600000,
			   .help = "peer silent this long: the session fails" },
	[P_HELPER] = { .name = "helper", .type = VG_PARAM_PATH, .def = REPLD_PATH,
		       .help = "the vigil-repld program" },
	[P_LOG] = { .name = "log", .type = VG_PARAM_PATH,
		    .help = "helper log file (%n: node name; default: none)" },
	[P_STATUS_INTERVAL_MS] = { .name = "status_interval_ms", .type = VG_PARAM_DURATION_MS,
				   .def = "1000", .min = 50, .max = 60000,
				   .help = "how often the helper's state is read" },
	[P_AFTER_SPLIT_BRAIN] = { .name = "after_split_brain", .type = VG_PARAM_ENUM, .def = "none",
				  .choices = sb_policies,
				  .help = "split-brain recovery: none (standalone, report), "
					  "discard-zero-changes, discard-younger-primary, discard-secondary" },
	[P_ADDRESSES] = { .name = "addresses", .type = VG_PARAM_STRING,
			  .help = "\"NODE=ADDR:PORT NODE=ADDR:PORT\": this node's is listen, the "
				  "other one peer (one file for every node)" },
	[P_TLS_CERT] = { .name = "tls_cert", .type = VG_PARAM_PATH,
			 .help = "TLS on the replication link: this node's certificate (PEM, %n: node "
				 "name), signed by tls_ca; set tls_cert, tls_key and tls_ca, or none" },
	[P_TLS_KEY] = { .name = "tls_key", .type = VG_PARAM_PATH,
			.help = "the private key of tls_cert (PEM, mode 0600 or 0400)" },
	[P_TLS_CA] = { .name = "tls_ca", .type = VG_PARAM_PATH,
		       .help = "the CA the peer's certificate must be signed by" },
	[P_TLS_PEER_NAME] = { .name = "tls_peer_name", .type = VG_PARAM_STRING,
			      .help = "the name the peer's certificate must carry (subject CN or "
				      "SAN DNS name); default: the other node of addresses" },
	{ .name = NULL },
};

/* One line sent to the helper, awaiting its reply line. */
struct blk_req {
	struct blk_req *next;
	char line[64];
	vg_repl_done_cb cb;   /* NULL: an internal status poll */
	void *arg;
};

struct blk {
	const struct vg_host *host;
	const char *name;
	char *argv[32];            /* helper command line; strings below owned */
	char ctl[108], timeout[16];
	/* per-node values: %n expanded, listen/peer picked from addresses */
	char store[4096], nbd[4096], log[4096], listen[128], peer[128];
	char peer_node[64];        /* the other node named in addresses ("" without) */
	char tls_cert[4096], tls_key[4096], tls_ca[4096], tls_peer[128]; /* "" without TLS */
	struct vg_child *child;
	pid_t adopted;             /* a helper found running at open (not our child), or 0 */
	int fd;                    /* control socket, -1 when not connected */
	struct vg_watch *watch;
	struct vg_timer *poll_timer, *retry_timer, *req_timer, *fail_timer;
	struct blk_req *head, *tail;
	int sent;                  /* head's line was written */
	char rbuf[BLK_LINE_MAX];
	size_t rlen;
	struct vg_repl_status st;  /* last known */
	int have_status;
	int closing;
	/* the verify in progress: its completion, and its id once the helper took it */
	vg_repl_done_cb verify_cb;
	void *verify_arg;
	unsigned long long verify_id;
};

static void blk_spawn(struct blk *b);
static void blk_restart_cb(void *arg);
static void blk_disconnect(struct blk *b, const char *why);
static void blk_kick(struct blk *b);

static uint32_t word_index(const char *w, const char *const *names, size_t n)
{
	for (size_t i = 1; i < n; i++)
		if (strcmp(w, names[i]) == 0)
			return (uint32_t)i;
	return 0;
}

static void parse_status(struct blk *b, const char *line, struct vg_repl_status *s)
{
	static const char *const roles[] = { "", "secondary", "primary", "unknown" };
	static const char *const disks[] = { "", "diskless", "inconsistent", "outdated",
					     "uptodate", "unknown" };
	static const char *const conns[] = { "", "standalone", "connecting", "connected",
					     "sync-source", "sync-target" };
	char key[32], val[96];
	int n;

	memset(s, 0, sizeof(*s));
	for (const char *p = line + 2; sscanf(p, " %31[^=]=%95s%n", key, val, &n) == 2; p += n) {
		unsigned long long v = strtoull(val, NULL, 10);

		if (!strcmp(key, "role")) s->role = word_index(val, roles, 4);
		else if (!strcmp(key, "peer_role")) s->peer_role = word_index(val, roles, 4);
		else if (!strcmp(key, "disk")) s->disk = word_index(val, disks, 6);
		else if (!strcmp(key, "peer_disk")) s->peer_disk = word_index(val, disks, 6);
		else if (!strcmp(key, "conn")) s->conn = word_index(val, conns, 6);
		else if (!strcmp(key, "split_brain")) s->split_brain = (uint32_t)v;
		else if (!strcmp(key, "size")) s->size_bytes = v;
		else if (!strcmp(key, "oos")) s->out_of_sync_bytes = v;
		else if (!strcmp(key, "sync_total")) s->sync_total_bytes = v;
		else if (!strcmp(key, "sync_done")) s->sync_done_bytes = v;
		else if (!strcmp(key, "gen"))
			sscanf(val, "%llx:%llx:%llx:%llx", (unsigned long long *)&s->gen_current,
			       (unsigned long long *)&s->gen_bitmap,
			       (unsigned long long *)&s->gen_history[0],
			       (unsigned long long *)&s->gen_history[1]);
	}
	if (!b->have_status || s->role != b->st.role || s->conn != b->st.conn ||
	    s->disk != b->st.disk || s->split_brain != b->st.split_brain)
		vg_notice(b->host, "replication %s: role %s, disk %s, %s%s (out of sync %llu bytes)",
			  b->name, roles[s->role], disks[s->disk], conns[s->conn],
			  s->split_brain ? ", SPLIT BRAIN" : "",
			  (unsigned long long)s->out_of_sync_bytes);
}

/* A status line: complete the verify in progress when the helper says it ended. */
static void blk_verify_check(struct blk *b, const char *line)
{
	unsigned long long id = 0, diff = 0, regions = 0;
	char state[16] = "", offs[128] = "-", detail[256];
	const char *p;
	vg_repl_done_cb cb = b->verify_cb;

	if (!cb || !b->verify_id || !(p = strstr(line, " verify=")) ||
	    sscanf(p, " verify=%15s verify_id=%llu", state, &id) != 2 || id != b->verify_id)
		return;
	if (strcmp(state, "done") && strcmp(state, "failed"))
		return;
	if ((p = strstr(line, " verify_diff=")))
		sscanf(p, " verify_diff=%llu verify_regions=%llu verify_offsets=%127s", &diff, &regions,
		       offs);
	snprintf(detail, sizeof(detail), "%s: %llu bytes differ in %llu regions (offsets %s)",
		 state, diff, regions, offs);
	b->verify_cb = NULL;
	b->verify_id = 0;
	if (diff)
		vg_warn(b->host, "replication %s: verify: %s", b->name, detail);
	else
		vg_notice(b->host, "replication %s: verify: %s", b->name, detail);
	cb(b->verify_arg, strcmp(state, "done") ? -ECONNRESET : 0, detail);
}

/* The reply to the head request arrived. */
static void blk_reply(struct blk *b, const char *line)
{
	struct blk_req *q = b->head;
	int rc = 0;
	const char *detail = line;

	b->head = q->next;
	if (!b->head)
		b->tail = NULL;
	b->sent = 0;
	vg_timer_stop(b->host, b->req_timer);
	b->req_timer = NULL;
	if (strncmp(line, "ok", 2) == 0 && !q->cb) {
		struct vg_repl_status st;

		parse_status(b, line, &st);
		b->st = st;
		b->have_status = 1;
		blk_verify_check(b, line);
	} else if (strncmp(line, "err ", 4) == 0) {
		rc = (int)strtol(line + 4, (char **)&detail, 10);
		rc = rc < 0 ? rc : -EIO;
		detail += *detail == ' ';
	}
	if (q->cb)
		q->cb(q->arg, rc, detail);
	free(q);
	blk_kick(b);
}

static void blk_readable(struct blk *b)
{
	ssize_t n = read(b->fd, b->rbuf + b->rlen, sizeof(b->rbuf) - 1 - b->rlen);
	char *nl;

	if (n <= 0) {
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		blk_disconnect(b, n == 0 ? "helper closed the control socket" : strerror(errno));
		return;
	}
	b->rlen += (size_t)n;
	b->rbuf[b->rlen] = '\0';
	while (b->fd >= 0 && (nl = strchr(b->rbuf, '\n'))) {
		*nl = '\0';
		if (b->head && b->sent)
			blk_reply(b, b->rbuf);
		b->rlen -= (size_t)(nl + 1 - b->rbuf);
		memmove(b->rbuf, nl + 1, b->rlen + 1);
	}
	if (b->rlen == sizeof(b->rbuf) - 1)
		blk_disconnect(b, "reply line too long");
}

static void blk_fd_cb(void *arg, int fd, uint32_t events)
{
	struct blk *b = arg;

	if (events & (VG_FD_READ | VG_FD_ERROR))
		blk_readable(b);
}

static void blk_req_timeout(void *arg)
{
	struct blk *b = arg;

	b->req_timer = NULL;
	vg_warn(b->host, "replication %s: helper did not answer in %d ms: restarting it", b->name,
		BLK_REQUEST_MS);
	blk_disconnect(b, "request timed out");
	vg_child_cancel(b->host, b->child);
}

static void blk_fail_cb(void *arg)
{
	struct blk *b = arg;

	b->fail_timer = NULL;
	blk_disconnect(b, "cannot write to the control socket");
}

/* Send the head request if none is outstanding.  A line is tiny: it fits the socket buffer. */
static void blk_kick(struct blk *b)
{
	size_t len;

	if (b->fd < 0 || !b->head || b->sent)
		return;
	len = strlen(b->head->line);
	if (send(b->fd, b->head->line, len, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)len) {
		/* Maybe inside promote(): fail the requests from the loop, not from here. */
		if (!b->fail_timer)
			vg_timer_start(b->host, 0, 0, blk_fail_cb, b, &b->fail_timer);
		return;
	}
	b->sent = 1;
	vg_timer_start(b->host, BLK_REQUEST_MS, 0, blk_req_timeout, b, &b->req_timer);
}

static int blk_queue(struct blk *b, const char *line, vg_repl_done_cb cb, void *arg)
{
	struct blk_req *q = calloc(1, sizeof(*q));

	if (!q)
		return -ENOMEM;
	snprintf(q->line, sizeof(q->line), "%s\n", line);
	q->cb = cb;
	q->arg = arg;
	if (b->tail)
		b->tail->next = q;
	else
		b->head = q;
	b->tail = q;
	blk_kick(b);
	return 0;
}

static void blk_poll_cb(void *arg)
{
	struct blk *b = arg;

	if (b->fd >= 0 && !b->head)
		blk_queue(b, "status", NULL, NULL);
}

static void blk_try_connect(void *arg)
{
	struct blk *b = arg;
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	int fd;

	b->retry_timer = NULL;
	snprintf(un.sun_path, sizeof(un.sun_path), "%s", b->ctl);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&un, sizeof(un)) == 0 &&
	    vg_fd_watch(b->host, fd, VG_FD_READ, blk_fd_cb, b, &b->watch) == 0) {
		b->fd = fd;
		vg_info(b->host, "replication %s: connected to helper at %s", b->name, b->ctl);
		blk_poll_cb(b);
		return;
	}
	if (fd >= 0)
		close(fd);
	if (b->child)
		vg_timer_start(b->host, BLK_CONNECT_RETRY_MS, 0, blk_try_connect, b, &b->retry_timer);
}

/* Lose the control connection: outstanding requests fail with -ENOTCONN. */
static void blk_disconnect(struct blk *b, const char *why)
{
	struct blk_req *q;

	if (b->fd >= 0) {
		vg_warn(b->host, "replication %s: helper control connection lost: %s", b->name, why);
		vg_fd_unwatch(b->host, b->watch);
		b->watch = NULL;
		close(b->fd);
		b->fd = -1;
	}
	vg_timer_stop(b->host, b->req_timer);
	b->req_timer = NULL;
	b->rlen = 0;
	b->sent = 0;
	while ((q = b->head)) {
		b->head = q->next;
		if (q->cb)
			q->cb(q->arg, -ENOTCONN, "helper not reachable");
		free(q);
	}
	b->tail = NULL;
	b->have_status = 0;
	if (b->verify_cb && !b->closing) {
		vg_repl_done_cb cb = b->verify_cb;

		b->verify_cb = NULL;
		b->verify_id = 0;
		cb(b->verify_arg, -ENOTCONN, "helper not reachable");
	}
	if (b->child && !b->retry_timer && !b->closing)
		vg_timer_start(b->host, BLK_CONNECT_RETRY_MS, 0, blk_try_connect, b, &b->retry_timer);
	if (b->adopted && !b->retry_timer && !b->closing) {
		vg_warn(b->host, "replication %s: the adopted vigil-repld (pid %ld) is gone: starting "
			"our own in %d ms", b->name, (long)b->adopted, BLK_RESTART_MS);
		b->adopted = 0;
		vg_timer_start(b->host, BLK_RESTART_MS, 0, blk_restart_cb, b, &b->retry_timer);
	}
}

static void blk_restart_cb(void *arg)
{
	struct blk *b = arg;

	b->retry_timer = NULL;
	blk_spawn(b);
}

static void blk_child_done(void *arg, const struct vg_child_result *res)
{
	struct blk *b = arg;

	b->child = NULL;
	vg_err(b->host, "replication %s: vigil-repld ended (%s %d): %.*s; restarting in %d ms",
	       b->name, res->exited ? "exit" : "signal", res->exited ? res->exit_code : res->signal,
	       (int)(res->output_len > 300 ? 300 : res->output_len), res->output, BLK_RESTART_MS);
	vg_timer_stop(b->host, b->retry_timer);
	b->retry_timer = NULL;
	blk_disconnect(b, "helper ended");
	vg_timer_start(b->host, BLK_RESTART_MS, 0, blk_restart_cb, b, &b->retry_timer);
}

static void blk_spawn(struct blk *b)
{
	struct vg_spawn sp = { .path = b->argv[0], .argv = b->argv, .kill_grace_ms = 5000,
			       .output_max = 4096 };

	if (vg_spawn(b->host, &sp, blk_child_done, b, &b->child) < 0) {
		vg_err(b->host, "replication %s: cannot run %s", b->name, b->argv[0]);
		vg_timer_start(b->host, BLK_RESTART_MS, 0, blk_restart_cb, b, &b->retry_timer);
		return;
	}
	vg_timer_start(b->host, BLK_CONNECT_RETRY_MS, 0, blk_try_connect, b, &b->retry_timer);
}

static void blk_build_argv(struct blk *b, const struct vg_instance *inst)
{
	const struct vg_value *v = inst->params;
	size_t n = 0;

	snprintf(b->timeout, sizeof(b->timeout), "%lld", (long long)v[P_TIMEOUT_MS].i);
	b->argv[n++] = (char *)v[P_HELPER].s;
	b->argv[n++] = "--store";    b->argv[n++] = b->store;
	b->argv[n++] = "--name";     b->argv[n++] = (char *)inst->name;
	b->argv[n++] = "--listen";   b->argv[n++] = b->listen;
	b->argv[n++] = "--peer";     b->argv[n++] = b->peer;
	b->argv[n++] = "--nbd";      b->argv[n++] = b->nbd;
	b->argv[n++] = "--ctl";      b->argv[n++] = b->ctl;
	b->argv[n++] = "--protocol"; b->argv[n++] = (char *)v[P_PROTOCOL].s;
	b->argv[n++] = "--timeout-ms"; b->argv[n++] = b->timeout;
	if (b->log[0]) {
		b->argv[n++] = "--log";
		b->argv[n++] = b->log;
	}
	if (strcmp(v[P_AFTER_SPLIT_BRAIN].s, "none") != 0) { /* older helpers lack the option */
		b->argv[n++] = "--after-split-brain";
		b->argv[n++] = (char *)v[P_AFTER_SPLIT_BRAIN].s;
	}
	if (b->tls_cert[0]) { /* blk_tls_configure: then all four are */
		b->argv[n++] = "--tls-cert";      b->argv[n++] = b->tls_cert;
		b->argv[n++] = "--tls-key";       b->argv[n++] = b->tls_key;
		b->argv[n++] = "--tls-ca";        b->argv[n++] = b->tls_ca;
		b->argv[n++] = "--tls-peer-name"; b->argv[n++] = b->tls_peer;
	}
	b->argv[n] = NULL;
}

/*
 * TLS is cert, key and ca (%n expanded) and the peer's name, or none: half
 * of them would silently be plain TCP.  The name defaults to the other
 * node of `addresses`.
 */
static int blk_tls_configure(struct blk *b, const struct vg_instance *inst, const char *node)
{
	const struct vg_value *v = inst->params;
	int n = v[P_TLS_CERT].is_set + v[P_TLS_KEY].is_set + v[P_TLS_CA].is_set;
	const char *peer = v[P_TLS_PEER_NAME].is_set ? v[P_TLS_PEER_NAME].s : b->peer_node;

	if (n == 0 && !v[P_TLS_PEER_NAME].is_set)
		return 0;
	if (n == 0) {
		vg_err(b->host, "replication %s: tls_peer_name needs tls_cert, tls_key and tls_ca",
		       b->name);
		return -EINVAL;
	}
	if (n != 3) {
		vg_err(b->host, "replication %s: tls_cert, tls_key and tls_ca go together (%d of 3 set)",
		       b->name, n);
		return -EINVAL;
	}
	if (!peer[0]) {
		vg_err(b->host, "replication %s: TLS needs tls_peer_name (the peer node's name, as its "
		       "certificate carries it) when addresses does not name the peer", b->name);
		return -EINVAL;
	}
	if (vgc_expand_node(v[P_TLS_CERT].s, node, b->tls_cert, sizeof(b->tls_cert)) < 0 ||
	    vgc_expand_node(v[P_TLS_KEY].s, node, b->tls_key, sizeof(b->tls_key)) < 0 ||
	    vgc_expand_node(v[P_TLS_CA].s, node, b->tls_ca, sizeof(b->tls_ca)) < 0) {
		vg_err(b->host, "replication %s: a TLS path is too long", b->name);
		return -ENAMETOOLONG;
	}
	snprintf(b->tls_peer, sizeof(b->tls_peer), "%.127s", peer);
	return 0;
}

/* Per-node values: one configuration file serves both nodes of the pair. */
static int blk_configure(struct blk *b, const struct vg_instance *inst, const char *node)
{
	const struct vg_value *v = inst->params;
	char ctl[4200]; /* store (< 4096) + ".ctl" */
	int rc = 0;

	rc |= vgc_expand_node(v[P_STORE].s, node, b->store, sizeof(b->store));
	rc |= vgc_expand_node(v[P_NBD].s, node, b->nbd, sizeof(b->nbd));
	if (v[P_LOG].is_set)
		rc |= vgc_expand_node(v[P_LOG].s, node, b->log, sizeof(b->log));
	if (v[P_CTL].is_set)
		rc |= vgc_expand_node(v[P_CTL].s, node, ctl, sizeof(ctl));
	else
		snprintf(ctl, sizeof(ctl), "%s.ctl", b->store);
	if (rc || strlen(ctl) >= sizeof(b->ctl)) {
		vg_err(b->host, "replication %s: a path is too long (control socket: at most %zu bytes)",
		       b->name, sizeof(b->ctl) - 1);
		return -ENAMETOOLONG;
	}
	snprintf(b->ctl, sizeof(b->ctl), "%s", ctl);
	if (v[P_ADDRESSES].is_set && vgc_pick_addresses(v[P_ADDRESSES].s, node, b->listen, sizeof(b->listen), b->peer,
						   sizeof(b->peer), b->peer_node, sizeof(b->peer_node)) != 0) {
		vg_err(b->host, "replication %s: addresses must name %s and one peer as "
		       "NODE=ADDR:PORT, got \"%s\"", b->name, node, v[P_ADDRESSES].s);
		return -EINVAL;
	}
	if (v[P_LISTEN].is_set)
		snprintf(b->listen, sizeof(b->listen), "%.127s", v[P_LISTEN].s);
	if (v[P_PEER].is_set)
		snprintf(b->peer, sizeof(b->peer), "%.127s", v[P_PEER].s);
	if (!b->listen[0] || !b->peer[0]) {
		vg_err(b->host, "replication %s: set addresses, or both listen and peer", b->name);
		return -EINVAL;
	}
	return blk_tls_configure(b, inst, node);
}

/*
 * A helper already serving this store's control socket: one an earlier
 * vigild started before it died (the helper is not killed with it, so the
 * store stays served meanwhile).  Adopt it rather than start a second one,
 * which its store lock would refuse anyway.  It is stopped at close like
 * our own child (SIGTERM to the pid SO_PEERCRED names); if it dies, we
 * start our own.  0 when adopted.
 */
static int blk_adopt(struct blk *b)
{
	struct sockaddr_un un = { .sun_family = AF_UNIX };
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	snprintf(un.sun_path, sizeof(un.sun_path), "%s", b->ctl);
	if (fd < 0 || connect(fd, (struct sockaddr *)&un, sizeof(un)) < 0 ||
	    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid <= 0 ||
	    vg_fd_watch(b->host, fd, VG_FD_READ, blk_fd_cb, b, &b->watch) < 0) {
		if (fd >= 0)
			close(fd);
		return -ENOENT; /* nobody there (or a stale socket file): start one */
	}
	b->fd = fd;
	b->adopted = cred.pid;
	vg_warn(b->host, "replication %s: adopted the vigil-repld already serving %s (pid %ld, "
		"left by an earlier vigild; it keeps the settings it was started with)", b->name,
		b->ctl, (long)cred.pid);
	blk_poll_cb(b);
	return 0;
}

static int blk_open(const struct vg_host *host, const struct vg_instance *inst, void **state)
{
	const struct vg_node *self = vg_node_by_id(host, vg_local_node_id(host));
	struct blk *b = calloc(1, sizeof(*b));
	int rc;

	if (!b)
		return -ENOMEM;
	b->host = host;
	b->name = inst->name;
	b->fd = -1;
	/* no node table (a test's bare loop): %n and addresses cannot apply */
	rc = blk_configure(b, inst, self && self->name ? self->name : "");
	if (rc < 0) {
		free(b);
		return rc;
	}
	blk_build_argv(b, inst);
	rc = vg_timer_start(host, (uint64_t)inst->params[P_STATUS_INTERVAL_MS].i,
			    (uint64_t)inst->params[P_STATUS_INTERVAL_MS].i, blk_poll_cb, b,
			    &b->poll_timer);
	if (rc < 0) {
		free(b);
		return rc;
	}
	if (blk_adopt(b) < 0)
		blk_spawn(b);
	*state = b;
	return 0;
}

static void blk_close(void *state)
{
	struct blk *b = state;
	struct blk_req *q;

	b->closing = 1;
	while ((q = b->head)) {
		b->head = q->next;
		free(q);
	}
	vg_timer_stop(b->host, b->poll_timer);
	vg_timer_stop(b->host, b->retry_timer);
	vg_timer_stop(b->host, b->req_timer);
	vg_timer_stop(b->host, b->fail_timer);
	if (b->fd >= 0) {
		vg_fd_unwatch(b->host, b->watch);
		close(b->fd);
	}
	vg_child_cancel(b->host, b->child); /* SIGTERM: the helper stops cleanly */
	if (b->adopted)
		kill(b->adopted, SIGTERM);
	free(b);
}

static int blk_promote(void *state, uint32_t flags, vg_repl_done_cb cb, void *arg)
{
	struct blk *b = state;
	int rc;

	if (b->fd < 0)
		return -ENOTCONN;
	if (!(flags & VG_REPL_PROMOTE_FORCE) && b->have_status && b->st.disk != VG_REPL_DISK_UPTODATE)
		return -EPERM;
	rc = blk_queue(b, flags & VG_REPL_PROMOTE_FORCE ? "promote force" : "promote", cb, arg);
	if (rc == 0)
		blk_queue(b, "status", NULL, NULL); /* best effort: the poll refreshes it anyway */
	return rc;
}

static int blk_demote(void *state, vg_repl_done_cb cb, void *arg)
{
	struct blk *b = state;
	int rc;

	if (b->fd < 0)
		return -ENOTCONN;
	rc = blk_queue(b, "demote", cb, arg);
	if (rc == 0)
		blk_queue(b, "status", NULL, NULL);
	return rc;
}

static int blk_status(void *state, struct vg_repl_status *out)
{
	struct blk *b = state;

	if (!b->have_status) {
		out->role = VG_REPL_ROLE_UNKNOWN;
		out->disk = VG_REPL_DISK_DISKLESS;
		out->peer_role = VG_REPL_ROLE_UNKNOWN;
		out->peer_disk = VG_REPL_DISK_UNKNOWN;
		out->conn = VG_REPL_CONN_STANDALONE;
		return -ENOTCONN;
	}
	*out = b->st;
	return 0;
}

/* The helper took (or refused) `verify`: remember its id, the result comes with status. */
static void blk_verify_started(void *arg, int status, const char *detail)
{
	struct blk *b = arg;
	vg_repl_done_cb cb = b->verify_cb;
	const char *p = strstr(detail, "verify_id=");

	if (!cb)
		return;
	if (status == 0 && p && (b->verify_id = strtoull(p + 10, NULL, 10)) != 0) {
		blk_queue(b, "status", NULL, NULL);
		return;
	}
	b->verify_cb = NULL;
	cb(b->verify_arg, status < 0 ? status : -EIO, detail);
}

static int blk_verify(void *state, vg_repl_done_cb cb, void *arg)
{
	struct blk *b = state;
	int rc;

	if (b->fd < 0)
		return -ENOTCONN;
	if (b->verify_cb)
		return -EBUSY;
	b->verify_cb = cb;
	b->verify_arg = arg;
	b->verify_id = 0;
	rc = blk_queue(b, "verify", blk_verify_started, b);
	if (rc < 0)
		b->verify_cb = NULL;
	return rc;
}

static const struct vg_replication_ops blk_ops = {
	.promote = blk_promote,
	.demote = blk_demote,
	.status = blk_status,
	.verify = blk_verify,
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_REPLICATION,
	.name = "block",
	.version = "0.1",
	.description = "replicate a block store to one peer (protocol A/C), served over NBD",
	.params = blk_params,
	.open = blk_open,
	.close = blk_close,
	.ops = &blk_ops,
);
