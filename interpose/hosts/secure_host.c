/* secure_host — linked with libswalloc.so, made setuid root by the test
 * and run by an unprivileged user: allocates 100 blocks and prints how
 * many it got. Under AT_SECURE the library ignores SWALLOC_FAIL,
 * SWALLOC_LIMIT and the rest (docs/fork-and-signals.md), so it gets all. */
#include <stdio.h>
#include <stdlib.h>

int main(void) {
    int got = 0;
    for (int i = 0; i < 100; i++) {
        void *block = malloc(64);
        if (block) got++;
        free(block);
    }
    printf("allocated %d\n", got);
    return 0;
}
