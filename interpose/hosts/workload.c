/*
 * workload N LEAKS PEAK_MIB FAILS OFF_BY_ONE — allocation calls whose numbers are known
 * exactly, for checking the statistics:
 *   N × (malloc(100) + free)            N malloc, N free, 100·N bytes
 *   N × (calloc(10, 10) + free)         N calloc, N free, 100·N bytes
 *   N × (malloc(50), realloc to 200, free)
 *                                       N malloc, N realloc, N free,
 *                                       250·N bytes allocated and freed
 *   N × (posix_memalign(64, 256) + free) N aligned, N free, 256·N bytes
 *   LEAKS × malloc(1000), never freed
 *   PEAK_MIB × malloc(1 MiB), then all freed: the peak rises by PEAK_MIB MiB
 *   FAILS × (malloc(1 GiB); malloc(10), realloc to 1 GiB, free), the
 *   1 GiB requests expected to fail (run it under a memory limit):
 *                                       2·FAILS malloc, FAILS realloc,
 *                                       2·FAILS failed calls, FAILS × 10
 *                                       bytes; exits 2 if one succeeds
 *   OFF_BY_ONE × (malloc(23), 23 bytes and a terminating zero written,
 *   free): C's classic off-by-one (23 + 1 bytes fill glibc's 24 usable
 *   bytes exactly); OFF_BY_ONE malloc, free, 23·OFF_BY_ONE bytes
 * Prints nothing it allocated; its own buffers are on the stack.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *volatile sink;

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000;
    long leaks = argc > 2 ? atol(argv[2]) : 0;
    long peak = argc > 3 ? atol(argv[3]) : 0;
    long fails = argc > 4 ? atol(argv[4]) : 0;
    long off_by_one = argc > 5 ? atol(argv[5]) : 0;
    for (long i = 0; i < n; i++) { sink = malloc(100); free(sink); }
    for (long i = 0; i < n; i++) { sink = calloc(10, 10); free(sink); }
    for (long i = 0; i < n; i++) {
        char *p = malloc(50);
        p = realloc(p, 200);
        sink = p;
        free(p);
    }
    for (long i = 0; i < n; i++) {
        void *p = NULL;
        if (posix_memalign(&p, 64, 256) != 0) return 1;
        sink = p;
        free(p);
    }
    for (long i = 0; i < leaks; i++) { sink = malloc(1000); memset(sink, 1, 1000); }
    void *blocks[4096];
    if (peak > 4096) peak = 4096;
    for (long i = 0; i < peak; i++) { blocks[i] = malloc(1 << 20); memset(blocks[i], 2, 4096); }
    for (long i = 0; i < peak; i++) free(blocks[i]);
    for (long i = 0; i < fails; i++) {
        if ((sink = malloc(1 << 30)) != NULL) return 2;
        char *p = malloc(10);
        if (realloc(p, 1 << 30) != NULL) return 2;
        sink = p;
        free(p);
    }
    for (long i = 0; i < off_by_one; i++) {
        char *s = malloc(23);
        memset(s, 'x', 23);
        /* the bug on purpose: glibc's slack absorbs it */
        ((volatile char *)s)[23] = 0;
        sink = s;
        free(s);
    }
    return 0;
}
