/* misuse MODE — a program's allocation errors, which must end as they do
 * under glibc alone (its own message and abort), never inside the library:
 *   double_large   frees a 100 KB block twice
 *   double_first   a new thread frees its first block twice
 *   usable_freed   asks malloc_usable_size of a freed 100 KB block, then
 *                  prints "usable asked" and exits 0 */
#include <malloc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *volatile sink;

static void *first_block_twice(void *unused) {
    (void)unused;
    sink = malloc(40);
    free(sink);
    free(sink);
    return NULL;
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "double_large") == 0) {
        sink = malloc(100000);
        sink = malloc(100000); /* not the top chunk: freed into a bin */
        void *keep = malloc(100);
        free(sink);
        free(sink);
        free(keep);
    } else if (strcmp(mode, "double_first") == 0) {
        pthread_t thread;
        pthread_create(&thread, NULL, first_block_twice, NULL);
        pthread_join(thread, NULL);
    } else if (strcmp(mode, "usable_freed") == 0) {
        sink = malloc(100000);
        void *keep = malloc(100);
        free(sink);
        size_t usable = malloc_usable_size(sink);
        (void)usable;
        printf("usable asked\n");
        free(keep);
    } else {
        return 64;
    }
    return 0;
}
