/*
 * ipmi — vigil fence plugin speaking IPMI 2.0 (RMCP+) to a BMC over LAN.
 *
 * One instance is one BMC, which powers one node.  Every request runs a
 * session of its own on vigild's loop (ipmi_session.c): no child process,
 * no blocking call.  The BMC's address is an IP literal (a DNS lookup could
 * block the loop); the password is read from a file at open, which must
 * not be readable by group or others.
 *
 * Built against the SDK and OpenSSL only.  See docs/plugins/ipmi.md.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE    /* if_nametoindex in strict C11 builds */
#endif
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "ipmi.h"
#include "netaddr.h"

/* Parameter indexes: the order of ipmi_params[]. */
enum {
	P_ADDRESS, P_PORT, P_USER, P_PASSWORD_FILE, P_PRIVILEGE, P_CIPHER_SUITE,
	P_TIMEOUT_MS, P_RETRIES, P_POWER_WAIT_MS, P_REBOOT_METHOD, P_TARGET, P_COUNT
};

static const char *const privilege_choices[] = { "user", "operator", "administrator", NULL };
static const char *const reboot_choices[] = { "onoff", "cycle", NULL };

static const struct vg_param_decl ipmi_params[] = {
	[P_ADDRESS] = { .name = "address", .type = VG_PARAM_STRING, .flags = VG_PARAM_REQUIRED,
			.help = "the BMC's IPv4 or IPv6 literal (names are not resolved: a lookup could block vigild)" },
	[P_PORT] = { .name = "port", .type = VG_PARAM_INT, .def = "623", .min = 1, .max = 65535,
		     .help = "the BMC's UDP port" },
	[P_USER] = { .name = "user", .type = VG_PARAM_STRING, .def = "",
		     .help = "IPMI user name, at most 16 bytes (empty: the anonymous user)" },
	[P_PASSWORD_FILE] = { .name = "password_file", .type = VG_PARAM_PATH,
			      .help = "file holding the user's password (at most 20 bytes, one trailing newline ignored); not readable by group or others. Unset: empty password" },
	[P_PRIVILEGE] = { .name = "privilege", .type = VG_PARAM_ENUM, .def = "administrator",
			  .choices = privilege_choices,
			  .help = "session privilege; Chassis Control needs operator or administrator" },
	[P_CIPHER_SUITE] = { .name = "cipher_suite", .type = VG_PARAM_INT, .def = "3",
			     .min = 0, .max = 3,
			     .help = "RMCP+ cipher suite: 3 (HMAC-SHA1, HMAC-SHA1-96, AES-CBC-128) or 0 (none: no authentication, testing only)" },
	[P_TIMEOUT_MS] = { .name = "timeout_ms", .type = VG_PARAM_DURATION_MS, .def = "20000",
			   .min = 1000, .max = 600000,
			   .help = "time allowed for one request, capped by the request's own timeout" },
	[P_RETRIES] = { .name = "retries", .type = VG_PARAM_INT, .def = "3", .min = 1, .max = 10,
			.help = "tries per message, 1000 ms apart" },
	[P_POWER_WAIT_MS] = { .name = "power_wait_ms", .type = VG_PARAM_DURATION_MS, .def = "500",
			      .min = 10, .max = 60000,
			      .help = "interval between Get Chassis Status polls until the power state changed" },
	[P_REBOOT_METHOD] = { .name = "reboot_method", .type = VG_PARAM_ENUM, .def = "onoff",
			      .choices = reboot_choices,
			      .help = "reboot as power down, confirmed off, then power up (onoff) or as one Chassis Control power cycle (cycle)" },
	[P_TARGET] = { .name = "target", .type = VG_PARAM_STRING,
		       .help = "the node this BMC powers: LIST reports it and requests for another target are refused (default: the instance name, not checked)" },
	[P_COUNT] = { .name = NULL },
};

/* One accepted request. */
struct ipmi_req {
	struct ipmi *ip;
	uint64_t id;
	uint32_t action;
	struct ipmi_op *op;           /* NULL once ended, or for LIST */
	struct vg_timer *later;       /* reports LIST and cancellations from the loop */
	int status;
	char detail[128];
	vg_fence_done_cb cb;
	void *arg;
	struct ipmi_req *next;
};

/* One instance: one BMC.  Allocated by open, freed by close. */
struct ipmi {
	const struct vg_host *host;
	struct ipmi_target t;         /* ops borrow it: freed only after them */
	char *target;                 /* LIST's answer (owned) */
	int target_checked;           /* `target` was configured: refuse others */
	uint32_t timeout_ms;
	struct ipmi_req *reqs;
	uint64_t next_id;
};

/*
 * Read the password file into pass (IPMI_PASS_MAX bytes, zero-padded).
 * Refuses a file that group or others may read or write, like the
 * cluster key.  Returns 0 or a negative errno with a line in errbuf.
 */
static int ipmi_password_read(const char *path, uint8_t *pass, size_t *len,
			      char *errbuf, size_t errlen)
{
	char buf[IPMI_PASS_MAX + 3];
	struct stat st;
	ssize_t n;
	int fd, ret = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) < 0) {
		ret = -errno;
		snprintf(errbuf, errlen, "password_file %s: %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077)) {
		ret = -EPERM;
		snprintf(errbuf, errlen, "password_file %s: must be a regular file without group or other access (mode %03o; chmod 600)",
			 path, (unsigned int)(st.st_mode & 0777));
		goto out;
	}
	n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		ret = -errno;
		snprintf(errbuf, errlen, "password_file %s: %s", path, strerror(errno));
		goto out;
	}
	if (n > 0 && buf[n - 1] == '\n')
		n--;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n > IPMI_PASS_MAX) {
		ret = -EINVAL;
		snprintf(errbuf, errlen, "password_file %s: an IPMI 2.0 password is at most %d bytes",
			 path, IPMI_PASS_MAX);
		goto out;
	}
	memset(pass, 0, IPMI_PASS_MAX);
	memcpy(pass, buf, (size_t)n);
	*len = (size_t)n;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	return ret;
}

/* Everything open() needs that validate() can check. */
static int ipmi_check(const struct vg_instance *inst, struct ipmi_target *t,
		      char *errbuf, size_t errlen)
{
	const struct vg_value *v = inst->params;
	const char *user = v[P_USER].s ? v[P_USER].s : "";

	if (vgc_addr_parse(v[P_ADDRESS].s, (uint16_t)v[P_PORT].i, &t->sa, &t->salen) < 0) {
		snprintf(errbuf, errlen, "address must be an IPv4 or IPv6 literal (names are not resolved), got \"%s\"",
			 v[P_ADDRESS].s);
		return -EINVAL;
	}
	if (v[P_CIPHER_SUITE].i != 0 && v[P_CIPHER_SUITE].i != 3) {
		snprintf(errbuf, errlen, "cipher_suite must be 3 or 0, got %lld",
			 (long long)v[P_CIPHER_SUITE].i);
		return -EINVAL;
	}
	if (strlen(user) > IPMI_USER_MAX) {
		snprintf(errbuf, errlen, "user must be at most %d bytes, got %zu", IPMI_USER_MAX,
			 strlen(user));
		return -EINVAL;
	}
	memset(&t->creds, 0, sizeof(t->creds));
	strcpy(t->creds.user, user);
	t->creds.user_len = strlen(user);
	t->creds.priv = (uint8_t)(2 + v[P_PRIVILEGE].i);   /* user 2, operator 3, administrator 4 */
	t->creds.suite = (int)v[P_CIPHER_SUITE].i;
	if (!v[P_PASSWORD_FILE].is_set || !v[P_PASSWORD_FILE].s)
		return 0;
	return ipmi_password_read(v[P_PASSWORD_FILE].s, t->creds.pass, &t->creds.pass_len,
				  errbuf, errlen);
}

static int ipmi_validate(const struct vg_instance *inst, char *errbuf, size_t errlen)
{
	struct ipmi_target t;
	int ret = ipmi_check(inst, &t, errbuf, errlen);

	OPENSSL_cleanse(&t, sizeof(t));
	return ret;
}

static void ipmi_req_free(struct ipmi_req *r)
{
	struct ipmi_req **pp;

	for (pp = &r->ip->reqs; *pp && *pp != r; pp = &(*pp)->next)
		;
	if (*pp)
		*pp = r->next;
	ipmi_op_free(r->op);
	vg_timer_stop(r->ip->host, r->later);
	free(r);
}

static void ipmi_close(void *state)
{
	struct ipmi *ip = state;

	if (!ip)
		return;
	while (ip->reqs)
		ipmi_req_free(ip->reqs);   /* no callbacks: the core is closing us */
	free(ip->target);
	OPENSSL_cleanse(&ip->t.creds, sizeof(ip->t.creds));
	free(ip);
}

static int ipmi_open(const struct vg_host *host, const struct vg_instance *inst, void **state)
{
	const struct vg_value *v = inst->params;
	char err[256];
	struct ipmi *ip;
	int ret;

	ip = calloc(1, sizeof(*ip));
	if (!ip) {
		vg_err(host, "ipmi: out of memory");
		return -ENOMEM;
	}
	ip->host = host;
	ip->t.host = host;
	ret = ipmi_check(inst, &ip->t, err, sizeof(err));
	if (ret < 0) {
		vg_err(host, "ipmi: %s", err);
		goto out;
	}
	ip->target_checked = v[P_TARGET].is_set && v[P_TARGET].s;
	ip->target = strdup(ip->target_checked ? v[P_TARGET].s : inst->name);
	if (!ip->target) {
		ret = -ENOMEM;
		goto out;
	}
	ip->t.retries = (uint32_t)v[P_RETRIES].i;
	ip->t.power_wait_ms = (uint32_t)v[P_POWER_WAIT_MS].i;
	ip->t.reboot_cycle = v[P_REBOOT_METHOD].i == 1;
	ip->timeout_ms = (uint32_t)v[P_TIMEOUT_MS].i;
	snprintf(ip->t.addr_text, sizeof(ip->t.addr_text), "%s port %u", v[P_ADDRESS].s,
		 (unsigned int)v[P_PORT].i);
	vg_info(host, "ipmi: BMC %s, user \"%s\", %s, cipher suite %d, for %s",
		ip->t.addr_text, ip->t.creds.user, v[P_PRIVILEGE].s, ip->t.creds.suite, ip->target);
	*state = ip;
	return 0;
out:
	ipmi_close(ip);
	return ret;
}

static void ipmi_req_done_cb(struct ipmi_op *op, void *arg, int status, int power,
			    const char *detail)
{
	struct ipmi_req *r = arg;
	vg_fence_done_cb cb = r->cb;
	void *cb_arg = r->arg;

	(void)op;
	r->op = NULL;   /* freed by ipmi_session.c after this returns */
	ipmi_req_free(r);
	cb(cb_arg, status, power, detail);
}

/* LIST and cancellations: reported from the loop, never from exec()/cancel(). */
static void ipmi_later_cb(void *arg)
{
	struct ipmi_req *r = arg;
	vg_fence_done_cb cb = r->cb;
	void *cb_arg = r->arg;
	char detail[sizeof(r->detail)];
	int status = r->status;

	r->later = NULL;
	memcpy(detail, r->detail, sizeof(detail));
	ipmi_req_free(r);
	cb(cb_arg, status, VG_POWER_UNKNOWN, detail);
}

/* Requests for another node than the configured `target` are refused. */
static int ipmi_target_ok(struct ipmi *ip, const struct vg_fence_request *req)
{
	if (!ip->target_checked || !req->target || strcmp(req->target, ip->target) == 0)
		return 1;
	vg_err(ip->host, "ipmi: BMC %s powers \"%s\", refusing a request for \"%s\"",
	       ip->t.addr_text, ip->target, req->target);
	return 0;
}

static int ipmi_exec(void *state, const struct vg_fence_request *req,
		     vg_fence_done_cb cb, void *arg, uint64_t *op_id)
{
	struct ipmi *ip = state;
	uint32_t timeout_ms = ip->timeout_ms;
	struct ipmi_req *r;
	int ret;

	if (req->action < VG_FENCE_OFF || req->action > VG_FENCE_MONITOR)
		return -EOPNOTSUPP;
	if (!ipmi_target_ok(ip, req))
		return -EINVAL;
	if (req->timeout_ms && req->timeout_ms < timeout_ms)
		timeout_ms = req->timeout_ms;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	*r = (struct ipmi_req){ .ip = ip, .id = ++ip->next_id, .action = req->action,
				.cb = cb, .arg = arg, .next = ip->reqs };
	if (req->action == VG_FENCE_LIST) {
		snprintf(r->detail, sizeof(r->detail), "%s", ip->target);
		ret = vg_timer_start(ip->host, 0, 0, ipmi_later_cb, r, &r->later);
	} else {
		ret = ipmi_op_start(&ip->t, req->action, timeout_ms, ipmi_req_done_cb, r, &r->op);
	}
	if (ret < 0) {
		vg_err(ip->host, "ipmi: BMC %s: cannot start action %u: %s", ip->t.addr_text,
		       req->action, strerror(-ret));
		free(r);
		return ret;
	}
	ip->reqs = r;
	if (op_id)
		*op_id = r->id;
	return 0;
}

static void ipmi_cancel(void *state, uint64_t op_id)
{
	struct ipmi *ip = state;
	struct ipmi_req *r;

	for (r = ip->reqs; r && r->id != op_id; r = r->next)
		;
	if (!r || r->later)
		return;   /* unknown, already reporting */
	ipmi_op_free(r->op);   /* an open session gets its Close Session */
	r->op = NULL;
	r->status = -ECANCELED;
	snprintf(r->detail, sizeof(r->detail), "BMC %s: cancelled", ip->t.addr_text);
	if (vg_timer_start(ip->host, 0, 0, ipmi_later_cb, r, &r->later) < 0) {
		r->later = NULL;
		ipmi_later_cb(r);
	}
}

static const struct vg_fence_ops ipmi_ops = {
	.exec = ipmi_exec,
	.cancel = ipmi_cancel,
	.validate = ipmi_validate,
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_FENCE,
	.name = "ipmi",
	.version = "1.0",
	.description = "power a node through its BMC: IPMI 2.0 RMCP+ over LAN, native, non-blocking",
	.params = ipmi_params,
	.open = ipmi_open,
	.close = ipmi_close,
	.ops = &ipmi_ops);
