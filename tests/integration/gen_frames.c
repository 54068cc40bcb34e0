/*
 * gen_frames: send a known pattern of vigil frames as real UDP datagrams on
 * loopback, for tests/integration/vigildump-pcap.sh (no vigild needed).
 *
 *   gen_frames KEYFILE PORT
 *
 * Every datagram goes to PORT on 127.0.0.1 (link A) or 127.0.0.2 (link B),
 * from a source address per node and link.  Cluster id GEN_CLUSTER.
 * The pattern, 20 rounds 20 ms apart (the script checks these numbers):
 *   node 1 inc 1000001: HEARTBEAT seq 1..20 from 127.0.0.11 to 127.0.0.1
 *     and from 127.0.0.12 to 127.0.0.2; seq 5 and 6 never sent (sender
 *     loss 2), seq 10 not on link B (link loss only).
 *   node 2 inc 2000002: HEARTBEAT seq 1..20 from 127.0.0.21 to 127.0.0.1;
 *     seq 12 never sent (loss 1), seq 15 sent twice (1 duplicate); then
 *     LEAVE seq 21, and seq 22 with a corrupted MAC (bad-mac).
 *   node 3 inc 3000003, cluster GEN_OTHER_CLUSTER: one HEARTBEAT seq 1
 *     (other-cluster with -c GEN_CLUSTER).
 *   one UDP datagram that is not a vigil frame ("other").
 *   node 1 restarts, inc 1000002: HEARTBEAT seq 1..3 on link A.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "wire.h"

#define GEN_CLUSTER		0x00C0FFEEu
#define GEN_OTHER_CLUSTER	0x00000BADu
#define GEN_ROUNDS		20
#define GEN_SPACING_NS		20000000L

struct gen {
	struct vg_wire_key key;
	unsigned short port;
	int fd_a1, fd_b1, fd_a2, fd_a3;	/* node/link source sockets */
};

static int gen_socket(const char *src)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	int fd;

	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	inet_pton(AF_INET, src, &sin.sin_addr);
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) < 0) {
		close(fd);
		return -errno;
	}
	return fd;
}

static int gen_sendto(const struct gen *g, int fd, const char *dst,
		      const void *buf, size_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };

	sin.sin_port = htons(g->port);
	inet_pton(AF_INET, dst, &sin.sin_addr);
	if (sendto(fd, buf, len, 0, (struct sockaddr *)&sin, sizeof(sin)) < 0)
		return -errno;
	return 0;
}

/* The heartbeat payload of core/membership.c: view 7 of node 1, {1,2}. */
static size_t gen_heartbeat_payload(uint8_t *buf, size_t cap)
{
	struct vg_wbuf w;
	uint8_t digest[32];

	memset(digest, 0xab, sizeof(digest));
	vg_wbuf_init(&w, buf, cap);
	vg_wbuf_put_bytes(&w, digest, sizeof(digest));
	vg_wbuf_put_u64(&w, 7);
	vg_wbuf_put_u32(&w, 1);
	vg_wbuf_put_u8(&w, 0x01);	/* quorate */
	vg_wbuf_put_u8(&w, 0);
	vg_wbuf_put_u16(&w, 2);
	vg_wbuf_put_u32(&w, 1);
	vg_wbuf_put_u32(&w, 2);
	return w.err ? 0 : w.len;
}

/* Encode one frame and send it; `corrupt` flips a MAC bit. */
static int gen_frame(const struct gen *g, int fd, const char *dst,
		     uint32_t cluster, uint32_t node, uint64_t inc,
		     uint64_t seq, uint8_t type, int corrupt)
{
	struct vg_wire_hdr hdr = {
		.type = type, .cluster_id = cluster, .node_id = node,
		.incarnation = inc, .seq = seq,
	};
	uint8_t payload[128], frame[VG_WIRE_MAX_FRAME];
	size_t plen = 0, len;
	int rc;

	if (type == VG_MSG_HEARTBEAT)
		plen = gen_heartbeat_payload(payload, sizeof(payload));
	rc = vg_wire_encode(&g->key, &hdr, payload, plen, frame,
			    sizeof(frame), &len);
	if (rc < 0)
		return rc;
	if (corrupt)
		frame[len - 1] ^= 0x01;
	return gen_sendto(g, fd, dst, frame, len);
}

static void gen_sleep(void)
{
	struct timespec ts = { 0, GEN_SPACING_NS };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static int gen_round(const struct gen *g, uint64_t seq)
{
	int rc = 0;

	if (seq != 5 && seq != 6) {
		rc = gen_frame(g, g->fd_a1, "127.0.0.1", GEN_CLUSTER, 1,
			       1000001, seq, VG_MSG_HEARTBEAT, 0);
		if (!rc && seq != 10)
			rc = gen_frame(g, g->fd_b1, "127.0.0.2", GEN_CLUSTER,
				       1, 1000001, seq, VG_MSG_HEARTBEAT, 0);
	}
	if (!rc && seq != 12)
		rc = gen_frame(g, g->fd_a2, "127.0.0.1", GEN_CLUSTER, 2,
			       2000002, seq, VG_MSG_HEARTBEAT, 0);
	if (!rc && seq == 15)
		rc = gen_frame(g, g->fd_a2, "127.0.0.1", GEN_CLUSTER, 2,
			       2000002, seq, VG_MSG_HEARTBEAT, 0);
	return rc;
}

static int gen_run(const struct gen *g)
{
	static const char other[] = "not a vigil frame";
	uint64_t seq;
	int rc = 0;

	for (seq = 1; !rc && seq <= GEN_ROUNDS; seq++) {
		rc = gen_round(g, seq);
		gen_sleep();
	}
	if (!rc)
		rc = gen_frame(g, g->fd_a2, "127.0.0.1", GEN_CLUSTER, 2,
			       2000002, 21, VG_MSG_LEAVE, 0);
	if (!rc)
		rc = gen_frame(g, g->fd_a2, "127.0.0.1", GEN_CLUSTER, 2,
			       2000002, 22, VG_MSG_HEARTBEAT, 1);
	if (!rc)
		rc = gen_frame(g, g->fd_a3, "127.0.0.1", GEN_OTHER_CLUSTER, 3,
			       3000003, 1, VG_MSG_HEARTBEAT, 0);
	if (!rc)
		rc = gen_sendto(g, g->fd_a3, "127.0.0.1", other, sizeof(other));
	for (seq = 1; !rc && seq <= 3; seq++) {
		gen_sleep();
		rc = gen_frame(g, g->fd_a1, "127.0.0.1", GEN_CLUSTER, 1,
			       1000002, seq, VG_MSG_HEARTBEAT, 0);
	}
	return rc;
}

static int gen_open(struct gen *g, const char *keyfile)
{
	unsigned char *key = NULL;
	char err[512];
	size_t len;
	int rc;

	rc = vg_keyfile_read(keyfile, &key, &len, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "gen_frames: %s\n", err);
		return rc;
	}
	rc = vg_wire_key_init(&g->key, key, len);
	free(key);
	if (rc < 0)
		return rc;
	g->fd_a1 = gen_socket("127.0.0.11");
	g->fd_b1 = gen_socket("127.0.0.12");
	g->fd_a2 = gen_socket("127.0.0.21");
	g->fd_a3 = gen_socket("127.0.0.31");
	if (g->fd_a1 < 0 || g->fd_b1 < 0 || g->fd_a2 < 0 || g->fd_a3 < 0)
		return -EADDRNOTAVAIL;
	return 0;
}

int main(int argc, char **argv)
{
	struct gen g = { .fd_a1 = -1, .fd_b1 = -1, .fd_a2 = -1, .fd_a3 = -1 };
	long port;
	int rc;

	if (argc != 3 || (port = strtol(argv[2], NULL, 10)) <= 0 ||
	    port > 65535) {
		fprintf(stderr, "usage: gen_frames KEYFILE PORT\n");
		return 2;
	}
	g.port = (unsigned short)port;
	rc = gen_open(&g, argv[1]);
	if (!rc)
		rc = gen_run(&g);
	if (rc < 0)
		fprintf(stderr, "gen_frames: %s\n", strerror(-rc));
	if (g.fd_a1 >= 0)
		close(g.fd_a1);
	if (g.fd_b1 >= 0)
		close(g.fd_b1);
	if (g.fd_a2 >= 0)
		close(g.fd_a2);
	if (g.fd_a3 >= 0)
		close(g.fd_a3);
	vg_wire_key_free(&g.key);
	return rc < 0 ? 1 : 0;
}
