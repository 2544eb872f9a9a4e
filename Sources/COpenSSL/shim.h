#ifndef ASSAY_COPENSSL_SHIM_H
#define ASSAY_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/bio.h>

// Macros Swift cannot import, as functions.

static inline int assay_ssl_ctx_set_min_tls12(SSL_CTX *ctx) {
    return (int)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
}

// No renegotiation (a TLS 1.2 feature with a history of attacks, and a read inside a write),
// no session cache or tickets (clients do not resume), and buffers that may move between
// SSL_write retries (our plaintext buffers are Swift arrays).
static inline void assay_ssl_ctx_harden(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_num_tickets(ctx, 0);
}

static inline int assay_no_password(char *buf, int size, int rwflag, void *userdata) {
    (void)buf; (void)size; (void)rwflag; (void)userdata;
    return -1;
}

// An encrypted key fails to load instead of OpenSSL prompting on the terminal.
static inline void assay_ssl_ctx_no_password_prompt(SSL_CTX *ctx) {
    SSL_CTX_set_default_passwd_cb(ctx, assay_no_password);
}

static inline int assay_ssl_set_server_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

static inline void assay_openssl_free(void *p) { OPENSSL_free(p); }

static inline int assay_verify_peer(void) { return SSL_VERIFY_PEER; }
static inline int assay_verify_peer_required(void) { return SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT; }

// Whether the error's data field holds text worth showing (OpenSSL's "SSL alert number 48").
static inline int assay_err_has_text(int flags) { return (flags & ERR_TXT_STRING) != 0; }

// The certificate's serial number as upper-case hex (free with assay_openssl_free), or NULL.
static inline char *assay_x509_serial_hex(X509 *cert) {
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
    if (bn == NULL) return NULL;
    char *hex = BN_bn2hex(bn);
    BN_free(bn);
    return hex;
}

// A name in RFC 2253 form ("CN=worker,O=Assay") into buf; returns its length, or -1.
static inline int assay_x509_name_text(const X509_NAME *name, char *buf, int size) {
    BIO *bio = BIO_new(BIO_s_mem());
    if (bio == NULL) return -1;
    int rc = X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
    int n = -1;
    if (rc >= 0) {
        n = BIO_read(bio, buf, size - 1);
        if (n < 0) n = 0;
        buf[n] = 0;
    }
    BIO_free(bio);
    return n;
}
#endif
