/*
 * test_config.c - unit tests of configuration.json loading (config.h).
 *
 * Files: every test writes its configuration into a mkdtemp() folder that
 * is removed at the end.
 */
#define _XOPEN_SOURCE 700
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_tmpdir.h"
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"

#define SECRET   "SeCrEt-K3Y-0123456789abcdef"
#define APP_A    "5f0c1d2e3a4b5c6d7e8f9a0b"
#define APP_B    "0123456789abcdef01234567"
#define APP_C    "aaaaaaaaaaaaaaaaaaaaaaaa"
#define URL      "https://countly.example.com"
#define REQUIRED "\"server_url\":\"" URL "\",\"api_key\":\"" SECRET "\",\"app_id\":\"" APP_A "\""

static char cfg_path[512];
static config cfg;
static jstream scratch;
static char doc[CONFIG_FILE_MAX * 2];

/* ---- fixture -------------------------------------------------------------------------------- */

static int group_setup(void **state)
{
    (void)state;
    if (tmpdir_create("test_config") != 0)
        return -1;
    (void)snprintf(cfg_path, sizeof cfg_path, "%s/configuration.json", tmp_dir);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return tmpdir_remove();
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, 0600), 0);
}

/* Loads text as the configuration file, with the given env key and overrides. */
static config_status load_full(const char *text, const char *env, const char *out_dir,
                               const char *state_file)
{
    write_file(cfg_path, text, strlen(text));
    return config_load(&cfg, cfg_path, env, out_dir, state_file, &scratch);
}

static config_status load(const char *text)
{
    return load_full(text, NULL, NULL, NULL);
}

/* Loads the three required keys plus extra members (may be ""). */
static config_status load_with(const char *extra)
{
    (void)snprintf(doc, sizeof doc, "{" REQUIRED "%s%s}", extra[0] ? "," : "", extra);
    return load(doc);
}

/* cfg.detail must be "<cfg_path>: " followed by message. */
static void assert_detail(const char *message)
{
    char expected[CONFIG_DETAIL_MAX + 600];
    (void)snprintf(expected, sizeof expected, "%s: %s", cfg_path, message);
    assert_string_equal(cfg.detail, expected);
}

/* ---- valid files ------------------------------------------------------------------------------
 */

static void required_keys_only_gives_every_default(void **state)
{
    (void)state;
    assert_int_equal(load_with(""), CONFIG_OK);
    assert_string_equal(cfg.server_url, URL);
    assert_int_equal(cfg.server.tls, 1);
    assert_string_equal(cfg.server.host, "countly.example.com");
    assert_int_equal(cfg.server.port, 443);
    assert_string_equal(cfg.api_key, SECRET);
    assert_int_equal(cfg.api_key_from_env, 0);
    assert_int_equal(cfg.all_apps, 0);
    assert_int_equal(cfg.app_count, 1);
    assert_string_equal(cfg.app_ids[0], APP_A);
    assert_int_equal(cfg.max_records_per_page, 100);
    assert_int_equal(cfg.request_timeout_seconds, 30);
    assert_int_equal(cfg.retry_attempts, 3);
    assert_int_equal(cfg.enable_apps, 1);
    assert_int_equal(cfg.enable_groups, 1);
    assert_int_equal(cfg.enable_users, 1);
    assert_int_equal(cfg.initial_sync_days, 90);
    assert_string_equal(cfg.ca_file, "");
    assert_int_equal(cfg.tls_verify, 1);
    assert_string_equal(cfg.output_dir, "./countly-data");
    assert_string_equal(cfg.state_file, "./countly-data/state.json");
    assert_int_equal(cfg.file_readable_by_others, 0);
}

/* ---- proxy ------------------------------------------------------------------------------------
 */

static void proxy_absent_means_the_environment_decides(void **state)
{
    (void)state;
    assert_int_equal(load_with("\"proxy\":null"), CONFIG_OK);
    assert_int_equal(cfg.proxy_given, 0);
    assert_int_equal(cfg.proxy.enabled, 0);
}

static void proxy_empty_means_none(void **state)
{
    (void)state;
    assert_int_equal(load_with("\"proxy\":\"\""), CONFIG_OK);
    assert_int_equal(cfg.proxy_given, 1);
    assert_int_equal(cfg.proxy.enabled, 0);
}

static void proxy_with_credentials_parsed(void **state)
{
    (void)state;
    assert_int_equal(load_with("\"proxy\":\"http://ops:s3cr%40t@proxy.corp:3128\""), CONFIG_OK);
    assert_int_equal(cfg.proxy_given, 1);
    assert_int_equal(cfg.proxy.enabled, 1);
    assert_string_equal(cfg.proxy.host, "proxy.corp");
    assert_int_equal(cfg.proxy.port, 3128);
    assert_string_equal(cfg.proxy.password, "s3cr@t");
    assert_string_equal(cfg.proxy.shown, "http://ops:***@proxy.corp:3128");
}

static void proxy_refused_without_showing_the_password(void **state)
{
    (void)state;
    assert_int_equal(load_with("\"proxy\":\"https://ops:hunter2@proxy.corp:3128\""),
                     CONFIG_ERR_VALUE);
    assert_detail("key 'proxy': only http:// proxies (HTTP CONNECT) are supported: give "
                  "http://host:port (the value is not shown)");
    assert_int_equal(load_with("\"proxy\":\"http://ops:hunter2@proxy.corp\""), CONFIG_ERR_VALUE);
    assert_null(strstr(cfg.detail, "hunter2"));
    assert_non_null(strstr(cfg.detail, "port is missing"));
    assert_int_equal(cfg.proxy.enabled, 0);
    assert_int_equal(load_with("\"proxy\":3128"), CONFIG_ERR_TYPE);
    assert_non_null(strstr(cfg.detail, "key 'proxy': must be a string"));
}

static void every_key_in_native_form(void **state)
{
    (void)state;
    assert_int_equal(load("{\"server_url\":\"https://c.example.com:8443/countly/\","
                          "\"api_key\":\"" SECRET "\",\"app_id\":\"" APP_B "\","
                          "\"max_records_per_page\":250,\"request_timeout_seconds\":45,"
                          "\"retry_attempts\":0,\"enable_apps_sync\":false,"
                          "\"enable_groups_sync\":true,\"enable_users_sync\":false,"
                          "\"initial_sync_days\":0,\"ca_file\":\"/etc/ca.pem\","
                          "\"tls_verify\":false,\"output_dir\":\"/var/lib/cs\","
                          "\"state_file\":\"/var/lib/cs.state\"}"),
                     CONFIG_OK);
    assert_string_equal(cfg.server_url, "https://c.example.com:8443/countly");
    assert_string_equal(cfg.server.path, "/countly");
    assert_int_equal(cfg.server.port, 8443);
    assert_string_equal(cfg.app_ids[0], APP_B);
    assert_int_equal(cfg.max_records_per_page, 250);
    assert_int_equal(cfg.request_timeout_seconds, 45);
    assert_int_equal(cfg.retry_attempts, 0);
    assert_int_equal(cfg.enable_apps, 0);
    assert_int_equal(cfg.enable_groups, 1);
    assert_int_equal(cfg.enable_users, 0);
    assert_int_equal(cfg.initial_sync_days, 0);
    assert_string_equal(cfg.ca_file, "/etc/ca.pem");
    assert_int_equal(cfg.tls_verify, 0);
    assert_string_equal(cfg.output_dir, "/var/lib/cs");
    assert_string_equal(cfg.state_file, "/var/lib/cs.state");
}

/* The seed connector's configuration.json: every value a string. */
static void seed_style_file_with_all_values_as_strings(void **state)
{
    (void)state;
    assert_int_equal(load("{\n  \"server_url\": \"https://countly.example.com\",\n"
                          "  \"api_key\": \"" SECRET "\",\n  \"app_id\": \"" APP_C "\",\n"
                          "  \"max_records_per_page\": \"500\",\n"
                          "  \"request_timeout_seconds\": \"60\",\n"
                          "  \"retry_attempts\": \"5\",\n  \"enable_apps_sync\": \"true\",\n"
                          "  \"enable_groups_sync\": \"FALSE\",\n"
                          "  \"enable_users_sync\": \"True\",\n"
                          "  \"initial_sync_days\": \"3650\",\n  \"tls_verify\": \"true\"\n}\n"),
                     CONFIG_OK);
    assert_int_equal(cfg.max_records_per_page, 500);
    assert_int_equal(cfg.request_timeout_seconds, 60);
    assert_int_equal(cfg.retry_attempts, 5);
    assert_int_equal(cfg.enable_apps, 1);
    assert_int_equal(cfg.enable_groups, 0);
    assert_int_equal(cfg.enable_users, 1);
    assert_int_equal(cfg.initial_sync_days, 3650);
    assert_int_equal(cfg.tls_verify, 1);
    assert_string_equal(cfg.app_ids[0], APP_C);
}

static void null_and_empty_string_give_the_default(void **state)
{
    (void)state;
    assert_int_equal(load_with("\"max_records_per_page\":null,\"retry_attempts\":\"\","
                               "\"tls_verify\":\"\",\"enable_users_sync\":null,"
                               "\"ca_file\":null,\"output_dir\":null,\"state_file\":null"),
                     CONFIG_OK);
    assert_int_equal(cfg.max_records_per_page, 100);
    assert_int_equal(cfg.retry_attempts, 3);
    assert_int_equal(cfg.tls_verify, 1);
    assert_int_equal(cfg.enable_users, 1);
    assert_string_equal(cfg.output_dir, "./countly-data");
    assert_string_equal(cfg.state_file, "./countly-data/state.json");
}

static void escaped_strings_and_keys_are_decoded(void **state)
{
    (void)state;
    assert_int_equal(load_with("\"output_dir\":\"\\/data\\/countly\\u00e9\","
                               "\"tls\\u005fverify\":false"),
                     CONFIG_OK);
    assert_string_equal(cfg.output_dir, "/data/countly\xc3\xa9");
    assert_string_equal(cfg.state_file, "/data/countly\xc3\xa9/state.json");
    assert_int_equal(cfg.tls_verify, 0);
}

static void empty_ca_file_means_the_system_bundle(void **state)
{
    (void)state;
    assert_int_equal(load_with("\"ca_file\":\"\""), CONFIG_OK);
    assert_string_equal(cfg.ca_file, "");
}

static void output_dir_with_trailing_slash_gives_one_slash_in_state_file(void **state)
{
    (void)state;
    assert_int_equal(load_with("\"output_dir\":\"/data/\""), CONFIG_OK);
    assert_string_equal(cfg.state_file, "/data/state.json");
}

/* ---- integer ranges ---------------------------------------------------------------------------
 */

typedef struct {
    const char *key;
    long min, max;
} int_key;

static const int_key int_keys[] = {
    {"max_records_per_page", 1, 1000},
    {"request_timeout_seconds", 1, 600},
    {"retry_attempts", 0, 10},
    {"initial_sync_days", 0, 3650},
};

static uint32_t int_value(const char *key)
{
    if (strcmp(key, "max_records_per_page") == 0)
        return cfg.max_records_per_page;
    if (strcmp(key, "request_timeout_seconds") == 0)
        return cfg.request_timeout_seconds;
    if (strcmp(key, "retry_attempts") == 0)
        return cfg.retry_attempts;
    return cfg.initial_sync_days;
}

/* Loads key = value written natively (quote = "") or as a string ("\""). */
static config_status load_int(const char *key, long value, const char *quote)
{
    char member[128];
    (void)snprintf(member, sizeof member, "\"%s\":%s%ld%s", key, quote, value, quote);
    return load_with(member);
}

static void integer_range_edges_native_and_string(void **state)
{
    (void)state;
    const char *quotes[] = {"", "\""};
    for (size_t i = 0; i < sizeof int_keys / sizeof int_keys[0]; i++) {
        const int_key *k = &int_keys[i];
        for (size_t q = 0; q < 2; q++) {
            print_message("%s (%s)\n", k->key, q ? "string" : "native");
            assert_int_equal(load_int(k->key, k->min, quotes[q]), CONFIG_OK);
            assert_int_equal(int_value(k->key), k->min);
            assert_int_equal(load_int(k->key, k->max, quotes[q]), CONFIG_OK);
            assert_int_equal(int_value(k->key), k->max);
            assert_int_equal(load_int(k->key, k->min - 1, quotes[q]), CONFIG_ERR_RANGE);
            assert_int_equal(load_int(k->key, k->max + 1, quotes[q]), CONFIG_ERR_RANGE);
        }
    }
}

static void out_of_range_message_names_key_value_and_range(void **state)
{
    (void)state;
    assert_int_equal(load_with("\"max_records_per_page\":5000"), CONFIG_ERR_RANGE);
    assert_detail("key 'max_records_per_page': 5000 is out of range (1..1000)");
    assert_int_equal(load_with("\"retry_attempts\":\"-1\""), CONFIG_ERR_RANGE);
    assert_detail("key 'retry_attempts': \"-1\" is out of range (0..10)");
}

static void huge_numbers_are_out_of_range_not_wrapped(void **state)
{
    (void)state;
    assert_int_equal(load_with("\"retry_attempts\":4294967296"), CONFIG_ERR_RANGE);
    assert_int_equal(load_with("\"retry_attempts\":\"99999999999999999999999\""), CONFIG_ERR_RANGE);
    assert_int_equal(load_with("\"retry_attempts\":-0"), CONFIG_OK);
    assert_int_equal(cfg.retry_attempts, 0);
}

/* ---- type errors --------------------------------------------------------------------------------
 */

typedef struct {
    const char *member;
    config_status status;
    const char *message; /* after "<path>: " */
} bad_case;

static const bad_case type_cases[] = {
    {"\"max_records_per_page\":1.5", CONFIG_ERR_TYPE,
     "key 'max_records_per_page': 1.5 is not a whole number (1..1000)"},
    {"\"max_records_per_page\":\"1.5\"", CONFIG_ERR_TYPE,
     "key 'max_records_per_page': \"1.5\" is not a whole number (1..1000)"},
    {"\"max_records_per_page\":1e2", CONFIG_ERR_TYPE,
     "key 'max_records_per_page': 1e2 is not a whole number (1..1000)"},
    {"\"request_timeout_seconds\":\"thirty\"", CONFIG_ERR_TYPE,
     "key 'request_timeout_seconds': \"thirty\" is not a whole number (1..600)"},
    {"\"retry_attempts\":\" 3\"", CONFIG_ERR_TYPE,
     "key 'retry_attempts': \" 3\" is not a whole number (0..10)"},
    {"\"retry_attempts\":true", CONFIG_ERR_TYPE,
     "key 'retry_attempts': true is not a whole number (0..10)"},
    {"\"initial_sync_days\":[90]", CONFIG_ERR_TYPE,
     "key 'initial_sync_days': [90] is not a whole number (0..3650)"},
    {"\"initial_sync_days\":{\"days\":1}", CONFIG_ERR_TYPE,
     "key 'initial_sync_days': {\"days\":1} is not a whole number (0..3650)"},
    {"\"tls_verify\":\"yes\"", CONFIG_ERR_TYPE,
     "key 'tls_verify': \"yes\" is not a boolean (true or false)"},
    {"\"tls_verify\":1", CONFIG_ERR_TYPE, "key 'tls_verify': 1 is not a boolean (true or false)"},
    {"\"enable_apps_sync\":\"1\"", CONFIG_ERR_TYPE,
     "key 'enable_apps_sync': \"1\" is not a boolean (true or false)"},
    {"\"enable_groups_sync\":[true]", CONFIG_ERR_TYPE,
     "key 'enable_groups_sync': [true] is not a boolean (true or false)"},
    {"\"enable_users_sync\":\"truee\"", CONFIG_ERR_TYPE,
     "key 'enable_users_sync': \"truee\" is not a boolean (true or false)"},
    {"\"ca_file\":5", CONFIG_ERR_TYPE, "key 'ca_file': 5 is not a string (a file path)"},
    {"\"output_dir\":[\"a\"]", CONFIG_ERR_TYPE,
     "key 'output_dir': [\"a\"] is not a string (a file path)"},
    {"\"state_file\":false", CONFIG_ERR_TYPE,
     "key 'state_file': false is not a string (a file path)"},
    {"\"output_dir\":\"\"", CONFIG_ERR_VALUE,
     "key 'output_dir': must not be empty (leave the key out for the default)"},
    {"\"state_file\":\"\"", CONFIG_ERR_VALUE,
     "key 'state_file': must not be empty (leave the key out for the default)"},
    {"\"ca_file\":\"a\\u0000b\"", CONFIG_ERR_VALUE,
     "key 'ca_file': \"a\\u0000b\" holds \\u0000 or an unpaired surrogate"},
    {"\"retry_attempts\":1,\"retry_attempts\":2", CONFIG_ERR_VALUE,
     "key 'retry_attempts' given twice"},
    {"\"tls_verify\":null,\"tls_verify\":true", CONFIG_ERR_VALUE, "key 'tls_verify' given twice"},
};

static void type_errors_name_key_value_and_what_is_allowed(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof type_cases / sizeof type_cases[0]; i++) {
        print_message("%s\n", type_cases[i].member);
        assert_int_equal(load_with(type_cases[i].member), type_cases[i].status);
        assert_detail(type_cases[i].message);
    }
}

static void required_key_types(void **state)
{
    (void)state;
    assert_int_equal(load("{\"server_url\":443,\"api_key\":\"test-api-key\",\"app_id\":\"*\"}"),
                     CONFIG_ERR_TYPE);
    assert_detail("key 'server_url': 443 is not a string (https://host[:port][/prefix])");
    assert_int_equal(load("{\"server_url\":\"" URL "\",\"api_key\":12345,\"app_id\":\"*\"}"),
                     CONFIG_ERR_TYPE);
    assert_detail("key 'api_key': must be a string");
    assert_int_equal(load("{\"server_url\":\"" URL "\",\"api_key\":\"test-api-key\",\"app_id\":7}"),
                     CONFIG_ERR_TYPE);
    assert_int_equal(load("{\"server_url\":\"" URL
                          "\",\"api_key\":\"test-api-key\",\"app_id\":[\"" APP_A "\",7]}"),
                     CONFIG_ERR_TYPE);
    assert_detail("key 'app_id': element 2 of the array is not a string");
}

static void long_values_are_cut_in_messages(void **state)
{
    (void)state;
    assert_int_equal(load_with("\"output_dir\":98765432109876543210987654321098765432109876543210"),
                     CONFIG_ERR_TYPE);
    assert_detail("key 'output_dir': 9876543210987654321098765432109876543210... is not a "
                  "string (a file path)");
}

/* The user swapped two values: the API key shows up in another key. */
static void value_resembling_the_api_key_is_not_shown(void **state)
{
    (void)state;
    assert_int_equal(load("{\"server_url\":\"" URL "\",\"app_id\":\"" SECRET "\","
                          "\"api_key\":\"" SECRET "\"}"),
                     CONFIG_ERR_VALUE);
    assert_detail("key 'app_id': (a value like the api_key, not shown) is not an app id (24 "
                  "hexadecimal digits)");
}

/* The key past the part of a long value a message shows: hidden all the
 * same (the cut could end inside it). */
static void api_key_past_the_shown_part_is_not_shown(void **state)
{
    (void)state;
    assert_int_equal(load("{\"server_url\":\"https://countly.example.com/o?api_key=" SECRET "\","
                          "\"app_id\":\"*\",\"api_key\":\"" SECRET "\"}"),
                     CONFIG_ERR_VALUE);
    assert_null(strstr(cfg.detail, "api_key="));
    assert_non_null(strstr(cfg.detail, "key 'server_url': (a value like the api_key, not shown)"));
}

/* ---- unknown keys ------------------------------------------------------------------------------
 */

static void unknown_key_suggests_the_closest_key(void **state)
{
    (void)state;
    assert_int_equal(load_with("\"max_record_per_page\":100"), CONFIG_ERR_UNKNOWN_KEY);
    assert_detail("unknown key 'max_record_per_page' \xe2\x80\x94 did you mean "
                  "'max_records_per_page'?");
    assert_int_equal(load_with("\"Server_URL\":\"x\""), CONFIG_ERR_UNKNOWN_KEY);
    assert_detail("unknown key 'Server_URL' \xe2\x80\x94 did you mean 'server_url'?");
    assert_int_equal(load_with("\"apikey\":\"x\""), CONFIG_ERR_UNKNOWN_KEY);
    assert_detail("unknown key 'apikey' \xe2\x80\x94 did you mean 'api_key'?");
}

static void unknown_key_prefix_of_a_key_is_suggested(void **state)
{
    (void)state;
    assert_int_equal(load_with("\"max_records\":100"), CONFIG_ERR_UNKNOWN_KEY);
    assert_detail("unknown key 'max_records' \xe2\x80\x94 did you mean 'max_records_per_page'?");
    assert_int_equal(load_with("\"request_timeout\":5"), CONFIG_ERR_UNKNOWN_KEY);
    assert_detail("unknown key 'request_timeout' \xe2\x80\x94 did you mean "
                  "'request_timeout_seconds'?");
}

static void unknown_key_without_a_close_key(void **state)
{
    (void)state;
    assert_int_equal(load_with("\"colour\":\"blue\""), CONFIG_ERR_UNKNOWN_KEY);
    assert_detail("unknown key 'colour'");
    assert_int_equal(load_with("\"\":1"), CONFIG_ERR_UNKNOWN_KEY);
    assert_detail("unknown key ''");
}

/* ---- required keys and the environment
 * ----------------------------------------------------------- */

static void missing_required_keys(void **state)
{
    (void)state;
    assert_int_equal(load("{\"api_key\":\"test-api-key\",\"app_id\":\"*\"}"), CONFIG_ERR_MISSING);
    assert_detail("key 'server_url' is missing (required: https://host[:port][/prefix])");
    assert_int_equal(load("{\"server_url\":\"" URL "\",\"app_id\":\"*\"}"), CONFIG_ERR_MISSING);
    assert_detail("no API key: set COUNTLY_API_KEY, the key 'api_key' or 'api_key_file' in this "
                  "file, or provide $CREDENTIALS_DIRECTORY/countly-api-key (systemd "
                  "LoadCredential=countly-api-key:...)");
    assert_int_equal(load("{\"server_url\":\"" URL "\",\"api_key\":\"test-api-key\"}"),
                     CONFIG_ERR_MISSING);
    assert_detail(
        "key 'app_id' is missing (required: \"*\", an app id, or ids separated by commas)");
    assert_int_equal(load("{\"server_url\":null,\"api_key\":\"test-api-key\",\"app_id\":\"*\"}"),
                     CONFIG_ERR_MISSING);
    assert_int_equal(load("{}"), CONFIG_ERR_MISSING);
}

static void environment_api_key_wins_over_the_file(void **state)
{
    (void)state;
    (void)snprintf(doc, sizeof doc, "{" REQUIRED "}");
    assert_int_equal(load_full(doc, "from-env-key", NULL, NULL), CONFIG_OK);
    assert_string_equal(cfg.api_key, "from-env-key");
    assert_int_equal(cfg.api_key_from_env, 1);
}

static void environment_api_key_makes_the_file_key_optional(void **state)
{
    (void)state;
    const char *text = "{\"server_url\":\"" URL "\",\"app_id\":\"*\"}";
    assert_int_equal(load_full(text, "from-env-key", NULL, NULL), CONFIG_OK);
    assert_string_equal(cfg.api_key, "from-env-key");
    assert_int_equal(load_full(text, "", NULL, NULL), CONFIG_ERR_MISSING);
}

static void empty_environment_key_is_ignored(void **state)
{
    (void)state;
    (void)snprintf(doc, sizeof doc, "{" REQUIRED "}");
    assert_int_equal(load_full(doc, "", NULL, NULL), CONFIG_OK);
    assert_string_equal(cfg.api_key, SECRET);
    assert_int_equal(cfg.api_key_from_env, 0);
}

static void api_key_length_limit(void **state)
{
    (void)state;
    char key[CONFIG_API_KEY_MAX + 2];
    memset(key, 'k', sizeof key);
    key[CONFIG_API_KEY_MAX] = '\0';
    (void)snprintf(doc, sizeof doc,
                   "{\"server_url\":\"" URL "\",\"app_id\":\"*\",\"api_key\":\"%s\"}", key);
    assert_int_equal(load(doc), CONFIG_OK);
    assert_int_equal(strlen(cfg.api_key), CONFIG_API_KEY_MAX);
    key[CONFIG_API_KEY_MAX] = 'k';
    key[CONFIG_API_KEY_MAX + 1] = '\0';
    assert_int_equal(load_full("{\"server_url\":\"" URL "\",\"app_id\":\"*\"}", key, NULL, NULL),
                     CONFIG_ERR_VALUE);
    (void)snprintf(doc, sizeof doc,
                   "{\"server_url\":\"" URL "\",\"app_id\":\"*\",\"api_key\":\"%s\"}", key);
    assert_int_equal(load(doc), CONFIG_ERR_VALUE);
    assert_detail("key 'api_key': longer than CONFIG_API_KEY_MAX (128 bytes)");
    assert_int_equal(load("{\"server_url\":\"" URL "\",\"app_id\":\"*\",\"api_key\":\"\"}"),
                     CONFIG_ERR_VALUE);
    assert_detail("key 'api_key': must not be empty");
}

/* ---- command-line overrides ------------------------------------------------------------------ */

static void command_line_output_dir_wins_and_moves_default_state_file(void **state)
{
    (void)state;
    (void)snprintf(doc, sizeof doc, "{" REQUIRED ",\"output_dir\":\"/file/dir\"}");
    assert_int_equal(load_full(doc, NULL, "/cli/dir", NULL), CONFIG_OK);
    assert_string_equal(cfg.output_dir, "/cli/dir");
    assert_string_equal(cfg.state_file, "/cli/dir/state.json");
}

static void command_line_state_file_wins(void **state)
{
    (void)state;
    (void)snprintf(doc, sizeof doc, "{" REQUIRED ",\"state_file\":\"/file/s.json\"}");
    assert_int_equal(load_full(doc, NULL, NULL, "/cli/s.json"), CONFIG_OK);
    assert_string_equal(cfg.state_file, "/cli/s.json");
    assert_int_equal(load_full(doc, NULL, "/cli/dir", NULL), CONFIG_OK);
    assert_string_equal(cfg.state_file, "/file/s.json");
}

static void paths_longer_than_the_limit_are_refused(void **state)
{
    (void)state;
    char path[CONFIG_PATH_MAX + 1];
    memset(path, 'p', sizeof path);
    path[CONFIG_PATH_MAX - 1] = '\0'; /* the longest that fits */
    (void)snprintf(doc, sizeof doc, "{" REQUIRED ",\"ca_file\":\"%s\"}", path);
    assert_int_equal(load(doc), CONFIG_OK);
    assert_int_equal(strlen(cfg.ca_file), CONFIG_PATH_MAX - 1);
    path[CONFIG_PATH_MAX - 1] = 'p';
    path[CONFIG_PATH_MAX] = '\0';
    (void)snprintf(doc, sizeof doc, "{" REQUIRED ",\"ca_file\":\"%s\"}", path);
    assert_int_equal(load(doc), CONFIG_ERR_VALUE);
    assert_non_null(strstr(cfg.detail, "CONFIG_PATH_MAX"));
    (void)snprintf(doc, sizeof doc, "{" REQUIRED "}");
    assert_int_equal(load_full(doc, NULL, path, NULL), CONFIG_ERR_VALUE);
    assert_string_equal(cfg.detail, "--output: longer than CONFIG_PATH_MAX (399 bytes)");
    path[CONFIG_PATH_MAX - 5] = '\0'; /* fits, but not with "/state.json" */
    assert_int_equal(load_full(doc, NULL, path, NULL), CONFIG_ERR_VALUE);
    assert_non_null(strstr(cfg.detail, "default state_file"));
}

/* ---- server_url ------------------------------------------------------------------------------ */

static config_status load_url(const char *url)
{
    (void)snprintf(doc, sizeof doc,
                   "{\"server_url\":\"%s\",\"api_key\":\"test-api-key\",\"app_id\":\"*\"}", url);
    return load(doc);
}

static void http_to_loopback_is_accepted(void **state)
{
    (void)state;
    const char *urls[] = {
        "http://127.0.0.1",
        "http://127.255.1.2:8080/",
        "http://[::1]:3001",
        "http://[0:0:0:0:0:0:0:1]",
        "http://[0::0001]",
        "http://localhost",
        "HTTP://LocalHost:8080/countly",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        print_message("%s\n", urls[i]);
        assert_int_equal(load_url(urls[i]), CONFIG_OK);
        assert_int_equal(cfg.server.tls, 0);
    }
    assert_string_equal(cfg.server_url, "HTTP://LocalHost:8080/countly");
}

static void http_to_other_hosts_is_refused(void **state)
{
    (void)state;
    const char *urls[] = {
        "http://example.com",
        "http://128.0.0.1",
        "http://[::2]",
        "http://[1::1]",
        "http://localhost.example.com",
        "http://127.example.com",
        "http://[::ffff:127.0.0.1]",
        "http://10.0.0.1",
        "http://[::]",
    };
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        print_message("%s\n", urls[i]);
        assert_int_equal(load_url(urls[i]), CONFIG_ERR_VALUE);
        assert_non_null(strstr(cfg.detail, "http:// is allowed only to loopback addresses; use "
                                           "https://"));
    }
    assert_detail("key 'server_url': \"http://[::]\": http:// is allowed only to loopback "
                  "addresses; use https://");
}

static void server_url_trailing_slash_removed_and_prefix_kept(void **state)
{
    (void)state;
    assert_int_equal(load_url("https://c.example.com/mount/countly//"), CONFIG_OK);
    assert_string_equal(cfg.server_url, "https://c.example.com/mount/countly");
    assert_string_equal(cfg.server.path, "/mount/countly");
    assert_int_equal(load_url("https://c.example.com/"), CONFIG_OK);
    assert_string_equal(cfg.server_url, "https://c.example.com");
}

static void malformed_server_url_is_refused(void **state)
{
    (void)state;
    const char *urls[] = {"ftp://c.example.com",
                          "https://",
                          "c.example.com",
                          "https://c.example.com?x=1",
                          "https://user@c.example.com",
                          "https://c.example.com:99999",
                          ""};
    for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++) {
        print_message("%s\n", urls[i]);
        assert_int_equal(load_url(urls[i]), CONFIG_ERR_VALUE);
        assert_non_null(strstr(cfg.detail, "is not a valid URL"));
    }
    assert_int_equal(load_url("ftp://c.example.com"), CONFIG_ERR_VALUE);
    assert_detail("key 'server_url': \"ftp://c.example.com\" is not a valid URL: server URL must "
                  "start with http:// or https://");
}

/* ---- app_id ------------------------------------------------------------------------------------
 */

static config_status load_apps(const char *value)
{
    (void)snprintf(doc, sizeof doc,
                   "{\"server_url\":\"" URL "\",\"api_key\":\"test-api-key\",\"app_id\":%s}",
                   value);
    return load(doc);
}

static void app_id_star_means_all_apps(void **state)
{
    (void)state;
    assert_int_equal(load_apps("\"*\""), CONFIG_OK);
    assert_int_equal(cfg.all_apps, 1);
    assert_int_equal(cfg.app_count, 0);
    assert_int_equal(load_apps("[\" * \"]"), CONFIG_OK);
    assert_int_equal(cfg.all_apps, 1);
}

static void app_id_single_id_is_lowercased(void **state)
{
    (void)state;
    assert_int_equal(load_apps("\"5F0C1D2E3A4B5C6D7E8F9A0B\""), CONFIG_OK);
    assert_int_equal(cfg.all_apps, 0);
    assert_int_equal(cfg.app_count, 1);
    assert_string_equal(cfg.app_ids[0], APP_A);
}

static void app_id_comma_list_with_spaces(void **state)
{
    (void)state;
    assert_int_equal(load_apps("\" " APP_A " ,  " APP_B "," APP_C " \""), CONFIG_OK);
    assert_int_equal(cfg.app_count, 3);
    assert_string_equal(cfg.app_ids[0], APP_A);
    assert_string_equal(cfg.app_ids[1], APP_B);
    assert_string_equal(cfg.app_ids[2], APP_C);
}

static void app_id_json_array(void **state)
{
    (void)state;
    assert_int_equal(load_apps("[\"" APP_C "\", \"" APP_A "\"]"), CONFIG_OK);
    assert_int_equal(cfg.app_count, 2);
    assert_string_equal(cfg.app_ids[0], APP_C);
    assert_string_equal(cfg.app_ids[1], APP_A);
}

static void app_id_duplicates_are_collapsed(void **state)
{
    (void)state;
    assert_int_equal(load_apps("\"" APP_A "," APP_B ",5F0C1D2E3A4B5C6D7E8F9A0B\""), CONFIG_OK);
    assert_int_equal(cfg.app_count, 2);
    assert_int_equal(load_apps("[\"" APP_B "\",\"" APP_B "\"]"), CONFIG_OK);
    assert_int_equal(cfg.app_count, 1);
}

static void app_id_bad_values_are_named(void **state)
{
    (void)state;
    assert_int_equal(load_apps("\"" APP_A ",5f0c1d2e3a4b5c6d7e8f9a0\""), CONFIG_ERR_VALUE);
    assert_detail("key 'app_id': \"5f0c1d2e3a4b5c6d7e8f9a0\" is not an app id (24 hexadecimal "
                  "digits)");
    assert_int_equal(load_apps("[\"" APP_A "\",\"zz0c1d2e3a4b5c6d7e8f9a0b\"]"), CONFIG_ERR_VALUE);
    assert_detail("key 'app_id': \"zz0c1d2e3a4b5c6d7e8f9a0b\" is not an app id (24 hexadecimal "
                  "digits)");
    assert_int_equal(load_apps("\"<YOUR_COUNTLY_APP_ID>\""), CONFIG_ERR_VALUE);
    assert_int_equal(load_apps("\"" APP_A ",," APP_B "\""), CONFIG_ERR_VALUE);
    assert_detail("key 'app_id': an empty entry in the list");
    assert_int_equal(load_apps("\"\""), CONFIG_ERR_VALUE);
    assert_int_equal(load_apps("[]"), CONFIG_ERR_VALUE);
    assert_detail("key 'app_id': names no app (give \"*\" or 24-hex app ids)");
    assert_int_equal(load_apps("\"*," APP_A "\""), CONFIG_ERR_VALUE);
    assert_detail("key 'app_id': \"*\" cannot be combined with app ids");
}

/* Writes n distinct ids as a comma list (array = 0) or a JSON array. */
static config_status load_many_apps(unsigned n, int array)
{
    static char list[CONFIG_FILE_MAX];
    size_t len = 0;
    list[len++] = array ? '[' : '"';
    for (unsigned i = 0; i < n; i++) {
        const char *sep = i == 0 ? "" : ",";
        len += (size_t)snprintf(list + len, sizeof list - len, "%s%s%024x%s", sep,
                                array ? "\"" : "", i, array ? "\"" : "");
    }
    list[len++] = array ? ']' : '"';
    list[len] = '\0';
    return load_apps(list);
}

static void app_id_limit_is_config_apps_max(void **state)
{
    (void)state;
    assert_int_equal(load_many_apps(CONFIG_APPS_MAX, 0), CONFIG_OK);
    assert_int_equal(cfg.app_count, CONFIG_APPS_MAX);
    assert_int_equal(load_many_apps(CONFIG_APPS_MAX + 1, 0), CONFIG_ERR_RANGE);
    char message[96];
    (void)snprintf(message, sizeof message, "key 'app_id': more than CONFIG_APPS_MAX (%u) app ids",
                   (unsigned)CONFIG_APPS_MAX);
    assert_detail(message);
    assert_int_equal(load_many_apps(CONFIG_APPS_MAX + 1, 1), CONFIG_ERR_RANGE);
}

/* ---- the file itself
 * ----------------------------------------------------------------------------- */

static void comments_and_trailing_commas_are_json_errors_with_offset(void **state)
{
    (void)state;
    (void)snprintf(doc, sizeof doc, "{" REQUIRED ",}");
    assert_int_equal(load(doc), CONFIG_ERR_JSON);
    assert_non_null(strstr(cfg.detail, "byte"));
    assert_int_equal(strncmp(cfg.detail, cfg_path, strlen(cfg_path)), 0);
    (void)snprintf(doc, sizeof doc, "{ // settings\n" REQUIRED "}");
    assert_int_equal(load(doc), CONFIG_ERR_JSON);
    assert_non_null(strstr(cfg.detail, "byte 2"));
    (void)snprintf(doc, sizeof doc, "{" REQUIRED "} x");
    assert_int_equal(load(doc), CONFIG_ERR_JSON);
    (void)snprintf(doc, sizeof doc, "{" REQUIRED ",\"retry_attempts\":01}");
    assert_int_equal(load(doc), CONFIG_ERR_JSON);
}

static void top_level_that_is_not_an_object_is_refused(void **state)
{
    (void)state;
    const char *docs[] = {"[1,2]", "\"text\"", "42", "true", "null"};
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        print_message("%s\n", docs[i]);
        assert_int_equal(load(docs[i]), CONFIG_ERR_JSON);
        assert_detail("must be one JSON object");
    }
    assert_int_equal(load(""), CONFIG_ERR_JSON);
    assert_int_equal(load("{\"server_url\":"), CONFIG_ERR_JSON);
}

/* A valid document padded with spaces to exactly size bytes. */
static config_status load_padded(size_t size)
{
    static char big[CONFIG_FILE_MAX + 2];
    int n = snprintf(big, sizeof big, "{" REQUIRED "}");
    memset(big + n, ' ', size - (size_t)n);
    big[size] = '\0';
    return load(big);
}

static void file_larger_than_limit_is_refused(void **state)
{
    (void)state;
    assert_int_equal(load_padded(CONFIG_FILE_MAX), CONFIG_OK);
    assert_int_equal(load_padded(CONFIG_FILE_MAX + 1), CONFIG_ERR_TOO_LARGE);
    assert_detail("larger than CONFIG_FILE_MAX (8192 bytes)");
}

static void missing_file_is_a_read_error_naming_it(void **state)
{
    (void)state;
    char path[600];
    (void)snprintf(path, sizeof path, "%s/nope.json", tmp_dir);
    assert_int_equal(config_load(&cfg, path, NULL, NULL, NULL, &scratch), CONFIG_ERR_READ);
    assert_non_null(strstr(cfg.detail, path));
    assert_int_equal(config_load(&cfg, tmp_dir, NULL, NULL, NULL, &scratch), CONFIG_ERR_READ);
}

static void readable_by_others_is_detected(void **state)
{
    (void)state;
    (void)snprintf(doc, sizeof doc, "{" REQUIRED "}");
    assert_int_equal(load(doc), CONFIG_OK); /* written 0600 */
    assert_int_equal(cfg.file_readable_by_others, 0);
    assert_int_equal(chmod(cfg_path, 0644), 0);
    assert_int_equal(config_load(&cfg, cfg_path, NULL, NULL, NULL, &scratch), CONFIG_OK);
    assert_int_equal(cfg.file_readable_by_others, 1);
    assert_int_equal(chmod(cfg_path, 0640), 0);
    assert_int_equal(config_load(&cfg, cfg_path, "env-key", NULL, NULL, &scratch), CONFIG_OK);
    assert_int_equal(cfg.file_readable_by_others, 1);
}

static void readable_file_without_api_key_is_not_flagged(void **state)
{
    (void)state;
    write_file(cfg_path, "{\"server_url\":\"" URL "\",\"app_id\":\"*\"}",
               strlen("{\"server_url\":\"" URL "\",\"app_id\":\"*\"}"));
    assert_int_equal(chmod(cfg_path, 0644), 0);
    assert_int_equal(config_load(&cfg, cfg_path, "env-key", NULL, NULL, &scratch), CONFIG_OK);
    assert_int_equal(cfg.file_readable_by_others, 0);
}

/* ---- api_key_file, the systemd credential, and where the key comes from -------------------- */

#define NO_KEY "{\"server_url\":\"" URL "\",\"app_id\":\"*\""

/* Loads NO_KEY plus extra members with every source of the key. */
static config_status load_sources(const char *extra, const char *env, const char *credentials)
{
    (void)snprintf(doc, sizeof doc, NO_KEY "%s%s}", extra[0] ? "," : "", extra);
    write_file(cfg_path, doc, strlen(doc));
    config_sources src = {cfg_path, env, credentials, NULL, NULL};
    return config_load_from(&cfg, &src, &scratch);
}

/* Writes a key file (mode 0600) in the test folder. */
static void write_key(const char *name, const char *text, size_t len)
{
    write_file(tmpdir_path_n(1, name), text, len);
}

static void api_key_file_trailing_newline_and_crlf_are_ignored(void **state)
{
    (void)state;
    static const char *const texts[] = {SECRET, SECRET "\n", SECRET "\r\n"};
    for (size_t i = 0; i < 3; i++) {
        write_key("key.txt", texts[i], strlen(texts[i]));
        assert_int_equal(load_sources("\"api_key_file\":\"key.txt\"", NULL, NULL), CONFIG_OK);
        assert_string_equal(cfg.api_key, SECRET);
        assert_int_equal(cfg.api_key_from_env, 0);
        assert_string_equal(cfg.api_key_file, "key.txt");
        assert_int_equal(cfg.file_readable_by_others, 0);
    }
}

static void api_key_file_relative_to_the_configuration_folder(void **state)
{
    (void)state;
    write_key("rel.key", SECRET "\n", strlen(SECRET) + 1);
    /* relative: found beside the configuration, whatever the working folder */
    assert_int_equal(load_sources("\"api_key_file\":\"rel.key\"", NULL, NULL), CONFIG_OK);
    assert_string_equal(cfg.api_key, SECRET);
    char abs[1100];
    (void)snprintf(abs, sizeof abs, "\"api_key_file\":\"%s\"", tmpdir_path_n(1, "rel.key"));
    assert_int_equal(load_sources(abs, NULL, NULL), CONFIG_OK);
    assert_string_equal(cfg.api_key, SECRET);
}

static void api_key_file_that_is_not_one_line_is_refused(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        const char *problem;
    } cases[] = {
        {"", "is empty"},
        {"\n", "is empty"},
        {"\r\n", "is empty"},
        {SECRET "\n" SECRET "\n", "holds more than one line"},
        {SECRET "\n\n", "holds more than one line"},
        {SECRET "\r", "holds a control character"},
        {SECRET "\t", "holds a control character"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("case %zu\n", i);
        write_key("bad.key", cases[i].text, strlen(cases[i].text));
        assert_int_equal(load_sources("\"api_key_file\":\"bad.key\"", NULL, NULL),
                         CONFIG_ERR_VALUE);
        assert_non_null(strstr(cfg.detail, "key 'api_key_file': "));
        assert_non_null(strstr(cfg.detail, tmpdir_path_n(1, "bad.key")));
        assert_non_null(strstr(cfg.detail, cases[i].problem));
        assert_null(strstr(cfg.detail, "K3Y"));
        assert_string_equal(cfg.api_key, "");
    }
}

static void api_key_file_missing_or_too_long_is_refused(void **state)
{
    (void)state;
    assert_int_equal(load_sources("\"api_key_file\":\"no-such.key\"", NULL, NULL), CONFIG_ERR_READ);
    assert_non_null(strstr(cfg.detail, "no-such.key: cannot read"));
    char key[CONFIG_API_KEY_MAX + 2];
    memset(key, 'k', sizeof key);
    write_key("max.key", key, CONFIG_API_KEY_MAX);
    assert_int_equal(load_sources("\"api_key_file\":\"max.key\"", NULL, NULL), CONFIG_OK);
    assert_int_equal(strlen(cfg.api_key), CONFIG_API_KEY_MAX);
    write_key("long.key", key, CONFIG_API_KEY_MAX + 1);
    assert_int_equal(load_sources("\"api_key_file\":\"long.key\"", NULL, NULL), CONFIG_ERR_VALUE);
    assert_non_null(strstr(cfg.detail, "longer than CONFIG_API_KEY_MAX"));
}

static void api_key_and_api_key_file_together_are_refused(void **state)
{
    (void)state;
    write_key("key.txt", SECRET, strlen(SECRET));
    assert_int_equal(
        load_sources("\"api_key\":\"" SECRET "\",\"api_key_file\":\"key.txt\"", NULL, NULL),
        CONFIG_ERR_VALUE);
    assert_detail("keys 'api_key' and 'api_key_file' are both given: keep one");
    assert_int_equal(
        load_sources("\"api_key\":\"" SECRET "\",\"api_key_file\":\"key.txt\"", "env", NULL),
        CONFIG_ERR_VALUE);
}

static void key_sources_in_order_env_file_credentials(void **state)
{
    (void)state;
    write_key("key.txt", "from-key-file\n", 14);
    assert_int_equal(mkdir(tmpdir_path_n(0, "creds"), 0700) == 0 || errno == EEXIST, 1);
    write_key("creds/countly-api-key", "from-credential\n", 16);
    const char *creds = tmpdir_path_n(2, "creds");
    /* the environment wins over all */
    assert_int_equal(load_sources("\"api_key_file\":\"key.txt\"", "from-env", creds), CONFIG_OK);
    assert_string_equal(cfg.api_key, "from-env");
    assert_int_equal(cfg.api_key_from_env, 1);
    assert_int_equal(load_sources("\"api_key\":\"from-file\"", "from-env", creds), CONFIG_OK);
    assert_string_equal(cfg.api_key, "from-env");
    assert_int_equal(load_sources("", "from-env", creds), CONFIG_OK);
    assert_string_equal(cfg.api_key, "from-env");
    /* then the file's api_key or api_key_file */
    assert_int_equal(load_sources("\"api_key_file\":\"key.txt\"", NULL, creds), CONFIG_OK);
    assert_string_equal(cfg.api_key, "from-key-file");
    assert_int_equal(load_sources("\"api_key\":\"from-file\"", "", creds), CONFIG_OK);
    assert_string_equal(cfg.api_key, "from-file");
    /* then the credential */
    assert_int_equal(load_sources("", NULL, creds), CONFIG_OK);
    assert_string_equal(cfg.api_key, "from-credential");
    assert_int_equal(cfg.api_key_from_env, 0);
    assert_int_equal(load_sources("", "", creds), CONFIG_OK);
    assert_string_equal(cfg.api_key, "from-credential");
}

static void no_key_anywhere_names_every_source(void **state)
{
    (void)state;
    assert_int_equal(load_sources("", NULL, NULL), CONFIG_ERR_MISSING);
    assert_non_null(strstr(cfg.detail, "COUNTLY_API_KEY"));
    assert_non_null(strstr(cfg.detail, "'api_key'"));
    assert_non_null(strstr(cfg.detail, "'api_key_file'"));
    assert_non_null(strstr(cfg.detail, "$CREDENTIALS_DIRECTORY/countly-api-key"));
    /* a credentials folder without the credential says so */
    assert_int_equal(load_sources("", NULL, tmp_dir), CONFIG_ERR_MISSING);
    assert_non_null(strstr(cfg.detail, "CREDENTIALS_DIRECTORY holds no countly-api-key"));
}

static void credential_that_is_not_one_line_is_refused(void **state)
{
    (void)state;
    assert_int_equal(mkdir(tmpdir_path_n(0, "bad-creds"), 0700) == 0 || errno == EEXIST, 1);
    write_key("bad-creds/countly-api-key", SECRET "\n" SECRET, strlen(SECRET) * 2 + 1);
    assert_int_equal(load_sources("", NULL, tmpdir_path_n(2, "bad-creds")), CONFIG_ERR_VALUE);
    assert_non_null(strstr(cfg.detail, "bad-creds/countly-api-key holds more than one line"));
    assert_null(strstr(cfg.detail, "K3Y"));
}

static void key_file_readable_by_others_is_flagged_with_its_path(void **state)
{
    (void)state;
    write_key("open.key", SECRET, strlen(SECRET));
    assert_int_equal(load_sources("\"api_key_file\":\"open.key\"", NULL, NULL), CONFIG_OK);
    assert_int_equal(cfg.file_readable_by_others, 0);
    assert_int_equal(chmod(tmpdir_path_n(1, "open.key"), 0644), 0);
    assert_int_equal(load_sources("\"api_key_file\":\"open.key\"", NULL, NULL), CONFIG_OK);
    assert_int_equal(cfg.file_readable_by_others, 1);
    assert_string_equal(cfg.readable_path, tmpdir_path_n(1, "open.key"));
    /* the configuration file holding api_key is named the same way */
    assert_int_equal(load_sources("\"api_key\":\"" SECRET "\"", NULL, NULL), CONFIG_OK);
    assert_int_equal(cfg.file_readable_by_others, 0);
    assert_int_equal(chmod(cfg_path, 0604), 0);
    config_sources src = {cfg_path, NULL, NULL, NULL, NULL};
    assert_int_equal(config_load_from(&cfg, &src, &scratch), CONFIG_OK);
    assert_int_equal(cfg.file_readable_by_others, 1);
    assert_string_equal(cfg.readable_path, cfg_path);
}

/* ---- file_mode ---------------------------------------------------------------------------- */

static void file_mode_default_and_valid_values(void **state)
{
    (void)state;
    assert_int_equal(load_with(""), CONFIG_OK);
    assert_int_equal(cfg.file_mode, 0600);
    static const struct {
        const char *member;
        uint32_t mode;
    } cases[] = {
        {"\"file_mode\":\"0600\"", 0600}, {"\"file_mode\":\"0640\"", 0640},
        {"\"file_mode\":\"0644\"", 0644}, {"\"file_mode\":\"0660\"", 0660},
        {"\"file_mode\":\"0666\"", 0666}, {"\"file_mode\":\"0400\"", 0400},
        {"\"file_mode\":\"0440\"", 0440}, {"\"file_mode\":null", 0600},
        {"\"file_mode\":\"\"", 0600},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("case %zu\n", i);
        assert_int_equal(load_with(cases[i].member), CONFIG_OK);
        assert_int_equal(cfg.file_mode, cases[i].mode);
    }
}

static void file_mode_invalid_values_are_refused(void **state)
{
    (void)state;
    static const char *const values[] = {
        "\"0777\"",  "\"0700\"", "\"0601\"",  "\"0610\"", "\"0200\"",   "\"0000\"",
        "\"0677\"",  "\"600\"",  "\"00600\"", "\"rw\"",   "\"0x180\"",  "\"06O0\"",
        "\" 0600\"", "600",      "384",       "true",     "[\"0600\"]",
    };
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char member[64];
        print_message("case %zu: %s\n", i, values[i]);
        (void)snprintf(member, sizeof member, "\"file_mode\":%s", values[i]);
        assert_int_equal(load_with(member), CONFIG_ERR_VALUE);
        assert_non_null(strstr(cfg.detail, "key 'file_mode': "));
        assert_non_null(strstr(cfg.detail, "is not an octal permission string from \"0400\" to "
                                           "\"0666\" without execute bits"));
    }
}

/* ---- output_compression ------------------------------------------------------------------- */

static void output_compression_none_or_gzip(void **state)
{
    (void)state;
    assert_int_equal(load_with(""), CONFIG_OK);
    assert_int_equal(cfg.output_gzip, 0);
    static const struct {
        const char *member;
        int gzip;
    } cases[] = {
        {"\"output_compression\":\"gzip\"", 1}, {"\"output_compression\":\"none\"", 0},
        {"\"output_compression\":\"GZIP\"", 1}, {"\"output_compression\":null", 0},
        {"\"output_compression\":\"\"", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        print_message("case %zu\n", i);
        assert_int_equal(load_with(cases[i].member), CONFIG_OK);
        assert_int_equal(cfg.output_gzip, cases[i].gzip);
    }
}

static void output_compression_other_values_are_refused(void **state)
{
    (void)state;
    static const char *const values[] = {"\"zip\"", "\"gz\"",     "true",
                                         "1",       "[\"gzip\"]", "\" gzip\""};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        char member[64];
        print_message("case %zu: %s\n", i, values[i]);
        (void)snprintf(member, sizeof member, "\"output_compression\":%s", values[i]);
        assert_int_equal(load_with(member), CONFIG_ERR_VALUE);
        assert_non_null(strstr(cfg.detail, "key 'output_compression': "));
        assert_non_null(strstr(cfg.detail, "is not \"none\" or \"gzip\""));
    }
}

/* ---- output_layout and output_part_mb ------------------------------------------------------- */

static void output_layout_and_part_size_defaults_and_values(void **state)
{
    (void)state;
    assert_int_equal(load_with(""), CONFIG_OK);
    assert_int_equal(cfg.output_layout, CONFIG_LAYOUT_APPEND);
    assert_int_equal(cfg.output_part_mb, 64);
    assert_int_equal(load_with("\"output_layout\":\"runs\",\"output_part_mb\":\"1\""), CONFIG_OK);
    assert_int_equal(cfg.output_layout, CONFIG_LAYOUT_RUNS);
    assert_int_equal(cfg.output_part_mb, 1);
    assert_int_equal(load_with("\"output_layout\":\"append\",\"output_part_mb\":4096"), CONFIG_OK);
    assert_int_equal(cfg.output_layout, CONFIG_LAYOUT_APPEND);
    assert_int_equal(cfg.output_part_mb, 4096);
    assert_int_equal(load_with("\"output_layout\":null,\"output_part_mb\":\"\""), CONFIG_OK);
    assert_int_equal(cfg.output_layout, CONFIG_LAYOUT_APPEND);
    assert_int_equal(cfg.output_part_mb, 64);
}

static void output_layout_and_part_size_bad_values_are_refused(void **state)
{
    (void)state;
    static const char *const layouts[] = {"\"Runs\"", "\"run\"", "\"runs \"", "\"append|runs\"",
                                          "1",        "true",    "[\"runs\"]"};
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++) {
        char member[64];
        print_message("layout case %zu: %s\n", i, layouts[i]);
        (void)snprintf(member, sizeof member, "\"output_layout\":%s", layouts[i]);
        assert_int_equal(load_with(member), CONFIG_ERR_VALUE);
        assert_non_null(strstr(cfg.detail, "key 'output_layout': "));
        assert_non_null(strstr(cfg.detail, "is not one of append|runs"));
    }
    assert_int_equal(load_with("\"output_part_mb\":0"), CONFIG_ERR_RANGE);
    assert_int_equal(load_with("\"output_part_mb\":\"4097\""), CONFIG_ERR_RANGE);
    assert_int_equal(load_with("\"output_part_mb\":\"1.5\""), CONFIG_ERR_TYPE);
}

/* ---- the API key never appears -----------------------------------------------------------------
 */

static const char *const leak_docs[] = {
    "{\"api_key\":\"" SECRET "\",\"server_url\":\"http://example.com\",\"app_id\":\"*\"}",
    "{\"api_key\":\"" SECRET "\",\"api_key\":\"" SECRET "\"}",
    "{\"api_key\":\"" SECRET "\",\"api_kee\":\"" SECRET "\"}",
    "{\"api_key\":[\"" SECRET "\"]}",
    "{\"api_key\":{\"k\":\"" SECRET "\"}}",
    "{\"api_key\":\"" SECRET "\",}",
    "{\"api_key\":\"" SECRET "\" // note\n}",
    "{\"api_key\":\"" SECRET "\",\"server_url\":\"" URL "\"}",
    "{\"api_key\":\"" SECRET "\",\"app_id\":\"" SECRET "x\"}",
    "{\"api_key\":\"" SECRET "\",\"retry_attempts\":99}",
    "{\"api_key\":\"" SECRET "\",\"tls_verify\":\"maybe\"}",
    "[\"" SECRET "\"]",
    "{\"api_key\":\"" SECRET "\" \"x\":1}",
    "{\"api_key\":\"" SECRET "\x01\"}",
    "{\"api_key\":\"" SECRET "\\u0000\"}",
    "{\"api_key\":\"" SECRET "\",\"server_url\":\"" URL "\",\"app_id\":\"*\"} " SECRET,
    "{\"api_key\":\"" SECRET SECRET SECRET SECRET SECRET SECRET "\"}",
    "{\"app_id\":\"" SECRET "\",\"api_key\":\"" SECRET "\"}",
    "{\"" SECRET "\":1,\"api_key\":\"" SECRET "\"}",
    "{\"output_dir\":[\"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" SECRET "\"],\"api_key\":\"" SECRET "\"}",
    "{\"app_id\":\"" SECRET "\",\"api_key\":\"" SECRET "\"}",
};

static void api_key_value_never_appears_in_any_message(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof leak_docs / sizeof leak_docs[0]; i++) {
        print_message("case %zu\n", i);
        assert_int_not_equal(load(leak_docs[i]), CONFIG_OK);
        assert_null(strstr(cfg.detail, SECRET));
        assert_null(strstr(cfg.detail, "K3Y"));
        assert_string_equal(cfg.api_key, ""); /* wiped on failure */
    }
    assert_int_not_equal(load_full("{\"server_url\":\"" URL "\",\"app_id\":\"*\"}",
                                   SECRET SECRET SECRET SECRET SECRET SECRET, NULL, NULL),
                         CONFIG_OK);
    assert_null(strstr(cfg.detail, "K3Y"));
}

/* ---- status words ---------------------------------------------------------------------------- */

static void strerror_has_words_for_every_status(void **state)
{
    (void)state;
    for (int s = CONFIG_OK; s <= CONFIG_ERR_VALUE; s++) {
        const char *text = config_strerror((config_status)s);
        assert_true(strlen(text) > 1);
        assert_null(strstr(text, "unknown configuration status"));
    }
    assert_non_null(strstr(config_strerror(CONFIG_ERR_TOO_LARGE), "8192"));
    assert_string_equal(config_strerror((config_status)99), "unknown configuration status");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(required_keys_only_gives_every_default),
        cmocka_unit_test(proxy_absent_means_the_environment_decides),
        cmocka_unit_test(proxy_empty_means_none),
        cmocka_unit_test(proxy_with_credentials_parsed),
        cmocka_unit_test(proxy_refused_without_showing_the_password),
        cmocka_unit_test(every_key_in_native_form),
        cmocka_unit_test(seed_style_file_with_all_values_as_strings),
        cmocka_unit_test(null_and_empty_string_give_the_default),
        cmocka_unit_test(escaped_strings_and_keys_are_decoded),
        cmocka_unit_test(empty_ca_file_means_the_system_bundle),
        cmocka_unit_test(output_dir_with_trailing_slash_gives_one_slash_in_state_file),
        cmocka_unit_test(integer_range_edges_native_and_string),
        cmocka_unit_test(out_of_range_message_names_key_value_and_range),
        cmocka_unit_test(huge_numbers_are_out_of_range_not_wrapped),
        cmocka_unit_test(type_errors_name_key_value_and_what_is_allowed),
        cmocka_unit_test(required_key_types),
        cmocka_unit_test(long_values_are_cut_in_messages),
        cmocka_unit_test(value_resembling_the_api_key_is_not_shown),
        cmocka_unit_test(api_key_past_the_shown_part_is_not_shown),
        cmocka_unit_test(unknown_key_suggests_the_closest_key),
        cmocka_unit_test(unknown_key_prefix_of_a_key_is_suggested),
        cmocka_unit_test(unknown_key_without_a_close_key),
        cmocka_unit_test(missing_required_keys),
        cmocka_unit_test(environment_api_key_wins_over_the_file),
        cmocka_unit_test(environment_api_key_makes_the_file_key_optional),
        cmocka_unit_test(empty_environment_key_is_ignored),
        cmocka_unit_test(api_key_length_limit),
        cmocka_unit_test(command_line_output_dir_wins_and_moves_default_state_file),
        cmocka_unit_test(command_line_state_file_wins),
        cmocka_unit_test(paths_longer_than_the_limit_are_refused),
        cmocka_unit_test(http_to_loopback_is_accepted),
        cmocka_unit_test(http_to_other_hosts_is_refused),
        cmocka_unit_test(server_url_trailing_slash_removed_and_prefix_kept),
        cmocka_unit_test(malformed_server_url_is_refused),
        cmocka_unit_test(app_id_star_means_all_apps),
        cmocka_unit_test(app_id_single_id_is_lowercased),
        cmocka_unit_test(app_id_comma_list_with_spaces),
        cmocka_unit_test(app_id_json_array),
        cmocka_unit_test(app_id_duplicates_are_collapsed),
        cmocka_unit_test(app_id_bad_values_are_named),
        cmocka_unit_test(app_id_limit_is_config_apps_max),
        cmocka_unit_test(comments_and_trailing_commas_are_json_errors_with_offset),
        cmocka_unit_test(top_level_that_is_not_an_object_is_refused),
        cmocka_unit_test(file_larger_than_limit_is_refused),
        cmocka_unit_test(missing_file_is_a_read_error_naming_it),
        cmocka_unit_test(api_key_file_trailing_newline_and_crlf_are_ignored),
        cmocka_unit_test(api_key_file_relative_to_the_configuration_folder),
        cmocka_unit_test(api_key_file_that_is_not_one_line_is_refused),
        cmocka_unit_test(api_key_file_missing_or_too_long_is_refused),
        cmocka_unit_test(api_key_and_api_key_file_together_are_refused),
        cmocka_unit_test(key_sources_in_order_env_file_credentials),
        cmocka_unit_test(no_key_anywhere_names_every_source),
        cmocka_unit_test(credential_that_is_not_one_line_is_refused),
        cmocka_unit_test(key_file_readable_by_others_is_flagged_with_its_path),
        cmocka_unit_test(file_mode_default_and_valid_values),
        cmocka_unit_test(file_mode_invalid_values_are_refused),
        cmocka_unit_test(output_layout_and_part_size_defaults_and_values),
        cmocka_unit_test(output_layout_and_part_size_bad_values_are_refused),
        cmocka_unit_test(readable_by_others_is_detected),
        cmocka_unit_test(readable_file_without_api_key_is_not_flagged),
        cmocka_unit_test(api_key_value_never_appears_in_any_message),
        cmocka_unit_test(output_compression_none_or_gzip),
        cmocka_unit_test(output_compression_other_values_are_refused),
        cmocka_unit_test(strerror_has_words_for_every_status),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
