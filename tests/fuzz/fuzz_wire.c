/*
 * libFuzzer target for the wire codec (core/wire.c).  The first input byte
 * picks a mode, the rest is the data:
 *   0  decode: the bytes are a received frame (fixed key and cluster id)
 *   1  remac: the bytes are header + payload; the harness appends a valid
 *      MAC so the checks after the MAC are reached too
 *   2  rbuf: the bytes drive the payload reader over themselves
 *   3  roundtrip: the bytes are a payload; encode then decode must give
 *      them back, and the replay window must accept it once
 * Built with -DFUZZ_WIRE_SEEDGEN instead, main() writes seed inputs into
 * the directory given as argv[1] (see run-fuzz.sh).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "wire.h"

#define FUZZ_CLUSTER_ID 0x00C0FFEEu

static const uint8_t fuzz_key_bytes[32] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
	0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15,
	0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
};

/* Harness state, not core code: prepared once, used by every input. */
static struct vg_wire_key fuzz_key;
static EVP_MAC_CTX *fuzz_mac_ctx;

static void fuzz_check(int cond, const char *what)
{
	if (!cond) {
		fprintf(stderr, "fuzz_wire: invariant broken: %s\n", what);
		abort();
	}
}

static void fuzz_check_hdr(const struct vg_wire_hdr *h, size_t len)
{
	fuzz_check(h->version == VG_WIRE_VERSION, "version");
	fuzz_check(h->flags == 0, "flags");
	fuzz_check(h->type && h->node_id && h->incarnation && h->seq, "header 0s");
	fuzz_check(VG_WIRE_HDR_LEN + h->payload_len + VG_WIRE_MAC_LEN == len,
		   "payload_len");
}

static void fuzz_decode(const uint8_t *data, size_t len)
{
	struct vg_wire_hdr h;
	struct vg_replay r = { 0 };
	const void *p;
	volatile uint8_t sink = 0;
	size_t i;

	if (vg_wire_decode(&fuzz_key, FUZZ_CLUSTER_ID, data, len, &h, &p) == 0) {
		fuzz_check_hdr(&h, len);
		fuzz_check(h.cluster_id == FUZZ_CLUSTER_ID, "cluster");
		fuzz_check(vg_replay_check(&r, h.incarnation, h.seq) == 0, "replay");
		for (i = 0; i < h.payload_len; i++)	/* ASan checks the span */
			sink ^= ((const uint8_t *)p)[i];
	}
	if (vg_wire_decode_unverified(data, len, &h, &p) == 0)
		fuzz_check_hdr(&h, len);
	(void)sink;
}

/* HMAC-SHA-256 computed by the harness itself, independent of wire.c. */
static void fuzz_mac(const uint8_t *body, size_t len, uint8_t *out)
{
	size_t out_len = 0;

	fuzz_check(EVP_MAC_init(fuzz_mac_ctx, NULL, 0, NULL) &&
		   EVP_MAC_update(fuzz_mac_ctx, body, len) &&
		   EVP_MAC_final(fuzz_mac_ctx, out, &out_len, VG_WIRE_MAC_LEN) &&
		   out_len == VG_WIRE_MAC_LEN, "harness HMAC");
}

static void fuzz_remac(const uint8_t *data, size_t len)
{
	uint8_t frame[VG_WIRE_MAX_FRAME];
	struct vg_wire_hdr h;
	const void *p;
	int rc;

	if (len > VG_WIRE_MAX_FRAME - VG_WIRE_MAC_LEN)
		len = VG_WIRE_MAX_FRAME - VG_WIRE_MAC_LEN;
	memcpy(frame, data, len);
	fuzz_mac(frame, len, frame + len);
	rc = vg_wire_decode(&fuzz_key, FUZZ_CLUSTER_ID, frame,
			    len + VG_WIRE_MAC_LEN, &h, &p);
	/* the MAC is right by construction: never the reason to drop */
	fuzz_check(rc != -VG_WIRE_DROP_BAD_MAC, "valid MAC refused");
	fuzz_decode(frame, len + VG_WIRE_MAC_LEN);
}

static void fuzz_rbuf(const uint8_t *data, size_t len)
{
	struct vg_rbuf r;
	uint8_t out[64];
	size_t i, before;

	vg_rbuf_init(&r, data, len);
	for (i = 0; i < len && !r.err; i++) {
		before = r.off;
		switch (data[i] % 7) {
		case 0: (void)vg_rbuf_get_u8(&r); break;
		case 1: (void)vg_rbuf_get_u16(&r); break;
		case 2: (void)vg_rbuf_get_u32(&r); break;
		case 3: (void)vg_rbuf_get_u64(&r); break;
		case 4: vg_rbuf_get_bytes(&r, out, data[i] % sizeof(out)); break;
		case 5: (void)vg_rbuf_get_ref(&r, data[i]); break;
		default: (void)vg_rbuf_remaining(&r); break;
		}
		fuzz_check(r.off >= before && r.off <= r.len, "rbuf offset");
	}
	fuzz_check(!r.err || vg_rbuf_remaining(&r) == 0, "rbuf sticky");
}

static void fuzz_roundtrip(const uint8_t *data, size_t len)
{
	uint8_t frame[VG_WIRE_MAX_FRAME];
	struct vg_wire_hdr in = {
		.type = VG_MSG_JOIN, .cluster_id = FUZZ_CLUSTER_ID, .node_id = 9,
		.incarnation = UINT64_C(1700000000000000), .seq = len + 1,
	}, out;
	struct vg_replay r = { 0 };
	const void *p;
	size_t flen;
	int rc;

	rc = vg_wire_encode(&fuzz_key, &in, data, len, frame, sizeof(frame), &flen);
	if (len > VG_WIRE_MAX_PAYLOAD) {
		fuzz_check(rc == -EMSGSIZE, "oversized payload encoded");
		return;
	}
	fuzz_check(rc == 0, "encode");
	fuzz_check(flen == VG_WIRE_HDR_LEN + len + VG_WIRE_MAC_LEN, "frame length");
	fuzz_check(vg_wire_decode(&fuzz_key, FUZZ_CLUSTER_ID, frame, flen,
				  &out, &p) == 0, "decode of own frame");
	fuzz_check(out.type == in.type && out.node_id == in.node_id &&
		   out.incarnation == in.incarnation && out.seq == in.seq &&
		   out.payload_len == len, "header round-trip");
	fuzz_check(len == 0 || memcmp(p, data, len) == 0, "payload round-trip");
	fuzz_check(vg_replay_check(&r, out.incarnation, out.seq) == 0, "first copy");
	fuzz_check(vg_replay_check(&r, out.incarnation, out.seq) ==
		   -VG_WIRE_DROP_DUPLICATE, "second copy");
	/* the same frame truncated by one byte is never accepted */
	fuzz_check(vg_wire_decode(&fuzz_key, FUZZ_CLUSTER_ID, frame, flen - 1,
				  &out, &p) < 0, "truncated accepted");
}

static void fuzz_setup(void)
{
	OSSL_PARAM params[2];
	EVP_MAC *mac;

	fuzz_check(vg_wire_key_init(&fuzz_key, fuzz_key_bytes,
				    sizeof(fuzz_key_bytes)) == 0, "key init");
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	fuzz_check(mac != NULL, "HMAC fetch");
	fuzz_mac_ctx = EVP_MAC_CTX_new(mac);
	EVP_MAC_free(mac);
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	fuzz_check(fuzz_mac_ctx && EVP_MAC_init(fuzz_mac_ctx, fuzz_key_bytes,
						sizeof(fuzz_key_bytes), params),
		   "harness key");
}

static void fuzz_one(const uint8_t *data, size_t size)
{
	if (size == 0)
		return;
	switch (data[0] % 4) {
	case 0: fuzz_decode(data + 1, size - 1); break;
	case 1: fuzz_remac(data + 1, size - 1); break;
	case 2: fuzz_rbuf(data + 1, size - 1); break;
	default: fuzz_roundtrip(data + 1, size - 1); break;
	}
}

#ifndef FUZZ_WIRE_SEEDGEN

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_setup();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_one(data, size);
	return 0;
}

#else /* FUZZ_WIRE_SEEDGEN */

/* Write mode byte + data as one seed, after running it through the target. */
static int seed_write(const char *dir, const char *name, uint8_t mode,
		      const uint8_t *data, size_t len)
{
	uint8_t input[1 + VG_WIRE_MAX_FRAME];
	char path[4096];
	FILE *f;
	int ok;

	fuzz_check(len < sizeof(input), "seed size");
	input[0] = mode;
	memcpy(input + 1, data, len);
	fuzz_one(input, len + 1);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f)
		return -1;
	ok = fwrite(input, 1, len + 1, f) == len + 1;
	return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* A valid frame of each type, its body for remac, and a few payloads. */
int main(int argc, char **argv)
{
	uint8_t frame[VG_WIRE_MAX_FRAME], payload[64];
	struct vg_wire_hdr h = {
		.cluster_id = FUZZ_CLUSTER_ID, .node_id = 2,
		.incarnation = UINT64_C(1700000000000001),
	};
	char name[64];
	size_t len, i;
	int rc = 0;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
		return 2;
	}
	fuzz_setup();
	for (i = 0; i < sizeof(payload); i++)
		payload[i] = (uint8_t)(i * 31);
	for (h.type = VG_MSG_HEARTBEAT; h.type <= VG_MSG_CONFIG_MISMATCH; h.type++) {
		h.seq = h.type;
		len = (size_t)h.type * 12;
		fuzz_check(vg_wire_encode(&fuzz_key, &h, payload, len, frame,
					  sizeof(frame), &len) == 0, "seed encode");
		snprintf(name, sizeof(name), "frame-type%u", h.type);
		rc |= seed_write(argv[1], name, 0, frame, len);
		snprintf(name, sizeof(name), "remac-type%u", h.type);
		rc |= seed_write(argv[1], name, 1, frame, len - VG_WIRE_MAC_LEN);
	}
	rc |= seed_write(argv[1], "rbuf", 2, payload, sizeof(payload));
	rc |= seed_write(argv[1], "roundtrip-empty", 3, payload, 0);
	rc |= seed_write(argv[1], "roundtrip-64", 3, payload, sizeof(payload));
	if (rc)
		perror("fuzz_wire seedgen");
	return rc ? 1 : 0;
}

#endif /* FUZZ_WIRE_SEEDGEN */
