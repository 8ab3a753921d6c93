/* trivial_plugin — the cheapest possible plug-in, for measuring what the
   library adds around a plugged-in allocator: it forwards to glibc's own
   entry points (not malloc, which would re-enter the library). */
#include <stddef.h>
#include "swalloc.h"

void *__libc_malloc(size_t);
void *__libc_memalign(size_t, size_t);
void __libc_free(void *);

static void *trivial_alloc(void *context, size_t size, size_t align) {
    (void)context;
    return align <= 16 ? __libc_malloc(size) : __libc_memalign(align, size);
}

static void trivial_dealloc(void *context, void *ptr, size_t size, size_t align) {
    (void)context, (void)size, (void)align;
    __libc_free(ptr);
}

static const struct swalloc_global_allocator trivial = {
    .alloc = trivial_alloc, .dealloc = trivial_dealloc, .name = "trivial",
};

void swalloc_register(void) { swalloc_set_global_allocator(&trivial); }
