/*
 * alloc_pairs THREADS PAIRS — each thread keeps a window of 64 live blocks
 * and replaces one per step: free the oldest, malloc a new one of 16..512
 * bytes (a fixed pseudo-random sequence). PAIRS malloc+free pairs per
 * thread. Prints the wall time in nanoseconds per pair.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define WINDOW 64
static long pairs;

static void *run(void *arg) {
    uint32_t seed = (uint32_t)(uintptr_t)arg * 2654435761u + 12345;
    void *window[WINDOW] = {0};
    for (long i = 0; i < pairs; i++) {
        seed = seed * 1103515245u + 12345u;
        size_t size = 16 + (seed >> 16) % 497;
        int slot = (int)(i % WINDOW);
        free(window[slot]);
        window[slot] = malloc(size);
        *(volatile char *)window[slot] = 1;
    }
    for (int s = 0; s < WINDOW; s++) free(window[s]);
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    pairs = argc > 2 ? atol(argv[2]) : 1000000;
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pthread_t ids[16];
    for (int t = 0; t < threads; t++) pthread_create(&ids[t], NULL, run, (void *)(uintptr_t)(t + 1));
    for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
    printf("%.3f\n", ns / (double)pairs);
    return 0;
}
