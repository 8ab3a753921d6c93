/*
 * swalloc.h — the C ABI of libswalloc.so.
 *
 * A global allocator is a table of functions with GlobalAlloc's contract
 * (Rust's std::alloc::GlobalAlloc):
 *   - `size` is never 0 and `align` is a power of two;
 *   - `dealloc` and `realloc` receive exactly the size and alignment the
 *     block was allocated with;
 *   - a block returned by `alloc_zeroed` is zeroed;
 *   - every function may be called from any thread at any time.
 * The library frames each block itself (see docs/architecture.md), so the
 * sizes an allocator sees include a small header; the library keeps its
 * promises to the host (malloc_usable_size, realloc contents, the alignment
 * of memalign and friends) whatever the allocator does.
 */
#ifndef SWALLOC_H
#define SWALLOC_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

struct swalloc_global_allocator {
    void *context;
    /* NULL on failure. */
    void *(*alloc)(void *context, size_t size, size_t align);
    void  (*dealloc)(void *context, void *ptr, size_t size, size_t align);
    /* May be NULL: the library then calls alloc and zeroes the block. */
    void *(*alloc_zeroed)(void *context, size_t size, size_t align);
    /* May be NULL: the library then calls alloc, copies and deallocs.
       On failure returns NULL and leaves the old block untouched. */
    void *(*realloc)(void *context, void *ptr, size_t size, size_t align,
                     size_t new_size);
    /* Shown in reports; the library copies the pointer, not the string. */
    const char *name;
};

/* Installs the process's global allocator. Returns 0, or -1 (and a swalloc:
   line on stderr) when called too late: after the first allocation has been
   handed to another one. The table is copied; `context` must stay valid. */
int swalloc_set_global_allocator(const struct swalloc_global_allocator *allocator);

/*
 * Version 2: an allocator that knows its own blocks (a size-class
 * allocator's page map, mimalloc's mi_usable_size and mi_free). With all
 * three entries below, the library frames nothing: its blocks carry no
 * header (0 bytes per block) and free reaches the allocator through `owns`
 * and `free`, without a layout. That path serves while no statistics, limit
 * or fault injection need a block's requested size (SWALLOC_STATS=off);
 * otherwise blocks get the version 1 header and `dealloc` its layout, as
 * for an allocator that leaves the three NULL.
 *   - owns: nonzero when `ptr` is a live block it handed out. Called with
 *     every pointer given to free, realloc and malloc_usable_size, also
 *     ones it never saw (glibc's, the library's own): it answers for any
 *     address without faulting, and does not allocate.
 *   - usable_size: the bytes the program may use at a block it owns (at
 *     least the size asked for).
 *   - free: frees `ptr` and returns nonzero when it is a live block of its
 *     own; returns 0, and does nothing, for any other address (the library
 *     then frees it where it came from). One call answers and frees, which
 *     is all `free` costs on top of the allocator.
 */
struct swalloc_global_allocator_v2 {
    /* sizeof(struct swalloc_global_allocator_v2) as the caller was built:
       later versions append entries, and the library reads no further. */
    size_t size;
    struct swalloc_global_allocator base;
    int (*owns)(void *context, const void *ptr);
    size_t (*usable_size)(void *context, const void *ptr);
    int (*free)(void *context, void *ptr);
    /* Version 3: SWALLOC_* flags below (0 in an older table, whose `size`
       ends before this entry). They count only with the three entries. */
    unsigned long flags;
};

/* None of the table's entries calls the malloc family, directly or through
   anything that may (stdio, dlopen, thread creation, a Swift runtime): the
   library then calls malloc's and free's entries without its reentrancy
   guard (a thread-local flag set and cleared around each call), which
   saves about a third of what the library adds, and the library's own
   malloc calls reach the allocator too (except while a fork runs). Breaking
   the promise recurses until the stack overflows. */
#define SWALLOC_NEVER_REENTERS 1UL
/* `free` hands every address that is not a live block of its own (NULL
   included) to swalloc_free_foreign, and returns nonzero for all. With
   SWALLOC_NEVER_REENTERS the library's free is then one jump into it. */
#define SWALLOC_FREES_FOREIGN 2UL

/* Frees a block the allocator did not hand out (the library's bootstrap
   arena's, glibc's, one from before the allocator was chosen), or does
   nothing for NULL: for a SWALLOC_FREES_FOREIGN allocator's `free`. It
   keeps errno. */
void swalloc_free_foreign(void *ptr);

/* As swalloc_set_global_allocator, with the version 2 entries. */
int swalloc_set_global_allocator_v2(const struct swalloc_global_allocator_v2 *allocator);

/* Exported by a plug-in or by the main program; the library calls it once at
   start-up, before the program's first allocation that it serves. */
void swalloc_register(void);

#ifdef __cplusplus
}
#endif

#endif /* SWALLOC_H */
