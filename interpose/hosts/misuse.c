/* misuse [stderr-to FILE] MODE — a program's allocation errors, which must end as they do
 * under glibc alone (its own message and abort), never inside the library:
 *   double_large   frees a 100 KB block twice
 *   double_first   a new thread frees its first block twice
 *   double_small   frees a small block twice while its neighbour lives,
 *                  then allocates: if the second free went through, the
 *                  neighbour may be overwritten (prints "neighbour intact")
 *   double_moved   frees a block that realloc already moved (and freed)
 *   usable_freed   asks malloc_usable_size of a freed 100 KB block, then
 *                  prints "usable asked" and exits 0
 *   corrupt_header overwrites the alignment byte of a 100 KB block's header
 *                  (a buffer underflow), then frees it: the checked build
 *                  stops at its invariant
 *   overflow_one   writes one byte past a 10-byte block and frees it:
 *                  glibc's MALLOC_CHECK_=3 (libc_malloc_debug.so) aborts
 *   rejected       four calls glibc refuses before allocating: an
 *                  overflowing reallocarray, posix_memalign and memalign
 *                  with bad alignments, pvalloc(SIZE_MAX); prints the
 *                  errors, which must be glibc's: "12 22 22 12" */
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stderr_to.h"

static void *volatile sink;

static void *first_block_twice(void *unused) {
    (void)unused;
    sink = malloc(40);
    free(sink);
    free(sink);
    return NULL;
}

int main(int argc, char **argv) {
    stderr_to_if_asked(&argc, &argv);
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "double_large") == 0) {
        sink = malloc(100000);
        sink = malloc(100000); /* not the top chunk: freed into a bin */
        void *keep = malloc(100);
        free(sink);
        free(sink);
        free(keep);
    } else if (strcmp(mode, "double_first") == 0) {
        pthread_t thread;
        pthread_create(&thread, NULL, first_block_twice, NULL);
        pthread_join(thread, NULL);
    } else if (strcmp(mode, "double_small") == 0) {
        char *neighbour = malloc(64);
        memset(neighbour, 'n', 64);
        sink = malloc(64);
        free(sink);
        free(sink);
        for (int i = 0; i < 100000; i++) {
            char *fresh = malloc(64);
            memset(fresh, 'x', 64);
            sink = fresh;
        }
        for (int i = 0; i < 64; i++) if (neighbour[i] != 'n') return 3;
        printf("neighbour intact\n");
    } else if (strcmp(mode, "double_moved") == 0) {
        char *first = malloc(24);
        void *keep = malloc(24); /* first cannot grow in place */
        sink = keep;
        void *moved = realloc(first, 100000);
        sink = moved;
        if (moved == first) return 2;
        free(first);
        free(keep);
    } else if (strcmp(mode, "usable_freed") == 0) {
        sink = malloc(100000);
        void *keep = malloc(100);
        free(sink);
        size_t usable = malloc_usable_size(sink);
        (void)usable;
        printf("usable asked\n");
        free(keep);
    } else if (strcmp(mode, "corrupt_header") == 0) {
        sink = malloc(100000);
        unsigned char *volatile block = sink;
        block[-4] = 0xFF; /* the tag's alignment byte (docs/architecture.md) */
        free(sink);
    } else if (strcmp(mode, "overflow_one") == 0) {
        sink = malloc(10);
        unsigned char *volatile block = sink;
        for (int i = 0; i <= 10; i++) block[i] = 1;
        free(sink);
    } else if (strcmp(mode, "rejected") == 0) {
        int errors[4];
        errno = 0;
        sink = reallocarray(NULL, SIZE_MAX / 2, 4);
        errors[0] = errno;
        void *block = NULL;
        errors[1] = posix_memalign(&block, 3, 10);
        errno = 0;
        sink = memalign(SIZE_MAX / 2 + 2, 10);
        errors[2] = errno;
        errno = 0;
        sink = pvalloc(SIZE_MAX);
        errors[3] = errno;
        printf("%d %d %d %d\n", errors[0], errors[1], errors[2], errors[3]);
    } else {
        return 64;
    }
    return 0;
}
