/*
 * options.h - every buffer size and limit of countly-sync, in one place.
 *
 * Like lwIP's opt.h: each option has a default and a sentence on why. A
 * build overrides any of them with -DNAME=value (or by including its own
 * header first). All memory countly-sync uses is sized here; nothing is
 * allocated at run time. A limit that is reached is reported as an error
 * that names the option, never as silently truncated data.
 */
#ifndef COUNTLY_SYNC_OPTIONS_H
#define COUNTLY_SYNC_OPTIONS_H

/* Version string sent in User-Agent and printed by `version`. */
#ifndef COUNTLY_SYNC_VERSION
#define COUNTLY_SYNC_VERSION "0.1.0"
#endif

/* ---- URLs ------------------------------------------------------------------ */

/* Longest host name (RFC 1035 limits a DNS name to 253 characters). */
#ifndef URL_HOST_MAX
#define URL_HOST_MAX 253
#endif

/* Longest path prefix of server_url (a reverse-proxy mount point). */
#ifndef URL_PATH_MAX
#define URL_PATH_MAX 256
#endif

/* ---- HTTP ------------------------------------------------------------------- */

/* Request line plus headers. A /o/db request carries two percent-encoded
 * JSON documents (filter, sort) in the query string: about 400 bytes. */
#ifndef HTTP_REQUEST_MAX
#define HTTP_REQUEST_MAX 2048
#endif

/* Longest single response header line (status line included). Countly's
 * longest header is Strict-Transport-Security, under 100 bytes. */
#ifndef HTTP_HEADER_LINE_MAX
#define HTTP_HEADER_LINE_MAX 1024
#endif

/* Total size of a response's status line and headers; guards against a
 * server that streams headers forever. */
#ifndef HTTP_HEADER_SECTION_MAX
#define HTTP_HEADER_SECTION_MAX 16384
#endif

/* Most header lines in one response. */
#ifndef HTTP_HEADER_COUNT_MAX
#define HTTP_HEADER_COUNT_MAX 64
#endif

/* Longest chunk-size line, extensions included. */
#ifndef HTTP_CHUNK_LINE_MAX
#define HTTP_CHUNK_LINE_MAX 256
#endif

/* Receive buffer between the transport and the parser. One TLS record is
 * 16 KiB; a smaller buffer only means more calls. */
#ifndef HTTP_RECV_BUFFER_SIZE
#define HTTP_RECV_BUFFER_SIZE 4096
#endif

/* Room for one failure description of the HTTP client. */
#ifndef HTTP_DETAIL_MAX
#define HTTP_DETAIL_MAX 1024
#endif

/* ---- TLS ------------------------------------------------------------------- */

/* Static arena for every mbedTLS allocation (handshake, record buffers,
 * the peer's chain, the CA candidates of one lookup). Measured peak of a
 * full handshake: see docs (make bench). */
#ifndef TLS_ARENA_SIZE
#define TLS_ARENA_SIZE (96 * 1024)
#endif

/* Largest DER certificate read from a CA bundle (a few roots exceed 2 KiB). */
#ifndef TLS_CA_DER_MAX
#define TLS_CA_DER_MAX 4096
#endif

/* Longest line of a PEM CA bundle (RFC 7468 wraps at 64 characters). */
#ifndef TLS_PEM_LINE_MAX
#define TLS_PEM_LINE_MAX 128
#endif

/* Longest file path the tls module builds (CA directory + entry name). */
#ifndef TLS_PATH_MAX
#define TLS_PATH_MAX 512
#endif

/* Room for one failure description ("certificate for <host> is not ..."). */
#ifndef TLS_DETAIL_MAX
#define TLS_DETAIL_MAX 768
#endif

#endif /* COUNTLY_SYNC_OPTIONS_H */
