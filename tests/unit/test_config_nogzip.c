/*
 * test_config_nogzip.c - output_compression in a build without gzip output
 * (CSV_GZIP 0, the small memory profile): "gzip" is refused with a message
 * that says why and what to do; "none" still loads.
 *
 * src/config.c is compiled into this test with CSV_GZIP 0, its public
 * functions renamed so that they do not clash with the core's copy.
 */
#define _XOPEN_SOURCE    700
#define CSV_GZIP         0
#define config_strerror  nogzip_config_strerror
#define config_load_from nogzip_config_load_from
#define config_load      nogzip_config_load

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_tmpdir.h"
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../../src/config.c"

static config cfg;
static jstream scratch;
static char cfg_path[512];

static int group_setup(void **state)
{
    (void)state;
    if (tmpdir_create("test_config_nogzip") != 0)
        return -1;
    (void)snprintf(cfg_path, sizeof cfg_path, "%s/configuration.json", tmp_dir);
    return 0;
}

static int group_teardown(void **state)
{
    (void)state;
    return tmpdir_remove();
}

/* Loads the required keys plus one member. */
static config_status load_with(const char *member)
{
    char doc[512];
    (void)snprintf(doc, sizeof doc,
                   "{\"server_url\":\"https://countly.example.com\",\"api_key\":\"k3y-0123456789\","
                   "\"app_id\":\"5f0c1d2e3a4b5c6d7e8f9a0b\",%s}",
                   member);
    FILE *f = fopen(cfg_path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(doc, 1, strlen(doc), f), strlen(doc));
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(cfg_path, 0600), 0);
    return config_load(&cfg, cfg_path, NULL, NULL, NULL, &scratch);
}

static void gzip_is_refused_without_gzip_output(void **state)
{
    (void)state;
    assert_int_equal(load_with("\"output_compression\":\"gzip\""), CONFIG_ERR_VALUE);
    assert_non_null(strstr(cfg.detail, "key 'output_compression': \"gzip\" is not available in "
                                       "this build (the small memory profile has no deflate)"));
}

static void none_still_loads(void **state)
{
    (void)state;
    assert_int_equal(load_with("\"output_compression\":\"none\""), CONFIG_OK);
    assert_int_equal(cfg.output_gzip, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gzip_is_refused_without_gzip_output),
        cmocka_unit_test(none_still_loads),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
