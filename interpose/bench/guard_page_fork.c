/* guard_page_fork: what a guard page's kind costs fork and the guard
   allocator. 1,009 live blocks (tst-mallocfork2's count; sizes below
   70,000 bytes, seed 1), each a mapping of its own followed by a guard
   page made PROT_NONE or a guard marker (Linux 6.13's MADV_GUARD_INSTALL);
   then 2,000 forks, each child exiting at once. Prints the mappings in
   /proc/self/maps and the microseconds per fork + wait, then the cost of
   a block's life (map, guard, touch, unmap) both ways.
     cc -O2 interpose/bench/guard_page_fork.c -o guard_page_fork && ./guard_page_fork */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

enum { page = 4096, blocks = 1009, forks = 2000, lives = 100000 };

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int mappings(void) {
    FILE *maps = fopen("/proc/self/maps", "r");
    int lines = 0, c;
    while ((c = fgetc(maps)) != EOF) lines += c == '\n';
    fclose(maps);
    return lines;
}

static int guard(char *address, int markers) {
    return markers ? madvise(address, page, MADV_GUARD_INSTALL) : mprotect(address, page, PROT_NONE);
}

/* In a child of its own, so that the other kind's mappings are not there. */
static void fork_cost(int markers) {
    srand(1);
    for (int i = 0; i < blocks; i++) {
        size_t data = ((size_t)(rand() % 70000) + page - 1) / page * page;
        char *block = mmap(NULL, data + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (block == MAP_FAILED || guard(block + data, markers) != 0) {
            perror(markers ? "guard marker" : "mprotect");
            exit(1);
        }
        memset(block, 1, data);
    }
    double start = now();
    for (int i = 0; i < forks; i++) {
        pid_t pid = fork();
        if (pid == 0) _exit(0);
        waitpid(pid, NULL, 0);
    }
    printf("%-9s %5d mappings, %7.1f us per fork + wait\n", markers ? "markers" : "PROT_NONE", mappings(),
           (now() - start) / forks * 1e6);
}

static void life_cost(int markers) {
    double start = now();
    for (int i = 0; i < lives; i++) {
        char *block = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        guard(block + page, markers);
        block[0] = 1;
        munmap(block, 2 * page);
    }
    printf("%-9s %.2f us per block (map, guard, touch, unmap)\n", markers ? "markers" : "PROT_NONE",
           (now() - start) / lives * 1e6);
}

int main(void) {
    for (int markers = 0; markers <= 1; markers++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            fork_cost(markers);
            life_cost(markers);
            fflush(stdout);
            _exit(0);
        }
        waitpid(pid, NULL, 0);
    }
    return 0;
}
