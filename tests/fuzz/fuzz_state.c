/*
 * fuzz_state - libFuzzer target for the state file loader.
 *
 * The input is written to a private file and loaded with state_load.
 * Invariants: no crash or sanitizer report; a refused file has a message
 * saying how to recover; an accepted state survives a save and a second
 * load unchanged (what the loader accepts, the writer reproduces).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state.h"

static sync_state first;
static sync_state second;
static jstream scratch;
static char buf[STATE_FILE_MAX];
static char in_path[64];
static char out_path[64];

static void write_input(const uint8_t *data, size_t size)
{
    if (in_path[0] == '\0') {
        (void)snprintf(in_path, sizeof in_path, "/dev/shm/fuzz_state_%ld.json", (long)getpid());
        (void)snprintf(out_path, sizeof out_path, "/dev/shm/fuzz_state_%ld.out", (long)getpid());
    }
    FILE *f = fopen(in_path, "wb");
    if (f == NULL)
        abort();
    if (size > 0 && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    write_input(data, size);
    state_status st = state_load(&first, in_path, &scratch);
    if (st != STATE_OK) {
        if (first.detail[0] == '\0' || strchr(first.detail, '\n') != NULL)
            abort();
        return 0;
    }
    if (state_save(&first, out_path, buf, sizeof buf) != STATE_OK)
        abort(); /* whatever was loaded must be writable again */
    if (state_load(&second, out_path, &scratch) != STATE_OK)
        abort();
    first.run.legacy = 0; /* a version 1 run is saved as version 2 */
    if (first.users_csv_bytes != second.users_csv_bytes || first.app_count != second.app_count ||
        memcmp(first.apps, second.apps, sizeof first.apps[0] * first.app_count) != 0 ||
        first.run.active != second.run.active ||
        (first.run.active && memcmp(&first.run, &second.run, sizeof first.run) != 0))
        abort();
    return 0;
}
