/* repl plugin: per-node values (%n, addresses), the helper's command line, validation. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nodeval.h"
#include "repl.h"

/* The directory part of `path` up to its first "%n" must be an existing directory. */
static int repl_check_dir(const char *what, const char *path, char *errbuf, size_t errlen)
{
	char dir[4096];
	char *cut, *slash;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s", path);
	cut = strstr(dir, "%n");
	if (cut)
		*cut = '\0';
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	else
		snprintf(dir, sizeof(dir), "/");
	if (strstr(dir, "%n") || (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)))
		return 0;
	snprintf(errbuf, errlen, "the directory of %s %s must exist", what, path);
	return -ENOENT;
}

/* TLS: cert, key and ca together; the peer's name given, or taken from addresses. */
static int repl_check_tls(const struct vg_value *v, char *errbuf, size_t errlen)
{
	int n = v[P_TLS_CERT].is_set + v[P_TLS_KEY].is_set + v[P_TLS_CA].is_set;

	if (n != 0 && n != 3) {
		snprintf(errbuf, errlen, "tls_cert, tls_key and tls_ca go together (%d of 3 set)", n);
		return -EINVAL;
	}
	if (n == 0 && v[P_TLS_PEER_NAME].is_set) {
		snprintf(errbuf, errlen, "tls_peer_name needs tls_cert, tls_key and tls_ca");
		return -EINVAL;
	}
	if (n == 3 && !v[P_TLS_PEER_NAME].is_set && !v[P_ADDRESSES].is_set) {
		snprintf(errbuf, errlen, "with TLS and listen/peer, set tls_peer_name (the peer's "
			 "certificate name; addresses would give it)");
		return -EINVAL;
	}
	if (v[P_TLS_PEER_NAME].is_set && !v[P_TLS_PEER_NAME].s[0]) {
		snprintf(errbuf, errlen, "tls_peer_name must not be empty");
		return -EINVAL;
	}
	return 0;
}

int repl_check(const struct vg_value *v, char *errbuf, size_t errlen)
{
	int rc;

	if (access(v[P_HELPER].s, X_OK) < 0) {
		snprintf(errbuf, errlen, "helper %s is not an executable program", v[P_HELPER].s);
		return -ENOENT;
	}
	if (!v[P_ADDRESSES].is_set && (!v[P_LISTEN].is_set || !v[P_PEER].is_set)) {
		snprintf(errbuf, errlen, "set addresses, or both listen and peer");
		return -EINVAL;
	}
	if (strncmp(v[P_NBD].s, "unix:", 5) && !strchr(v[P_NBD].s, ':')) {
		snprintf(errbuf, errlen, "nbd must be unix:PATH or ADDR:PORT, got \"%s\"", v[P_NBD].s);
		return -EINVAL;
	}
	rc = repl_check_tls(v, errbuf, errlen);
	if (rc == 0)
		rc = repl_check_dir("store", v[P_STORE].s, errbuf, errlen);
	if (rc == 0)
		rc = repl_check_dir("pidfile", v[P_PIDFILE].s, errbuf, errlen);
	return rc;
}

/*
 * The --tls-* options from argv[n] on, and the NULL.  The peer's name
 * defaults to the other node of addresses; a `listen`/`peer` pair alone
 * gives none, and validate asks for tls_peer_name then.
 */
static int repl_tls_argv(struct repl *r, const struct vg_value *v, size_t n)
{
	const char *peer_name = v[P_TLS_PEER_NAME].is_set ? v[P_TLS_PEER_NAME].s : r->peer_node;

	if (r->tls_cert[0] && !peer_name[0]) {
		vg_err(r->host, "repl: %s: TLS: no tls_peer_name, and addresses names no other node",
		       r->name);
		return -EINVAL;
	}
	if (r->tls_cert[0]) {
		r->argv[n++] = "--tls-cert";      r->argv[n++] = r->tls_cert;
		r->argv[n++] = "--tls-key";       r->argv[n++] = r->tls_key;
		r->argv[n++] = "--tls-ca";        r->argv[n++] = r->tls_ca;
		r->argv[n++] = "--tls-peer-name"; r->argv[n++] = (char *)peer_name;
	}
	r->argv[n] = NULL;
	return 0;
}

/* Per-node values (%n, addresses) and the helper's command line. */
int repl_configure(struct repl *r, const struct vg_value *v)
{
	char ctl[4200]; /* store (< 4096) + ".ctl" */
	size_t n = 0;
	int rc = 0;

	rc |= vgc_expand_node(v[P_STORE].s, r->node, r->store, sizeof(r->store));
	rc |= vgc_expand_node(v[P_PIDFILE].s, r->node, r->pidfile, sizeof(r->pidfile));
	rc |= vgc_expand_node(v[P_NBD].s, r->node, r->nbd, sizeof(r->nbd));
	if (v[P_LOG].is_set)
		rc |= vgc_expand_node(v[P_LOG].s, r->node, r->log, sizeof(r->log));
	if (v[P_CONTROL].is_set)
		rc |= vgc_expand_node(v[P_CONTROL].s, r->node, ctl, sizeof(ctl));
	else
		snprintf(ctl, sizeof(ctl), "%s.ctl", r->store);
	if (v[P_TLS_CERT].is_set) {
		rc |= vgc_expand_node(v[P_TLS_CERT].s, r->node, r->tls_cert, sizeof(r->tls_cert));
		rc |= vgc_expand_node(v[P_TLS_KEY].s, r->node, r->tls_key, sizeof(r->tls_key));
		rc |= vgc_expand_node(v[P_TLS_CA].s, r->node, r->tls_ca, sizeof(r->tls_ca));
	}
	if (rc || strlen(ctl) >= sizeof(r->ctl)) {
		vg_err(r->host, "repl: %s: a path is too long (control socket: at most %zu bytes)",
		       r->name, sizeof(r->ctl) - 1);
		return -ENAMETOOLONG;
	}
	snprintf(r->ctl, sizeof(r->ctl), "%s", ctl);
	if (v[P_ADDRESSES].is_set && vgc_pick_addresses(v[P_ADDRESSES].s, r->node, r->listen, sizeof(r->listen), r->peer,
						   sizeof(r->peer), r->peer_node, sizeof(r->peer_node)) < 0) {
		vg_err(r->host, "repl: %s: addresses \"%s\" must name %s and one peer as NODE=ADDR:PORT",
		       r->name, v[P_ADDRESSES].s, r->node);
		return -EINVAL;
	}
	if (v[P_LISTEN].is_set)
		snprintf(r->listen, sizeof(r->listen), "%s", v[P_LISTEN].s);
	if (v[P_PEER].is_set)
		snprintf(r->peer, sizeof(r->peer), "%s", v[P_PEER].s);
	if (!r->listen[0] || !r->peer[0])
		vg_info(r->host, "repl: %s: %s is not in addresses: it cannot run here", r->name,
			r->node);
	snprintf(r->timeout, sizeof(r->timeout), "%lld", (long long)v[P_TIMEOUT_MS].i);
	/* vigild ignores SIGPIPE, and ignored signals survive exec: undo that. */
	r->argv[n++] = "env";
	r->argv[n++] = "--default-signal";
	r->argv[n++] = (char *)v[P_HELPER].s;
	r->argv[n++] = "--store";      r->argv[n++] = r->store;
	r->argv[n++] = "--name";       r->argv[n++] = (char *)r->name;
	r->argv[n++] = "--listen";     r->argv[n++] = r->listen;
	r->argv[n++] = "--peer";       r->argv[n++] = r->peer;
	r->argv[n++] = "--nbd";        r->argv[n++] = r->nbd;
	r->argv[n++] = "--ctl";        r->argv[n++] = r->ctl;
	r->argv[n++] = "--protocol";   r->argv[n++] = (char *)v[P_PROTOCOL].s;
	r->argv[n++] = "--timeout-ms"; r->argv[n++] = r->timeout;
	if (r->log[0]) {
		r->argv[n++] = "--log";
		r->argv[n++] = r->log;
	}
	if (strcmp(v[P_AFTER_SPLIT_BRAIN].s, "none") != 0) { /* older helpers lack the option */
		r->argv[n++] = "--after-split-brain";
		r->argv[n++] = (char *)v[P_AFTER_SPLIT_BRAIN].s;
	}
	return repl_tls_argv(r, v, n);
}
