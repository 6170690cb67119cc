/*
 * tls_ca.h - trusted CA certificates looked up on demand.
 *
 * Instead of parsing a whole CA bundle into memory (the system bundle holds
 * about 140 roots, some 200 KB once parsed), the store keeps only the path
 * of a PEM file or folder. While mbedTLS verifies a chain it asks, for each
 * certificate, which trusted CAs could have issued it (mbedTLS's
 * trusted-certificate callback); the store then streams the PEM text
 * through a fixed line buffer, decodes one certificate at a time into a
 * fixed DER buffer, and parses into the arena only those whose subject is
 * the issuer asked for. Files are read through the port.
 *
 * A certificate in the bundle larger than TLS_CA_DER_MAX, or with a line
 * longer than TLS_PEM_LINE_MAX, cannot be used and is counted as skipped.
 *
 * Which file or folder, when ca_file is not set (tls_ca_find):
 * SSL_CERT_FILE, else SSL_CERT_DIR (OpenSSL's variables; a folder of PEM
 * files, hashed names or any other: every file is read), else the first of
 * the system's usual bundles that exists (tls_ca_system_paths: Debian,
 * Ubuntu, Alpine, Arch; Fedora, RHEL; openSUSE; ...; OpenWrt's folder).
 */
#ifndef COUNTLY_SYNC_TLS_CA_H
#define COUNTLY_SYNC_TLS_CA_H

#include <stddef.h>
#include <stdint.h>

#include "mbedtls/x509_crt.h"
#include "options.h"

typedef enum {
    TLS_CA_OK = 0,
    TLS_CA_ERR_PATH_LONG, /* path longer than TLS_PATH_MAX */
    TLS_CA_ERR_NOT_FOUND, /* the file or folder does not exist */
    TLS_CA_ERR_READ,      /* the file or folder cannot be read */
    TLS_CA_ERR_EMPTY,     /* no PEM certificate in it */
    TLS_CA_ERR_NONE_FOUND /* tls_ca_find: no variable set, no system bundle exists */
} tls_ca_status;

/* How tls_ca_find asks the system (the port, or a test's fakes). */
typedef struct {
    const char *(*getenv)(const char *name); /* NULL or "": unset */
    int (*exists)(const char *path);         /* 1 when path is a file or folder */
} tls_ca_system;

/* The system bundles tried in order, and how many there are. */
extern const char *const tls_ca_system_paths[];
extern const size_t tls_ca_system_path_count;

typedef struct {
    char path[TLS_PATH_MAX];
    int is_dir;
    unsigned long certs_seen;    /* certificates parsed by the last scan */
    unsigned long certs_skipped; /* blocks too large or not certificates */
    /* scanner state, one certificate at a time */
    int in_cert;
    int line_overflow;
    int cert_overflow;
    size_t line_len;
    char line[TLS_PEM_LINE_MAX + 1];
    /* the certificate, decoded line by line: whole base64 quanta go to der,
     * a line's last 1-3 characters wait in carry for the next line */
    int b64_ended; /* a quantum with '=' padding was decoded: nothing may follow */
    size_t carry_len;
    char carry[4];
    size_t der_len;
    unsigned char der[TLS_CA_DER_MAX];
    uint8_t read_buf[TLS_CA_READ_CHUNK];
    char entry_path[TLS_PATH_MAX];
} tls_ca_store;

/* Words for a status. */
const char *tls_ca_strerror(tls_ca_status status);

/* Finds the CAs to trust when ca_file is not set: the path into out (cap
 * bytes), where it came from into *source ("SSL_CERT_FILE",
 * "SSL_CERT_DIR", "system"). A variable that is set is used even if its
 * path does not exist (tls_ca_open then says so). TLS_CA_ERR_NONE_FOUND:
 * detail (detail_cap bytes) names everything tried. */
tls_ca_status tls_ca_find(const tls_ca_system *sys, const char *const *paths, size_t count,
                          char *out, size_t cap, const char **source, char *detail,
                          size_t detail_cap);

/* Points the store at a PEM file or a folder of PEM files and checks that
 * it holds at least one certificate. */
tls_ca_status tls_ca_open(tls_ca_store *store, const char *path);

/* mbedTLS trusted-CA callback (mbedtls_x509_crt_ca_cb_t): sets *candidates
 * to the CAs whose subject equals child's issuer (NULL when none). */
int tls_ca_lookup(void *store, mbedtls_x509_crt const *child, mbedtls_x509_crt **candidates);

#endif /* COUNTLY_SYNC_TLS_CA_H */
