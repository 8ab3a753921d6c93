/*
 * stress THREADS ROUNDS FORKS — threads allocate and free blocks of random
 * sizes, free each other's blocks through a shared exchange, and the main
 * thread forks FORKS times while they run; each child allocates, frees and
 * exits. Prints a checksum that does not depend on timing.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SLOTS 256
static void *_Atomic exchange[SLOTS];
static int rounds;
static void *volatile sink; /* keeps the compiler from eliding malloc/free pairs */

static void *worker(void *arg) {
    uint64_t seed = (uintptr_t)arg * 2654435761u + 1;
    uint64_t checksum = 0;
    for (int i = 0; i < rounds; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        size_t size = 16 + (seed >> 33) % 4000;
        unsigned char *p = (seed >> 20) % 4 == 0 ? calloc(1, size) : malloc(size);
        if (!p) abort();
        p[0] = (unsigned char)size;
        p[size - 1] = (unsigned char)i;
        if ((seed >> 40) % 3 == 0) {
            p = realloc(p, size * 2);
            if (!p) abort();
        }
        checksum += p[0];
        /* Hand the block to whichever thread takes this slot next. */
        void *old = atomic_exchange(&exchange[(seed >> 12) % SLOTS], p);
        free(old);
    }
    return (void *)(uintptr_t)checksum;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    if (threads < 1 || threads > 64) {
        fprintf(stderr, "stress: 1 to 64 threads\n");
        return 2;
    }
    rounds = argc > 2 ? atoi(argv[2]) : 100000;
    int forks = argc > 3 ? atoi(argv[3]) : 20;
    pthread_t ids[64];
    for (int t = 0; t < threads; t++) pthread_create(&ids[t], NULL, worker, (void *)(uintptr_t)(t + 1));
    int children_ok = 0;
    for (int f = 0; f < forks; f++) {
        pid_t pid = fork();
        if (pid == 0) {
            /* In the child only this thread exists: the allocator must not
               be left locked by the others. */
            for (int i = 0; i < 1000; i++) {
                sink = malloc(16 + i);
                free(sink);
            }
            sink = strdup("child");
            free(sink);
            exit(0);
        }
        int status = 0;
        waitpid(pid, &status, 0);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) children_ok++;
        usleep(1000);
    }
    uint64_t checksum = 0;
    for (int t = 0; t < threads; t++) {
        void *result;
        pthread_join(ids[t], &result);
        checksum += (uintptr_t)result;
    }
    for (int s = 0; s < SLOTS; s++) free(exchange[s]);
    printf("threads=%d rounds=%d children_ok=%d/%d checksum=%llu\n", threads, rounds, children_ok,
           forks, (unsigned long long)checksum);
    return 0;
}
