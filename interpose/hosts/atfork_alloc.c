/* atfork_alloc: forks five times while a second thread allocates (the
 * process is threaded, so allocators hold their locks across fork), with
 * libatfork_alloc_lib.so's prepare handler allocating and freeing in each
 * fork.
 * Prints "forked 5" and exits 0; a hang is the failure. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

void atfork_alloc_hold(void); /* libatfork_alloc_lib.so */

static void *worker(void *unused) {
    (void)unused;
    for (int i = 0; i < 100000; i++) free(malloc(64));
    return NULL;
}

int main(void) {
    pthread_t thread;
    pthread_create(&thread, NULL, worker, NULL);
    int forked = 0;
    for (int i = 0; i < 5; i++) {
        atfork_alloc_hold();
        pid_t child = fork();
        if (child == 0) _exit(0);
        int status;
        if (child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0) forked++;
    }
    pthread_join(thread, NULL);
    printf("forked %d\n", forked);
    return forked == 5 ? 0 : 1;
}
