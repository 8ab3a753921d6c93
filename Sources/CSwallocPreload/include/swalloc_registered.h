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
/* The version 2 entries of an allocator that knows its own blocks; set (all
   three) only when the header-free path serves (ServingMode.headerFree). */
struct swalloc_own_blocks {
    int (*_Nullable owns)(void *_Nullable context, const void *_Nullable ptr);
    size_t (*_Nullable usable_size)(void *_Nullable context, const void *_Nullable ptr);
    int (*_Nullable free)(void *_Nullable context, void *_Nullable ptr);
};
extern struct swalloc_own_blocks swalloc_registered_own __attribute__((visibility("hidden")));
static inline struct swalloc_own_blocks *swalloc_registered_own_ptr(void) { return &swalloc_registered_own; }
/* Called without null checks: the mode is chosen only with all three. */
static inline bool swalloc_registered_owns(const void *ptr) {
    return swalloc_registered_own.owns(swalloc_registered.context, ptr) != 0;
}
static inline size_t swalloc_registered_usable_size(const void *ptr) {
    return swalloc_registered_own.usable_size(swalloc_registered.context, ptr);
}
/* Frees `ptr` if it is the allocator's; false (nothing done) otherwise. */
static inline bool swalloc_registered_free_own(void *ptr) {
    return swalloc_registered_own.free(swalloc_registered.context, ptr) != 0;
}

/* The allocator's free, for one that frees or forwards every address
   (SWALLOC_FREES_FOREIGN): a tail call, its answer ignored. */
static inline void swalloc_registered_free_forwarding(void *_Nullable ptr) {
    (void)swalloc_registered_own.free(swalloc_registered.context, ptr);
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
   the next one is glibc's. From then on its blocks without a header go
   back to it (swalloc_next_free and the two below), whichever allocator
   the library registers. Called once, by the constructor. */
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
/* Whether this thread is inside a call to the next allocator that may
   call back: glibc's debugging library, which calls a program's malloc
   hook from inside its family. A call that comes back from there is
   served by that library as it is, without a header: the block returned
   to it is then one its free takes (HeaderBlocks.allocate). */
bool swalloc_next_calls_back(void) __attribute__((visibility("hidden")));
void *_Nullable swalloc_next_alloc_raw(size_t size, size_t align, bool zeroed) __attribute__((visibility("hidden")));

/* The allocator's own malloc family, for ServingMode.establishedDirect
   (established_allocators.c): filled with the table below, all NULL until
   then. `memalign` takes glibc's argument order; `usable_size` is
   malloc_usable_size's. */
struct swalloc_direct_family {
    void *_Nullable (*_Nullable malloc)(size_t);
    void (*_Nullable free)(void *_Nullable);
    void *_Nullable (*_Nullable calloc)(size_t, size_t);
    void *_Nullable (*_Nullable realloc)(void *_Nullable, size_t);
    void *_Nullable (*_Nullable memalign)(size_t, size_t);
    size_t (*_Nullable usable_size)(void *_Nullable);
    /* Bytes the allocator holds for the program now, for mallinfo2 without
       statistics: tcmalloc's and jemalloc's allocated bytes, mimalloc's
       committed memory (it counts no live bytes in a release build). */
    size_t (*_Nullable allocated)(void);
};
extern struct swalloc_direct_family swalloc_direct_family __attribute__((visibility("hidden")));
/* Whether the direct family can serve: no allocator but glibc's and the
   chosen one defines malloc after this library. One the program links
   (redis-server's jemalloc, under SWALLOC_ALLOCATOR=mimalloc) may hand out
   blocks through entry points of its own (mallocx), which only the
   general path, asking the chosen allocator first, gives back to it. */
bool swalloc_direct_family_is_safe(void) __attribute__((visibility("hidden")));

/* jemalloc, mimalloc or tcmalloc (`name`) as a table through its own
   sized, aligned API, from Debian's library (established_allocators.c),
   with the version 2 entries where the library offers them (mimalloc,
   tcmalloc; jemalloc has no ownership test);
   false for any other name, and false with `problem` naming the library
   that would not load or the entry point it lacks. */
bool swalloc_established_allocator(const char *name, struct swalloc_global_allocator_v2 *table,
                                   const char *_Nullable *_Nonnull problem) __attribute__((visibility("hidden")));

#pragma clang assume_nonnull end

#endif
