/*
 * The allocator the program would have had without the library, when it
 * is not glibc's: one it links (redis-server links jemalloc) or one
 * preloaded after this library. `system` means that allocator for every
 * function, so that no block is ever handed to another allocator than the
 * one that made it; the library registers it as the global allocator
 * (header blocks, so the statistics work on any allocator), through this
 * table of the next definitions in the lookup order.
 */
#include "swalloc_preload.h"

static void *(*next_malloc)(size_t);
static void (*next_free)(void *);
static void *(*next_calloc)(size_t, size_t);
static void *(*next_realloc)(void *, size_t);
static void *(*next_memalign)(size_t, size_t);
static size_t (*next_usable_size)(void *);

/* The next allocator is glibc's debugging library, which calls the
   program's old hooks from inside its family (debug_hooks.c). */
static bool next_calls_back;
/* Set while this thread is inside a call to that library's family: a
   call that comes back to the library meanwhile is a hook's
   (swalloc_next_calls_back). */
static __thread bool in_next __attribute__((tls_model("initial-exec")));

/* A call into the next allocator (an expression; a void call as
   `(call, 0)`), the thread marked meanwhile when it may call back (only
   then: the mark costs a thread-local store and load around each call). */
#define NEXT_CALL(call)                                                  \
    ({                                                                   \
        __typeof__(call) result_;                                        \
        if (__builtin_expect(next_calls_back, 0)) {                      \
            bool outer_ = in_next;                                       \
            in_next = true;                                              \
            result_ = (call);                                            \
            in_next = outer_;                                            \
        } else {                                                         \
            result_ = (call);                                            \
        }                                                                \
        result_;                                                         \
    })

static void *next_alloc(void *context, size_t size, size_t align) {
    (void)context;
    return align <= 16 ? NEXT_CALL(next_malloc(size)) : NEXT_CALL(next_memalign(align, size));
}

static void next_dealloc(void *context, void *block, size_t size, size_t align) {
    (void)context, (void)size, (void)align;
    (void)NEXT_CALL((next_free(block), 0));
}

static void *next_alloc_zeroed(void *context, size_t size, size_t align) {
    if (align <= 16) return NEXT_CALL(next_calloc(1, size));
    void *block = next_alloc(context, size, align);
    if (block) memset(block, 0, size);
    return block;
}

static void *next_resize(void *context, void *block, size_t size, size_t align, size_t new_size) {
    if (align <= 16) return NEXT_CALL(next_realloc(block, new_size));
    void *moved = next_alloc(context, new_size, align);
    if (moved) {
        memcpy(moved, block, size < new_size ? size : new_size);
        (void)NEXT_CALL((next_free(block), 0));
    }
    return moved;
}

/* Set once the table was handed out: the library then registers it. */
static bool next_in_use;
bool swalloc_next_calls_back(void) { return next_calls_back && in_next; }
void *swalloc_next_alloc_raw(size_t size, size_t align, bool zeroed) {
    return zeroed ? next_alloc_zeroed(NULL, size, align) : next_alloc(NULL, size, align);
}

bool swalloc_next_free(void *block) {
    if (!next_in_use) return false;
    (void)NEXT_CALL((next_free(block), 0));
    return true;
}
size_t swalloc_next_usable_size(void *block, bool *handled) {
    *handled = next_in_use && next_usable_size != NULL;
    return *handled ? next_usable_size(block) : 0;
}
void *swalloc_next_realloc(void *block, size_t size, bool *handled) {
    *handled = next_in_use;
    return next_in_use ? NEXT_CALL(next_realloc(block, size)) : NULL;
}

/* The module's file name without its directory, for reports. */
static char next_name[64];

/* The next definition of `name`: the default version, or with `version`
   set, that version (glibc's libc_malloc_debug.so defines the family only
   as malloc@GLIBC_2.2.5, a version that is not the default, which dlsym
   does not see). */
static void *next_symbol(const char *name, const char *version) {
    return version ? dlvsym(RTLD_NEXT, name, version) : dlsym(RTLD_NEXT, name);
}

bool swalloc_next_allocator(struct swalloc_global_allocator *table) {
    const char *version = NULL;
    next_malloc = (void *(*)(size_t))next_symbol("malloc", NULL);
    if (next_malloc == __libc_malloc) {
        /* glibc's debugging library (MALLOC_CHECK_, mtrace), when it was
           preloaded after this one: its checks then see every block. */
        version = "GLIBC_2.2.5";
        next_malloc = (void *(*)(size_t))next_symbol("malloc", version);
    }
    if (next_malloc == NULL || next_malloc == __libc_malloc) return false;
    next_free = (void (*)(void *))next_symbol("free", version);
    next_calloc = (void *(*)(size_t, size_t))next_symbol("calloc", version);
    next_realloc = (void *(*)(void *, size_t))next_symbol("realloc", version);
    next_memalign = (void *(*)(size_t, size_t))next_symbol("memalign", version);
    /* Optional: without it such a block's usable size is unknown (0). */
    next_usable_size = (size_t (*)(void *))next_symbol("malloc_usable_size", version);
    if (next_memalign == NULL) next_memalign = (void *(*)(size_t, size_t))next_symbol("aligned_alloc", version);
    /* All from one allocator, or none: mixing two is what this prevents
       (an allocator without memalign would have glibc's free its aligned
       blocks). */
    if (!next_free || !next_calloc || !next_realloc || !next_memalign || next_free == __libc_free) return false;
    Dl_info info;
    void *module = dladdr((void *)next_malloc, &info) ? info.dli_fbase : NULL;
    void *functions[] = {(void *)next_free, (void *)next_calloc, (void *)next_realloc, (void *)next_memalign};
    for (size_t index = 0; index < sizeof functions / sizeof functions[0]; index++) {
        Dl_info other;
        if (!module || !dladdr(functions[index], &other) || other.dli_fbase != module) return false;
    }
    const char *name = "the program's allocator";
    if (dladdr((void *)next_malloc, &info) && info.dli_fname && info.dli_fname[0]) {
        const char *slash = strrchr(info.dli_fname, '/');
        name = slash ? slash + 1 : info.dli_fname;
    }
    strncpy(next_name, name, sizeof next_name - 1);
    next_calls_back = version != NULL;
    next_in_use = true;
    *table = (struct swalloc_global_allocator){
        .context = NULL,
        .alloc = next_alloc,
        .dealloc = next_dealloc,
        .alloc_zeroed = next_alloc_zeroed,
        .realloc = next_resize,
        .name = next_name,
    };
    return true;
}
