/* A program that allocates known amounts from one site and then ends the
 * way it is told, for the live profile (profiles that survive any death):
 *   ending WAY   allocates 2,000 blocks of 1,000 bytes in leak_here() and
 *                keeps them, then: segv (a null write), abort, exit3
 *                (_exit(3)), term (raise SIGTERM), kill (raise SIGKILL) or
 *                return (exit 0).
 *   ending forked WAY
 *                allocates 10 blocks of 1,000 bytes, forks; the child
 *                allocates one block of 100 bytes
 *                in child_block() and ends by WAY (abort or exit3); the
 *                parent waits for it and returns 0.
 *   ending serve SECONDS
 *                the same 2,000 blocks, then for SECONDS allocates and
 *                frees 4 KiB blocks from churn(), 100 µs apart: a server
 *                to dump while it runs. */
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void *kept[2000];

__attribute__((noinline)) static void leak_here(void) {
    for (int i = 0; i < 2000; i++) {
        kept[i] = malloc(1000);
        memset(kept[i], 1, 1000);
    }
}

__attribute__((noinline)) static void churn(int seconds) {
    static void *ring[64];
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    unsigned i = 0;
    do {
        free(ring[i % 64]);
        ring[i % 64] = malloc(4096);
        memset(ring[i % 64], 2, 4096);
        i++;
        usleep(100);
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while (now.tv_sec - start.tv_sec < seconds);
}

static void *volatile child_kept;

__attribute__((noinline)) static void child_block(void) {
    child_kept = malloc(100);
    memset(child_kept, 3, 100);
}

int main(int argc, char **argv) {
    if (argc < 2) return 2;
    if (!strcmp(argv[1], "forked") && argc > 2) {
        /* The parent allocates first (10 KB, less than a checkpoint's
           step): the child starts in the middle of a countdown. */
        for (int i = 0; i < 10; i++) kept[i] = malloc(1000);
        child_kept = kept[9];
        pid_t child = fork();
        if (child == 0) {
            child_block();
            if (!strcmp(argv[2], "abort")) abort();
            _exit(3);
        }
        int status;
        return child > 0 && waitpid(child, &status, 0) == child ? 0 : 2;
    }
    leak_here();
    const char *way = argv[1];
    if (!strcmp(way, "segv")) *(volatile int *)0 = 1;
    if (!strcmp(way, "abort")) abort();
    if (!strcmp(way, "exit3")) _exit(3);
    if (!strcmp(way, "term")) raise(SIGTERM);
    if (!strcmp(way, "kill")) raise(SIGKILL);
    if (!strcmp(way, "serve")) churn(argc > 2 ? atoi(argv[2]) : 5);
    return 0;
}
