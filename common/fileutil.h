/* common/fileutil.h: whole-file reads and crash-safe writes. */
#ifndef GW_COMMON_FILEUTIL_H
#define GW_COMMON_FILEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Reads a whole file of at most max_bytes into a new NUL-terminated buffer.
 * Returns 0 or an errno value (EFBIG when larger). Caller frees *out. */
int gw_file_read(const char *path, size_t max_bytes, char **out,
                 size_t *out_len) __attribute__((warn_unused_result));

/* Writes a file through a temporary name, fsync and rename, with mode.
 * Returns 0 or an errno value. */
int gw_file_write_atomic(const char *path, const void *data, size_t len,
                         mode_t mode) __attribute__((warn_unused_result));

/* Creates a directory and its parents (like mkdir -p). 0 or errno. */
int gw_file_mkdirs(const char *path, mode_t mode)
    __attribute__((warn_unused_result));

#endif
