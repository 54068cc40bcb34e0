/*
 * tls — the OpenSSL side: the instance's SSL_CTX (TLS 1.3 only, mutual
 * authentication against the cluster CA), the certificate and key files
 * ("%n" templates, key file permissions), and the identity check every
 * connection passes after its handshake: the certificate must name the node
 * (subject CN or a SAN DNS name) and the connection must come from, or go
 * to, that node's address on this link.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "tls.h"

#define TLS_VERIFY_DEPTH 4

/*
 * Expand a file template: "%n" is the local node's name, "%%" a '%'.
 * Any other '%' sequence is refused.  Returns 0, -EINVAL or -ENAMETOOLONG.
 */
static int tls_path_expand(const char *tmpl, const char *node, char *buf, size_t len)
{
	size_t o = 0, n;
	const char *add;

	for (; *tmpl; tmpl++) {
		add = NULL;
		n = 1;
		if (*tmpl == '%') {
			tmpl++;
			if (*tmpl == 'n')
				add = node;
			else if (*tmpl == '%')
				add = "%";
			else
				return -EINVAL;
			n = strlen(add);
		}
		if (o + n >= len)
			return -ENAMETOOLONG;
		memcpy(buf + o, add ? add : tmpl, n);
		o += n;
	}
	buf[o] = '\0';
	return 0;
}

/* Expand the template of parameter `name` into buf, logging a refusal. */
static int tls_param_path(struct tls *t, const char *name, const char *tmpl, char *buf, size_t len)
{
	int ret = tls_path_expand(tmpl, t->local_name, buf, len);

	if (ret == -EINVAL)
		vg_err(t->host, "tls: %s \"%s\": only %%n (the node name) and %%%% may follow a %%",
		       name, tmpl);
	else if (ret < 0)
		vg_err(t->host, "tls: %s \"%s\": path too long once expanded", name, tmpl);
	return ret;
}

/* Never prompt for a pass phrase: that would block the loop on a tty. */
static int tls_no_passphrase(char *buf, int size, int rwflag, void *u)
{
	return -1;
}

/*
 * Load the private key, refusing a file that group or others may access:
 * the mode is checked on the opened file, so it is the file actually read.
 */
static int tls_key_load(struct tls *t, const char *path, EVP_PKEY **out)
{
	struct stat st;
	BIO *bio = NULL;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		vg_err(t->host, "tls: key %s: %s", path, strerror(errno));
		return ret;
	}
	ret = -EINVAL;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		vg_err(t->host, "tls: key %s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		vg_err(t->host, "tls: key %s: group or others may access it (mode %04o); expected 0600 or 0400",
		       path, (unsigned)(st.st_mode & 07777));
		ret = -EPERM;
		goto out;
	}
	bio = BIO_new_fd(fd, BIO_NOCLOSE);
	*out = bio ? PEM_read_bio_PrivateKey(bio, NULL, tls_no_passphrase, NULL) : NULL;
	if (!*out) {
		vg_err(t->host, "tls: key %s: not a PEM private key without pass phrase (%s)",
		       path, ERR_reason_error_string(ERR_peek_last_error()));
		goto out;
	}
	ret = 0;
out:
	BIO_free(bio);
	close(fd);
	ERR_clear_error();
	return ret;
}

/* Copy printable ASCII of an ASN.1 string; anything else becomes '?'. */
static void tls_asn1_text(const ASN1_STRING *s, char *buf, size_t len)
{
	const unsigned char *d = ASN1_STRING_get0_data(s);
	size_t n = (size_t)ASN1_STRING_length(s), i;

	if (n >= len)
		n = len - 1;
	for (i = 0; i < n; i++)
		buf[i] = d[i] >= 0x20 && d[i] < 0x7f && d[i] != '"' ? (char)d[i] : '?';
	buf[n] = '\0';
}

/* The name a log line quotes: the subject CN, else the first SAN DNS name. */
void tls_cert_first_name(X509 *x, char *buf, size_t len)
{
	X509_NAME *subj = X509_get_subject_name(x);
	GENERAL_NAMES *gens;
	int i;

	snprintf(buf, len, "(no name)");
	i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
	if (i >= 0) {
		tls_asn1_text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)), buf, len);
		return;
	}
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (i = 0; gens && i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_DNS) {
			tls_asn1_text(g->d.dNSName, buf, len);
			break;
		}
	}
	GENERAL_NAMES_free(gens);
}

/* Why an SSL call failed, in words; clears OpenSSL's error queue. */
void tls_ssl_reason(SSL *ssl, int ssl_err, int ret, char *buf, size_t len)
{
	long vr = SSL_get_verify_result(ssl);
	unsigned long e = ERR_peek_last_error();
	int saved = errno;

	if (vr != X509_V_OK)
		snprintf(buf, len, "certificate verify failed: %s", X509_verify_cert_error_string(vr));
	else if (ssl_err == SSL_ERROR_ZERO_RETURN)
		snprintf(buf, len, "closed by the peer");
	else if (ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING)
		snprintf(buf, len, "end of stream without TLS close (peer stopped or crashed)");
	else if (e && ERR_reason_error_string(e))
		snprintf(buf, len, "%s", ERR_reason_error_string(e));
	else if (ssl_err == SSL_ERROR_SYSCALL && ret != 0 && saved)
		snprintf(buf, len, "%s", strerror(saved));
	else if (ssl_err == SSL_ERROR_SYSCALL)
		snprintf(buf, len, "closed by the peer (end of stream)");
	else
		snprintf(buf, len, "TLS error %d", ssl_err);
	ERR_clear_error();
}

/* Warn when our own certificate does not verify or does not name us. */
static void tls_own_cert_check(struct tls *t, const char *path)
{
	X509 *x = SSL_CTX_get0_certificate(t->ctx);
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	char name[64];

	if (!x || !sc)
		goto out;
	if (X509_STORE_CTX_init(sc, SSL_CTX_get_cert_store(t->ctx), x, NULL) == 1 &&
	    X509_verify_cert(sc) != 1)
		vg_warn(t->host, "tls: our certificate %s does not verify against the CA: %s; peers will refuse it",
			path, X509_verify_cert_error_string(X509_STORE_CTX_get_error(sc)));
	if (!vgc_tls_cert_names(x, t->local_name)) {
		tls_cert_first_name(x, name, sizeof(name));
		vg_warn(t->host, "tls: our certificate %s names \"%s\", not this node \"%s\"; peers will refuse it",
			path, name, t->local_name);
	}
out:
	X509_STORE_CTX_free(sc);
	ERR_clear_error();
}

/* TLS 1.3 only, peer certificate mandatory, no tickets, partial writes. */
static int tls_ctx_settings(struct tls *t)
{
	if (SSL_CTX_set_min_proto_version(t->ctx, TLS1_3_VERSION) != 1) {
		vg_err(t->host, "tls: this OpenSSL cannot restrict itself to TLS 1.3");
		return -ENOTSUP;
	}
	SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(t->ctx, TLS_VERIFY_DEPTH);
	SSL_CTX_set_num_tickets(t->ctx, 0);
	SSL_CTX_set_session_cache_mode(t->ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(t->ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
				 SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return 0;
}

/* CA, certificate chain and key into t->ctx; paths already expanded. */
static int tls_ctx_files(struct tls *t, const char *ca, const char *cert, const char *key)
{
	EVP_PKEY *pkey = NULL;
	int ret = -EINVAL;

	if (SSL_CTX_load_verify_locations(t->ctx, ca, NULL) != 1) {
		vg_err(t->host, "tls: ca %s: cannot load: %s", ca,
		       ERR_reason_error_string(ERR_peek_last_error()));
		goto out;
	}
	SSL_CTX_set_client_CA_list(t->ctx, SSL_load_client_CA_file(ca));
	if (SSL_CTX_use_certificate_chain_file(t->ctx, cert) != 1) {
		vg_err(t->host, "tls: cert %s: cannot load: %s", cert,
		       ERR_reason_error_string(ERR_peek_last_error()));
		goto out;
	}
	ret = tls_key_load(t, key, &pkey);
	if (ret < 0)
		goto out;
	ret = -EINVAL;
	if (SSL_CTX_use_PrivateKey(t->ctx, pkey) != 1 || SSL_CTX_check_private_key(t->ctx) != 1) {
		vg_err(t->host, "tls: key %s does not match the certificate %s", key, cert);
		goto out;
	}
	tls_own_cert_check(t, cert);
	ret = 0;
out:
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return ret;
}

int tls_ctx_open(struct tls *t, const struct vg_instance *inst)
{
	char cert[4096], key[4096];
	int ret;

	ret = tls_param_path(t, "cert", inst->params[P_CERT].s, cert, sizeof(cert));
	if (ret < 0)
		return ret;
	ret = tls_param_path(t, "key", inst->params[P_KEY].s, key, sizeof(key));
	if (ret < 0)
		return ret;
	t->ctx = SSL_CTX_new(TLS_method());
	if (!t->ctx) {
		vg_err(t->host, "tls: SSL_CTX_new: %s", ERR_reason_error_string(ERR_get_error()));
		return -ENOMEM;
	}
	ret = tls_ctx_settings(t);
	if (ret < 0)
		return ret;
	return tls_ctx_files(t, inst->params[P_CA].s, cert, key);
}

/* Inbound: the peers whose address on the link the connection comes from. */
static struct tls_peer *tls_inbound_match(struct tls_conn *c, X509 *x, struct tls_peer **expected)
{
	struct tls *t = c->t;
	size_t i;

	*expected = NULL;
	for (i = 0; i < t->n_peers; i++) {
		struct tls_peer *p = &t->peers[i];

		if (!p->has_addr || !vgc_addr_equal(&p->sa, &c->sa))
			continue;
		if (!*expected)
			*expected = p;
		if (vgc_tls_cert_names(x, p->name))
			return p;
	}
	return NULL;
}

/*
 * After the handshake: does the certificate name the node at the other
 * end?  Outbound, that is the node we dialled.  Inbound, a node whose
 * address on this link is the connection's source, and which has a lower
 * id (only lower ids connect).  Sets c->peer inbound.  On refusal the
 * connection is failed with the reason and -EACCES returned.
 */
int tls_identify(struct tls_conn *c)
{
	X509 *x = SSL_get0_peer_certificate(c->ssl);
	struct tls_peer *p, *expected;
	char name[64];

	/* A refusal is a clean close_notify to the peer; only this side logs why. */
	if (!x) {
		SSL_shutdown(c->ssl);
		tls_conn_fail(c, "refused", "no certificate");
		return -EACCES;
	}
	tls_cert_first_name(x, name, sizeof(name));
	if (c->outbound) {
		if (vgc_tls_cert_names(x, c->peer->name))
			return 0;
		SSL_shutdown(c->ssl);
		tls_conn_fail(c, "refused", "certificate names \"%s\", expected \"%s\"",
			      name, c->peer->name);
		return -EACCES;
	}
	p = tls_inbound_match(c, x, &expected);
	if (!p && expected) {
		SSL_shutdown(c->ssl);
		tls_conn_fail(c, "refused", "certificate names \"%s\", expected \"%s\"",
			      name, expected->name);
		return -EACCES;
	}
	if (!p) {
		SSL_shutdown(c->ssl);
		tls_conn_fail(c, "refused", "not the address of a node on this link");
		return -EACCES;
	}
	if (p->outbound) {
		SSL_shutdown(c->ssl);
		tls_conn_fail(c, "refused", "node \"%s\" has a higher id than ours: it waits for our connection",
			      p->name);
		return -EACCES;
	}
	c->peer = p;
	return 0;
}
