/* fork in a process whose guard allocator holds a full quarantine: the
 * quarantined blocks are left out of the child (fork copies every mapping,
 * and thousands of them made each fork slow), and the child, which never
 * sees them, allocates and frees past its own quarantine's capacity.
 * Prints "parent N child M" (mappings in /proc/self/maps) and "child ok". */
#include <stdio.h>
#include <stdlib.h>
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

int main(void) {
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
