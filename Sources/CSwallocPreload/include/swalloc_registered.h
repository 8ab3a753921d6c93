/*
 * swalloc_registered.h — the registered global allocator's table, and the
 * allocator after the library in the lookup order.
 * Part of the C half of the preload library; swalloc_preload.h includes
 * every part.
 */
#ifndef SWALLOC_REGISTERED_H
#define SWALLOC_REGISTERED_H

#include <stdbool.h>
#include <stddef.h>
#include "swalloc.h"

#pragma clang assume_nonnull begin

/* ---- the registered global allocator ----------------------------------------
 * A copy of the table given to swalloc_set_global_allocator. */
extern struct swalloc_global_allocator swalloc_registered __attribute__((visibility("hidden")));
static inline struct swalloc_global_allocator *swalloc_registered_ptr(void) {
    return &swalloc_registered;
}
/* The table's alloc and dealloc, called without a null check: the registry
   accepts only a table with both (GlobalAllocatorRegistry.install). */
static inline void *_Nullable swalloc_registered_alloc(size_t size, size_t align) {
    return swalloc_registered.alloc(swalloc_registered.context, size, align);
}
static inline void swalloc_registered_dealloc(void *ptr, size_t size, size_t align) {
    swalloc_registered.dealloc(swalloc_registered.context, ptr, size, align);
}


/* The next malloc in the lookup order, when it is not glibc's (a linked
   jemalloc), as a global allocator's table (next_allocator.c); false when
   the next one is glibc's. Called once, by the constructor. */
bool swalloc_next_allocator(struct swalloc_global_allocator *table) __attribute__((visibility("hidden")));
/* Frees a block without a header through that allocator (one it handed to
   the program by a call of its own, like jemalloc's mallocx); false when
   the allocator is glibc's. */
bool swalloc_next_free(void *block) __attribute__((visibility("hidden")));
/* Resizes or measures such a block through that allocator (glibc's libc_malloc_debug.so
   hands out the chunks of a heap restored by malloc_set_state this way);
   `handled` false when the allocator is glibc's. */
size_t swalloc_next_usable_size(void *block, bool *handled) __attribute__((visibility("hidden")));
void *_Nullable swalloc_next_realloc(void *block, size_t size, bool *handled) __attribute__((visibility("hidden")));

/* jemalloc, mimalloc or tcmalloc (`name`) as a table through its own
   sized, aligned API, from Debian's library (established_allocators.c);
   false for any other name, and false with `problem` naming the library
   that would not load or the entry point it lacks. */
bool swalloc_established_allocator(const char *name, struct swalloc_global_allocator *table,
                                   const char *_Nullable *_Nonnull problem) __attribute__((visibility("hidden")));

#pragma clang assume_nonnull end

#endif
