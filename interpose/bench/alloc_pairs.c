/*
 * alloc_pairs THREADS PAIRS [PLUGIN.so] — each thread keeps a window of 64
 * live blocks and replaces one per step: free the oldest, malloc a new one
 * of 16..512 bytes (a fixed pseudo-random sequence). PAIRS malloc+free
 * pairs per thread. Prints the wall time in nanoseconds per pair.
 *
 * With THREADS negative, the batch pattern instead: each thread allocates
 * blocks of 16..512 bytes and frees them all every 100,000 blocks, as a
 * program builds a data structure and drops it (PAIRS is then the number of
 * allocations, and of frees).
 *
 * With PLUGIN.so, the same steps call that Swalloc plug-in's alloc and
 * dealloc directly (the plug-in registers its table with this program's
 * swalloc_set_global_allocator): the baseline for what the library adds
 * around a plugged-in allocator.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "swalloc.h"

#define WINDOW 64
static long pairs;
static struct swalloc_global_allocator plugin;
static int use_plugin;

/* The plug-in's registration lands here when it is called directly. */
int swalloc_set_global_allocator(const struct swalloc_global_allocator *allocator) {
    plugin = *allocator;
    return 0;
}
/* A version 2 plug-in (it knows its blocks): its free needs no size. */
static int (*plugin_free)(void *, void *);
int swalloc_set_global_allocator_v2(const struct swalloc_global_allocator_v2 *allocator) {
    plugin = allocator->base;
    plugin_free = allocator->free;
    return 0;
}

/* A version 3 plug-in's free forwards what is not its own here (called
   directly, nothing of glibc's reaches it but free(NULL)). */
void swalloc_free_foreign(void *ptr) { free(ptr); }

static void *allocate(size_t size) {
    return use_plugin ? plugin.alloc(plugin.context, size, 16) : malloc(size);
}

/* The plug-in needs the size back (GlobalAlloc); free does not. */
static void deallocate(void *block, size_t size) {
    if (!block) return;
    if (!use_plugin) free(block);
    else if (plugin_free) plugin_free(plugin.context, block);
    else plugin.dealloc(plugin.context, block, size, 16);
}

static void *run_batch(void *arg) {
    enum { BATCH = 100000 };
    static __thread void *blocks[BATCH];
    uint32_t seed = (uint32_t)(uintptr_t)arg * 2654435761u + 12345;
    for (long i = 0; i < pairs; i++) {
        seed = seed * 1103515245u + 12345u;
        size_t size = 16 + (seed >> 16) % 497;
        blocks[i % BATCH] = allocate(size);
        *(volatile char *)blocks[i % BATCH] = 1;
        if (i % BATCH == BATCH - 1) {
            for (int b = 0; b < BATCH; b++) deallocate(blocks[b], 0);
        }
    }
    for (long b = 0; b < pairs % BATCH; b++) deallocate(blocks[b], 0);
    return NULL;
}

static void *run(void *arg) {
    uint32_t seed = (uint32_t)(uintptr_t)arg * 2654435761u + 12345;
    void *window[WINDOW] = {0};
    size_t sizes[WINDOW] = {0};
    for (long i = 0; i < pairs; i++) {
        seed = seed * 1103515245u + 12345u;
        size_t size = 16 + (seed >> 16) % 497;
        int slot = (int)(i % WINDOW);
        deallocate(window[slot], sizes[slot]);
        window[slot] = allocate(size);
        sizes[slot] = size;
        *(volatile char *)window[slot] = 1;
    }
    for (int s = 0; s < WINDOW; s++) deallocate(window[s], sizes[s]);
    return NULL;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    int batch = threads < 0;
    if (batch) threads = -threads;
    pairs = argc > 2 ? atol(argv[2]) : 1000000;
    if (argc > 3) {
        void *handle = dlopen(argv[3], RTLD_NOW);
        void (*register_plugin)(void) = handle ? (void (*)(void))dlsym(handle, "swalloc_register") : NULL;
        if (!register_plugin) {
            fprintf(stderr, "alloc_pairs: cannot load %s\n", argv[3]);
            return 2;
        }
        register_plugin();
        if (plugin.alloc == NULL) {
            fprintf(stderr, "alloc_pairs: %s installed no allocator\n", argv[3]);
            return 2;
        }
        use_plugin = 1;
        if (batch) {
            fprintf(stderr, "alloc_pairs: the batch pattern does not keep sizes for a plug-in\n");
            return 2;
        }
    }
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    pthread_t ids[16];
    for (int t = 0; t < threads; t++) pthread_create(&ids[t], NULL, batch ? run_batch : run, (void *)(uintptr_t)(t + 1));
    for (int t = 0; t < threads; t++) pthread_join(ids[t], NULL);
    clock_gettime(CLOCK_MONOTONIC, &b);
    double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
    printf("%.3f\n", ns / (double)pairs);
    return 0;
}
