/*
 * CUnit suite "wire": frame codec, MAC, replay window, payload buffers.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <CUnit/CUnit.h>
#include <openssl/evp.h>

#include "sha256.h"
#include "wire.h"

#define CLUSTER_ID 0x00C0FFEEu

static const uint8_t test_key_bytes[32] = "0123456789abcdef0123456789abcde";
static const uint8_t other_key_bytes[32] = "0123456789abcdef0123456789abcdX";

static struct vg_wire_hdr test_hdr(void)
{
	struct vg_wire_hdr h = {
		.type = VG_MSG_HEARTBEAT,
		.cluster_id = CLUSTER_ID,
		.node_id = 3,
		.incarnation = UINT64_C(1700000000123456),
		.seq = 42,
	};
	return h;
}

/* A valid frame with a small payload into buf; returns its length. */
static size_t make_frame(const struct vg_wire_key *key, uint8_t *buf, size_t cap)
{
	static const char payload[] = "hello, cluster";
	struct vg_wire_hdr h = test_hdr();
	size_t len = 0;

	CU_ASSERT_EQUAL_FATAL(vg_wire_encode(key, &h, payload, sizeof(payload),
					     buf, cap, &len), 0);
	return len;
}

static void key_init(struct vg_wire_key *key, const uint8_t *bytes)
{
	CU_ASSERT_EQUAL_FATAL(vg_wire_key_init(key, bytes, 32), 0);
}

static void test_wire_roundtrip(void)
{
	uint8_t buf[VG_WIRE_MAX_FRAME], payload[VG_WIRE_MAX_PAYLOAD];
	struct vg_wire_hdr in = test_hdr(), out;
	struct vg_wire_key key;
	const void *p = NULL;
	size_t len, n;

	key_init(&key, test_key_bytes);
	for (n = 0; n < sizeof(payload); n++)
		payload[n] = (uint8_t)(n * 7 + 1);
	in.flags = 0;
	in.type = VG_MSG_MEMBERSHIP;
	in.seq = UINT64_MAX;
	for (n = 0; n <= VG_WIRE_MAX_PAYLOAD; n += (n < 40 ? 1 : 97)) {
		CU_ASSERT_EQUAL(vg_wire_encode(&key, &in, payload, n, buf,
					       sizeof(buf), &len), 0);
		CU_ASSERT_EQUAL(len, VG_WIRE_HDR_LEN + n + VG_WIRE_MAC_LEN);
		memset(&out, 0xa5, sizeof(out));
		CU_ASSERT_EQUAL(vg_wire_decode(&key, CLUSTER_ID, buf, len,
					       &out, &p), 0);
		CU_ASSERT_EQUAL(out.version, VG_WIRE_VERSION);
		CU_ASSERT_EQUAL(out.type, in.type);
		CU_ASSERT_EQUAL(out.flags, 0);
		CU_ASSERT_EQUAL(out.cluster_id, in.cluster_id);
		CU_ASSERT_EQUAL(out.node_id, in.node_id);
		CU_ASSERT(out.incarnation == in.incarnation);
		CU_ASSERT(out.seq == in.seq);
		CU_ASSERT_EQUAL(out.payload_len, n);
		CU_ASSERT_PTR_EQUAL(p, buf + VG_WIRE_HDR_LEN);
		CU_ASSERT(n == 0 || memcmp(p, payload, n) == 0);
	}
	/* the whole maximum payload, built in place */
	CU_ASSERT_EQUAL(vg_wire_encode(&key, &in, buf + VG_WIRE_HDR_LEN,
				       VG_WIRE_MAX_PAYLOAD, buf, sizeof(buf), &len), 0);
	CU_ASSERT_EQUAL(len, VG_WIRE_MAX_FRAME);
	CU_ASSERT_EQUAL(vg_wire_decode(&key, CLUSTER_ID, buf, len, &out, &p), 0);
	vg_wire_key_free(&key);
}

static void test_wire_encode_refuses(void)
{
	uint8_t buf[VG_WIRE_MAX_FRAME + 16], payload[VG_WIRE_MAX_PAYLOAD + 1] = { 0 };
	struct vg_wire_hdr h = test_hdr();
	struct vg_wire_key key;
	size_t len;

	key_init(&key, test_key_bytes);
	CU_ASSERT_EQUAL(vg_wire_encode(&key, &h, payload, sizeof(payload), buf,
				       sizeof(buf), &len), -EMSGSIZE);
	CU_ASSERT_EQUAL(vg_wire_encode(&key, &h, payload, 10, buf,
				       VG_WIRE_HDR_LEN + 10 + VG_WIRE_MAC_LEN - 1,
				       &len), -EMSGSIZE);
	h.flags = VG_WIRE_F_ENCRYPTED;
	CU_ASSERT_EQUAL(vg_wire_encode(&key, &h, NULL, 0, buf, sizeof(buf), &len), -EINVAL);
	h = test_hdr();
	h.seq = 0;
	CU_ASSERT_EQUAL(vg_wire_encode(&key, &h, NULL, 0, buf, sizeof(buf), &len), -EINVAL);
	h = test_hdr();
	h.type = VG_MSG_INVALID;
	CU_ASSERT_EQUAL(vg_wire_encode(&key, &h, NULL, 0, buf, sizeof(buf), &len), -EINVAL);
	vg_wire_key_free(&key);
}

static void test_wire_drops_truncated(void)
{
	uint8_t buf[VG_WIRE_MAX_FRAME];
	struct vg_wire_hdr out;
	struct vg_wire_key key;
	const void *p;
	size_t len, n;
	int rc;

	key_init(&key, test_key_bytes);
	len = make_frame(&key, buf, sizeof(buf));
	for (n = 0; n < VG_WIRE_HDR_LEN + VG_WIRE_MAC_LEN; n++)
		CU_ASSERT_EQUAL(vg_wire_decode(&key, CLUSTER_ID, buf, n, &out, &p),
				-VG_WIRE_DROP_TRUNCATED);
	/* longer than header + MAC, shorter than announced: bad length */
	for (; n < len; n++) {
		rc = vg_wire_decode(&key, CLUSTER_ID, buf, n, &out, &p);
		CU_ASSERT_EQUAL(rc, -VG_WIRE_DROP_BAD_LENGTH);
	}
	CU_ASSERT_EQUAL(vg_wire_decode(&key, CLUSTER_ID, NULL, 0, &out, &p),
			-VG_WIRE_DROP_TRUNCATED);
	vg_wire_key_free(&key);
}

static void test_wire_drops_oversized(void)
{
	uint8_t buf[VG_WIRE_MAX_FRAME + 64];
	struct vg_wire_hdr out;
	struct vg_wire_key key;
	const void *p;

	key_init(&key, test_key_bytes);
	make_frame(&key, buf, sizeof(buf));
	CU_ASSERT_EQUAL(vg_wire_decode(&key, CLUSTER_ID, buf, VG_WIRE_MAX_FRAME + 1,
				       &out, &p), -VG_WIRE_DROP_OVERSIZED);
	CU_ASSERT_EQUAL(vg_wire_decode(&key, CLUSTER_ID, buf, sizeof(buf),
				       &out, &p), -VG_WIRE_DROP_OVERSIZED);
	vg_wire_key_free(&key);
}

static void test_wire_drops_bad_magic_and_version(void)
{
	uint8_t buf[VG_WIRE_MAX_FRAME];
	struct vg_wire_hdr out;
	struct vg_wire_key key;
	const void *p;
	size_t len;

	key_init(&key, test_key_bytes);
	len = make_frame(&key, buf, sizeof(buf));
	buf[VG_WIRE_OFF_MAGIC + 3] ^= 1;
	CU_ASSERT_EQUAL(vg_wire_decode(&key, CLUSTER_ID, buf, len, &out, &p),
			-VG_WIRE_DROP_BAD_MAGIC);
	buf[VG_WIRE_OFF_MAGIC + 3] ^= 1;
	buf[VG_WIRE_OFF_VERSION] = 2;
	CU_ASSERT_EQUAL(vg_wire_decode(&key, CLUSTER_ID, buf, len, &out, &p),
			-VG_WIRE_DROP_BAD_VERSION);
	vg_wire_key_free(&key);
}

static void test_wire_drops_other_cluster(void)
{
	uint8_t buf[VG_WIRE_MAX_FRAME];
	struct vg_wire_hdr out;
	struct vg_wire_key key;
	const void *p;
	size_t len;

	key_init(&key, test_key_bytes);
	len = make_frame(&key, buf, sizeof(buf));
	CU_ASSERT_EQUAL(vg_wire_decode(&key, CLUSTER_ID + 1, buf, len, &out, &p),
			-VG_WIRE_DROP_OTHER_CLUSTER);
	vg_wire_key_free(&key);
}

static void test_wire_drops_bad_mac(void)
{
	uint8_t buf[VG_WIRE_MAX_FRAME], orig[VG_WIRE_MAX_FRAME];
	struct vg_wire_hdr out;
	struct vg_wire_key key;
	const void *p;
	size_t len, bit;
	int rc;

	key_init(&key, test_key_bytes);
	len = make_frame(&key, orig, sizeof(orig));
	/* every bit of header, payload and trailer */
	for (bit = 0; bit < len * 8; bit++) {
		memcpy(buf, orig, len);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		rc = vg_wire_decode(&key, CLUSTER_ID, buf, len, &out, &p);
		CU_ASSERT(rc < 0);
		CU_ASSERT(rc == -VG_WIRE_DROP_BAD_MAC ||
			  rc == -VG_WIRE_DROP_BAD_MAGIC ||
			  rc == -VG_WIRE_DROP_BAD_VERSION ||
			  rc == -VG_WIRE_DROP_OTHER_CLUSTER ||
			  rc == -VG_WIRE_DROP_BAD_LENGTH);
		if (bit / 8 >= VG_WIRE_OFF_TYPE && bit / 8 < VG_WIRE_OFF_CLUSTER)
			CU_ASSERT_EQUAL(rc, -VG_WIRE_DROP_BAD_MAC);
		if (bit / 8 >= VG_WIRE_OFF_NODE && bit / 8 < VG_WIRE_OFF_PAYLOAD_LEN)
			CU_ASSERT_EQUAL(rc, -VG_WIRE_DROP_BAD_MAC);
		if (bit / 8 >= VG_WIRE_OFF_RESERVED)
			CU_ASSERT_EQUAL(rc, -VG_WIRE_DROP_BAD_MAC);
	}
	vg_wire_key_free(&key);
}

static void test_wire_drops_wrong_key(void)
{
	uint8_t buf[VG_WIRE_MAX_FRAME];
	struct vg_wire_key key, other;
	struct vg_wire_hdr out;
	const void *p;
	size_t len;

	key_init(&key, test_key_bytes);
	key_init(&other, other_key_bytes);
	len = make_frame(&other, buf, sizeof(buf));
	CU_ASSERT_EQUAL(vg_wire_decode(&key, CLUSTER_ID, buf, len, &out, &p),
			-VG_WIRE_DROP_BAD_MAC);
	CU_ASSERT_EQUAL(vg_wire_decode(&other, CLUSTER_ID, buf, len, &out, &p), 0);
	vg_wire_key_free(&other);
	vg_wire_key_free(&key);
}

static void test_wire_drops_bad_length(void)
{
	uint8_t buf[VG_WIRE_MAX_FRAME];
	struct vg_wire_hdr out;
	struct vg_wire_key key;
	const void *p;
	size_t len;

	key_init(&key, test_key_bytes);
	len = make_frame(&key, buf, sizeof(buf));
	buf[VG_WIRE_OFF_PAYLOAD_LEN + 1]++;
	CU_ASSERT_EQUAL(vg_wire_decode(&key, CLUSTER_ID, buf, len, &out, &p),
			-VG_WIRE_DROP_BAD_LENGTH);
	buf[VG_WIRE_OFF_PAYLOAD_LEN + 1] -= 2;
	CU_ASSERT_EQUAL(vg_wire_decode(&key, CLUSTER_ID, buf, len, &out, &p),
			-VG_WIRE_DROP_BAD_LENGTH);
	buf[VG_WIRE_OFF_PAYLOAD_LEN] = 0xff;
	CU_ASSERT_EQUAL(vg_wire_decode(&key, CLUSTER_ID, buf, len, &out, &p),
			-VG_WIRE_DROP_BAD_LENGTH);
	vg_wire_key_free(&key);
}

/* Recompute the trailer of an edited frame, independently of wire.c. */
static void remac(uint8_t *buf, size_t len)
{
	size_t out_len = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL,
					       test_key_bytes, sizeof(test_key_bytes),
					       buf, len - VG_WIRE_MAC_LEN,
					       buf + len - VG_WIRE_MAC_LEN,
					       VG_WIRE_MAC_LEN, &out_len));
}

/* Fields checked after the MAC: a correctly MAC'd frame that breaks them. */
static void test_wire_drops_bad_flags_after_mac(void)
{
	uint8_t buf[VG_WIRE_MAX_FRAME];
	struct vg_wire_hdr out;
	struct vg_wire_key key;
	const void *p;
	size_t len;

	key_init(&key, test_key_bytes);
	len = make_frame(&key, buf, sizeof(buf));
	remac(buf, len);	/* the helper agrees with the codec */
	CU_ASSERT_EQUAL(vg_wire_decode(&key, CLUSTER_ID, buf, len, &out, &p), 0);
	buf[VG_WIRE_OFF_FLAGS + 1] = VG_WIRE_F_ENCRYPTED;
	remac(buf, len);
	CU_ASSERT_EQUAL(vg_wire_decode(&key, CLUSTER_ID, buf, len, &out, &p),
			-VG_WIRE_DROP_BAD_FLAGS);
	CU_ASSERT_EQUAL(vg_wire_decode_unverified(buf, len, &out, &p),
			-VG_WIRE_DROP_BAD_FLAGS);
	buf[VG_WIRE_OFF_FLAGS + 1] = 0;
	buf[VG_WIRE_OFF_RESERVED] = 1;
	remac(buf, len);
	CU_ASSERT_EQUAL(vg_wire_decode(&key, CLUSTER_ID, buf, len, &out, &p),
			-VG_WIRE_DROP_BAD_FLAGS);
	buf[VG_WIRE_OFF_RESERVED] = 0;
	buf[VG_WIRE_OFF_TYPE] = VG_MSG_INVALID;
	remac(buf, len);
	CU_ASSERT_EQUAL(vg_wire_decode(&key, CLUSTER_ID, buf, len, &out, &p),
			-VG_WIRE_DROP_BAD_HEADER);
	buf[VG_WIRE_OFF_TYPE] = VG_MSG_HEARTBEAT;
	buf[VG_WIRE_OFF_SEQ + 7] = 0;	/* seq 42 -> 0 */
	remac(buf, len);
	CU_ASSERT_EQUAL(vg_wire_decode(&key, CLUSTER_ID, buf, len, &out, &p),
			-VG_WIRE_DROP_BAD_HEADER);
	buf[VG_WIRE_OFF_SEQ + 7] = 42;
	buf[VG_WIRE_OFF_TYPE] = 200;	/* an unknown, later type passes */
	remac(buf, len);
	CU_ASSERT_EQUAL(vg_wire_decode(&key, CLUSTER_ID, buf, len, &out, &p), 0);
	CU_ASSERT_EQUAL(out.type, 200);
	CU_ASSERT_EQUAL(vg_wire_decode_unverified(buf, len, &out, &p), 0);
	vg_wire_key_free(&key);
}

static void test_replay_window_accepts_in_order(void)
{
	struct vg_replay r = { 0 };
	uint64_t s;

	for (s = 1; s <= 1000; s++)
		CU_ASSERT_EQUAL(vg_replay_check(&r, 7, s), 0);
	CU_ASSERT(r.top_seq == 1000);
	/* a gap larger than the window is accepted too (lost frames) */
	CU_ASSERT_EQUAL(vg_replay_check(&r, 7, 5000), 0);
	CU_ASSERT_EQUAL(vg_replay_check(&r, 7, UINT64_MAX), 0);
}

static void test_replay_window_drops_old_sequence(void)
{
	struct vg_replay r = { 0 };

	CU_ASSERT_EQUAL(vg_replay_check(&r, 7, 100), 0);
	CU_ASSERT_EQUAL(vg_replay_check(&r, 7, 100 - VG_REPLAY_WINDOW + 1), 0);
	CU_ASSERT_EQUAL(vg_replay_check(&r, 7, 100 - VG_REPLAY_WINDOW),
			-VG_WIRE_DROP_REPLAYED);
	CU_ASSERT_EQUAL(vg_replay_check(&r, 7, 1), -VG_WIRE_DROP_REPLAYED);
	CU_ASSERT_EQUAL(vg_replay_check(&r, 7, 0), -VG_WIRE_DROP_REPLAYED);
}

static void test_replay_window_drops_duplicate(void)
{
	struct vg_replay r = { 0 };
	uint64_t s;

	for (s = 1; s <= 10; s++) {
		CU_ASSERT_EQUAL(vg_replay_check(&r, 7, s), 0);
		/* the same frame from the second link */
		CU_ASSERT_EQUAL(vg_replay_check(&r, 7, s), -VG_WIRE_DROP_DUPLICATE);
	}
	for (s = 1; s <= 10; s++)
		CU_ASSERT_EQUAL(vg_replay_check(&r, 7, s), -VG_WIRE_DROP_DUPLICATE);
}

static void test_replay_window_accepts_reordered_within_window(void)
{
	struct vg_replay r = { 0 };
	uint64_t s;

	CU_ASSERT_EQUAL(vg_replay_check(&r, 7, 200), 0);
	/* everything the window still holds, in reverse order, once */
	for (s = 199; s > 200 - VG_REPLAY_WINDOW; s--)
		CU_ASSERT_EQUAL(vg_replay_check(&r, 7, s), 0);
	CU_ASSERT(r.bitmap == UINT64_MAX);
	for (s = 200; s > 200 - VG_REPLAY_WINDOW; s--)
		CU_ASSERT_EQUAL(vg_replay_check(&r, 7, s), -VG_WIRE_DROP_DUPLICATE);
	/* interleaved: 202 before 201 */
	CU_ASSERT_EQUAL(vg_replay_check(&r, 7, 202), 0);
	CU_ASSERT_EQUAL(vg_replay_check(&r, 7, 201), 0);
	CU_ASSERT_EQUAL(vg_replay_check(&r, 7, 201), -VG_WIRE_DROP_DUPLICATE);
}

static void test_replay_new_incarnation_resets(void)
{
	struct vg_replay r = { 0 };

	CU_ASSERT_EQUAL(vg_replay_check(&r, 7, 5000), 0);
	CU_ASSERT_EQUAL(vg_replay_check(&r, 8, 1), 0);
	CU_ASSERT(r.incarnation == 8);
	CU_ASSERT(r.top_seq == 1);
	CU_ASSERT_EQUAL(vg_replay_check(&r, 8, 2), 0);
	CU_ASSERT_EQUAL(vg_replay_check(&r, 8, 1), -VG_WIRE_DROP_DUPLICATE);
}

static void test_replay_drops_old_incarnation(void)
{
	struct vg_replay r = { 0 };

	CU_ASSERT_EQUAL(vg_replay_check(&r, 8, 1), 0);
	CU_ASSERT_EQUAL(vg_replay_check(&r, 7, 9999), -VG_WIRE_DROP_OLD_INCARNATION);
	CU_ASSERT(r.incarnation == 8 && r.top_seq == 1);
}

static void test_wire_stats_count_by_reason(void)
{
	struct vg_wire_stats s = { 0 };

	vg_wire_stats_count(&s, 0);
	vg_wire_stats_count(&s, -VG_WIRE_DROP_DUPLICATE);
	vg_wire_stats_count(&s, -VG_WIRE_DROP_DUPLICATE);
	vg_wire_stats_count(&s, -1000);
	vg_wire_stats_count(&s, 5);
	CU_ASSERT(s.accepted == 1);
	CU_ASSERT(s.dropped[VG_WIRE_DROP_DUPLICATE] == 2);
	CU_ASSERT(s.dropped[VG_WIRE_DROP_NONE] == 2);
	CU_ASSERT_STRING_EQUAL(vg_wire_drop_name(-VG_WIRE_DROP_BAD_MAC), "bad-mac");
	CU_ASSERT_STRING_EQUAL(vg_wire_drop_name(VG_WIRE_DROP_DUPLICATE), "duplicate");
	CU_ASSERT_STRING_EQUAL(vg_wire_drop_name(VG_WIRE_DROP_MAX), "unknown");
	CU_ASSERT_STRING_EQUAL(vg_wire_drop_name(-2147483647 - 1), "unknown");
}

static void test_wire_type_values_pinned(void)
{
	struct vg_wire_hdr h = test_hdr();
	struct vg_wire_key key;
	uint8_t buf[VG_WIRE_MAX_FRAME];
	static const uint8_t want[VG_WIRE_HDR_LEN] = {
		0x56, 0x47, 0x4c, 0x31, 0x01, 0x01, 0x00, 0x00, /* magic ver type flags */
		0x00, 0xc0, 0xff, 0xee, 0x00, 0x00, 0x00, 0x03, /* cluster node */
		0x00, 0x06, 0x0a, 0x24, 0x18, 0x20, 0x22, 0x40, /* incarnation */
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, /* seq */
		0x00, 0x03, 0x00, 0x00,                         /* len reserved */
	};
	size_t len;

	CU_ASSERT_EQUAL(VG_MSG_INVALID, 0);
	CU_ASSERT_EQUAL(VG_MSG_HEARTBEAT, 1);
	CU_ASSERT_EQUAL(VG_MSG_JOIN, 2);
	CU_ASSERT_EQUAL(VG_MSG_MEMBERSHIP, 3);
	CU_ASSERT_EQUAL(VG_MSG_LEAVE, 4);
	CU_ASSERT_EQUAL(VG_MSG_CONFIG_MISMATCH, 5);
	CU_ASSERT_EQUAL(VG_WIRE_DROP_TRUNCATED, 1);
	CU_ASSERT_EQUAL(VG_WIRE_DROP_OVERSIZED, 2);
	CU_ASSERT_EQUAL(VG_WIRE_DROP_BAD_MAGIC, 3);
	CU_ASSERT_EQUAL(VG_WIRE_DROP_BAD_VERSION, 4);
	CU_ASSERT_EQUAL(VG_WIRE_DROP_OTHER_CLUSTER, 5);
	CU_ASSERT_EQUAL(VG_WIRE_DROP_BAD_LENGTH, 6);
	CU_ASSERT_EQUAL(VG_WIRE_DROP_BAD_MAC, 7);
	CU_ASSERT_EQUAL(VG_WIRE_DROP_BAD_FLAGS, 8);
	CU_ASSERT_EQUAL(VG_WIRE_DROP_BAD_HEADER, 9);
	CU_ASSERT_EQUAL(VG_WIRE_DROP_OLD_INCARNATION, 10);
	CU_ASSERT_EQUAL(VG_WIRE_DROP_REPLAYED, 11);
	CU_ASSERT_EQUAL(VG_WIRE_DROP_DUPLICATE, 12);
	CU_ASSERT_EQUAL(VG_WIRE_MAGIC, 0x56474C31u);
	CU_ASSERT_EQUAL(VG_WIRE_VERSION, 1);
	CU_ASSERT_EQUAL(VG_WIRE_F_ENCRYPTED, 1);
	CU_ASSERT_EQUAL(VG_WIRE_HDR_LEN, 36);
	CU_ASSERT_EQUAL(VG_WIRE_MAC_LEN, 32);
	CU_ASSERT_EQUAL(VG_WIRE_MAX_FRAME, 1400);
	CU_ASSERT_EQUAL(VG_WIRE_MAX_PAYLOAD, 1332);
	CU_ASSERT_EQUAL(VG_REPLAY_WINDOW, 64);
	/* offsets, checked against the bytes actually written */
	key_init(&key, test_key_bytes);
	CU_ASSERT_EQUAL_FATAL(vg_wire_encode(&key, &h, "abc", 3, buf, sizeof(buf),
					     &len), 0);
	CU_ASSERT_EQUAL(memcmp(buf, want, sizeof(want)), 0);
	CU_ASSERT_EQUAL(memcmp(buf + VG_WIRE_HDR_LEN, "abc", 3), 0);
	vg_wire_key_free(&key);
}

/*
 * Known answer, independent of OpenSSL's API use here: the trailer is
 * HMAC-SHA-256(key, header || payload).  Same vector as docs/protocol.md
 * (computed with Python's hmac module).
 */
static void test_wire_mac_known_answer(void)
{
	static const uint8_t want_mac[VG_WIRE_MAC_LEN] = {
		0x44, 0x23, 0x3c, 0x46, 0xbb, 0xff, 0xb1, 0xf7, 0x8a, 0x88, 0x61,
		0x76, 0x90, 0xfe, 0x3b, 0x9d, 0x34, 0x24, 0x7c, 0xa2, 0x72, 0x04,
		0x9e, 0xdc, 0x15, 0x6b, 0xa6, 0xd9, 0x18, 0xf9, 0xc3, 0xa9,
	};
	struct vg_wire_hdr h = test_hdr();
	struct vg_wire_key key;
	uint8_t key_bytes[32], buf[VG_WIRE_MAX_FRAME];
	size_t i, len;

	for (i = 0; i < sizeof(key_bytes); i++)
		key_bytes[i] = (uint8_t)i;
	CU_ASSERT_EQUAL_FATAL(vg_wire_key_init(&key, key_bytes, sizeof(key_bytes)), 0);
	CU_ASSERT_EQUAL_FATAL(vg_wire_encode(&key, &h, "abc", 3, buf, sizeof(buf),
					     &len), 0);
	CU_ASSERT_EQUAL(len, VG_WIRE_HDR_LEN + 3 + VG_WIRE_MAC_LEN);
	CU_ASSERT_EQUAL(memcmp(buf + VG_WIRE_HDR_LEN + 3, want_mac, sizeof(want_mac)), 0);
	/* the context is reused: a second frame gives the same answer */
	CU_ASSERT_EQUAL(vg_wire_encode(&key, &h, "abc", 3, buf, sizeof(buf), &len), 0);
	CU_ASSERT_EQUAL(memcmp(buf + VG_WIRE_HDR_LEN + 3, want_mac, sizeof(want_mac)), 0);
	vg_wire_key_free(&key);
	CU_ASSERT_EQUAL(vg_wire_key_init(&key, NULL, 0), -EINVAL);
}

static void hex(const uint8_t *d, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", d[i]);
}

/* FIPS 180-4 examples: empty, "abc", the two-block message, a million 'a'. */
static void test_sha256_nist_vectors(void)
{
	static const char *msg2 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	uint8_t d[32], *a = malloc(1000000);
	struct vg_sha256 s;
	char h[65];

	vg_sha256("", 0, d);
	hex(d, 32, h);
	CU_ASSERT_STRING_EQUAL(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	vg_sha256("abc", 3, d);
	hex(d, 32, h);
	CU_ASSERT_STRING_EQUAL(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	vg_sha256(msg2, strlen(msg2), d);
	hex(d, 32, h);
	CU_ASSERT_STRING_EQUAL(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	memset(a, 'a', 1000000);
	vg_sha256_init(&s);
	for (size_t off = 0; off < 1000000; off += 997) /* uneven pieces */
		vg_sha256_update(&s, a + off, off + 997 > 1000000 ? 1000000 - off : 997);
	vg_sha256_final(&s, d);
	hex(d, 32, h);
	CU_ASSERT_STRING_EQUAL(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	free(a);
}

/* RFC 4231 cases 1, 2 and 6 (a key longer than the block), and OpenSSL on random inputs. */
static void test_hmac_sha256_rfc4231_and_openssl(void)
{
	uint8_t key[131], data[1500], d[32], ref[32];
	struct vg_hmac_key k;
	size_t ref_len;
	char h[65];

	memset(key, 0x0b, 20);
	vg_hmac_sha256_key(&k, key, 20);
	vg_hmac_sha256(&k, "Hi There", 8, d);
	hex(d, 32, h);
	CU_ASSERT_STRING_EQUAL(h, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	vg_hmac_sha256_key(&k, "Jefe", 4);
	vg_hmac_sha256(&k, "what do ya want for nothing?", 28, d);
	hex(d, 32, h);
	CU_ASSERT_STRING_EQUAL(h, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, 131);
	vg_hmac_sha256_key(&k, key, 131);
	vg_hmac_sha256(&k, "Test Using Larger Than Block-Size Key - Hash Key First", 54, d);
	hex(d, 32, h);
	CU_ASSERT_STRING_EQUAL(h, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
	srand(7);
	for (int t = 0; t < 200; t++) {
		size_t klen = 1 + (size_t)rand() % sizeof(key), dlen = (size_t)rand() % sizeof(data);

		for (size_t i = 0; i < klen; i++)
			key[i] = (uint8_t)rand();
		for (size_t i = 0; i < dlen; i++)
			data[i] = (uint8_t)rand();
		vg_hmac_sha256_key(&k, key, klen);
		vg_hmac_sha256(&k, data, dlen, d);
		CU_ASSERT_PTR_NOT_NULL_FATAL(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, klen,
						       data, dlen, ref, sizeof(ref), &ref_len));
		CU_ASSERT_EQUAL(memcmp(d, ref, 32), 0);
	}
}

static void test_rbuf_never_reads_past_end(void)
{
	uint8_t data[16], out[8];
	struct vg_rbuf r;
	size_t n, cut;

	for (n = 0; n < sizeof(data); n++)
		data[n] = (uint8_t)(n + 1);
	vg_rbuf_init(&r, data, sizeof(data));
	CU_ASSERT_EQUAL(vg_rbuf_get_u8(&r), 0x01);
	CU_ASSERT_EQUAL(vg_rbuf_get_u16(&r), 0x0203);
	CU_ASSERT_EQUAL(vg_rbuf_get_u32(&r), 0x04050607u);
	CU_ASSERT(vg_rbuf_get_u64(&r) == UINT64_C(0x08090a0b0c0d0e0f));
	CU_ASSERT_EQUAL(vg_rbuf_remaining(&r), 1);
	CU_ASSERT_EQUAL(r.err, 0);
	CU_ASSERT_EQUAL(vg_rbuf_get_u16(&r), 0);	/* 1 byte left: fails */
	CU_ASSERT_EQUAL(r.err, -EBADMSG);
	CU_ASSERT_EQUAL(vg_rbuf_get_u8(&r), 0);		/* sticky */
	CU_ASSERT_EQUAL(vg_rbuf_remaining(&r), 0);
	/* every width at every cut: reads only inside [0, cut) */
	for (cut = 0; cut <= 8; cut++) {
		vg_rbuf_init(&r, data, cut);
		CU_ASSERT(vg_rbuf_get_u64(&r) == (cut < 8 ? 0 : UINT64_C(0x0102030405060708)));
		CU_ASSERT_EQUAL(r.err, cut < 8 ? -EBADMSG : 0);
		vg_rbuf_init(&r, data, cut);
		memset(out, 0xee, sizeof(out));
		vg_rbuf_get_bytes(&r, out, 8);
		CU_ASSERT(cut < 8 ? out[0] == 0 && out[7] == 0 : out[7] == 8);
		vg_rbuf_init(&r, data, cut);
		CU_ASSERT((vg_rbuf_get_ref(&r, SIZE_MAX) == NULL));
		CU_ASSERT_EQUAL(r.err, -EBADMSG);
	}
	vg_rbuf_init(&r, NULL, 100);
	CU_ASSERT_EQUAL(vg_rbuf_get_u8(&r), 0);
	CU_ASSERT_EQUAL(r.err, -EBADMSG);
}

static void test_wbuf_never_writes_past_cap(void)
{
	uint8_t buf[16];
	struct vg_wbuf w;
	struct vg_rbuf r;

	memset(buf, 0xee, sizeof(buf));
	vg_wbuf_init(&w, buf, 14);
	vg_wbuf_put_u8(&w, 0x01);
	vg_wbuf_put_u16(&w, 0x0203);
	vg_wbuf_put_u32(&w, 0x04050607u);
	vg_wbuf_put_u64(&w, UINT64_C(0x08090a0b0c0d0e0f));
	CU_ASSERT_EQUAL(w.err, -EMSGSIZE);
	CU_ASSERT_EQUAL(w.len, 7);
	CU_ASSERT_EQUAL(buf[7], 0xee);
	CU_ASSERT_EQUAL(buf[15], 0xee);
	vg_wbuf_init(&w, buf, sizeof(buf));
	vg_wbuf_put_u32(&w, 0xdeadbeefu);
	vg_wbuf_put_bytes(&w, "xyz", 3);
	vg_wbuf_put_u64(&w, 1);
	vg_wbuf_put_bytes(&w, "!", 1);
	CU_ASSERT_EQUAL(w.err, 0);
	CU_ASSERT_EQUAL(w.len, 16);
	vg_rbuf_init(&r, buf, w.len);
	CU_ASSERT_EQUAL(vg_rbuf_get_u32(&r), 0xdeadbeefu);
	CU_ASSERT_EQUAL(memcmp(vg_rbuf_get_ref(&r, 3), "xyz", 3), 0);
	CU_ASSERT(vg_rbuf_get_u64(&r) == 1);
	CU_ASSERT_EQUAL(vg_rbuf_get_u8(&r), '!');
	CU_ASSERT_EQUAL(r.err, 0);
	vg_wbuf_put_bytes(&w, "", SIZE_MAX);
	CU_ASSERT_EQUAL(w.err, -EMSGSIZE);
}

#define TEST(fn) { #fn, fn }

int main(void)
{
	static const struct {
		const char *name;
		CU_TestFunc fn;
	} tests[] = {
		TEST(test_wire_roundtrip),
		TEST(test_wire_encode_refuses),
		TEST(test_wire_drops_truncated),
		TEST(test_wire_drops_oversized),
		TEST(test_wire_drops_bad_magic_and_version),
		TEST(test_wire_drops_other_cluster),
		TEST(test_wire_drops_bad_mac),
		TEST(test_wire_drops_wrong_key),
		TEST(test_wire_drops_bad_length),
		TEST(test_wire_drops_bad_flags_after_mac),
		TEST(test_replay_window_accepts_in_order),
		TEST(test_replay_window_drops_old_sequence),
		TEST(test_replay_window_drops_duplicate),
		TEST(test_replay_window_accepts_reordered_within_window),
		TEST(test_replay_new_incarnation_resets),
		TEST(test_replay_drops_old_incarnation),
		TEST(test_wire_stats_count_by_reason),
		TEST(test_wire_type_values_pinned),
		TEST(test_wire_mac_known_answer),
		TEST(test_sha256_nist_vectors),
		TEST(test_hmac_sha256_rfc4231_and_openssl),
		TEST(test_rbuf_never_reads_past_end),
		TEST(test_wbuf_never_writes_past_cap),
	};
	CU_pSuite suite;
	unsigned int failed;
	size_t i;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return EXIT_FAILURE;
	suite = CU_add_suite("wire", NULL, NULL);
	if (!suite)
		goto fail;
	for (i = 0; i < sizeof(tests) / sizeof(tests[0]); i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn))
			goto fail;
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
fail:
	CU_cleanup_registry();
	return EXIT_FAILURE;
}
