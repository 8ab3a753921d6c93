/*
 * swalloc_profile_target.h — where the JSON profile may be written, and
 * how, so that SWALLOC_OUT never replaces a device, a link in /dev or
 * anything another user planted (docs/fork-and-signals.md, "Files").
 */
#ifndef SWALLOC_PROFILE_TARGET_H
#define SWALLOC_PROFILE_TARGET_H

#include <stdbool.h>

#pragma clang assume_nonnull begin

enum swalloc_target_kind {
    /* `fd` is one of the program's descriptors (/dev/stdout, /dev/stderr,
       /dev/fd/N): write to it, do not close it. */
    SWALLOC_TARGET_DESCRIPTOR = 0,
    /* `fd` is a FIFO or character device opened in place: write, close. */
    SWALLOC_TARGET_IN_PLACE = 1,
    /* `fd` is a new temporary file at `temporary`: write, close, rename
       over the path (or unlink it on failure). */
    SWALLOC_TARGET_RENAME = 2,
    /* Nothing opened; `reason` says why. */
    SWALLOC_TARGET_REFUSED = 3,
};

enum swalloc_target_reason {
    SWALLOC_REASON_NONE = 0,
    SWALLOC_REASON_ERRNO = 1,          /* `error` holds the errno */
    SWALLOC_REASON_DESCRIPTOR_MOVED = 2, /* /dev/stdout etc. no longer the file it was at start-up, or closed */
    SWALLOC_REASON_FOREIGN_OWNER = 3,  /* a FIFO or device owned by another user */
    SWALLOC_REASON_IN_DEV = 4,         /* a path in /dev that is not a FIFO or device */
    SWALLOC_REASON_NOT_A_FILE = 5,     /* a directory or a socket */
};

struct swalloc_profile_target {
    int kind;
    int fd;
    int reason;
    int error;
};

/* Opens the way to `path`; `temporary` (SWALLOC_PATH_BYTES) receives the
   temporary file's path for SWALLOC_TARGET_RENAME. */
struct swalloc_profile_target swalloc_open_profile_target(const char *path, char *temporary)
    __attribute__((visibility("hidden")));

#pragma clang assume_nonnull end

#endif /* SWALLOC_PROFILE_TARGET_H */
