/*
 * The symbols libswalloc.so exports (interpose/exports.map), with default
 * visibility, as glibc's own malloc family has.
 *
 * Why in C: Swift gives its public symbols protected visibility, and a
 * protected malloc family made glibc 2.36's loader print "warning: direct
 * reference to protected function `free' ... may break pointer equality" on
 * stderr for every non-PIE executable that takes the address of free (gcc's
 * cc1, for one), and so changed what the program printed. Each function
 * here is one jump: malloc and free through the mode's entry, the others to
 * their Swift implementation (Exports/MallocFamily.swift, PublicAPI.swift).
 */
#include "swalloc_preload.h"
#include "swalloc.h"

#define SWALLOC_EXPORT __attribute__((visibility("default")))
#define SWALLOC_IMPL __attribute__((visibility("hidden")))

SWALLOC_IMPL void *swalloc_calloc(size_t count, size_t size);
SWALLOC_IMPL void *swalloc_realloc(void *ptr, size_t size);
SWALLOC_IMPL void *swalloc_reallocarray(void *ptr, size_t count, size_t size);
SWALLOC_IMPL int swalloc_posix_memalign(void **result, size_t alignment, size_t size);
SWALLOC_IMPL void *swalloc_aligned_alloc(size_t alignment, size_t size);
SWALLOC_IMPL void *swalloc_memalign(size_t alignment, size_t size);
SWALLOC_IMPL void *swalloc_valloc(size_t size);
SWALLOC_IMPL void *swalloc_pvalloc(size_t size);
SWALLOC_IMPL size_t swalloc_malloc_usable_size(void *ptr);
SWALLOC_IMPL int swalloc_set_global_allocator_impl(const struct swalloc_global_allocator *allocator);

SWALLOC_EXPORT void *malloc(size_t size) { return swalloc_malloc_entry(size); }
SWALLOC_EXPORT void free(void *ptr) { swalloc_free_entry(ptr); }
/* glibc's compatibility cfree and C23's sized frees are free itself. */
SWALLOC_EXPORT void cfree(void *ptr) { swalloc_free_entry(ptr); }
SWALLOC_EXPORT void free_sized(void *ptr, size_t size) { (void)size; swalloc_free_entry(ptr); }
SWALLOC_EXPORT void free_aligned_sized(void *ptr, size_t alignment, size_t size) {
    (void)alignment, (void)size;
    swalloc_free_entry(ptr);
}
SWALLOC_EXPORT void *calloc(size_t count, size_t size) { return swalloc_calloc(count, size); }
SWALLOC_EXPORT void *realloc(void *ptr, size_t size) { return swalloc_realloc(ptr, size); }
SWALLOC_EXPORT void *reallocarray(void *ptr, size_t count, size_t size) {
    return swalloc_reallocarray(ptr, count, size);
}
SWALLOC_EXPORT int posix_memalign(void **result, size_t alignment, size_t size) {
    return swalloc_posix_memalign(result, alignment, size);
}
SWALLOC_EXPORT void *aligned_alloc(size_t alignment, size_t size) { return swalloc_aligned_alloc(alignment, size); }
SWALLOC_EXPORT void *memalign(size_t alignment, size_t size) { return swalloc_memalign(alignment, size); }
SWALLOC_EXPORT void *valloc(size_t size) { return swalloc_valloc(size); }
SWALLOC_EXPORT void *pvalloc(size_t size) { return swalloc_pvalloc(size); }
SWALLOC_EXPORT size_t malloc_usable_size(void *ptr) { return swalloc_malloc_usable_size(ptr); }
SWALLOC_EXPORT int swalloc_set_global_allocator(const struct swalloc_global_allocator *allocator) {
    return swalloc_set_global_allocator_impl(allocator);
}
