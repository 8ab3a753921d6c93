/*
 * The established allocators as built-ins: SWALLOC_ALLOCATOR=jemalloc,
 * mimalloc or tcmalloc, from Debian's libjemalloc2, libmimalloc2.0 and
 * libtcmalloc-minimal4, each through its own sized and aligned API, so
 * that `swalloc compare --allocator system --allocator jemalloc …` answers
 * which one suits a program. The library is loaded with RTLD_LOCAL: its
 * own malloc and free stay out of the process's lookup (the process keeps
 * calling ours), and the table below calls its entry points directly.
 *
 * Every function keeps errno across a free (free keeps errno) and returns
 * NULL with the old block intact when a resize fails, as swalloc.h asks.
 */
#include "swalloc_preload.h"

/* jemalloc: mallocx, sdallocx, rallocx with MALLOCX_LG_ALIGN flags. */
static void *(*je_mallocx)(size_t, int);
static void (*je_sdallocx)(void *, size_t, int);
static void *(*je_rallocx)(void *, size_t, int);
#define JE_ZERO 0x40

/* log2 of a power-of-two alignment, as jemalloc's flags want it; 0 (no
   flag) up to 16, which malloc's alignment already gives. */
static int je_flags(size_t align) { return align <= 16 ? 0 : __builtin_ctzl(align); }

/* jemalloc's own malloc (of this copy, not the process's): its fast path,
   which mallocx (flags or not) does not take in 5.3. */
static void *(*je_malloc)(size_t);

static void *je_alloc(void *context, size_t size, size_t align) {
    (void)context;
    return align <= 16 ? je_malloc(size) : je_mallocx(size, je_flags(align));
}
static void *je_alloc_zeroed(void *context, size_t size, size_t align) {
    (void)context;
    return je_mallocx(size, je_flags(align) | JE_ZERO);
}
static void je_dealloc(void *context, void *block, size_t size, size_t align) {
    (void)context;
    int saved = errno;
    je_sdallocx(block, size, je_flags(align));
    errno = saved;
}
static void *je_resize(void *context, void *block, size_t size, size_t align, size_t new_size) {
    (void)context, (void)size;
    return je_rallocx(block, new_size, je_flags(align));
}

/* mimalloc: the _aligned family, and a sized free. */
static void *(*mi_malloc_aligned_fn)(size_t, size_t);
static void *(*mi_zalloc_aligned_fn)(size_t, size_t);
static void (*mi_free_size_aligned_fn)(void *, size_t, size_t);
static void *(*mi_realloc_aligned_fn)(void *, size_t, size_t);

/* Debian's mimalloc 2.0.9 returns a misaligned block for some requests
   (mi_malloc_aligned(1024, 256) gives an address 128 past a 256 boundary;
   contract.c found it): such a block goes back and the request is made
   again with a larger alignment, which holds for the smaller one too.
   mi_free frees a block whatever alignment it was asked with. */
static void *mi_aligned(void *(*allocate)(size_t, size_t), size_t size, size_t align) {
    for (size_t asked = align; asked != 0 && asked <= (align << 6); asked <<= 1) {
        void *block = allocate(size, asked);
        if (block == NULL || ((uintptr_t)block & (align - 1)) == 0) return block;
        mi_free_size_aligned_fn(block, size, asked);
    }
    return NULL;
}
static void *(*mi_malloc_fn)(size_t);
static void (*mi_free_fn)(void *);
static bool (*mi_is_in_heap_region_fn)(const void *);
static size_t (*mi_usable_size_fn)(const void *);

/* Version 2: mimalloc knows its blocks (its segment map). */
static int mi_owns(void *context, const void *block) {
    (void)context;
    return mi_is_in_heap_region_fn(block);
}
static size_t mi_usable(void *context, const void *block) {
    (void)context;
    return mi_usable_size_fn(block);
}
static int mi_free_own(void *context, void *block) {
    (void)context;
    if (!mi_is_in_heap_region_fn(block)) return 0;
    int saved = errno;
    mi_free_fn(block);
    errno = saved;
    return 1;
}

/* mimalloc and tcmalloc keep blocks below 16 bytes in an 8-byte size class,
   8-aligned: a request for 16-byte alignment asks for 16 bytes at least. */
static size_t at_least_aligned(size_t size, size_t align) { return size < align ? align : size; }

static void *mi_alloc(void *context, size_t size, size_t align) {
    (void)context;
    return align <= 16 ? mi_malloc_fn(at_least_aligned(size, align)) : mi_aligned(mi_malloc_aligned_fn, size, align);
}
static void *mi_alloc_zeroed(void *context, size_t size, size_t align) {
    (void)context;
    return mi_aligned(mi_zalloc_aligned_fn, size, align);
}
static void mi_dealloc(void *context, void *block, size_t size, size_t align) {
    (void)context, (void)size, (void)align;
    int saved = errno;
    /* mi_free_size_aligned only checks its arguments in debug builds. */
    mi_free_fn(block);
    errno = saved;
}
static void *mi_resize(void *context, void *block, size_t size, size_t align, size_t new_size) {
    if (align <= 16) return mi_realloc_aligned_fn(block, new_size, align);
    /* Larger alignments move by hand, through the check above. */
    void *moved = mi_alloc(context, new_size, align);
    if (moved) {
        memcpy(moved, block, size < new_size ? size : new_size);
        mi_dealloc(context, block, size, align);
    }
    return moved;
}

/* tcmalloc (minimal): tc_memalign for alignments above 16, tc_free. */
static void *(*tc_malloc_fn)(size_t);
static void *(*tc_calloc_fn)(size_t, size_t);
static void *(*tc_memalign_fn)(size_t, size_t);
static void *(*tc_realloc_fn)(void *, size_t);

static void *tc_alloc(void *context, size_t size, size_t align) {
    (void)context;
    return align <= 16 ? tc_malloc_fn(at_least_aligned(size, align)) : tc_memalign_fn(align, size);
}
static void *tc_alloc_zeroed(void *context, size_t size, size_t align) {
    if (align <= 16) return tc_calloc_fn(1, at_least_aligned(size, align));
    void *block = tc_alloc(context, size, align);
    if (block) memset(block, 0, size);
    return block;
}
static void (*tc_free_fn)(void *);

static void tc_dealloc(void *context, void *block, size_t size, size_t align) {
    (void)context;
    int saved = errno;
    (void)size, (void)align;
    /* Unsized: tcmalloc picks the size class from a sized free's size, and
       the size the header knows is not always the class the block is in (a
       tc_memalign block sits in a larger one; a tc_realloc that shrinks in
       place keeps the old one). */
    tc_free_fn(block);
    errno = saved;
}
/* Version 2: tcmalloc knows its blocks (its page map). */
static int (*tc_ownership_fn)(const void *); /* MallocExtension_Ownership: 1 owned */
static size_t (*tc_malloc_size_fn)(void *);
static int tc_owns(void *context, const void *block) {
    (void)context;
    return tc_ownership_fn(block) == 1;
}
static size_t tc_usable(void *context, const void *block) {
    (void)context;
    return tc_malloc_size_fn((void *)block);
}
static int tc_free_own(void *context, void *block) {
    (void)context;
    if (tc_ownership_fn(block) != 1) return 0;
    int saved = errno;
    tc_free_fn(block);
    errno = saved;
    return 1;
}

static void *tc_resize(void *context, void *block, size_t size, size_t align, size_t new_size) {
    /* tc_realloc keeps 16 bytes of alignment only: larger ones move by hand. */
    if (align <= 16) return tc_realloc_fn(block, at_least_aligned(new_size, align));
    void *moved = tc_alloc(context, new_size, align);
    if (moved) {
        memcpy(moved, block, size < new_size ? size : new_size);
        tc_dealloc(context, block, size, align);
    }
    return moved;
}

/* ---- the direct family (ServingMode.establishedDirect) ---------------------
 * With statistics off and no limit, the library serves the family straight
 * from the allocator's own functions, as direct mode serves glibc: its
 * exported malloc jumps to the allocator's malloc, its free checks the
 * bootstrap arena's range and jumps to the allocator's free. No header, no
 * ownership test: every block outside the arena is the allocator's (the
 * library's own blocks are glibc's and go back to glibc by its own calls,
 * and libraries loaded with RTLD_DEEPBIND lose the flag, exports.c).
 * glibc's semantics hold where the allocators differ alone:
 *   - the three keep an 8-byte class, 8-aligned, where glibc's blocks are
 *     all 16-aligned: a request of at most 8 bytes asks for 9 (their next
 *     class is 16, and every larger class is a multiple of 16). The
 *     wrappers below do only that, and tail-call the allocator; malloc's
 *     tests the size with a branch, not a select, so that the common
 *     request pays a compare and a jump;
 *   - mimalloc leaves errno alone when malloc fails (malloc(SIZE_MAX)):
 *     its error hook sets ENOMEM; calloc, realloc and the aligned family
 *     of all three, off the hot path, set ENOMEM themselves when they
 *     return NULL (mimalloc's and tcmalloc's calloc overflow, jemalloc's
 *     realloc to a huge size left errno 0).
 * Their free keeps errno (glibc's tst-free-errno passes with each
 * preloaded alone). */
struct swalloc_direct_family swalloc_direct_family;

/* NULL with errno ENOMEM, as glibc fails. */
static void *enomem_unless(void *block) {
    if (block == NULL) errno = ENOMEM;
    return block;
}

/* A request of 8 bytes or fewer asks for 9 (see above). */
static size_t floored(size_t size) { return size <= 8 ? 9 : size; }

/* 9, through an empty asm that the compiler cannot move ahead of the test,
   so that the test stays a branch (clang turns the plain form into a
   select: three instructions for every size, where the branch costs the
   common size two). */
static inline size_t direct_smallest(void) {
    size_t size = 9;
    __asm__("" : "+r"(size));
    return size;
}

/* The chosen allocator's malloc, calloc and realloc, behind the three
   wrappers below (one allocator serves a process). */
static struct {
    void *(*malloc)(size_t);
    void *(*calloc)(size_t, size_t);
    void *(*realloc)(void *, size_t);
} chosen;

/* The family's malloc: the floor, then a tail call. */
static void *direct_malloc(size_t size) {
    if (__builtin_expect(size <= 8, 0)) size = direct_smallest();
    return chosen.malloc(size);
}
/* calloc and realloc, floored, with glibc's ENOMEM (an overflowing product
   fails before the allocator sees it). */
static void *direct_calloc(size_t count, size_t size) {
    size_t total;
    if (__builtin_mul_overflow(count, size, &total)) return enomem_unless(NULL);
    return enomem_unless(total <= 8 ? chosen.calloc(1, floored(total)) : chosen.calloc(count, size));
}
static void *direct_realloc(void *block, size_t size) {
    return enomem_unless(chosen.realloc(block, floored(size)));
}

/* The direct family of the allocator whose functions these are: its malloc,
   calloc and realloc behind the wrappers above, the rest its own (or
   wrappers of its own, for memalign and usable_size). */
static void choose_family(void *(*malloc_fn)(size_t), void *(*calloc_fn)(size_t, size_t),
                          void *(*realloc_fn)(void *, size_t), void (*free_fn)(void *),
                          void *(*memalign_fn)(size_t, size_t), size_t (*usable_fn)(void *),
                          size_t (*allocated_fn)(void)) {
    chosen.malloc = malloc_fn;
    chosen.calloc = calloc_fn;
    chosen.realloc = realloc_fn;
    swalloc_direct_family = (struct swalloc_direct_family){direct_malloc, free_fn, direct_calloc, direct_realloc,
                                                           memalign_fn, usable_fn, allocated_fn};
}

static void *(*mi_calloc_fn)(size_t, size_t);
static void *(*mi_realloc_fn)(void *, size_t);
static void mi_set_errno(int error, void *argument) {
    (void)argument;
    if (error == ENOMEM || error == EOVERFLOW) errno = ENOMEM;
}
static void *mi_direct_memalign(size_t align, size_t size) {
    return enomem_unless(align <= 16 ? mi_malloc_fn(at_least_aligned(size, align))
                                     : mi_aligned(mi_malloc_aligned_fn, size, align));
}
static size_t mi_direct_usable(void *block) { return mi_usable_size_fn(block); }
static void (*mi_process_info_fn)(size_t *, size_t *, size_t *, size_t *, size_t *, size_t *, size_t *, size_t *);
static size_t mi_allocated(void) {
    size_t elapsed, user, system, rss, peak_rss, commit = 0, peak_commit, faults;
    mi_process_info_fn(&elapsed, &user, &system, &rss, &peak_rss, &commit, &peak_commit, &faults);
    return commit;
}

static int (*tc_numeric_property_fn)(const char *, size_t *);
static size_t tc_allocated(void) {
    size_t bytes = 0;
    tc_numeric_property_fn("generic.current_allocated_bytes", &bytes);
    return bytes;
}
static void *tc_direct_memalign(size_t align, size_t size) {
    return enomem_unless(align <= 16 ? tc_malloc_fn(at_least_aligned(size, align)) : tc_memalign_fn(align, size));
}

static void (*je_free)(void *);
static void *(*je_calloc)(size_t, size_t);
static void *(*je_realloc)(void *, size_t);
static size_t (*je_usable_size)(void *);
static int (*je_mallctl)(const char *, void *, size_t *, void *, size_t);
static size_t je_allocated(void) {
    /* The statistics are a snapshot, refreshed by writing the epoch. */
    uint64_t epoch = 1;
    size_t length = sizeof epoch;
    je_mallctl("epoch", &epoch, &length, &epoch, length);
    size_t bytes = 0;
    length = sizeof bytes;
    je_mallctl("stats.allocated", &bytes, &length, NULL, 0);
    return bytes;
}
static void *je_direct_memalign(size_t align, size_t size) {
    if (align <= 16) return enomem_unless(je_malloc(at_least_aligned(size, align)));
    return enomem_unless(je_mallocx(size == 0 ? 1 : size, je_flags(align)));
}

bool swalloc_direct_family_is_safe(void) {
    void *next = dlsym(RTLD_NEXT, "malloc");
    return next == NULL || next == (void *)__libc_malloc || (je_malloc != NULL && next == (void *)je_malloc);
}

/* Looks up `name` in `handle`; false (and the name in `missing`) if absent. */
static bool find(void *handle, const char *name, void **slot, const char **missing) {
    *slot = dlsym(handle, name);
    if (*slot == NULL && *missing == NULL) *missing = name;
    return *slot != NULL;
}

bool swalloc_established_allocator(const char *name, struct swalloc_global_allocator_v2 *table,
                                   const char **problem) {
    *table = (struct swalloc_global_allocator_v2){.size = sizeof *table};
    const char *library;
    if (strcmp(name, "jemalloc") == 0) library = "libjemalloc.so.2";
    else if (strcmp(name, "mimalloc") == 0) library = "libmimalloc.so.2";
    else if (strcmp(name, "tcmalloc") == 0) library = "libtcmalloc_minimal.so.4";
    else return false;
    /* jemalloc's initial-exec TLS cannot be dlopened into a running
       process ("cannot allocate memory in static TLS block"): it must be
       loaded at start-up, in LD_PRELOAD after this library (swalloc run
       and compare put it there), and is then found already loaded. */
    void *handle = dlopen(library, RTLD_NOW | RTLD_NOLOAD);
    if (handle == NULL) handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *reason = dlerror();
        *problem = reason ? reason : library;
        return false;
    }
    const char *missing = NULL;
    if (name[0] == 'j') {
        find(handle, "malloc", (void **)&je_malloc, &missing);
        find(handle, "mallocx", (void **)&je_mallocx, &missing);
        find(handle, "sdallocx", (void **)&je_sdallocx, &missing);
        find(handle, "rallocx", (void **)&je_rallocx, &missing);
        find(handle, "free", (void **)&je_free, &missing);
        find(handle, "calloc", (void **)&je_calloc, &missing);
        find(handle, "realloc", (void **)&je_realloc, &missing);
        find(handle, "malloc_usable_size", (void **)&je_usable_size, &missing);
        find(handle, "mallctl", (void **)&je_mallctl, &missing);
        choose_family(je_malloc, je_calloc, je_realloc, je_free, je_direct_memalign, je_usable_size, je_allocated);
        table->base = (struct swalloc_global_allocator){NULL, je_alloc, je_dealloc, je_alloc_zeroed, je_resize, "jemalloc"};
    } else if (name[0] == 'm') {
        find(handle, "mi_malloc", (void **)&mi_malloc_fn, &missing);
        find(handle, "mi_free", (void **)&mi_free_fn, &missing);
        find(handle, "mi_malloc_aligned", (void **)&mi_malloc_aligned_fn, &missing);
        find(handle, "mi_zalloc_aligned", (void **)&mi_zalloc_aligned_fn, &missing);
        find(handle, "mi_free_size_aligned", (void **)&mi_free_size_aligned_fn, &missing);
        find(handle, "mi_realloc_aligned", (void **)&mi_realloc_aligned_fn, &missing);
        find(handle, "mi_is_in_heap_region", (void **)&mi_is_in_heap_region_fn, &missing);
        find(handle, "mi_usable_size", (void **)&mi_usable_size_fn, &missing);
        find(handle, "mi_calloc", (void **)&mi_calloc_fn, &missing);
        find(handle, "mi_realloc", (void **)&mi_realloc_fn, &missing);
        void (*register_error)(void (*)(int, void *), void *) = NULL;
        find(handle, "mi_register_error", (void **)&register_error, &missing);
        if (register_error) register_error(mi_set_errno, NULL);
        find(handle, "mi_process_info", (void **)&mi_process_info_fn, &missing);
        choose_family(mi_malloc_fn, mi_calloc_fn, mi_realloc_fn, mi_free_fn, mi_direct_memalign, mi_direct_usable, mi_allocated);
        table->base = (struct swalloc_global_allocator){NULL, mi_alloc, mi_dealloc, mi_alloc_zeroed, mi_resize, "mimalloc"};
        table->owns = mi_owns;
        table->usable_size = mi_usable;
        table->free = mi_free_own;
    } else {
        find(handle, "tc_malloc", (void **)&tc_malloc_fn, &missing);
        find(handle, "tc_calloc", (void **)&tc_calloc_fn, &missing);
        find(handle, "tc_memalign", (void **)&tc_memalign_fn, &missing);
        find(handle, "tc_free", (void **)&tc_free_fn, &missing);
        find(handle, "tc_realloc", (void **)&tc_realloc_fn, &missing);
        find(handle, "MallocExtension_GetOwnership", (void **)&tc_ownership_fn, &missing);
        find(handle, "tc_malloc_size", (void **)&tc_malloc_size_fn, &missing);
        find(handle, "MallocExtension_GetNumericProperty", (void **)&tc_numeric_property_fn, &missing);
        choose_family(tc_malloc_fn, tc_calloc_fn, tc_realloc_fn, tc_free_fn, tc_direct_memalign, tc_malloc_size_fn, tc_allocated);
        table->base = (struct swalloc_global_allocator){NULL, tc_alloc, tc_dealloc, tc_alloc_zeroed, tc_resize, "tcmalloc"};
        table->owns = tc_owns;
        table->usable_size = tc_usable;
        table->free = tc_free_own;
    }
    if (missing != NULL) {
        *problem = missing; /* the entry point it lacks */
        swalloc_direct_family = (struct swalloc_direct_family){0};
        dlclose(handle);
        return false;
    }
    /* The library stays loaded for the life of the process. */
    return true;
}
