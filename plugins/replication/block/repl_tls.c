/*
 * vigil-repld TLS identity: the SSL_CTX built once at start from
 * --tls-cert/--tls-key/--tls-ca (TLS 1.3 only, peer certificate mandatory
 * on both sides), the key file permission check, and the name rule the
 * `tls` transport uses (plugins/transport/tls/tls_ctx.c, same certificates
 * from scripts/vigil-tls-certs): a certificate names a node when its
 * subject CN or one of its SAN DNS names equals the name exactly.  The
 * helper is no plugin and cannot link the transport, hence the copy of
 * those two small functions.
 */
#include "repl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define REPL_TLS_VERIFY_DEPTH 4

/* The reason OpenSSL left last in this thread's queue, or `dflt`. */
const char *repl_tls_err(const char *dflt)
{
	unsigned long e = ERR_peek_last_error();
	const char *s = e ? ERR_reason_error_string(e) : NULL;

	return s ? s : dflt;
}

/* Never prompt for a pass phrase: the helper runs without a terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf; (void)size; (void)rwflag; (void)u;
	return -1;
}

/*
 * Load the private key, refusing a file that group or others may access,
 * as the transport and vigild's key file do: the mode is checked on the
 * opened file, so it is the file actually read.
 */
static int key_load(struct repl *r, const char *path, EVP_PKEY **out)
{
	struct stat st;
	BIO *bio = NULL;
	int fd, rc = -EINVAL;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		repl_log(r, "tls: key %s: %s", path, strerror(errno));
		return rc;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		repl_log(r, "tls: key %s: not a regular file", path);
		goto out;
	}
	if (st.st_mode & (S_IRWXG | S_IRWXO)) {
		repl_log(r, "tls: key %s: group or others may access it (mode %04o); expected 0600 or 0400",
			 path, (unsigned)(st.st_mode & 07777));
		rc = -EPERM;
		goto out;
	}
	bio = BIO_new_fd(fd, BIO_NOCLOSE);
	*out = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
	if (!*out) {
		repl_log(r, "tls: key %s: not a PEM private key without pass phrase (%s)", path,
			 repl_tls_err("unreadable"));
		goto out;
	}
	rc = 0;
out:
	BIO_free(bio);
	close(fd);
	ERR_clear_error();
	return rc;
}

/* The CN of a name (subject or issuer) as printable ASCII, for log lines. */
void repl_tls_name_cn(X509_NAME *n, char *buf, size_t len)
{
	int i = n ? X509_NAME_get_index_by_NID(n, NID_commonName, -1) : -1;
	const unsigned char *d;
	size_t k, dl;

	snprintf(buf, len, "(no CN)");
	if (i < 0 || len == 0)
		return;
	d = ASN1_STRING_get0_data(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i)));
	dl = (size_t)ASN1_STRING_length(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i)));
	for (k = 0; k < dl && k + 1 < len; k++)
		buf[k] = d[k] >= 0x20 && d[k] < 0x7f && d[k] != '"' ? (char)d[k] : '?';
	buf[k] = '\0';
}

/* Warn at start when our own certificate would be refused by the peer. */
static void own_cert_check(struct repl *r, SSL_CTX *ctx)
{
	X509 *x = SSL_CTX_get0_certificate(ctx);
	X509_STORE_CTX *sc = X509_STORE_CTX_new();

	if (x && sc && X509_STORE_CTX_init(sc, SSL_CTX_get_cert_store(ctx), x, NULL) == 1 &&
	    X509_verify_cert(sc) != 1)
		repl_log(r, "tls: warning: our certificate %s does not verify against %s: %s; the peer will refuse it",
			 r->conf.tls_cert, r->conf.tls_ca,
			 X509_verify_cert_error_string(X509_STORE_CTX_get_error(sc)));
	X509_STORE_CTX_free(sc);
	ERR_clear_error();
}

/*
 * TLS 1.3 only, the peer's certificate mandatory (SSL_VERIFY_FAIL_IF_NO_PEER_CERT
 * matters on the accepting side), no session tickets nor resumption: after
 * the handshake nothing but application data flows, which repl_link.c
 * relies on (a readable socket means a record of ours).  Partial writes: a
 * large DATA payload leaves SSL_write record by record, so the receiving
 * thread gets the SSL object between records.
 */
static int ctx_settings(struct repl *r, SSL_CTX *ctx)
{
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {
		repl_log(r, "tls: this OpenSSL cannot restrict itself to TLS 1.3");
		return -ENOTSUP;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, REPL_TLS_VERIFY_DEPTH);
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return 0;
}

static int ctx_files(struct repl *r, SSL_CTX *ctx)
{
	const struct repl_conf *c = &r->conf;
	EVP_PKEY *pkey = NULL;
	int rc = -EINVAL;

	if (SSL_CTX_load_verify_locations(ctx, c->tls_ca, NULL) != 1) {
		repl_log(r, "tls: ca %s: cannot load: %s", c->tls_ca, repl_tls_err("no certificate"));
		goto out;
	}
	SSL_CTX_set_client_CA_list(ctx, SSL_load_client_CA_file(c->tls_ca));
	if (SSL_CTX_use_certificate_chain_file(ctx, c->tls_cert) != 1) {
		repl_log(r, "tls: cert %s: cannot load: %s", c->tls_cert,
			 repl_tls_err("no certificate"));
		goto out;
	}
	rc = key_load(r, c->tls_key, &pkey);
	if (rc < 0)
		goto out;
	rc = -EINVAL;
	if (SSL_CTX_use_PrivateKey(ctx, pkey) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
		repl_log(r, "tls: key %s does not match the certificate %s", c->tls_key, c->tls_cert);
		goto out;
	}
	own_cert_check(r, ctx);
	rc = 0;
out:
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return rc;
}

/* At start: r->tls_ctx from --tls-*, or NULL (plain TCP) without them.  0 or -errno, logged. */
int repl_tls_setup(struct repl *r)
{
	SSL_CTX *ctx;
	int rc;

	r->tls_ctx = NULL;
	if (!r->conf.tls_cert)
		return 0;
	ctx = SSL_CTX_new(TLS_method());
	if (!ctx) {
		repl_log(r, "tls: SSL_CTX_new: %s", repl_tls_err("out of memory"));
		return -ENOMEM;
	}
	rc = ctx_settings(r, ctx);
	if (rc == 0)
		rc = ctx_files(r, ctx);
	if (rc < 0) {
		SSL_CTX_free(ctx);
		return rc;
	}
	r->tls_ctx = ctx;
	repl_log(r, "tls: certificate %s, CA %s, the peer's certificate must name \"%s\"",
		 r->conf.tls_cert, r->conf.tls_ca, r->conf.tls_peer_name);
	return 0;
}
