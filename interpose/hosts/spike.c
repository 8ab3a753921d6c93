/* spike — live bytes rise to 32 MiB from one site (hold_spike) for 200 ms
   and fall back, between two stretches of small allocations: the
   timeline shows the spike, and the peak's owners name that site. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

static void *volatile sink;

NOINLINE static void small_work(int rounds) {
    for (int r = 0; r < rounds; r++) {
        for (int i = 0; i < 200; i++) {
            sink = malloc(64 + i);
            free(sink);
        }
        usleep(1000);
    }
}

NOINLINE static void hold_spike(void) {
    void *blocks[32];
    for (int i = 0; i < 32; i++) {
        blocks[i] = malloc(1 << 20);
        memset(blocks[i], i, 1 << 20);
    }
    usleep(200000);
    for (int i = 0; i < 32; i++) free(blocks[i]);
}

int main(void) {
    small_work(50);
    hold_spike();
    small_work(50);
    return 0;
}
