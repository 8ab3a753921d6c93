/*
 * swalloc_live_file.h — the system calls behind the live profile file
 * (Live/LiveProfile.swift; the layout is swalloc_live.h's). Each keeps
 * errno, makes no allocation, and is async-signal-safe (the fork child's
 * runs in a fork handler, perhaps inside a signal handler).
 * Part of the C half of the preload library; swalloc_preload.h includes
 * every part.
 */
#ifndef SWALLOC_LIVE_FILE_H
#define SWALLOC_LIVE_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "swalloc_live.h"

#pragma clang assume_nonnull begin

/* Which file a path named when it was made: a later open by path must find
   the same one (another may have been put in its place). */
struct swalloc_live_identity {
    uint64_t device;
    uint64_t inode;
};

/* Makes `path` (mode 0600, never through a symlink; a regular file of this
   user's left there by an earlier program of the same pid is replaced),
   `bytes` long with its first `allocated` bytes given disk blocks, and maps
   it shared. NULL on any failure, with nothing left behind. */
void *_Nullable swalloc_live_create(const char *path, size_t bytes, size_t allocated,
                                    struct swalloc_live_identity *identity) __attribute__((visibility("hidden")));

/* Gives [offset, offset + length) of the file disk blocks (posix_fallocate),
   so that writing those pages through the mapping can never fail with
   SIGBUS on a full disk. false when it cannot, or the path no longer names
   the file. */
bool swalloc_live_allocate(const char *path, const struct swalloc_live_identity *identity,
                           size_t offset, size_t length) __attribute__((visibility("hidden")));

/* Copies [0, bytes) of `mapping`'s ranges into a new file at `path`
   (as swalloc_live_create) and maps that file shared in its place, at the
   same address. The ranges are `count` (offset, length) pairs. false, with
   the mapping untouched, on failure. */
bool swalloc_live_move(void *mapping, size_t bytes, const char *path, const uint64_t *ranges, size_t count,
                       size_t allocated, struct swalloc_live_identity *identity) __attribute__((visibility("hidden")));

/* Replaces the shared mapping with a private copy-on-write mapping of the
   same file (a forked child: its writes must not reach its parent's
   file); false when the file cannot be opened. */
bool swalloc_live_privatize(void *mapping, size_t bytes, const char *path) __attribute__((visibility("hidden")));

/* Replaces the mapping with private anonymous memory holding the same
   ranges (the fallback of the two above); false if even that fails. */
bool swalloc_live_detach(void *mapping, size_t bytes, const uint64_t *ranges, size_t count) __attribute__((visibility("hidden")));

/* CLOCK_REALTIME in nanoseconds. */
uint64_t swalloc_unix_nanoseconds(void) __attribute__((visibility("hidden")));

#pragma clang assume_nonnull end

#endif
