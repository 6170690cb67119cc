/*
 * runs.h - the `runs` output layout's names and part policy (sans-I/O).
 *
 * In the runs layout (SPEC "Output layouts") every run writes closed files
 * named after its start on the server clock, STAMP = YYYYMMDDTHHMMSSZ:
 *   apps/STAMP.csv, groups/STAMP.csv, users/STAMP-NNNN.csv (parts, NNNN
 *   from 0001), and last runs/STAMP.json (the run report as manifest).
 * With gzip each CSV name ends in ".csv.gz" instead: the compression is
 * only a suffix. A file is written under a hidden temporary name in the
 * same folder (users/.STAMP-0001.csv.tmp), fsynced and renamed, so nothing
 * under a final name is ever partial or changes after.
 *
 * This module only builds names and makes the part decisions; the agent
 * does the I/O (csv.h CSV_MODE_PART) and records the open part in the
 * state (state.h state_part).
 *
 * Statuses: RUNS_ERR_LONG a name does not fit the caller's buffer (or the
 * stamp is outside 1970..9999, or the part number outside 1..RUNS_PART_MAX).
 */
#ifndef COUNTLY_SYNC_RUNS_H
#define COUNTLY_SYNC_RUNS_H

#include <stddef.h>
#include <stdint.h>

/* "YYYYMMDDTHHMMSSZ" and its NUL. */
#define RUNS_STAMP_SIZE 17

/* Largest part number: four digits. */
#define RUNS_PART_MAX 9999u

typedef enum {
    RUNS_OK = 0,
    RUNS_ERR_LONG /* the name does not fit, or a stamp or part number out of range */
} runs_status;

/* The files of a run. */
typedef enum {
    RUNS_FILE_APPS = 0, /* apps/STAMP.csv */
    RUNS_FILE_GROUPS,   /* groups/STAMP.csv */
    RUNS_FILE_USERS,    /* users/STAMP-NNNN.csv */
    RUNS_FILE_MANIFEST  /* runs/STAMP.json (never compressed) */
} runs_file;

/* A file name: which file, the run's stamp, the part (users only), and
 * whether the CSV is gzipped. */
typedef struct {
    runs_file file;
    int64_t stamp; /* unix seconds, server clock */
    unsigned part; /* 1..RUNS_PART_MAX for RUNS_FILE_USERS, else ignored */
    int gzip;      /* ".csv.gz" instead of ".csv" */
    int temporary; /* the hidden temporary name: folder/.NAME.tmp */
} runs_name;

/* Words for a status. */
const char *runs_strerror(runs_status status);

/* The stamp "20261206T165813Z" of unix seconds into out. */
runs_status runs_stamp(int64_t unix_seconds, char out[RUNS_STAMP_SIZE]);

/* The name relative to output_dir ("users/STAMP-0001.csv", or with
 * temporary "users/.STAMP-0001.csv.tmp") into out (cap bytes). */
runs_status runs_file_name(const runs_name *name, char *out, size_t cap);

/* The folder of a file kind relative to output_dir ("apps", "groups",
 * "users", "runs"). */
const char *runs_folder(runs_file file);

/* The stamp a run names its files after: its start on the server clock,
 * or one second after the last run's stamp when the clock has not moved
 * past it (two runs in one second, a clock set back), so that no run
 * replaces another's files. last_stamp < 0: no earlier run. */
int64_t runs_stamp_for(int64_t run_start, int64_t last_stamp);

/* The number of the next users part of the run named run_stamp, after
 * the last part (last_stamp, last_part) the state records (last_stamp < 0:
 * none): the following number in the same run, else 1. */
unsigned runs_next_part(int64_t run_stamp, int64_t last_stamp, unsigned last_part);

/* 1 when a page that took the part to page_end bytes must go to the next
 * part instead: it passes limit bytes and the part holds rows before it
 * (rows_before > 0). A part whose first page alone passes the limit keeps
 * it (a part holds at least one page). */
int runs_page_needs_new_part(uint64_t rows_before, uint64_t page_end, uint64_t limit);

/* 1 when name (a file in one of the run folders) is a hidden temporary
 * file (".NAME.tmp") other than keep (the open part's, or NULL): one a
 * killed run left behind, which nothing will ever finish. */
int runs_is_stale_temporary(const char *name, const char *keep);

#endif /* COUNTLY_SYNC_RUNS_H */
