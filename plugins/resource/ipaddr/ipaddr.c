/*
 * ipaddr — a native virtual IP (docs/plugins/ipaddr.md).
 *
 * Every action is a short chain of rtnetlink transactions on a socket of
 * its own, driven by the loop (netlink.c):
 *   start:   dump addresses -> add (unless present) -> get link -> announce
 *   stop:    dump addresses -> delete (if present)
 *   monitor: dump addresses -> get link (if present)
 * The dump answers both "is the address here" and "which interface has an
 * address in its subnet", so the interface and the prefix may be left
 * out of the configuration and are found again at every action.
 */
#include <errno.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <vigil/plugin.h>

#include "ipaddr.h"
#include "meta.h"

enum {
	P_ADDRESS,
	P_INTERFACE,
	P_LABEL,
	P_ARP_COUNT,
	P_ARP_INTERVAL_MS,
};

static const struct vg_param_decl ipa_params[] = {
	[P_ADDRESS] = {
		.name = "address", .type = VG_PARAM_STRING, .flags = VG_PARAM_REQUIRED,
		.help = "IPv4 or IPv6 literal, optional /prefix (default: the prefix of "
			"the interface's address in the same subnet)",
	},
	[P_INTERFACE] = {
		.name = "interface", .type = VG_PARAM_STRING,
		.help = "interface to add it to (default: the one with an address in the same subnet)",
	},
	[P_LABEL] = {
		.name = "label", .type = VG_PARAM_STRING,
		.help = "IPv4 address label, by convention IFNAME:tag (at most 15 characters)",
	},
	[P_ARP_COUNT] = {
		.name = "arp_count", .type = VG_PARAM_INT, .def = "5", .min = 0, .max = 100,
		.help = "gratuitous ARP / neighbour advertisement rounds sent on start",
	},
	[P_ARP_INTERVAL_MS] = {
		.name = "arp_interval_ms", .type = VG_PARAM_DURATION_MS, .def = "200",
		.min = 1, .max = 10000,
		.help = "time between two announcement rounds",
	},
	{ .name = NULL },
};

extern const struct vg_plugin vigil_plugin;

struct ipa;

/* Where an op is in its chain of netlink transactions. */
enum ipa_step {
	IPA_STEP_DUMP = 1,   /* RTM_GETADDR dump */
	IPA_STEP_SET,        /* RTM_NEWADDR / RTM_DELADDR */
	IPA_STEP_LINK,       /* RTM_GETLINK */
};

/* One accepted request, from exec() until its callback has returned. */
struct ipa_op {
	struct ipa *ipa;
	struct ipa_op *next;
	uint64_t id;
	uint32_t action;            /* enum vg_rsc_action */
	vg_rsc_done_cb cb;
	void *arg;
	int status;                 /* -ECANCELED decided early, else 0 */
	int rc;                     /* OCF exit code once known */
	const char *text;           /* output when not msg (meta-data); borrowed */
	char msg[512];
	struct vg_timer *timer;     /* 0 ms report timer */
	struct vg_timer *deadline;  /* req->timeout_ms */
	struct ipa_nl nl;
	enum ipa_step step;
	int want_ifindex;           /* from `interface`; 0: any */
	int found_ifindex;          /* where the address is now; 0: absent */
	int found_prefix;
	int cand_ifindex;           /* best interface whose subnet holds the address */
	int cand_prefix;
	struct ipa_link link;       /* from RTM_GETLINK; ifindex 0 when not seen */
};

/* One instance: one configured address. */
struct ipa {
	const struct vg_host *host;  /* valid until close() returns */
	const char *name;            /* borrowed */
	const struct vg_value *params; /* the core's, valid until close() returns */
	const char *address, *ifname, *label; /* borrowed; ifname/label may be NULL */
	struct ipa_addr vip;
	unsigned arp_count;
	uint64_t arp_interval_ms;
	struct ipa_announce announce;
	char *meta;                  /* owned */
	uint64_t next_id;
	struct ipa_op *ops;
};

static void ipa_op_unlink(struct ipa_op *op)
{
	struct ipa_op **pp;

	for (pp = &op->ipa->ops; *pp; pp = &(*pp)->next) {
		if (*pp == op) {
			*pp = op->next;
			return;
		}
	}
}

static void ipa_op_free(struct ipa_op *op)
{
	ipa_nl_close(&op->nl);
	vg_timer_stop(op->ipa->host, op->timer);
	vg_timer_stop(op->ipa->host, op->deadline);
	free(op);
}

static void ipa_op_say(struct ipa_op *op, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void ipa_op_say(struct ipa_op *op, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(op->msg, sizeof(op->msg), fmt, ap);
	va_end(ap);
}

/* Report and free.  Only from a callback of the loop, never from exec(). */
static void ipa_op_finish(struct ipa_op *op, int status, int rc)
{
	ipa_op_unlink(op);
	ipa_nl_close(&op->nl);
	if (status < 0 && !op->msg[0])
		ipa_op_say(op, "%s", strerror(-status));
	op->cb(op->arg, status, status < 0 ? VG_OCF_ERR_GENERIC : rc, op->text ? op->text : op->msg);
	ipa_op_free(op);
}

static void ipa_op_report_cb(void *arg)
{
	struct ipa_op *op = arg;

	op->timer = NULL;
	ipa_op_finish(op, op->status, op->rc);
}

/* Complete with `rc` from a 0 ms timer (exec() and cancel() must not call back). */
static int ipa_op_report_later(struct ipa_op *op, int rc)
{
	op->rc = rc;
	ipa_nl_close(&op->nl);
	return vg_timer_start(op->ipa->host, 0, 0, ipa_op_report_cb, op, &op->timer);
}

/* A netlink step failed: say which and why, as the kernel put it. */
static void ipa_op_fail(struct ipa_op *op, const char *what, int err)
{
	ipa_op_say(op, "%s %s: %s%s%s", what, op->ipa->address, strerror(-err),
		   op->nl.errmsg[0] ? ": " : "", op->nl.errmsg);
	vg_err(op->ipa->host, "ipaddr: %s: %s", op->ipa->name, op->msg);
	ipa_op_finish(op, 0, VG_OCF_ERR_GENERIC);
}

static const char *ipa_ifname(int ifindex, char *buf)
{
	if (!if_indextoname((unsigned)ifindex, buf))
		snprintf(buf, IF_NAMESIZE, "#%d", ifindex);
	return buf;
}

/* ---- the chain ---- */

static void ipa_link_msg(void *arg, const struct nlmsghdr *nlh)
{
	struct ipa_op *op = arg;

	ipa_nl_parse_link(nlh, &op->link);
}

static int ipa_link_up(const struct ipa_link *l)
{
	return l->ifindex && (l->flags & IFF_UP) && (l->flags & IFF_RUNNING);
}

static void ipa_announce(struct ipa_op *op)
{
	struct ipa *ia = op->ipa;
	int rc;

	rc = ipa_announce_start(&ia->announce, &ia->vip, &op->link, ia->arp_count,
				ia->arp_interval_ms);
	if (rc == -EOPNOTSUPP)
		vg_info(ia->host, "ipaddr: %s: link has no ARP/ND: nothing announced", ia->name);
	else if (rc < 0)
		vg_warn(ia->host, "ipaddr: %s: cannot announce %s: %s", ia->name, ia->address,
			strerror(-rc));
}

static void ipa_link_done(void *arg, int err)
{
	struct ipa_op *op = arg;
	char ifn[IF_NAMESIZE];

	if (err < 0 && err != -ENODEV) {
		ipa_op_fail(op, "cannot read the link of", err);
		return;
	}
	ipa_ifname(op->found_ifindex, ifn);
	if (!ipa_link_up(&op->link)) {
		ipa_op_say(op, "%s is on %s, but the link is %s", op->ipa->address, ifn,
			   op->link.ifindex ? "down" : "gone");
		vg_warn(op->ipa->host, "ipaddr: %s: %s", op->ipa->name, op->msg);
		ipa_op_finish(op, 0, VG_OCF_ERR_GENERIC);
		return;
	}
	if (op->action == VG_RSC_START) {
		ipa_announce(op);
		ipa_op_say(op, "%s is on %s", op->ipa->address, ifn);
		vg_notice(op->ipa->host, "ipaddr: %s: %s up on %s", op->ipa->name,
			  op->ipa->address, ifn);
	} else {
		ipa_op_say(op, "%s is on %s, link up", op->ipa->address, ifn);
	}
	ipa_op_finish(op, 0, VG_OCF_SUCCESS);
}

static void ipa_get_link(struct ipa_op *op)
{
	int rc;

	op->step = IPA_STEP_LINK;
	rc = ipa_nl_getlink(&op->nl, op->found_ifindex, ipa_link_msg, ipa_link_done, op);
	if (rc < 0)
		ipa_op_fail(op, "cannot ask for the link of", rc);
}

static void ipa_set_done(void *arg, int err)
{
	struct ipa_op *op = arg;
	struct ipa *ia = op->ipa;

	if (op->action == VG_RSC_STOP) {
		/* Gone already (or with its interface): stopped all the same. */
		if (err < 0 && err != -EADDRNOTAVAIL && err != -ENODEV) {
			ipa_op_fail(op, "cannot remove", err);
			return;
		}
		ipa_op_say(op, "%s removed", ia->address);
		vg_notice(ia->host, "ipaddr: %s: %s removed", ia->name, ia->address);
		ipa_op_finish(op, 0, VG_OCF_SUCCESS);
		return;
	}
	if (err < 0 && err != -EEXIST) {
		ipa_op_fail(op, "cannot add", err);
		return;
	}
	ipa_get_link(op);
}

/* start, address absent: choose the interface and the prefix, then add. */
static void ipa_add(struct ipa_op *op)
{
	struct ipa *ia = op->ipa;
	struct ipa_addr a = ia->vip;
	int ifindex = op->want_ifindex ? op->want_ifindex : op->cand_ifindex;
	int rc;

	if (!ifindex) {
		ipa_op_say(op, "no interface has an address in the subnet of %s: set interface",
			   ia->address);
		ipa_op_finish(op, 0, VG_OCF_ERR_CONFIGURED);
		return;
	}
	if (a.prefix < 0 && op->cand_ifindex != ifindex) {
		ipa_op_say(op, "%s has no prefix and no address of its interface covers it: "
			   "write it as ADDRESS/PREFIX", ia->address);
		ipa_op_finish(op, 0, VG_OCF_ERR_CONFIGURED);
		return;
	}
	if (a.prefix < 0)
		a.prefix = op->cand_prefix;
	op->found_ifindex = ifindex;
	op->step = IPA_STEP_SET;
	rc = ipa_nl_setaddr(&op->nl, 1, &a, ifindex, ia->label, ipa_set_done, op);
	if (rc < 0)
		ipa_op_fail(op, "cannot ask to add", rc);
}

static void ipa_dump_msg(void *arg, const struct nlmsghdr *nlh)
{
	struct ipa_op *op = arg;
	const struct ipa_addr *vip = &op->ipa->vip;
	struct ipa_ifaddr ifa;

	if (ipa_nl_parse_addr(nlh, &ifa) < 0 || ifa.family != vip->family)
		return;
	if (op->want_ifindex && ifa.ifindex != op->want_ifindex)
		return;
	if (memcmp(ifa.bytes, vip->bytes, ipa_addr_len(vip->family)) == 0) {
		if (!op->found_ifindex) {
			op->found_ifindex = ifa.ifindex;
			op->found_prefix = ifa.prefix;
		}
		return;
	}
	/* Another address whose subnet holds ours: the longest prefix wins. */
	if (ifa.prefix > 0 && ifa.prefix > op->cand_prefix && ipa_addr_in_net(vip, ifa.bytes, ifa.prefix)) {
		op->cand_ifindex = ifa.ifindex;
		op->cand_prefix = ifa.prefix;
	}
}

static void ipa_dump_done(void *arg, int err)
{
	struct ipa_op *op = arg;
	struct ipa_addr a = op->ipa->vip;
	int rc;

	if (err < 0) {
		ipa_op_fail(op, "cannot list the addresses to find", err);
		return;
	}
	switch (op->action) {
	case VG_RSC_START:
		if (op->found_ifindex)
			ipa_get_link(op); /* present already: check the link, announce again */
		else
			ipa_add(op);
		return;
	case VG_RSC_MONITOR:
		if (op->found_ifindex) {
			ipa_get_link(op);
			return;
		}
		ipa_op_say(op, "%s is not configured", op->ipa->address);
		ipa_op_finish(op, 0, VG_OCF_NOT_RUNNING);
		return;
	default: /* VG_RSC_STOP */
		if (!op->found_ifindex) {
			ipa_op_say(op, "%s is not configured", op->ipa->address);
			ipa_op_finish(op, 0, VG_OCF_SUCCESS);
			return;
		}
		a.prefix = op->found_prefix;
		op->step = IPA_STEP_SET;
		rc = ipa_nl_setaddr(&op->nl, 0, &a, op->found_ifindex, NULL, ipa_set_done, op);
		if (rc < 0)
			ipa_op_fail(op, "cannot ask to remove", rc);
	}
}

/* start, stop, monitor: resolve the interface, then dump the addresses. */
static int ipa_begin(struct ipa_op *op)
{
	struct ipa *ia = op->ipa;
	int rc;

	if (op->action == VG_RSC_STOP)
		ipa_announce_stop(&ia->announce);
	if (ia->ifname) {
		op->want_ifindex = (int)if_nametoindex(ia->ifname);
		if (!op->want_ifindex) {
			ipa_op_say(op, "interface %s does not exist", ia->ifname);
			/* Cannot be there, cannot be put there: not on this node. */
			return ipa_op_report_later(op, op->action == VG_RSC_START ?
						   VG_OCF_ERR_INSTALLED :
						   op->action == VG_RSC_STOP ?
						   VG_OCF_SUCCESS : VG_OCF_NOT_RUNNING);
		}
	}
	rc = ipa_nl_open(&op->nl, ia->host);
	if (rc < 0)
		return rc;
	op->step = IPA_STEP_DUMP;
	return ipa_nl_getaddr(&op->nl, ia->vip.family, ipa_dump_msg, ipa_dump_done, op);
}

/* ---- validate ---- */

static int ipa_check(const struct vg_value *v, struct ipa_addr *vip, char *errbuf, size_t errlen)
{
	const char *ifname = v[P_INTERFACE].s, *label = v[P_LABEL].s;

	if (ipa_addr_parse(v[P_ADDRESS].s, vip) < 0) {
		snprintf(errbuf, errlen, "address must be an IPv4 or IPv6 literal with an optional "
			 "/prefix, got \"%s\"", v[P_ADDRESS].s);
		return -EINVAL;
	}
	if (label && (vip->family != AF_INET || strlen(label) >= IF_NAMESIZE)) {
		snprintf(errbuf, errlen, "label is for IPv4 addresses only, at most %d characters",
			 IF_NAMESIZE - 1);
		return -EINVAL;
	}
	if (ifname && (strlen(ifname) >= IF_NAMESIZE || !if_nametoindex(ifname))) {
		snprintf(errbuf, errlen, "interface %s does not exist", ifname);
		return -ENODEV;
	}
	return 0;
}

static int ipa_validate(const struct vg_instance *inst, char *errbuf, size_t errlen)
{
	struct ipa_addr vip;

	return ipa_check(inst->params, &vip, errbuf, errlen);
}

/* ---- requests ---- */

static void ipa_deadline_cb(void *arg)
{
	struct ipa_op *op = arg;

	op->deadline = NULL;
	ipa_op_say(op, "timed out waiting for the kernel (step %d)", op->step);
	vg_warn(op->ipa->host, "ipaddr: %s: action %u %s", op->ipa->name, op->action, op->msg);
	vg_timer_stop(op->ipa->host, op->timer);
	op->timer = NULL;
	ipa_op_finish(op, -ETIMEDOUT, VG_OCF_ERR_GENERIC);
}

static int ipa_dispatch(struct ipa_op *op, const struct vg_rsc_request *req)
{
	struct ipa *ia = op->ipa;
	struct ipa_addr vip;

	switch (req->action) {
	case VG_RSC_START:
	case VG_RSC_STOP:
	case VG_RSC_MONITOR:
		return ipa_begin(op);
	case VG_RSC_VALIDATE_ALL:
		if (ipa_check(ia->params, &vip, op->msg, sizeof(op->msg)) < 0)
			return ipa_op_report_later(op, VG_OCF_ERR_CONFIGURED);
		return ipa_op_report_later(op, VG_OCF_SUCCESS);
	case VG_RSC_META_DATA:
		op->text = ia->meta;
		return ipa_op_report_later(op, VG_OCF_SUCCESS);
	default:
		ipa_op_say(op, "action %u not implemented", req->action);
		return ipa_op_report_later(op, VG_OCF_ERR_UNIMPLEMENTED);
	}
}

static int ipa_exec(void *state, const struct vg_rsc_request *req,
		    vg_rsc_done_cb cb, void *arg, uint64_t *op_id)
{
	struct ipa *ia = state;
	struct ipa_op *op;
	int rc = 0;

	op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	*op = (struct ipa_op){ .ipa = ia, .id = ++ia->next_id, .action = req->action,
			       .cb = cb, .arg = arg, .rc = VG_OCF_ERR_GENERIC,
			       .nl = { .fd = -1 } };
	if (req->timeout_ms)
		rc = vg_timer_start(ia->host, req->timeout_ms, 0, ipa_deadline_cb, op,
				    &op->deadline);
	if (rc == 0)
		rc = ipa_dispatch(op, req);
	if (rc < 0) {
		vg_err(ia->host, "ipaddr: %s: cannot run action %u: %s", ia->name, req->action,
		       strerror(-rc));
		ipa_op_free(op);
		return rc;
	}
	op->next = ia->ops;
	ia->ops = op;
	if (op_id)
		*op_id = op->id;
	return 0;
}

static void ipa_cancel(void *state, uint64_t op_id)
{
	struct ipa *ia = state;
	struct ipa_op *op;

	for (op = ia->ops; op && op->id != op_id; op = op->next)
		;
	if (!op || op->status == -ECANCELED)
		return;
	op->status = -ECANCELED;
	op->text = NULL;
	ipa_op_say(op, "cancelled");
	vg_timer_stop(ia->host, op->deadline);
	op->deadline = NULL;
	vg_timer_stop(ia->host, op->timer);
	op->timer = NULL;
	/* Abandon the netlink step and report from the loop, not from cancel(). */
	if (ipa_op_report_later(op, VG_OCF_ERR_GENERIC) < 0)
		ipa_op_finish(op, -ECANCELED, VG_OCF_ERR_GENERIC);
}

static int ipa_open(const struct vg_host *host, const struct vg_instance *inst, void **state)
{
	const struct vg_value *v = inst->params;
	char err[256];
	struct ipa *ia;
	int rc;

	ia = calloc(1, sizeof(*ia));
	if (!ia) {
		vg_err(host, "ipaddr: %s: out of memory", inst->name);
		return -ENOMEM;
	}
	*ia = (struct ipa){ .host = host, .name = inst->name, .params = v, .address = v[P_ADDRESS].s,
			    .ifname = v[P_INTERFACE].s, .label = v[P_LABEL].s,
			    .arp_count = (unsigned)v[P_ARP_COUNT].i,
			    .arp_interval_ms = (uint64_t)v[P_ARP_INTERVAL_MS].i };
	/* Only the address must be right here: the interface may come later. */
	rc = ipa_addr_parse(ia->address, &ia->vip);
	if (rc < 0) {
		snprintf(err, sizeof(err), "address \"%s\" is no IP literal", ia->address);
		goto fail;
	}
	ia->meta = rsc_meta_build(&vigil_plugin);
	if (!ia->meta) {
		rc = -ENOMEM;
		snprintf(err, sizeof(err), "out of memory");
		goto fail;
	}
	ipa_announce_init(&ia->announce, host, inst->name);
	*state = ia;
	return 0;
fail:
	vg_err(host, "ipaddr: %s: %s", inst->name, err);
	free(ia);
	return rc;
}

/* Requests in flight are dropped without their callback; the address stays. */
static void ipa_close(void *state)
{
	struct ipa *ia = state;
	struct ipa_op *op;

	while ((op = ia->ops)) {
		ia->ops = op->next;
		ipa_op_free(op);
	}
	ipa_announce_stop(&ia->announce);
	free(ia->meta);
	free(ia);
}

static const struct vg_resource_ops ipa_ops = {
	.exec = ipa_exec,
	.cancel = ipa_cancel,
	.validate = ipa_validate,
};

VG_PLUGIN_DEFINE(
	.kind = VG_KIND_RESOURCE,
	.name = "ipaddr",
	.version = "1.0",
	.description = "a virtual IPv4/IPv6 address, added by rtnetlink and announced by ARP/NA",
	.params = ipa_params,
	.open = ipa_open,
	.close = ipa_close,
	.ops = &ipa_ops,
);
