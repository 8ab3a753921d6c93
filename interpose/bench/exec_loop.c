/*
 * exec_loop N PROGRAM — starts PROGRAM N times, one after the other
 * (posix_spawn + waitpid), as make and shell scripts do. Prints the wall
 * time in microseconds per start. The environment (LD_PRELOAD included)
 * is passed on unchanged.
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    char *program = argc > 2 ? argv[2] : "/bin/true";
    char *args[] = {program, NULL};
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    for (int i = 0; i < n; i++) {
        pid_t pid;
        if (posix_spawn(&pid, program, NULL, NULL, args, environ) != 0) return 1;
        int status;
        waitpid(pid, &status, 0);
    }
    clock_gettime(CLOCK_MONOTONIC, &b);
    double us = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
    printf("%.2f\n", us / n);
    return 0;
}
