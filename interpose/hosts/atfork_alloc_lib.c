/* libatfork_alloc_lib.so: a library whose constructor registers a fork
 * prepare handler that allocates, as libraries do to reset state for the
 * child. A dependency of the program, so its constructor runs before the
 * preload library's and the handler, registered first, runs last: after
 * an allocator's own prepare handler has taken that allocator's locks.
 * Each fork asks a size larger than the last (a size class the thread's
 * cache has never held, so a size-class allocator must take its lock). */
#include <pthread.h>
#include <stdlib.h>

static void *volatile sink;
static size_t size = 20000;

static void prepare(void) {
    sink = malloc(size);
    free(sink);
    size += 4096;
}

__attribute__((constructor)) static void register_early(void) { pthread_atfork(prepare, NULL, NULL); }
