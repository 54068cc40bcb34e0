/* The certificate naming rule (see tlsname.h). */
#include "tlsname.h"

#include <string.h>

#include <openssl/x509v3.h>

static int asn1_is(const ASN1_STRING *s, const char *name, size_t nlen)
{
	return (size_t)ASN1_STRING_length(s) == nlen && !memcmp(ASN1_STRING_get0_data(s), name, nlen);
}

int vgc_tls_cert_names(X509 *x, const char *name)
{
	size_t nlen = strlen(name);
	GENERAL_NAMES *gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	X509_NAME *subj = X509_get_subject_name(x);
	int i, found = 0;

	for (i = 0; gens && i < sk_GENERAL_NAME_num(gens) && !found; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		found = g->type == GEN_DNS && asn1_is(g->d.dNSName, name, nlen);
	}
	GENERAL_NAMES_free(gens);
	for (i = -1; !found && (i = X509_NAME_get_index_by_NID(subj, NID_commonName, i)) >= 0;)
		found = asn1_is(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)), name, nlen);
	return found;
}
