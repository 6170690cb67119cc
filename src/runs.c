/*
 * runs.c - the runs layout's names and part policy (runs.h).
 */
#include "runs.h"

#include <stdio.h>
#include <string.h>

#include "civil_time.h"

static const char *const runs_folders[] = {"apps", "groups", "users", "runs"};

const char *runs_strerror(runs_status status)
{
    switch (status) {
    case RUNS_OK:
        return "ok";
    case RUNS_ERR_LONG:
        return "file name too long, or its stamp or part number out of range";
    }
    return "unknown runs status";
}

runs_status runs_stamp(int64_t unix_seconds, char out[RUNS_STAMP_SIZE])
{
    civil_time t;
    out[0] = '\0';
    if (civil_time_from_unix(unix_seconds, &t) != 0)
        return RUNS_ERR_LONG;
    int n = snprintf(out, RUNS_STAMP_SIZE, "%04d%02d%02dT%02d%02d%02dZ", t.year, t.month, t.day,
                     t.hour, t.minute, t.second);
    return n == RUNS_STAMP_SIZE - 1 ? RUNS_OK : RUNS_ERR_LONG;
}

const char *runs_folder(runs_file file)
{
    return runs_folders[file <= RUNS_FILE_MANIFEST ? file : RUNS_FILE_MANIFEST];
}

runs_status runs_file_name(const runs_name *name, char *out, size_t cap)
{
    char stamp[RUNS_STAMP_SIZE];
    char part[8] = "";
    if (cap > 0)
        out[0] = '\0';
    if (name->file > RUNS_FILE_MANIFEST || runs_stamp(name->stamp, stamp) != RUNS_OK)
        return RUNS_ERR_LONG;
    if (name->file == RUNS_FILE_USERS) {
        if (name->part < 1 || name->part > RUNS_PART_MAX)
            return RUNS_ERR_LONG;
        (void)snprintf(part, sizeof part, "-%04u", name->part);
    }
    const char *ext = name->file == RUNS_FILE_MANIFEST ? ".json" : name->gzip ? ".csv.gz" : ".csv";
    int n = snprintf(out, cap, "%s/%s%s%s%s%s", runs_folder(name->file), name->temporary ? "." : "",
                     stamp, part, ext, name->temporary ? ".tmp" : "");
    if (n < 0 || (size_t)n >= cap) {
        if (cap > 0)
            out[0] = '\0';
        return RUNS_ERR_LONG;
    }
    return RUNS_OK;
}

int64_t runs_stamp_for(int64_t run_start, int64_t last_stamp)
{
    return last_stamp >= 0 && run_start <= last_stamp ? last_stamp + 1 : run_start;
}

unsigned runs_next_part(int64_t run_stamp, int64_t last_stamp, unsigned last_part)
{
    return last_stamp == run_stamp ? last_part + 1 : 1;
}

int runs_page_needs_new_part(uint64_t rows_before, uint64_t page_end, uint64_t limit)
{
    return page_end > limit && rows_before > 0;
}

int runs_is_stale_temporary(const char *name, const char *keep)
{
    size_t len = strlen(name);
    if (len < 5 || name[0] != '.' || strcmp(name + len - 4, ".tmp") != 0)
        return 0;
    return keep == NULL || strcmp(name, keep) != 0;
}
