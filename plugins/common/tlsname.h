/*
 * The certificate naming rule shared by the tls transport and vigil-repld's
 * TLS link (plugins/common, libvgcommon_tls: it needs OpenSSL).
 */
#ifndef VG_COMMON_TLSNAME_H
#define VG_COMMON_TLSNAME_H

#include <openssl/x509.h>

/* 1 when the certificate names `name`: a SAN DNS name or the subject CN, exactly; else 0. */
int vgc_tls_cert_names(X509 *x, const char *name);

#endif
