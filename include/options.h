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

/* The text of a numeric option, for messages that name a limit:
 * "record larger than JSTREAM_RECORD_MAX (" OPTIONS_TEXT(JSTREAM_RECORD_MAX) " bytes)". */
#define OPTIONS_TEXT(x)  OPTIONS_TEXT_(x)
#define OPTIONS_TEXT_(x) #x

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

/* ---- HTTP CONNECT proxy (proxy.h) ------------------------------------------------ */

/* Longest proxy user name and password (each, after percent-decoding). */
#ifndef PROXY_CREDENTIAL_MAX
#define PROXY_CREDENTIAL_MAX 128
#endif

/* The CONNECT request: request line, Host, the Basic credentials in base64
 * (4/3 of user:password) and User-Agent. */
#ifndef PROXY_REQUEST_MAX
#define PROXY_REQUEST_MAX (2 * URL_HOST_MAX + 4 * PROXY_CREDENTIAL_MAX + 160)
#endif

/* Largest head (status line and headers) of the proxy's answer to
 * CONNECT; squid's and tinyproxy's are under 300 bytes. */
#ifndef PROXY_REPLY_MAX
#define PROXY_REPLY_MAX 2048
#endif

/* Longest reason phrase kept from that answer (for the error message). */
#ifndef PROXY_REASON_MAX
#define PROXY_REASON_MAX 64
#endif

/* ---- gzip on the wire ------------------------------------------------------------- */

/* 1: http_compression is available (zlib inflate, the arena below: about
 * 45 KiB). The small profile builds with 0: bodies are always identity. */
#ifndef HTTP_GZIP
#define HTTP_GZIP 1
#endif

/* zlib's inflate state (about 7 KiB) and its 32 KiB window, from a fixed
 * arena (gunzip.h); a larger need is GUNZIP_ERR_MEMORY, never an allocation. */
#ifndef GUNZIP_ARENA_SIZE
#define GUNZIP_ARENA_SIZE (41 * 1024)
#endif

/* Inflated bytes handed on per piece. */
#ifndef GUNZIP_OUT_CHUNK
#define GUNZIP_OUT_CHUNK 4096
#endif

/* ---- a second thread (relay.h) ----------------------------------------------------- */

/* 1: on a machine with two processors or more, response bodies are read
 * on the agent's thread (socket, TLS, gunzip) and scanned, mapped and
 * written on a second one, through the ring below. 0 (the small profile):
 * one thread, no ring. */
#ifndef RELAY_THREADS
#define RELAY_THREADS 1
#endif

/* The ring between the two threads, and the most the worker takes out of it
 * at once (room comes back to the reader while a large span is scanned). */
#ifndef RELAY_RING_SIZE
#define RELAY_RING_SIZE (128u * 1024u)
#endif
#ifndef RELAY_PIECE
#define RELAY_PIECE (16u * 1024u)
#endif

/* The worker thread's stack: the deepest path (record scanning, mapping,
 * the CSV sink, an error message) takes about 10 KiB (docs/footprint.md). */
#ifndef RELAY_STACK_SIZE
#define RELAY_STACK_SIZE (64u * 1024u)
#endif

/* ---- TLS ------------------------------------------------------------------- */

/* Static arena for every mbedTLS allocation (handshake, record buffers,
 * the peer's chain, the CA candidates of one lookup). Measured peak of a
 * handshake and GET: 30.4 KiB (ECDSA chain), 33.0 KiB (RSA-2048 chain),
 * with 16 KiB + 4 KiB record buffers (`make bench`). */
#ifndef TLS_ARENA_SIZE
#define TLS_ARENA_SIZE (48 * 1024)
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

/* Bytes of a CA bundle read per port call while looking for candidates. */
#ifndef TLS_CA_READ_CHUNK
#define TLS_CA_READ_CHUNK 512
#endif

/* Until a request timeout is set (tls_connect), and for the courtesy
 * close_notify at the end (never wait long for it), in milliseconds. */
#ifndef TLS_DEFAULT_TIMEOUT_MS
#define TLS_DEFAULT_TIMEOUT_MS 30000
#endif
#ifndef TLS_CLOSE_TIMEOUT_MS
#define TLS_CLOSE_TIMEOUT_MS 100
#endif

/* Room for one failure description ("certificate for <host> is not ..."). */
#ifndef TLS_DETAIL_MAX
#define TLS_DETAIL_MAX 768
#endif

/* ---- JSON records (jstream) ------------------------------------------------ */

/* Largest record (one app, group or user document, compacted: whitespace
 * outside strings dropped). A typical user is 1-2 KiB; custom properties
 * can make it larger. A bigger record is an error naming it. */
#ifndef JSTREAM_RECORD_MAX
#define JSTREAM_RECORD_MAX 16384
#endif

/* jsmn tokens per record (20 bytes each with parent links): every key,
 * value, object and array is one. */
#ifndef JSTREAM_TOKENS_MAX
#define JSTREAM_TOKENS_MAX 896
#endif

/* Deepest nesting of objects and arrays anywhere in a body. */
#ifndef JSTREAM_DEPTH_MAX
#define JSTREAM_DEPTH_MAX 32
#endif

/* Longest envelope key remembered (longer keys are simply not envelope keys). */
#ifndef JSTREAM_KEY_MAX
#define JSTREAM_KEY_MAX 32
#endif

/* Longest record _id kept for error messages (longer ones end in "..."). */
#ifndef JSTREAM_ID_MAX
#define JSTREAM_ID_MAX 64
#endif

/* Longest server message ({"result":"..."}) kept; longer ones are cut
 * for display only. */
#ifndef JSTREAM_MESSAGE_MAX
#define JSTREAM_MESSAGE_MAX 256
#endif

/* Most distinct apps in one /o/apps/all or /o/apps/mine answer (12 bytes each, to report
 * each app once although admin_of and user_of both list it). */
#ifndef JSTREAM_APPS_MAX
#define JSTREAM_APPS_MAX 256
#endif

/* ---- files ---------------------------------------------------------------------- */

/* Longest file path the port handles in its own buffers (the folder of a
 * file being replaced). */
#ifndef PORT_PATH_MAX
#define PORT_PATH_MAX 512
#endif

/* ---- mapping and CSV ---------------------------------------------------------- */

/* Scratch space for one decoded value or one metadata object; a decoded
 * value is never longer than its record, so this equals the record size. */
#ifndef MAP_FIELD_MAX
#define MAP_FIELD_MAX JSTREAM_RECORD_MAX
#endif

/* Most columns of one table (users has 18). */
#ifndef MAP_COLUMNS_MAX
#define MAP_COLUMNS_MAX 20
#endif

/* Output buffer of a CSV file; rows longer than this are written in pieces.
 * 32 KiB: a fourth of the write calls of 8 KiB (about 0.1 s of system time
 * per 400 MB of CSV on x86_64); the small profile sets 1 KiB. */
#ifndef CSV_BUFFER_SIZE
#define CSV_BUFFER_SIZE 32768
#endif

/* ---- gzip output files (output_compression "gzip", gzip_out.h) ---------------------- */

/* 1: output_compression "gzip" is available (deflate arena, hold and output
 * piece: 122 KiB in agent.gzout). The small profile (HTTP_GZIP=0) builds
 * without zlib's features, so without this too: the key is refused (78). */
#ifndef CSV_GZIP
#define CSV_GZIP HTTP_GZIP
#endif

/* deflate's window (2^bits bytes) and hash size (memLevel). Its state is
 * about 2^(bits+2) + 2^(memLevel+9) bytes plus 6 KiB; zlib's defaults
 * (15, 8) need 262 KiB. On the simulator's users CSV (2.6 MB, rows of about
 * 860 bytes; docs/footprint.md, "gzip output files") gzip -6 gives 4.73x;
 * pages of 200 rows with a full flush each: 15/8 4.58x in 262 KiB, 14/5
 * 4.23x in 86 KiB, 13/6 3.86x in 70 KiB, 12/5 3.60x in 38 KiB. The window
 * is what counts (a row's field names repeat a row or more apart), memLevel
 * hardly matters: 14/5 keeps 89 % of gzip -6's ratio in a third of its
 * memory. */
#ifndef GZOUT_WINDOW_BITS
#define GZOUT_WINDOW_BITS 14
#endif
#ifndef GZOUT_MEM_LEVEL
#define GZOUT_MEM_LEVEL 5
#endif

/* Compression level (1 fastest .. 9 smallest; 6 is gzip's default). */
#ifndef GZOUT_LEVEL
#define GZOUT_LEVEL 6
#endif

/* deflate's state from a fixed arena: window, previous-match links, hash
 * heads, the symbol buffer, and deflate_state itself (5.9 KiB on 64-bit),
 * each rounded to 16 bytes. */
#ifndef GZOUT_ARENA_SIZE
#define GZOUT_ARENA_SIZE                                                                           \
    ((1u << (GZOUT_WINDOW_BITS + 2)) + (1u << (GZOUT_MEM_LEVEL + 9)) + 6u * 1024u)
#endif

/* Text held uncompressed after the users page's latest mark (where its last
 * lac second began), so that cutting the page back there drops bytes
 * instead of undoing deflate. A second with more rows than this makes the
 * mark a full-flush point instead (a few bytes and a fresh dictionary). */
#ifndef GZOUT_HOLD_SIZE
#define GZOUT_HOLD_SIZE 32768
#endif

/* Compressed bytes collected before a write to the file. */
#ifndef GZOUT_OUT_CHUNK
#define GZOUT_OUT_CHUNK 4096
#endif

/* Permission bits of every file countly-sync creates (CSV files, the state
 * file and their temporaries) when file_mode is not configured: owner
 * only, since users.csv holds e-mail addresses and phone numbers. */
#ifndef FILE_MODE_DEFAULT
#define FILE_MODE_DEFAULT 0600
#endif

/* Permission of the --metrics file, whatever file_mode says: it holds no
 * personal data, and node_exporter's textfile collector reads it as
 * another user. */
#ifndef REPORT_METRICS_MODE
#define REPORT_METRICS_MODE 0644
#endif

/* Longest path of an output file (its temporary name adds 4 bytes). */
#ifndef CSV_PATH_MAX
#define CSV_PATH_MAX 512
#endif

/* ---- configuration and state --------------------------------------------------- */

/* Largest configuration.json accepted (it holds a dozen keys). */
#ifndef CONFIG_FILE_MAX
#define CONFIG_FILE_MAX 8192
#endif

/* Longest API key, server URL and file paths in the configuration. */
#ifndef CONFIG_API_KEY_MAX
#define CONFIG_API_KEY_MAX 128
#endif
#ifndef CONFIG_URL_MAX
#define CONFIG_URL_MAX 512
#endif
#ifndef CONFIG_PATH_MAX
#define CONFIG_PATH_MAX 400
#endif

/* Most apps one key may see and sync (app ids in app_id, apps in the
 * state file); 25 + 33 bytes per app across config, state and agent. */
#ifndef CONFIG_APPS_MAX
#define CONFIG_APPS_MAX 128
#endif

/* Room for one configuration or state error message. */
#ifndef CONFIG_DETAIL_MAX
#define CONFIG_DETAIL_MAX 512
#endif

/* Bytes of configuration.json or state.json read per port call. */
#ifndef JSON_FILE_CHUNK
#define JSON_FILE_CHUNK 512
#endif

/* The agent's description of where a run is, for messages ("users of app
 * <id>, page 3"), and the output file paths it builds. */
#ifndef AGENT_WHERE_MAX
#define AGENT_WHERE_MAX 160
#endif
#ifndef AGENT_PATH_MAX
#define AGENT_PATH_MAX (CONFIG_PATH_MAX + 32)
#endif

/* Largest state file: per app about 50 bytes, plus the run in progress
 * (CONFIG_APPS_MAX apps: about 13 KiB). The state is parsed as one jstream
 * record, so it can be no larger than JSTREAM_RECORD_MAX. */
#ifndef STATE_FILE_MAX
#define STATE_FILE_MAX JSTREAM_RECORD_MAX
#endif

/* ---- run report and metrics (--report, --metrics) ----------------------------------- */

/* Most files one run's report lists (apps.csv, groups.csv, users.csv; the
 * runs layout adds its parts): 640 bytes each in the agent. */
#ifndef REPORT_FILES_MAX
#define REPORT_FILES_MAX 16
#endif

/* Longest file path in the report (relative to output_dir). */
#ifndef REPORT_PATH_MAX
#define REPORT_PATH_MAX 128
#endif

/* ---- users paging (window engine) ------------------------------------------------ */

/* Longest user _id the engine pages by (Countly's are 40 hex digits). */
#ifndef WINDOW_ID_MAX
#define WINDOW_ID_MAX JSTREAM_ID_MAX
#endif

/* Longest /o/db filter the engine writes: two int64 bounds and an _id
 * escaped at up to 6 bytes per byte. */
#ifndef WINDOW_FILTER_MAX
#define WINDOW_FILTER_MAX (96 + 6 * WINDOW_ID_MAX)
#endif

/* A request as messages show it: a users page's filter, sort and limit,
 * or another request's target without the key (on the stack, when said). */
#define AGENT_SHOWN_MAX (WINDOW_FILTER_MAX + 64)

/* A long window is read in sub-ranges of lac of about this many pages:
 * dbviewer counts every request's filter, so a sub-range bounds that count
 * (index keys walked per page, about half of this many pages on average). */
#ifndef WINDOW_SUBRANGE_PAGES
#define WINDOW_SUBRANGE_PAGES 16
#endif

/* ---- commits ---------------------------------------------------------------------- */

/* The users stream commits (rows fsync'ed, then the state) at most about
 * this often, or once this many bytes of rows wait (commit_policy.h).
 * 0 commits after every page. */
#ifndef AGENT_COMMIT_INTERVAL_MS
#define AGENT_COMMIT_INTERVAL_MS 1000
#endif
#ifndef AGENT_COMMIT_BYTES
#define AGENT_COMMIT_BYTES (64u * 1024u * 1024u)
#endif

/* ---- messages ----------------------------------------------------------------------- */

/* Longest log line; longer messages end in "...". */
#ifndef LOG_LINE_MAX
#define LOG_LINE_MAX 1024
#endif

/* Plain progress lines (not a terminal) come at most this often. */
#ifndef LOG_PROGRESS_INTERVAL_MS
#define LOG_PROGRESS_INTERVAL_MS 10000
#endif

/* A --log-format json line: the message escaped (each byte at most 6, as
 * \u00XX) plus the timestamp, level and context fields; a message whose
 * escape does not fit is cut at a character and ends in "...". */
#ifndef LOG_JSON_LINE_MAX
#define LOG_JSON_LINE_MAX (2 * LOG_LINE_MAX + 256)
#endif

/* The context of json lines (stream name, app id: 24 hex digits). */
#ifndef LOG_CONTEXT_MAX
#define LOG_CONTEXT_MAX 32
#endif

/* ---- retries ---------------------------------------------------------------------- */

/* Exponential backoff with full jitter: the n-th retry waits a random time
 * in [0, min(cap, base * 2^n)); a server's Retry-After wins when present. */
#ifndef AGENT_BACKOFF_BASE_MS
#define AGENT_BACKOFF_BASE_MS 1000
#endif
#ifndef AGENT_BACKOFF_CAP_MS
#define AGENT_BACKOFF_CAP_MS 60000
#endif

/* Total time a run may spend waiting between retries. */
#ifndef AGENT_RETRY_BUDGET_MS
#define AGENT_RETRY_BUDGET_MS (15 * 60 * 1000)
#endif

/* ---- sizes that depend on each other ------------------------------------------------ */

_Static_assert(STATE_FILE_MAX <= JSTREAM_RECORD_MAX, "the state is parsed as one jstream record");
_Static_assert(MAP_FIELD_MAX >= JSTREAM_RECORD_MAX,
               "a decoded value is never longer than its record");
_Static_assert(WINDOW_ID_MAX <= JSTREAM_ID_MAX, "an _id the engine pages by fits a record's _id");
_Static_assert(CSV_PATH_MAX <= PORT_PATH_MAX && AGENT_PATH_MAX <= PORT_PATH_MAX,
               "the port can name the folder of every file it replaces");
_Static_assert(WINDOW_FILTER_MAX < HTTP_REQUEST_MAX, "a users filter fits a request");
_Static_assert(PROXY_REPLY_MAX >= 64, "a proxy's answer head has room for its status line");
_Static_assert(RELAY_PIECE > 0 && RELAY_PIECE <= RELAY_RING_SIZE, "a relay piece fits its ring");

#endif /* COUNTLY_SYNC_OPTIONS_H */
