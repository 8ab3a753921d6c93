/* How far apart consecutive 16-byte blocks are, and what
 * malloc_usable_size says of them: 0 bytes per block added by the library
 * means a size-class allocator's 16-byte blocks sit 16 bytes apart.
 * Prints "spacing N usable M": N the most frequent distance between
 * consecutive blocks of 200 (the smallest on a tie), M the usable size of
 * the last. */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    enum { count = 200 };
    static char *blocks[count];
    for (int i = 0; i < count; i++) blocks[i] = malloc(16);
    long best = 0, best_votes = 0;
    for (int i = 1; i < count; i++) {
        long distance = (long)(blocks[i] - blocks[i - 1]);
        int votes = 0;
        for (int j = 1; j < count; j++) votes += (long)(blocks[j] - blocks[j - 1]) == distance;
        if (votes > best_votes || (votes == best_votes && distance < best)) {
            best = distance;
            best_votes = votes;
        }
    }
    printf("spacing %ld usable %zu\n", best, malloc_usable_size(blocks[count - 1]));
    for (int i = 0; i < count; i++) free(blocks[i]);
    return 0;
}
