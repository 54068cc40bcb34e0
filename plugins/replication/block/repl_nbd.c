/*
 * vigil-repld NBD server: the primary serves the store to one client at a
 * time over the NBD protocol (fixed newstyle; NBD_OPT_GO, INFO,
 * EXPORT_NAME, LIST, ABORT; simple replies; READ, WRITE with FUA, FLUSH,
 * TRIM, WRITE_ZEROES, DISC).  Every field from the client is checked
 * before use: a request out of range gets an error reply, one that cannot
 * be skipped safely (oversized write, bad magic) closes the connection.
 */
#include "repl.h"
#include "repl_wire.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define NBD_MAGIC            0x4e42444d41474943ull /* "NBDMAGIC" */
#define NBD_IHAVEOPT         0x49484156454f5054ull
#define NBD_REP_MAGIC        0x3e889045565a9ull
#define NBD_REQUEST_MAGIC    0x25609513u
#define NBD_REPLY_MAGIC      0x67446698u

#define NBD_FLAG_FIXED_NEWSTYLE 1u
#define NBD_FLAG_NO_ZEROES      2u
#define NBD_FLAG_C_FIXED_NEWSTYLE 1u
#define NBD_FLAG_C_NO_ZEROES      2u

#define NBD_OPT_EXPORT_NAME 1u
#define NBD_OPT_ABORT       2u
#define NBD_OPT_LIST        3u
#define NBD_OPT_INFO        6u
#define NBD_OPT_GO          7u

#define NBD_REP_ACK    1u
#define NBD_REP_SERVER 2u
#define NBD_REP_INFO   3u
#define NBD_REP_ERR_UNSUP   (0x80000000u + 1)
#define NBD_REP_ERR_POLICY  (0x80000000u + 2)
#define NBD_REP_ERR_INVALID (0x80000000u + 3)
#define NBD_REP_ERR_UNKNOWN (0x80000000u + 6)

#define NBD_INFO_EXPORT     0u
#define NBD_INFO_BLOCK_SIZE 3u

#define NBD_FLAG_HAS_FLAGS    (1u << 0)
#define NBD_FLAG_SEND_FLUSH   (1u << 2)
#define NBD_FLAG_SEND_FUA     (1u << 3)
#define NBD_FLAG_SEND_TRIM    (1u << 5)
#define NBD_FLAG_SEND_WRITE_ZEROES (1u << 6)
#define NBD_FLAG_CAN_MULTI_CONN (1u << 8)

#define NBD_CMD_READ  0u
#define NBD_CMD_WRITE 1u
#define NBD_CMD_DISC  2u
#define NBD_CMD_FLUSH 3u
#define NBD_CMD_TRIM  4u
#define NBD_CMD_WRITE_ZEROES 6u
#define NBD_CMD_FLAG_FUA     (1u << 0)
#define NBD_CMD_FLAG_NO_HOLE (1u << 1)

#define NBD_EPERM  1u
#define NBD_EIO    5u
#define NBD_EINVAL 22u
#define NBD_ENOSPC 28u
#define NBD_EOVERFLOW 75u

#define NBD_OPT_MAX 4096u       /* longest option payload accepted */

#define NBD_CLIENTS_MAX 16      /* connections served at once (one thread each) */

/*
 * CAN_MULTI_CONN: a FLUSH on one connection covers every write completed on
 * any of them.  It does: a write is replied to only after it was written
 * locally and queued to the peer under write_lock, and a FLUSH syncs the
 * store and travels behind every queued message.
 */
static const uint16_t export_flags = NBD_FLAG_HAS_FLAGS | NBD_FLAG_SEND_FLUSH | NBD_FLAG_SEND_FUA |
				     NBD_FLAG_SEND_TRIM | NBD_FLAG_SEND_WRITE_ZEROES |
				     NBD_FLAG_CAN_MULTI_CONN;

static int opt_reply(int fd, uint32_t opt, uint32_t type, const void *data, uint32_t len)
{
	uint8_t h[20];
	int rc;

	repl_put64(h, NBD_REP_MAGIC);
	repl_put32(h + 8, opt);
	repl_put32(h + 12, type);
	repl_put32(h + 16, len);
	rc = repl_full_write(fd, h, sizeof(h));
	return rc == 0 && len ? repl_full_write(fd, data, len) : rc;
}

static int primary(struct repl *r)
{
	int yes;

	pthread_mutex_lock(&r->lock);
	yes = r->role == VG_REPL_ROLE_PRIMARY;
	pthread_mutex_unlock(&r->lock);
	return yes;
}

static int name_ok(struct repl *r, const uint8_t *name, uint32_t len)
{
	return len == 0 || (len == strlen(r->conf.name) && memcmp(name, r->conf.name, len) == 0);
}

/* NBD_OPT_INFO / NBD_OPT_GO.  Returns 1 to enter transmission, 0 to go on, <0 to close. */
static int opt_info_go(struct repl *r, int fd, uint32_t opt, const uint8_t *d, uint32_t len)
{
	uint32_t nlen, want_bs = 0;
	uint16_t nreq;
	uint8_t info[18];
	int rc;

	if (len < 6 || (nlen = repl_get32(d)) > len - 6 ||
	    (nreq = repl_get16(d + 4 + nlen), 6 + nlen + 2u * nreq != len))
		return opt_reply(fd, opt, NBD_REP_ERR_INVALID, NULL, 0);
	for (uint16_t i = 0; i < nreq; i++)
		want_bs |= repl_get16(d + 6 + nlen + 2 * i) == NBD_INFO_BLOCK_SIZE;
	if (!name_ok(r, d + 4, nlen))
		return opt_reply(fd, opt, NBD_REP_ERR_UNKNOWN, NULL, 0);
	if (!primary(r))
		return opt_reply(fd, opt, NBD_REP_ERR_POLICY, "not primary", 11);
	repl_put16(info, NBD_INFO_EXPORT);
	repl_put64(info + 2, r->md.size);
	repl_put16(info + 10, export_flags);
	rc = opt_reply(fd, opt, NBD_REP_INFO, info, 12);
	if (rc == 0 && want_bs) {
		repl_put16(info, NBD_INFO_BLOCK_SIZE);
		repl_put32(info + 2, 1);
		repl_put32(info + 6, 4096);
		repl_put32(info + 10, REPL_MAX_IO);
		rc = opt_reply(fd, opt, NBD_REP_INFO, info, 14);
	}
	if (rc == 0)
		rc = opt_reply(fd, opt, NBD_REP_ACK, NULL, 0);
	return rc < 0 ? rc : opt == NBD_OPT_GO;
}

static int opt_export_name(struct repl *r, int fd, const uint8_t *d, uint32_t len, int no_zeroes)
{
	uint8_t out[10 + 124] = { 0 };

	if (!name_ok(r, d, len) || !primary(r))
		return -EPERM; /* this option has no error reply: close */
	repl_put64(out, r->md.size);
	repl_put16(out + 8, export_flags);
	return repl_full_write(fd, out, no_zeroes ? 10 : sizeof(out)) < 0 ? -EIO : 1;
}

static int opt_one(struct repl *r, int fd, uint32_t opt, const uint8_t *d, uint32_t len,
		   int no_zeroes)
{
	uint8_t srv[4 + 256];
	size_t n;

	switch (opt) {
	case NBD_OPT_EXPORT_NAME:
		return opt_export_name(r, fd, d, len, no_zeroes);
	case NBD_OPT_GO:
	case NBD_OPT_INFO:
		return opt_info_go(r, fd, opt, d, len);
	case NBD_OPT_ABORT:
		opt_reply(fd, opt, NBD_REP_ACK, NULL, 0);
		return -ECONNABORTED;
	case NBD_OPT_LIST:
		n = strnlen(r->conf.name, 256);
		repl_put32(srv, (uint32_t)n);
		memcpy(srv + 4, r->conf.name, n);
		if (len != 0)
			return opt_reply(fd, opt, NBD_REP_ERR_INVALID, NULL, 0);
		return opt_reply(fd, opt, NBD_REP_SERVER, srv, (uint32_t)(4 + n)) ?:
		       opt_reply(fd, opt, NBD_REP_ACK, NULL, 0);
	default:
		return opt_reply(fd, opt, NBD_REP_ERR_UNSUP, NULL, 0);
	}
}

/* Handshake and option haggling.  0 when the client entered transmission. */
static int negotiate(struct repl *r, int fd)
{
	uint8_t hello[18], h[16], *d = NULL;
	uint32_t cflags, opt, len;
	int rc;

	repl_put64(hello, NBD_MAGIC);
	repl_put64(hello + 8, NBD_IHAVEOPT);
	repl_put16(hello + 16, NBD_FLAG_FIXED_NEWSTYLE | NBD_FLAG_NO_ZEROES);
	rc = repl_full_write(fd, hello, sizeof(hello));
	if (rc == 0)
		rc = repl_full_read(fd, h, 4);
	if (rc < 0)
		return rc;
	cflags = repl_get32(h);
	if (!(cflags & NBD_FLAG_C_FIXED_NEWSTYLE) || (cflags & ~3u))
		return -EPROTO;
	d = malloc(NBD_OPT_MAX);
	if (!d)
		return -ENOMEM;
	do {
		rc = repl_full_read(fd, h, 16);
		if (rc == 0 && repl_get64(h) != NBD_IHAVEOPT)
			rc = -EPROTO;
		opt = repl_get32(h + 8);
		len = repl_get32(h + 12);
		if (rc == 0 && len > NBD_OPT_MAX)
			rc = -EMSGSIZE;
		if (rc == 0)
			rc = repl_full_read(fd, d, len);
		if (rc == 0)
			rc = opt_one(r, fd, opt, d, len, cflags & NBD_FLAG_C_NO_ZEROES);
	} while (rc == 0);
	free(d);
	return rc == 1 ? 0 : rc;
}

static int reply(int fd, uint32_t err, const uint8_t *cookie, const void *data, uint32_t len)
{
	uint8_t h[16];
	int rc;

	repl_put32(h, NBD_REPLY_MAGIC);
	repl_put32(h + 4, err);
	memcpy(h + 8, cookie, 8);
	rc = repl_full_write(fd, h, sizeof(h));
	return rc == 0 && len ? repl_full_write(fd, data, len) : rc;
}

static uint32_t nbd_errno(int rc)
{
	return rc == -EROFS || rc == -EPERM ? NBD_EPERM : rc == -ENOSPC ? NBD_ENOSPC : NBD_EIO;
}

/* One request.  Returns 0 to go on, <0 to close the connection. */
static int serve_one(struct repl *r, int fd, const uint8_t *q, uint8_t *buf)
{
	uint16_t flags = repl_get16(q + 4), type = repl_get16(q + 6);
	const uint8_t *cookie = q + 8;
	uint64_t off = repl_get64(q + 16);
	uint32_t len = repl_get32(q + 24);
	int in_range = off <= r->md.size && len <= r->md.size - off;
	int rc;

	if (repl_get32(q) != NBD_REQUEST_MAGIC)
		return -EPROTO;
	if (type == NBD_CMD_WRITE && len > REPL_MAX_IO)
		return -EMSGSIZE; /* cannot skip the payload safely */
	if (type == NBD_CMD_WRITE && (rc = repl_full_read(fd, buf, len)) < 0)
		return rc;
	if (flags & ~(NBD_CMD_FLAG_FUA | NBD_CMD_FLAG_NO_HOLE))
		return reply(fd, NBD_EINVAL, cookie, NULL, 0);
	switch (type) {
	case NBD_CMD_READ:
		if (len > REPL_MAX_IO)
			return reply(fd, NBD_EOVERFLOW, cookie, NULL, 0);
		if (!in_range)
			return reply(fd, NBD_EINVAL, cookie, NULL, 0);
		if (pread(r->store_fd, buf, len, (off_t)off) != (ssize_t)len)
			return reply(fd, NBD_EIO, cookie, NULL, 0);
		return reply(fd, 0, cookie, buf, len);
	case NBD_CMD_WRITE:
		rc = in_range ? repl_write(r, off, buf, len, flags & NBD_CMD_FLAG_FUA) : -ENOSPC;
		return reply(fd, rc < 0 ? nbd_errno(rc) : 0, cookie, NULL, 0);
	case NBD_CMD_TRIM:
	case NBD_CMD_WRITE_ZEROES:
		rc = in_range ? repl_zero(r, off, len, flags & NBD_CMD_FLAG_FUA) : -ENOSPC;
		return reply(fd, rc < 0 ? nbd_errno(rc) : 0, cookie, NULL, 0);
	case NBD_CMD_FLUSH:
		rc = repl_flush(r);
		return reply(fd, rc < 0 ? NBD_EIO : 0, cookie, NULL, 0);
	case NBD_CMD_DISC:
		return -ECONNRESET;
	default:
		return reply(fd, NBD_EINVAL, cookie, NULL, 0);
	}
}

static void serve(struct repl *r, int fd)
{
	uint8_t q[28], *buf = malloc(REPL_MAX_IO);
	int rc = buf ? negotiate(r, fd) : -ENOMEM;

	if (rc == 0)
		repl_log(r, "nbd: client connected");
	while (rc == 0) {
		rc = repl_full_read(fd, q, sizeof(q));
		if (rc == 0)
			rc = serve_one(r, fd, q, buf);
	}
	if (rc != -ECONNRESET && rc != -EPIPE)
		repl_log(r, "nbd: closing client: %s", strerror(-rc));
	free(buf);
}

/* "unix:PATH" or "ADDR:PORT". */
static int nbd_listen(struct repl *r)
{
	const char *a = r->conf.nbd;
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_un *un = (struct sockaddr_un *)&ss;
	socklen_t len = sizeof(*un);

	if (strncmp(a, "unix:", 5) == 0) {
		if (strlen(a + 5) >= sizeof(un->sun_path))
			return -ENAMETOOLONG;
		un->sun_family = AF_UNIX;
		strcpy(un->sun_path, a + 5);
		unlink(un->sun_path);
	} else if (repl_parse_addr(a, &ss, &len) < 0) {
		return -EINVAL;
	}
	return repl_listen(&ss, len);
}

struct nbd_conn {
	struct repl *r;
	int fd;
};

static void *conn_thread(void *arg)
{
	struct nbd_conn *c = arg;
	struct repl *r = c->r;

	serve(r, c->fd);
	close(c->fd);
	free(c);
	pthread_mutex_lock(&r->lock);
	r->nbd_clients--;
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

/* Accepts clients; each is served by its own thread, up to NBD_CLIENTS_MAX. */
void *repl_nbd_thread(void *arg)
{
	struct repl *r = arg;
	int lfd = nbd_listen(r), fd, busy;
	struct nbd_conn *c;
	pthread_attr_t attr;
	pthread_t t;

	if (lfd < 0) {
		repl_log(r, "nbd: cannot listen on %s: %s", r->conf.nbd, strerror(-lfd));
		return NULL;
	}
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		pthread_mutex_lock(&r->lock);
		busy = r->nbd_clients >= NBD_CLIENTS_MAX;
		if (!busy)
			r->nbd_clients++;
		pthread_mutex_unlock(&r->lock);
		c = busy ? NULL : malloc(sizeof(*c));
		if (c) {
			*c = (struct nbd_conn){ .r = r, .fd = fd };
			if (pthread_create(&t, &attr, conn_thread, c) == 0)
				continue;
			free(c);
		}
		repl_log(r, "nbd: refusing a client: %s", busy ? "too many connections" : "no memory");
		close(fd);
		if (!busy) {
			pthread_mutex_lock(&r->lock);
			r->nbd_clients--;
			pthread_mutex_unlock(&r->lock);
		}
	}
	return NULL;
}
