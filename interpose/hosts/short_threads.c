/* short_threads N — starts N threads one after another, each allocating a
   little and ending, some of them leaving a block for the main thread to
   free. Prints the process's mappings and resident kilobytes at the end:
   "maps=M rss_kb=R". An allocator that keeps a dead thread's memory shows
   it here (and at about 65,000 threads, pthread_create fails). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *work(void *arg) {
    void **handoff = arg;
    for (int i = 0; i < 64; i++) {
        char *p = malloc(32 + i * 8);
        memset(p, i, 32);
        free(p);
    }
    /* Every 16th thread leaves a block behind, freed by main later. */
    if (handoff) *handoff = malloc(100);
    return NULL;
}

static long count_maps(void) {
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return -1;
    long lines = 0;
    int c;
    while ((c = fgetc(f)) != EOF) if (c == '\n') lines++;
    fclose(f);
    return lines;
}

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f)) if (sscanf(line, "VmRSS: %ld", &kb) == 1) break;
    fclose(f);
    return kb;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 1000;
    void *left = NULL;
    for (int i = 0; i < n; i++) {
        pthread_t id;
        void *slot = NULL;
        int error = pthread_create(&id, NULL, work, i % 16 == 0 ? &slot : NULL);
        if (error) {
            fprintf(stderr, "short_threads: pthread_create failed at thread %d: %s\n", i, strerror(error));
            return 1;
        }
        pthread_join(id, NULL);
        free(left);
        left = slot;
    }
    free(left);
    printf("maps=%ld rss_kb=%ld\n", count_maps(), rss_kb());
    return 0;
}
