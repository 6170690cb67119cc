/*
 * json_file.c - one JSON document read from a file (see json_file.h).
 */
#include "json_file.h"

/* Counts records so a value without one is told apart. */
typedef struct {
    jstream_record_fn on_record;
    void *user;
    unsigned long delivered;
} json_file_relay;

const char *json_file_port_text(port_status status)
{
    return status == PORT_ERR_IO ? port_last_os_error() : port_strerror(status);
}

static int relay_record(void *user, const jstream_record *record)
{
    json_file_relay *relay = user;
    relay->delivered++;
    return relay->on_record(relay->user, record);
}

static json_file_status feed(jstream *js, port_file *file, size_t max_bytes, json_file_relay *relay,
                             port_status *port_error)
{
    uint8_t chunk[JSON_FILE_CHUNK];
    size_t total = 0;
    for (;;) {
        size_t got = 0;
        *port_error = port_file_read(file, chunk, sizeof chunk, &got);
        if (*port_error != PORT_OK)
            return JSON_FILE_ERR_READ;
        if (got == 0)
            break;
        total += got;
        if (total > max_bytes)
            return JSON_FILE_ERR_TOO_LARGE;
        if (jstream_feed(js, chunk, got, relay_record, relay) != JSTREAM_OK)
            return JSON_FILE_ERR_JSON;
    }
    if (total == 0)
        return JSON_FILE_ERR_EMPTY;
    if (jstream_finish(js) != JSTREAM_OK)
        return JSON_FILE_ERR_JSON;
    return relay->delivered > 0 ? JSON_FILE_OK : JSON_FILE_ERR_NO_VALUE;
}

json_file_status json_file_read(jstream *js, const char *path, size_t max_bytes,
                                jstream_record_fn on_record, void *user, port_status *port_error)
{
    port_file file;
    json_file_relay relay = {on_record, user, 0};
    port_file_init(&file);
    *port_error = port_file_open(&file, path, PORT_FILE_READ);
    if (*port_error != PORT_OK)
        return JSON_FILE_ERR_OPEN;
    jstream_init(js, JSTREAM_ENVELOPE_VALUE);
    json_file_status st = feed(js, &file, max_bytes, &relay, port_error);
    (void)port_file_close(&file);
    return st;
}
