/* guard_faults [stderr-to FILE] overflow|use-after-free|limit|fail|aligned|many-live|double-free
   — the bugs and limits the guard allocator, SWALLOC_LIMIT and SWALLOC_FAIL
   are for. Built -O0 so that the faulting accesses stay.
     stderr-to FILE  first puts FILE on fd 2 (stderr_to.h)
     aligned     4 threads allocate blocks aligned to 8 KiB, 64 KiB and 1 MiB,
                 fill them, free them in a random order (seed 1 + thread);
                 prints "aligned ok" (a false fault kills it)
     many-live   keeps 40,000 blocks of 24 bytes live, then writes one byte
                 past the last one
     double-free frees a block twice
     read-past   sums the 10 ints of malloc(40) and one more, past the end,
                 and prints the sum
     planted N   allocates N blocks of 100 bytes, writing one byte past the
                 end of every 100th, freeing each; prints "no overflow caught"
                 if it gets to the end
     strcpy-one  copies a 21-character string into malloc(21) (its NUL one
                 byte past the end), then frees the block
     underflow   writes one byte before malloc(64) ("in bounds ok" before it)
     many-family keeps 40,000 blocks live (past guard's mapping budget), then
                 checks malloc_usable_size, reallocs, callocs and frees them
                 ("family ok")
     recycle     20,000 malloc(100)/free pairs filled with 0xAB (past the
                 quarantine, so mappings are reused), then 100 calloc(1, 100)
                 checked zero ("calloc zeroed"), then a write one byte past a
                 malloc(128) ("recycled" before it) */
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stderr_to.h"

static void *aligned_worker(void *arg) {
    unsigned seed = (unsigned)(uintptr_t)arg;
    enum { live = 24 };
    char *blocks[live] = {0};
    size_t sizes[live] = {0};
    static const size_t alignments[] = {8192, 65536, 1 << 20};
    for (int round = 0; round < 400; round++) {
        int slot = rand_r(&seed) % live;
        if (blocks[slot]) {
            for (size_t i = 0; i < sizes[slot]; i += 512)
                if (blocks[slot][i] != (char)slot) { fprintf(stderr, "aligned: block changed\n"); exit(2); }
            free(blocks[slot]);
            blocks[slot] = NULL;
            continue;
        }
        size_t alignment = alignments[rand_r(&seed) % 3];
        size_t size = 1 + (size_t)(rand_r(&seed) % 20000);
        void *p = NULL;
        if (posix_memalign(&p, alignment, size) != 0 || ((uintptr_t)p & (alignment - 1)) != 0) {
            fprintf(stderr, "aligned: posix_memalign(%zu, %zu) failed\n", alignment, size);
            exit(2);
        }
        memset(p, slot, size);
        blocks[slot] = p;
        sizes[slot] = size;
    }
    for (int slot = 0; slot < live; slot++) free(blocks[slot]);
    return NULL;
}

int main(int argc, char **argv) {
    stderr_to_if_asked(&argc, &argv);
    const char *what = argc > 1 ? argv[1] : "";
    if (!strcmp(what, "overflow")) {
        char *p = malloc(128);
        memset(p, 1, 128); /* in bounds */
        puts("in bounds ok");
        fflush(stdout);
        p[128] = 1; /* one byte past the end */
        puts("overflow not caught");
    } else if (!strcmp(what, "use-after-free")) {
        char *p = malloc(64);
        free(p);
        puts("freed");
        fflush(stdout);
        p[3] = 1;
        puts("use after free not caught");
    } else if (!strcmp(what, "limit")) {
        int blocks = 0;
        while (malloc(1 << 20)) blocks++;
        printf("blocks=%d errno=%s\n", blocks, errno == ENOMEM ? "ENOMEM" : "other");
    } else if (!strcmp(what, "limit-realloc")) {
        /* Under SWALLOC_LIMIT=1M: a 600 KB block shrunk to 300 KB, then
           grown to 900 KB (live after: at most 1M either way), then a
           second block grown past the limit; the old block must stay. */
        char *a = malloc(600000);
        if (!a) return 2;
        memset(a, 'a', 600000);
        char *b = realloc(a, 300000);
        printf("shrink %s\n", b ? "ok" : "failed");
        if (b) a = b;
        b = realloc(a, 900000);
        printf("grow %s\n", b ? "ok" : "failed");
        if (b) a = b;
        char *c = malloc(100000);
        errno = 0;
        char *d = c ? realloc(c, 200000) : NULL;
        printf("past %s errno=%s kept=%s\n", d ? "ok" : "failed", errno == ENOMEM ? "ENOMEM" : "other",
               a[0] == 'a' && a[299999] == 'a' ? "yes" : "no");
        free(d ? d : c);
        free(a);
    } else if (!strcmp(what, "fail")) {
        int failed = 0;
        for (int i = 0; i < 1000; i++) {
            void *p = malloc(32);
            if (!p) failed++;
            free(p);
        }
        printf("failed=%d\n", failed);
    } else if (!strcmp(what, "fail-list")) {
        /* Which of 1,000 calls failed (1-based), one per line. */
        for (int i = 1; i <= 1000; i++) {
            void *p = malloc(32);
            if (!p) printf("%d\n", i);
            free(p);
        }
    } else if (!strcmp(what, "aligned")) {
        pthread_t threads[4];
        for (int i = 0; i < 4; i++) pthread_create(&threads[i], NULL, aligned_worker, (void *)(uintptr_t)(i + 1));
        for (int i = 0; i < 4; i++) pthread_join(threads[i], NULL);
        puts("aligned ok");
    } else if (!strcmp(what, "many-live")) {
        enum { count = 40000 };
        static char *blocks[count];
        for (int i = 0; i < count; i++) blocks[i] = malloc(24);
        puts("allocated");
        fflush(stdout);
        blocks[count - 1][24] = 1;
        puts("overflow not caught");
        fflush(stdout);
    } else if (!strcmp(what, "read-past")) {
        int *numbers = malloc(10 * sizeof(int));
        for (int i = 0; i < 10; i++) numbers[i] = i;
        puts("filled");
        fflush(stdout);
        int sum = 0;
        for (int i = 0; i <= 10; i++) sum += numbers[i]; /* one too many */
        printf("sum=%d\n", sum);
        free(numbers);
    } else if (!strcmp(what, "planted")) {
        long count = argc > 2 ? atol(argv[2]) : 100000;
        for (long i = 0; i < count; i++) {
            char *p = malloc(100);
            memset(p, 1, 100);
            if (i % 100 == 99) p[100] = 1; /* one byte too far */
            free(p);
        }
        puts("no overflow caught");
    } else if (!strcmp(what, "strcpy-one")) {
        char *p = malloc(21);
        strcpy(p, "twenty-one characters");
        puts("copied");
        fflush(stdout);
        free(p);
        puts("overflow not caught");
    } else if (!strcmp(what, "many-family")) {
        enum { count = 40000 };
        static char *blocks[count];
        for (int i = 0; i < count; i++) {
            size_t size = 24 + (size_t)(i % 100);
            blocks[i] = malloc(size);
            memset(blocks[i], 1, size);
        }
        for (int i = 0; i < count; i++) {
            if (malloc_usable_size(blocks[i]) < 24 + (size_t)(i % 100)) {
                printf("block %d: usable size %zu\n", i, malloc_usable_size(blocks[i]));
                return 2;
            }
        }
        for (int i = 0; i < count; i += 2) {
            size_t size = 200 + (size_t)(i % 50);
            blocks[i] = realloc(blocks[i], size);
            if (blocks[i][0] != 1) { printf("block %d: realloc lost its contents\n", i); return 2; }
            memset(blocks[i], 2, size);
        }
        for (int i = 0; i < count; i += 3) {
            free(blocks[i]);
            blocks[i] = calloc(1, 64);
            for (int j = 0; j < 64; j++) if (blocks[i][j]) { printf("block %d: calloc not zero\n", i); return 2; }
        }
        for (int i = 0; i < count; i++) free(blocks[i]);
        puts("family ok");
    } else if (!strcmp(what, "underflow")) {
        char *p = malloc(64);
        memset(p, 1, 64);
        puts("in bounds ok");
        fflush(stdout);
        p[-1] = 1; /* one byte before the start */
        puts("underflow not caught");
    } else if (!strcmp(what, "recycle")) {
        for (int i = 0; i < 20000; i++) {
            char *p = malloc(100);
            memset(p, 0xAB, 100);
            free(p);
        }
        char *zeroed[100];
        for (int i = 0; i < 100; i++) {
            zeroed[i] = calloc(1, 100);
            for (int j = 0; j < 100; j++)
                if (zeroed[i][j] != 0) { printf("calloc block %d byte %d not zero\n", i, j); return 2; }
        }
        for (int i = 0; i < 100; i++) free(zeroed[i]);
        puts("calloc zeroed");
        char *q = malloc(128);
        memset(q, 1, 128);
        puts("recycled");
        fflush(stdout);
        q[128] = 1;
        puts("overflow not caught");
    } else if (!strcmp(what, "double-free")) {
        /* 50 blocks first: under the sampled guard a thread's first
           allocations seed its schedule, and the block freed twice is then
           guarded with sample:1/1. */
        static void *volatile kept[50];
        for (int i = 0; i < 50; i++) kept[i] = malloc(100);
        char *p = malloc(48);
        free(p);
        puts("freed");
        fflush(stdout);
        free(p);
        puts("double free not caught");
    }
    return 0;
}
