/*
 * swalloc_unwinder_probe.h — libunwind's address test without a descriptor
 * (unwinder_probe.c). Part of the C half of the preload library;
 * swalloc_preload.h includes every part.
 */
#ifndef SWALLOC_UNWINDER_PROBE_H
#define SWALLOC_UNWINDER_PROBE_H

#include <stdbool.h>

#pragma clang assume_nonnull begin

/* Points the calls of libunwind's address test (pipe2, read, write, close,
   syscall, in libunwind's own relocations) at a test that holds no
   descriptor; `handle` is libunwind's, from dlopen, before its first
   backtrace. False when the relocations are not as expected or the test
   cannot tell a readable page from an inaccessible one here: libunwind then
   opens its pipe, which pipe2 (exports.c) moves high. */
bool swalloc_unwinder_probe_install(void *_Nullable handle) __attribute__((visibility("hidden")));

#pragma clang assume_nonnull end

#endif
