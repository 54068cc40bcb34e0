/*
 * ipmi fence plugin — declarations shared by its three files:
 *
 *   ipmi_msg.c      the IPMI 2.0 / RMCP+ codec and its cryptography (no I/O)
 *   ipmi_session.c  one request: a UDP socket, the session steps, retries
 *   ipmi.c          the plugin: parameters, open/close/validate, exec/cancel
 *
 * Private to the plugin; it includes only <vigil/...>, libc and OpenSSL.
 * Numbers are those of the IPMI v2.0 specification (rev. 1.1), section
 * references in brackets.
 */
#ifndef VG_PLUGIN_IPMI_H
#define VG_PLUGIN_IPMI_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include <vigil/plugin.h>

#define IPMI_PKT_MAX        512   /* our datagrams and the BMC's answers */
#define IPMI_USER_MAX       16    /* user name bytes [22.27] */
#define IPMI_PASS_MAX       20    /* IPMI 2.0 password bytes [13.31] */
#define IPMI_RETRY_MS       1000  /* between tries of one message */

/* Network functions and commands we use [table G-1]. */
#define IPMI_NETFN_CHASSIS  0x00
#define IPMI_NETFN_APP      0x06
#define IPMI_CMD_CHASSIS_STATUS   0x01
#define IPMI_CMD_CHASSIS_CONTROL  0x02
#define IPMI_CMD_AUTH_CAPS        0x38
#define IPMI_CMD_SET_PRIV         0x3b
#define IPMI_CMD_CLOSE_SESSION    0x3c

/* Chassis Control data byte [28.3]. */
enum ipmi_control {
	IPMI_CTL_POWER_DOWN = 0,
	IPMI_CTL_POWER_UP = 1,
	IPMI_CTL_POWER_CYCLE = 2,
	IPMI_CTL_HARD_RESET = 3,
};

/* RMCP+ payload types [13.27.3]. */
enum ipmi_payload {
	IPMI_PL_IPMI = 0x00,
	IPMI_PL_OPEN_REQ = 0x10,
	IPMI_PL_OPEN_RSP = 0x11,
	IPMI_PL_RAKP1 = 0x12,
	IPMI_PL_RAKP2 = 0x13,
	IPMI_PL_RAKP3 = 0x14,
	IPMI_PL_RAKP4 = 0x15,
};

/* What a session is set up with: from the instance, borrowed by requests. */
struct ipmi_creds {
	char user[IPMI_USER_MAX + 1];
	size_t user_len;
	uint8_t pass[IPMI_PASS_MAX];
	size_t pass_len;
	uint8_t priv;          /* 2 user, 3 operator, 4 administrator */
	int suite;             /* cipher suite: 0 or 3 */
};

/*
 * The RAKP exchange's values and the session keys derived from them
 * [13.31, 13.32].  Filled step by step; secret, wiped when the request ends.
 */
struct ipmi_session_keys {
	uint32_t sid_console;  /* SIDm: the id we chose, the BMC addresses us with it */
	uint32_t sid_bmc;      /* SIDc: the BMC's, we address it with it */
	uint8_t rand_console[16];
	uint8_t rand_bmc[16];
	uint8_t guid_bmc[16];
	uint8_t role;          /* the privilege byte sent in RAKP 1 */
	int auth, integ, conf; /* 1 = HMAC-SHA1 / HMAC-SHA1-96 / AES-CBC-128, 0 = none */
	uint8_t sik[20], k1[20], k2[20];
	int active;            /* 1 once RAKP 4 checked: packets are protected */
};

/* An IPMI message as we send it (request) or read it (response) [13.8]. */
struct ipmi_cmd {
	uint8_t netfn;
	uint8_t cmd;
	uint8_t rq_seq;        /* 0..63, matches a response to its request */
	uint8_t cc;            /* responses: completion code */
	const uint8_t *data;   /* request data, or response data after cc (borrowed) */
	size_t len;
};

/* --- ipmi_msg.c: the codec (lengths returned, or a negative errno) --- */

/* RMCP + IPMI 1.5 session-less packet (auth type none) around `msg` [13.6]. */
ssize_t ipmi_v15_wrap(uint8_t *out, size_t cap, const struct ipmi_cmd *msg);
/* Unwrap and parse the IPMI 1.5 response in `pkt`. */
int ipmi_v15_unwrap(const uint8_t *pkt, size_t len, struct ipmi_cmd *rsp);

/*
 * RMCP+ packet of `type` carrying `pl` [13.6, 13.28].  With `k->active`,
 * the payload is encrypted and signed as negotiated, and `seq` is the
 * session sequence number; before, session id and sequence are 0.
 */
ssize_t ipmi_v20_wrap(uint8_t *out, size_t cap, const struct ipmi_session_keys *k,
		      uint8_t type, uint32_t seq, const uint8_t *pl, size_t pl_len);
/*
 * Check and open an RMCP+ packet: integrity, decryption.  The payload is
 * written to `pl` (at least IPMI_PKT_MAX bytes).  Returns the payload
 * length; -EBADMSG when malformed, -EPERM when the integrity check fails.
 */
ssize_t ipmi_v20_unwrap(const uint8_t *pkt, size_t len, const struct ipmi_session_keys *k,
			uint8_t *type, uint8_t *pl);

/* An IPMI message inside an RMCP+ payload (rsAddr .. checksum) [13.8]. */
ssize_t ipmi_msg_build(uint8_t *out, size_t cap, const struct ipmi_cmd *req);
int ipmi_msg_parse(const uint8_t *buf, size_t len, struct ipmi_cmd *rsp);

/* Open Session Request / Response [13.17, 13.18]. */
size_t ipmi_open_req_build(uint8_t *out, uint8_t tag, const struct ipmi_creds *c,
			   const struct ipmi_session_keys *k);
int ipmi_open_rsp_parse(const uint8_t *pl, size_t len, uint8_t tag,
			struct ipmi_session_keys *k, uint8_t *status);

/* RAKP 1 (out, >= 44 bytes) and RAKP 2's check [13.20, 13.21]. */
size_t ipmi_rakp1_build(uint8_t *out, uint8_t tag, const struct ipmi_creds *c,
			struct ipmi_session_keys *k);
/* -EPROTO with *status set when refused, -EACCES when its HMAC is wrong. */
int ipmi_rakp2_check(const uint8_t *pl, size_t len, uint8_t tag, const struct ipmi_creds *c,
		     struct ipmi_session_keys *k, uint8_t *status);
/* RAKP 3 (out, >= 28 bytes) [13.22]; derives SIK, K1, K2 [13.31, 13.32]. */
size_t ipmi_rakp3_build(uint8_t *out, uint8_t tag, const struct ipmi_creds *c,
			struct ipmi_session_keys *k);
int ipmi_rakp4_check(const uint8_t *pl, size_t len, uint8_t tag,
		     struct ipmi_session_keys *k, uint8_t *status);

/* RMCP+ status code text [table 13-15]. */
const char *ipmi_rmcp_status_str(uint8_t status);
/* Completion code text [table 5-2]. */
const char *ipmi_cc_str(uint8_t cc);

/* --- ipmi_session.c: one request --- */

struct ipmi_op;

/* What an op needs of its instance; owned by the instance, outlives its ops. */
struct ipmi_target {
	const struct vg_host *host;
	struct sockaddr_storage sa;
	socklen_t salen;
	char addr_text[64];         /* "127.0.0.1 port 623", for messages */
	struct ipmi_creds creds;
	uint32_t retries;           /* tries per message, >= 1 */
	uint32_t power_wait_ms;     /* between status polls */
	int reboot_cycle;           /* REBOOT with Chassis Control power cycle, not off+on */
};

/*
 * Called once when the op ends (never from inside ipmi_op_start); the op
 * is freed after it returns.  `detail` is borrowed for the call.
 */
typedef void (*ipmi_op_done_cb)(struct ipmi_op *op, void *arg, int status, int power,
				const char *detail);

/* Start `action` (OFF, ON, REBOOT, STATUS, MONITOR) within `timeout_ms`. */
int ipmi_op_start(const struct ipmi_target *t, uint32_t action, uint32_t timeout_ms,
		  ipmi_op_done_cb cb, void *arg, struct ipmi_op **out);
/* End an op at once, without its callback: socket, timers, memory. */
void ipmi_op_free(struct ipmi_op *op);

#endif /* VG_PLUGIN_IPMI_H */
