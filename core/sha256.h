/*
 * SHA-256 (FIPS 180-4) and HMAC-SHA-256 (RFC 2104), for frame
 * authentication and the configuration digest.  vigild's own, so that the
 * daemon does not map OpenSSL (3+ MB resident) for two hash functions;
 * plugins that need TLS or IPMI crypto link OpenSSL themselves.  Checked
 * against the NIST and RFC 4231 vectors and against OpenSSL in test_wire.
 */
#ifndef VG_CORE_SHA256_H
#define VG_CORE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define VG_SHA256_LEN 32
#define VG_SHA256_BLOCK 64

struct vg_sha256 {
	uint32_t h[8];
	uint64_t len;          /* bytes hashed so far */
	uint8_t buf[VG_SHA256_BLOCK];
	size_t n;              /* bytes in buf */
};

void vg_sha256_init(struct vg_sha256 *s);
void vg_sha256_update(struct vg_sha256 *s, const void *data, size_t len);
void vg_sha256_final(struct vg_sha256 *s, uint8_t out[VG_SHA256_LEN]);
void vg_sha256(const void *data, size_t len, uint8_t out[VG_SHA256_LEN]);

/* A key prepared once: the inner and outer states after the padded key. */
struct vg_hmac_key {
	struct vg_sha256 inner, outer;
};

void vg_hmac_sha256_key(struct vg_hmac_key *k, const void *key, size_t len);
void vg_hmac_sha256(const struct vg_hmac_key *k, const void *data, size_t len,
		    uint8_t out[VG_SHA256_LEN]);

#endif
