/*
 * fuzz_config - libFuzzer target for the configuration loader.
 *
 * The input is written to a private file and loaded with config_load, half
 * of the time with an API key from the "environment". Invariants: no crash
 * or sanitizer report; a refused file yields a one-line message that never
 * contains the environment's API key (when one is given); an accepted file
 * has every value in its documented range.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

static const char ENV_KEY[] = "fuzzsecretkey0123456789abcdefXYZ";

static config cfg;
static jstream scratch;
static char path[64];

static void write_input(const uint8_t *data, size_t size)
{
    if (path[0] == '\0')
        (void)snprintf(path, sizeof path, "/dev/shm/fuzz_config_%ld.json", (long)getpid());
    FILE *f = fopen(path, "wb");
    if (f == NULL)
        abort();
    if (size > 0 && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
}

static void check_ranges(void)
{
    if (cfg.max_records_per_page < 1 || cfg.max_records_per_page > 1000 ||
        cfg.request_timeout_seconds < 1 || cfg.request_timeout_seconds > 600 ||
        cfg.retry_attempts > 10 || cfg.initial_sync_days > 3650 || cfg.server_url[0] == '\0' ||
        cfg.api_key[0] == '\0' || (!cfg.all_apps && cfg.app_count == 0) ||
        cfg.app_count > CONFIG_APPS_MAX)
        abort();
    for (unsigned i = 0; i < cfg.app_count; i++)
        if (strlen(cfg.app_ids[i]) != 24)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int with_env = size > 0 && (data[size - 1] & 1);
    write_input(data, size);
    config_status st = config_load(&cfg, path, with_env ? ENV_KEY : NULL, NULL, NULL, &scratch);
    if (st == CONFIG_OK) {
        check_ranges();
        return 0;
    }
    if ((with_env && strstr(cfg.detail, ENV_KEY) != NULL) || strchr(cfg.detail, '\n') != NULL ||
        cfg.detail[0] == '\0')
        abort();
    return 0;
}
