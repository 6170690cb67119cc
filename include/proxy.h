/*
 * proxy.h - the HTTP CONNECT proxy, as policy and text (sans-I/O).
 *
 * Everything countly-sync decides about a proxy, with no socket in sight:
 *   - proxy_parse: the `proxy` setting or HTTPS_PROXY's value,
 *     http://[user:password@]host:port (a bare host:port is read as
 *     http://, as curl does), into a proxy_server. Only http:// proxies
 *     exist here: the tunnel to the proxy is plain TCP, and TLS then runs
 *     to the Countly server inside it.
 *   - proxy_choose: which proxy a server is reached through: the
 *     configured one, else HTTPS_PROXY/https_proxy (HTTP_PROXY/http_proxy
 *     for http:// servers) unless NO_PROXY/no_proxy matches the server;
 *     never one for a loopback server.
 *   - proxy_no_proxy_matches: the NO_PROXY list.
 *   - proxy_connect_request: the CONNECT request, with Basic credentials.
 *   - proxy_reply_*: a strict incremental parser of the proxy's answer head,
 *     fed any fragments (the same result byte by byte and whole), into a
 *     fixed buffer of PROXY_REPLY_MAX bytes.
 * The socket work is proxy_tunnel.h's. Every buffer is the caller's.
 *
 * The password is kept only in proxy_server.password, for the request
 * header; proxy_server.shown is the proxy as messages show it
 * ("http://host:port", or "http://user:***@host:port"), and nothing here
 * writes the password anywhere else.
 */
#ifndef COUNTLY_SYNC_PROXY_H
#define COUNTLY_SYNC_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "options.h"
#include "url.h"

typedef enum {
    PROXY_OK = 0,
    PROXY_NEED_MORE,            /* reply: the head is not complete yet */
    PROXY_ERR_SCHEME,           /* not http:// (https:// proxies are not supported) */
    PROXY_ERR_SYNTAX,           /* a path, query or bad character or %-escape in the URL */
    PROXY_ERR_HOST,             /* empty, malformed or too long host */
    PROXY_ERR_PORT,             /* port missing or not in 1..65535 */
    PROXY_ERR_CREDENTIALS_LONG, /* user or password longer than PROXY_CREDENTIAL_MAX */
    PROXY_ERR_REQUEST_LONG,     /* CONNECT request longer than PROXY_REQUEST_MAX */
    PROXY_ERR_HEAD_LONG,        /* reply head longer than PROXY_REPLY_MAX */
    PROXY_ERR_REPLY             /* reply is not an HTTP/1.x response head */
} proxy_status;

/* Room for the shown form: scheme, user, "***", host, brackets, port. */
#define PROXY_SHOWN_MAX (URL_HOST_MAX + PROXY_CREDENTIAL_MAX + 32)

typedef struct {
    int enabled;                 /* 0: connect directly */
    char host[URL_HOST_MAX + 1]; /* IPv6 literals without brackets */
    uint16_t port;
    int has_credentials; /* a user was given (the password may be "") */
    char user[PROXY_CREDENTIAL_MAX + 1];
    char password[PROXY_CREDENTIAL_MAX + 1]; /* never shown */
    char shown[PROXY_SHOWN_MAX];             /* "http://[user:***@]host:port" */
} proxy_server;

/* Reads the environment (port_getenv, or a test's table). */
typedef const char *(*proxy_getenv_fn)(const char *name);

/* The incremental reply parser: the head is gathered, then judged. */
typedef struct {
    size_t len;                        /* head bytes gathered */
    int done;                          /* the head is complete and valid */
    int status_code;                   /* when done */
    char reason[PROXY_REASON_MAX + 1]; /* when done; cut to PROXY_REASON_MAX */
    char head[PROXY_REPLY_MAX];
} proxy_reply;

/* Words for a status. */
const char *proxy_strerror(proxy_status status);

/* Parses a proxy URL into *out; "" gives a disabled proxy (no proxy). */
proxy_status proxy_parse(const char *text, proxy_server *out);

/* 1 when the NO_PROXY list (comma-separated: "*", a domain that matches
 * itself and its subdomains, with or without a leading "." or "*.", an IP
 * literal that matches only itself; each with an optional ":port") names
 * host (without brackets) on port. */
int proxy_no_proxy_matches(const char *list, const char *host, uint16_t port);

/* Chooses the proxy for server into *out. configured is the parsed
 * `proxy` setting, or NULL when the key is absent (then the environment
 * decides through env); loopback says the server is a loopback host.
 * *source names where the answer came from ("proxy", "HTTPS_PROXY",
 * "NO_PROXY", "loopback", ...); on an error, the variable whose value is
 * malformed. */
proxy_status proxy_choose(proxy_server *out, const proxy_server *configured,
                          const url_parts *server, int loopback, proxy_getenv_fn env,
                          const char **source);

/* Writes the CONNECT request for host:port (an IPv6 literal is
 * bracketed) through p into out; *len is its length. */
proxy_status proxy_connect_request(const proxy_server *p, const char *host, uint16_t port,
                                   char *out, size_t cap, size_t *len);

/* Starts a reply. */
void proxy_reply_init(proxy_reply *reply);

/* Feeds bytes of the answer; *used is how many belong to the head. Returns
 * PROXY_NEED_MORE, PROXY_OK once the head is complete (status_code and
 * reason set), or an error. */
proxy_status proxy_reply_feed(proxy_reply *reply, const uint8_t *data, size_t len, size_t *used);

#endif /* COUNTLY_SYNC_PROXY_H */
