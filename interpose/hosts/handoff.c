/*
 * handoff MODE MIB — live bytes shared between two threads, for checking
 * the peak (each thread counts in its own counters):
 *   pipe      a producer mallocs MIB MiB in 1 KiB blocks and a consumer
 *             frees them, at most 1024 blocks (1 MiB) in flight: every
 *             block is freed by a thread that did not allocate it, and the
 *             peak stays near 1 MiB whatever MIB is
 *   together  two threads each malloc MIB/2 blocks of 1 MiB, both wait
 *             until the other has them all, then free them: the peak is
 *             MIB MiB, reached with the bytes split between the threads
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IN_FLIGHT 1024
static void *ring[IN_FLIGHT];
static long produced, consumed, total;
static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static pthread_barrier_t all_held;
static long per_thread;

static void *produce(void *unused) {
    (void)unused;
    for (long i = 0; i < total; i++) {
        char *block = malloc(1024);
        block[0] = 1;
        pthread_mutex_lock(&mutex);
        while (produced - consumed == IN_FLIGHT) pthread_cond_wait(&changed, &mutex);
        ring[produced % IN_FLIGHT] = block;
        produced++;
        pthread_cond_broadcast(&changed);
        pthread_mutex_unlock(&mutex);
    }
    return NULL;
}

static void *consume(void *unused) {
    (void)unused;
    for (long i = 0; i < total; i++) {
        pthread_mutex_lock(&mutex);
        while (consumed == produced) pthread_cond_wait(&changed, &mutex);
        void *block = ring[consumed % IN_FLIGHT];
        consumed++;
        pthread_cond_broadcast(&changed);
        pthread_mutex_unlock(&mutex);
        free(block);
    }
    return NULL;
}

static void *hold(void *unused) {
    (void)unused;
    void *blocks[4096];
    for (long i = 0; i < per_thread; i++) { blocks[i] = malloc(1 << 20); memset(blocks[i], 3, 4096); }
    pthread_barrier_wait(&all_held);
    for (long i = 0; i < per_thread; i++) free(blocks[i]);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: handoff pipe|together MIB\n"); return 2; }
    long mib = atol(argv[2]);
    pthread_t a, b;
    if (strcmp(argv[1], "pipe") == 0) {
        total = mib * 1024;
        pthread_create(&a, NULL, produce, NULL);
        pthread_create(&b, NULL, consume, NULL);
    } else if (strcmp(argv[1], "together") == 0) {
        per_thread = mib / 2 > 4096 ? 4096 : mib / 2;
        pthread_barrier_init(&all_held, NULL, 2);
        pthread_create(&a, NULL, hold, NULL);
        pthread_create(&b, NULL, hold, NULL);
    } else {
        fprintf(stderr, "handoff: unknown mode %s\n", argv[1]);
        return 2;
    }
    pthread_join(a, NULL);
    pthread_join(b, NULL);
    return 0;
}
