/*
 * tls_ca.c - on-demand trusted CA lookup over PEM files (see tls_ca.h).
 */
#include "tls_ca.h"

#include <string.h>

#include "mbedtls/base64.h"
#include "mbedtls/platform.h"
#include "port.h"

static const char PEM_BEGIN[] = "-----BEGIN CERTIFICATE-----";
static const char PEM_END[] = "-----END CERTIFICATE-----";

/* What to do with each decoded certificate during one scan. */
typedef struct {
    const mbedtls_x509_buf *issuer; /* NULL: only count certificates */
    mbedtls_x509_crt *found;        /* candidate chain, allocated on first match */
    int failed;                     /* allocation failure: stop */
} ca_scan;

const char *tls_ca_strerror(tls_ca_status status)
{
    switch (status) {
    case TLS_CA_OK:
        return "ok";
    case TLS_CA_ERR_PATH_LONG:
        return "CA path longer than TLS_PATH_MAX";
    case TLS_CA_ERR_NOT_FOUND:
        return "CA file or folder not found";
    case TLS_CA_ERR_READ:
        return "CA file or folder cannot be read";
    case TLS_CA_ERR_EMPTY:
        return "no PEM certificate found in the CA file or folder";
    case TLS_CA_ERR_NONE_FOUND:
        return "no trusted CA bundle found on this system";
    }
    return "unknown CA store status";
}

/* Adds one matching DER certificate to the candidate chain. */
static void keep_candidate(ca_scan *scan, const unsigned char *der, size_t len)
{
    if (scan->found == NULL) {
        scan->found = mbedtls_calloc(1, sizeof(mbedtls_x509_crt));
        if (scan->found == NULL) {
            scan->failed = 1;
            return;
        }
        mbedtls_x509_crt_init(scan->found);
    }
    if (mbedtls_x509_crt_parse_der(scan->found, der, len) != 0)
        scan->failed = 1;
}

/* Decodes one line of a certificate's base64 text onto store->der: the
 * whole quanta of the carried characters and the line, the rest carried to
 * the next line. Padding ends the text; anything after it, bad base64 or a
 * certificate over TLS_CA_DER_MAX marks it cert_overflow (skipped). */
static void add_base64(tls_ca_store *store, const char *text, size_t len)
{
    char chunk[sizeof store->carry + TLS_PEM_LINE_MAX];
    size_t n = store->carry_len;
    memcpy(chunk, store->carry, n);
    memcpy(chunk + n, text, len);
    n += len;
    size_t whole = n - n % 4;
    size_t out = 0;
    if (whole > 0 &&
        (store->b64_ended ||
         mbedtls_base64_decode(store->der + store->der_len, sizeof store->der - store->der_len,
                               &out, (const unsigned char *)chunk, whole) != 0)) {
        store->cert_overflow = 1;
        return;
    }
    store->der_len += out;
    store->b64_ended |= whole > 0 && chunk[whole - 1] == '=';
    store->carry_len = n - whole;
    memcpy(store->carry, chunk + whole, store->carry_len);
}

/* Checks the decoded certificate's subject (a text that ended between
 * quanta is not base64). */
static void finish_cert(tls_ca_store *store, ca_scan *scan)
{
    size_t der_len = store->der_len;
    if (store->cert_overflow || store->carry_len != 0) {
        store->certs_skipped++;
        return;
    }
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    if (mbedtls_x509_crt_parse_der_nocopy(&crt, store->der, der_len) != 0) {
        store->certs_skipped++;
    } else {
        store->certs_seen++;
        if (scan->issuer != NULL && crt.subject_raw.len == scan->issuer->len &&
            memcmp(crt.subject_raw.p, scan->issuer->p, scan->issuer->len) == 0)
            keep_candidate(scan, store->der, der_len);
    }
    mbedtls_x509_crt_free(&crt);
}

/* Handles one complete line of PEM text. */
static void scan_line(tls_ca_store *store, ca_scan *scan)
{
    const char *line = store->line;
    size_t len = store->line_len;
    while (len > 0 && (line[len - 1] == '\r' || line[len - 1] == ' '))
        len--;
    if (store->line_overflow) {
        store->cert_overflow |= store->in_cert;
        return;
    }
    if (!store->in_cert) {
        if (len == sizeof PEM_BEGIN - 1 && memcmp(line, PEM_BEGIN, len) == 0) {
            store->in_cert = 1;
            store->cert_overflow = 0;
            store->b64_ended = 0;
            store->carry_len = 0;
            store->der_len = 0;
        }
        return;
    }
    if (len == sizeof PEM_END - 1 && memcmp(line, PEM_END, len) == 0) {
        store->in_cert = 0;
        finish_cert(store, scan);
        return;
    }
    if (!store->cert_overflow)
        add_base64(store, line, len);
}

/* Feeds raw file bytes to the line splitter. */
static void scan_bytes(tls_ca_store *store, ca_scan *scan, const uint8_t *data, size_t len)
{
    for (size_t i = 0; i < len && !scan->failed; i++) {
        if (data[i] == '\n') {
            scan_line(store, scan);
            store->line_len = 0;
            store->line_overflow = 0;
        } else if (store->line_len < TLS_PEM_LINE_MAX ||
                   (data[i] == '\r' && store->line_len == TLS_PEM_LINE_MAX)) {
            store->line[store->line_len++] = (char)data[i];
        } else {
            store->line_overflow = 1;
        }
    }
}

/* Scans one PEM file. */
static tls_ca_status scan_file(tls_ca_store *store, ca_scan *scan, const char *path)
{
    port_file file;
    port_file_init(&file);
    port_status st = port_file_open(&file, path, PORT_FILE_READ);
    if (st != PORT_OK)
        return st == PORT_ERR_NOENT ? TLS_CA_ERR_NOT_FOUND : TLS_CA_ERR_READ;
    store->in_cert = 0;
    store->line_len = 0;
    store->line_overflow = 0;
    for (;;) {
        size_t got = 0;
        st = port_file_read(&file, store->read_buf, sizeof store->read_buf, &got);
        if (st != PORT_OK || got == 0 || scan->failed)
            break;
        scan_bytes(store, scan, store->read_buf, got);
    }
    if (st == PORT_OK && store->line_len > 0)
        scan_line(store, scan); /* last line without a newline */
    (void)port_file_close(&file);
    return st == PORT_OK ? TLS_CA_OK : TLS_CA_ERR_READ;
}

/* Scans every regular file of the store's folder. */
static tls_ca_status scan_dir(tls_ca_store *store, ca_scan *scan)
{
    port_dir dir;
    char name[256];
    if (port_dir_open(&dir, store->path) != PORT_OK)
        return TLS_CA_ERR_READ;
    size_t base = strlen(store->path);
    while (!scan->failed && port_dir_next(&dir, name, sizeof name) == PORT_OK) {
        size_t nlen = strlen(name);
        int is_dir = 0;
        if (base + 1 + nlen + 1 > sizeof store->entry_path)
            continue;
        memcpy(store->entry_path, store->path, base);
        store->entry_path[base] = '/';
        memcpy(store->entry_path + base + 1, name, nlen + 1);
        if (port_path_stat(store->entry_path, &is_dir, NULL) != PORT_OK || is_dir)
            continue;
        (void)scan_file(store, scan, store->entry_path);
    }
    port_dir_close(&dir);
    return TLS_CA_OK;
}

static tls_ca_status scan_store(tls_ca_store *store, ca_scan *scan)
{
    store->certs_seen = 0;
    store->certs_skipped = 0;
    return store->is_dir ? scan_dir(store, scan) : scan_file(store, scan, store->path);
}

tls_ca_status tls_ca_open(tls_ca_store *store, const char *path)
{
    size_t len = strlen(path);
    int is_dir = 0;
    if (len + 1 > sizeof store->path)
        return TLS_CA_ERR_PATH_LONG;
    port_status st = port_path_stat(path, &is_dir, NULL);
    if (st != PORT_OK)
        return st == PORT_ERR_NOENT ? TLS_CA_ERR_NOT_FOUND : TLS_CA_ERR_READ;
    memcpy(store->path, path, len + 1);
    while (len > 1 && store->path[len - 1] == '/')
        store->path[--len] = '\0';
    store->is_dir = is_dir;

    ca_scan scan = {NULL, NULL, 0};
    tls_ca_status cs = scan_store(store, &scan);
    if (cs != TLS_CA_OK)
        return cs;
    return store->certs_seen > 0 ? TLS_CA_OK : TLS_CA_ERR_EMPTY;
}

int tls_ca_lookup(void *ctx, mbedtls_x509_crt const *child, mbedtls_x509_crt **candidates)
{
    tls_ca_store *store = ctx;
    ca_scan scan = {&child->issuer_raw, NULL, 0};
    *candidates = NULL;
    (void)scan_store(store, &scan);
    if (scan.failed) {
        if (scan.found != NULL) {
            mbedtls_x509_crt_free(scan.found);
            mbedtls_free(scan.found);
        }
        return MBEDTLS_ERR_X509_ALLOC_FAILED;
    }
    *candidates = scan.found;
    return 0;
}

/* ---- which CAs, when ca_file is not set ------------------------------------------ */

const char *const tls_ca_system_paths[] = {
    "/etc/ssl/certs/ca-certificates.crt",                /* Debian, Ubuntu, Alpine, Arch */
    "/etc/pki/tls/certs/ca-bundle.crt",                  /* Fedora, RHEL */
    "/etc/ssl/ca-bundle.pem",                            /* openSUSE */
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", /* RHEL, CentOS */
    "/etc/ssl/cert.pem",                                 /* Alpine, macOS, BSDs */
    "/etc/ssl/certs/",                                   /* a folder of PEM files: OpenWrt */
};
const size_t tls_ca_system_path_count = sizeof tls_ca_system_paths / sizeof tls_ca_system_paths[0];

/* Copies len bytes of path into out; PATH_LONG when it does not fit. */
static tls_ca_status take_path(const char *path, size_t len, char *out, size_t cap)
{
    if (len + 1 > cap || len + 1 > TLS_PATH_MAX)
        return TLS_CA_ERR_PATH_LONG;
    memcpy(out, path, len);
    out[len] = '\0';
    return TLS_CA_OK;
}

/* SSL_CERT_DIR may list folders separated by ':' (as OpenSSL reads it):
 * the first that exists, else the first. */
static tls_ca_status take_dir_list(const tls_ca_system *sys, const char *list, char *out,
                                   size_t cap)
{
    for (const char *p = list; *p != '\0';) {
        size_t len = strcspn(p, ":");
        if (len > 0 && take_path(p, len, out, cap) == TLS_CA_OK && sys->exists(out))
            return TLS_CA_OK;
        p += len + (p[len] == ':');
    }
    return take_path(list, strcspn(list, ":"), out, cap);
}

/* The "nothing found" line: every place looked at. */
static void describe_search(const char *const *paths, size_t count, char *detail, size_t cap)
{
    size_t len = 0;
    int n = snprintf(detail, cap,
                     "no trusted CAs found: SSL_CERT_FILE and SSL_CERT_DIR are not set, and none "
                     "of these exists:");
    for (size_t i = 0; n > 0 && i < count; i++) {
        len += (size_t)n;
        if (len >= cap)
            return;
        n = snprintf(detail + len, cap - len, " %s", paths[i]);
    }
}

tls_ca_status tls_ca_find(const tls_ca_system *sys, const char *const *paths, size_t count,
                          char *out, size_t cap, const char **source, char *detail,
                          size_t detail_cap)
{
    const char *file = sys->getenv("SSL_CERT_FILE");
    const char *dir = sys->getenv("SSL_CERT_DIR");
    detail[0] = '\0';
    if (file != NULL && file[0] != '\0') {
        *source = "SSL_CERT_FILE";
        return take_path(file, strlen(file), out, cap);
    }
    if (dir != NULL && dir[0] != '\0' && dir[strspn(dir, ":")] != '\0') {
        *source = "SSL_CERT_DIR";
        return take_dir_list(sys, dir + strspn(dir, ":"), out, cap);
    }
    *source = "system";
    for (size_t i = 0; i < count; i++)
        if (sys->exists(paths[i]))
            return take_path(paths[i], strlen(paths[i]), out, cap);
    describe_search(paths, count, detail, detail_cap);
    return TLS_CA_ERR_NONE_FOUND;
}
