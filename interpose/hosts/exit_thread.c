/* exit_thread — exit() from a non-main thread while other threads allocate;
   the report must be written exactly once and nothing may hang. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void *churn(void *arg) {
    (void)arg;
    for (;;) {
        void *p = malloc(64);
        __asm__ volatile("" : : "r"(p) : "memory"); /* keep the pair */
        free(p);
    }
    return NULL;
}

static void *leave(void *arg) {
    (void)arg;
    usleep(20000);
    printf("exiting from a thread\n");
    fflush(stdout);
    exit(3);
}

int main(void) {
    pthread_t t[4];
    for (int i = 0; i < 3; i++) pthread_create(&t[i], NULL, churn, NULL);
    pthread_create(&t[3], NULL, leave, NULL);
    for (;;) pause();
}
