/*
 * ipmi fence plugin — one request, from Get Channel Authentication
 * Capabilities to Close Session, on vigild's loop.
 *
 * Each request has its own non-blocking UDP socket, connected to the BMC
 * so that an ICMP "port unreachable" comes back as an error, and walks
 * these steps, one message each:
 *
 *   AUTH_CAPS  Get Channel Authentication Capabilities (IPMI 1.5, no session)
 *   OPEN       RMCP+ Open Session Request
 *   RAKP1      RAKP 1 -> RAKP 2 (the BMC proves it knows the password)
 *   RAKP3      RAKP 3 -> RAKP 4 (we prove it; session keys derived)
 *   SET_PRIV   Set Session Privilege Level
 *   STATUS / CONTROL / WAIT   the action: read power, act, poll until done
 *   CLOSE      Close Session
 *
 * A message is tried `retries` times, IPMI_RETRY_MS apart; a deadline
 * timer bounds the whole request.  A session that is open when the request
 * fails or is cancelled gets one Close Session datagram, unanswered.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "ipmi.h"

enum ipmi_step {
	STEP_AUTH_CAPS,
	STEP_OPEN,
	STEP_RAKP1,
	STEP_RAKP3,
	STEP_SET_PRIV,
	STEP_STATUS,
	STEP_CONTROL,
	STEP_WAIT,         /* between status polls: a timer, no message */
	STEP_CLOSE,
};

/* One power state to reach: send `control` unless already there. */
struct ipmi_goal {
	uint8_t control;   /* enum ipmi_control */
	int want;          /* VG_POWER_ON or VG_POWER_OFF */
	int force;         /* send even when already there (power cycle) */
};

struct ipmi_op {
	const struct ipmi_target *t;   /* borrowed from the instance */
	const struct vg_host *host;
	uint32_t action;
	enum ipmi_step step;
	int fd;
	struct vg_watch *watch;
	struct vg_timer *step_timer;   /* next try, or the end of a WAIT */
	struct vg_timer *deadline;
	uint32_t timeout_ms;
	uint64_t started_ms;
	uint32_t tries;                /* of the current message */
	int net_err;                   /* last socket error (ECONNREFUSED ...), 0 if none */
	struct ipmi_session_keys k;    /* secret: cleansed in ipmi_op_free */
	uint32_t seq;                  /* last session sequence number sent */
	uint8_t tag;                   /* RMCP+ message tag of the current step */
	uint8_t rq_seq;                /* IPMI sequence of the current command */
	struct ipmi_goal goals[2];
	size_t n_goals, goal_i;
	int control_sent;              /* Chassis Control sent for goals[goal_i] */
	uint8_t control;               /* the one sent */
	int power;                     /* last read, enum vg_power */
	int result;                    /* kept while closing after success */
	char detail[256];
	ipmi_op_done_cb cb;
	void *arg;
};

static void op_begin(struct ipmi_op *op, enum ipmi_step step);
static void op_end(struct ipmi_op *op, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static const char *step_name(const struct ipmi_op *op)
{
	switch (op->step) {
	case STEP_AUTH_CAPS: return "Get Channel Authentication Capabilities";
	case STEP_OPEN: return "Open Session";
	case STEP_RAKP1: return "RAKP 1";
	case STEP_RAKP3: return "RAKP 3";
	case STEP_SET_PRIV: return "Set Session Privilege Level";
	case STEP_STATUS: return "Get Chassis Status";
	case STEP_CONTROL:
		switch (op->control) {
		case IPMI_CTL_POWER_DOWN: return "Chassis Control (power down)";
		case IPMI_CTL_POWER_UP: return "Chassis Control (power up)";
		case IPMI_CTL_POWER_CYCLE: return "Chassis Control (power cycle)";
		default: return "Chassis Control (hard reset)";
		}
	case STEP_WAIT:
		return op->goals[op->goal_i].want == VG_POWER_OFF ?
		       "waiting for power off" : "waiting for power on";
	case STEP_CLOSE: return "Close Session";
	}
	return "?";
}

static const char *action_name(uint32_t action)
{
	switch (action) {
	case VG_FENCE_OFF: return "off";
	case VG_FENCE_ON: return "on";
	case VG_FENCE_REBOOT: return "reboot";
	case VG_FENCE_STATUS: return "status";
	default: return "monitor";
	}
}

/* The IPMI command of an in-session step; data points into `buf`. */
static void step_cmd(struct ipmi_op *op, struct ipmi_cmd *c, uint8_t *buf)
{
	memset(c, 0, sizeof(*c));
	c->rq_seq = op->rq_seq;
	c->data = buf;
	switch (op->step) {
	case STEP_SET_PRIV:
		*c = (struct ipmi_cmd){ IPMI_NETFN_APP, IPMI_CMD_SET_PRIV, op->rq_seq, 0, buf, 1 };
		buf[0] = op->t->creds.priv;
		break;
	case STEP_CONTROL:
		*c = (struct ipmi_cmd){ IPMI_NETFN_CHASSIS, IPMI_CMD_CHASSIS_CONTROL, op->rq_seq, 0,
					buf, 1 };
		buf[0] = op->control;
		break;
	case STEP_CLOSE:
		*c = (struct ipmi_cmd){ IPMI_NETFN_APP, IPMI_CMD_CLOSE_SESSION, op->rq_seq, 0, buf, 4 };
		memcpy(buf, (uint8_t[4]){ op->k.sid_bmc & 0xff, (op->k.sid_bmc >> 8) & 0xff,
					  (op->k.sid_bmc >> 16) & 0xff, op->k.sid_bmc >> 24 }, 4);
		break;
	default:   /* STEP_STATUS */
		*c = (struct ipmi_cmd){ IPMI_NETFN_CHASSIS, IPMI_CMD_CHASSIS_STATUS, op->rq_seq, 0,
					buf, 0 };
		break;
	}
}

/* Build the current step's datagram.  In a session, each try is a new sequence number. */
static ssize_t op_build(struct ipmi_op *op, uint8_t *pkt)
{
	const struct ipmi_creds *c = &op->t->creds;
	uint8_t pl[IPMI_PKT_MAX], data[8];
	struct ipmi_cmd cmd;
	ssize_t n;

	switch (op->step) {
	case STEP_AUTH_CAPS:
		data[0] = 0x8e;   /* this channel, with IPMI 2.0 extended data */
		data[1] = c->priv;
		cmd = (struct ipmi_cmd){ IPMI_NETFN_APP, IPMI_CMD_AUTH_CAPS, op->rq_seq, 0, data, 2 };
		return ipmi_v15_wrap(pkt, IPMI_PKT_MAX, &cmd);
	case STEP_OPEN:
		n = (ssize_t)ipmi_open_req_build(pl, op->tag, c, &op->k);
		return ipmi_v20_wrap(pkt, IPMI_PKT_MAX, &op->k, IPMI_PL_OPEN_REQ, 0, pl, (size_t)n);
	case STEP_RAKP1:
		n = (ssize_t)ipmi_rakp1_build(pl, op->tag, c, &op->k);
		if (!n)
			return -EIO;
		return ipmi_v20_wrap(pkt, IPMI_PKT_MAX, &op->k, IPMI_PL_RAKP1, 0, pl, (size_t)n);
	case STEP_RAKP3:
		n = (ssize_t)ipmi_rakp3_build(pl, op->tag, c, &op->k);
		return ipmi_v20_wrap(pkt, IPMI_PKT_MAX, &op->k, IPMI_PL_RAKP3, 0, pl, (size_t)n);
	default:
		step_cmd(op, &cmd, data);
		n = ipmi_msg_build(pl, sizeof(pl), &cmd);
		if (n < 0)
			return n;
		if (++op->seq == 0)
			op->seq = 1;
		return ipmi_v20_wrap(pkt, IPMI_PKT_MAX, &op->k, IPMI_PL_IPMI, op->seq, pl, (size_t)n);
	}
}

static void op_retry_cb(void *arg);

/*
 * Send one try of the current step and arm the timer for the next.  A
 * send that fails (no route, full buffer) is a lost datagram: the timer
 * retries.  Returns 0, or a negative errno when nothing could be armed.
 */
static int op_transmit(struct ipmi_op *op)
{
	uint8_t pkt[IPMI_PKT_MAX];
	ssize_t n = op_build(op, pkt);

	if (n < 0) {
		snprintf(op->detail, sizeof(op->detail), "%s: cannot build %s: %s",
			 op->t->addr_text, step_name(op), strerror((int)-n));
		return (int)n;
	}
	if (send(op->fd, pkt, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0 &&
	    errno != EAGAIN && errno != EWOULDBLOCK)
		op->net_err = errno;
	OPENSSL_cleanse(pkt, sizeof(pkt));
	n = vg_timer_start(op->host, IPMI_RETRY_MS, 0, op_retry_cb, op, &op->step_timer);
	if (n < 0)
		snprintf(op->detail, sizeof(op->detail), "%s: cannot start a timer: %s",
			 op->t->addr_text, strerror((int)-n));
	return (int)n;
}

/* The current message had no answer after all its tries. */
static void op_no_answer(struct ipmi_op *op)
{
	if (op->step == STEP_CLOSE) {
		vg_warn(op->host, "ipmi: %s: no answer to Close Session; the BMC will expire the session",
			op->t->addr_text);
		op_end(op, op->result, "%s", op->detail);
	} else if (op->net_err && !op->k.active) {
		op_end(op, -EHOSTUNREACH, "%s: unreachable at %s (%s), %u tries", op->t->addr_text,
		       step_name(op), strerror(op->net_err), op->tries);
	} else if (op->k.active) {
		op_end(op, -ETIMEDOUT, "%s: BMC stopped answering at %s (%u tries, %u ms apart)",
		       op->t->addr_text, step_name(op), op->tries, IPMI_RETRY_MS);
	} else {
		op_end(op, -ETIMEDOUT, "%s: no answer to %s (%u tries, %u ms apart)",
		       op->t->addr_text, step_name(op), op->tries, IPMI_RETRY_MS);
	}
}

static void op_retry_cb(void *arg)
{
	struct ipmi_op *op = arg;
	uint32_t tries = op->step == STEP_CLOSE ? 1 : op->t->retries;
	int ret;

	op->step_timer = NULL;   /* one-shot: freed by the core */
	if (op->step == STEP_WAIT) {
		op_begin(op, STEP_STATUS);
		return;
	}
	if (op->tries >= tries) {
		op_no_answer(op);
		return;
	}
	op->tries++;
	vg_debug(op->host, "ipmi: %s: %s, try %u", op->t->addr_text, step_name(op), op->tries);
	ret = op_transmit(op);
	if (ret < 0)
		op_end(op, ret, "%s", op->detail);
}

static void op_begin(struct ipmi_op *op, enum ipmi_step step)
{
	int ret;

	vg_timer_stop(op->host, op->step_timer);
	op->step_timer = NULL;
	op->step = step;
	op->tries = 1;
	op->tag++;
	op->rq_seq = (op->rq_seq + 1) & 0x3f;
	if (step != STEP_WAIT) {
		ret = op_transmit(op);
		if (ret < 0)
			op_end(op, ret, "%s", op->detail);
		return;
	}
	ret = vg_timer_start(op->host, op->t->power_wait_ms, 0, op_retry_cb, op, &op->step_timer);
	if (ret < 0)
		op_end(op, ret, "%s: cannot start a timer: %s", op->t->addr_text, strerror(-ret));
}

/* Free everything; an open session gets one unanswered Close Session. */
void ipmi_op_free(struct ipmi_op *op)
{
	uint8_t pkt[IPMI_PKT_MAX];
	ssize_t n;

	if (!op)
		return;
	if (op->k.active && op->step != STEP_CLOSE && op->fd >= 0) {
		op->step = STEP_CLOSE;
		n = op_build(op, pkt);
		if (n > 0)
			(void)!send(op->fd, pkt, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	}
	vg_timer_stop(op->host, op->step_timer);
	vg_timer_stop(op->host, op->deadline);
	vg_fd_unwatch(op->host, op->watch);
	if (op->fd >= 0)
		close(op->fd);
	OPENSSL_cleanse(&op->k, sizeof(op->k));
	free(op);
}

/* Report and free.  After success in a session, Close Session comes first. */
static void op_end(struct ipmi_op *op, int status, const char *fmt, ...)
{
	uint64_t took_ms = vg_now_ms(op->host) - op->started_ms;
	char buf[sizeof(op->detail)];
	va_list ap;

	va_start(ap, fmt);   /* the arguments may be op->detail itself */
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	memcpy(op->detail, buf, sizeof(buf));
	if (status == 0 && op->k.active && op->step != STEP_CLOSE) {
		op->result = 0;
		op_begin(op, STEP_CLOSE);
		return;
	}
	if (status < 0)
		vg_warn(op->host, "ipmi: %s failed after %llu ms: %s", action_name(op->action),
			(unsigned long long)took_ms, op->detail);
	else
		vg_info(op->host, "ipmi: %s done in %llu ms: %s", action_name(op->action),
			(unsigned long long)took_ms, op->detail);
	if (op->step == STEP_CLOSE)
		op->k.active = 0;   /* closed (or given up): no second Close Session */
	op->cb(op, op->arg, status, status < 0 ? VG_POWER_UNKNOWN : op->power, op->detail);
	ipmi_op_free(op);
}

static void op_deadline_cb(void *arg)
{
	struct ipmi_op *op = arg;

	op->deadline = NULL;
	if (op->step == STEP_CLOSE) {   /* the action is done; only the goodbye is late */
		op_end(op, op->result, "%s", op->detail);
		return;
	}
	op_end(op, -ETIMEDOUT, "%s: timed out after %u ms (step: %s)", op->t->addr_text,
	       op->timeout_ms, step_name(op));
}

/* Power read: on to the next goal, act, or wait and read again. */
static void op_power_read(struct ipmi_op *op)
{
	const char *what = op->power == VG_POWER_ON ? "on" : "off";

	for (; op->goal_i < op->n_goals; op->goal_i++, op->control_sent = 0) {
		const struct ipmi_goal *g = &op->goals[op->goal_i];

		if (g->force && !op->control_sent) {
			op->control = op->power == VG_POWER_OFF ? IPMI_CTL_POWER_UP : g->control;
			op_begin(op, STEP_CONTROL);
			return;
		}
		if (op->power == g->want)
			continue;
		if (!op->control_sent) {
			op->control = g->control;
			op_begin(op, STEP_CONTROL);
		} else {
			op_begin(op, STEP_WAIT);
		}
		return;
	}
	op_end(op, 0, "%s: chassis power is %s", op->t->addr_text, what);
}

/* A completion code other than success ends the request. */
static void op_cc_error(struct ipmi_op *op, uint8_t cc)
{
	op_end(op, cc == 0xd4 ? -EACCES : -EIO, "%s: %s: completion code 0x%02x (%s)",
	       op->t->addr_text, step_name(op), cc, ipmi_cc_str(cc));
}

/* The answer to an in-session command. */
static void op_on_command(struct ipmi_op *op, const struct ipmi_cmd *rsp)
{
	if (rsp->cc) {
		if (op->step == STEP_CLOSE)
			op_end(op, op->result, "%s", op->detail);
		else
			op_cc_error(op, rsp->cc);
		return;
	}
	switch (op->step) {
	case STEP_SET_PRIV:
		op_begin(op, STEP_STATUS);
		break;
	case STEP_STATUS:
		if (rsp->len < 1) {
			op_end(op, -EPROTO, "%s: Get Chassis Status: short answer", op->t->addr_text);
			return;
		}
		op->power = (rsp->data[0] & 0x01) ? VG_POWER_ON : VG_POWER_OFF;
		op_power_read(op);
		break;
	case STEP_CONTROL:
		op->control_sent = 1;
		/* A cycle turns the power off first: give it the wait before reading. */
		op_begin(op, op->control == IPMI_CTL_POWER_CYCLE ? STEP_WAIT : STEP_STATUS);
		break;
	case STEP_CLOSE:
		op->k.active = 0;
		op_end(op, op->result, "%s", op->detail);
		break;
	default:
		break;
	}
}

/* After RAKP 4: the session is up. */
static void op_session_up(struct ipmi_op *op)
{
	op->k.active = 1;
	vg_debug(op->host, "ipmi: %s: session 0x%08x open (cipher suite %d)", op->t->addr_text,
		 op->k.sid_bmc, op->t->creds.suite);
	if (op->action == VG_FENCE_MONITOR)
		op_end(op, 0, "%s: BMC reachable, session opened with cipher suite %d",
		       op->t->addr_text, op->t->creds.suite);
	else
		op_begin(op, STEP_SET_PRIV);
}

/* RAKP 2's refusal or a wrong code: the credentials. */
static void op_rakp2_refused(struct ipmi_op *op, int ret, uint8_t status)
{
	if (ret == -EACCES)
		op_end(op, -EACCES, "%s: RAKP 2: BMC refused the credentials (integrity check failed: wrong password for user \"%s\")",
		       op->t->addr_text, op->t->creds.user);
	else if (status == 0x0d || status == 0x0c || status == 0x0a || status == 0x09)
		op_end(op, -EACCES, "%s: RAKP 2: BMC refused the credentials (%s: user \"%s\")",
		       op->t->addr_text, ipmi_rmcp_status_str(status), op->t->creds.user);
	else
		op_end(op, -EPROTO, "%s: RAKP 2: status 0x%02x (%s)", op->t->addr_text, status,
		       ipmi_rmcp_status_str(status));
}

/* Get Channel Authentication Capabilities: the BMC must speak IPMI 2.0. */
static void op_on_auth_caps(struct ipmi_op *op, const uint8_t *pkt, size_t len)
{
	struct ipmi_cmd rsp;

	if (ipmi_v15_unwrap(pkt, len, &rsp) < 0 || rsp.cmd != IPMI_CMD_AUTH_CAPS ||
	    rsp.rq_seq != op->rq_seq)
		return;   /* not ours: keep waiting */
	if (rsp.cc) {
		op_cc_error(op, rsp.cc);
		return;
	}
	if (rsp.len < 8 || !(rsp.data[1] & 0x80) || !(rsp.data[3] & 0x02)) {
		op_end(op, -EPROTONOSUPPORT, "%s: BMC does not offer IPMI 2.0 (RMCP+) on this channel",
		       op->t->addr_text);
		return;
	}
	op_begin(op, STEP_OPEN);
}

/* Open Session Response, RAKP 2 and RAKP 4. */
static void op_on_rakp(struct ipmi_op *op, uint8_t type, const uint8_t *pl, size_t len)
{
	uint8_t status = 0;
	int ret;

	switch (op->step) {
	case STEP_OPEN:
		if (type != IPMI_PL_OPEN_RSP)
			return;
		ret = ipmi_open_rsp_parse(pl, len, op->tag, &op->k, &status);
		if (ret == -EAGAIN)
			return;
		if (ret == 0)
			op_begin(op, STEP_RAKP1);
		else if (ret == -EPROTO)
			op_end(op, status == 0x11 || status == 0x04 || status == 0x05 || status == 0x10 ?
			       -EPROTONOSUPPORT : -EPROTO,
			       "%s: Open Session refused with cipher suite %d: status 0x%02x (%s)",
			       op->t->addr_text, op->t->creds.suite, status, ipmi_rmcp_status_str(status));
		else
			op_end(op, -EPROTO, "%s: malformed Open Session Response", op->t->addr_text);
		return;
	case STEP_RAKP1:
		if (type != IPMI_PL_RAKP2)
			return;
		ret = ipmi_rakp2_check(pl, len, op->tag, &op->t->creds, &op->k, &status);
		if (ret == -EAGAIN)
			return;
		if (ret == 0)
			op_begin(op, STEP_RAKP3);
		else if (ret == -EBADMSG)
			op_end(op, -EPROTO, "%s: malformed RAKP 2", op->t->addr_text);
		else
			op_rakp2_refused(op, ret, status);
		return;
	case STEP_RAKP3:
		if (type != IPMI_PL_RAKP4)
			return;
		ret = ipmi_rakp4_check(pl, len, op->tag, &op->k, &status);
		if (ret == -EAGAIN)
			return;
		if (ret == 0)
			op_session_up(op);
		else if (ret == -EPROTO)
			op_end(op, status == 0x0f ? -EACCES : -EPROTO, "%s: RAKP 4: status 0x%02x (%s)",
			       op->t->addr_text, status, ipmi_rmcp_status_str(status));
		else
			op_end(op, -EPROTO, "%s: RAKP 4: %s", op->t->addr_text,
			       ret == -EACCES ? "integrity check value is wrong" : "malformed");
		return;
	default:
		return;
	}
}

/* One datagram from the BMC. */
static void op_on_packet(struct ipmi_op *op, const uint8_t *pkt, size_t len)
{
	uint8_t pl[IPMI_PKT_MAX], type;
	struct ipmi_cmd rsp;
	ssize_t n;

	if (op->step == STEP_AUTH_CAPS) {
		op_on_auth_caps(op, pkt, len);
		return;
	}
	if (op->step == STEP_WAIT)
		return;   /* a late duplicate */
	n = ipmi_v20_unwrap(pkt, len, &op->k, &type, pl);
	if (n < 0) {
		vg_debug(op->host, "ipmi: %s: dropped a datagram of %zu bytes at %s: %s",
			 op->t->addr_text, len, step_name(op),
			 n == -EPERM ? "integrity check failed" : "malformed");
		goto out;
	}
	if (!op->k.active) {
		op_on_rakp(op, type, pl, (size_t)n);
		goto out;
	}
	if (type != IPMI_PL_IPMI || ipmi_msg_parse(pl, (size_t)n, &rsp) < 0 ||
	    rsp.rq_seq != op->rq_seq)
		goto out;   /* an answer to an earlier try or step */
	op_on_command(op, &rsp);
out:
	OPENSSL_cleanse(pl, sizeof(pl));
}

static void op_read_cb(void *arg, int fd, uint32_t events)
{
	struct ipmi_op *op = arg;
	uint8_t pkt[IPMI_PKT_MAX];
	int err = 0, i;
	socklen_t elen = sizeof(err);
	ssize_t n;

	if ((events & VG_FD_ERROR) && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 && err)
		op->net_err = err;
	/* The op may end in op_on_packet: read one datagram per turn of the loop after that. */
	for (i = 0; i < 8; i++) {
		n = recv(fd, pkt, sizeof(pkt), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ECONNREFUSED || errno == EHOSTUNREACH || errno == ENETUNREACH)
				op->net_err = errno;
			if (errno == EINTR || errno == ECONNREFUSED || errno == EHOSTUNREACH ||
			    errno == ENETUNREACH)
				continue;
			return;
		}
		op_on_packet(op, pkt, (size_t)n);
		return;
	}
}

/* Which power states the action goes through. */
static void op_goals(struct ipmi_op *op)
{
	switch (op->action) {
	case VG_FENCE_OFF:
		op->goals[op->n_goals++] = (struct ipmi_goal){ IPMI_CTL_POWER_DOWN, VG_POWER_OFF, 0 };
		break;
	case VG_FENCE_ON:
		op->goals[op->n_goals++] = (struct ipmi_goal){ IPMI_CTL_POWER_UP, VG_POWER_ON, 0 };
		break;
	case VG_FENCE_REBOOT:
		if (op->t->reboot_cycle) {
			op->goals[op->n_goals++] = (struct ipmi_goal){ IPMI_CTL_POWER_CYCLE,
								       VG_POWER_ON, 1 };
			break;
		}
		op->goals[op->n_goals++] = (struct ipmi_goal){ IPMI_CTL_POWER_DOWN, VG_POWER_OFF, 0 };
		op->goals[op->n_goals++] = (struct ipmi_goal){ IPMI_CTL_POWER_UP, VG_POWER_ON, 0 };
		break;
	default:
		break;
	}
}

static int op_socket(struct ipmi_op *op)
{
	int ret;

	op->fd = socket(op->t->sa.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP);
	if (op->fd < 0)
		return -errno;
	/* Connected: only the BMC's datagrams arrive, and ICMP errors are reported. */
	if (connect(op->fd, (const struct sockaddr *)&op->t->sa, op->t->salen) < 0) {
		ret = -errno;
		vg_err(op->host, "ipmi: %s: connect: %s", op->t->addr_text, strerror(-ret));
		return ret;
	}
	return vg_fd_watch(op->host, op->fd, VG_FD_READ, op_read_cb, op, &op->watch);
}

int ipmi_op_start(const struct ipmi_target *t, uint32_t action, uint32_t timeout_ms,
		  ipmi_op_done_cb cb, void *arg, struct ipmi_op **out)
{
	struct ipmi_op *op;
	int ret;

	op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	*op = (struct ipmi_op){ .t = t, .host = t->host, .action = action, .fd = -1, .cb = cb,
				.arg = arg, .timeout_ms = timeout_ms, .power = VG_POWER_UNKNOWN,
				.started_ms = vg_now_ms(t->host) };
	op->k.auth = op->k.integ = op->k.conf = t->creds.suite == 3;
	if (RAND_bytes((uint8_t *)&op->k.sid_console, sizeof(op->k.sid_console)) != 1) {
		ret = -EIO;
		goto out;
	}
	op->k.sid_console |= 1;   /* never 0: 0 means "no session" */
	op_goals(op);
	ret = op_socket(op);
	if (ret < 0)
		goto out;
	ret = vg_timer_start(t->host, timeout_ms, 0, op_deadline_cb, op, &op->deadline);
	if (ret < 0)
		goto out;
	vg_info(t->host, "ipmi: %s: %s (timeout %u ms)", t->addr_text, action_name(action),
		timeout_ms);
	op->step = STEP_AUTH_CAPS;
	op->tries = 1;
	op->rq_seq = 1;
	ret = op_transmit(op);   /* never calls back: a send error is a lost datagram */
	if (ret < 0)
		goto out;
	*out = op;
	return 0;
out:
	ipmi_op_free(op);
	return ret;
}
