/*
 * test_tmpdir.h - one private temporary folder per unit test program.
 *
 * tmpdir_create("test_x") makes /tmp/test_x.XXXXXX (name in tmp_dir);
 * tmpdir_path_n(slot, name) is "<tmp_dir>/<name>" in one of four static
 * buffers; tmpdir_remove() deletes the folder with everything in it,
 * including folders a test made read-only. Header-only test helper.
 */
#ifndef COUNTLY_SYNC_TEST_TMPDIR_H
#define COUNTLY_SYNC_TEST_TMPDIR_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static char tmp_dir[256];

static inline int tmpdir_remove_entry(const char *path, const struct stat *sb, int flag,
                                      struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    (void)chmod(path, 0700);
    return remove(path);
}

static inline int tmpdir_create(const char *name)
{
    (void)snprintf(tmp_dir, sizeof tmp_dir, "/tmp/%s.XXXXXX", name);
    return mkdtemp(tmp_dir) == NULL ? -1 : 0;
}

static inline const char *tmpdir_path_n(int slot, const char *name)
{
    static char paths[4][1024];
    (void)snprintf(paths[slot], sizeof paths[slot], "%s/%s", tmp_dir, name);
    return paths[slot];
}

static inline int tmpdir_remove(void)
{
    return nftw(tmp_dir, tmpdir_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#endif /* COUNTLY_SYNC_TEST_TMPDIR_H */
