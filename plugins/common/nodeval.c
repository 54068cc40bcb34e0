/* Per-node values (see nodeval.h). */
#include "nodeval.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int vgc_expand_node(const char *tmpl, const char *node, char *out, size_t len)
{
	size_t used = 0;

	for (const char *p = tmpl; *p; p++) {
		const char *add = p;
		size_t n = 1;

		if (p[0] == '%' && p[1] == 'n') {
			add = node;
			n = strlen(node);
			p++;
		}
		if (used + n >= len)
			return -ENAMETOOLONG;
		memcpy(out + used, add, n);
		used += n;
	}
	out[used] = '\0';
	return 0;
}

int vgc_pick_addresses(const char *list, const char *node, char *mine, size_t mine_len,
		       char *peer, size_t peer_len, char *peer_node, size_t peer_node_len)
{
	char buf[512], *save = NULL, *tok;
	int n_mine = 0, n_other = 0;

	if (strlen(list) >= sizeof(buf))
		return -EINVAL;
	snprintf(buf, sizeof(buf), "%s", list);
	mine[0] = peer[0] = peer_node[0] = '\0';
	for (tok = strtok_r(buf, " ,", &save); tok; tok = strtok_r(NULL, " ,", &save)) {
		char *eq = strchr(tok, '=');

		if (!eq || eq == tok || !eq[1])
			return -EINVAL;
		*eq = '\0';
		if (!strcmp(tok, node)) {
			snprintf(mine, mine_len, "%s", eq + 1);
			n_mine++;
		} else {
			snprintf(peer, peer_len, "%s", eq + 1);
			snprintf(peer_node, peer_node_len, "%s", tok);
			n_other++;
		}
	}
	if (n_mine == 0 && n_other >= 1) {
		mine[0] = peer[0] = peer_node[0] = '\0';
		return 1;
	}
	return n_mine == 1 && n_other == 1 ? 0 : -EINVAL;
}
