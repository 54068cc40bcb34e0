/* Socket addresses and datagram reading (see netaddr.h). */
#include "netaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>

int vgc_addr_parse(const char *s, uint16_t port, struct sockaddr_storage *sa, socklen_t *salen)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)sa;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)sa;
	char tmp[INET6_ADDRSTRLEN + IF_NAMESIZE + 1], *pct;

	memset(sa, 0, sizeof(*sa));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*salen = sizeof(*sin);
		return 0;
	}
	if (strlen(s) >= sizeof(tmp))
		return -EINVAL;
	strcpy(tmp, s);
	pct = strchr(tmp, '%');
	if (pct)
		*pct++ = '\0';
	if (inet_pton(AF_INET6, tmp, &sin6->sin6_addr) != 1)
		return -EINVAL;
	if (pct && !(sin6->sin6_scope_id = if_nametoindex(pct)))
		return -EINVAL;
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	*salen = sizeof(*sin6);
	return 0;
}

int vgc_addr_equal(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return 0;
	if (a->ss_family == AF_INET)
		return ((const struct sockaddr_in *)a)->sin_addr.s_addr ==
		       ((const struct sockaddr_in *)b)->sin_addr.s_addr;
	return !memcmp(&((const struct sockaddr_in6 *)a)->sin6_addr,
		       &((const struct sockaddr_in6 *)b)->sin6_addr, sizeof(struct in6_addr));
}

void vgc_sock_error_clear(const struct vg_host *host, int fd, const char *who)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err)
		vg_debug(host, "%s: socket error: %s", who, strerror(err));
}

void vgc_dgram_read_burst(const struct vg_host *host, int fd, uint32_t events, uint8_t *buf,
			  size_t cap, int burst, const char *who, uint64_t *dropped,
			  vgc_sender_fn sender, const void *ctx)
{
	struct sockaddr_storage from;
	socklen_t fromlen;
	ssize_t n;

	if (events & VG_FD_ERROR)
		vgc_sock_error_clear(host, fd, who);
	for (int i = 0; i < burst; i++) {
		fromlen = sizeof(from);
		n = recvfrom(fd, buf, cap, MSG_TRUNC, (struct sockaddr *)&from, &fromlen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				vg_debug(host, "%s: recvfrom: %s", who, strerror(errno));
			return;
		}
		if (n == 0 || (size_t)n > cap) {
			(*dropped)++;
			vg_debug(host, "%s: dropped a datagram of %zd bytes (max %zu), %llu so far", who,
				 n, cap, (unsigned long long)*dropped);
			continue;
		}
		vg_frame_received(host, buf, (size_t)n, sender(ctx, &from));
	}
}
