/*
 * ipaddr plugin: pieces shared by its files.  netlink.c talks rtnetlink
 * (non-blocking, one transaction at a time per struct ipa_nl), announce.c
 * sends gratuitous ARP and unsolicited neighbour advertisements, ipaddr.c
 * is the plugin.  Everything runs on vigild's loop and never blocks.
 */
#ifndef VG_IPADDR_H
#define VG_IPADDR_H

#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

#include <vigil/plugin.h>

/* An address of either family, as configured. */
struct ipa_addr {
	int family;              /* AF_INET or AF_INET6 */
	unsigned char bytes[16]; /* network order; the first 4 for AF_INET */
	int prefix;              /* 0..32 / 0..128; -1 when not given */
};

/* "192.0.2.10", "192.0.2.10/24", "2001:db8::10/64".  0 or -EINVAL. */
int ipa_addr_parse(const char *text, struct ipa_addr *out);
/* 4 or 16. */
size_t ipa_addr_len(int family);
/* 1 when `a` lies in the network `net`/`prefix` of the same family. */
int ipa_addr_in_net(const struct ipa_addr *a, const unsigned char *net, int prefix);

/* ---- netlink.c ---- */

/* Each data message of the reply (a dump's parts, a GETLINK answer). */
typedef void (*ipa_nl_msg_cb)(void *arg, const struct nlmsghdr *nlh);
/* End of the transaction: 0 (ACK or NLMSG_DONE) or the kernel's -errno. */
typedef void (*ipa_nl_done_cb)(void *arg, int err);

/* One NETLINK_ROUTE socket on the loop; zeroed or ipa_nl_open()ed. */
struct ipa_nl {
	const struct vg_host *host;
	int fd;                  /* -1 when closed */
	struct vg_watch *watch;
	uint32_t seq;            /* of the transaction in flight; 0 when idle */
	uint32_t last_seq;       /* the last one used */
	ipa_nl_msg_cb on_msg;
	ipa_nl_done_cb on_done;
	void *arg;
	char errmsg[256];        /* the kernel's extended-ACK text of the last error, or "" */
};

int ipa_nl_open(struct ipa_nl *nl, const struct vg_host *host);
/* Unwatch and close; no callback comes afterwards.  Safe on a closed one. */
void ipa_nl_close(struct ipa_nl *nl);
/* Dump every address of `family`.  on_done comes from the loop, never inline. */
int ipa_nl_getaddr(struct ipa_nl *nl, int family, ipa_nl_msg_cb on_msg, ipa_nl_done_cb on_done,
		   void *arg);
/* One link by index: one RTM_NEWLINK message, then on_done. */
int ipa_nl_getlink(struct ipa_nl *nl, int ifindex, ipa_nl_msg_cb on_msg, ipa_nl_done_cb on_done,
		   void *arg);
/* RTM_NEWADDR (add = 1, with IFA_F_NODAD for IPv6) or RTM_DELADDR; label may be NULL. */
int ipa_nl_setaddr(struct ipa_nl *nl, int add, const struct ipa_addr *a, int ifindex,
		   const char *label, ipa_nl_done_cb on_done, void *arg);

/* An address the kernel reported (RTM_NEWADDR). */
struct ipa_ifaddr {
	int family;
	int ifindex;
	int prefix;
	unsigned char bytes[16];
};
/* 0, or -EINVAL when it is not an address message. */
int ipa_nl_parse_addr(const struct nlmsghdr *nlh, struct ipa_ifaddr *out);

/* A link the kernel reported (RTM_NEWLINK). */
struct ipa_link {
	int ifindex;
	unsigned flags;          /* IFF_* */
	unsigned char mac[32];   /* IFLA_ADDRESS */
	size_t mac_len;          /* 0 when the link has none */
};
int ipa_nl_parse_link(const struct nlmsghdr *nlh, struct ipa_link *out);

/* ---- announce.c ---- */

/* Gratuitous ARP (IPv4) or unsolicited NA (IPv6) rounds for one instance. */
struct ipa_announce {
	const struct vg_host *host;
	const char *name;        /* instance name for log lines; borrowed */
	int fd;                  /* -1 when idle */
	struct vg_timer *timer;  /* repeating; NULL when idle */
	struct ipa_addr vip;
	int ifindex;
	unsigned char mac[32];
	size_t mac_len;
	unsigned left;           /* rounds still to send */
	unsigned sent;           /* rounds sent */
};

/* Set up an idle announcer. */
void ipa_announce_init(struct ipa_announce *an, const struct vg_host *host, const char *name);
/*
 * Stop what runs, send the first round now and `count - 1` more every
 * `interval_ms` from the loop.  0, or -errno when the first round could
 * not be sent (nothing is left running then).
 */
int ipa_announce_start(struct ipa_announce *an, const struct ipa_addr *vip,
		       const struct ipa_link *link, unsigned count, uint64_t interval_ms);
void ipa_announce_stop(struct ipa_announce *an);

#endif
