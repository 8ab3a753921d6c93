/* mprotect_pair: what one guarded block of the sampled guard costs the
   kernel at least. A pool of 256 slots of 6 pages (GuardPool's shape),
   each touched once; then 100,000 times: open a slot's first page
   (PROT_READ|PROT_WRITE), write it, close it (PROT_NONE), as a guarded
   allocation and its free do. Prints microseconds per pair, with every
   other slot left open as in a pool in use as well.
     cc -O2 interpose/bench/mprotect_pair.c -o mprotect_pair && ./mprotect_pair */
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(void) {
    enum { slots = 256, page = 4096, slot_bytes = 6 * page, rounds = 100000 };
    char *region = mmap(NULL, (size_t)slots * slot_bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region == MAP_FAILED) return 1;
    for (int i = 0; i < slots; i++) {
        mprotect(region + (size_t)i * slot_bytes, page, PROT_READ | PROT_WRITE);
        region[(size_t)i * slot_bytes] = 1;
        mprotect(region + (size_t)i * slot_bytes, page, PROT_NONE);
    }
    double start = now();
    for (int k = 0; k < rounds; k++) {
        char *slot = region + (size_t)(k % slots) * slot_bytes;
        mprotect(slot, page, PROT_READ | PROT_WRITE);
        slot[0]++;
        mprotect(slot, page, PROT_NONE);
    }
    printf("open + close, other slots closed: %.2f us\n", (now() - start) / rounds * 1e6);
    for (int i = 0; i < slots; i += 2) mprotect(region + (size_t)i * slot_bytes, page, PROT_READ | PROT_WRITE);
    start = now();
    for (int k = 0; k < rounds; k++) {
        char *slot = region + (size_t)((k % (slots / 2)) * 2 + 1) * slot_bytes;
        mprotect(slot, page, PROT_READ | PROT_WRITE);
        slot[0]++;
        mprotect(slot, page, PROT_NONE);
    }
    printf("open + close, every other slot open: %.2f us\n", (now() - start) / rounds * 1e6);
    return 0;
}
