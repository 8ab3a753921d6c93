/* Blocks the program's own allocator hands out through an entry point of
 * its own (jemalloc's mallocx, as redis-server's zmalloc may use), then
 * resized, measured and freed through the standard names: under the
 * library, `system` is that allocator for every function, so each reaches
 * it. Run with jemalloc preloaded after the library (or linked).
 * Prints "ok" and exits 0; a block handed to glibc aborts. */
#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void) {
    void *(*mallocx)(size_t, int) = (void *(*)(size_t, int))dlsym(RTLD_DEFAULT, "mallocx");
    if (mallocx == NULL) {
        puts("no mallocx");
        return 2;
    }
    for (int round = 0; round < 100; round++) {
        char *block = mallocx(100, 0);
        if (block == NULL) return 3;
        memset(block, 'x', 100);
        block = realloc(block, 10000 + (size_t)round);
        if (block == NULL || block[99] != 'x') return 4;
        if (malloc_usable_size(block) < 10000) return 5;
        free(block);
    }
    puts("ok");
    return 0;
}
