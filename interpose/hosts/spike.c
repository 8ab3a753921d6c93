/* spike — live bytes rise to 32 MiB from one site (hold_spike) for 200 ms
   and fall back, between two stretches of small allocations: the
   timeline shows the spike, and the peak's owners name that site.
   spike single — 20 small blocks live, then one 8 MiB block (one_block)
   makes the peak alone and is freed. */
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

NOINLINE static void one_block(void) {
    sink = malloc(8 << 20);
    memset(sink, 1, 8 << 20);
    free(sink);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "single") == 0) {
        void *volatile kept[20];
        for (int i = 0; i < 20; i++) kept[i] = malloc(1000);
        one_block();
        for (int i = 0; i < 20; i++) free(kept[i]);
        return 0;
    }
    small_work(50);
    hold_spike();
    small_work(50);
    return 0;
}
