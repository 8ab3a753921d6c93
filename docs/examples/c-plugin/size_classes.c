/*
 * size_classes.c — a Swalloc plug-in that knows its own blocks (swalloc.h,
 * versions 2 and 3): a size-class allocator in one reserved address range, so
 * that `owns` is a range check and a table lookup, `usable_size` the
 * block's class, and `free` takes no layout. The library then puts no
 * header in front of its blocks.
 *
 *   cc -O2 -fPIC -shared -I "$(dirname "$(swalloc lib)")/../include" \
 *      size_classes.c -o libsize_classes.so
 *   swalloc run --stats off --allocator ./libsize_classes.so -- ./prog
 *
 * Layout: a 32 GiB reservation (MAP_NORESERVE: address space, not memory;
 * valgrind refuses 64 GiB)
 * cut into 64 KiB slabs. A slab serves one size class (16-byte steps up to
 * 256, then powers of two up to 32 KiB), or starts a span of whole slabs
 * for one larger block. `slab_class[]` says which, per slab.
 * Each thread keeps a free list per class (no lock on the common path);
 * a list longer than 256 blocks gives half to the class's shared list, and
 * an empty one takes from it before a new slab is carved; a thread that
 * ends gives all it holds back. Spans of large blocks are kept in one
 * shared list after their pages were given back (MADV_DONTNEED).
 * Alignments above a slab get a span that starts at such an address.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/single_threaded.h>

#include "swalloc.h"

#define REGION_BYTES ((size_t)32 << 30)
#define SLAB_SHIFT 16
#define SLAB_BYTES ((size_t)1 << SLAB_SHIFT)
#define SLABS (REGION_BYTES >> SLAB_SHIFT)
#define SMALL_CLASSES 16 /* 16, 32, ... 256 */
#define CLASSES 23       /* then 512, 1 KiB, ... 32 KiB */
#define LARGE 0xFF       /* slab_class of a span's first slab */
#define CACHE_LIMIT 256

static unsigned char *region;
static _Atomic size_t slabs_used;                 /* the bump over the region */
static unsigned char slab_class[SLABS];           /* class + 1; 0: not handed out */
static uint32_t span_slabs[SLABS];                /* a span's length, at its first slab */

struct block { struct block *next; };
struct shared_list { pthread_mutex_t lock; struct block *head; };
static struct shared_list shared[CLASSES];
static struct shared_list shared_spans;           /* freed spans, their length at their first slab */

struct cache { struct block *head[CLASSES]; uint32_t count[CLASSES]; bool registered; };
static __thread struct cache cache __attribute__((tls_model("initial-exec")));
static pthread_key_t cache_key;

static size_t class_size(unsigned class) {
    return class < SMALL_CLASSES ? (size_t)(class + 1) * 16 : (size_t)256 << (class - SMALL_CLASSES + 1);
}

/* The class that holds `size` bytes at `align`, or -1 for a span. A
   power-of-two class is aligned to its size (slabs are 64 KiB-aligned). */
static int class_for(size_t size, size_t align) {
    if (align > 16 && size < align) size = align;
    if (size <= 256 && align <= 16) return size == 0 ? 0 : (int)((size - 1) >> 4);
    if (size <= 256) size = 256; /* aligned above 16: a power-of-two class */
    for (unsigned class = SMALL_CLASSES - 1; class < CLASSES; class++)
        if (size <= class_size(class)) return (int)class;
    return -1;
}

/* `count` fresh slabs starting at an address aligned to `align` (at least
   a slab), or NULL when the region is used up. Slabs skipped to align stay
   unused (their class 0: never anyone's). */
static unsigned char *new_slabs(size_t count, size_t align) {
    size_t first = atomic_load(&slabs_used), start;
    do {
        uintptr_t address = (uintptr_t)(region + (first << SLAB_SHIFT));
        uintptr_t aligned = (address + align - 1) & ~(uintptr_t)(align - 1);
        start = first + ((aligned - address) >> SLAB_SHIFT);
        if (start + count > SLABS) return NULL;
    } while (!atomic_compare_exchange_weak(&slabs_used, &first, start + count));
    return region + (start << SLAB_SHIFT);
}

static size_t slab_of(const void *ptr) { return (size_t)((const unsigned char *)ptr - region) >> SLAB_SHIFT; }

/* A thread's cache goes back to the shared lists when the thread ends. */
static void give_back(void *unused) {
    (void)unused;
    for (unsigned class = 0; class < CLASSES; class++) {
        while (cache.head[class]) {
            struct block *block = cache.head[class];
            cache.head[class] = block->next;
            pthread_mutex_lock(&shared[class].lock);
            block->next = shared[class].head;
            shared[class].head = block;
            pthread_mutex_unlock(&shared[class].lock);
        }
        cache.count[class] = 0;
    }
}

static void *refill(unsigned class) {
    if (!cache.registered) {
        /* Set first: pthread_setspecific callocs for a key past glibc's
           first 32, and that calloc, reaching this allocator, then does
           not come back here (the one call of the malloc family that
           SWALLOC_NEVER_REENTERS tolerates, since it cannot recurse). */
        cache.registered = true;
        pthread_setspecific(cache_key, &cache);
    }
    pthread_mutex_lock(&shared[class].lock);
    struct block *taken = shared[class].head;
    shared[class].head = NULL;
    pthread_mutex_unlock(&shared[class].lock);
    if (taken == NULL) {
        unsigned char *slab = new_slabs(1, SLAB_BYTES);
        if (slab == NULL) return NULL;
        slab_class[slab_of(slab)] = (unsigned char)(class + 1);
        size_t size = class_size(class);
        /* Every block of the slab but the first onto the thread's list, in
           address order. */
        size_t last = (SLAB_BYTES / size - 1) * size;
        for (size_t offset = last; offset >= size; offset -= size) {
            struct block *block = (struct block *)(slab + offset);
            block->next = taken;
            taken = block;
        }
        cache.head[class] = taken;
        cache.count[class] = (uint32_t)(SLAB_BYTES / size - 1);
        return slab;
    }
    cache.head[class] = taken->next;
    for (struct block *block = taken->next; block; block = block->next) cache.count[class]++;
    return taken;
}

static void *alloc_span(size_t size, size_t align) {
    size_t count = (size + SLAB_BYTES - 1) >> SLAB_SHIFT;
    if (count == 0) count = 1;
    pthread_mutex_lock(&shared_spans.lock);
    struct block **link = &shared_spans.head;
    while (*link && (span_slabs[slab_of(*link)] != count || ((uintptr_t)*link & (align - 1)) != 0))
        link = &(*link)->next;
    struct block *reused = *link;
    if (reused) *link = reused->next;
    pthread_mutex_unlock(&shared_spans.lock);
    unsigned char *span = reused ? (unsigned char *)reused : new_slabs(count, align < SLAB_BYTES ? SLAB_BYTES : align);
    if (span == NULL) return NULL;
    span_slabs[slab_of(span)] = (uint32_t)count;
    slab_class[slab_of(span)] = LARGE;
    return span;
}

static void *sc_alloc(void *context, size_t size, size_t align) {
    (void)context;
    if (align > REGION_BYTES / 64 || size > REGION_BYTES / 2) return NULL;
    int class = align > SLAB_BYTES ? -1 : class_for(size, align);
    if (class < 0) return alloc_span(size, align);
    struct block *block = cache.head[class];
    if (block == NULL) return refill((unsigned)class);
    cache.head[class] = block->next;
    cache.count[class]--;
    return block;
}

static void *sc_alloc_zeroed(void *context, size_t size, size_t align) {
    void *block = sc_alloc(context, size, align);
    if (block) memset(block, 0, size);
    return block;
}

static int sc_owns(void *context, const void *ptr) {
    (void)context;
    const unsigned char *p = ptr;
    if (p < region || p >= region + REGION_BYTES) return 0;
    return slab_class[slab_of(p)] != 0;
}

static size_t sc_usable_size(void *context, const void *ptr) {
    (void)context;
    size_t slab = slab_of(ptr);
    unsigned char class = slab_class[slab];
    return class == LARGE ? (size_t)span_slabs[slab] << SLAB_SHIFT : class_size(class - 1u);
}

/* The table's flags (swalloc.h, version 3): nothing here calls the malloc
   family, and `free` forwards what is not ours. The tests also build this
   file with -DSIZE_CLASSES_FLAGS=0, for the library's guarded path. */
#ifndef SIZE_CLASSES_FLAGS
#define SIZE_CLASSES_FLAGS (SWALLOC_NEVER_REENTERS | SWALLOC_FREES_FOREIGN)
#endif

/* An address that is not a block of ours, given to sc_free. */
static int not_ours(void *ptr) {
#if SIZE_CLASSES_FLAGS & SWALLOC_FREES_FOREIGN
    swalloc_free_foreign(ptr);
    return 1;
#else
    (void)ptr;
    return 0;
#endif
}

/* Frees a block of ours; any other address (NULL included) goes to
   not_ours. */
static int sc_free(void *context, void *ptr) {
    (void)context;
    const unsigned char *p = ptr;
    if (p < region || p >= region + REGION_BYTES) return not_ours(ptr);
    size_t slab = slab_of(ptr);
    unsigned char class = slab_class[slab];
    if (class == 0) return not_ours(ptr);
    if (class == LARGE) {
        /* The pages go back to the system; the addresses stay the span's. */
        size_t bytes = (size_t)span_slabs[slab] << SLAB_SHIFT;
        madvise(ptr, bytes, MADV_DONTNEED);
        pthread_mutex_lock(&shared_spans.lock);
        ((struct block *)ptr)->next = shared_spans.head;
        shared_spans.head = ptr;
        pthread_mutex_unlock(&shared_spans.lock);
        return 1;
    }
    unsigned index = class - 1u;
    struct block *block = ptr;
    block->next = cache.head[index];
    cache.head[index] = block;
    if (++cache.count[index] > CACHE_LIMIT) {
        /* Half of the list to the shared one. */
        struct block *kept = cache.head[index];
        for (unsigned step = 1; step < CACHE_LIMIT / 2; step++) kept = kept->next;
        struct block *moved = kept->next;
        kept->next = NULL;
        cache.count[index] = CACHE_LIMIT / 2;
        struct block *last = moved;
        while (last->next) last = last->next;
        pthread_mutex_lock(&shared[index].lock);
        last->next = shared[index].head;
        shared[index].head = moved;
        pthread_mutex_unlock(&shared[index].lock);
    }
    return 1;
}

/* fork: the shared lists' locks are held across it in a threaded process
   (another thread may hold one), never in a single-threaded one (a fork
   from a signal handler that interrupted this code would wait forever). */
static bool locked_for_fork;
static void before_fork(void) {
    if (__libc_single_threaded) return;
    for (unsigned class = 0; class < CLASSES; class++) pthread_mutex_lock(&shared[class].lock);
    pthread_mutex_lock(&shared_spans.lock);
    locked_for_fork = true;
}
static void after_fork(void) {
    if (!locked_for_fork) return;
    locked_for_fork = false;
    pthread_mutex_unlock(&shared_spans.lock);
    for (unsigned class = CLASSES; class-- > 0;) pthread_mutex_unlock(&shared[class].lock);
}

static void sc_dealloc(void *context, void *ptr, size_t size, size_t align) {
    (void)size, (void)align;
    (void)sc_free(context, ptr);
}

void swalloc_register(void) {
    /* One slab more, to start the region at a slab boundary: a class whose
       size is a power of two is then aligned to its size. */
    void *reserved = mmap(NULL, REGION_BYTES + SLAB_BYTES, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (reserved == MAP_FAILED) return; /* the library says no allocator was installed */
    region = (unsigned char *)(((uintptr_t)reserved + SLAB_BYTES - 1) & ~(uintptr_t)(SLAB_BYTES - 1));
    for (unsigned class = 0; class < CLASSES; class++) pthread_mutex_init(&shared[class].lock, NULL);
    pthread_mutex_init(&shared_spans.lock, NULL);
    pthread_key_create(&cache_key, give_back);
    pthread_atfork(before_fork, after_fork, after_fork);
    static const struct swalloc_global_allocator_v2 table = {
        .size = sizeof table,
        .base = {.alloc = sc_alloc, .dealloc = sc_dealloc, .alloc_zeroed = sc_alloc_zeroed, .name = "size_classes"},
        .owns = sc_owns,
        .usable_size = sc_usable_size,
        .free = sc_free,
        .flags = SIZE_CLASSES_FLAGS,
    };
    swalloc_set_global_allocator_v2(&table);
}
