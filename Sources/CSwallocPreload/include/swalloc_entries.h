/*
 * swalloc_entries.h — the bootstrap arena's storage and the serving mode's
 * malloc and free entries.
 * Part of the C half of the preload library; swalloc_preload.h includes
 * every part.
 */
#ifndef SWALLOC_ENTRIES_H
#define SWALLOC_ENTRIES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#pragma clang assume_nonnull begin

/* ---- the bootstrap arena's storage ---------------------------------------
 * In .bss: costs nothing until touched, and its address range is two
 * link-time constants, so recognising its pointers is two comparisons. */
#define SWALLOC_BOOTSTRAP_BYTES (1u << 20)
extern unsigned char swalloc_bootstrap_storage[SWALLOC_BOOTSTRAP_BYTES] __attribute__((visibility("hidden")));

static inline unsigned char *swalloc_bootstrap_base(void) {
    return swalloc_bootstrap_storage;
}
static inline bool swalloc_is_bootstrap(const void *_Nullable ptr) {
    return (uintptr_t)ptr - (uintptr_t)swalloc_bootstrap_storage < SWALLOC_BOOTSTRAP_BYTES;
}

/* The range direct mode's free hands to glibc without looking further:
   everything but the arena. In the other modes the range is set empty
   (limit 0), so that one compare sends every free down the mode's path. */
extern uintptr_t swalloc_slow_free_base __attribute__((visibility("hidden")));
extern uintptr_t swalloc_slow_free_size __attribute__((visibility("hidden")));
static inline bool swalloc_free_is_direct(const void *_Nullable ptr) {
    return (uintptr_t)ptr - swalloc_slow_free_base >= swalloc_slow_free_size;
}
/* The mode's malloc and free: set once by the constructor
   (ServingMode.installEntries), before the program's code runs; until then
   the general path, which serves the starting mode from the arena. The
   exported malloc and free are each one indirect jump: to glibc's malloc
   itself in direct mode (whose free entry applies the range check above),
   else to the mode's path. No compare of the mode, no second jump. */
extern void *_Nullable (*_Nonnull swalloc_malloc_entry)(size_t) __attribute__((visibility("hidden")));
extern void (*_Nonnull swalloc_free_entry)(void *_Nullable) __attribute__((visibility("hidden")));
/* Finds glibc's exit for the exported exit (exports.c): by the
   constructor, so that exit never calls dlsym. */
void swalloc_resolve_exit(void) __attribute__((visibility("hidden")));

static inline void swalloc_set_direct_free_range(bool direct) {
    swalloc_slow_free_base = direct ? (uintptr_t)swalloc_bootstrap_storage : 0;
    swalloc_slow_free_size = direct ? SWALLOC_BOOTSTRAP_BYTES : UINTPTR_MAX;
}

#pragma clang assume_nonnull end

#endif
