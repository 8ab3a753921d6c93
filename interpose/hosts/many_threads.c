/* many_threads N — N threads allocate and then wait; main exits while they
   are alive, so the exit report folds N live threads. Prints, as its last
   act before exit(), the CLOCK_MONOTONIC time in nanoseconds. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static pthread_barrier_t started;

static void *work(void *arg) {
    (void)arg;
    for (int i = 0; i < 1000; i++) {
        void *p = malloc(16 + i);
        __asm__ volatile("" : : "r"(p) : "memory");
        free(p);
    }
    pthread_barrier_wait(&started);
    for (;;) pause();
    return NULL;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 100;
    pthread_barrier_init(&started, NULL, (unsigned)n + 1);
    pthread_t id;
    for (int i = 0; i < n; i++) pthread_create(&id, NULL, work, NULL);
    pthread_barrier_wait(&started);
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    printf("%lld\n", (long long)t.tv_sec * 1000000000LL + t.tv_nsec);
    fflush(stdout);
    exit(0);
}
