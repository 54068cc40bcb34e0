/*
 * Socket addresses and datagram reading shared by the network plugins
 * (plugins/common: udp-ucast, udp-mcast, tls, ipmi).
 */
#ifndef VG_COMMON_NETADDR_H
#define VG_COMMON_NETADDR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <vigil/plugin.h>

/*
 * An IPv4 or IPv6 literal (IPv6 may carry "%ifname" for link-local scope)
 * into *sa with `port`.  inet_pton only: never a name lookup.  0 or -EINVAL.
 */
int vgc_addr_parse(const char *s, uint16_t port, struct sockaddr_storage *sa, socklen_t *salen);

/* Same host address (ports ignored: a node is known by its address). */
int vgc_addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b);

/* Clear a pending socket error so a level-triggered loop does not spin; logged at debug. */
void vgc_sock_error_clear(const struct vg_host *host, int fd, const char *who);

/* Which node sent a datagram from `from` (VG_NODE_NONE: unknown). */
typedef uint32_t (*vgc_sender_fn)(const void *ctx, const struct sockaddr_storage *from);

/*
 * A readable datagram socket: hand up to `burst` datagrams to the core
 * (vg_frame_received), each with the node `sender` names.  Empty or
 * truncated ones (larger than `cap`) are counted in *dropped and logged at
 * debug.  What is left waits for the next loop iteration (level-triggered).
 */
void vgc_dgram_read_burst(const struct vg_host *host, int fd, uint32_t events, uint8_t *buf,
			  size_t cap, int burst, const char *who, uint64_t *dropped,
			  vgc_sender_fn sender, const void *ctx);

#endif
