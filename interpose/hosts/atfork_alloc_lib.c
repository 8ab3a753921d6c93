/* libatfork_alloc_lib.so: a library whose constructor registers a fork
 * prepare handler that allocates, as libraries do to reset state for the
 * child. A dependency of the program, so its constructor runs before the
 * preload library's and the handler, registered first, runs last: after
 * an allocator's own prepare handler has taken that allocator's locks.
 * Each fork asks a size larger than the last (a size class the thread's
 * cache has never held, so a size-class allocator must take its lock),
 * and frees a large block the program had it allocate before the fork
 * (which such an allocator returns under a lock too; asked whose it is,
 * the library had said glibc's, and glibc aborted). */
#include <pthread.h>
#include <stdlib.h>

static void *volatile sink;
static void *held;
static size_t size = 20000;

/* Called by the program before each fork, outside it: the block is then
   the allocator's own. */
void atfork_alloc_hold(void) {
    free(held);
    held = malloc(100000);
}

static void prepare(void) {
    sink = malloc(size);
    free(sink);
    size += 4096;
    free(held);
    held = NULL;
}

__attribute__((constructor)) static void register_early(void) { pthread_atfork(prepare, NULL, NULL); }
