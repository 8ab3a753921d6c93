/*
 * footprint SIZE COUNT — allocates COUNT blocks of SIZE bytes in a row and
 * prints the most common distance between consecutive blocks: the size of
 * the glibc chunk each request took (what the library adds to a block shows
 * up here, whatever malloc_usable_size says).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    size_t size = argc > 1 ? strtoul(argv[1], NULL, 10) : 24;
    long count = argc > 2 ? atol(argv[2]) : 1000;
    if (count < 2 || count > 100000) return 2;
    uintptr_t *blocks = calloc((size_t)count, sizeof *blocks);
    for (long i = 0; i < count; i++) blocks[i] = (uintptr_t)malloc(size);
    /* The mode of the distances (a few blocks may come from elsewhere). */
    long best = 0, best_votes = 0;
    for (long i = 1; i < count; i++) {
        long d = (long)(blocks[i] - blocks[i - 1]), votes = 0;
        for (long j = 1; j < count; j++) votes += (long)(blocks[j] - blocks[j - 1]) == d;
        if (votes > best_votes) { best = d; best_votes = votes; }
    }
    printf("%ld\n", best);
    for (long i = 0; i < count; i++) free((void *)blocks[i]);
    free(blocks);
    return 0;
}
