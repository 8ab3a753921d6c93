/*
 * swalloc_debug_hooks.h — glibc's compatibility hooks (__malloc_hook,
 * __free_hook, __realloc_hook, __memalign_hook) when a registered
 * allocator serves the program and libc_malloc_debug.so is loaded.
 * Part of the C half of the preload library; swalloc_preload.h includes
 * every part. Why and how: debug_hooks.c.
 */
#ifndef SWALLOC_DEBUG_HOOKS_H
#define SWALLOC_DEBUG_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

#pragma clang assume_nonnull begin

/* Set once by swalloc_debug_hooks_install: the exported calloc, realloc
   and aligned functions then ask the hooks first (malloc and free do
   through their entries). */
extern bool swalloc_debug_hooks_on __attribute__((visibility("hidden")));

/* With libc_malloc_debug.so loaded and its hooks found: wraps the serving
   mode's malloc and free entries (installed already) and turns the hooks
   on. Returns whether it did. The constructor, once. */
bool swalloc_debug_hooks_install(void) __attribute__((visibility("hidden")));

/* The exported functions' hooked forms (swalloc_debug_hooks_on set).
   `caller` is the program's return address, which the hooks receive. */
void *_Nullable swalloc_hooked_calloc(size_t count, size_t size, const void *_Nullable caller)
    __attribute__((visibility("hidden")));
void *_Nullable swalloc_hooked_realloc(void *_Nullable ptr, size_t size, const void *_Nullable caller)
    __attribute__((visibility("hidden")));
void *_Nullable swalloc_hooked_reallocarray(void *_Nullable ptr, size_t count, size_t size,
                                           const void *_Nullable caller) __attribute__((visibility("hidden")));
void *_Nullable swalloc_hooked_memalign(size_t alignment, size_t size, const void *_Nullable caller)
    __attribute__((visibility("hidden")));
int swalloc_hooked_posix_memalign(void *_Nullable *_Nonnull result, size_t alignment, size_t size,
                                  const void *_Nullable caller) __attribute__((visibility("hidden")));
void *_Nullable swalloc_hooked_valloc(size_t size, bool round_up, const void *_Nullable caller)
    __attribute__((visibility("hidden")));

/* In a forked child (fork.c): a set-up claimed by a thread that the
   child does not have is given up. */
void swalloc_debug_hooks_after_fork_in_child(void) __attribute__((visibility("hidden")));

/* The usable size of the one block the debug library's set-up served
   from glibc's allocator (debug_hooks.c): true and `size` set for that
   block, false for any other. */
bool swalloc_hooked_usable_size(void *_Nullable ptr, size_t *size) __attribute__((visibility("hidden")));

#pragma clang assume_nonnull end

#endif
