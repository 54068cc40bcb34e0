/*
 * serial — vigil transport over a serial line (null-modem cable, USB serial
 * adapter), point to point between the two nodes of the link.
 *
 * The tty is opened non-blocking, set raw 8N1 without flow control, and
 * watched on the core's loop.  Frames are SLIP-stuffed with a CRC-32
 * trailer (serial_frame.c); a damaged frame is dropped and counted, and the
 * receiver resynchronises at the next delimiter.  Outgoing frames wait in a
 * bounded queue flushed when the tty is writable.  A device that vanishes
 * or fails (USB unplugged, pty peer closed) is closed and reopened every
 * reopen_ms.
 *
 * Built against the SDK only.  See docs/plugins/serial.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE    /* cfmakeraw, CRTSCTS, B460800.. in strict C11 builds */
#endif
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <vigil/plugin.h>

#include "serial_frame.h"

#define SERIAL_RX_CHUNK       4096
#define SERIAL_RX_BURST       16      /* reads per fd callback, keeps the loop fair */
#define SERIAL_NOISE_WARN_MS  10000   /* at most one line-noise warning per 10 s */

/* Parameter indexes: the order of serial_params[]. */
enum { P_DEVICE, P_BAUD, P_REOPEN_MS, P_QUEUE_MAX, P_COUNT };

static const char *const serial_bauds[] = {
	"9600", "19200", "38400", "57600", "115200", "230400", "460800", "921600", NULL,
};

/* Same order as serial_bauds. */
static const speed_t serial_speeds[] = {
	B9600, B19200, B38400, B57600, B115200, B230400, B460800, B921600,
};

static const struct vg_param_decl serial_params[] = {
	[P_DEVICE] = { .name = "device", .type = VG_PARAM_PATH, .flags = VG_PARAM_REQUIRED,
		       .help = "serial tty, e.g. /dev/ttyS0; \"%n\" is replaced by the local node name" },
	[P_BAUD] = { .name = "baud", .type = VG_PARAM_ENUM, .def = "115200",
		     .choices = serial_bauds,
		     .help = "line speed in bit/s (8N1, no flow control), the same on both nodes" },
	[P_REOPEN_MS] = { .name = "reopen_ms", .type = VG_PARAM_DURATION_MS, .def = "1000",
			  .min = 10, .max = 600000,
			  .help = "interval between attempts to reopen a missing or failed device" },
	[P_QUEUE_MAX] = { .name = "queue_max", .type = VG_PARAM_INT, .def = "64",
			  .min = 1, .max = 1024,
			  .help = "frames waiting for the line; a send beyond it is dropped (-EAGAIN)" },
	[P_COUNT] = { .name = NULL },
};

enum serial_state {
	SERIAL_OFF_LINK,   /* this node has no address on the link: nothing to open */
	SERIAL_CLOSED,     /* device missing or failed: the reopen timer runs */
	SERIAL_OPEN,       /* device open and watched */
};

/* Totals since the instance was opened. */
struct serial_stats {
	uint64_t frames_in, frames_out;
	uint64_t bytes_in, bytes_out;  /* line bytes read / written */
	uint64_t crc_errors, runts, oversize, bad_escapes;
	uint64_t garbage_bytes;    /* line bytes of every discarded frame */
	uint64_t tx_dropped;       /* sends refused because the queue was full */
	uint64_t losses;           /* times the device went away */
};

/* One encoded frame waiting for the line. */
struct serial_slot {
	size_t len;
	unsigned char buf[SF_WIRE_MAX];
};

/* One instance: one link.  Allocated by open, freed by close. */
struct serial {
	const struct vg_host *host;
	uint32_t link;
	char *device;                  /* expanded path, owned */
	const char *baud;              /* the baud word, borrowed from the instance */
	speed_t speed;
	uint64_t reopen_ms;
	uint32_t peer;                 /* the other node on the line */
	enum serial_state state;
	int fd;
	struct vg_watch *watch;
	uint32_t watch_events;
	struct vg_timer *reopen_timer; /* repeating, runs while SERIAL_CLOSED */
	int open_error;                /* last open failure logged (-errno), 0: none */
	int ever_open;
	int hunting;                   /* bytes before the first delimiter after open are stale */
	int link_up;                   /* what vg_link_state was last told */
	struct serial_slot *q;         /* ring of q_max slots, owned */
	size_t q_max, q_head, q_count;
	size_t q_off;                  /* bytes of the head slot already written */
	struct serial_stats st;
	uint64_t noise_warned_ms;      /* when line noise was last warned about */
	uint64_t noise_unreported;     /* frames discarded since then */
	int noise_warned;
	struct sf_decoder dec;
	unsigned char rbuf[SERIAL_RX_CHUNK];
};

static void serial_io_cb(void *arg, int fd, uint32_t events);

/* Copy `tmpl` with every "%n" replaced by `name`.  *out is malloc'd. */
static int serial_path_expand(const char *tmpl, const char *name, char **out)
{
	size_t n = strlen(tmpl) + 1, nl = strlen(name);
	const char *p;
	char *s, *o;

	for (p = tmpl; (p = strstr(p, "%n")); p += 2)
		n += nl;
	s = malloc(n);
	if (!s)
		return -ENOMEM;
	for (o = s, p = tmpl; *p;) {
		if (p[0] == '%' && p[1] == 'n') {
			memcpy(o, name, nl);
			o += nl;
			p += 2;
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	*out = s;
	return 0;
}

/* Refuse a link that more than two nodes claim to be on. */
static int serial_peer_dup(struct serial *s, const struct vg_node *a, const struct vg_node *b)
{
	vg_err(s->host, "serial: link %u joins exactly two nodes, but nodes %u (%s) and %u (%s) both have an address on it besides this one",
	       s->link, a->id, a->name, b->id, b->name);
	return -EINVAL;
}

/*
 * The peer is the one other node with an address on this link; when no
 * node has one, the other node of a two-node cluster.  Leaves s->peer at
 * VG_NODE_NONE when this node itself has no address on the link.
 */
static int serial_peer_find(struct serial *s)
{
	size_t count = vg_node_count(s->host), with_addr = 0, others = 0;
	uint32_t self = vg_local_node_id(s->host);
	const struct vg_node *n, *me = NULL, *other = NULL, *peer = NULL, *dup = NULL;

	for (size_t i = 0; i < count; i++) {
		n = vg_node_at(s->host, i);
		if (!n)
			continue;
		with_addr += n->addr != NULL;
		if (n->id == self) {
			me = n;
			continue;
		}
		others++;
		other = n;
		if (n->addr && peer)
			dup = n;
		else if (n->addr)
			peer = n;
	}
	if (!with_addr && others == 1)
		peer = other;
	else if (!with_addr) {
		vg_err(s->host, "serial: link %u: give the two nodes on the line an address on this link (any text, e.g. \"serial\"); none has one among %zu nodes",
		       s->link, count);
		return -EINVAL;
	} else if (!me || !me->addr)
		return 0;
	else if (dup)
		return serial_peer_dup(s, peer, dup);
	if (!peer) {
		vg_err(s->host, "serial: link %u: no other node has an address on this link", s->link);
		return -EINVAL;
	}
	s->peer = peer->id;
	return 0;
}

/* Raw 8N1, no flow control, no modem control lines, the configured speed. */
static int serial_tty_setup(int fd, speed_t speed)
{
	struct termios t;

	if (tcgetattr(fd, &t) < 0)
		return -errno;
	cfmakeraw(&t);
	t.c_cflag &= ~(tcflag_t)(CSIZE | PARENB | CSTOPB | CRTSCTS);
	t.c_cflag |= CS8 | CLOCAL | CREAD;
	t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (cfsetispeed(&t, speed) < 0 || cfsetospeed(&t, speed) < 0)
		return -errno;
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		return -errno;
	/* What the line held before we owned it is stale. */
	tcflush(fd, TCIOFLUSH);
	return 0;
}

static void serial_stats_log(struct serial *s, int level, const char *when)
{
	const struct serial_stats *st = &s->st;

	vg_log(s->host, level, "serial: link %u: %s: frames in %llu out %llu, bytes in %llu out %llu, bad crc %llu, runts %llu, oversize %llu, bad escapes %llu, garbage bytes %llu, tx dropped %llu, device losses %llu",
	       s->link, when, (unsigned long long)st->frames_in, (unsigned long long)st->frames_out,
	       (unsigned long long)st->bytes_in, (unsigned long long)st->bytes_out,
	       (unsigned long long)st->crc_errors, (unsigned long long)st->runts,
	       (unsigned long long)st->oversize, (unsigned long long)st->bad_escapes,
	       (unsigned long long)st->garbage_bytes, (unsigned long long)st->tx_dropped,
	       (unsigned long long)st->losses);
}

/* Watch for writability only while frames wait. */
static int serial_watch_update(struct serial *s)
{
	uint32_t want = VG_FD_READ | (s->q_count ? VG_FD_WRITE : 0);
	int ret;

	if (want == s->watch_events)
		return 0;
	ret = vg_fd_modify(s->host, s->watch, want);
	if (ret == 0)
		s->watch_events = want;
	return ret;
}

/* Write queued frames until the tty is full.  Returns 0 or a hard -errno. */
static int serial_flush(struct serial *s)
{
	struct serial_slot *slot;
	ssize_t n;

	while (s->q_count) {
		slot = &s->q[s->q_head];
		n = write(s->fd, slot->buf + s->q_off, slot->len - s->q_off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -errno;
		}
		s->st.bytes_out += (uint64_t)n;
		s->q_off += (size_t)n;
		if (s->q_off < slot->len)
			continue;
		s->q_off = 0;
		s->q_head = (s->q_head + 1) % s->q_max;
		s->q_count--;
		s->st.frames_out++;
	}
	return serial_watch_update(s);
}

/* Open the device and watch it.  Returns 0 or -errno (nothing left open). */
static int serial_dev_open(struct serial *s)
{
	int fd, ret;

	fd = open(s->device, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = serial_tty_setup(fd, s->speed);
	if (ret < 0)
		goto fail;
	ret = vg_fd_watch(s->host, fd, VG_FD_READ, serial_io_cb, s, &s->watch);
	if (ret < 0)
		goto fail;
	s->fd = fd;
	s->watch_events = VG_FD_READ;
	s->state = SERIAL_OPEN;
	s->hunting = 1;
	sf_decoder_reset(&s->dec);
	vg_timer_stop(s->host, s->reopen_timer);
	s->reopen_timer = NULL;
	vg_notice(s->host, "serial: link %u: %s %s at %s baud, peer node %u",
		  s->link, s->device, s->ever_open ? "reopened" : "open", s->baud, s->peer);
	s->open_error = 0;
	s->ever_open = 1;
	return 0;
fail:
	close(fd);
	return ret;
}

/* A failed open is logged once per distinct error; retries stay quiet. */
static void serial_open_failed(struct serial *s, int err)
{
	if (err == s->open_error) {
		vg_debug(s->host, "serial: link %u: %s still cannot be opened: %s",
			 s->link, s->device, strerror(-err));
		return;
	}
	s->open_error = err;
	vg_warn(s->host, "serial: link %u: cannot open %s: %s; retrying every %llu ms",
		s->link, s->device, strerror(-err), (unsigned long long)s->reopen_ms);
}

static void serial_reopen_cb(void *arg)
{
	struct serial *s = arg;
	int ret;

	ret = serial_dev_open(s);
	if (ret < 0)
		serial_open_failed(s, ret);
}

static int serial_retry_start(struct serial *s)
{
	int ret;

	s->state = SERIAL_CLOSED;
	ret = vg_timer_start(s->host, s->reopen_ms, s->reopen_ms, serial_reopen_cb, s,
			     &s->reopen_timer);
	if (ret < 0)
		vg_err(s->host, "serial: link %u: cannot start the reopen timer: %s",
		       s->link, strerror(-ret));
	return ret;
}

/* The device went away or failed: close it, report the link down, retry. */
static void serial_dev_lost(struct serial *s, const char *op, int err)
{
	size_t dropped = s->q_count;

	vg_fd_unwatch(s->host, s->watch);
	s->watch = NULL;
	close(s->fd);
	s->fd = -1;
	s->q_head = s->q_count = s->q_off = 0;
	s->st.losses++;
	vg_warn(s->host, "serial: link %u: lost %s (%s: %s), %zu queued frame(s) dropped; reopening every %llu ms",
		s->link, s->device, op, err == -EPIPE ? "hang-up" : strerror(-err), dropped,
		(unsigned long long)s->reopen_ms);
	serial_stats_log(s, VG_LOG_INFO, "device closed");
	if (s->link_up) {
		s->link_up = 0;
		vg_link_state(s->host, s->peer, 0);
	}
	/* Without a timer nothing would ever reopen it; the error is logged. */
	serial_retry_start(s);
}

/* Count a discarded frame; warn at most once per SERIAL_NOISE_WARN_MS. */
static void serial_rx_bad(struct serial *s, enum sf_event ev)
{
	uint64_t now;

	switch (ev) {
	case SF_EV_BAD_CRC:
		s->st.crc_errors++;
		break;
	case SF_EV_RUNT:
		s->st.runts++;
		break;
	case SF_EV_OVERSIZE:
		s->st.oversize++;
		break;
	default:
		s->st.bad_escapes++;
		break;
	}
	s->st.garbage_bytes += s->dec.bad_raw;
	s->noise_unreported++;
	vg_debug(s->host, "serial: link %u: discarded %zu line bytes (%s)", s->link, s->dec.bad_raw,
		 ev == SF_EV_BAD_CRC ? "bad crc" : ev == SF_EV_RUNT ? "runt" :
		 ev == SF_EV_OVERSIZE ? "oversize" : "bad escape");
	now = vg_now_ms(s->host);
	if (s->noise_warned && now - s->noise_warned_ms < SERIAL_NOISE_WARN_MS)
		return;
	vg_warn(s->host, "serial: link %u: line noise: %llu frame(s) discarded since the last report (totals: bad crc %llu, runts %llu, oversize %llu, bad escapes %llu, garbage bytes %llu)",
		s->link, (unsigned long long)s->noise_unreported,
		(unsigned long long)s->st.crc_errors, (unsigned long long)s->st.runts,
		(unsigned long long)s->st.oversize, (unsigned long long)s->st.bad_escapes,
		(unsigned long long)s->st.garbage_bytes);
	s->noise_warned = 1;
	s->noise_warned_ms = now;
	s->noise_unreported = 0;
}

/* What the decoder found at a delimiter. */
static void serial_rx_event(struct serial *s, enum sf_event ev)
{
	int hunting = s->hunting;

	if (ev == SF_EV_NONE)
		return;
	s->hunting = 0;
	if (ev == SF_EV_IDLE)
		return;
	if (ev != SF_EV_FRAME) {
		/* The tail of a frame sent before we opened the device: not noise. */
		if (hunting)
			s->st.garbage_bytes += s->dec.bad_raw;
		else
			serial_rx_bad(s, ev);
		return;
	}
	s->st.frames_in++;
	if (!s->link_up) {
		s->link_up = 1;
		vg_info(s->host, "serial: link %u: frames from node %u arrive", s->link, s->peer);
		vg_link_state(s->host, s->peer, 1);
	}
	vg_frame_received(s->host, s->dec.buf, s->dec.frame_len, s->peer);
}

/* Read what the tty holds.  Returns the bytes read, or -errno (-EPIPE: hung up). */
static ssize_t serial_read(struct serial *s)
{
	const unsigned char *p;
	enum sf_event ev;
	ssize_t n, total = 0;
	size_t used;

	for (int i = 0; i < SERIAL_RX_BURST; i++) {
		n = read(s->fd, s->rbuf, sizeof(s->rbuf));
		if (n == 0)
			return -EPIPE;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return total;
			return -errno;
		}
		total += n;
		s->st.bytes_in += (uint64_t)n;
		for (p = s->rbuf; n > 0; p += used, n -= (ssize_t)used) {
			used = sf_decode(&s->dec, p, (size_t)n, &ev);
			serial_rx_event(s, ev);
		}
	}
	return total;
}

static void serial_io_cb(void *arg, int fd, uint32_t events)
{
	struct serial *s = arg;
	ssize_t got;
	int ret;

	(void)fd;
	if (events & (VG_FD_READ | VG_FD_ERROR)) {
		got = serial_read(s);
		/* A hang-up with nothing left to read: level-triggered, it would spin. */
		if (got == 0 && (events & VG_FD_ERROR))
			got = -EIO;
		if (got < 0) {
			serial_dev_lost(s, "read", (int)got);
			return;
		}
	}
	if (events & VG_FD_WRITE) {
		ret = serial_flush(s);
		if (ret < 0)
			serial_dev_lost(s, "write", ret);
	}
}

static void serial_close(void *state)
{
	struct serial *s = state;

	if (!s)
		return;
	if (s->fd >= 0) {
		vg_fd_unwatch(s->host, s->watch);
		close(s->fd);
	}
	vg_timer_stop(s->host, s->reopen_timer);
	if (s->ever_open)
		serial_stats_log(s, VG_LOG_INFO, "closing");
	free(s->q);
	free(s->device);
	free(s);
}

/* Device path, speed, queue: everything but the peer and the device itself. */
static int serial_setup(struct serial *s, const struct vg_instance *inst)
{
	const struct vg_node *self = vg_node_by_id(s->host, vg_local_node_id(s->host));
	int ret;

	ret = serial_path_expand(inst->params[P_DEVICE].s, self ? self->name : "", &s->device);
	if (ret < 0)
		return ret;
	s->baud = inst->params[P_BAUD].s;
	s->speed = serial_speeds[inst->params[P_BAUD].i];
	s->reopen_ms = (uint64_t)inst->params[P_REOPEN_MS].i;
	s->q_max = (size_t)inst->params[P_QUEUE_MAX].i;
	s->q = calloc(s->q_max, sizeof(*s->q));
	return s->q ? 0 : -ENOMEM;
}

static int serial_open(const struct vg_host *host, const struct vg_instance *inst, void **state)
{
	struct serial *s;
	int ret;

	s = calloc(1, sizeof(*s));
	if (!s) {
		vg_err(host, "serial: out of memory");
		return -ENOMEM;
	}
	s->host = host;
	s->link = inst->link;
	s->fd = -1;
	s->state = SERIAL_OFF_LINK;
	ret = serial_peer_find(s);
	if (ret < 0)
		goto out;
	if (s->peer == VG_NODE_NONE) {
		vg_info(host, "serial: link %u: this node has no address on the link, idle", s->link);
		*state = s;
		return 0;
	}
	ret = serial_setup(s, inst);
	if (ret < 0)
		goto out;
	ret = serial_dev_open(s);
	if (ret < 0) {
		/* The device may appear later (a USB adapter plugged in): keep trying. */
		serial_open_failed(s, ret);
		ret = serial_retry_start(s);
		if (ret < 0)
			goto out;
	}
	*state = s;
	return 0;
out:
	if (ret == -ENOMEM)
		vg_err(host, "serial: out of memory");
	serial_close(s);
	return ret;
}

/*
 * The line has one peer: to_node is that peer or VG_NODE_ALL.  A frame is
 * encoded into the queue and written at once as far as the tty takes it;
 * a write error is left to the fd callback, never reported from here.
 */
static int serial_send(void *state, uint32_t to_node, const void *frame, size_t len)
{
	struct serial *s = state;
	struct serial_slot *slot;
	int ret;

	if (len > SF_MAX_PAYLOAD)
		return -EMSGSIZE;
	if (len == 0)
		return -EINVAL;
	if (s->state == SERIAL_OFF_LINK)
		return to_node == VG_NODE_ALL ? 0 : -ENOTCONN;
	if (to_node != VG_NODE_ALL && to_node != s->peer)
		return -ENOTCONN;
	if (s->state != SERIAL_OPEN)
		return -ENOTCONN;
	if (s->q_count == s->q_max) {
		s->st.tx_dropped++;
		return -EAGAIN;
	}
	slot = &s->q[(s->q_head + s->q_count) % s->q_max];
	slot->len = sf_encode(frame, len, slot->buf);
	s->q_count++;
	ret = serial_flush(s);
	if (ret < 0 && vg_fd_modify(s->host, s->watch, VG_FD_READ | VG_FD_WRITE) == 0)
		s->watch_events = VG_FD_READ | VG_FD_WRITE;
	return 0;
}

static size_t serial_max_frame(void *state)
{
	(void)state;
	return SF_MAX_PAYLOAD;
}

static const struct vg_transport_ops serial_ops = {
	.send = serial_send,
	.max_frame = serial_max_frame,
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_TRANSPORT,
	.name = "serial",
	.version = "1.0",
	.description = "serial line between two nodes: SLIP framing with CRC-32, reopened when it fails",
	.params = serial_params,
	.open = serial_open,
	.close = serial_close,
	.ops = &serial_ops);
