/* fork in a process whose guard allocator holds a full quarantine: the
 * quarantined blocks are left out of the child (fork copies every mapping,
 * and thousands of them made each fork slow), and the child, which never
 * sees them, allocates and frees past its own quarantine's capacity.
 * Prints "parent N child M" (mappings in /proc/self/maps) and "child ok".
 * guard_fork rate: 50,000 malloc(100)/free pairs, a fork, and 50,000 more
 * in both processes; the child exits through exit(), so that it reports
 * (for the sampled guard's rate in a child). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int mappings(void) {
    FILE *maps = fopen("/proc/self/maps", "r");
    if (maps == NULL) return -1;
    int lines = 0, c;
    while ((c = fgetc(maps)) != EOF) lines += c == '\n';
    fclose(maps);
    return lines;
}

static void *volatile sink;

static int rate(void) {
    for (int i = 0; i < 50000; i++) sink = malloc(100), free(sink);
    pid_t pid = fork();
    for (int i = 0; i < 50000; i++) sink = malloc(100), free(sink);
    if (pid == 0) exit(0);
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "rate") == 0) return rate();
    enum { blocks = 3000 };
    static void *live[blocks];
    for (int i = 0; i < blocks; i++) live[i] = malloc(48);
    for (int i = 0; i < blocks; i++) free(live[i]);
    int parent = mappings();
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int child = mappings();
        for (int round = 0; round < 3; round++) {
            for (int i = 0; i < blocks; i++) live[i] = malloc(64);
            for (int i = 0; i < blocks; i++) free(live[i]);
        }
        printf("parent %d child %d\nchild ok\n", parent, child);
        fflush(stdout);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
