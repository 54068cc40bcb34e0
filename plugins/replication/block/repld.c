/*
 * vigil-repld: the replication helper the `block` plugin supervises.
 *
 *   vigil-repld --store PATH --name NAME --listen ADDR:PORT --peer ADDR:PORT
 *               --nbd unix:PATH --ctl PATH [--meta PATH] [--protocol A|C]
 *               [--timeout-ms N] [--ping-ms N] [--connect-ms N] [--log PATH]
 *               [--after-split-brain none|discard-zero-changes|
 *                                    discard-younger-primary|discard-secondary]
 *               [--tls-cert PATH --tls-key PATH --tls-ca PATH --tls-peer-name NAME]
 *
 * It starts as secondary and connecting.  SIGTERM/SIGINT: a clean stop
 * (a primary clears its crash mark once no write is half-way).
 */
#include "repl.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/fs.h>
#include <netdb.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

static const char *const role_names[] = { "invalid", "secondary", "primary", "unknown" };
static const char *const disk_names[] = { "invalid", "diskless", "inconsistent", "outdated",
					  "uptodate", "unknown" };
static const char *const conn_names[] = { "invalid", "standalone", "connecting", "connected",
					  "sync-source", "sync-target" };

const char *repl_role_name(uint32_t v) { return v < 4 ? role_names[v] : "invalid"; }
const char *repl_disk_name(uint32_t v) { return v < 6 ? disk_names[v] : "invalid"; }
const char *repl_conn_name(uint32_t v) { return v < 6 ? conn_names[v] : "invalid"; }

void repl_log(struct repl *r, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	clock_gettime(CLOCK_REALTIME, &ts);
	fprintf(r->log_out ? r->log_out : stderr, "%lld.%03ld vigil-repld[%s]: %s\n", (long long)ts.tv_sec,
		ts.tv_nsec / 1000000, r->conf.name, line);
	fflush(r->log_out ? r->log_out : stderr);
}

uint64_t repl_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int repl_full_write(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == ENOTSOCK)
			n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Header and payload in one sendmsg where possible: one segment, one wakeup. */
int repl_full_write2(int fd, const void *a, size_t alen, const void *b, size_t blen)
{
	struct iovec iov[2] = { { (void *)a, alen }, { (void *)b, blen } };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = blen ? 2 : 1 };
	ssize_t n;

	do
		n = sendmsg(fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno != ENOTSOCK)
		return -errno;
	if (n < 0)
		n = 0; /* not a socket: plain writes below */
	if ((size_t)n < alen)
		return repl_full_write(fd, (const char *)a + n, alen - (size_t)n) ?:
		       (blen ? repl_full_write(fd, b, blen) : 0);
	n -= (ssize_t)alen;
	return blen ? repl_full_write(fd, (const char *)b + n, blen - (size_t)n) : 0;
}

/* "192.0.2.1:7789", "[::1]:7789" is not supported: "::1:7789" is (last colon splits). */
int repl_parse_addr(const char *hostport, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[256];
	const char *colon = strrchr(hostport, ':');
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *ai;
	size_t n;

	if (!colon || (n = (size_t)(colon - hostport)) >= sizeof(host))
		return -EINVAL;
	memcpy(host, hostport, n);
	host[n] = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
		return -EINVAL;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

/* A listening stream socket on ss: its fd, or -errno. */
int repl_listen(const struct sockaddr_storage *ss, socklen_t len)
{
	int fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (const struct sockaddr *)ss, len) < 0 || listen(fd, 4) < 0) {
		int rc = -errno;

		close(fd);
		return rc;
	}
	return fd;
}

/* 0 when all `len` bytes came; -EPIPE at end of stream. */
int repl_full_read(int fd, void *buf, size_t len)
{
	char *p = buf;

	while (len > 0) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			return -EPIPE;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* TLS is all four options or none: a half-configured link would be plain TCP unnoticed. */
static int check_tls_args(const struct repl_conf *c)
{
	int n = !!c->tls_cert + !!c->tls_key + !!c->tls_ca + !!c->tls_peer_name;

	if (n == 0 || (n == 4 && c->tls_peer_name[0]))
		return 0;
	if (n == 4)
		fprintf(stderr, "vigil-repld: --tls-peer-name must not be empty\n");
	else
		fprintf(stderr, "vigil-repld: --tls-cert, --tls-key, --tls-ca and --tls-peer-name "
			"go together, got only:%s%s%s%s\n", c->tls_cert ? " --tls-cert" : "",
			c->tls_key ? " --tls-key" : "", c->tls_ca ? " --tls-ca" : "",
			c->tls_peer_name ? " --tls-peer-name" : "");
	return -EINVAL;
}

static int parse_args(int argc, char **argv, struct repl_conf *c)
{
	static const struct option opts[] = {
		{ "store", 1, 0, 's' }, { "meta", 1, 0, 'm' }, { "name", 1, 0, 'n' },
		{ "listen", 1, 0, 'l' }, { "peer", 1, 0, 'p' }, { "nbd", 1, 0, 'b' },
		{ "ctl", 1, 0, 'c' }, { "protocol", 1, 0, 'P' }, { "timeout-ms", 1, 0, 't' },
		{ "ping-ms", 1, 0, 'i' }, { "connect-ms", 1, 0, 'r' }, { "log", 1, 0, 'L' },
		{ "after-split-brain", 1, 0, 'S' }, { "tls-cert", 1, 0, 'T' },
		{ "tls-key", 1, 0, 'K' }, { "tls-ca", 1, 0, 'A' }, { "tls-peer-name", 1, 0, 'N' },
		{ 0, 0, 0, 0 }
	};
	int o;

	*c = (struct repl_conf){ .protocol = 'C', .timeout_ms = 5000, .ping_ms = 1000,
				 .connect_ms = 500, .after_sb = REPL_SB_NONE };
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 's': c->store = optarg; break;
		case 'm': c->meta = optarg; break;
		case 'n': c->name = optarg; break;
		case 'l': c->listen = optarg; break;
		case 'p': c->peer = optarg; break;
		case 'b': c->nbd = optarg; break;
		case 'c': c->ctl = optarg; break;
		case 'P': c->protocol = optarg[0]; break;
		case 't': c->timeout_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'i': c->ping_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'r': c->connect_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'L': c->log = optarg; break;
		case 'S': c->after_sb = repl_sb_policy_parse(optarg); break;
		case 'T': c->tls_cert = optarg; break;
		case 'K': c->tls_key = optarg; break;
		case 'A': c->tls_ca = optarg; break;
		case 'N': c->tls_peer_name = optarg; break;
		default: return -EINVAL;
		}
	}
	if (check_tls_args(c) < 0)
		return -EINVAL;
	if (!c->store || !c->name || !c->listen || !c->peer || !c->nbd || !c->ctl ||
	    (c->protocol != 'A' && c->protocol != 'C') || c->timeout_ms < 100 || c->ping_ms < 10 ||
	    c->connect_ms < 10 || c->after_sb == REPL_SB_INVALID || optind != argc)
		return -EINVAL;
	if (c->ping_ms > c->timeout_ms / 4)
		c->ping_ms = c->timeout_ms / 4; /* several pings per timeout */
	return 0;
}

static int open_store(struct repl *r)
{
	struct flock lock = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 0 };
	struct stat st;
	uint64_t size = 0;

	r->store_fd = open(r->conf.store, O_RDWR | O_CLOEXEC);
	if (r->store_fd < 0 || fstat(r->store_fd, &st) < 0)
		return -errno;
	/*
	 * One helper per store: a second one (say, started by a restarted
	 * vigild while the first still runs) would write the same blocks.
	 * A POSIX lock, so that the holder's pid can be named; the store fd is
	 * the only one this process opens on the store, so it holds.
	 */
	if (fcntl(r->store_fd, F_SETLK, &lock) < 0) {
		int rc = -errno;

		if ((rc == -EAGAIN || rc == -EACCES) && fcntl(r->store_fd, F_GETLK, &lock) == 0 &&
		    lock.l_type != F_UNLCK)
			repl_log(r, "store %s is in use by another process (pid %ld, a vigil-repld?): "
				 "one helper per store", r->conf.store, (long)lock.l_pid);
		return rc == -EACCES ? -EAGAIN : rc;
	}
	r->is_blockdev = S_ISBLK(st.st_mode);
	if (r->is_blockdev && ioctl(r->store_fd, BLKGETSIZE64, &size) < 0)
		return -errno;
	r->md.size = r->is_blockdev ? size : (uint64_t)st.st_size;
	if (r->md.size == 0 || (!r->is_blockdev && !S_ISREG(st.st_mode)))
		return -EINVAL;
	return 0;
}

/* SIGTERM/SIGINT: wait for the write in progress, clear the crash mark, exit. */
static void *signal_thread(void *arg)
{
	struct repl *r = arg;
	sigset_t set;
	int sig = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigwait(&set, &sig);
	pthread_mutex_lock(&r->write_lock);
	pthread_mutex_lock(&r->lock);
	r->stopping = 1;
	fdatasync(r->store_fd);
	if ((r->md.flags & REPL_MF_PRIMARY) || r->al_count) {
		/* Every write is durable here; with none in flight to the peer either, no log. */
		r->md.flags &= ~REPL_MF_PRIMARY;
		if (!r->session_up || r->if_len == 0)
			repl_al_clear(r);
		repl_meta_save(r);
	}
	repl_log(r, "stopping on signal %d", sig);
	exit(0);
	return NULL;
}

static int start_threads(struct repl *r)
{
	pthread_t t;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (pthread_create(&t, NULL, signal_thread, r) != 0 ||
	    pthread_create(&t, NULL, repl_peer_thread, r) != 0 ||
	    pthread_create(&t, NULL, repl_nbd_thread, r) != 0)
		return -EAGAIN;
	return 0;
}

int main(int argc, char **argv)
{
	static struct repl r;
	char meta[4096];
	pthread_condattr_t ca;
	int rc;

	if (parse_args(argc, argv, &r.conf) < 0) {
		fprintf(stderr, "usage: vigil-repld --store PATH --name NAME --listen ADDR:PORT "
			"--peer ADDR:PORT --nbd unix:PATH --ctl PATH [--meta PATH] [--protocol A|C] "
			"[--timeout-ms N] [--ping-ms N] [--connect-ms N] [--log PATH] "
			"[--after-split-brain none|discard-zero-changes|discard-younger-primary|"
			"discard-secondary] [--tls-cert PATH --tls-key PATH --tls-ca PATH "
			"--tls-peer-name NAME]\n"
			"  --tls-*: the peer link in TLS 1.3, both sides authenticated by certificates\n"
			"  signed by the CA --tls-ca (scripts/vigil-tls-certs); the peer's must name\n"
			"  --tls-peer-name (subject CN or SAN DNS name); the key file mode 0600 or 0400\n");
		return 2;
	}
	if (r.conf.log && !(r.log_out = fopen(r.conf.log, "ae")))
		fprintf(stderr, "vigil-repld: cannot open log %s: %s\n", r.conf.log, strerror(errno));
	if (!r.conf.meta) {
		snprintf(meta, sizeof(meta), "%s.meta", r.conf.store);
		r.conf.meta = meta;
	}
	pthread_mutex_init(&r.lock, NULL);
	pthread_mutex_init(&r.write_lock, NULL);
	pthread_mutex_init(&r.send_lock, NULL);
	pthread_cond_init(&r.cond, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&r.session_cond, &ca);
	r.peer_fd = -1;
	r.role = VG_REPL_ROLE_SECONDARY;
	r.peer_role = VG_REPL_ROLE_UNKNOWN;
	r.peer_disk = VG_REPL_DISK_UNKNOWN;
	r.conn = VG_REPL_CONN_CONNECTING;
	r.want_connect = 1;
	if (repl_tls_setup(&r) < 0) {
		repl_log(&r, "cannot start: TLS is not usable (above)");
		return 1;
	}
	rc = open_store(&r);
	if (rc < 0) {
		repl_log(&r, "cannot use store %s: %s", r.conf.store, strerror(-rc));
		return 1;
	}
	rc = repl_meta_load(&r);
	if (rc == 0)
		rc = start_threads(&r);
	if (rc == 0) {
		repl_log(&r, "store %s, %llu bytes, disk %s, protocol %c, after-split-brain %s, link %s",
			 r.conf.store, (unsigned long long)r.md.size, repl_disk_name(r.md.disk),
			 r.conf.protocol, repl_sb_policy_name(r.conf.after_sb),
			 r.tls_ctx ? "TLS" : "plain TCP");
		rc = repl_ctl_serve(&r);
	}
	return rc < 0 ? 1 : 0;
}
