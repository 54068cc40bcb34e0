/*
 * ipmi fence plugin — the IPMI 2.0 / RMCP+ codec and its cryptography.
 *
 * Pure functions over buffers: no I/O, no loop.  Every integer read from a
 * packet is bounds-checked first; multi-byte fields are little-endian
 * except where RMCP says otherwise (it has none we read).
 *
 * Cryptography, for cipher suite 3 [13.28, 13.31, 13.32]:
 *   RAKP-HMAC-SHA1   authentication, key Kuid = the user's password
 *   SIK = HMAC(Kuid, Rm | Rc | ROLEm | ULENm | UNAMEm)
 *   K1 = HMAC(SIK, 20 x 0x01), K2 = HMAC(SIK, 20 x 0x02)
 *   HMAC-SHA1-96     integrity: HMAC(K1, AuthType .. NextHeader), 12 bytes
 *   AES-CBC-128      confidentiality: key = K2[0..15], random IV per packet
 * Suite 0 is none/none/none: the RAKP exchange runs without codes.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "ipmi.h"

#define RMCP_HDR_LEN     4
#define V20_HDR_LEN      (RMCP_HDR_LEN + 12)   /* RMCP + auth type .. payload length */
#define AUTHTYPE_RMCPP   0x06
#define PL_ENCRYPTED     0x80
#define PL_AUTHENTICATED 0x40
#define NEXT_HEADER      0x07
#define ICV_LEN          12                    /* HMAC-SHA1-96 */
#define AES_BLOCK        16
#define ADDR_BMC         0x20                  /* responder: the BMC */
#define ADDR_CONSOLE     0x81                  /* requester: a remote console software id */

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = v & 0xff;
	p[1] = (v >> 8) & 0xff;
	p[2] = (v >> 16) & 0xff;
	p[3] = (v >> 24) & 0xff;
}

static uint32_t get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	while (len--)
		sum += *p++;
	return (uint8_t)-sum;
}

/* HMAC-SHA1 of the concatenation of up to 8 (pointer, length) pieces. */
static void hmac_sha1(const uint8_t *key, size_t key_len, uint8_t out[20], int n, ...)
{
	uint8_t buf[128];
	size_t len = 0;
	unsigned int out_len = 20;
	va_list ap;

	va_start(ap, n);
	while (n--) {
		const uint8_t *p = va_arg(ap, const uint8_t *);
		size_t l = va_arg(ap, size_t);

		memcpy(buf + len, p, l);   /* callers stay far below 128 bytes */
		len += l;
	}
	va_end(ap);
	HMAC(EVP_sha1(), key, (int)key_len, buf, len, out, &out_len);
	OPENSSL_cleanse(buf, sizeof(buf));
}

static void rmcp_header(uint8_t *out)
{
	out[0] = 0x06;   /* RMCP version 1.0 */
	out[1] = 0x00;
	out[2] = 0xff;   /* sequence: no RMCP ack */
	out[3] = 0x07;   /* class: IPMI */
}

static int rmcp_header_ok(const uint8_t *p, size_t len)
{
	return len >= RMCP_HDR_LEN && p[0] == 0x06 && (p[3] & 0x1f) == 0x07;
}

ssize_t ipmi_msg_build(uint8_t *out, size_t cap, const struct ipmi_cmd *req)
{
	size_t len = 7 + req->len;

	if (cap < len)
		return -EMSGSIZE;
	out[0] = ADDR_BMC;
	out[1] = (uint8_t)(req->netfn << 2);
	out[2] = checksum(out, 2);
	out[3] = ADDR_CONSOLE;
	out[4] = (uint8_t)(req->rq_seq << 2);
	out[5] = req->cmd;
	if (req->len)
		memcpy(out + 6, req->data, req->len);
	out[len - 1] = checksum(out + 3, len - 4);
	return (ssize_t)len;
}

int ipmi_msg_parse(const uint8_t *buf, size_t len, struct ipmi_cmd *rsp)
{
	if (len < 8)
		return -EBADMSG;
	if (checksum(buf, 2) != buf[2] || checksum(buf + 3, len - 4) != buf[len - 1])
		return -EBADMSG;
	rsp->netfn = buf[1] >> 2;
	rsp->rq_seq = buf[4] >> 2;
	rsp->cmd = buf[5];
	rsp->cc = buf[6];
	rsp->data = buf + 7;
	rsp->len = len - 8;
	return 0;
}

ssize_t ipmi_v15_wrap(uint8_t *out, size_t cap, const struct ipmi_cmd *msg)
{
	const size_t hdr = RMCP_HDR_LEN + 10;
	ssize_t n;

	if (cap < hdr)
		return -EMSGSIZE;
	rmcp_header(out);
	memset(out + RMCP_HDR_LEN, 0, 9);   /* auth type none, sequence 0, session 0 */
	n = ipmi_msg_build(out + hdr, cap - hdr, msg);
	if (n < 0)
		return n;
	out[hdr - 1] = (uint8_t)n;
	return (ssize_t)hdr + n;
}

int ipmi_v15_unwrap(const uint8_t *pkt, size_t len, struct ipmi_cmd *rsp)
{
	const size_t hdr = RMCP_HDR_LEN + 10;

	if (!rmcp_header_ok(pkt, len) || len < hdr || pkt[RMCP_HDR_LEN] != 0x00)
		return -EBADMSG;   /* only auth type none answers a session-less request */
	if (pkt[hdr - 1] > len - hdr)
		return -EBADMSG;
	return ipmi_msg_parse(pkt + hdr, pkt[hdr - 1], rsp);
}

/* AES-CBC-128 with K2: IV | E(data | 1 2 3 .. | pad length) [13.29]. */
static ssize_t aes_encrypt(const struct ipmi_session_keys *k, const uint8_t *in, size_t len,
			   uint8_t *out, size_t cap)
{
	uint8_t plain[IPMI_PKT_MAX];
	size_t pad = (AES_BLOCK - (len + 1) % AES_BLOCK) % AES_BLOCK;
	size_t total = len + pad + 1;
	EVP_CIPHER_CTX *ctx;
	int n1 = 0, n2 = 0, ok;

	if (total > sizeof(plain) || cap < AES_BLOCK + total)
		return -EMSGSIZE;
	memcpy(plain, in, len);
	for (size_t i = 0; i < pad; i++)
		plain[len + i] = (uint8_t)(i + 1);
	plain[total - 1] = (uint8_t)pad;
	if (RAND_bytes(out, AES_BLOCK) != 1)
		return -EIO;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, k->k2, out) == 1 &&
	     EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	     EVP_EncryptUpdate(ctx, out + AES_BLOCK, &n1, plain, (int)total) == 1 &&
	     EVP_EncryptFinal_ex(ctx, out + AES_BLOCK + n1, &n2) == 1;
	EVP_CIPHER_CTX_free(ctx);
	OPENSSL_cleanse(plain, sizeof(plain));
	return ok ? (ssize_t)(AES_BLOCK + n1 + n2) : -EIO;
}

static ssize_t aes_decrypt(const struct ipmi_session_keys *k, const uint8_t *in, size_t len,
			   uint8_t *out)
{
	EVP_CIPHER_CTX *ctx;
	int n1 = 0, n2 = 0, ok;
	size_t plain;

	if (len < 2 * AES_BLOCK || len % AES_BLOCK || len - AES_BLOCK > IPMI_PKT_MAX)
		return -EBADMSG;
	ctx = EVP_CIPHER_CTX_new();
	if (!ctx)
		return -ENOMEM;
	ok = EVP_DecryptInit_ex(ctx, EVP_aes_128_cbc(), NULL, k->k2, in) == 1 &&
	     EVP_CIPHER_CTX_set_padding(ctx, 0) == 1 &&
	     EVP_DecryptUpdate(ctx, out, &n1, in + AES_BLOCK, (int)(len - AES_BLOCK)) == 1 &&
	     EVP_DecryptFinal_ex(ctx, out + n1, &n2) == 1;
	EVP_CIPHER_CTX_free(ctx);
	if (!ok)
		return -EBADMSG;
	plain = (size_t)(n1 + n2);
	if (out[plain - 1] >= plain)
		return -EBADMSG;
	return (ssize_t)(plain - 1 - out[plain - 1]);
}

/* Integrity trailer: pad to 4, pad length, next header, then the ICV [13.28.4]. */
static ssize_t v20_sign(uint8_t *out, size_t len, size_t cap, const struct ipmi_session_keys *k)
{
	size_t pad = (4 - (len - RMCP_HDR_LEN + 2) % 4) % 4;
	uint8_t mac[20];

	if (cap < len + pad + 2 + ICV_LEN)
		return -EMSGSIZE;
	memset(out + len, 0xff, pad);
	len += pad;
	out[len++] = (uint8_t)pad;
	out[len++] = NEXT_HEADER;
	hmac_sha1(k->k1, sizeof(k->k1), mac, 1, out + RMCP_HDR_LEN, len - RMCP_HDR_LEN);
	memcpy(out + len, mac, ICV_LEN);
	return (ssize_t)(len + ICV_LEN);
}

ssize_t ipmi_v20_wrap(uint8_t *out, size_t cap, const struct ipmi_session_keys *k,
		      uint8_t type, uint32_t seq, const uint8_t *pl, size_t pl_len)
{
	int enc = k->active && k->conf, sign = k->active && k->integ;
	ssize_t n = (ssize_t)pl_len;

	if (cap < V20_HDR_LEN + pl_len)
		return -EMSGSIZE;
	rmcp_header(out);
	out[4] = AUTHTYPE_RMCPP;
	out[5] = type | (enc ? PL_ENCRYPTED : 0) | (sign ? PL_AUTHENTICATED : 0);
	put_le32(out + 6, k->active ? k->sid_bmc : 0);
	put_le32(out + 10, k->active ? seq : 0);
	if (enc)
		n = aes_encrypt(k, pl, pl_len, out + V20_HDR_LEN, cap - V20_HDR_LEN);
	else
		memcpy(out + V20_HDR_LEN, pl, pl_len);
	if (n < 0)
		return n;
	out[14] = n & 0xff;
	out[15] = (uint8_t)(n >> 8);
	if (!sign)
		return V20_HDR_LEN + n;
	return v20_sign(out, V20_HDR_LEN + (size_t)n, cap, k);
}

/* Check the trailer of a signed packet; pl_end is where the payload ends. */
static int v20_verify(const uint8_t *pkt, size_t len, size_t pl_end,
		      const struct ipmi_session_keys *k)
{
	uint8_t mac[20];
	size_t pad;

	if (len < pl_end + 2 + ICV_LEN)
		return -EBADMSG;
	pad = pkt[len - ICV_LEN - 2];
	if (pkt[len - ICV_LEN - 1] != NEXT_HEADER || pl_end + pad + 2 + ICV_LEN != len)
		return -EBADMSG;
	hmac_sha1(k->k1, sizeof(k->k1), mac, 1, pkt + RMCP_HDR_LEN,
		  len - ICV_LEN - RMCP_HDR_LEN);
	return CRYPTO_memcmp(mac, pkt + len - ICV_LEN, ICV_LEN) ? -EPERM : 0;
}

ssize_t ipmi_v20_unwrap(const uint8_t *pkt, size_t len, const struct ipmi_session_keys *k,
			uint8_t *type, uint8_t *pl)
{
	size_t pl_len;
	int enc, sign, ret;

	if (!rmcp_header_ok(pkt, len) || len < V20_HDR_LEN || pkt[4] != AUTHTYPE_RMCPP)
		return -EBADMSG;
	*type = pkt[5] & 0x3f;
	enc = !!(pkt[5] & PL_ENCRYPTED);
	sign = !!(pkt[5] & PL_AUTHENTICATED);
	pl_len = (size_t)pkt[14] | (size_t)pkt[15] << 8;
	if (pl_len > len - V20_HDR_LEN || pl_len > IPMI_PKT_MAX)
		return -EBADMSG;
	if (!k->active) {
		if (enc || sign || get_le32(pkt + 6) != 0)
			return -EBADMSG;
		memcpy(pl, pkt + V20_HDR_LEN, pl_len);
		return (ssize_t)pl_len;
	}
	if (get_le32(pkt + 6) != k->sid_console || enc != k->conf || sign != k->integ)
		return -EBADMSG;
	if (sign) {
		ret = v20_verify(pkt, len, V20_HDR_LEN + pl_len, k);
		if (ret < 0)
			return ret;
	}
	if (enc)
		return aes_decrypt(k, pkt + V20_HDR_LEN, pl_len, pl);
	memcpy(pl, pkt + V20_HDR_LEN, pl_len);
	return (ssize_t)pl_len;
}

/* One algorithm payload of the Open Session Request [13.17]. */
static void algo_put(uint8_t *p, uint8_t kind, uint8_t alg)
{
	memset(p, 0, 8);
	p[0] = kind;
	p[3] = 8;
	p[4] = alg;
}

size_t ipmi_open_req_build(uint8_t *out, uint8_t tag, const struct ipmi_creds *c,
			   const struct ipmi_session_keys *k)
{
	uint8_t alg = c->suite == 3 ? 1 : 0;

	memset(out, 0, 8);
	out[0] = tag;
	out[1] = c->priv;
	put_le32(out + 4, k->sid_console);
	algo_put(out + 8, 0x00, alg);    /* RAKP-HMAC-SHA1 or RAKP-none */
	algo_put(out + 16, 0x01, alg);   /* HMAC-SHA1-96 or none */
	algo_put(out + 24, 0x02, alg);   /* AES-CBC-128 or none */
	return 32;
}

int ipmi_open_rsp_parse(const uint8_t *pl, size_t len, uint8_t tag,
			struct ipmi_session_keys *k, uint8_t *status)
{
	if (len < 2 || pl[0] != tag)
		return -EAGAIN;            /* not the answer to this request */
	*status = pl[1];
	if (pl[1])
		return -EPROTO;
	if (len < 36 || get_le32(pl + 4) != k->sid_console)
		return -EBADMSG;
	k->sid_bmc = get_le32(pl + 8);
	if (!k->sid_bmc || pl[16] != k->auth || pl[24] != k->integ || pl[32] != k->conf)
		return -EBADMSG;
	return 0;
}

size_t ipmi_rakp1_build(uint8_t *out, uint8_t tag, const struct ipmi_creds *c,
			struct ipmi_session_keys *k)
{
	memset(out, 0, 44);
	out[0] = tag;
	put_le32(out + 4, k->sid_bmc);
	if (RAND_bytes(k->rand_console, sizeof(k->rand_console)) != 1)
		return 0;
	memcpy(out + 8, k->rand_console, 16);
	k->role = c->priv | 0x10;        /* name-only lookup, as ipmitool does */
	out[24] = k->role;
	out[27] = (uint8_t)c->user_len;
	memcpy(out + 28, c->user, c->user_len);
	return 44;
}

int ipmi_rakp2_check(const uint8_t *pl, size_t len, uint8_t tag, const struct ipmi_creds *c,
		     struct ipmi_session_keys *k, uint8_t *status)
{
	uint8_t sid_m[4], sid_c[4], ulen = (uint8_t)c->user_len, mac[20];

	if (len < 2 || pl[0] != tag)
		return -EAGAIN;
	*status = pl[1];
	if (pl[1])
		return -EPROTO;
	if (len < 40u + (k->auth ? 20u : 0u) || get_le32(pl + 4) != k->sid_console)
		return -EBADMSG;
	memcpy(k->rand_bmc, pl + 8, 16);
	memcpy(k->guid_bmc, pl + 24, 16);
	if (!k->auth)
		return 0;
	put_le32(sid_m, k->sid_console);
	put_le32(sid_c, k->sid_bmc);
	hmac_sha1(c->pass, sizeof(c->pass), mac, 8, sid_m, (size_t)4, sid_c, (size_t)4,
		  k->rand_console, (size_t)16, k->rand_bmc, (size_t)16, k->guid_bmc, (size_t)16,
		  &k->role, (size_t)1, &ulen, (size_t)1, (const uint8_t *)c->user, c->user_len);
	return CRYPTO_memcmp(mac, pl + 40, 20) ? -EACCES : 0;
}

size_t ipmi_rakp3_build(uint8_t *out, uint8_t tag, const struct ipmi_creds *c,
			struct ipmi_session_keys *k)
{
	uint8_t sid_m[4], ulen = (uint8_t)c->user_len, ones[20], twos[20];

	memset(out, 0, 8);
	out[0] = tag;
	put_le32(out + 4, k->sid_bmc);
	if (!k->auth)
		return 8;
	put_le32(sid_m, k->sid_console);
	hmac_sha1(c->pass, sizeof(c->pass), out + 8, 5, k->rand_bmc, (size_t)16,
		  sid_m, (size_t)4, &k->role, (size_t)1, &ulen, (size_t)1,
		  (const uint8_t *)c->user, c->user_len);
	/* No BMC key (Kg) is configured: Kg = Kuid [13.31]. */
	hmac_sha1(c->pass, sizeof(c->pass), k->sik, 5, k->rand_console, (size_t)16,
		  k->rand_bmc, (size_t)16, &k->role, (size_t)1, &ulen, (size_t)1,
		  (const uint8_t *)c->user, c->user_len);
	memset(ones, 0x01, sizeof(ones));
	memset(twos, 0x02, sizeof(twos));
	hmac_sha1(k->sik, sizeof(k->sik), k->k1, 1, ones, sizeof(ones));
	hmac_sha1(k->sik, sizeof(k->sik), k->k2, 1, twos, sizeof(twos));
	return 28;
}

int ipmi_rakp4_check(const uint8_t *pl, size_t len, uint8_t tag,
		     struct ipmi_session_keys *k, uint8_t *status)
{
	uint8_t sid_c[4], mac[20];

	if (len < 2 || pl[0] != tag)
		return -EAGAIN;
	*status = pl[1];
	if (pl[1])
		return -EPROTO;
	if (len < 8u + (k->auth ? (size_t)ICV_LEN : 0u) || get_le32(pl + 4) != k->sid_console)
		return -EBADMSG;
	if (!k->auth)
		return 0;
	put_le32(sid_c, k->sid_bmc);
	hmac_sha1(k->sik, sizeof(k->sik), mac, 3, k->rand_console, (size_t)16,
		  sid_c, (size_t)4, k->guid_bmc, (size_t)16);
	return CRYPTO_memcmp(mac, pl + 8, ICV_LEN) ? -EACCES : 0;
}

const char *ipmi_rmcp_status_str(uint8_t status)
{
	static const char *const text[] = {
		[0x01] = "insufficient resources to create a session",
		[0x02] = "invalid session id",
		[0x03] = "invalid payload type",
		[0x04] = "invalid authentication algorithm",
		[0x05] = "invalid integrity algorithm",
		[0x06] = "no matching authentication payload",
		[0x07] = "no matching integrity payload",
		[0x08] = "inactive session id",
		[0x09] = "invalid role",
		[0x0a] = "unauthorized role or privilege level requested",
		[0x0b] = "insufficient resources to create a session at the requested role",
		[0x0c] = "invalid name length",
		[0x0d] = "unauthorized name",
		[0x0e] = "unauthorized GUID",
		[0x0f] = "invalid integrity check value",
		[0x10] = "invalid confidentiality algorithm",
		[0x11] = "no cipher suite match with proposed security algorithms",
		[0x12] = "illegal or unrecognized parameter",
	};

	if (status < sizeof(text) / sizeof(text[0]) && text[status])
		return text[status];
	return "unknown status";
}

const char *ipmi_cc_str(uint8_t cc)
{
	switch (cc) {
	case 0x00: return "success";
	case 0xc0: return "node busy";
	case 0xc1: return "invalid command";
	case 0xc3: return "timeout while processing the command";
	case 0xc7: return "request data length invalid";
	case 0xcc: return "invalid data field in request";
	case 0xd4: return "insufficient privilege level";
	case 0xd5: return "command not supported in the present state";
	case 0xff: return "unspecified error";
	default: return "error";
	}
}
