/*
 * test_map.c - unit tests of the record -> CSV row mapping.
 *
 * Records are tokenized here with jsmn (the same configuration jstream
 * uses) and mapped into a real CSV sink writing a file in a temporary
 * folder; the file is read back and compared line by line. The fixtures
 * of the first tests are the example responses of countly-api.md section 6,
 * with the expected rows worked out by hand from SPEC.md's tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "map.h"

#define SERVER_URL   "https://countly.example.com"
#define APP_ID       "64b0ac10c2c3ce0012dd1001"
#define RUN_START    1717650000 /* 2024-06-06T05:00:00Z */
#define CSV_TEXT_MAX (256 * 1024)

/* ---- fixtures: countly-api.md section 6 ------------------------------------------------- */

static const char *const apps_all_records[] = {
    "{\"_id\":\"64b0ac10c2c3ce0012dd1001\",\"category\":\"6\",\"country\":\"US\",\"key\":\"3a4f9d"
    "0c2b7e4e1f9a8b7c6d5e4f3a2b1c0d9e8f\",\"name\":\"Acme Shop iOS\",\"timezone\":\"America/New_Y"
    "ork\",\"salt\":\"\"}",
    "{\"_id\":\"64b0ac10c2c3ce0012dd1002\",\"category\":\"3\",\"country\":\"DE\",\"key\":\"b7c1e2"
    "f3a4d5968778695a4b3c2d1e0f9a8b7c6d\",\"name\":\"Acme Web &amp; Mobile\",\"timezone\":\"Europ"
    "e/Berlin\",\"salt\":\"x9Kq2LmP\"}",
};

static const char *const apps_all_rows[] = {
    "64b0ac10c2c3ce0012dd1001,Acme Shop iOS,3a4f9d0c2b7e4e1f9a8b7c6d5e4f3a2b1c0d9e8f,America/New_"
    "York,,,https://countly.example.com/appimages/64b0ac10c2c3ce0012dd1001.png,\"{\"\"category\""
    "\":\"\"6\"\",\"\"country\"\":\"\"US\"\"}\",2024-06-06T05:00:00Z",
    "64b0ac10c2c3ce0012dd1002,Acme Web & Mobile,b7c1e2f3a4d5968778695a4b3c2d1e0f9a8b7c6d,Europe/B"
    "erlin,,,https://countly.example.com/appimages/64b0ac10c2c3ce0012dd1002.png,\"{\"\"category\""
    "\":\"\"3\"\",\"\"country\"\":\"\"DE\"\"}\",2024-06-06T05:00:00Z",
};

static const char *const apps_db_records[] = {
    "{\"_id\":\"ObjectId(64b0ac10c2c3ce0012dd1001)\",\"name\":\"Acme Shop iOS\",\"country\":\"US"
    "\",\"type\":\"mobile\",\"category\":\"6\",\"key\":\"3a4f9d0c2b7e4e1f9a8b7c6d5e4f3a2b1c0d9e8f"
    "\",\"timezone\":\"America/New_York\",\"created_at\":1689299984,\"edited_at\":1712053321,\"ow"
    "ner\":\"64afcc1a4f5f0f0012a11101\",\"seq\":3,\"has_image\":false,\"plugins\":{},\"last_data"
    "\":1717600200}",
    "{\"_id\":\"ObjectId(64b0ac10c2c3ce0012dd1002)\",\"name\":\"Acme Web & Mobile\",\"country\":"
    "\"DE\",\"type\":\"web\",\"category\":\"3\",\"key\":\"b7c1e2f3a4d5968778695a4b3c2d1e0f9a8b7c6"
    "d\",\"timezone\":\"Europe/Berlin\",\"created_at\":1689299985,\"edited_at\":1689299985,\"owne"
    "r\":\"64afcc1a4f5f0f0012a11101\",\"seq\":0,\"has_image\":true,\"salt\":\"x9Kq2LmP\",\"plugin"
    "s\":{\"consolidate\":[]},\"last_data\":1717000000}",
};

static const char *const apps_db_rows[] = {
    "64b0ac10c2c3ce0012dd1001,Acme Shop iOS,3a4f9d0c2b7e4e1f9a8b7c6d5e4f3a2b1c0d9e8f,America/New_"
    "York,2023-07-14T01:59:44Z,2024-04-02T10:22:01Z,https://countly.example.com/appimages/64b0ac1"
    "0c2c3ce0012dd1001.png,\"{\"\"country\"\":\"\"US\"\",\"\"type\"\":\"\"mobile\"\",\"\"category"
    "\"\":\"\"6\"\",\"\"owner\"\":\"\"64afcc1a4f5f0f0012a11101\"\",\"\"seq\"\":3,\"\"has_image\""
    "\":false,\"\"plugins\"\":{},\"\"last_data\"\":1717600200}\",2024-06-06T05:00:00Z",
    "64b0ac10c2c3ce0012dd1002,Acme Web & Mobile,b7c1e2f3a4d5968778695a4b3c2d1e0f9a8b7c6d,Europe/B"
    "erlin,2023-07-14T01:59:45Z,2023-07-14T01:59:45Z,https://countly.example.com/appimages/64b0ac"
    "10c2c3ce0012dd1002.png,\"{\"\"country\"\":\"\"DE\"\",\"\"type\"\":\"\"web\"\",\"\"category\""
    "\":\"\"3\"\",\"\"owner\"\":\"\"64afcc1a4f5f0f0012a11101\"\",\"\"seq\"\":0,\"\"has_image\"\":"
    "true,\"\"plugins\"\":{\"\"consolidate\"\":[]},\"\"last_data\"\":1717000000}\",2024-06-06T05:"
    "00:00Z",
};

static const char *const groups_records[] = {
    "{\"_id\":\"65a0b1c2d3e4f5a6b7c8d9e0\",\"name\":\"Marketing Team\",\"groupID\":\"marketing-te"
    "am\",\"global_admin\":false,\"permission\":{\"c\":{},\"r\":{\"64b0ac10c2c3ce0012dd1001\":{\""
    "all\":true,\"allowed\":{}}},\"u\":{},\"d\":{},\"_\":{\"u\":[[\"64b0ac10c2c3ce0012dd1001\"]],"
    "\"a\":[]}},\"users\":[\"64c1f0e2a1b2c3d4e5f60718\",\"64c1f0e2a1b2c3d4e5f60719\"],\"matched_u"
    "sers_count\":2}",
    "{\"_id\":\"65a0b1c2d3e4f5a6b7c8d9e1\",\"name\":\"Platform Admins\",\"groupID\":\"platform-ad"
    "mins\",\"global_admin\":true,\"permission\":{\"c\":{},\"r\":{},\"u\":{},\"d\":{},\"_\":{\"u"
    "\":[],\"a\":[]}},\"users\":[\"64afcc1a4f5f0f0012a11101\"],\"matched_users_count\":1}",
};

static const char *const groups_rows[] = {
    "65a0b1c2d3e4f5a6b7c8d9e0,Marketing Team,,2,,,\"{\"\"groupID\"\":\"\"marketing-team\"\",\"\"g"
    "lobal_admin\"\":false,\"\"permission\"\":{\"\"c\"\":{},\"\"r\"\":{\"\"64b0ac10c2c3ce0012dd10"
    "01\"\":{\"\"all\"\":true,\"\"allowed\"\":{}}},\"\"u\"\":{},\"\"d\"\":{},\"\"_\"\":{\"\"u\"\""
    ":[[\"\"64b0ac10c2c3ce0012dd1001\"\"]],\"\"a\"\":[]}},\"\"users\"\":[\"\"64c1f0e2a1b2c3d4e5f6"
    "0718\"\",\"\"64c1f0e2a1b2c3d4e5f60719\"\"]}\",2024-06-06T05:00:00Z",
    "65a0b1c2d3e4f5a6b7c8d9e1,Platform Admins,,1,,,\"{\"\"groupID\"\":\"\"platform-admins\"\",\""
    "\"global_admin\"\":true,\"\"permission\"\":{\"\"c\"\":{},\"\"r\"\":{},\"\"u\"\":{},\"\"d\"\""
    ":{},\"\"_\"\":{\"\"u\"\":[],\"\"a\"\":[]}},\"\"users\"\":[\"\"64afcc1a4f5f0f0012a11101\"\"]}"
    "\",2024-06-06T05:00:00Z",
};

static const char *const users_records[] = {
    "{\"_id\":\"270a7ed80e6dd551a9c0b519f46c7a06e1be8e2a\",\"uid\":\"2\",\"did\":\"c41e9f0a7b3d2e"
    "15\",\"fac\":1705312800,\"first_sync\":1705312801,\"fs\":1705312800,\"ls\":1716400000,\"lac"
    "\":1716405000,\"last_sync\":1716405001,\"lu\":{\"$date\":\"2024-05-22T19:10:01.204Z\"},\"sc"
    "\":3,\"tsd\":420,\"sd\":0,\"lsid\":\"5f0c2b7e1a9d4c3e8b6a7f21\",\"hos\":false,\"cc\":\"DE\","
    "\"cty\":\"Berlin\",\"rgn\":\"BE\",\"tz\":\"120\",\"p\":\"Android\",\"pv\":\"a14\",\"d\":\"SM"
    "-S911B\",\"mnf\":\"samsung\",\"dt\":\"phone\",\"r\":\"1080x2340\",\"dnst\":\"XXHDPI\",\"c\":"
    "\"Telekom.de\",\"av\":\"2:3:0\",\"av_major\":2,\"av_minor\":3,\"av_patch\":0,\"sdk\":{\"name"
    "\":\"java-native-android\",\"version\":\"24.4.1\"}}",
    "{\"_id\":\"0d3a243a95b1af7e3a94331878424fd05811eadc\",\"uid\":\"1\",\"did\":\"jane.doe@examp"
    "le.com\",\"t\":\"0\",\"hasInfo\":true,\"fac\":1700000000,\"first_sync\":1700000001,\"fs\":17"
    "00000000,\"ls\":1717590000,\"lac\":1717600300,\"last_sync\":1717600301,\"lu\":{\"$date\":\"2"
    "024-06-05T15:11:41.877Z\"},\"sc\":42,\"tsd\":18234,\"sd\":0,\"lsid\":\"6660812ff3a1b2c3d4e5f"
    "607\",\"hos\":false,\"cc\":\"US\",\"cty\":\"New York\",\"rgn\":\"NY\",\"loc\":{\"gps\":true,"
    "\"geo\":{\"type\":\"Point\",\"coordinates\":[-73.9857,40.7484]},\"date\":1717590000123},\"tz"
    "\":\"-240\",\"p\":\"iOS\",\"pv\":\"i17:4\",\"d\":\"iPhone15,2\",\"r\":\"1179x2556\",\"c\":\""
    "Verizon\",\"av\":\"2:4:1\",\"av_major\":2,\"av_minor\":4,\"av_patch\":1,\"name\":\"Jane Doe"
    "\",\"username\":\"jdoe\",\"email\":\"jane.doe@example.com\",\"organization\":\"Acme\",\"phon"
    "e\":\"+15551234567\",\"picture\":\"https://cdn.example.com/u/jane.png\",\"gender\":\"F\",\"b"
    "year\":1990,\"custom\":{\"plan\":\"pro\",\"logins\":17,\"tags\":[\"beta\",\"vip\"]},\"sdk\":"
    "{\"name\":\"objc-native-ios\",\"version\":\"24.4.0\"}}",
    "{\"_id\":\"3ab2b147d94ae3ca3633f88da65776ac0e6334cf\",\"uid\":\"3\",\"did\":\"8D2F6C1E-4B7A-"
    "4C1D-9E3F-2A6B5C4D3E2F\",\"fac\":1717599100,\"first_sync\":1717599101,\"fs\":1717599100,\"ls"
    "\":1717599100,\"lac\":1717600500,\"last_sync\":1717600501,\"sc\":1,\"tsd\":65,\"sd\":65,\"ho"
    "s\":true,\"cc\":\"Unknown\",\"cty\":\"Unknown\",\"p\":\"iOS\",\"pv\":\"i16:7:2\",\"d\":\"iPh"
    "one12,1\",\"r\":\"828x1792\",\"av\":\"2:4:1\",\"name\":\"Zo\\u00eb M\\u00fcller\",\"custom\""
    ":{}}",
};

static const char *const users_rows[] = {
    "270a7ed80e6dd551a9c0b519f46c7a06e1be8e2a,64b0ac10c2c3ce0012dd1001,c41e9f0a7b3d2e15,,,,,,,,,2"
    "024-01-15T10:00:00Z,2024-05-22T17:46:40Z,3,420,2024-06-06T05:00:00Z,2024-05-22T19:10:00Z,\"{"
    "\"\"uid\"\":\"\"2\"\",\"\"fac\"\":1705312800,\"\"first_sync\"\":1705312801,\"\"last_sync\"\""
    ":1716405001,\"\"lu\"\":{\"\"$date\"\":\"\"2024-05-22T19:10:01.204Z\"\"},\"\"sd\"\":0,\"\"lsi"
    "d\"\":\"\"5f0c2b7e1a9d4c3e8b6a7f21\"\",\"\"hos\"\":false,\"\"cc\"\":\"\"DE\"\",\"\"cty\"\":"
    "\"\"Berlin\"\",\"\"rgn\"\":\"\"BE\"\",\"\"tz\"\":\"\"120\"\",\"\"p\"\":\"\"Android\"\",\"\"p"
    "v\"\":\"\"a14\"\",\"\"d\"\":\"\"SM-S911B\"\",\"\"mnf\"\":\"\"samsung\"\",\"\"dt\"\":\"\"phon"
    "e\"\",\"\"r\"\":\"\"1080x2340\"\",\"\"dnst\"\":\"\"XXHDPI\"\",\"\"c\"\":\"\"Telekom.de\"\","
    "\"\"av\"\":\"\"2:3:0\"\",\"\"av_major\"\":2,\"\"av_minor\"\":3,\"\"av_patch\"\":0,\"\"sdk\""
    "\":{\"\"name\"\":\"\"java-native-android\"\",\"\"version\"\":\"\"24.4.1\"\"}}\"",
    "0d3a243a95b1af7e3a94331878424fd05811eadc,64b0ac10c2c3ce0012dd1001,jane.doe@example.com,Jane "
    "Doe,jane.doe@example.com,Acme,+15551234567,https://cdn.example.com/u/jane.png,F,1990,\"{\"\""
    "plan\"\":\"\"pro\"\",\"\"logins\"\":17,\"\"tags\"\":[\"\"beta\"\",\"\"vip\"\"]}\",2023-11-14"
    "T22:13:20Z,2024-06-05T12:20:00Z,42,18234,2024-06-06T05:00:00Z,2024-06-05T15:11:40Z,\"{\"\"ui"
    "d\"\":\"\"1\"\",\"\"t\"\":\"\"0\"\",\"\"hasInfo\"\":true,\"\"fac\"\":1700000000,\"\"first_sy"
    "nc\"\":1700000001,\"\"last_sync\"\":1717600301,\"\"lu\"\":{\"\"$date\"\":\"\"2024-06-05T15:1"
    "1:41.877Z\"\"},\"\"sd\"\":0,\"\"lsid\"\":\"\"6660812ff3a1b2c3d4e5f607\"\",\"\"hos\"\":false,"
    "\"\"cc\"\":\"\"US\"\",\"\"cty\"\":\"\"New York\"\",\"\"rgn\"\":\"\"NY\"\",\"\"loc\"\":{\"\"g"
    "ps\"\":true,\"\"geo\"\":{\"\"type\"\":\"\"Point\"\",\"\"coordinates\"\":[-73.9857,40.7484]},"
    "\"\"date\"\":1717590000123},\"\"tz\"\":\"\"-240\"\",\"\"p\"\":\"\"iOS\"\",\"\"pv\"\":\"\"i17"
    ":4\"\",\"\"d\"\":\"\"iPhone15,2\"\",\"\"r\"\":\"\"1179x2556\"\",\"\"c\"\":\"\"Verizon\"\",\""
    "\"av\"\":\"\"2:4:1\"\",\"\"av_major\"\":2,\"\"av_minor\"\":4,\"\"av_patch\"\":1,\"\"username"
    "\"\":\"\"jdoe\"\",\"\"sdk\"\":{\"\"name\"\":\"\"objc-native-ios\"\",\"\"version\"\":\"\"24.4"
    ".0\"\"}}\"",
    "3ab2b147d94ae3ca3633f88da65776ac0e6334cf,64b0ac10c2c3ce0012dd1001,8D2F6C1E-4B7A-4C1D-9E3F-2A"
    "6B5C4D3E2F,Zoë Müller,,,,,,,{},2024-06-05T14:51:40Z,2024-06-05T14:51:40Z,1,65,2024-06-06T05:"
    "00:00Z,2024-06-05T15:15:00Z,\"{\"\"uid\"\":\"\"3\"\",\"\"fac\"\":1717599100,\"\"first_sync\""
    "\":1717599101,\"\"last_sync\"\":1717600501,\"\"sd\"\":65,\"\"hos\"\":true,\"\"cc\"\":\"\"Unk"
    "nown\"\",\"\"cty\"\":\"\"Unknown\"\",\"\"p\"\":\"\"iOS\"\",\"\"pv\"\":\"\"i16:7:2\"\",\"\"d"
    "\"\":\"\"iPhone12,1\"\",\"\"r\"\":\"\"828x1792\"\",\"\"av\"\":\"\"2:4:1\"\"}\"",
};

/* ---- harness ------------------------------------------------------------------------ */

typedef struct {
    char dir[64];
    char path[128];
    char text[CSV_TEXT_MAX]; /* the file read back */
    map_mapper mapper;
    csv_sink sink;
    jsmntok_t tokens[JSTREAM_TOKENS_MAX];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof(*f));
    assert_non_null(f);
    strcpy(f->dir, "/tmp/test_map.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/out.csv", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static void open_sink(fixture *f, map_table table)
{
    size_t columns = 0;
    const char *const *header = map_header(table, &columns);
    unlink(f->path);
    assert_int_equal(csv_open(&f->sink, f->path, CSV_MODE_APPEND, 0, header, columns), CSV_OK);
}

static void start(fixture *f, map_table table)
{
    map_context ctx = {SERVER_URL, APP_ID, RUN_START};
    map_init(&f->mapper, table, &ctx);
    open_sink(f, table);
}

/* Tokenizes json and maps it as one record. */
static map_status map_json(fixture *f, const char *json)
{
    jsmn_parser parser;
    jsmn_init(&parser);
    int n = jsmn_parse(&parser, json, strlen(json), f->tokens, JSTREAM_TOKENS_MAX);
    if (n < 0)
        fail_msg("fixture is not JSON (%d): %s", n, json);
    jstream_record record = {json, strlen(json), f->tokens, n, 0, NULL, 0};
    /* plain as jstream would say it (compact, no escape), when surely so:
     * fixtures without any whitespace or backslash take map's short path */
    record.plain = strpbrk(json, " \t\r\n\\") == NULL;
    return map_record(&f->mapper, &record, &f->sink);
}

/* Closes the sink and reads the file back; returns the text after the header line. */
static const char *finish(fixture *f)
{
    assert_int_equal(csv_finish(&f->sink), CSV_OK);
    FILE *file = fopen(f->path, "rb");
    assert_non_null(file);
    size_t n = fread(f->text, 1, sizeof(f->text) - 1, file);
    fclose(file);
    f->text[n] = '\0';
    const char *rows = strchr(f->text, '\n');
    assert_non_null(rows);
    return rows + 1;
}

/* Maps each record (all must succeed) and returns the rows written. */
static const char *map_all(fixture *f, map_table table, const char *const *records, size_t n)
{
    start(f, table);
    for (size_t i = 0; i < n; i++) {
        map_status status = map_json(f, records[i]);
        if (status != MAP_OK) {
            char line[512];
            map_describe(&f->mapper, status, line, sizeof(line));
            fail_msg("record %zu: %s", i, line);
        }
    }
    return finish(f);
}

/* The rows must be exactly expected[0..n), each ending in "\n". */
static void assert_rows(const char *rows, const char *const *expected, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(expected[i]);
        if (strncmp(rows, expected[i], len) != 0 || rows[len] != '\n') {
            fail_msg("row %zu:\n  got  %.*s\n  want %s", i, (int)strcspn(rows, "\n"), rows,
                     expected[i]);
        }
        rows += len + 1;
    }
    assert_string_equal(rows, "");
}

/* Maps one record of table and checks its single row. */
static void assert_one_row(fixture *f, map_table table, const char *json, const char *row)
{
    const char *records[1] = {json};
    assert_rows(map_all(f, table, records, 1), &row, 1);
}

/* Maps one record that must fail with status; checks its description and
 * that no byte of the row reached the file. */
static void assert_error(fixture *f, map_table table, const char *json, map_status status,
                         const char *description)
{
    char line[512];
    start(f, table);
    assert_int_equal(map_json(f, json), status);
    size_t n = map_describe(&f->mapper, status, line, sizeof(line));
    assert_string_equal(line, description);
    assert_int_equal(n, strlen(description));
    assert_string_equal(finish(f), "");
}

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the examples of countly-api.md ------------------------------------------------------ */

static void header_lists_the_spec_columns_in_order(void **state)
{
    (void)state;
    static const char *const users[] = {
        "user_id",      "app_id",        "device_id", "username",      "email",
        "organization", "phone",         "picture",   "gender",        "byear",
        "custom_data",  "first_seen",    "last_seen", "session_count", "total_session_duration",
        "processed_at", "last_activity", "metadata"};
    static const char *const apps[] = {"app_id",   "name",       "key",
                                       "timezone", "created_at", "updated_at",
                                       "icon",     "metadata",   "processed_at"};
    static const char *const groups[] = {"group_id",   "name",       "description", "user_count",
                                         "created_at", "updated_at", "metadata",    "processed_at"};
    size_t n = 0;
    const char *const *h = map_header(MAP_TABLE_USERS, &n);
    assert_int_equal(n, COUNT(users));
    for (size_t i = 0; i < n; i++)
        assert_string_equal(h[i], users[i]);
    h = map_header(MAP_TABLE_APPS_DB, &n);
    assert_int_equal(n, COUNT(apps));
    for (size_t i = 0; i < n; i++)
        assert_string_equal(h[i], apps[i]);
    h = map_header(MAP_TABLE_APPS_MINE, &n);
    assert_int_equal(n, COUNT(apps));
    h = map_header(MAP_TABLE_GROUPS, &n);
    assert_int_equal(n, COUNT(groups));
    for (size_t i = 0; i < n; i++)
        assert_string_equal(h[i], groups[i]);
    assert_true(n <= MAP_COLUMNS_MAX);
}

static void csv_file_starts_with_the_header_row(void **state)
{
    fixture *f = *state;
    map_all(f, MAP_TABLE_GROUPS, groups_records, 0);
    assert_string_equal(f->text,
                        "group_id,name,description,user_count,created_at,updated_at,metadata,"
                        "processed_at\n");
}

static void apps_all_example_gives_spec_rows(void **state)
{
    fixture *f = *state;
    const char *rows = map_all(f, MAP_TABLE_APPS_MINE, apps_all_records, COUNT(apps_all_records));
    assert_rows(rows, apps_all_rows, COUNT(apps_all_rows));
}

static void apps_db_example_gives_spec_rows(void **state)
{
    fixture *f = *state;
    const char *rows = map_all(f, MAP_TABLE_APPS_DB, apps_db_records, COUNT(apps_db_records));
    assert_rows(rows, apps_db_rows, COUNT(apps_db_rows));
}

static void groups_example_gives_spec_rows(void **state)
{
    fixture *f = *state;
    const char *rows = map_all(f, MAP_TABLE_GROUPS, groups_records, COUNT(groups_records));
    assert_rows(rows, groups_rows, COUNT(groups_rows));
}

static void users_example_gives_spec_rows(void **state)
{
    fixture *f = *state;
    const char *rows = map_all(f, MAP_TABLE_USERS, users_records, COUNT(users_records));
    assert_rows(rows, users_rows, COUNT(users_rows));
    assert_int_equal(f->mapper.replaced, 0);
}

/* ---- text ----------------------------------------------------------------------------------- */

/* A users row with only _id and name set. */
static void assert_username(fixture *f, const char *json_name, const char *field)
{
    char json[512];
    char row[512];
    snprintf(json, sizeof(json), "{\"_id\":\"u1\",\"name\":%s}", json_name);
    snprintf(row, sizeof(row), "u1," APP_ID ",,%s,,,,,,,,,,,,2024-06-06T05:00:00Z,,{}", field);
    assert_one_row(f, MAP_TABLE_USERS, json, row);
}

static void nasty_text_is_quoted_as_postgres_csv_expects(void **state)
{
    fixture *f = *state;
    assert_username(f, "\"say \\\"hi\\\"\"", "\"say \"\"hi\"\"\"");
    assert_username(f, "\"Doe, Jane\"", "\"Doe, Jane\"");
    assert_username(f, "\"two\\r\\nlines\"", "\"two\r\nlines\"");
    assert_username(f, "\"a\\tb\"", "a\tb");
    assert_username(f, "\" padded \"", "\" padded \"");
    assert_username(f, "\"\\ttab first\"", "\"\ttab first\"");
    assert_username(f, "\"\"", "\"\"");
    assert_username(f, "\"=SUM(A1)\"", "=SUM(A1)");
    assert_username(f, "\"+1-2@x\"", "+1-2@x");
    assert_username(f, "\"-@\"", "-@");
    assert_username(f, "\"\xf0\x9f\x98\x80 \\ud83d\\ude00\"", "\xf0\x9f\x98\x80 \xf0\x9f\x98\x80");
    assert_username(f, "\"back\\\\slash \\/ slash\"", "back\\slash / slash");
}

static void non_string_text_is_its_compact_json(void **state)
{
    fixture *f = *state;
    assert_username(f, "42", "42");
    assert_username(f, "-1.5e3", "-1.5e3");
    assert_username(f, "true", "true");
    assert_username(f, "[1, \"a\" , {\"b\" : null}]", "\"[1,\"\"a\"\",{\"\"b\"\":null}]\"");
    assert_username(f, "{}", "{}");
    assert_username(f, "null", "");
}

static void html_entities_are_decoded_only_for_apps_mine_and_groups(void **state)
{
    fixture *f = *state;
    const char *app = "{\"_id\":\"a1\",\"name\":\"A &amp; B &lt;i&gt; &quot;q&quot; &#39;s&#39; "
                      "&amp;lt;\",\"country\":\"&lt;x&gt;\",\"a&amp;b\":1}";
    assert_one_row(f, MAP_TABLE_APPS_MINE, app,
                   "a1,\"A & B <i> \"\"q\"\" 's' &lt;\",,,,," SERVER_URL
                   "/appimages/a1.png,\"{\"\"country\"\":\"\"<x>\"\",\"\"a&b\"\":1}\","
                   "2024-06-06T05:00:00Z");
    assert_one_row(f, MAP_TABLE_APPS_DB, app,
                   "a1,A &amp; B &lt;i&gt; &quot;q&quot; &#39;s&#39; &amp;lt;,,,,," SERVER_URL
                   "/appimages/a1.png,\"{\"\"country\"\":\"\"&lt;x&gt;\"\",\"\"a&amp;b\"\":1}\","
                   "2024-06-06T05:00:00Z");
    assert_one_row(f, MAP_TABLE_GROUPS,
                   "{\"_id\":\"g1\",\"name\":\"R&amp;D\",\"description\":\"&lt;b&gt;\","
                   "\"groupID\":\"r&amp;d\"}",
                   "g1,R&D,<b>,,,,\"{\"\"groupID\"\":\"\"r&d\"\"}\",2024-06-06T05:00:00Z");
    assert_username(f, "\"A &amp; B\"", "A &amp; B");
}

static void object_id_is_stripped_only_when_exact(void **state)
{
    fixture *f = *state;
    assert_one_row(f, MAP_TABLE_APPS_DB, "{\"_id\":\"ObjectId(64b0ac10c2c3ce0012dd1001)\"}",
                   "64b0ac10c2c3ce0012dd1001,,,,,," SERVER_URL
                   "/appimages/64b0ac10c2c3ce0012dd1001.png,{},2024-06-06T05:00:00Z");
    assert_one_row(f, MAP_TABLE_APPS_DB, "{\"_id\":\"ObjectId()\"}",
                   "ObjectId(),,,,,," SERVER_URL "/appimages/ObjectId().png,{},"
                   "2024-06-06T05:00:00Z");
    assert_one_row(f, MAP_TABLE_APPS_DB, "{\"_id\":\"ObjectId(xyz)\"}",
                   "ObjectId(xyz),,,,,," SERVER_URL "/appimages/ObjectId(xyz).png,{},"
                   "2024-06-06T05:00:00Z");
    assert_one_row(f, MAP_TABLE_APPS_DB, "{\"_id\":\"ObjectId(abc) \"}",
                   "\"ObjectId(abc) \",,,,,," SERVER_URL "/appimages/ObjectId(abc) .png,{},"
                   "2024-06-06T05:00:00Z");
    /* written with escapes, still exactly ObjectId(<hex>) once decoded */
    assert_one_row(f, MAP_TABLE_USERS, "{\"_id\":\"ObjectId\\u0028ab12\\u0029\"}",
                   "ab12," APP_ID ",,,,,,,,,,,,,,2024-06-06T05:00:00Z,,{}");
}

static void icon_is_server_url_and_app_id_or_null(void **state)
{
    fixture *f = *state;
    assert_one_row(f, MAP_TABLE_APPS_MINE, "{\"name\":\"no id\"}",
                   ",no id,,,,,,{},2024-06-06T05:00:00Z");
    assert_one_row(f, MAP_TABLE_APPS_MINE, "{\"_id\":null}", ",,,,,,,{},2024-06-06T05:00:00Z");
    assert_one_row(f, MAP_TABLE_APPS_MINE, "{\"_id\":\"a\\\"b\"}",
                   "\"a\"\"b\",,,,,,\"" SERVER_URL "/appimages/a\"\"b.png\",{},"
                   "2024-06-06T05:00:00Z");
}

static void lone_surrogates_become_replacement_characters_and_are_counted(void **state)
{
    fixture *f = *state;
    start(f, MAP_TABLE_USERS);
    assert_int_equal(map_json(f, "{\"_id\":\"u1\",\"name\":\"x\\ud800y\",\"custom\":{\"k\\udc00\":"
                                 "\"\\u0000\"},\"cty\":\"\\ud83d\"}"),
                     MAP_OK);
    assert_int_equal(f->mapper.replaced, 4);
    assert_int_equal(map_json(f, "{\"_id\":\"u2\",\"name\":\"\\ud83d\\ude00\"}"), MAP_OK);
    assert_int_equal(f->mapper.replaced, 4); /* a valid pair is no substitution */
    const char *rows = finish(f);
    const char *want[] = {
        "u1," APP_ID ",,x\xef\xbf\xbdy,,,,,,,\"{\"\"k\xef\xbf\xbd\"\":\"\"\xef\xbf\xbd\"\"}\","
        ",,,,2024-06-06T05:00:00Z,,\"{\"\"cty\"\":\"\"\xef\xbf\xbd\"\"}\"",
        "u2," APP_ID ",,\xf0\x9f\x98\x80,,,,,,,,,,,,2024-06-06T05:00:00Z,,{}",
    };
    assert_rows(rows, want, 2);
}

/* ---- JSON columns and metadata ------------------------------------------------------------ */

static void custom_data_is_compact_json_of_any_depth(void **state)
{
    fixture *f = *state;
    assert_one_row(
        f, MAP_TABLE_USERS,
        "{ \"_id\" : \"u1\" , \"custom\" : { \"a\" : [ 1 , -2.5e-3 , true , false , null , "
        "{ \"b\" : { \"c\" : [ [ ] , { } ] } } ] , \"q\\\"\\n\\u0001\\/\" : \"x\\ty\" } }",
        "u1," APP_ID ",,,,,,,,,\"{\"\"a\"\":[1,-2.5e-3,true,false,null,{\"\"b\"\":{\"\"c\"\":"
        "[[],{}]}}],\"\"q\\\"\"\\n\\u0001/\"\":\"\"x\\ty\"\"}\",,,,,2024-06-06T05:00:00Z,,{}");
    assert_one_row(f, MAP_TABLE_USERS, "{\"_id\":\"u1\",\"custom\":{}}",
                   "u1," APP_ID ",,,,,,,,,{},,,,,2024-06-06T05:00:00Z,,{}");
    assert_one_row(f, MAP_TABLE_USERS, "{\"_id\":\"u1\",\"custom\":\"plain\"}",
                   "u1," APP_ID ",,,,,,,,,\"\"\"plain\"\"\",,,,,2024-06-06T05:00:00Z,,{}");
    assert_one_row(f, MAP_TABLE_USERS, "{\"_id\":\"u1\",\"custom\":[]}",
                   "u1," APP_ID ",,,,,,,,,[],,,,,2024-06-06T05:00:00Z,,{}");
}

static void duplicate_keys_keep_the_last_value(void **state)
{
    fixture *f = *state;
    assert_one_row(f, MAP_TABLE_USERS,
                   "{\"_id\":\"u1\",\"name\":\"first\",\"uid\":\"1\",\"cc\":\"DE\",\"name\":"
                   "\"second\",\"uid\":\"2\",\"byear\":1,\"byear\":null}",
                   "u1," APP_ID ",,second,,,,,,,,,,,,2024-06-06T05:00:00Z,,"
                   "\"{\"\"cc\"\":\"\"DE\"\",\"\"uid\"\":\"\"2\"\"}\"");
    /* the same key written with an escape is the same key */
    assert_one_row(f, MAP_TABLE_USERS,
                   "{\"_id\":\"u1\",\"uid\":\"1\",\"cc\":\"DE\",\"\\u0075id\":\"2\",\"n\\u0061me\":"
                   "\"esc\"}",
                   "u1," APP_ID ",,esc,,,,,,,,,,,,2024-06-06T05:00:00Z,,"
                   "\"{\"\"cc\"\":\"\"DE\"\",\"\"uid\"\":\"\"2\"\"}\"");
    /* in groups, &amp; in a key decodes before keys are compared */
    assert_one_row(f, MAP_TABLE_GROUPS, "{\"_id\":\"g\",\"a&amp;b\":1,\"x\":0,\"a&b\":2}",
                   "g,,,,,,\"{\"\"x\"\":0,\"\"a&b\"\":2}\",2024-06-06T05:00:00Z");
}

/* A compact record with a few escapes: members and values without one are
 * copied as they stand (clean neighbours as one run), the others are
 * re-serialized string by string. */
static void record_with_a_few_escapes_copies_its_clean_members_whole(void **state)
{
    fixture *f = *state;
    assert_one_row(
        f, MAP_TABLE_USERS,
        "{\"_id\":\"u1\",\"uid\":\"1\",\"cc\":\"DE\",\"note\":\"a\\\"b\",\"p\":\"x\",\"name\":\"J"
        "\\u00f6\",\"custom\":{\"t\":[\"q\\\"u\",\"v\"],\"n\":1},\"x\":{\"k\":\"\\\\\",\"m\":[1]},"
        "\"z\":2}",
        "u1," APP_ID ",,Jö,,,,,,,\"{\"\"t\"\":[\"\"q\\\"\"u\"\",\"\"v\"\"],\"\"n\"\":1}\",,,,,2024-"
        "06-06T05:00:00Z,,\"{\"\"uid\"\":\"\"1\"\",\"\"cc\"\":\"\"DE\"\",\"\"note\"\":\"\"a\\\"\"b"
        "\"\",\"\"p\"\":\"\"x\"\",\"\"x\"\":{\"\"k\"\":\"\"\\\\\"\",\"\"m\"\":[1]},\"\"z\"\":2}\"");
}

/* More escapes than the record's list holds: each string is then tested
 * by its own bytes, with the same row. */
static void record_with_many_escapes_tests_each_string(void **state)
{
    fixture *f = *state;
    char json[512];
    char row[1024];
    char many[128] = "";
    char many_csv[128] = "";
    for (int i = 0; i < 40; i++) {
        strcat(many, "x\\n");
        strcat(many_csv, "x\\n");
    }
    snprintf(
        json, sizeof json,
        "{\"_id\":\"u1\",\"a\":1,\"s\":\"%s\",\"b\":\"y\",\"c\\u0061\":\"z\",\"custom\":{\"q\":"
        "\"\\\"\"},\"d\":[\"e\"]}",
        many);
    snprintf(
        row, sizeof row,
        "u1," APP_ID ",,,,,,,,,\"{\"\"q\"\":\"\"\\\"\"\"\"}\",,,,,2024-06-06T05:00:00Z,,\"{\"\""
        "a\"\":1,\"\"s\"\":\"\"%s\"\",\"\"b\"\":\"\"y\"\",\"\"ca\"\":\"\"z\"\",\"\"d\"\":[\"\"e"
        "\"\"]}\"",
        many_csv);
    assert_one_row(f, MAP_TABLE_USERS, json, row);
    /* and with whitespace, so the record is not compact either */
    assert_one_row(f, MAP_TABLE_USERS,
                   "{ \"_id\" : \"u1\" , \"a\" : \"x\\ny\" , \"b\" : [ \"p\" , \"q\\\"\" ] , \"c\" "
                   ": { \"d\" : \"e f\" } }",
                   "u1," APP_ID ",,,,,,,,,,,,,,2024-06-06T05:00:00Z,,\"{\"\"a\"\":\"\"x\\ny\"\",\""
                   "\"b\"\":[\"\"p\"\",\"\"q\\\"\"\"\"],\"\"c\"\":{\"\"d\"\":\"\"e f\"\"}}\"");
}

/* Where entities are decoded, '&' is an escape byte too, in a record with
 * or without a backslash. */
static void html_tables_list_their_ampersands(void **state)
{
    fixture *f = *state;
    assert_one_row(
        f, MAP_TABLE_GROUPS,
        "{\"_id\":\"g\",\"name\":\"A &amp; B\",\"x\":\"1&2\",\"y\":\"ok\",\"z\":[1,\"&lt;"
        "\"],\"w\":3}",
        "g,A & B,,,,,\"{\"\"x\"\":\"\"1&2\"\",\"\"y\"\":\"\"ok\"\",\"\"z\"\":[1,\"\"<\"\"],"
        "\"\"w\"\":3}\",2024-06-06T05:00:00Z");
    assert_one_row(
        f, MAP_TABLE_GROUPS,
        "{\"_id\":\"g\",\"name\":\"A\\\"&amp;\",\"x\":\"1&2\",\"y\":\"o\\\\k\",\"w\":3}",
        "g,\"A\"\"&\",,,,,\"{\"\"x\"\":\"\"1&2\"\",\"\"y\"\":\"\"o\\\\k\"\",\"\"w\"\":3}\","
        "2024-06-06T05:00:00Z");
    assert_one_row(
        f, MAP_TABLE_APPS_MINE,
        "{\"_id\":\"64b0ac10c2c3ce0012dd1009\",\"name\":\"A &amp; B\",\"key\":\"k\",\"x\":"
        "\"1&2\",\"y\":\"ok\",\"z\":{\"a\":\"&gt;\",\"b\":\"c\"},\"w\":3}",
        "64b0ac10c2c3ce0012dd1009,A & B,k,,,," SERVER_URL
        "/appimages/64b0ac10c2c3ce0012dd1009.png,\"{\"\"x\"\":\"\"1&2\"\",\"\"y\"\":\"\"ok"
        "\"\",\"\"z\"\":{\"\"a\"\":\"\">\"\",\"\"b\"\":\"\"c\"\"},\"\"w\"\":3}\",2024-06-06T0"
        "5:00:00Z");
}

/* Keys are told apart by their text, not their hash: ve5o_ and v7pnk have
 * the same FNV-1a hash, al and bb the same metadata filter bit. */
static void keys_of_equal_hash_stay_apart(void **state)
{
    fixture *f = *state;
    assert_one_row(f, MAP_TABLE_USERS,
                   "{\"_id\":\"u1\",\"ve5o_\":1,\"v7pnk\":2,\"al\":3,\"bb\":4,\"ve5o_\":5}",
                   "u1," APP_ID ",,,,,,,,,,,,,,2024-06-06T05:00:00Z,,\"{\"\"v7pnk\"\":2,\"\"al\"\":"
                   "3,\"\"bb\"\":4,\"\"ve5o_\"\":5}\"");
}

static void keys_may_come_in_any_order(void **state)
{
    fixture *f = *state;
    assert_one_row(f, MAP_TABLE_USERS,
                   "{\"lac\":1717600300,\"zz\":1,\"byear\":1990,\"did\":\"d\",\"aa\":2,\"_id\":"
                   "\"u1\"}",
                   "u1," APP_ID ",d,,,,,,,1990,,,,,,2024-06-06T05:00:00Z,2024-06-05T15:11:40Z,"
                   "\"{\"\"zz\"\":1,\"\"aa\"\":2}\"");
}

static void missing_and_null_values_are_null(void **state)
{
    fixture *f = *state;
    assert_one_row(f, MAP_TABLE_USERS, "{}", "," APP_ID ",,,,,,,,,,,,,,2024-06-06T05:00:00Z,,{}");
    assert_one_row(f, MAP_TABLE_USERS,
                   "{\"_id\":null,\"did\":null,\"name\":null,\"email\":null,\"organization\":null,"
                   "\"phone\":null,\"picture\":null,\"gender\":null,\"byear\":null,\"custom\":"
                   "null,\"fs\":null,\"ls\":null,\"sc\":null,\"tsd\":null,\"lac\":null,\"x\":null}",
                   "," APP_ID ",,,,,,,,,,,,,,2024-06-06T05:00:00Z,,\"{\"\"x\"\":null}\"");
    assert_one_row(f, MAP_TABLE_GROUPS, "{\"_id\":\"g\",\"description\":null}",
                   "g,,,,,,{},2024-06-06T05:00:00Z");
}

static void secrets_are_never_written(void **state)
{
    fixture *f = *state;
    static const char *const tables[] = {"apps", "apps", "groups", "users"};
    for (int t = MAP_TABLE_APPS_DB; t <= MAP_TABLE_USERS; t++) {
        start(f, (map_table)t);
        assert_int_equal(map_json(f, "{\"_id\":\"r1\",\"salt\":\"SECRET-1\",\"checksum_salt\":"
                                     "\"SECRET-2\",\"api_key\":\"SECRET-3\",\"salt\":\"SECRET-4\","
                                     "\"keep\":true}"),
                         MAP_OK);
        const char *rows = finish(f);
        assert_null(strstr(f->text, "SECRET"));
        assert_null(strstr(f->text, "salt"));
        assert_null(strstr(f->text, "api_key"));
        assert_non_null(strstr(rows, "\"{\"\"keep\"\":true}\""));
        (void)tables[t];
    }
}

static void user_count_falls_back_to_the_users_array(void **state)
{
    fixture *f = *state;
    assert_one_row(f, MAP_TABLE_GROUPS, "{\"_id\":\"g\",\"users\":[\"a\",\"b\",\"c\"]}",
                   "g,,,3,,,\"{\"\"users\"\":[\"\"a\"\",\"\"b\"\",\"\"c\"\"]}\","
                   "2024-06-06T05:00:00Z");
    assert_one_row(f, MAP_TABLE_GROUPS,
                   "{\"_id\":\"g\",\"matched_users_count\":null,\"users\":[[1,2],{\"x\":[3]}]}",
                   "g,,,2,,,\"{\"\"users\"\":[[1,2],{\"\"x\"\":[3]}]}\",2024-06-06T05:00:00Z");
    assert_one_row(f, MAP_TABLE_GROUPS, "{\"_id\":\"g\",\"users\":[]}",
                   "g,,,0,,,\"{\"\"users\"\":[]}\",2024-06-06T05:00:00Z");
    assert_one_row(f, MAP_TABLE_GROUPS, "{\"_id\":\"g\",\"users\":\"x\"}",
                   "g,,,,,,\"{\"\"users\"\":\"\"x\"\"}\",2024-06-06T05:00:00Z");
    assert_one_row(f, MAP_TABLE_GROUPS, "{\"_id\":\"g\",\"users\":[1],\"matched_users_count\":7.9}",
                   "g,,,7,,,\"{\"\"users\"\":[1]}\",2024-06-06T05:00:00Z");
}

/* ---- numbers -------------------------------------------------------------------------------- */

/* A users row with only _id and byear set. */
static void assert_byear(fixture *f, const char *number, const char *field)
{
    char json[256];
    char row[256];
    snprintf(json, sizeof(json), "{\"_id\":\"u1\",\"byear\":%s}", number);
    snprintf(row, sizeof(row), "u1," APP_ID ",,,,,,,,%s,,,,,,2024-06-06T05:00:00Z,,{}", field);
    assert_one_row(f, MAP_TABLE_USERS, json, row);
}

static void integers_truncate_toward_zero_exactly(void **state)
{
    fixture *f = *state;
    assert_byear(f, "1990", "1990");
    assert_byear(f, "1.9", "1");
    assert_byear(f, "-1.9", "-1");
    assert_byear(f, "0.999", "0");
    assert_byear(f, "-0.5", "0");
    assert_byear(f, "-0", "0");
    assert_byear(f, "1e3", "1000");
    assert_byear(f, "1E+3", "1000");
    assert_byear(f, "1.5e1", "15");
    assert_byear(f, "123e-2", "1");
    assert_byear(f, "0.00012e5", "12");
    assert_byear(f, "0e999999999999", "0");
    assert_byear(f, "5e-999999999999", "0");
    assert_byear(f, "9223372036854775807", "9223372036854775807");
    assert_byear(f, "-9223372036854775808", "-9223372036854775808");
    assert_byear(f, "9223372036854775807.99", "9223372036854775807");
    assert_byear(f, "92233720368547758.07e2", "9223372036854775807");
    assert_byear(f, "0000.5", "0");
}

static void integer_columns_hold_the_spec_sources(void **state)
{
    fixture *f = *state;
    assert_one_row(f, MAP_TABLE_USERS, "{\"_id\":\"u1\",\"sc\":42,\"tsd\":18234.75}",
                   "u1," APP_ID ",,,,,,,,,,,,42,18234,2024-06-06T05:00:00Z,,{}");
}

static void timestamps_accept_seconds_and_milliseconds(void **state)
{
    fixture *f = *state;
    static const char *const stamps[] = {"1717600300", "1717600300999", "1717600300.9",
                                         "1.7176003e9", "17176003009.99e2"};
    for (size_t i = 0; i < COUNT(stamps); i++) {
        char json[128];
        snprintf(json, sizeof(json), "{\"_id\":\"u1\",\"lac\":%s}", stamps[i]);
        assert_one_row(f, MAP_TABLE_USERS, json,
                       "u1," APP_ID ",,,,,,,,,,,,,,2024-06-06T05:00:00Z,2024-06-05T15:11:40Z,{}");
    }
    assert_one_row(f, MAP_TABLE_USERS, "{\"_id\":\"u1\",\"fs\":1000000000,\"ls\":9999999999999}",
                   "u1," APP_ID ",,,,,,,,,,2001-09-09T01:46:40Z,2286-11-20T17:46:39Z,,,"
                   "2024-06-06T05:00:00Z,,{}");
}

/* ---- errors --------------------------------------------------------------------------------- */

static void text_in_an_integer_column_is_a_type_error(void **state)
{
    fixture *f = *state;
    assert_error(f, MAP_TABLE_USERS,
                 "{\"_id\":\"0d3a243a95b1af7e3a94331878424fd05811eadc\",\"byear\":\"1990x\"}",
                 MAP_ERR_TYPE,
                 "column byear of record _id \"0d3a243a95b1af7e3a94331878424fd05811eadc\" "
                 "(users): \"1990x\" is not a number");
    assert_error(f, MAP_TABLE_USERS, "{\"_id\":\"u\",\"sc\":true}", MAP_ERR_TYPE,
                 "column session_count of record _id \"u\" (users): true is not a number");
    assert_error(f, MAP_TABLE_USERS, "{\"_id\":\"u\",\"tsd\":{\"a\":1}}", MAP_ERR_TYPE,
                 "column total_session_duration of record _id \"u\" (users): {\"a\":1} is not a "
                 "number");
    assert_error(f, MAP_TABLE_GROUPS, "{\"_id\":\"g\",\"matched_users_count\":\"2\"}", MAP_ERR_TYPE,
                 "column user_count of record _id \"g\" (groups): \"2\" is not a number");
    assert_error(f, MAP_TABLE_USERS, "{\"_id\":\"u\",\"lac\":\"2024-06-05T15:11:40Z\"}",
                 MAP_ERR_TYPE,
                 "column last_activity of record _id \"u\" (users): \"2024-06-05T15:11:40Z\" is "
                 "not a number");
}

static void integer_outside_64_bits_is_a_range_error(void **state)
{
    fixture *f = *state;
    static const char *const numbers[] = {"9223372036854775808", "-9223372036854775809", "1e19",
                                          "1e400", "12345678901234567890123"};
    for (size_t i = 0; i < COUNT(numbers); i++) {
        char json[128];
        char want[256];
        snprintf(json, sizeof(json), "{\"_id\":\"u\",\"byear\":%s}", numbers[i]);
        snprintf(want, sizeof(want),
                 "column byear of record _id \"u\" (users): %s is outside the 64-bit integer "
                 "range",
                 numbers[i]);
        assert_error(f, MAP_TABLE_USERS, json, MAP_ERR_RANGE, want);
    }
}

static void timestamp_of_wrong_length_is_an_error(void **state)
{
    fixture *f = *state;
    static const char *const stamps[] = {"171760030",   "17176003000",  "123456",         "0",
                                         "-1717600300", "171760030099", "17176003009999", "1e400"};
    for (size_t i = 0; i < COUNT(stamps); i++) {
        char json[128];
        char want[256];
        snprintf(json, sizeof(json), "{\"_id\":\"u\",\"fs\":%s}", stamps[i]);
        snprintf(want, sizeof(want),
                 "column first_seen of record _id \"u\" (users): %s is not a unix timestamp in "
                 "seconds (10 digits) or milliseconds (13 digits)",
                 stamps[i]);
        assert_error(f, MAP_TABLE_USERS, json, MAP_ERR_TIMESTAMP, want);
    }
}

static void record_that_is_not_an_object_is_refused(void **state)
{
    fixture *f = *state;
    assert_error(f, MAP_TABLE_USERS, "[1,2]", MAP_ERR_NOT_OBJECT,
                 "record (users): [1,2] is not a JSON object");
    assert_error(f, MAP_TABLE_GROUPS, "\"dbviewer\"", MAP_ERR_NOT_OBJECT,
                 "record (groups): \"dbviewer\" is not a JSON object");
}

static void value_larger_than_the_scratch_is_no_room(void **state)
{
    fixture *f = *state;
    static char json[MAP_FIELD_MAX + 128];
    int n = snprintf(json, sizeof(json), "{\"_id\":\"u\",\"name\":\"");
    for (int i = 0; i < MAP_FIELD_MAX / 6 + 1; i++) {
        memcpy(json + n, "\\u00e9", 6); /* 2 bytes each once decoded */
        n += 6;
    }
    memcpy(json + n, "x\"}", 4);
    /* fits: MAP_FIELD_MAX / 3 decoded bytes */
    start(f, MAP_TABLE_USERS);
    assert_int_equal(map_json(f, json), MAP_OK);
    assert_int_equal(csv_finish(&f->sink), CSV_OK);
    /* too long once decoded */
    n = snprintf(json, sizeof(json), "{\"_id\":\"u\",\"name\":\"");
    memset(json + n, 'a', MAP_FIELD_MAX + 1);
    n += MAP_FIELD_MAX + 1;
    memcpy(json + n, "\\n\"}", 5);
    assert_error(f, MAP_TABLE_USERS, json, MAP_ERR_NO_ROOM,
                 "column username of record _id \"u\" (users): value longer than MAP_FIELD_MAX "
                 "(16384 bytes) once decoded");
}

static void sink_failure_is_reported_with_its_status(void **state)
{
    fixture *f = *state;
    map_context ctx = {SERVER_URL, APP_ID, RUN_START};
    char line[512];
    map_init(&f->mapper, MAP_TABLE_USERS, &ctx);
    memset(&f->sink, 0, sizeof(f->sink));
    f->sink.file.fd = -1; /* never opened */
    assert_int_equal(map_json(f, "{\"_id\":\"u1\"}"), MAP_ERR_SINK);
    assert_int_equal(f->mapper.sink_status, CSV_ERR_USAGE);
    map_describe(&f->mapper, MAP_ERR_SINK, line, sizeof(line));
    char want[512];
    snprintf(want, sizeof(want), "record _id \"u1\" (users): writing the row failed: %s",
             csv_strerror(CSV_ERR_USAGE));
    assert_string_equal(line, want);
}

static void processed_at_outside_the_calendar_is_an_error(void **state)
{
    fixture *f = *state;
    map_context ctx = {SERVER_URL, APP_ID, -5};
    char line[256];
    map_init(&f->mapper, MAP_TABLE_GROUPS, &ctx);
    open_sink(f, MAP_TABLE_GROUPS);
    assert_int_equal(map_json(f, "{\"_id\":\"g\"}"), MAP_ERR_TIMESTAMP);
    map_describe(&f->mapper, MAP_ERR_TIMESTAMP, line, sizeof(line));
    assert_string_equal(line, "column processed_at of record _id \"g\" (groups): the run start -5 "
                              "is not a time from 1970 to 9999");
    assert_string_equal(finish(f), "");
}

/* processed_at is formatted once and kept; a new run start in the mapper's
 * context (even after an error) is formatted anew. */
static void processed_at_follows_the_context(void **state)
{
    fixture *f = *state;
    map_context ctx = {SERVER_URL, APP_ID, RUN_START};
    map_init(&f->mapper, MAP_TABLE_GROUPS, &ctx);
    open_sink(f, MAP_TABLE_GROUPS);
    assert_int_equal(map_json(f, "{\"_id\":\"a\"}"), MAP_OK);
    assert_int_equal(map_json(f, "{\"_id\":\"b\"}"), MAP_OK);
    f->mapper.ctx.processed_at = -1;
    assert_int_equal(map_json(f, "{\"_id\":\"c\"}"), MAP_ERR_TIMESTAMP);
    f->mapper.ctx.processed_at = 0;
    assert_int_equal(map_json(f, "{\"_id\":\"d\"}"), MAP_OK);
    f->mapper.ctx.processed_at = 253402300799;
    assert_int_equal(map_json(f, "{\"_id\":\"e\"}"), MAP_OK);
    assert_string_equal(finish(f), "a,,,,,,{},2024-06-06T05:00:00Z\n"
                                   "b,,,,,,{},2024-06-06T05:00:00Z\n"
                                   "d,,,,,,{},1970-01-01T00:00:00Z\n"
                                   "e,,,,,,{},9999-12-31T23:59:59Z\n");
}

static void failed_record_leaves_no_half_row(void **state)
{
    fixture *f = *state;
    start(f, MAP_TABLE_USERS);
    assert_int_equal(map_json(f, "{\"_id\":\"ok1\"}"), MAP_OK);
    /* the bad value is in the second-to-last column: nothing of the row may appear */
    assert_int_equal(map_json(f, "{\"_id\":\"bad\",\"name\":\"n\",\"lac\":12}"), MAP_ERR_TIMESTAMP);
    assert_string_equal(f->mapper.error_column, "last_activity");
    assert_string_equal(f->mapper.error_id, "bad");
    assert_int_equal(map_json(f, "{\"_id\":\"ok2\"}"), MAP_OK);
    assert_string_equal(f->mapper.error_id, "");
    const char *rows = finish(f);
    const char *want[] = {"ok1," APP_ID ",,,,,,,,,,,,,,2024-06-06T05:00:00Z,,{}",
                          "ok2," APP_ID ",,,,,,,,,,,,,,2024-06-06T05:00:00Z,,{}"};
    assert_rows(rows, want, 2);
}

static void description_cuts_long_ids_and_values(void **state)
{
    fixture *f = *state;
    char json[512];
    char want[512];
    char id[101];
    memset(id, 'i', 100);
    id[100] = '\0';
    snprintf(json, sizeof(json), "{\"_id\":\"%s\",\"byear\":\"%s\"}", id,
             "0123456789012345678901234567890123456789xyz");
    snprintf(want, sizeof(want),
             "column byear of record _id \"%.*s...\" (users): \"012345678901234567890123456789"
             "012345678... is not a number",
             JSTREAM_ID_MAX, id);
    assert_error(f, MAP_TABLE_USERS, json, MAP_ERR_TYPE, want);
    assert_error(f, MAP_TABLE_USERS, "{\"_id\":5,\"byear\":\"x\"}", MAP_ERR_TYPE,
                 "column byear of a record without a string _id (users): \"x\" is not a number");
}

/* ---- gates --------------------------------------------------------------------------- */

/* What a test gate saw, and what it answers. */
typedef struct {
    int calls;
    int refuse;
    char id[32];  /* the text of map_source_token(m, "_id"), "" if -1 */
    char lac[32]; /* the same for "lac" */
    int uid;      /* map_source_token(m, "uid"): a metadata key, never a source */
    int rows_before;
    const csv_sink *sink;
} gate_seen;

static void token_text_into(const jstream_record *r, int t, char *out, size_t cap)
{
    out[0] = '\0';
    if (t >= 0)
        snprintf(out, cap, "%.*s", r->tokens[t].end - r->tokens[t].start,
                 r->json + r->tokens[t].start);
}

static int test_gate(void *user, const map_mapper *m, const jstream_record *r)
{
    gate_seen *g = user;
    g->calls++;
    token_text_into(r, map_source_token(m, "_id"), g->id, sizeof g->id);
    token_text_into(r, map_source_token(m, "lac"), g->lac, sizeof g->lac);
    g->uid = map_source_token(m, "uid");
    g->rows_before = (int)g->sink->rows;
    return g->refuse;
}

static map_status map_json_gated(fixture *f, const char *json, gate_seen *g)
{
    jsmn_parser parser;
    jsmn_init(&parser);
    int n = jsmn_parse(&parser, json, strlen(json), f->tokens, JSTREAM_TOKENS_MAX);
    assert_true(n > 0);
    jstream_record record = {json, strlen(json), f->tokens, n, 0, NULL, 0};
    g->sink = &f->sink;
    return map_record_gated(&f->mapper, &record, &f->sink, test_gate, g);
}

/* The gate runs after every column rendered and before the row is written;
 * it finds the sources' tokens (the last of repeated keys, escaped names
 * decoded) and nothing for keys no column comes from. */
static void a_gate_sees_the_sources_before_the_row(void **state)
{
    fixture *f = *state;
    gate_seen g = {0};
    start(f, MAP_TABLE_USERS);
    assert_int_equal(map_json_gated(f, "{\"_id\":\"u1\",\"lac\":1714126105,\"uid\":\"7\"}", &g),
                     MAP_OK);
    assert_int_equal(g.calls, 1);
    assert_string_equal(g.id, "u1");
    assert_string_equal(g.lac, "1714126105");
    assert_int_equal(g.uid, -1);
    assert_int_equal(g.rows_before, 0); /* not written yet when asked */
    assert_int_equal(f->sink.rows, 1);
    assert_int_equal(
        map_json_gated(
            f, "{\"lac\":1000000000,\"_id\":\"a\",\"\\u006cac\":1714126122,\"_id\":\"b\"}", &g),
        MAP_OK);
    assert_string_equal(g.id, "b");
    assert_string_equal(g.lac, "1714126122");
    assert_int_equal(map_json_gated(f, "{\"name\":\"x\"}", &g), MAP_OK);
    assert_string_equal(g.id, "");
    assert_string_equal(g.lac, "");
    assert_int_equal(f->sink.rows, 3);
    (void)finish(f);
}

/* A refusal writes nothing; a record that does not render never reaches the gate. */
static void a_gate_refusal_writes_nothing(void **state)
{
    fixture *f = *state;
    gate_seen g = {0};
    start(f, MAP_TABLE_USERS);
    g.refuse = 1;
    assert_int_equal(map_json_gated(f, "{\"_id\":\"u1\",\"lac\":1714126105}", &g), MAP_ERR_GATE);
    assert_int_equal(g.calls, 1);
    assert_int_equal(map_json_gated(f, "{\"_id\":\"u2\",\"byear\":\"x\"}", &g), MAP_ERR_TYPE);
    assert_int_equal(g.calls, 1);
    assert_int_equal(f->sink.rows, 0);
    assert_string_equal(finish(f), "");
}

static void status_words_exist(void **state)
{
    (void)state;
    assert_string_equal(map_strerror(MAP_OK), "ok");
    assert_non_null(strstr(map_strerror(MAP_ERR_NO_ROOM), "MAP_FIELD_MAX"));
    for (int s = MAP_ERR_NOT_OBJECT; s <= MAP_ERR_GATE; s++)
        assert_true(strlen(map_strerror((map_status)s)) > 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_lists_the_spec_columns_in_order),
        cmocka_unit_test_setup_teardown(csv_file_starts_with_the_header_row, setup, teardown),
        cmocka_unit_test_setup_teardown(apps_all_example_gives_spec_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(apps_db_example_gives_spec_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(groups_example_gives_spec_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(users_example_gives_spec_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(nasty_text_is_quoted_as_postgres_csv_expects, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(non_string_text_is_its_compact_json, setup, teardown),
        cmocka_unit_test_setup_teardown(html_entities_are_decoded_only_for_apps_mine_and_groups,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(object_id_is_stripped_only_when_exact, setup, teardown),
        cmocka_unit_test_setup_teardown(icon_is_server_url_and_app_id_or_null, setup, teardown),
        cmocka_unit_test_setup_teardown(
            lone_surrogates_become_replacement_characters_and_are_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(custom_data_is_compact_json_of_any_depth, setup, teardown),
        cmocka_unit_test_setup_teardown(duplicate_keys_keep_the_last_value, setup, teardown),
        cmocka_unit_test_setup_teardown(record_with_a_few_escapes_copies_its_clean_members_whole,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(record_with_many_escapes_tests_each_string, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(html_tables_list_their_ampersands, setup, teardown),
        cmocka_unit_test_setup_teardown(keys_of_equal_hash_stay_apart, setup, teardown),
        cmocka_unit_test_setup_teardown(keys_may_come_in_any_order, setup, teardown),
        cmocka_unit_test_setup_teardown(missing_and_null_values_are_null, setup, teardown),
        cmocka_unit_test_setup_teardown(secrets_are_never_written, setup, teardown),
        cmocka_unit_test_setup_teardown(user_count_falls_back_to_the_users_array, setup, teardown),
        cmocka_unit_test_setup_teardown(integers_truncate_toward_zero_exactly, setup, teardown),
        cmocka_unit_test_setup_teardown(integer_columns_hold_the_spec_sources, setup, teardown),
        cmocka_unit_test_setup_teardown(timestamps_accept_seconds_and_milliseconds, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(text_in_an_integer_column_is_a_type_error, setup, teardown),
        cmocka_unit_test_setup_teardown(integer_outside_64_bits_is_a_range_error, setup, teardown),
        cmocka_unit_test_setup_teardown(timestamp_of_wrong_length_is_an_error, setup, teardown),
        cmocka_unit_test_setup_teardown(record_that_is_not_an_object_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(value_larger_than_the_scratch_is_no_room, setup, teardown),
        cmocka_unit_test_setup_teardown(sink_failure_is_reported_with_its_status, setup, teardown),
        cmocka_unit_test_setup_teardown(processed_at_outside_the_calendar_is_an_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(processed_at_follows_the_context, setup, teardown),
        cmocka_unit_test_setup_teardown(failed_record_leaves_no_half_row, setup, teardown),
        cmocka_unit_test_setup_teardown(description_cuts_long_ids_and_values, setup, teardown),
        cmocka_unit_test_setup_teardown(a_gate_sees_the_sources_before_the_row, setup, teardown),
        cmocka_unit_test_setup_teardown(a_gate_refusal_writes_nothing, setup, teardown),
        cmocka_unit_test(status_words_exist),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
