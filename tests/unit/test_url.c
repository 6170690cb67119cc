/*
 * test_url.c - unit tests of server URL parsing and query encoding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "url.h"

/* ---- url_parse: accepted URLs ------------------------------------------------- */

typedef struct {
    const char *text;
    int tls;
    const char *host;
    int host_is_ipv6;
    uint16_t port;
    const char *path;
} good_url;

static const good_url good_urls[] = {
    {"https://countly.example.com", 1, "countly.example.com", 0, 443, ""},
    {"http://countly.example.com", 0, "countly.example.com", 0, 80, ""},
    {"https://countly.example.com:8443", 1, "countly.example.com", 0, 8443, ""},
    {"http://countly.example.com:443", 0, "countly.example.com", 0, 443, ""},
    {"https://countly.example.com:1/", 1, "countly.example.com", 0, 1, ""},
    {"http://host_name-1.local:65535", 0, "host_name-1.local", 0, 65535, ""},
    {"http://localhost:08080", 0, "localhost", 0, 8080, ""},
    {"http://192.168.1.10:8080/", 0, "192.168.1.10", 0, 8080, ""},
    {"https://0.0.0.0", 1, "0.0.0.0", 0, 443, ""},
    {"https://255.255.255.255", 1, "255.255.255.255", 0, 443, ""},
    {"https://[::1]:8443", 1, "::1", 1, 8443, ""},
    {"https://[2001:db8::1]", 1, "2001:db8::1", 1, 443, ""},
    {"https://[2001:DB8::AbC]/", 1, "2001:db8::abc", 1, 443, ""},
    {"http://[::]", 0, "::", 1, 80, ""},
    {"http://[1::]", 0, "1::", 1, 80, ""},
    {"http://[1:2:3:4:5:6:7:8]", 0, "1:2:3:4:5:6:7:8", 1, 80, ""},
    {"http://[1:2:3:4:5:6:7::]", 0, "1:2:3:4:5:6:7::", 1, 80, ""},
    {"http://[::2:3:4:5:6:7:8]", 0, "::2:3:4:5:6:7:8", 1, 80, ""},
    {"http://[::ffff:192.0.2.1]", 0, "::ffff:192.0.2.1", 1, 80, ""},
    {"http://[1:2:3:4:5:6:192.0.2.1]", 0, "1:2:3:4:5:6:192.0.2.1", 1, 80, ""},
    {"https://example.com/countly///", 1, "example.com", 0, 443, "/countly"},
    {"https://example.com/a/b/", 1, "example.com", 0, 443, "/a/b"},
    {"https://example.com:8443/mount/point", 1, "example.com", 0, 8443, "/mount/point"},
    {"https://example.com/", 1, "example.com", 0, 443, ""},
    {"https://example.com////", 1, "example.com", 0, 443, ""},
    {"HTTPS://Countly.Example.COM/Api/", 1, "countly.example.com", 0, 443, "/Api"},
    {"HtTp://EXAMPLE.com", 0, "example.com", 0, 80, ""},
    {"https://example.com/a%20b/c-d_e.f~g!$&'()*+,;=:", 1, "example.com", 0, 443,
     "/a%20b/c-d_e.f~g!$&'()*+,;=:"},
};

/* One row of good_urls; registered under the URL itself. */
static void url_parse_accepts(void **state)
{
    const good_url *g = *state;
    url_parts parts;
    assert_int_equal(url_parse(g->text, &parts), URL_OK);
    assert_int_equal(parts.tls, g->tls);
    assert_string_equal(parts.host, g->host);
    assert_int_equal(parts.host_is_ipv6, g->host_is_ipv6);
    assert_int_equal(parts.port, g->port);
    assert_string_equal(parts.path, g->path);
}

/* ---- url_parse: rejected URLs ------------------------------------------------- */

static void assert_rejects(const char *text, url_status expected)
{
    url_parts parts;
    url_status got = url_parse(text, &parts);
    if (got != expected)
        print_error("url \"%s\": %s\n", text, url_strerror(got));
    assert_int_equal(got, expected);
}

static void url_parse_rejects_other_schemes(void **state)
{
    (void)state;
    assert_rejects("ftp://example.com", URL_ERR_SCHEME);
    assert_rejects("https:/example.com", URL_ERR_SCHEME);
    assert_rejects("httpx://example.com", URL_ERR_SCHEME);
    assert_rejects("example.com", URL_ERR_SCHEME);
    assert_rejects("//example.com", URL_ERR_SCHEME);
    assert_rejects("", URL_ERR_SCHEME);
    assert_rejects(" https://example.com", URL_ERR_SCHEME);
}

static void url_parse_rejects_missing_host(void **state)
{
    (void)state;
    assert_rejects("https://", URL_ERR_HOST);
    assert_rejects("https:///path", URL_ERR_HOST);
    assert_rejects("https://:443", URL_ERR_HOST);
    assert_rejects("https://[]", URL_ERR_HOST);
}

static void url_parse_rejects_malformed_names(void **state)
{
    (void)state;
    assert_rejects("https://a..b", URL_ERR_HOST);
    assert_rejects("https://.example.com", URL_ERR_HOST);
    assert_rejects("https://example.com.", URL_ERR_HOST);
    assert_rejects("https://ex!ample.com", URL_ERR_HOST);
    assert_rejects("https://ex%41mple.com", URL_ERR_HOST);
    assert_rejects("https://example.com]", URL_ERR_HOST);
}

static void url_parse_rejects_malformed_ipv4(void **state)
{
    (void)state;
    assert_rejects("https://1.2.3", URL_ERR_HOST);
    assert_rejects("https://1.2.3.4.5", URL_ERR_HOST);
    assert_rejects("https://256.1.1.1", URL_ERR_HOST);
    assert_rejects("https://01.2.3.4", URL_ERR_HOST);
    assert_rejects("https://1234", URL_ERR_HOST);
}

static void url_parse_rejects_bad_ports(void **state)
{
    (void)state;
    assert_rejects("https://example.com:0", URL_ERR_PORT);
    assert_rejects("https://example.com:65536", URL_ERR_PORT);
    assert_rejects("https://example.com:99999999999999999999", URL_ERR_PORT);
    assert_rejects("https://example.com:abc", URL_ERR_PORT);
    assert_rejects("https://example.com:", URL_ERR_PORT);
    assert_rejects("https://example.com:-1", URL_ERR_PORT);
    assert_rejects("https://example.com:80x/", URL_ERR_PORT);
    assert_rejects("https://example.com:443:443", URL_ERR_PORT);
    assert_rejects("https://[::1]:", URL_ERR_PORT);
    assert_rejects("https://[::1]:0", URL_ERR_PORT);
}

static void url_parse_rejects_unclosed_ipv6(void **state)
{
    (void)state;
    assert_rejects("https://[::1", URL_ERR_HOST);
    assert_rejects("https://[::1/path", URL_ERR_HOST);
}

static void url_parse_rejects_bad_ipv6(void **state)
{
    (void)state;
    assert_rejects("https://[1:2:3:4:5:6:7:8:9]", URL_ERR_HOST);
    assert_rejects("https://[::1::2]", URL_ERR_HOST);
    assert_rejects("https://[1:2:3:4:5:6:7]", URL_ERR_HOST);
    assert_rejects("https://[1::2:3:4:5:6:7:8]", URL_ERR_HOST);
    assert_rejects("https://[12345::]", URL_ERR_HOST);
    assert_rejects("https://[:1]", URL_ERR_HOST);
    assert_rejects("https://[1:]", URL_ERR_HOST);
    assert_rejects("https://[:::]", URL_ERR_HOST);
    assert_rejects("https://[g::1]", URL_ERR_HOST);
    assert_rejects("https://[1.2.3.4]", URL_ERR_HOST);
    assert_rejects("https://[::1.2.3]", URL_ERR_HOST);
    assert_rejects("https://[::1.2.3.4:5]", URL_ERR_HOST);
    assert_rejects("https://[1:2:3:4:5:6:7:1.2.3.4]", URL_ERR_HOST);
    assert_rejects("https://[fe80::1%25eth0]", URL_ERR_HOST);
    assert_rejects("https://[::1]x", URL_ERR_HOST);
    assert_rejects("https://[example.com]", URL_ERR_HOST);
}

static void url_parse_rejects_userinfo(void **state)
{
    (void)state;
    assert_rejects("https://user@example.com", URL_ERR_SYNTAX);
    assert_rejects("https://user:secret@example.com/", URL_ERR_SYNTAX);
}

static void url_parse_rejects_query_and_fragment(void **state)
{
    (void)state;
    assert_rejects("https://example.com?api_key=1", URL_ERR_SYNTAX);
    assert_rejects("https://example.com/path?x", URL_ERR_SYNTAX);
    assert_rejects("https://example.com#top", URL_ERR_SYNTAX);
    assert_rejects("https://example.com/path#top", URL_ERR_SYNTAX);
}

static void url_parse_rejects_spaces_and_control_characters(void **state)
{
    (void)state;
    assert_rejects("https://example.com ", URL_ERR_SYNTAX);
    assert_rejects("https://exa mple.com", URL_ERR_SYNTAX);
    assert_rejects("https://example.com/a b", URL_ERR_SYNTAX);
    assert_rejects("https://example.com/\t", URL_ERR_SYNTAX);
    assert_rejects("https://example.com/\n", URL_ERR_SYNTAX);
    assert_rejects("https://example.com/\x7f", URL_ERR_SYNTAX);
    assert_rejects("https://exampl\xc3\xa9.com", URL_ERR_SYNTAX);
}

static void url_parse_rejects_bad_path_characters(void **state)
{
    (void)state;
    assert_rejects("https://example.com/a%zz", URL_ERR_SYNTAX);
    assert_rejects("https://example.com/a%2", URL_ERR_SYNTAX);
    assert_rejects("https://example.com/a<b", URL_ERR_SYNTAX);
    assert_rejects("https://example.com/a\\b", URL_ERR_SYNTAX);
    assert_rejects("https://example.com/a\"b", URL_ERR_SYNTAX);
}

/* "https://" + a valid name of host_len bytes (dot-separated labels) + tail. */
static void build_host_url(char *buf, size_t cap, size_t host_len, const char *tail)
{
    size_t pos = (size_t)snprintf(buf, cap, "https://");
    assert_true(pos + host_len + strlen(tail) < cap);
    for (size_t i = 0; i < host_len; i++)
        buf[pos + i] = (i % 50 == 49 && i + 1 < host_len) ? '.' : 'a';
    strcpy(buf + pos + host_len, tail);
}

static void url_host_exactly_at_limit_accepted(void **state)
{
    (void)state;
    char text[URL_HOST_MAX + 64];
    url_parts parts;
    build_host_url(text, sizeof(text), URL_HOST_MAX, ":8443/p");
    assert_int_equal(url_parse(text, &parts), URL_OK);
    assert_int_equal(strlen(parts.host), URL_HOST_MAX);
    assert_int_equal(parts.port, 8443);
}

static void url_host_one_over_limit_rejected(void **state)
{
    (void)state;
    char text[URL_HOST_MAX + 64];
    build_host_url(text, sizeof(text), URL_HOST_MAX + 1, "/p");
    assert_rejects(text, URL_ERR_HOST_LONG);
}

/* "https://h" + a path of path_len bytes + tail. */
static void build_path_url(char *buf, size_t cap, size_t path_len, const char *tail)
{
    size_t pos = (size_t)snprintf(buf, cap, "https://h/");
    assert_true(pos + path_len + strlen(tail) < cap);
    memset(buf + pos, 'p', path_len - 1);
    strcpy(buf + pos + path_len - 1, tail);
}

static void url_path_exactly_at_limit_accepted(void **state)
{
    (void)state;
    char text[URL_PATH_MAX + 64];
    url_parts parts;
    build_path_url(text, sizeof(text), URL_PATH_MAX, "///");
    assert_int_equal(url_parse(text, &parts), URL_OK);
    assert_int_equal(strlen(parts.path), URL_PATH_MAX);
    assert_int_equal(parts.path[0], '/');
}

static void url_path_one_over_limit_rejected(void **state)
{
    (void)state;
    char text[URL_PATH_MAX + 64];
    build_path_url(text, sizeof(text), URL_PATH_MAX + 1, "");
    assert_rejects(text, URL_ERR_PATH_LONG);
}

static void url_parse_null_arguments_rejected(void **state)
{
    (void)state;
    url_parts parts;
    assert_int_equal(url_parse(NULL, &parts), URL_ERR_SYNTAX);
    assert_int_equal(url_parse("https://example.com", NULL), URL_ERR_SYNTAX);
}

/* ---- url_host_header ---------------------------------------------------------- */

static void assert_host_header(const char *url, const char *expected)
{
    url_parts parts;
    char out[URL_HOST_MAX + 16];
    assert_int_equal(url_parse(url, &parts), URL_OK);
    assert_int_equal(url_host_header(&parts, out, sizeof(out)), URL_OK);
    assert_string_equal(out, expected);
}

static void host_header_omits_default_port(void **state)
{
    (void)state;
    assert_host_header("https://Countly.Example.com/", "countly.example.com");
    assert_host_header("http://countly.example.com:80", "countly.example.com");
    assert_host_header("https://countly.example.com:443", "countly.example.com");
}

static void host_header_includes_other_port(void **state)
{
    (void)state;
    assert_host_header("https://countly.example.com:8443", "countly.example.com:8443");
    assert_host_header("http://countly.example.com:443", "countly.example.com:443");
    assert_host_header("https://countly.example.com:80", "countly.example.com:80");
    assert_host_header("http://10.0.0.1:1", "10.0.0.1:1");
    assert_host_header("http://10.0.0.1:65535", "10.0.0.1:65535");
}

static void host_header_brackets_ipv6(void **state)
{
    (void)state;
    assert_host_header("https://[::1]", "[::1]");
    assert_host_header("https://[::1]:8443", "[::1]:8443");
    assert_host_header("http://[2001:DB8::1]:80/x", "[2001:db8::1]");
}

static void host_header_no_room_exact_fit_vs_one_short(void **state)
{
    (void)state;
    url_parts parts;
    char out[32];
    assert_int_equal(url_parse("https://[::1]:8443", &parts), URL_OK);
    /* "[::1]:8443" is 10 bytes plus NUL */
    assert_int_equal(url_host_header(&parts, out, 11), URL_OK);
    assert_string_equal(out, "[::1]:8443");
    memset(out, 'x', sizeof(out));
    assert_int_equal(url_host_header(&parts, out, 10), URL_ERR_NO_ROOM);
    assert_string_equal(out, "");
    assert_int_equal(url_host_header(&parts, out, 0), URL_ERR_NO_ROOM);
    assert_int_equal(url_parse("http://abc", &parts), URL_OK);
    assert_int_equal(url_host_header(&parts, out, 4), URL_OK);
    assert_string_equal(out, "abc");
    assert_int_equal(url_host_header(&parts, out, 3), URL_ERR_NO_ROOM);
    assert_string_equal(out, "");
}

/* ---- url_normalize: the server's identity --------------------------------------- */

static void assert_normalized(const char *url, const char *expected)
{
    url_parts parts;
    char out[CONFIG_URL_MAX];
    assert_int_equal(url_parse(url, &parts), URL_OK);
    assert_int_equal(url_normalize(&parts, out, sizeof out), URL_OK);
    assert_string_equal(out, expected);
}

static void normalize_lowercases_host_drops_default_port_and_trailing_slash(void **state)
{
    (void)state;
    assert_normalized("https://countly.example.com", "https://countly.example.com");
    assert_normalized("HTTPS://Countly.Example.COM:443/", "https://countly.example.com");
    assert_normalized("https://countly.example.com:8443/Countly//",
                      "https://countly.example.com:8443/Countly");
    assert_normalized("http://127.0.0.1:80/", "http://127.0.0.1");
    assert_normalized("http://localhost:443", "http://localhost:443");
    assert_normalized("https://[2001:DB8::1]:443/p", "https://[2001:db8::1]/p");
    /* the same machine under two names is two identities */
    assert_normalized("https://127.0.0.1:8443", "https://127.0.0.1:8443");
    assert_normalized("https://localhost:8443", "https://localhost:8443");
}

static void normalize_no_room(void **state)
{
    (void)state;
    url_parts parts;
    char out[32];
    assert_int_equal(url_parse("https://abc:8443/p", &parts), URL_OK);
    assert_int_equal(url_normalize(&parts, out, 19), URL_OK); /* 18 bytes and NUL */
    assert_string_equal(out, "https://abc:8443/p");
    assert_int_equal(url_normalize(&parts, out, 18), URL_ERR_NO_ROOM);
    assert_string_equal(out, "");
    assert_int_equal(url_normalize(&parts, out, 14), URL_ERR_NO_ROOM);
    assert_string_equal(out, "");
    assert_int_equal(url_normalize(&parts, out, 8), URL_ERR_NO_ROOM);
}

/* ---- percent-encoding (through url_append_query) ------------------------------ */

#define COUNTLY_FILTER "{\"lac\":{\"$gte\":1716000000,\"$lt\":1717650000}}"
#define COUNTLY_FILTER_ENCODED                                                                     \
    "%7B%22lac%22%3A%7B%22%24gte%22%3A1716000000%2C%22%24lt%22%3A1717650000%7D%7D"

/* The encoding of in, as a query value: "/?k=<encoded>" minus its head. */
static const char *encoded(const char *in)
{
    static char buf[512];
    memcpy(buf, "/", 2);
    assert_int_equal(url_append_query(buf, sizeof buf, "k", in), URL_OK);
    assert_memory_equal(buf, "/?k=", 4);
    return buf + 4;
}

static void encode_countly_json_filter(void **state)
{
    (void)state;
    assert_string_equal(encoded(COUNTLY_FILTER), COUNTLY_FILTER_ENCODED);
}

static void encode_unreserved_pass_through(void **state)
{
    (void)state;
    assert_string_equal(encoded("ABCXYZabcxyz0189-._~"), "ABCXYZabcxyz0189-._~");
}

static void encode_reserved_and_space_as_uppercase_hex(void **state)
{
    (void)state;
    assert_string_equal(encoded(" +/?&=%#:@!*'()[]"),
                        "%20%2B%2F%3F%26%3D%25%23%3A%40%21%2A%27%28%29%5B%5D");
}

static void encode_utf8_bytes(void **state)
{
    (void)state;
    assert_string_equal(encoded("caf\xc3\xa9 \xe6\x97\xa5\xf0\x9f\x98\x80"),
                        "caf%C3%A9%20%E6%97%A5%F0%9F%98%80");
}

static void encode_control_and_high_bytes(void **state)
{
    (void)state;
    assert_string_equal(encoded("a\x01"
                                "b\x7f\xff"),
                        "a%01b%7F%FF");
}

static void encode_empty_input(void **state)
{
    (void)state;
    assert_string_equal(encoded(""), "");
}

static void encode_no_room_exact_fit_vs_one_short(void **state)
{
    (void)state;
    char buf[16];
    /* "/?k=a%20b": 9 bytes plus NUL */
    memcpy(buf, "/", 2);
    assert_int_equal(url_append_query(buf, 10, "k", "a b"), URL_OK);
    assert_string_equal(buf, "/?k=a%20b");
    memcpy(buf, "/", 2);
    assert_int_equal(url_append_query(buf, 9, "k", "a b"), URL_ERR_NO_ROOM);
    assert_string_equal(buf, "/"); /* unchanged */
    memcpy(buf, "/", 2);
    assert_int_equal(url_append_query(buf, 9, "k", "ab "), URL_ERR_NO_ROOM);
    assert_string_equal(buf, "/");
}

/* ---- url_append_query --------------------------------------------------------- */

static void append_query_builds_countly_request(void **state)
{
    (void)state;
    char buf[512] = "/o/db";
    assert_int_equal(url_append_query(buf, sizeof(buf), "db", "countly"), URL_OK);
    assert_int_equal(url_append_query(buf, sizeof(buf), "filter", COUNTLY_FILTER), URL_OK);
    assert_int_equal(url_append_query(buf, sizeof(buf), "limit", "1000"), URL_OK);
    assert_string_equal(buf, "/o/db?db=countly&filter=" COUNTLY_FILTER_ENCODED "&limit=1000");
}

static void append_query_encodes_key_and_empty_value(void **state)
{
    (void)state;
    char buf[64] = "/x";
    assert_int_equal(url_append_query(buf, sizeof(buf), "a b&c", ""), URL_OK);
    assert_string_equal(buf, "/x?a%20b%26c=");
}

static void append_query_no_room_leaves_buffer_unchanged(void **state)
{
    (void)state;
    char buf[32] = "/o?x=1";
    /* "/o?x=1" + "&k=a%20b" is 14 bytes plus NUL */
    assert_int_equal(url_append_query(buf, 14, "k", "a b"), URL_ERR_NO_ROOM);
    assert_string_equal(buf, "/o?x=1");
    assert_int_equal(url_append_query(buf, 15, "k", "a b"), URL_OK);
    assert_string_equal(buf, "/o?x=1&k=a%20b");
}

static void append_query_unterminated_buffer_is_no_room(void **state)
{
    (void)state;
    char buf[4] = {'a', 'b', 'c', 'd'};
    assert_int_equal(url_append_query(buf, sizeof(buf), "k", "v"), URL_ERR_NO_ROOM);
    assert_memory_equal(buf, "abcd", 4);
}

static void append_query_null_arguments_rejected(void **state)
{
    (void)state;
    char buf[16] = "/";
    assert_int_equal(url_append_query(buf, sizeof(buf), NULL, "v"), URL_ERR_SYNTAX);
    assert_int_equal(url_append_query(buf, sizeof(buf), "k", NULL), URL_ERR_SYNTAX);
    assert_int_equal(url_append_query(NULL, 16, "k", "v"), URL_ERR_SYNTAX);
    assert_string_equal(buf, "/");
}

/* ---- url_strerror ------------------------------------------------------------- */

static void strerror_names_limits_and_every_status(void **state)
{
    (void)state;
    char expect[64];
    snprintf(expect, sizeof(expect), "URL_HOST_MAX (%d bytes)", URL_HOST_MAX);
    assert_non_null(strstr(url_strerror(URL_ERR_HOST_LONG), expect));
    snprintf(expect, sizeof(expect), "URL_PATH_MAX (%d bytes)", URL_PATH_MAX);
    assert_non_null(strstr(url_strerror(URL_ERR_PATH_LONG), expect));
    for (int s = URL_OK; s <= URL_ERR_NO_ROOM; s++)
        assert_string_not_equal(url_strerror((url_status)s), "unknown URL status");
    assert_string_equal(url_strerror((url_status)42), "unknown URL status");
}

#define GOOD_COUNT (sizeof(good_urls) / sizeof(good_urls[0]))

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(url_parse_rejects_other_schemes),
        cmocka_unit_test(url_parse_rejects_missing_host),
        cmocka_unit_test(url_parse_rejects_malformed_names),
        cmocka_unit_test(url_parse_rejects_malformed_ipv4),
        cmocka_unit_test(url_parse_rejects_bad_ports),
        cmocka_unit_test(url_parse_rejects_unclosed_ipv6),
        cmocka_unit_test(url_parse_rejects_bad_ipv6),
        cmocka_unit_test(url_parse_rejects_userinfo),
        cmocka_unit_test(url_parse_rejects_query_and_fragment),
        cmocka_unit_test(url_parse_rejects_spaces_and_control_characters),
        cmocka_unit_test(url_parse_rejects_bad_path_characters),
        cmocka_unit_test(url_host_exactly_at_limit_accepted),
        cmocka_unit_test(url_host_one_over_limit_rejected),
        cmocka_unit_test(url_path_exactly_at_limit_accepted),
        cmocka_unit_test(url_path_one_over_limit_rejected),
        cmocka_unit_test(url_parse_null_arguments_rejected),
        cmocka_unit_test(host_header_omits_default_port),
        cmocka_unit_test(host_header_includes_other_port),
        cmocka_unit_test(host_header_brackets_ipv6),
        cmocka_unit_test(host_header_no_room_exact_fit_vs_one_short),
        cmocka_unit_test(normalize_lowercases_host_drops_default_port_and_trailing_slash),
        cmocka_unit_test(normalize_no_room),
        cmocka_unit_test(encode_countly_json_filter),
        cmocka_unit_test(encode_unreserved_pass_through),
        cmocka_unit_test(encode_reserved_and_space_as_uppercase_hex),
        cmocka_unit_test(encode_utf8_bytes),
        cmocka_unit_test(encode_control_and_high_bytes),
        cmocka_unit_test(encode_empty_input),
        cmocka_unit_test(encode_no_room_exact_fit_vs_one_short),
        cmocka_unit_test(append_query_builds_countly_request),
        cmocka_unit_test(append_query_encodes_key_and_empty_value),
        cmocka_unit_test(append_query_no_room_leaves_buffer_unchanged),
        cmocka_unit_test(append_query_unterminated_buffer_is_no_room),
        cmocka_unit_test(append_query_null_arguments_rejected),
        cmocka_unit_test(strerror_names_limits_and_every_status),
    };
    /* one test per accepted URL, named after it, then the fixed tests */
    static struct CMUnitTest tests[GOOD_COUNT + sizeof(fixed) / sizeof(fixed[0])];
    for (size_t i = 0; i < GOOD_COUNT; i++) {
        tests[i] = (struct CMUnitTest){good_urls[i].text, url_parse_accepts, NULL, NULL,
                                       (void *)&good_urls[i]};
    }
    memcpy(tests + GOOD_COUNT, fixed, sizeof(fixed));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
