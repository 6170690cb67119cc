/*
 * tls.c - mbedTLS client over the port layer (see tls.h).
 *
 * The socket calls under mbedTLS (the "bio" callbacks) block in the port
 * with the current timeout and record why they failed in bio_status, so a
 * failed handshake or read is reported as what really happened (timeout,
 * reset, closed) rather than as an opaque mbedTLS code.
 */
#include "tls.h"

#include <stdio.h>
#include <string.h>

#include "mbedtls/error.h"
#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/platform.h"
#include "mbedtls/psa_util.h"
#include "mbedtls/x509_crt.h"
#include "psa/crypto.h"

/* PSA's random generator draws from the port (MBEDTLS_PSA_CRYPTO_EXTERNAL_RNG). */
psa_status_t mbedtls_psa_external_get_random(mbedtls_psa_external_random_context_t *context,
                                             uint8_t *output, size_t output_size,
                                             size_t *output_length)
{
    (void)context;
    if (port_entropy(output, output_size) != PORT_OK) {
        *output_length = 0;
        return PSA_ERROR_INSUFFICIENT_ENTROPY;
    }
    *output_length = output_size;
    return PSA_SUCCESS;
}

const char *tls_strerror(tls_status status)
{
    switch (status) {
    case TLS_OK:
        return "ok";
    case TLS_ERR_PLATFORM:
        return "TLS crypto could not start (no entropy?)";
    case TLS_ERR_CONFIG:
        return "TLS configuration refused by mbedTLS";
    case TLS_ERR_CA_PATH:
        return "trusted CA file or folder cannot be used";
    case TLS_ERR_VERSION:
        return "unsupported TLS version bounds (use 1.2 or 1.3)";
    }
    return "unknown tls status";
}

tls_status tls_platform_init(unsigned char *arena, size_t len)
{
    mbedtls_memory_buffer_alloc_init(arena, len);
    return psa_crypto_init() == PSA_SUCCESS ? TLS_OK : TLS_ERR_PLATFORM;
}

void tls_arena_stats(size_t *peak, size_t *current)
{
    size_t blocks = 0;
    mbedtls_memory_buffer_alloc_max_get(peak, &blocks);
    mbedtls_memory_buffer_alloc_cur_get(current, &blocks);
}

tls_options tls_default_options(void)
{
    tls_options opts;
    opts.ca_path = NULL;
    opts.tunnel = NULL;
    opts.verify = 1;
    opts.min_minor = 2;
    opts.max_minor = 3;
    return opts;
}

/* ---- bio callbacks ------------------------------------------------------------- */

static transport_status status_from_io(port_io_kind kind)
{
    switch (kind) {
    case PORT_IO_DATA:
        return TRANSPORT_OK;
    case PORT_IO_CLOSED:
        return TRANSPORT_CLOSED;
    case PORT_IO_TIMEOUT:
        return TRANSPORT_TIMEOUT;
    case PORT_IO_ERROR:
        break;
    }
    return TRANSPORT_ERR_IO;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    tls_client *c = ctx;
    port_io io = port_net_send(&c->sock, buf, len, c->timeout_ms);
    c->bio_status = status_from_io(io.kind);
    c->bio_os_error = io.os_error;
    if (io.kind == PORT_IO_DATA)
        return (int)io.n;
    return io.kind == PORT_IO_TIMEOUT ? MBEDTLS_ERR_SSL_TIMEOUT : MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    tls_client *c = ctx;
    port_io io = port_net_recv(&c->sock, buf, len, c->timeout_ms);
    c->bio_status = status_from_io(io.kind);
    c->bio_os_error = io.os_error;
    switch (io.kind) {
    case PORT_IO_DATA:
        return (int)io.n;
    case PORT_IO_CLOSED:
        return 0; /* mbedTLS reports end of stream */
    case PORT_IO_TIMEOUT:
        return MBEDTLS_ERR_SSL_TIMEOUT;
    case PORT_IO_ERROR:
        break;
    }
    return MBEDTLS_ERR_SSL_INTERNAL_ERROR;
}

/* Remembers the leaf's first DNS name (or CN) for "name mismatch" messages. */
static int on_verify(void *ctx, mbedtls_x509_crt *crt, int depth, uint32_t *flags)
{
    tls_client *c = ctx;
    (void)flags;
    if (depth != 0)
        return 0;
    c->peer_name[0] = '\0';
    for (const mbedtls_x509_sequence *s = &crt->subject_alt_names; s != NULL; s = s->next) {
        if (s->buf.tag == (MBEDTLS_ASN1_CONTEXT_SPECIFIC | MBEDTLS_X509_SAN_DNS_NAME) &&
            s->buf.len > 0 && s->buf.len < sizeof c->peer_name) {
            memcpy(c->peer_name, s->buf.p, s->buf.len);
            c->peer_name[s->buf.len] = '\0';
            return 0;
        }
    }
    return 0;
}

/* ---- setup ------------------------------------------------------------------------ */

static int minor_to_version(int minor, mbedtls_ssl_protocol_version *out)
{
    if (minor == 2)
        *out = MBEDTLS_SSL_VERSION_TLS1_2;
    else if (minor == 3)
        *out = MBEDTLS_SSL_VERSION_TLS1_3;
    else
        return -1;
    return 0;
}

/* A build whose input record buffer is smaller than TLS's 16 KiB asks the
 * server for records that fit (RFC 6066 max_fragment_length; the length
 * may not exceed the output buffer either). mbedTLS 3.6
 * offers that extension only in TLS 1.2, so such builds stay on TLS 1.2;
 * the server must honour it (OpenSSL, nginx and Python's ssl do). */
static tls_status limit_record_size(tls_client *c, mbedtls_ssl_protocol_version *hi)
{
#if MBEDTLS_SSL_IN_CONTENT_LEN < 16384
    size_t room = MBEDTLS_SSL_IN_CONTENT_LEN < MBEDTLS_SSL_OUT_CONTENT_LEN
                      ? MBEDTLS_SSL_IN_CONTENT_LEN
                      : MBEDTLS_SSL_OUT_CONTENT_LEN;
    unsigned char code = room >= 4096   ? MBEDTLS_SSL_MAX_FRAG_LEN_4096
                         : room >= 2048 ? MBEDTLS_SSL_MAX_FRAG_LEN_2048
                         : room >= 1024 ? MBEDTLS_SSL_MAX_FRAG_LEN_1024
                                        : MBEDTLS_SSL_MAX_FRAG_LEN_512;
    if (mbedtls_ssl_conf_max_frag_len(&c->conf, code) != 0)
        return TLS_ERR_CONFIG;
    *hi = MBEDTLS_SSL_VERSION_TLS1_2;
#else
    (void)c;
    (void)hi;
#endif
    return TLS_OK;
}

static tls_status configure(tls_client *c, const tls_options *opts)
{
    mbedtls_ssl_protocol_version lo;
    mbedtls_ssl_protocol_version hi;
    if (minor_to_version(opts->min_minor, &lo) != 0 ||
        minor_to_version(opts->max_minor, &hi) != 0 || lo > hi)
        return TLS_ERR_VERSION;
    if (mbedtls_ssl_config_defaults(&c->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT) != 0)
        return TLS_ERR_CONFIG;
    if (limit_record_size(c, &hi) != TLS_OK || lo > hi)
        return TLS_ERR_CONFIG;
    mbedtls_ssl_conf_min_tls_version(&c->conf, lo);
    mbedtls_ssl_conf_max_tls_version(&c->conf, hi);
    mbedtls_ssl_conf_rng(&c->conf, mbedtls_psa_get_random, MBEDTLS_PSA_RANDOM_STATE);
    mbedtls_ssl_conf_authmode(&c->conf,
                              c->verify ? MBEDTLS_SSL_VERIFY_REQUIRED : MBEDTLS_SSL_VERIFY_NONE);
    mbedtls_ssl_conf_ca_cb(&c->conf, tls_ca_lookup, &c->ca);
    mbedtls_ssl_conf_verify(&c->conf, on_verify, c);
    if (mbedtls_ssl_setup(&c->ssl, &c->conf) != 0)
        return TLS_ERR_CONFIG;
    mbedtls_ssl_set_bio(&c->ssl, c, bio_send, bio_recv, NULL);
    return TLS_OK;
}

/* tls_ca_find's view of the system: the port's environment and files. */
static int ca_path_exists(const char *path)
{
    int is_dir = 0;
    return port_path_stat(path, &is_dir, NULL) == PORT_OK;
}

/* Opens the trusted CAs: ca_path, else what tls_ca_find finds. */
static tls_status open_cas(tls_client *c, const char *ca_path)
{
    static const tls_ca_system sys = {port_getenv, ca_path_exists};
    char found[TLS_PATH_MAX];
    const char *source = "ca_file";
    tls_ca_status cs = TLS_CA_OK;
    found[0] = '\0';
    if (ca_path == NULL) {
        cs = tls_ca_find(&sys, tls_ca_system_paths, tls_ca_system_path_count, found, sizeof found,
                         &source, c->detail, sizeof c->detail);
        ca_path = found;
    }
    if (cs == TLS_CA_ERR_NONE_FOUND)
        return TLS_ERR_CA_PATH; /* the detail lists what was tried */
    if (cs == TLS_CA_OK)
        cs = tls_ca_open(&c->ca, ca_path);
    c->ca_source = source;
    if (cs == TLS_CA_OK)
        return TLS_OK;
    if (strcmp(source, "SSL_CERT_FILE") == 0 || strcmp(source, "SSL_CERT_DIR") == 0)
        (void)snprintf(c->detail, sizeof c->detail, "%s=%s: %s", source, ca_path,
                       tls_ca_strerror(cs));
    else
        (void)snprintf(c->detail, sizeof c->detail, "%s: %s", ca_path, tls_ca_strerror(cs));
    return TLS_ERR_CA_PATH;
}

tls_status tls_init(tls_client *c, const tls_options *opts)
{
    memset(c, 0, sizeof *c);
    port_socket_init(&c->sock);
    mbedtls_ssl_init(&c->ssl);
    mbedtls_ssl_config_init(&c->conf);
    c->verify = opts->verify;
    c->tunnel = opts->tunnel;
    c->timeout_ms = TLS_DEFAULT_TIMEOUT_MS;
    if (c->verify) {
        tls_status ts = open_cas(c, opts->ca_path);
        if (ts != TLS_OK)
            return ts;
    }
    return configure(c, opts);
}

void tls_free(tls_client *c)
{
    port_net_close(&c->sock);
    mbedtls_ssl_free(&c->ssl);
    mbedtls_ssl_config_free(&c->conf);
}

/* ---- failure descriptions ------------------------------------------------------------- */

/* Appends ", " (when needed) and word to the detail buffer. */
static void add_word(char *buf, size_t cap, const char *word)
{
    size_t len = strlen(buf);
    (void)snprintf(buf + len, cap - len, "%s%s", len > 0 ? ", " : "", word);
}

/* Words for mbedTLS verification flags ("expired, name mismatch"). */
static void describe_flags(const tls_client *c, uint32_t flags, char *out, size_t cap)
{
    out[0] = '\0';
    if (flags & MBEDTLS_X509_BADCERT_EXPIRED)
        add_word(out, cap, "expired");
    if (flags & MBEDTLS_X509_BADCERT_FUTURE)
        add_word(out, cap, "not valid yet (check the clock)");
    if (flags & MBEDTLS_X509_BADCERT_CN_MISMATCH) {
        char what[URL_HOST_MAX + 64];
        if (c->peer_name[0] != '\0')
            (void)snprintf(what, sizeof what, "name mismatch (certificate is for %s)",
                           c->peer_name);
        else
            (void)snprintf(what, sizeof what, "name mismatch");
        add_word(out, cap, what);
    }
    if (flags & MBEDTLS_X509_BADCERT_NOT_TRUSTED)
        add_word(out, cap, "not signed by a trusted CA (check ca_file)");
    if (flags & MBEDTLS_X509_BADCERT_REVOKED)
        add_word(out, cap, "revoked");
    if (flags &
        (MBEDTLS_X509_BADCERT_BAD_MD | MBEDTLS_X509_BADCERT_BAD_PK | MBEDTLS_X509_BADCERT_BAD_KEY))
        add_word(out, cap, "weak or unsupported key or signature");
    if (flags & (MBEDTLS_X509_BADCERT_KEY_USAGE | MBEDTLS_X509_BADCERT_EXT_KEY_USAGE))
        add_word(out, cap, "not meant for TLS servers (key usage)");
    if (out[0] == '\0')
        add_word(out, cap, "verification failed");
}

/* Turns a failed mbedTLS call into a transport status and a detail line. */
static transport_status fail(tls_client *c, int ret, const char *during)
{
    if (ret == MBEDTLS_ERR_X509_CERT_VERIFY_FAILED) {
        c->verify_flags = mbedtls_ssl_get_verify_result(&c->ssl);
        int n =
            snprintf(c->detail, sizeof c->detail, "certificate for %s is not trusted: ", c->host);
        if (n > 0 && (size_t)n < sizeof c->detail)
            describe_flags(c, c->verify_flags, c->detail + n, sizeof c->detail - (size_t)n);
        return TRANSPORT_ERR_CERT;
    }
    if (c->bio_status == TRANSPORT_TIMEOUT || ret == MBEDTLS_ERR_SSL_TIMEOUT) {
        (void)snprintf(c->detail, sizeof c->detail, "timed out after %lu ms %s",
                       (unsigned long)c->timeout_ms, during);
        return TRANSPORT_TIMEOUT;
    }
    if (ret == MBEDTLS_ERR_SSL_CONN_EOF || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY ||
        c->bio_status == TRANSPORT_CLOSED) {
        (void)snprintf(c->detail, sizeof c->detail, "connection closed by %s %s", c->host, during);
        return TRANSPORT_CLOSED;
    }
    if (c->bio_status == TRANSPORT_ERR_IO) {
        (void)snprintf(c->detail, sizeof c->detail, "connection to %s failed %s: %s", c->host,
                       during, port_os_error_text(c->bio_os_error));
        return TRANSPORT_ERR_IO;
    }
    char text[128];
    mbedtls_strerror(ret, text, sizeof text);
    (void)snprintf(c->detail, sizeof c->detail, "TLS error %s with %s: %s (-0x%04x)", during,
                   c->host, text, (unsigned)-ret);
    return TRANSPORT_ERR_TLS;
}

/* ---- transport ------------------------------------------------------------------------- */

/* One TCP connect and TLS handshake. */
static transport_status handshake_once(tls_client *c, uint16_t port, uint32_t timeout_ms)
{
    transport_status ts = proxy_tunnel_connect(c->tunnel, &c->sock, c->host, port, timeout_ms,
                                               c->detail, sizeof c->detail);
    if (ts != TRANSPORT_OK)
        return ts;
    c->timeout_ms = timeout_ms;
    c->bio_status = TRANSPORT_OK;
    c->verify_flags = 0;
    if (mbedtls_ssl_session_reset(&c->ssl) != 0 ||
        mbedtls_ssl_set_hostname(&c->ssl, c->host) != 0) {
        port_net_close(&c->sock);
        return fail(c, MBEDTLS_ERR_SSL_ALLOC_FAILED, "during setup");
    }
    int ret;
    do {
        ret = mbedtls_ssl_handshake(&c->ssl);
    } while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
    if (ret != 0) {
        c->last_mbedtls_error = ret;
        transport_status fs = fail(c, ret, "during the TLS handshake");
        port_net_close(&c->sock);
        return fs;
    }
    c->handshake_done = 1;
    return TRANSPORT_OK;
}

/* mbedTLS 3.6.6 offers rsa_pss_rsae signatures when TLS 1.3 is enabled but
 * refuses them once a server picks TLS 1.2 (fixed upstream after 3.6.6):
 * a TLS 1.2-only server with an RSA key and OpenSSL then fails the
 * handshake with ILLEGAL_PARAMETER. Such a server is retried once with
 * TLS 1.2 as the highest version offered, and remembered for later
 * connections of this client. The certificate is verified either way. */
static int needs_tls12_retry(const tls_client *c, transport_status ts)
{
    return ts == TRANSPORT_ERR_TLS && c->last_mbedtls_error == MBEDTLS_ERR_SSL_ILLEGAL_PARAMETER &&
           mbedtls_ssl_get_version_number(&c->ssl) == MBEDTLS_SSL_VERSION_TLS1_2 && !c->tls12_only;
}

static transport_status tls_connect(void *ctx, const char *host, uint16_t port, uint32_t timeout_ms)
{
    tls_client *c = ctx;
    size_t hlen = strlen(host);
    c->detail[0] = '\0';
    c->handshake_done = 0;
    c->last_mbedtls_error = 0;
    if (hlen >= sizeof c->host)
        return TRANSPORT_ERR_RESOLVE;
    memcpy(c->host, host, hlen + 1);
    transport_status ts = handshake_once(c, port, timeout_ms);
    if (needs_tls12_retry(c, ts)) {
        c->tls12_only = 1;
        mbedtls_ssl_conf_max_tls_version(&c->conf, MBEDTLS_SSL_VERSION_TLS1_2);
        c->detail[0] = '\0';
        ts = handshake_once(c, port, timeout_ms);
    }
    return ts;
}

/* One mbedTLS read (in != NULL) or write (out != NULL), repeated while it
 * only wants the socket again; the bio callbacks wait up to timeout_ms. */
static int record_io(tls_client *c, const uint8_t *out, uint8_t *in, size_t len,
                     uint32_t timeout_ms)
{
    int ret;
    c->timeout_ms = timeout_ms;
    c->bio_status = TRANSPORT_OK;
    do {
        ret =
            in != NULL ? mbedtls_ssl_read(&c->ssl, in, len) : mbedtls_ssl_write(&c->ssl, out, len);
    } while (ret == MBEDTLS_ERR_SSL_WANT_READ || ret == MBEDTLS_ERR_SSL_WANT_WRITE);
    return ret;
}

static transport_result tls_send(void *ctx, const uint8_t *buf, size_t len, uint32_t timeout_ms)
{
    tls_client *c = ctx;
    transport_result r = {TRANSPORT_OK, 0};
    int ret = record_io(c, buf, NULL, len, timeout_ms);
    if (ret > 0) {
        r.n = (size_t)ret;
        return r;
    }
    r.status = fail(c, ret, "while sending");
    return r;
}

static transport_result tls_recv(void *ctx, uint8_t *buf, size_t cap, uint32_t timeout_ms)
{
    tls_client *c = ctx;
    transport_result r = {TRANSPORT_OK, 0};
    int ret = record_io(c, NULL, buf, cap, timeout_ms);
    if (ret > 0) {
        r.n = (size_t)ret;
        return r;
    }
    if (ret == 0 || ret == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || ret == MBEDTLS_ERR_SSL_CONN_EOF) {
        r.status = TRANSPORT_CLOSED;
        return r;
    }
    r.status = fail(c, ret, "while receiving");
    return r;
}

static void tls_close(void *ctx)
{
    tls_client *c = ctx;
    if (c->handshake_done && c->sock.fd >= 0) {
        c->timeout_ms = TLS_CLOSE_TIMEOUT_MS; /* courtesy close_notify */
        (void)mbedtls_ssl_close_notify(&c->ssl);
    }
    c->handshake_done = 0;
    port_net_close(&c->sock);
}

static const char *tls_detail(void *ctx)
{
    const tls_client *c = ctx;
    return c->detail;
}

static const transport_ops TLS_OPS = {tls_connect, tls_send, tls_recv, tls_close, tls_detail};

transport tls_transport(tls_client *client)
{
    transport t;
    t.ops = &TLS_OPS;
    t.ctx = client;
    return t;
}

const char *tls_version(const tls_client *c)
{
    return c->handshake_done ? mbedtls_ssl_get_version(&c->ssl) : "";
}

const char *tls_suite(const tls_client *c)
{
    return c->handshake_done ? mbedtls_ssl_get_ciphersuite(&c->ssl) : "";
}
