/*
 * test_jstream.c - unit tests of the streaming record splitter.
 *
 * Every body is scanned by scan_all(): whole, one byte at a time, split in
 * two at every point (bodies under 4 KiB) and in random fragments (fixed
 * seeds), each fragment copied into its own exact-size heap buffer so ASan
 * sees any read past it. All ways must give identical records (collected as
 * text: index, key, JSON), status, error offset, record and scalars; the
 * whole-body outcome is then checked against the expectation.
 *
 * jstream writes each record's tokens itself while it copies the record;
 * jsmn (compiled in jstream.c, configured by json_tokens.h exactly as the
 * tokens promise to be) is the oracle: every record delivered, every way it
 * is fed, is parsed again with jsmn and its tokens must be identical field
 * by field, and a record refused for JSTREAM_TOKENS_MAX must make jsmn run
 * out of tokens too.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jstream.h"

#define SPLIT_ALL_BELOW 4096
#define RANDOM_SEEDS    4

typedef struct {
    jstream_status status; /* of finish() (or of the feed that failed) */
    uint64_t offset;
    uint64_t error_offset;
    unsigned long error_record;
    int error_in_record;
    unsigned long records;
    int has_total, has_end, has_limit, has_message;
    int64_t total, end, limit;
    char message[JSTREAM_MESSAGE_MAX + 1];
    char record_id[JSTREAM_ID_MAX + 4];
    char describe[512];
    char *log; /* "index|key|json\n" per record delivered */
    size_t log_len;
    size_t log_cap;
    unsigned long calls;
    unsigned long abort_after; /* return non-zero on this call (1-based); 0 never */
    jstream_envelope envelope;
} outcome;

static void log_append(outcome *o, const char *text, size_t len)
{
    if (o->log_len + len + 1 > o->log_cap) {
        o->log_cap = (o->log_len + len + 1) * 2;
        o->log = realloc(o->log, o->log_cap);
        assert_non_null(o->log);
    }
    memcpy(o->log + o->log_len, text, len);
    o->log_len += len;
    o->log[o->log_len] = '\0';
}

/* Fails with the first field that differs. */
static void assert_same_tokens(const jsmntok_t *got, int got_count, const jsmntok_t *want,
                               int want_count, const char *json)
{
    if (got_count != want_count)
        fail_msg("token count %d, expected %d, in %s", got_count, want_count, json);
    for (int i = 0; i < want_count; i++) {
        const jsmntok_t *a = &got[i];
        const jsmntok_t *b = &want[i];
        if (a->type != b->type || a->start != b->start || a->end != b->end || a->size != b->size ||
            a->parent != b->parent) {
            fail_msg("token %d is {type %d, start %d, end %d, size %d, parent %d}, expected "
                     "{type %d, start %d, end %d, size %d, parent %d}, in %s",
                     i, (int)a->type, a->start, a->end, a->size, a->parent, (int)b->type, b->start,
                     b->end, b->size, b->parent, json);
        }
    }
}

/* jsmn on the record text (a trailing space lets strict jsmn end a bare number). */
static int jsmn_tokens(const char *json, size_t len, jsmntok_t *tokens)
{
    static char text[JSTREAM_RECORD_MAX + 2];
    jsmn_parser parser;
    assert_true(len <= JSTREAM_RECORD_MAX);
    memcpy(text, json, len);
    text[len] = ' ';
    jsmn_init(&parser);
    return jsmn_parse(&parser, text, len + 1, tokens, JSTREAM_TOKENS_MAX);
}

static void assert_tokens_are_jsmns(const jstream_record *record)
{
    static jsmntok_t want[JSTREAM_TOKENS_MAX];
    int count = jsmn_tokens(record->json, record->len, want);
    assert_true(count >= 1);
    assert_same_tokens(record->tokens, record->token_count, want, count, record->json);
}

/* When set, every record delivered must have exactly these tokens. */
static const jsmntok_t *expected_tokens;
static int expected_token_count;

static int collect(void *user, const jstream_record *record)
{
    outcome *o = user;
    char head[128];
    int n;
    assert_non_null(record->json);
    assert_int_equal(record->json[record->len], '\0');
    assert_int_equal(strlen(record->json), record->len);
    assert_true(record->token_count >= 1);
    /* tokens[0] spans the record (jsmn leaves a string's quotes out) */
    int quoted = record->tokens[0].type == JSMN_STRING;
    assert_int_equal(record->tokens[0].start, quoted);
    assert_int_equal(record->tokens[0].end, (int)record->len - quoted);
    assert_int_equal(record->tokens[0].parent, -1);
    assert_tokens_are_jsmns(record);
    /* plain: no escape in the record (a backslash is only ever one in compact JSON) */
    assert_int_equal(record->plain, strchr(record->json, '\\') == NULL);
    if (expected_tokens != NULL) {
        assert_same_tokens(record->tokens, record->token_count, expected_tokens,
                           expected_token_count, record->json);
    }
    if (o->envelope == JSTREAM_ENVELOPE_APPS)
        assert_non_null(record->key);
    else
        assert_null(record->key);
    n = snprintf(head, sizeof(head), "%lu|%s|", record->index,
                 record->key != NULL ? record->key : "");
    log_append(o, head, (size_t)n);
    log_append(o, record->json, record->len);
    log_append(o, "\n", 1);
    o->calls++;
    return o->abort_after != 0 && o->calls == o->abort_after;
}

static void outcome_free(outcome *o)
{
    free(o->log);
    free(o);
}

/* Feeds body in the pieces cut at cuts[0..n) (increasing offsets). */
static outcome *run_pieces(jstream_envelope envelope, const uint8_t *body, size_t len,
                           const size_t *cuts, size_t n, unsigned long abort_after)
{
    outcome *o = calloc(1, sizeof(*o));
    jstream *js = malloc(sizeof(*js));
    size_t from = 0;
    assert_non_null(o);
    assert_non_null(js);
    o->envelope = envelope;
    o->abort_after = abort_after;
    log_append(o, "", 0);
    jstream_init(js, envelope);
    for (size_t i = 0; i <= n; i++) {
        size_t to = i < n ? cuts[i] : len;
        uint8_t *piece = malloc(to - from + 1);
        assert_non_null(piece);
        memcpy(piece, body + from, to - from);
        jstream_status st = jstream_feed(js, piece, to - from, collect, o);
        free(piece);
        assert_int_equal(st, js->error);
        from = to;
    }
    o->status = jstream_finish(js);
    assert_int_equal(jstream_finish(js), o->status); /* sticky */
    if (o->status == JSTREAM_ERR_TOO_MANY_TOKENS) {
        /* the compacted record jstream refused is too many tokens for jsmn too */
        static jsmntok_t tokens[JSTREAM_TOKENS_MAX];
        assert_int_equal(jsmn_tokens(js->record, js->record_len, tokens), JSMN_ERROR_NOMEM);
    }
    o->offset = js->offset;
    o->error_offset = js->error_offset;
    o->error_record = js->error_record;
    o->error_in_record = js->error_in_record;
    o->records = js->records;
    o->has_total = js->has_total;
    o->has_end = js->has_end;
    o->has_limit = js->has_limit;
    o->has_message = js->has_message;
    o->total = js->total;
    o->end = js->end;
    o->limit = js->limit;
    memcpy(o->message, js->message, sizeof(o->message));
    memcpy(o->record_id, js->record_id, sizeof(o->record_id));
    jstream_describe(js, o->describe, sizeof(o->describe));
    free(js);
    return o;
}

static void assert_same(const outcome *a, const outcome *b)
{
    assert_int_equal(a->status, b->status);
    assert_int_equal(a->offset, b->offset);
    assert_int_equal(a->error_offset, b->error_offset);
    assert_int_equal(a->error_record, b->error_record);
    assert_int_equal(a->error_in_record, b->error_in_record);
    assert_int_equal(a->records, b->records);
    assert_int_equal(a->has_total, b->has_total);
    assert_int_equal(a->has_end, b->has_end);
    assert_int_equal(a->has_limit, b->has_limit);
    assert_int_equal(a->has_message, b->has_message);
    assert_int_equal(a->total, b->total);
    assert_int_equal(a->end, b->end);
    assert_int_equal(a->limit, b->limit);
    assert_string_equal(a->message, b->message);
    assert_string_equal(a->record_id, b->record_id);
    assert_string_equal(a->describe, b->describe);
    assert_string_equal(a->log, b->log);
}

static uint32_t next_random(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 8) & 0xFFFFFF;
}

static void check_random_fragments(const outcome *whole, jstream_envelope envelope,
                                   const uint8_t *body, size_t len, unsigned long abort_after)
{
    size_t *cuts = malloc((len + 1) * sizeof(size_t));
    assert_non_null(cuts);
    for (uint32_t seed = 1; seed <= RANDOM_SEEDS; seed++) {
        uint32_t state = seed * 2654435761u;
        size_t n = 0;
        size_t at = 0;
        for (;;) {
            at += next_random(&state) % (seed * 24); /* zero-length pieces too */
            if (at >= len)
                break;
            cuts[n++] = at;
        }
        outcome *o = run_pieces(envelope, body, len, cuts, n, abort_after);
        assert_same(whole, o);
        outcome_free(o);
    }
    free(cuts);
}

/* Scans body every way; returns the whole-body outcome (outcome_free it). */
static outcome *scan_all_len(jstream_envelope envelope, const void *data, size_t len,
                             unsigned long abort_after)
{
    const uint8_t *body = data;
    outcome *whole = run_pieces(envelope, body, len, NULL, 0, abort_after);
    size_t *cuts = malloc((len + 1) * sizeof(size_t));
    assert_non_null(cuts);
    for (size_t i = 1; i < len; i++)
        cuts[i - 1] = i;
    outcome *bytes = run_pieces(envelope, body, len, cuts, len > 0 ? len - 1 : 0, abort_after);
    assert_same(whole, bytes);
    outcome_free(bytes);
    for (size_t i = 0; len < SPLIT_ALL_BELOW && i <= len; i++) {
        cuts[0] = i;
        outcome *two = run_pieces(envelope, body, len, cuts, 1, abort_after);
        assert_same(whole, two);
        outcome_free(two);
    }
    free(cuts);
    check_random_fragments(whole, envelope, body, len, abort_after);
    return whole;
}

static outcome *scan_all(jstream_envelope envelope, const char *body)
{
    return scan_all_len(envelope, body, strlen(body), 0);
}

/* ---- countly-api.md section 6 bodies ------------------------------------------- */

#define APP1                                                                                       \
    "{\"_id\":\"64b0ac10c2c3ce0012dd1001\",\"category\":\"6\",\"country\":\"US\",\"key\":"         \
    "\"3a4f9d0c2b7e4e1f9a8b7c6d5e4f3a2b1c0d9e8f\",\"name\":\"Acme Shop "                           \
    "iOS\",\"timezone\":\"America/New_York\",\"salt\":\"\"}"
#define APP2                                                                                       \
    "{\"_id\":\"64b0ac10c2c3ce0012dd1002\",\"category\":\"3\",\"country\":\"DE\",\"key\":"         \
    "\"b7c1e2f3a4d5968778695a4b3c2d1e0f9a8b7c6d\",\"name\":\"Acme Web &amp; "                      \
    "Mobile\",\"timezone\":\"Europe/Berlin\",\"salt\":\"x9Kq2LmP\"}"
#define APPS_MAP "{\"64b0ac10c2c3ce0012dd1001\":" APP1 ",\"64b0ac10c2c3ce0012dd1002\":" APP2 "}"

static const char apps_all_body[] = "{\"admin_of\":" APPS_MAP ",\"user_of\":" APPS_MAP "}";

#define DB_APP1                                                                                    \
    "{\"_id\":\"ObjectId(64b0ac10c2c3ce0012dd1001)\",\"name\":\"Acme Shop "                        \
    "iOS\",\"country\":\"US\",\"type\":\"mobile\",\"category\":\"6\",\"key\":"                     \
    "\"3a4f9d0c2b7e4e1f9a8b7c6d5e4f3a2b1c0d9e8f\",\"timezone\":\"America/New_York\","              \
    "\"created_at\":1689299984,\"edited_at\":1712053321,\"owner\":\"64afcc1a4f5f0f0012a11101\","   \
    "\"seq\":3,\"has_image\":false,\"plugins\":{},\"last_data\":1717600200}"
#define DB_APP2                                                                                    \
    "{\"_id\":\"ObjectId(64b0ac10c2c3ce0012dd1002)\",\"name\":\"Acme Web & "                       \
    "Mobile\",\"country\":\"DE\",\"type\":\"web\",\"category\":\"3\",\"key\":"                     \
    "\"b7c1e2f3a4d5968778695a4b3c2d1e0f9a8b7c6d\",\"timezone\":\"Europe/Berlin\","                 \
    "\"created_at\":1689299985,\"edited_at\":1689299985,\"owner\":\"64afcc1a4f5f0f0012a11101\","   \
    "\"seq\":0,\"has_image\":true,\"salt\":\"x9Kq2LmP\",\"plugins\":{\"consolidate\":[]},"         \
    "\"last_data\":1717000000}"

static const char db_apps_body[] =
    "{\"limit\":100, \"start\":1, \"end\":2, \"total\":2, "
    "\"pages\":1, \"curPage\":1, \"collections\":[" DB_APP1 "," DB_APP2 "]}";

#define GROUP1                                                                                     \
    "{\"_id\":\"65a0b1c2d3e4f5a6b7c8d9e0\",\"name\":\"Marketing "                                  \
    "Team\",\"groupID\":\"marketing-team\",\"global_admin\":false,\"permission\":{\"c\":{},"       \
    "\"r\":{\"64b0ac10c2c3ce0012dd1001\":{\"all\":true,\"allowed\":{}}},\"u\":{},\"d\":{},"        \
    "\"_\":{\"u\":[[\"64b0ac10c2c3ce0012dd1001\"]],\"a\":[]}},\"users\":["                         \
    "\"64c1f0e2a1b2c3d4e5f60718\",\"64c1f0e2a1b2c3d4e5f60719\"],\"matched_users_count\":2}"
#define GROUP2                                                                                     \
    "{\"_id\":\"65a0b1c2d3e4f5a6b7c8d9e1\",\"name\":\"Platform "                                   \
    "Admins\",\"groupID\":\"platform-admins\",\"global_admin\":true,\"permission\":{\"c\":{},"     \
    "\"r\":{},\"u\":{},\"d\":{},\"_\":{\"u\":[],\"a\":[]}},\"users\":["                            \
    "\"64afcc1a4f5f0f0012a11101\"],\"matched_users_count\":1}"

static const char groups_body[] = "{\"result\":[" GROUP1 "," GROUP2 "]}";

#define USER1                                                                                      \
    "{\"_id\":\"270a7ed80e6dd551a9c0b519f46c7a06e1be8e2a\",\"uid\":\"2\",\"did\":"                 \
    "\"c41e9f0a7b3d2e15\",\"fac\":1705312800,\"first_sync\":1705312801,\"fs\":1705312800,"         \
    "\"ls\":1716400000,\"lac\":1716405000,\"last_sync\":1716405001,\"lu\":{\"$date\":"             \
    "\"2024-05-22T19:10:01.204Z\"},\"sc\":3,\"tsd\":420,\"sd\":0,\"lsid\":"                        \
    "\"5f0c2b7e1a9d4c3e8b6a7f21\",\"hos\":false,\"cc\":\"DE\",\"cty\":\"Berlin\",\"rgn\":"         \
    "\"BE\",\"tz\":\"120\",\"p\":\"Android\",\"pv\":\"a14\",\"d\":\"SM-S911B\",\"mnf\":"           \
    "\"samsung\",\"dt\":\"phone\",\"r\":\"1080x2340\",\"dnst\":\"XXHDPI\",\"c\":\"Telekom.de\","   \
    "\"av\":\"2:3:0\",\"av_major\":2,\"av_minor\":3,\"av_patch\":0,\"sdk\":{\"name\":"             \
    "\"java-native-android\",\"version\":\"24.4.1\"}}"
#define USER2                                                                                      \
    "{\"_id\":\"0d3a243a95b1af7e3a94331878424fd05811eadc\",\"uid\":\"1\",\"did\":"                 \
    "\"jane.doe@example.com\",\"t\":\"0\",\"hasInfo\":true,\"fac\":1700000000,\"first_sync\":"     \
    "1700000001,\"fs\":1700000000,\"ls\":1717590000,\"lac\":1717600300,\"last_sync\":"             \
    "1717600301,\"lu\":{\"$date\":\"2024-06-05T15:11:41.877Z\"},\"sc\":42,\"tsd\":18234,\"sd\":"   \
    "0,\"lsid\":\"6660812ff3a1b2c3d4e5f607\",\"hos\":false,\"cc\":\"US\",\"cty\":\"New "           \
    "York\",\"rgn\":\"NY\",\"loc\":{\"gps\":true,\"geo\":{\"type\":\"Point\",\"coordinates\":"     \
    "[-73.9857,40.7484]},\"date\":1717590000123},\"tz\":\"-240\",\"p\":\"iOS\",\"pv\":"            \
    "\"i17:4\",\"d\":\"iPhone15,2\",\"r\":\"1179x2556\",\"c\":\"Verizon\",\"av\":\"2:4:1\","       \
    "\"av_major\":2,\"av_minor\":4,\"av_patch\":1,\"name\":\"Jane "                                \
    "Doe\",\"username\":\"jdoe\",\"email\":\"jane.doe@example.com\",\"organization\":\"Acme\","    \
    "\"phone\":\"+15551234567\",\"picture\":\"https://cdn.example.com/u/jane.png\",\"gender\":"    \
    "\"F\",\"byear\":1990,\"custom\":{\"plan\":\"pro\",\"logins\":17,\"tags\":[\"beta\","          \
    "\"vip\"]},\"sdk\":{\"name\":\"objc-native-ios\",\"version\":\"24.4.0\"}}"
#define USER3                                                                                      \
    "{\"_id\":\"3ab2b147d94ae3ca3633f88da65776ac0e6334cf\",\"uid\":\"3\",\"did\":"                 \
    "\"8D2F6C1E-4B7A-4C1D-9E3F-2A6B5C4D3E2F\",\"fac\":1717599100,\"first_sync\":1717599101,"       \
    "\"fs\":1717599100,\"ls\":1717599100,\"lac\":1717600500,\"last_sync\":1717600501,\"sc\":1,"    \
    "\"tsd\":65,\"sd\":65,\"hos\":true,\"cc\":\"Unknown\",\"cty\":\"Unknown\",\"p\":\"iOS\","      \
    "\"pv\":\"i16:7:2\",\"d\":\"iPhone12,1\",\"r\":\"828x1792\",\"av\":\"2:4:1\",\"name\":"        \
    "\"Zo\\u00eb M\\u00fcller\",\"custom\":{}}"

static const char users_page1_body[] =
    "{\"limit\":2, \"start\":1, \"end\":2, \"total\":3, "
    "\"pages\":2, \"curPage\":1, \"collections\":[" USER1 "," USER2 "]}";
static const char users_page2_body[] = "{\"limit\":2, \"start\":3, \"end\":3, \"total\":3, "
                                       "\"pages\":2, \"curPage\":2, \"collections\":[" USER3 "]}";

static void apps_all_reports_each_app_once(void **state)
{
    (void)state;
    outcome *o = scan_all(JSTREAM_ENVELOPE_APPS, apps_all_body);
    assert_int_equal(o->status, JSTREAM_OK);
    assert_int_equal(o->records, 2);
    /* the user_of copies take indexes 2 and 3 but are not delivered */
    assert_string_equal(o->log, "0|64b0ac10c2c3ce0012dd1001|" APP1 "\n"
                                "1|64b0ac10c2c3ce0012dd1002|" APP2 "\n");
    assert_int_equal(o->has_total, 0);
    assert_int_equal(o->has_message, 0);
    assert_int_equal(o->offset, strlen(apps_all_body));
    outcome_free(o);
}

static void apps_mine_delivers_user_only_apps_with_their_position(void **state)
{
    (void)state;
    static const char body[] =
        "{\"admin_of\":{\"64b0ac10c2c3ce0012dd1001\":" APP1 "},\"user_of\":" APPS_MAP "}";
    outcome *o = scan_all(JSTREAM_ENVELOPE_APPS, body);
    assert_int_equal(o->status, JSTREAM_OK);
    assert_int_equal(o->records, 2);
    assert_string_equal(o->log, "0|64b0ac10c2c3ce0012dd1001|" APP1 "\n"
                                "2|64b0ac10c2c3ce0012dd1002|" APP2 "\n");
    outcome_free(o);
}

static void apps_ids_are_compared_as_binary(void **state)
{
    (void)state;
    outcome *o = scan_all(JSTREAM_ENVELOPE_APPS, "{\"admin_of\":{\"64B0AC10C2C3CE0012DD1001\":{}},"
                                                 "\"user_of\":{\"64b0ac10c2c3ce0012dd1001\":{}}}");
    assert_int_equal(o->status, JSTREAM_OK);
    assert_string_equal(o->log, "0|64B0AC10C2C3CE0012DD1001|{}\n");
    outcome_free(o);
}

static void db_apps_body_reports_records_and_scalars(void **state)
{
    (void)state;
    outcome *o = scan_all(JSTREAM_ENVELOPE_DB, db_apps_body);
    assert_int_equal(o->status, JSTREAM_OK);
    assert_int_equal(o->records, 2);
    assert_string_equal(o->log, "0||" DB_APP1 "\n1||" DB_APP2 "\n");
    assert_true(o->has_total && o->has_end && o->has_limit);
    assert_int_equal(o->total, 2);
    assert_int_equal(o->end, 2);
    assert_int_equal(o->limit, 100);
    assert_int_equal(o->has_message, 0);
    outcome_free(o);
}

static void groups_body_reports_records(void **state)
{
    (void)state;
    outcome *o = scan_all(JSTREAM_ENVELOPE_GROUPS, groups_body);
    assert_int_equal(o->status, JSTREAM_OK);
    assert_int_equal(o->records, 2);
    assert_string_equal(o->log, "0||" GROUP1 "\n1||" GROUP2 "\n");
    assert_int_equal(o->has_message, 0);
    outcome_free(o);
}

static void groups_community_edition_error_is_a_message(void **state)
{
    (void)state;
    outcome *o = scan_all(JSTREAM_ENVELOPE_GROUPS, "{\"result\":\"Invalid path\"}");
    assert_int_equal(o->status, JSTREAM_OK);
    assert_int_equal(o->records, 0);
    assert_int_equal(o->has_message, 1);
    assert_string_equal(o->message, "Invalid path");
    outcome_free(o);
}

static void error_bodies_give_the_message_in_every_envelope(void **state)
{
    (void)state;
    static const char body[] = "{\"result\":\"Missing parameter \\\"api_key\\\" or "
                               "\\\"auth_token\\\"\"}";
    for (int env = JSTREAM_ENVELOPE_DB; env <= JSTREAM_ENVELOPE_LIST; env++) {
        outcome *o = scan_all((jstream_envelope)env, body);
        assert_int_equal(o->status, JSTREAM_OK);
        assert_int_equal(o->records, 0);
        assert_int_equal(o->has_message, 1);
        assert_string_equal(o->message, "Missing parameter \"api_key\" or \"auth_token\"");
        outcome_free(o);
    }
}

static void users_page_1_has_two_records_and_scalars(void **state)
{
    (void)state;
    outcome *o = scan_all(JSTREAM_ENVELOPE_DB, users_page1_body);
    assert_int_equal(o->status, JSTREAM_OK);
    assert_int_equal(o->records, 2);
    assert_string_equal(o->log, "0||" USER1 "\n1||" USER2 "\n");
    assert_int_equal(o->total, 3);
    assert_int_equal(o->end, 2);
    assert_int_equal(o->limit, 2);
    outcome_free(o);
}

static void users_page_2_keeps_escapes_in_the_record_text(void **state)
{
    (void)state;
    outcome *o = scan_all(JSTREAM_ENVELOPE_DB, users_page2_body);
    assert_int_equal(o->status, JSTREAM_OK);
    assert_int_equal(o->records, 1);
    assert_string_equal(o->log, "0||" USER3 "\n");
    assert_non_null(strstr(o->log, "\"Zo\\u00eb M\\u00fcller\""));
    assert_int_equal(o->total, 3);
    assert_int_equal(o->end, 3);
    assert_int_equal(o->limit, 2);
    outcome_free(o);
}

static void db_pages_infinity_nan_are_accepted(void **state)
{
    (void)state;
    static const char *const bodies[] = {
        ("{\"limit\":0,\"start\":1,\"end\":1,\"total\":1,\"pages\":Infinity,\"curPage\":1,"
         "\"collections\":[{\"_id\":\"a\"}]}"),
        "{\"pages\":-Infinity,\"collections\":[{\"_id\":\"a\"}],\"total\":1}",
        "{\"pages\" : NaN , \"collections\":[{\"_id\":\"a\"}],\"total\":1}",
    };
    for (size_t i = 0; i < 3; i++) {
        outcome *o = scan_all(JSTREAM_ENVELOPE_DB, bodies[i]);
        assert_int_equal(o->status, JSTREAM_OK);
        assert_string_equal(o->log, "0||{\"_id\":\"a\"}\n");
        assert_int_equal(o->total, 1);
        outcome_free(o);
    }
}

static void whitespace_everywhere_is_dropped_outside_strings(void **state)
{
    (void)state;
    outcome *o = scan_all(JSTREAM_ENVELOPE_DB,
                          " \r\n\t{ \"limit\" :\t2 ,\r\n \"collections\" : [ { \"a\" : [ 1 , 2 ]"
                          " , \"b c\" : \" x\\t y \" , \"t\" : true } ,\n{ } , [ ] ] , \"total\""
                          " : 3 , \"end\" : -0 }\n \t\r ");
    /* the [ ] element is not an object: SHAPE, after two records */
    assert_int_equal(o->status, JSTREAM_ERR_SHAPE);
    assert_string_equal(o->log, "0||{\"a\":[1,2],\"b c\":\" x\\t y \",\"t\":true}\n1||{}\n");
    outcome_free(o);

    o = scan_all(JSTREAM_ENVELOPE_DB,
                 " \r\n\t{ \"limit\" :\t2 ,\r\n \"collections\" : [ { \"a\" : [ 1 , 2 ]"
                 " , \"b c\" : \" x\\t y \" , \"t\" : true } ,\n{ } ] , \"total\""
                 " : 3 , \"end\" : -0 }\n \t\r ");
    assert_int_equal(o->status, JSTREAM_OK);
    assert_string_equal(o->log, "0||{\"a\":[1,2],\"b c\":\" x\\t y \",\"t\":true}\n1||{}\n");
    assert_int_equal(o->limit, 2);
    assert_int_equal(o->total, 3);
    assert_int_equal(o->end, 0);
    outcome_free(o);
}

static void nasty_values_inside_records_pass_through(void **state)
{
    (void)state;
#define NASTY                                                                                      \
    "{\"_id\":\"n\",\"e\":\"\xF0\x9F\x98\x80 \xC3\xA9\xE2\x82\xAC\",\"q\":\"a\\\"b\\\\c\\/\","     \
    "\"z\":\"\\u0000\",\"s\":\"\\uD800\",\"lo\":\"\\udc00x\",\"pair\":\"\\ud83d\\ude00\","         \
    "\"n\":1e400,\"m\":-0,\"f\":-1.5E-7,\"g\":0.0e+0,\"d\":[[[]],{\"x\":{}},[{}]],\"k\":1,"        \
    "\"k\":2,\"t\":true,\"u\":null,\"b\":false,\"es\":\"\",\"ctl\":\"\\b\\f\\n\\r\\t\","           \
    "\"del\":\"\x7F\"}"
    outcome *o = scan_all(JSTREAM_ENVELOPE_DB, "{\"collections\":[" NASTY ",{},{\"a\":[]}]}");
    assert_int_equal(o->status, JSTREAM_OK);
    assert_string_equal(o->log, "0||" NASTY "\n1||{}\n2||{\"a\":[]}\n");
    outcome_free(o);
#undef NASTY
}

static void list_elements_of_any_type_are_records(void **state)
{
    (void)state;
    outcome *o = scan_all(JSTREAM_ENVELOPE_LIST,
                          "[\"dbviewer\", 1 ,-0.5e3,true,null , false,{},[ ],[1,[2]],\"\"]");
    assert_int_equal(o->status, JSTREAM_OK);
    assert_int_equal(o->records, 10);
    assert_string_equal(o->log, "0||\"dbviewer\"\n1||1\n2||-0.5e3\n3||true\n4||null\n5||false\n"
                                "6||{}\n7||[]\n8||[1,[2]]\n9||\"\"\n");
    outcome_free(o);

    o = scan_all(JSTREAM_ENVELOPE_LIST, "[]");
    assert_int_equal(o->status, JSTREAM_OK);
    assert_int_equal(o->records, 0);
    outcome_free(o);
}

static void value_envelope_delivers_the_document(void **state)
{
    (void)state;
    outcome *o = scan_all(JSTREAM_ENVELOPE_VALUE, "  {\"result\": [1, 2], \"b\":{}}\n");
    assert_int_equal(o->status, JSTREAM_OK);
    assert_int_equal(o->has_message, 0);
    assert_string_equal(o->log, "0||{\"result\":[1,2],\"b\":{}}\n");
    outcome_free(o);

    o = scan_all(JSTREAM_ENVELOPE_VALUE, "\"text\"");
    assert_int_equal(o->status, JSTREAM_OK);
    assert_string_equal(o->log, "0||\"text\"\n");
    outcome_free(o);
}

static void escaped_envelope_keys_never_match(void **state)
{
    (void)state;
    outcome *o = scan_all(JSTREAM_ENVELOPE_DB, "{\"coll\\u0065ctions\":5,\"tot\\u0061l\":\"x\"}");
    assert_int_equal(o->status, JSTREAM_OK);
    assert_int_equal(o->records, 0);
    assert_int_equal(o->has_total, 0);
    outcome_free(o);
}

static void db_scalars_cover_the_int64_range(void **state)
{
    (void)state;
    outcome *o = scan_all(JSTREAM_ENVELOPE_DB, "{\"total\":9223372036854775807,"
                                               "\"end\":-9223372036854775808,\"limit\":0}");
    assert_int_equal(o->status, JSTREAM_OK);
    assert_true(o->total == INT64_MAX);
    assert_true(o->end == INT64_MIN);
    assert_int_equal(o->limit, 0);
    outcome_free(o);
}

static void message_is_decoded_for_display(void **state)
{
    (void)state;
    outcome *o = scan_all(JSTREAM_ENVELOPE_GROUPS,
                          "{\"result\":\"Caf\\u00e9 \\ud83d\\ude00 \\ud800x \\udc00 a\\nb "
                          "\\\"q\\\" &lt; \\u0000 \\uD83D\"}");
    assert_int_equal(o->status, JSTREAM_OK);
    assert_string_equal(o->message, "Caf\xC3\xA9 \xF0\x9F\x98\x80 \xEF\xBF\xBDx \xEF\xBF\xBD a b "
                                    "\"q\" &lt; \xEF\xBF\xBD \xEF\xBF\xBD");
    outcome_free(o);
}

static void long_message_is_cut_on_a_character_boundary(void **state)
{
    (void)state;
    char body[JSTREAM_MESSAGE_MAX + 64];
    char expect[JSTREAM_MESSAGE_MAX + 1];
    /* MAX-1 ASCII then a 2-byte character that does not fit */
    size_t n = (size_t)snprintf(body, sizeof(body), "{\"result\":\"");
    memset(body + n, 'a', JSTREAM_MESSAGE_MAX - 1);
    n += JSTREAM_MESSAGE_MAX - 1;
    n += (size_t)snprintf(body + n, sizeof(body) - n, "\xC3\xA9zz\"}");
    memset(expect, 'a', JSTREAM_MESSAGE_MAX - 1);
    expect[JSTREAM_MESSAGE_MAX - 1] = '\0';
    outcome *o = scan_all(JSTREAM_ENVELOPE_DB, body);
    assert_int_equal(o->status, JSTREAM_OK);
    assert_string_equal(o->message, expect);
    outcome_free(o);

    /* the same with the character as an escape */
    n = (size_t)snprintf(body, sizeof(body), "{\"result\":\"");
    memset(body + n, 'a', JSTREAM_MESSAGE_MAX - 1);
    n += JSTREAM_MESSAGE_MAX - 1;
    snprintf(body + n, sizeof(body) - n, "\\u00e9\"}");
    o = scan_all(JSTREAM_ENVELOPE_DB, body);
    assert_string_equal(o->message, expect);
    outcome_free(o);

    /* exactly MAX bytes fit */
    n = (size_t)snprintf(body, sizeof(body), "{\"result\":\"");
    memset(body + n, 'b', JSTREAM_MESSAGE_MAX);
    snprintf(body + n + JSTREAM_MESSAGE_MAX, sizeof(body) - n - JSTREAM_MESSAGE_MAX, "\"}");
    o = scan_all(JSTREAM_ENVELOPE_DB, body);
    assert_int_equal(strlen(o->message), JSTREAM_MESSAGE_MAX);
    outcome_free(o);
}

/* ---- errors: one row per case ---------------------------------------------------- */

typedef struct {
    const char *name;
    jstream_envelope envelope;
    const char *body;
    jstream_status status;
    uint64_t offset;
    unsigned long record;
    int in_record;
} error_case;

#define DB     JSTREAM_ENVELOPE_DB
#define GROUPS JSTREAM_ENVELOPE_GROUPS
#define APPS   JSTREAM_ENVELOPE_APPS
#define LIST   JSTREAM_ENVELOPE_LIST
#define VALUE  JSTREAM_ENVELOPE_VALUE

static const error_case error_cases[] = {
    {"trailing_comma_in_list", LIST, "[1,]", JSTREAM_ERR_TRAILING_COMMA, 3, 1, 0},
    {"trailing_comma_in_record_object", DB, "{\"collections\":[{\"a\":1,}]}",
     JSTREAM_ERR_TRAILING_COMMA, 23, 0, 1},
    {"trailing_comma_after_last_record", DB, "{\"collections\":[{},]}", JSTREAM_ERR_TRAILING_COMMA,
     19, 1, 0},
    {"trailing_comma_in_envelope", DB, "{\"a\":1,}", JSTREAM_ERR_TRAILING_COMMA, 7, 0, 0},
    {"trailing_comma_in_nested_array", GROUPS, "{\"result\":[{\"a\":[1, ]}]}",
     JSTREAM_ERR_TRAILING_COMMA, 20, 0, 1},
    {"leading_comma_in_array", LIST, "[,1]", JSTREAM_ERR_UNEXPECTED, 1, 0, 0},
    {"empty_member_in_object", DB, "{,}", JSTREAM_ERR_UNEXPECTED, 1, 0, 0},
    {"missing_colon", DB, "{\"a\" 1}", JSTREAM_ERR_UNEXPECTED, 5, 0, 0},
    {"missing_value", DB, "{\"a\":}", JSTREAM_ERR_UNEXPECTED, 5, 0, 0},
    {"missing_comma", LIST, "[1 2]", JSTREAM_ERR_UNEXPECTED, 3, 1, 0},
    {"bracket_closes_object", DB, "{]", JSTREAM_ERR_UNEXPECTED, 1, 0, 0},
    {"brace_closes_array", LIST, "[}", JSTREAM_ERR_UNEXPECTED, 1, 0, 0},
    {"mismatched_bracket_in_record", LIST, "[{\"a\":1]]", JSTREAM_ERR_UNEXPECTED, 7, 0, 1},
    {"html_body", DB, "<html>", JSTREAM_ERR_UNEXPECTED, 0, 0, 0},
    {"single_quotes", GROUPS, "{\"result\":[{\"a\":'x'}]}", JSTREAM_ERR_UNEXPECTED, 16, 0, 1},
    {"non_string_key", DB, "{1:2}", JSTREAM_ERR_UNEXPECTED, 1, 0, 0},
    {"form_feed_is_not_whitespace", DB, "{\f}", JSTREAM_ERR_UNEXPECTED, 1, 0, 0},
    {"literal_cut_short", LIST, "[tru]", JSTREAM_ERR_LITERAL, 4, 0, 1},
    {"literal_null_cut_short", LIST, "[nul,1]", JSTREAM_ERR_LITERAL, 4, 0, 1},
    {"literal_with_extra_letter", LIST, "[truex]", JSTREAM_ERR_LITERAL, 5, 0, 1},
    {"literal_misspelled", LIST, "[falsy]", JSTREAM_ERR_LITERAL, 5, 0, 1},
    {"literal_wrong_case", LIST, "[nulL]", JSTREAM_ERR_LITERAL, 4, 0, 1},
    {"literal_as_envelope_value", DB, "{\"a\":nope}", JSTREAM_ERR_LITERAL, 6, 0, 0},
    {"number_leading_zero", LIST, "[01]", JSTREAM_ERR_NUMBER, 2, 0, 1},
    {"number_negative_leading_zero", LIST, "[-01]", JSTREAM_ERR_NUMBER, 3, 0, 1},
    {"number_trailing_dot", LIST, "[1.]", JSTREAM_ERR_NUMBER, 3, 0, 1},
    {"number_dot_then_exponent", LIST, "[1.e5]", JSTREAM_ERR_NUMBER, 3, 0, 1},
    {"number_bare_minus", LIST, "[-]", JSTREAM_ERR_NUMBER, 2, 0, 1},
    {"number_empty_exponent", LIST, "[1e]", JSTREAM_ERR_NUMBER, 3, 0, 1},
    {"number_exponent_sign_only", LIST, "[1e+]", JSTREAM_ERR_NUMBER, 4, 0, 1},
    {"number_plus_sign", LIST, "[+1]", JSTREAM_ERR_NUMBER, 1, 0, 0},
    {"number_leading_dot", LIST, "[.5]", JSTREAM_ERR_NUMBER, 1, 0, 0},
    {"number_hex", LIST, "[0x10]", JSTREAM_ERR_NUMBER, 2, 0, 1},
    {"number_two_dots", LIST, "[1.5.3]", JSTREAM_ERR_NUMBER, 4, 0, 1},
    {"number_minus_nan", DB, "{\"pages\":-NaN}", JSTREAM_ERR_NUMBER, 10, 0, 0},
    {"control_char_in_string", LIST,
     "[\"a\x01"
     "b\"]",
     JSTREAM_ERR_CONTROL_CHAR, 3, 0, 1},
    {"raw_tab_in_string", LIST, "[\"\t\"]", JSTREAM_ERR_CONTROL_CHAR, 2, 0, 1},
    {"raw_newline_in_key", DB, "{\"a\nb\":1}", JSTREAM_ERR_CONTROL_CHAR, 3, 0, 0},
    {"unknown_escape", LIST, "[\"\\x\"]", JSTREAM_ERR_ESCAPE, 3, 0, 1},
    {"uppercase_u_escape", LIST, "[\"\\U0041\"]", JSTREAM_ERR_ESCAPE, 3, 0, 1},
    {"bad_hex_digit", LIST, "[\"\\u12G4\"]", JSTREAM_ERR_ESCAPE, 6, 0, 1},
    {"three_hex_digits", LIST, "[\"\\u123\"]", JSTREAM_ERR_ESCAPE, 7, 0, 1},
    {"utf8_overlong_two_bytes", LIST, "[\"\xC0\x80\"]", JSTREAM_ERR_UTF8, 2, 0, 1},
    {"utf8_overlong_three_bytes", LIST, "[\"\xE0\x80\x80\"]", JSTREAM_ERR_UTF8, 3, 0, 1},
    {"utf8_overlong_four_bytes", LIST, "[\"\xF0\x8F\xBF\xBF\"]", JSTREAM_ERR_UTF8, 3, 0, 1},
    {"utf8_surrogate", LIST, "[\"\xED\xA0\x80\"]", JSTREAM_ERR_UTF8, 3, 0, 1},
    {"utf8_above_10ffff", LIST, "[\"\xF4\x90\x80\x80\"]", JSTREAM_ERR_UTF8, 3, 0, 1},
    {"utf8_f5_lead", LIST, "[\"\xF5\x80\x80\x80\"]", JSTREAM_ERR_UTF8, 2, 0, 1},
    {"utf8_lone_continuation", LIST, "[\"\x80\"]", JSTREAM_ERR_UTF8, 2, 0, 1},
    {"utf8_ff_in_key", DB, "{\"\xFF\":1}", JSTREAM_ERR_UTF8, 2, 0, 0},
    {"utf8_truncated_by_quote", LIST, "[\"\xC3\"]", JSTREAM_ERR_UTF8, 3, 0, 1},
    {"utf8_truncated_three_bytes", LIST, "[\"\xE2\x82\"]", JSTREAM_ERR_UTF8, 4, 0, 1},
    {"utf8_bad_third_byte", LIST, "[\"\xF0\x9F\x41\x80\"]", JSTREAM_ERR_UTF8, 4, 0, 1},
    {"data_after_object", DB, "{} x", JSTREAM_ERR_TRAILING_DATA, 3, 0, 0},
    {"second_object", DB, "{}{}", JSTREAM_ERR_TRAILING_DATA, 2, 0, 0},
    {"extra_bracket", LIST, "[]]", JSTREAM_ERR_TRAILING_DATA, 2, 0, 0},
    {"empty_body", DB, "", JSTREAM_ERR_TRUNCATED, 0, 0, 0},
    {"whitespace_body", LIST, " \r\n\t", JSTREAM_ERR_TRUNCATED, 4, 0, 0},
    {"cut_inside_record", DB, "{\"collections\":[{\"a\":1", JSTREAM_ERR_TRUNCATED, 22, 0, 1},
    {"cut_inside_string", LIST, "[\"abc", JSTREAM_ERR_TRUNCATED, 5, 0, 1},
    {"cut_inside_escape", LIST, "[\"\\u00", JSTREAM_ERR_TRUNCATED, 6, 0, 1},
    {"cut_inside_utf8", LIST, "[\"\xE2\x82", JSTREAM_ERR_TRUNCATED, 4, 0, 1},
    {"cut_after_number", LIST, "[1", JSTREAM_ERR_TRUNCATED, 2, 0, 1},
    {"cut_inside_literal", DB, "{\"a\":tru", JSTREAM_ERR_TRUNCATED, 8, 0, 0},
    {"cut_after_records", GROUPS, "{\"result\":[{},{}", JSTREAM_ERR_TRUNCATED, 16, 2, 0},
    {"db_top_level_array", DB, "[]", JSTREAM_ERR_SHAPE, 0, 0, 0},
    {"db_top_level_number", DB, " 5", JSTREAM_ERR_SHAPE, 1, 0, 0},
    {"list_top_level_string", LIST, "\"x\"", JSTREAM_ERR_SHAPE, 0, 0, 0},
    {"list_object_without_message", LIST, "{\"a\":1}", JSTREAM_ERR_SHAPE, 6, 0, 0},
    {"list_object_with_non_string_result", LIST, "{\"result\":1}", JSTREAM_ERR_SHAPE, 11, 0, 0},
    {"collections_not_an_array", DB, "{\"collections\":{}}", JSTREAM_ERR_SHAPE, 15, 0, 0},
    {"collections_element_not_an_object", DB, "{\"collections\":[{},1]}", JSTREAM_ERR_SHAPE, 19, 1,
     0},
    {"total_is_a_string", DB, "{\"total\":\"3\"}", JSTREAM_ERR_SHAPE, 9, 0, 0},
    {"total_is_fractional", DB, "{\"total\":1.5}", JSTREAM_ERR_SHAPE, 9, 0, 0},
    {"end_has_an_exponent", DB, "{\"end\":1e3}", JSTREAM_ERR_SHAPE, 7, 0, 0},
    {"limit_is_null", DB, "{\"limit\":null}", JSTREAM_ERR_SHAPE, 9, 0, 0},
    {"total_above_int64", DB, "{\"total\":9223372036854775808}", JSTREAM_ERR_SHAPE, 9, 0, 0},
    {"total_below_int64", DB, "{\"total\":-9223372036854775809}", JSTREAM_ERR_SHAPE, 9, 0, 0},
    {"total_far_too_long", DB, "{\"total\":123456789012345678901234567890}", JSTREAM_ERR_SHAPE, 9,
     0, 0},
    {"groups_result_is_a_number", GROUPS, "{\"result\":5}", JSTREAM_ERR_SHAPE, 10, 0, 0},
    {"groups_record_is_a_string", GROUPS, "{\"result\":[\"x\"]}", JSTREAM_ERR_SHAPE, 11, 0, 0},
    {"apps_admin_of_is_an_array", APPS, "{\"admin_of\":[]}", JSTREAM_ERR_SHAPE, 12, 0, 0},
    {"apps_key_is_not_an_object_id", APPS, "{\"user_of\":{\"abc\":{}}}", JSTREAM_ERR_SHAPE, 16, 0,
     0},
    {"apps_key_has_a_non_hex_digit", APPS, "{\"user_of\":{\"64b0ac10c2c3ce0012dd100g\":{}}}",
     JSTREAM_ERR_SHAPE, 37, 0, 0},
    {"apps_key_is_escaped", APPS, "{\"user_of\":{\"64b0ac10c2c3ce0012dd100\\u0031\":{}}}",
     JSTREAM_ERR_SHAPE, 42, 0, 0},
    {"apps_value_is_not_an_object", APPS, "{\"admin_of\":{\"64b0ac10c2c3ce0012dd1001\":1}}",
     JSTREAM_ERR_SHAPE, 40, 0, 0},
    {"value_bare_number", VALUE, "5", JSTREAM_ERR_SHAPE, 0, 0, 0},
    {"value_bare_literal", VALUE, " true", JSTREAM_ERR_SHAPE, 1, 0, 0},
    {"infinity_outside_pages", DB, "{\"limit\":Infinity}", JSTREAM_ERR_UNEXPECTED, 9, 0, 0},
    {"infinity_inside_a_record", DB, "{\"collections\":[{\"pages\":Infinity}]}",
     JSTREAM_ERR_UNEXPECTED, 25, 0, 1},
    {"nan_inside_pages_array", DB, "{\"pages\":[NaN]}", JSTREAM_ERR_UNEXPECTED, 10, 0, 0},
    {"infinity_in_groups", GROUPS, "{\"pages\":Infinity}", JSTREAM_ERR_UNEXPECTED, 9, 0, 0},
    {"minus_infinity_in_list", LIST, "[-Infinity]", JSTREAM_ERR_NUMBER, 2, 0, 1},
    {"infinity_misspelled", DB, "{\"pages\":Infinit}", JSTREAM_ERR_LITERAL, 16, 0, 0},
    {"infinity_with_extra_letter", DB, "{\"pages\":NaNa}", JSTREAM_ERR_LITERAL, 12, 0, 0},
    /* inside a record's containers, where jstream's fast path meets them first */
    {"control_char_in_record_key", DB, "{\"collections\":[{\"a\":1,\"b\nc\":2}]}",
     JSTREAM_ERR_CONTROL_CHAR, 25, 0, 1},
    {"bad_utf8_in_record_key", DB, "{\"collections\":[{\"a\":1,\"\xC3\x28\":2}]}", JSTREAM_ERR_UTF8,
     25, 0, 1},
    {"bad_escape_in_record_key", DB, "{\"collections\":[{\"a\":1,\"\\q\":2}]}", JSTREAM_ERR_ESCAPE,
     25, 0, 1},
    {"missing_colon_in_record", DB, "{\"collections\":[{\"a\"1}]}", JSTREAM_ERR_UNEXPECTED, 20, 0,
     1},
    {"missing_colon_after_space_in_record", DB, "{\"collections\":[{\"a\" 1}]}",
     JSTREAM_ERR_UNEXPECTED, 21, 0, 1},
    {"missing_comma_in_record", DB, "{\"collections\":[{\"a\":1\"b\":2}]}", JSTREAM_ERR_UNEXPECTED,
     22, 0, 1},
    {"bracket_closes_record_member", DB, "{\"collections\":[{\"a\":[1}]}", JSTREAM_ERR_UNEXPECTED,
     23, 0, 1},
    {"brace_closes_nothing_in_record_array", DB, "{\"collections\":[{\"a\":[}]}",
     JSTREAM_ERR_UNEXPECTED, 22, 0, 1},
    {"trailing_comma_in_record_array", DB, "{\"collections\":[{\"a\":[1,]}]}",
     JSTREAM_ERR_TRAILING_COMMA, 24, 0, 1},
    {"key_expected_in_record", DB, "{\"collections\":[{\"a\":1,2}]}", JSTREAM_ERR_UNEXPECTED, 23, 0,
     1},
    {"bad_value_in_record", DB, "{\"collections\":[{\"a\":x}]}", JSTREAM_ERR_UNEXPECTED, 21, 0, 1},
    {"number_leading_zero_in_record", DB, "{\"collections\":[{\"a\":012}]}", JSTREAM_ERR_NUMBER, 22,
     0, 1},
    {"literal_misspelled_in_record", DB, "{\"collections\":[{\"a\":nulx}]}", JSTREAM_ERR_LITERAL,
     24, 0, 1},
    {"literal_with_extra_letter_in_record", DB, "{\"collections\":[{\"a\":true1}]}",
     JSTREAM_ERR_LITERAL, 25, 0, 1},
};

#define ERROR_COUNT (sizeof(error_cases) / sizeof(error_cases[0]))

/* One row of error_cases; registered under its name. */
static void error_case_is_reported(void **state)
{
    const error_case *c = *state;
    outcome *o = scan_all(c->envelope, c->body);
    assert_int_equal(o->status, c->status);
    assert_int_equal(o->error_offset, c->offset);
    assert_int_equal(o->error_record, c->record);
    assert_int_equal(o->error_in_record, c->in_record);
    outcome_free(o);
}

/* The LIST cases whose error is in record 0's value again, as the value of a
 * member of a DB record ({"collections":[{"k":<body>}]}): inside the
 * record's containers the same error comes at the same byte. */
static void errors_inside_a_record_member_are_the_same(void **state)
{
    (void)state;
    static const char head[] = "{\"collections\":[{\"k\":";
    char body[256];
    size_t checked = 0;
    for (size_t i = 0; i < ERROR_COUNT; i++) {
        const error_case *c = &error_cases[i];
        if (c->envelope != LIST || !c->in_record || c->record != 0)
            continue;
        snprintf(body, sizeof(body), "%s%s%s", head, c->body,
                 c->status == JSTREAM_ERR_TRUNCATED ? "" : "}]}");
        outcome *o = scan_all(DB, body);
        assert_int_equal(o->status, c->status);
        assert_int_equal(o->error_offset, c->offset + strlen(head));
        assert_int_equal(o->error_record, 0);
        assert_int_equal(o->error_in_record, 1);
        outcome_free(o);
        checked++;
    }
    assert_true(checked >= 30);
}

/* Every kind of token, nested, with the characters and lengths the fast
 * path reads a word at a time (runs around 8 bytes, UTF-8 of 2 to 4 bytes
 * in keys and values, empty strings and containers): jsmn's tokens, in any
 * fragments. */
static void record_tokens_of_every_kind_match_jsmn(void **state)
{
    (void)state;
    static const char body[] =
        "{\"collections\":[{\"_id\":\"abc\",\"\":\"\",\"a\":[],\"b\":{},\"c\":[[],{},[[1]]],"
        "\"n\":[0,-0,1,-12,3.25,-0.5e-3,1E+9,2e10,123456789012345678901234567890],"
        "\"l\":[true,false,null,{\"t\":true,\"f\":false,\"z\":null}],"
        "\"s\":[\"1234567\",\"12345678\",\"123456789\",\"1234567890123456\",\"x\"],"
        "\"\xC3\xBCn\xC3\xAF\":\"\xE2\x82\xAC \xF0\x9F\x98\x80 \xED\x9F\xBF \xEF\xBF\xBF "
        "\xF4\x8F\xBF\xBF\xC2\x80\",\"deep\":{\"a\":{\"b\":{\"c\":[{\"_id\":\"no\"}]}}},"
        "\"_idx\":1,\"_i\":2,\"x_id\":3,\"esc\":\"a\\\"b\\u00e9\",\"end\":-1},"
        "{\"_id\":5,\"k\":[\"v\",{\"_id\":\"nested\"}]},{}]}";
    outcome *o = scan_all(DB, body);
    assert_int_equal(o->status, JSTREAM_OK);
    assert_int_equal(o->records, 3);
    outcome_free(o);
}

/* A byte that ends a plain run of a string (an escape, a control
 * character, UTF-8, valid or not) at every position of a long record key
 * and value, where jstream reads 8 or 16 bytes at a time. */
static void string_stops_are_found_at_every_position(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        jstream_status status;
    } stops[] = {
        {"\\n", JSTREAM_OK},
        {"\x01", JSTREAM_ERR_CONTROL_CHAR},
        {"\x1F", JSTREAM_ERR_CONTROL_CHAR},
        {"\xC3\xA9", JSTREAM_OK},
        {"\x7F\xF0\x9F\x98\x80", JSTREAM_OK},
        {"\xFF", JSTREAM_ERR_UTF8},
        {"\xE2\x28\xA1", JSTREAM_ERR_UTF8},
    };
    static const char head[] = "{\"collections\":[{\"k\":\"";
    char body[160];
    for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
        for (int pos = 0; pos <= 40; pos++) {
            for (int in_key = 0; in_key <= 1; in_key++) {
                size_t at = strlen(head) + (size_t)pos;
                if (in_key)
                    snprintf(body, sizeof(body), "{\"collections\":[{\"k\":1,\"%.*s%s%s\":2}]}",
                             pos, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", stops[i].text,
                             "bbbbbbbbbbbbbbbbbbbb");
                else
                    snprintf(body, sizeof(body), "%s%.*s%s%s\"}]}", head, pos,
                             "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", stops[i].text,
                             "bbbbbbbbbbbbbbbbbbbb");
                if (in_key)
                    at = strlen("{\"collections\":[{\"k\":1,\"") + (size_t)pos;
                if (stops[i].status == JSTREAM_ERR_UTF8 && stops[i].text[0] == '\xE2')
                    at++; /* the second byte is the bad one */
                outcome *o = scan_all(DB, body);
                assert_int_equal(o->status, stops[i].status);
                if (o->status != JSTREAM_OK)
                    assert_int_equal(o->error_offset, at);
                outcome_free(o);
            }
        }
    }
}

/* Only the record's own "_id" string names it: nested ones, longer or
 * shorter keys, an escaped key and a number do not. */
static void only_the_records_own_id_string_names_it(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        const char *id;
    } cases[] = {
        {"{\"collections\":[{\"o\":{\"_id\":\"nested\"},\"x\":tru}]}", ""},
        {"{\"collections\":[{\"_id\":5,\"x\":tru}]}", ""},
        {"{\"collections\":[{\"_i\":\"a\",\"_idx\":\"b\",\"_ix\":\"c\",\"_xd\":\"d\",\"x\":tru}]}",
         ""},
        {"{\"collections\":[{\"_i\\u0064\":\"esc\",\"x\":tru}]}", ""},
        {"{\"collections\":[{\"a\":[{\"_id\":\"in\"}],\"_id\":\"own\",\"x\":tru}]}", "own"},
        {"{\"collections\":[{\"_id\":\"a\\u00e9\",\"x\":[tru]}]}", "a\xC3\xA9"},
        {"{\"collections\":[{ \"_id\" : \"spaced\" ,\"x\":tru}]}", "spaced"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        outcome *o = scan_all(DB, cases[i].body);
        assert_int_equal(o->status, JSTREAM_ERR_LITERAL);
        assert_string_equal(o->record_id, cases[i].id);
        outcome_free(o);
    }
}

static void errors_stay_sticky(void **state)
{
    (void)state;
    jstream *js = malloc(sizeof(*js));
    outcome *o = calloc(1, sizeof(*o));
    assert_non_null(js);
    assert_non_null(o);
    jstream_init(js, JSTREAM_ENVELOPE_LIST);
    assert_int_equal(jstream_feed(js, (const uint8_t *)"[1,]", 4, collect, o),
                     JSTREAM_ERR_TRAILING_COMMA);
    uint64_t offset = js->offset;
    assert_int_equal(jstream_feed(js, (const uint8_t *)"[2]", 3, collect, o),
                     JSTREAM_ERR_TRAILING_COMMA);
    assert_int_equal(js->offset, offset);
    assert_int_equal(js->error_offset, 3);
    assert_int_equal(jstream_finish(js), JSTREAM_ERR_TRAILING_COMMA);
    assert_int_equal(o->calls, 1);
    outcome_free(o);
    free(js);
}

/* ---- limits ------------------------------------------------------------------------ */

/* {"collections":[{"_id":"first"},{ "pad":"xx..x","_id":"late-id"}]} with
 * the second record (compacted) `extra` bytes over JSTREAM_RECORD_MAX. */
static char *big_record_body(int extra, size_t *overflow_at)
{
    static const char head[] = "{\"collections\":[{\"_id\":\"first\"},{ \"pad\":\"";
    static const char tail[] = "\",\"_id\":\"late-id\"}]}";
    size_t record_fixed = strlen("{\"pad\":\"") + strlen("\",\"_id\":\"late-id\"}");
    size_t pad = JSTREAM_RECORD_MAX + (size_t)extra - record_fixed;
    size_t len = strlen(head) + pad + strlen(tail);
    char *body = malloc(len + 1);
    assert_non_null(body);
    memcpy(body, head, strlen(head));
    memset(body + strlen(head), 'x', pad);
    memcpy(body + strlen(head) + pad, tail, strlen(tail) + 1);
    /* the record starts at strlen("{\"collections\":[{\"_id\":\"first\"},"); one space dropped */
    *overflow_at = strlen("{\"collections\":[{\"_id\":\"first\"},") + 1 + JSTREAM_RECORD_MAX;
    return body;
}

static void record_exactly_at_the_limit_fits(void **state)
{
    (void)state;
    size_t overflow_at;
    char *body = big_record_body(0, &overflow_at);
    outcome *o = scan_all(JSTREAM_ENVELOPE_DB, body);
    assert_int_equal(o->status, JSTREAM_OK);
    assert_int_equal(o->records, 2);
    const char *second = strchr(o->log, '\n') + 1;
    assert_int_equal(strlen(second), strlen("1||") + JSTREAM_RECORD_MAX + 1);
    outcome_free(o);
    free(body);
}

static void record_one_over_the_limit_names_its_late_id(void **state)
{
    (void)state;
    size_t overflow_at;
    char *body = big_record_body(1, &overflow_at);
    char expect[128];
    outcome *o = scan_all(JSTREAM_ENVELOPE_DB, body);
    assert_int_equal(o->status, JSTREAM_ERR_RECORD_TOO_LARGE);
    assert_int_equal(o->records, 1);
    assert_int_equal(o->error_offset, overflow_at);
    assert_int_equal(o->error_record, 1);
    assert_int_equal(o->error_in_record, 1);
    assert_string_equal(o->record_id, "late-id");
    snprintf(expect, sizeof(expect),
             "record 1 (_id \"late-id\") is larger than JSTREAM_RECORD_MAX (%d bytes)",
             JSTREAM_RECORD_MAX);
    assert_string_equal(o->describe, expect);
    outcome_free(o);
    free(body);
}

/* A record over JSTREAM_RECORD_MAX whose nested tokens go on past it: they
 * are still validated, and an error there is reported, not the size. */
static void an_error_after_a_record_outgrows_the_buffer_wins(void **state)
{
    (void)state;
    size_t overflow_at;
    char *body = big_record_body(64, &overflow_at);
    char *tail = strstr(body, "\",\"_id\"");
    size_t len = strlen(body);
    char *bad = malloc(len + 64);
    assert_non_null(bad);
    memcpy(bad, body, (size_t)(tail - body));
    snprintf(bad + (tail - body), 64, "\",\"n\":[1,{\"a\":[true,\"s\"]},tru]}]}");
    outcome *o = scan_all(DB, bad);
    assert_int_equal(o->status, JSTREAM_ERR_LITERAL);
    assert_int_equal(o->error_offset, strlen(bad) - 4);
    outcome_free(o);
    /* and without the error the size is */
    snprintf(bad + (tail - body), 64, "\",\"n\":[1,{\"a\":[true,\"s\"]},true]}]}");
    o = scan_all(DB, bad);
    assert_int_equal(o->status, JSTREAM_ERR_RECORD_TOO_LARGE);
    assert_int_equal(o->error_offset, overflow_at);
    outcome_free(o);
    free(bad);
    free(body);
}

/* [[0,0,...]]: the record is the inner array, 1 + count tokens. */
static char *token_body(size_t count)
{
    char *body = malloc(2 * count + 4);
    size_t n = 0;
    assert_non_null(body);
    body[n++] = '[';
    body[n++] = '[';
    for (size_t i = 0; i < count; i++) {
        if (i > 0)
            body[n++] = ',';
        body[n++] = '0';
    }
    body[n++] = ']';
    body[n++] = ']';
    body[n] = '\0';
    return body;
}

static void tokens_exactly_at_the_limit_fit(void **state)
{
    (void)state;
    char *body = token_body(JSTREAM_TOKENS_MAX - 1);
    outcome *o = scan_all(JSTREAM_ENVELOPE_LIST, body);
    assert_int_equal(o->status, JSTREAM_OK);
    assert_int_equal(o->records, 1);
    outcome_free(o);
    free(body);
}

static void tokens_one_over_the_limit_fail(void **state)
{
    (void)state;
    char *body = token_body(JSTREAM_TOKENS_MAX);
    char expect[128];
    outcome *o = scan_all(JSTREAM_ENVELOPE_LIST, body);
    assert_int_equal(o->status, JSTREAM_ERR_TOO_MANY_TOKENS);
    assert_int_equal(o->records, 0);
    assert_int_equal(o->error_offset, strlen(body) - 2);
    assert_int_equal(o->error_record, 0);
    assert_int_equal(o->error_in_record, 1);
    snprintf(expect, sizeof(expect), "record 0 has more than JSTREAM_TOKENS_MAX (%d) JSON tokens",
             JSTREAM_TOKENS_MAX);
    assert_string_equal(o->describe, expect);
    outcome_free(o);
    free(body);
}

static char *nested_body(int depth)
{
    char *body = malloc(2 * (size_t)depth + 1);
    assert_non_null(body);
    memset(body, '[', (size_t)depth);
    memset(body + depth, ']', (size_t)depth);
    body[2 * depth] = '\0';
    return body;
}

static void depth_exactly_at_the_limit_is_accepted(void **state)
{
    (void)state;
    char *body = nested_body(JSTREAM_DEPTH_MAX);
    outcome *o = scan_all(JSTREAM_ENVELOPE_LIST, body);
    assert_int_equal(o->status, JSTREAM_OK);
    assert_int_equal(o->records, 1);
    outcome_free(o);
    free(body);
}

static void depth_one_over_the_limit_fails(void **state)
{
    (void)state;
    char *body = nested_body(JSTREAM_DEPTH_MAX + 1);
    outcome *o = scan_all(JSTREAM_ENVELOPE_LIST, body);
    assert_int_equal(o->status, JSTREAM_ERR_DEPTH);
    assert_int_equal(o->error_offset, JSTREAM_DEPTH_MAX);
    assert_int_equal(o->error_in_record, 1);
    outcome_free(o);
    free(body);
}

/* admin_of and user_of both list `count` distinct apps. */
static char *apps_body(unsigned count)
{
    size_t cap = 64 + 2 * (size_t)count * 40;
    char *body = malloc(cap);
    size_t n = 0;
    assert_non_null(body);
    for (int map = 0; map < 2; map++) {
        n += (size_t)snprintf(body + n, cap - n, map == 0 ? "{\"admin_of\":{" : "},\"user_of\":{");
        for (unsigned i = 0; i < count; i++)
            n += (size_t)snprintf(body + n, cap - n, "%s\"%024x\":{\"i\":%u}", i ? "," : "", i, i);
    }
    snprintf(body + n, cap - n, "}}");
    return body;
}

static void apps_exactly_at_the_limit_are_accepted(void **state)
{
    (void)state;
    char *body = apps_body(JSTREAM_APPS_MAX);
    outcome *o = scan_all(JSTREAM_ENVELOPE_APPS, body);
    assert_int_equal(o->status, JSTREAM_OK);
    assert_int_equal(o->records, JSTREAM_APPS_MAX);
    assert_true(strstr(o->log, "\n1|000000000000000000000001|{\"i\":1}\n") != NULL);
    outcome_free(o);
    free(body);
}

static void apps_one_over_the_limit_fail(void **state)
{
    (void)state;
    char *body = apps_body(JSTREAM_APPS_MAX + 1);
    char key[40];
    snprintf(key, sizeof(key), "\"%024x\"", JSTREAM_APPS_MAX);
    outcome *o = scan_all(JSTREAM_ENVELOPE_APPS, body);
    assert_int_equal(o->status, JSTREAM_ERR_TOO_MANY_APPS);
    assert_int_equal(o->records, JSTREAM_APPS_MAX);
    assert_int_equal(o->error_offset, (size_t)(strstr(body, key) - body) + strlen(key) - 1);
    assert_int_equal(o->error_record, JSTREAM_APPS_MAX);
    assert_int_equal(o->error_in_record, 0);
    outcome_free(o);
    free(body);
}

/* ---- tokens ------------------------------------------------------------------------- */

static void tokens_have_jsmns_layout(void **state)
{
    (void)state;
    /* {"a":[1,{"b":"c"}],"d":true,"e":{}} once compacted */
    static const jsmntok_t want[] = {
        {JSMN_OBJECT, 0, 35, 3, -1},  {JSMN_STRING, 2, 3, 1, 0},   {JSMN_ARRAY, 5, 18, 2, 1},
        {JSMN_PRIMITIVE, 6, 7, 0, 2}, {JSMN_OBJECT, 8, 17, 1, 2},  {JSMN_STRING, 10, 11, 1, 4},
        {JSMN_STRING, 14, 15, 0, 5},  {JSMN_STRING, 20, 21, 1, 0}, {JSMN_PRIMITIVE, 23, 27, 0, 7},
        {JSMN_STRING, 29, 30, 1, 0},  {JSMN_OBJECT, 32, 34, 0, 9},
    };
    expected_tokens = want;
    expected_token_count = (int)(sizeof(want) / sizeof(want[0]));
    outcome *o = scan_all(JSTREAM_ENVELOPE_LIST, " [ { \"a\" :\t[ 1 ,{ \"b\"\r\n: \"c\" } ] , "
                                                 "\"d\" : true\n, \"e\" : { } } ] ");
    expected_tokens = NULL;
    assert_int_equal(o->status, JSTREAM_OK);
    assert_string_equal(o->log, "0||{\"a\":[1,{\"b\":\"c\"}],\"d\":true,\"e\":{}}\n");
    outcome_free(o);

    /* bare values: a string without its quotes, a number up to its end */
    static const jsmntok_t text[] = {{JSMN_STRING, 1, 3, 0, -1}};
    static const jsmntok_t number[] = {{JSMN_PRIMITIVE, 0, 4, 0, -1}};
    expected_tokens = text;
    expected_token_count = 1;
    o = scan_all(JSTREAM_ENVELOPE_LIST, "[ \"ab\" ,\"\\n\"]");
    expected_tokens = NULL;
    assert_int_equal(o->status, JSTREAM_OK);
    outcome_free(o);
    expected_tokens = number;
    o = scan_all(JSTREAM_ENVELOPE_LIST, "[-1.5 ,1e10\n]");
    expected_tokens = NULL;
    assert_int_equal(o->status, JSTREAM_OK);
    assert_string_equal(o->log, "0||-1.5\n1||1e10\n");
    outcome_free(o);
}

/* [{"k":[0,...m zeros],"z":<last>}]: the record has m + 4 tokens before
 * <last>'s own (a key, a value, or a container and what is in it). */
static char *token_limit_body(size_t m, const char *last)
{
    size_t cap = 2 * m + strlen(last) + 32;
    char *body = malloc(cap);
    size_t n = 0;
    assert_non_null(body);
    n += (size_t)snprintf(body, cap, "[{\"k\":[");
    for (size_t i = 0; i < m; i++)
        n += (size_t)snprintf(body + n, cap - n, i ? ",0" : "0");
    snprintf(body + n, cap - n, "],\"z\":%s}]", last);
    return body;
}

static void token_limit_is_met_by_every_kind_of_token(void **state)
{
    (void)state;
    /* the last value, and how many tokens it adds with its key */
    static const struct {
        const char *text;
        size_t tokens;
    } lasts[] = {
        {"1", 2}, {"\"s\"", 2}, {"true", 2}, {"{}", 2}, {"[]", 2}, {"[1]", 3}, {"{\"y\":null}", 4},
    };
    for (size_t i = 0; i < sizeof(lasts) / sizeof(lasts[0]); i++) {
        /* the record's tokens: the object, "k", the array, m zeros, then lasts[i] */
        for (size_t over = 0; over <= lasts[i].tokens; over++) {
            size_t m = JSTREAM_TOKENS_MAX - 3 - lasts[i].tokens + over;
            char *body = token_limit_body(m, lasts[i].text);
            outcome *o = scan_all(JSTREAM_ENVELOPE_LIST, body);
            if (over == 0) {
                assert_int_equal(o->status, JSTREAM_OK);
                assert_int_equal(o->records, 1);
            } else {
                assert_int_equal(o->status, JSTREAM_ERR_TOO_MANY_TOKENS);
                assert_int_equal(o->records, 0);
                assert_int_equal(o->error_offset, strlen(body) - 2);
                assert_int_equal(o->error_record, 0);
                assert_int_equal(o->error_in_record, 1);
            }
            outcome_free(o);
            free(body);
        }
    }
}

static void too_many_tokens_is_reported_after_the_record_is_validated(void **state)
{
    (void)state;
    /* a later error in the same record wins, as when jsmn ran on its end */
    char *body = token_limit_body(JSTREAM_TOKENS_MAX, "tru");
    outcome *o = scan_all(JSTREAM_ENVELOPE_LIST, body);
    assert_int_equal(o->status, JSTREAM_ERR_LITERAL);
    assert_int_equal(o->error_offset, strlen(body) - 2);
    outcome_free(o);
    free(body);

    /* a record too large and with too many tokens is too large */
    size_t pad = JSTREAM_RECORD_MAX;
    char *last = malloc(pad + 3);
    assert_non_null(last);
    last[0] = '"';
    memset(last + 1, 'x', pad);
    memcpy(last + 1 + pad, "\"", 2);
    body = token_limit_body(JSTREAM_TOKENS_MAX, last);
    o = scan_all_len(JSTREAM_ENVELOPE_LIST, body, strlen(body), 0);
    assert_int_equal(o->status, JSTREAM_ERR_RECORD_TOO_LARGE);
    assert_int_equal(o->error_offset, 1 + JSTREAM_RECORD_MAX);
    outcome_free(o);
    free(body);
    free(last);

    /* the next record starts with no tokens */
    body = token_limit_body(JSTREAM_TOKENS_MAX - 5, "1");
    size_t len = strlen(body);
    char *two = malloc(2 * len + 1);
    assert_non_null(two);
    memcpy(two, body, len - 1);
    two[len - 1] = ',';
    memcpy(two + len, body + 1, len);
    o = scan_all(JSTREAM_ENVELOPE_LIST, two);
    assert_int_equal(o->status, JSTREAM_OK);
    assert_int_equal(o->records, 2);
    outcome_free(o);
    free(two);
    free(body);
}

static void a_skipped_app_is_not_tokenized(void **state)
{
    (void)state;
    /* user_of repeats the app with a record of too many tokens: skipped, no error */
    char *big = token_limit_body(JSTREAM_TOKENS_MAX, "1");
    size_t cap = strlen(big) + 128;
    char *body = malloc(cap);
    assert_non_null(body);
    big[strlen(big) - 1] = '\0'; /* the object without the list's brackets */
    snprintf(body, cap,
             "{\"admin_of\":{\"64b0ac10c2c3ce0012dd1001\":{\"a\":1}},"
             "\"user_of\":{\"64b0ac10c2c3ce0012dd1001\":%s}}",
             big + 1);
    outcome *o = scan_all(JSTREAM_ENVELOPE_APPS, body);
    assert_int_equal(o->status, JSTREAM_OK);
    assert_string_equal(o->log, "0|64b0ac10c2c3ce0012dd1001|{\"a\":1}\n");
    outcome_free(o);
    free(body);
    free(big);
}

/* ---- callback, describe, strerror ---------------------------------------------------- */

static void callback_abort_stops_at_that_record(void **state)
{
    (void)state;
    outcome *o = scan_all_len(JSTREAM_ENVELOPE_GROUPS, groups_body, strlen(groups_body), 1);
    assert_int_equal(o->status, JSTREAM_ERR_ABORTED);
    assert_int_equal(o->calls, 1);
    assert_string_equal(o->log, "0||" GROUP1 "\n");
    assert_int_equal(o->error_record, 0);
    assert_int_equal(o->error_in_record, 1);
    assert_int_equal(o->error_offset, strlen("{\"result\":[" GROUP1) - 1);
    assert_string_equal(
        o->describe, "record 0 (_id \"65a0b1c2d3e4f5a6b7c8d9e0\"): stopped by the record callback");
    outcome_free(o);

    o = scan_all_len(JSTREAM_ENVELOPE_LIST, "[1,22,3]", 8, 2);
    assert_int_equal(o->status, JSTREAM_ERR_ABORTED);
    assert_string_equal(o->log, "0||1\n1||22\n");
    assert_int_equal(o->error_offset, 4);
    outcome_free(o);
}

static void describe_names_offset_record_and_id(void **state)
{
    (void)state;
    outcome *o = scan_all(JSTREAM_ENVELOPE_DB, "{\"collections\":[{\"_id\":\"abc\",\"a\":1,}]}");
    assert_string_equal(o->describe,
                        "invalid JSON at byte 35 (record 0, _id \"abc\"): trailing comma");
    outcome_free(o);

    o = scan_all(JSTREAM_ENVELOPE_DB, "{\"collections\":[{\"a\":1,}]}");
    assert_string_equal(o->describe, "invalid JSON at byte 23 (record 0): trailing comma");
    outcome_free(o);

    o = scan_all(JSTREAM_ENVELOPE_DB, "{\"a\":1,}");
    assert_string_equal(o->describe, "invalid JSON at byte 7: trailing comma");
    outcome_free(o);

    o = scan_all(JSTREAM_ENVELOPE_DB, "{\"collections\":{}}");
    assert_string_equal(o->describe,
                        "unexpected response shape at byte 15: \"collections\" is not an array");
    outcome_free(o);

    o = scan_all(JSTREAM_ENVELOPE_DB, "{}");
    assert_string_equal(o->describe, "no error");
    outcome_free(o);
}

static void describe_shows_a_decoded_id_cut_with_dots(void **state)
{
    (void)state;
    char body[256];
    char id[JSTREAM_ID_MAX + 4];
    /* an id of ID_MAX + 6 characters, one of them escaped; nested "_id" ignored */
    snprintf(body, sizeof(body), "[{\"x\":{\"_id\":\"no\"},\"_id\":\"\\u0041%0*d\",\"a\":tru}]",
             JSTREAM_ID_MAX + 5, 7);
    memset(id, '0', sizeof(id));
    id[0] = 'A';
    id[JSTREAM_ID_MAX - 1] = '0';
    memcpy(id + JSTREAM_ID_MAX, "...", 4);
    outcome *o = scan_all(JSTREAM_ENVELOPE_LIST, body);
    assert_int_equal(o->status, JSTREAM_ERR_LITERAL);
    assert_string_equal(o->record_id, id);
    assert_non_null(strstr(o->describe, id));
    outcome_free(o);
}

static void describe_respects_the_capacity(void **state)
{
    (void)state;
    jstream *js = malloc(sizeof(*js));
    char out[16];
    assert_non_null(js);
    jstream_init(js, JSTREAM_ENVELOPE_DB);
    jstream_feed(js, (const uint8_t *)"{\"a\":1,}", 8, NULL, NULL);
    memset(out, 'Z', sizeof(out));
    assert_int_equal(jstream_describe(js, out, 10), 9);
    assert_string_equal(out, "invalid J");
    assert_int_equal(out[10], 'Z');
    assert_int_equal(jstream_describe(js, out, 0), 0);
    assert_int_equal(out[0], 'i');
    assert_int_equal(jstream_describe(js, out, 1), 0);
    assert_int_equal(out[0], '\0');
    free(js);
}

static void strerror_has_words_for_every_status(void **state)
{
    (void)state;
    for (int a = JSTREAM_OK; a <= JSTREAM_ERR_ABORTED; a++) {
        const char *text = jstream_strerror((jstream_status)a);
        assert_non_null(text);
        assert_true(strlen(text) > 0);
        assert_string_not_equal(text, "unknown jstream status");
        for (int b = JSTREAM_OK; b < a; b++)
            assert_string_not_equal(text, jstream_strerror((jstream_status)b));
    }
    assert_string_equal(jstream_strerror((jstream_status)99), "unknown jstream status");
    assert_non_null(strstr(jstream_strerror(JSTREAM_ERR_RECORD_TOO_LARGE), "JSTREAM_RECORD_MAX"));
}

static void null_callback_only_counts(void **state)
{
    (void)state;
    jstream *js = malloc(sizeof(*js));
    assert_non_null(js);
    jstream_init(js, JSTREAM_ENVELOPE_LIST);
    assert_int_equal(jstream_feed(js, (const uint8_t *)"[1,2]", 5, NULL, NULL), JSTREAM_OK);
    assert_int_equal(jstream_finish(js), JSTREAM_OK);
    assert_int_equal(js->records, 2);
    free(js);
}

int main(void)
{
    static const struct CMUnitTest fixed[] = {
        cmocka_unit_test(apps_all_reports_each_app_once),
        cmocka_unit_test(apps_mine_delivers_user_only_apps_with_their_position),
        cmocka_unit_test(apps_ids_are_compared_as_binary),
        cmocka_unit_test(db_apps_body_reports_records_and_scalars),
        cmocka_unit_test(groups_body_reports_records),
        cmocka_unit_test(groups_community_edition_error_is_a_message),
        cmocka_unit_test(error_bodies_give_the_message_in_every_envelope),
        cmocka_unit_test(users_page_1_has_two_records_and_scalars),
        cmocka_unit_test(users_page_2_keeps_escapes_in_the_record_text),
        cmocka_unit_test(db_pages_infinity_nan_are_accepted),
        cmocka_unit_test(whitespace_everywhere_is_dropped_outside_strings),
        cmocka_unit_test(nasty_values_inside_records_pass_through),
        cmocka_unit_test(list_elements_of_any_type_are_records),
        cmocka_unit_test(value_envelope_delivers_the_document),
        cmocka_unit_test(escaped_envelope_keys_never_match),
        cmocka_unit_test(db_scalars_cover_the_int64_range),
        cmocka_unit_test(message_is_decoded_for_display),
        cmocka_unit_test(long_message_is_cut_on_a_character_boundary),
        cmocka_unit_test(errors_stay_sticky),
        cmocka_unit_test(record_exactly_at_the_limit_fits),
        cmocka_unit_test(record_one_over_the_limit_names_its_late_id),
        cmocka_unit_test(tokens_exactly_at_the_limit_fit),
        cmocka_unit_test(tokens_one_over_the_limit_fail),
        cmocka_unit_test(depth_exactly_at_the_limit_is_accepted),
        cmocka_unit_test(depth_one_over_the_limit_fails),
        cmocka_unit_test(apps_exactly_at_the_limit_are_accepted),
        cmocka_unit_test(apps_one_over_the_limit_fail),
        cmocka_unit_test(tokens_have_jsmns_layout),
        cmocka_unit_test(token_limit_is_met_by_every_kind_of_token),
        cmocka_unit_test(too_many_tokens_is_reported_after_the_record_is_validated),
        cmocka_unit_test(a_skipped_app_is_not_tokenized),
        cmocka_unit_test(callback_abort_stops_at_that_record),
        cmocka_unit_test(describe_names_offset_record_and_id),
        cmocka_unit_test(describe_shows_a_decoded_id_cut_with_dots),
        cmocka_unit_test(describe_respects_the_capacity),
        cmocka_unit_test(strerror_has_words_for_every_status),
        cmocka_unit_test(null_callback_only_counts),
        cmocka_unit_test(errors_inside_a_record_member_are_the_same),
        cmocka_unit_test(record_tokens_of_every_kind_match_jsmn),
        cmocka_unit_test(only_the_records_own_id_string_names_it),
        cmocka_unit_test(string_stops_are_found_at_every_position),
        cmocka_unit_test(an_error_after_a_record_outgrows_the_buffer_wins),
    };
    /* one test per error case, named after it, then the fixed tests */
    static struct CMUnitTest tests[ERROR_COUNT + sizeof(fixed) / sizeof(fixed[0])];
    for (size_t i = 0; i < ERROR_COUNT; i++) {
        tests[i] = (struct CMUnitTest){error_cases[i].name, error_case_is_reported, NULL, NULL,
                                       (void *)&error_cases[i]};
    }
    memcpy(tests + ERROR_COUNT, fixed, sizeof(fixed));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
