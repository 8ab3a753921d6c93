/*
 * layout_check — a Swalloc plug-in in C.
 *
 * Build:  cc -O2 -fPIC -shared -I dist/include layout_check.c -o liblayout_check.so
 * Use:    SWALLOC_ALLOCATOR=$PWD/liblayout_check.so swalloc run -- ./program
 *
 * It hands out memory from glibc (its own calls to posix_memalign and free
 * are the library's re-entrant calls: they reach glibc, not this plug-in)
 * and checks the library's side of the GlobalAlloc contract: every dealloc
 * and realloc brings back exactly the size and alignment the block was
 * allocated with, and only blocks this allocator handed out. It keeps every
 * live block in a hash table (mapped memory, never malloc) under a spin
 * lock, and prints its tally on stderr at exit:
 *
 *   layout_check: allocs=… deallocs=… reallocs=… mismatches=0 foreign=0
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdbool.h>
#include <sys/single_threaded.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "swalloc.h"

#define TABLE_BITS 22
#define TABLE_SIZE (1ul << TABLE_BITS)

struct entry {
    void *ptr;
    size_t size;
    size_t align;
};

static struct entry *table;
static int table_lock;
static unsigned long allocs, deallocs, reallocs, mismatches, foreign, live;
/* Blocks not tracked because the table was three quarters full: past that,
   probing slows down and a full table would make insert loop forever. */
static unsigned long untracked;

static void lock(void) {
    while (__atomic_exchange_n(&table_lock, 1, __ATOMIC_ACQUIRE)) __builtin_ia32_pause();
}
static void unlock(void) { __atomic_store_n(&table_lock, 0, __ATOMIC_RELEASE); }

static size_t slot_of(const void *ptr) {
    return (size_t)(((uintptr_t)ptr >> 4) * 0x9E3779B97F4A7C15ull >> (64 - TABLE_BITS));
}

/* Called with the lock held. */
static void insert(void *ptr, size_t size, size_t align) {
    if (live >= TABLE_SIZE / 4 * 3) {
        untracked++;
        return;
    }
    size_t i = slot_of(ptr);
    while (table[i].ptr) i = (i + 1) & (TABLE_SIZE - 1);
    table[i] = (struct entry){ptr, size, align};
    live++;
}

/* Removes ptr and checks its layout; called with the lock held. */
static void check_and_remove(void *ptr, size_t size, size_t align) {
    size_t i = slot_of(ptr);
    while (table[i].ptr && table[i].ptr != ptr) i = (i + 1) & (TABLE_SIZE - 1);
    if (!table[i].ptr) {
        /* Not in the table: one of the untracked blocks, if any are left
           (they cannot be told apart), else not this allocator's. */
        if (untracked > 0) untracked--;
        else foreign++;
        return;
    }
    if (table[i].size != size || table[i].align != align) mismatches++;
    /* Backward-shift deletion keeps every probe sequence unbroken. */
    size_t hole = i, j = i;
    for (;;) {
        j = (j + 1) & (TABLE_SIZE - 1);
        if (!table[j].ptr) break;
        size_t home = slot_of(table[j].ptr);
        int between = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (between) continue;
        table[hole] = table[j];
        hole = j;
    }
    table[hole].ptr = NULL;
    live--;
}

static void *check_alloc(void *context, size_t size, size_t align) {
    (void)context;
    void *block = NULL;
    if (posix_memalign(&block, align < sizeof(void *) ? sizeof(void *) : align, size) != 0) return NULL;
    lock();
    allocs++;
    insert(block, size, align);
    unlock();
    return block;
}

static void check_dealloc(void *context, void *ptr, size_t size, size_t align) {
    (void)context;
    lock();
    deallocs++;
    check_and_remove(ptr, size, align);
    unlock();
    free(ptr);
}

static void *check_realloc(void *context, void *ptr, size_t size, size_t align, size_t new_size) {
    void *block = check_alloc(context, new_size, align);
    if (!block) return NULL;
    memcpy(block, ptr, size < new_size ? size : new_size);
    lock();
    reallocs++;
    unlock();
    check_dealloc(context, ptr, size, align);
    return block;
}

static void report(void) {
    fprintf(stderr, "layout_check: allocs=%lu deallocs=%lu reallocs=%lu mismatches=%lu foreign=%lu live=%lu untracked=%lu\n",
            allocs, deallocs, reallocs, mismatches, foreign, live, untracked);
}

/* Fork safety, as glibc's own allocator does it (docs/fork-and-signals.md):
   in a threaded process the lock is held across fork, so that no other
   thread is inside the table when the child is made; in a single-threaded
   one it is not taken, since only a signal handler that interrupted this
   thread inside the table could hold it, and waiting would never end. */
static bool locked_for_fork;
static void before_fork(void) {
    locked_for_fork = !__libc_single_threaded;
    if (locked_for_fork) lock();
}
static void after_fork(void) {
    if (locked_for_fork) unlock();
}

void swalloc_register(void) {
    table = mmap(NULL, TABLE_SIZE * sizeof(struct entry), PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (table == MAP_FAILED) return; /* the library then says so and uses system */
    static const struct swalloc_global_allocator allocator = {
        .context = NULL,
        .alloc = check_alloc,
        .dealloc = check_dealloc,
        .alloc_zeroed = NULL, /* the library zeroes */
        .realloc = check_realloc,
        .name = "layout_check",
    };
    if (swalloc_set_global_allocator(&allocator) == 0) {
        pthread_atfork(before_fork, after_fork, after_fork);
        atexit(report);
    }
}
