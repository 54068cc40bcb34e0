/*
 * Per-node values in a plugin's parameters, so that one cluster file
 * serves every node (plugins/common: block, repl).
 */
#ifndef VG_COMMON_NODEVAL_H
#define VG_COMMON_NODEVAL_H

#include <stddef.h>

/* Copy `tmpl` with each "%n" replaced by `node`.  0, or -ENAMETOOLONG when it does not fit. */
int vgc_expand_node(const char *tmpl, const char *node, char *out, size_t len);

/*
 * "n1=A:P n2=B:P" (spaces or commas): `node`'s address into mine, the other
 * node's into peer and its name into peer_node.  0 when the list names
 * `node` once and one other node; 1 when it does not name `node` but names
 * another (this node is not one of the pair; mine is ""); -EINVAL for
 * anything else (a malformed entry, more than one other node).
 */
int vgc_pick_addresses(const char *list, const char *node, char *mine, size_t mine_len,
		       char *peer, size_t peer_len, char *peer_node, size_t peer_node_len);

#endif
