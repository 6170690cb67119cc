/*
 * json_file.h - one JSON document read from a file (configuration, state).
 *
 * Opens the file through the port, feeds it in small chunks to a jstream
 * with the VALUE envelope (strict RFC 8259, one record: the whole value)
 * and hands that record to the caller's callback. The caller turns the
 * status into its own words; on JSON_FILE_ERR_JSON the scanner's
 * jstream_describe says where and what.
 */
#ifndef COUNTLY_SYNC_JSON_FILE_H
#define COUNTLY_SYNC_JSON_FILE_H

#include <stddef.h>

#include "jstream.h"
#include "port.h"

typedef enum {
    JSON_FILE_OK = 0,
    JSON_FILE_ERR_OPEN,      /* cannot be opened; port_error says why (NOENT: missing) */
    JSON_FILE_ERR_READ,      /* a read failed; port_error says why */
    JSON_FILE_ERR_TOO_LARGE, /* more than max_bytes */
    JSON_FILE_ERR_EMPTY,     /* zero bytes */
    JSON_FILE_ERR_JSON,      /* not valid JSON; see jstream_describe(js) */
    JSON_FILE_ERR_NO_VALUE   /* valid, but no record (a bare number or literal) */
} json_file_status;

/* Words for the port status behind a failure (the OS's own for PORT_ERR_IO). */
const char *json_file_port_text(port_status status);

/* Reads path (at most max_bytes) through js, calling on_record once. */
json_file_status json_file_read(jstream *js, const char *path, size_t max_bytes,
                                jstream_record_fn on_record, void *user, port_status *port_error);

#endif /* COUNTLY_SYNC_JSON_FILE_H */
