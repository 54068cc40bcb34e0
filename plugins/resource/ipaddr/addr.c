/* ipaddr plugin: IP address literals and subnets (see ipaddr.h). */
#include "ipaddr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

size_t ipa_addr_len(int family)
{
	return family == AF_INET6 ? 16 : 4;
}

int ipa_addr_parse(const char *text, struct ipa_addr *out)
{
	char buf[INET6_ADDRSTRLEN + 8], *slash, *end;
	long prefix = -1;

	if (!text || snprintf(buf, sizeof(buf), "%s", text) >= (int)sizeof(buf))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	slash = strchr(buf, '/');
	if (slash) {
		*slash++ = '\0';
		errno = 0;
		prefix = strtol(slash, &end, 10);
		if (errno || end == slash || *end || prefix < 0)
			return -EINVAL;
	}
	if (inet_pton(AF_INET, buf, out->bytes) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, buf, out->bytes) == 1)
		out->family = AF_INET6;
	else
		return -EINVAL;
	if (prefix > (long)ipa_addr_len(out->family) * 8)
		return -EINVAL;
	out->prefix = (int)prefix;
	return 0;
}

int ipa_addr_in_net(const struct ipa_addr *a, const unsigned char *net, int prefix)
{
	int full = prefix / 8, rest = prefix % 8;

	if (prefix < 0 || (size_t)prefix > ipa_addr_len(a->family) * 8)
		return 0;
	if (memcmp(a->bytes, net, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	return ((a->bytes[full] ^ net[full]) & (0xff << (8 - rest))) == 0;
}
