#pragma GCC diagnostic ignored "-Wdeprecated-declarations" /* mallinfo is what it tests */
/* mallinfo2 and mallinfo see the program's blocks whatever allocator
 * serves them (glibc's tst-mallinfo2 checks the same growth): 19 blocks of
 * 160 × i bytes must raise uordblks by at least their sum.
 * Prints "mallinfo2 grew" or "mallinfo2 did not grow", then the same for
 * mallinfo. */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>

static void *volatile blocks[20];

int main(void) {
    struct mallinfo2 before = mallinfo2();
    struct mallinfo before_old = mallinfo();
    size_t total = 0;
    for (int i = 1; i < 20; i++) {
        blocks[i] = malloc(160 * (size_t)i);
        total += 160 * (size_t)i;
    }
    struct mallinfo2 after = mallinfo2();
    struct mallinfo after_old = mallinfo();
    printf("mallinfo2 %s\n", after.uordblks >= before.uordblks + total ? "grew" : "did not grow");
    printf("mallinfo %s\n", (size_t)after_old.uordblks >= (size_t)before_old.uordblks + total ? "grew" : "did not grow");
    for (int i = 1; i < 20; i++) free(blocks[i]);
    return 0;
}
