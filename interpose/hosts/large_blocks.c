/*
 * large_blocks ROUNDS — large blocks (256 KiB to about 3 MiB) allocated,
 * filled, checked and freed in turn, as a program that builds a string by
 * copies does (jq's join), and grown and shrunk with realloc; every byte
 * is checked after each move; then a dozen freed at once, and as many
 * again from calloc, checked to be zero. Sizes come from a fixed seed. Prints
 *   ok
 *   mappings N   (lines of /proc/self/maps at the end)
 *   faults N     (minor page faults over the rounds)
 * or the first damaged block, exit 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static unsigned long long state = 42;
static size_t next_size(void) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (256u << 10) + (size_t)(state >> 33) % (3u << 20);
}

/* Every 512th byte, and the last, from `seed`: what a move must keep. */
static void fill(unsigned char *block, size_t size, unsigned char seed) {
    for (size_t i = 0; i < size; i += 512) block[i] = (unsigned char)(seed + i / 512);
    block[size - 1] = (unsigned char)(seed + (size - 1) / 512);
}

/* Whether the first `size` bytes of `block` hold what fill(seed) wrote
   there (for a block filled at least that long). */
static int intact(const unsigned char *block, size_t size, size_t filled, unsigned char seed) {
    for (size_t i = 0; i < size; i += 512)
        if (block[i] != (unsigned char)(seed + i / 512)) return 0;
    return size < filled || block[size - 1] == (unsigned char)(seed + (size - 1) / 512);
}

static long minor_faults(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_minflt;
}

int main(int argc, char **argv) {
    long rounds = argc > 1 ? atol(argv[1]) : 2000;
    long faults = minor_faults();
    /* A string grown by copies: a new block a little larger, the old one's
       bytes copied over, the old one freed. */
    size_t size = 256u << 10;
    unsigned char seed = 1;
    unsigned char *text = malloc(size);
    if (text == NULL) return 2;
    fill(text, size, seed);
    for (long round = 0; round < rounds; round++) {
        size_t grown = size + 4096 + (size_t)(round % 7) * 100;
        if (grown > (3u << 20)) grown = 256u << 10;
        size_t kept = size < grown ? size : grown;
        unsigned char *copy = malloc(grown);
        if (copy == NULL) return 2;
        memcpy(copy, text, kept);
        free(text);
        if (!intact(copy, kept, size, seed)) {
            printf("copy %ld damaged\n", round);
            return 1;
        }
        text = copy;
        size = grown;
        fill(text, size, ++seed);
        /* Now and then a block of another size in between, and a realloc
           that grows or shrinks the string, in place or by moving it. */
        if (round % 5 == 0) {
            size_t other = next_size();
            unsigned char *between = malloc(other);
            if (between == NULL) return 2;
            fill(between, other, 7);
            if (!intact(between, other, other, 7)) return 1;
            free(between);
        }
        if (round % 3 == 0) {
            size_t resized = next_size();
            unsigned char *moved = realloc(text, resized);
            if (moved == NULL) return 2;
            if (!intact(moved, size < resized ? size : resized, size, seed)) {
                printf("realloc %ld damaged\n", round);
                return 1;
            }
            text = moved;
            size = resized;
            fill(text, size, ++seed);
        }
        if (!intact(text, size, size, seed)) {
            printf("block %ld damaged\n", round);
            return 1;
        }
    }
    free(text);
    /* Many freed at once, more than a cache of freed mappings would keep
       (12 blocks of 3 MiB and more), then as many again from calloc,
       which must read as zeros over the pages just freed. */
    enum { batch = 12 };
    unsigned char *blocks[batch];
    for (int i = 0; i < batch; i++) {
        size_t bytes = (3u << 20) + (size_t)i * 8192 + 100;
        blocks[i] = malloc(bytes);
        if (blocks[i] == NULL) return 2;
        fill(blocks[i], bytes, (unsigned char)(50 + i));
    }
    for (int i = 0; i < batch; i++) {
        size_t bytes = (3u << 20) + (size_t)i * 8192 + 100;
        if (!intact(blocks[i], bytes, bytes, (unsigned char)(50 + i))) {
            printf("batch block %d damaged\n", i);
            return 1;
        }
        free(blocks[i]);
    }
    for (int i = 0; i < batch; i++) {
        size_t bytes = (2u << 20) + (size_t)(batch - i) * 12288 + 7;
        blocks[i] = calloc(1, bytes);
        if (blocks[i] == NULL) return 2;
        for (size_t k = 0; k < bytes; k += 64)
            if (blocks[i][k] != 0 || blocks[i][bytes - 1] != 0) {
                printf("calloc block %d not zero at %zu\n", i, k);
                return 1;
            }
        fill(blocks[i], bytes, 9);
    }
    for (int i = 0; i < batch; i++) free(blocks[i]);
    faults = minor_faults() - faults;
    long mappings = 0;
    FILE *maps = fopen("/proc/self/maps", "r");
    if (maps != NULL) {
        for (int c; (c = fgetc(maps)) != EOF;) mappings += c == '\n';
        fclose(maps);
    }
    printf("ok\nmappings %ld\nfaults %ld\n", mappings, faults);
    return 0;
}
