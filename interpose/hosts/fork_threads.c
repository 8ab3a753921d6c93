/* Threads allocate through stdio while other threads fork, for SECONDS:
 * readers run getline on a file holding one long line (getline reallocates
 * with the FILE locked), one thread runs fflush(NULL) (which holds the
 * stdio list lock while it waits for each FILE), forkers fork children that
 * allocate and exit with 17. The cycle this exercises: a fork that took an
 * allocator lock before the stdio list lock waits for fflush, which waits
 * for a reader, which waits in realloc for that allocator lock.
 * Prints "forks=N readers_ok=1" and exits 0, or exits 1 on any error.
 * Usage: fork_threads SECONDS FILE (FILE is created and removed). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { FORKERS = 4, READERS = 8, LINE_BYTES = 50000 };

static int stop;
static const char *path;
static long forks;

static void fail(const char *what) {
    fprintf(stderr, "fork_threads: %s\n", what);
    _exit(1);
}

static void *forker(void *unused) {
    (void)unused;
    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        pid_t pid = fork();
        if (pid < 0) fail("fork failed");
        if (pid == 0) {
            /* The child allocates: every lock the parent's threads held
               must be usable here. */
            char *block = malloc(1000);
            if (!block) _exit(2);
            block = realloc(block, 100000);
            free(block);
            _exit(17);
        }
        int status;
        if (waitpid(pid, &status, 0) < 0) fail("waitpid failed");
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 17) fail("a child did not exit with 17");
        __atomic_add_fetch(&forks, 1, __ATOMIC_RELAXED);
    }
    return NULL;
}

static void *reader(void *unused) {
    (void)unused;
    FILE *file = fopen(path, "r");
    if (!file) fail("fopen failed");
    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
        rewind(file);
        char *line = NULL;
        size_t capacity = 0;
        if (getline(&line, &capacity, file) != LINE_BYTES + 1) fail("getline read a wrong length");
        free(line);
    }
    fclose(file);
    return NULL;
}

static void *flusher(void *unused) {
    (void)unused;
    while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
        if (fflush(NULL) != 0) fail("fflush failed");
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) fail("usage: fork_threads SECONDS FILE");
    path = argv[2];
    FILE *file = fopen(path, "w");
    if (!file) fail("cannot create the file");
    for (int i = 0; i < LINE_BYTES; i++) fputc('x', file);
    fputc('\n', file);
    if (fclose(file) != 0) fail("cannot write the file");

    pthread_t threads[FORKERS + READERS + 1];
    int count = 0;
    for (int i = 0; i < FORKERS; i++) pthread_create(&threads[count++], NULL, forker, NULL);
    for (int i = 0; i < READERS; i++) pthread_create(&threads[count++], NULL, reader, NULL);
    pthread_create(&threads[count++], NULL, flusher, NULL);
    struct timespec duration = {atoi(argv[1]), 0};
    nanosleep(&duration, NULL);
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < count; i++) pthread_join(threads[i], NULL);
    unlink(path);
    printf("forks=%s readers_ok=1\n", forks > 0 ? "some" : "none");
    return 0;
}
