/*
 * dlerror_keep — a failed dlopen leaves a message for dlerror(); the
 * interposer must not free it by making dl* calls of its own inside the
 * malloc family (glibc frees the thread's pending message on any dl* call).
 *   1. dlopen fails, malloc_usable_size is called, then dlerror(): the
 *      message must still be there.
 *   2. dlopen fails, dlerror() is read, the program allocates (which may
 *      take the first sample), then reads the message: it must be intact.
 */
#include <dlfcn.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *volatile sink;

int main(void) {
    void *handle = dlopen("/nonexistent/libswalloc-test.so", RTLD_NOW);
    void *block = malloc(100);
    size_t usable = malloc_usable_size(block);
    const char *message = dlerror();
    printf("1: handle=%s usable=%s message=%s\n", handle ? "yes" : "no", usable >= 100 ? "ok" : "bad",
           message && strstr(message, "libswalloc-test.so") ? "kept" : "LOST");
    free(block);

    handle = dlopen("/nonexistent/libswalloc-test-2.so", RTLD_NOW);
    message = dlerror();
    for (int i = 0; i < 64; i++) {
        sink = malloc(1 << 20);
        free(sink);
    }
    printf("2: message=%s\n", message && strstr(message, "libswalloc-test-2.so") ? "intact" : "LOST");
    return 0;
}
