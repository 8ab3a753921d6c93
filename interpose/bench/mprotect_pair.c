/* mprotect_pair: what one guarded block of the sampled guard costs the
   kernel at least. A pool of 256 slots of 6 pages (GuardPool's shape: 5
   data pages, then a guard page), each touched once; then, many times:
   open a page of a slot, write it, close it, as a guarded allocation and
   its free do. Prints microseconds per open + close for:
     1. the slot's first page, the other slots closed (the pool's case);
     2. the same with every other slot open (a pool in use);
     3. the slot's last page cut out of the pool's one mapping (a split and
        a merge in each call);
     4. the slot's last page as a mapping of its own that never merges
        (marked MADV_DONTDUMP, its guard page MADV_NOHUGEPAGE);
     5. Linux 6.13's guard markers (MADV_GUARD_REMOVE, MADV_GUARD_INSTALL)
        instead of mprotect, where the kernel has them.
     cc -O2 interpose/bench/mprotect_pair.c -o mprotect_pair && ./mprotect_pair */
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#define MADV_GUARD_REMOVE 103
#endif

enum { slots = 256, page = 4096, data_pages = 5, slot_bytes = 6 * page, rounds = 100000 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* A fresh pool, every slot's `offset` page touched once and closed. */
static char *pool(size_t offset) {
    char *region = mmap(NULL, (size_t)slots * slot_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) return NULL;
    for (int i = 0; i < slots; i++) {
        char *p = region + (size_t)i * slot_bytes + offset;
        mprotect(p, page, PROT_READ | PROT_WRITE);
        p[0] = 1;
        mprotect(p, page, PROT_NONE);
    }
    return region;
}

/* Microseconds per open + write + close of the page at `offset` in slots
   chosen by `stride` (1: every slot, 2: every other). */
static double cycle(char *region, size_t offset, int stride, int first) {
    double start = now();
    for (int k = 0; k < rounds; k++) {
        char *p = region + (size_t)((k % (slots / stride)) * stride + first) * slot_bytes + offset;
        mprotect(p, page, PROT_READ | PROT_WRITE);
        p[0]++;
        mprotect(p, page, PROT_NONE);
    }
    return (now() - start) / rounds * 1e6;
}

int main(void) {
    const size_t last = (size_t)(data_pages - 1) * page;
    char *region = pool(0);
    if (region == NULL) return 1;
    printf("open + close, other slots closed: %.2f us\n", cycle(region, 0, 1, 0));
    for (int i = 0; i < slots; i += 2) mprotect(region + (size_t)i * slot_bytes, page, PROT_READ | PROT_WRITE);
    printf("open + close, every other slot open: %.2f us\n", cycle(region, 0, 2, 1));
    munmap(region, (size_t)slots * slot_bytes);

    region = pool(last);
    printf("last page, cut out of one mapping: %.2f us\n", cycle(region, last, 1, 0));
    for (int i = 0; i < slots; i++) {
        char *p = region + (size_t)i * slot_bytes + last;
        madvise(p, page, MADV_DONTDUMP);
        madvise(p + page, page, MADV_NOHUGEPAGE);
    }
    printf("last page, a mapping of its own: %.2f us\n", cycle(region, last, 1, 0));
    munmap(region, (size_t)slots * slot_bytes);

    region = mmap(NULL, (size_t)slots * slot_bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED || madvise(region, (size_t)slots * slot_bytes, MADV_GUARD_INSTALL) != 0) {
        puts("guard markers: not supported by this kernel");
        return 0;
    }
    double start = now();
    for (int k = 0; k < rounds; k++) {
        char *p = region + (size_t)(k % slots) * slot_bytes + last;
        madvise(p, page, MADV_GUARD_REMOVE);
        p[0]++;
        madvise(p, page, MADV_GUARD_INSTALL);
    }
    printf("guard markers (remove + install): %.2f us\n", (now() - start) / rounds * 1e6);
    return 0;
}
