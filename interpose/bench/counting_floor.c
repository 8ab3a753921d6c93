/*
 * counting_floor — not part of swalloc: the cheapest exact-count
 * statistics a preload can keep on top of glibc, for scripts/bench to
 * measure what any such design costs at least.
 *
 * Per thread (initial-exec TLS, as swalloc): calls of malloc and free,
 * bytes requested, a power-of-two histogram, and one countdown for a peak
 * or a sample. It gives up what swalloc promises beyond that, each of
 * which costs instructions: bytes freed are glibc's usable size (not the
 * requested size: no trailer, no header), a failed malloc stays counted
 * (malloc tail-calls glibc, so nothing runs after it), and there is no
 * reentrancy guard, calloc, realloc or report. Never preload it for real.
 */
#include <stddef.h>
#include <stdint.h>

void *__libc_malloc(size_t);
void __libc_free(void *);

struct counters {
    uint64_t inside; /* the gate: a real interposer needs one */
    uint64_t malloc_calls, free_calls, bytes_allocated, bytes_freed;
    uint64_t histogram[65];
    int64_t countdown;
};
static __thread struct counters counters __attribute__((tls_model("initial-exec")));

__attribute__((noinline)) static void *checkpoint(size_t size) {
    counters.countdown = 64 << 10;
    return __libc_malloc(size);
}

void *malloc(size_t size) {
    struct counters *c = &counters;
    if (__builtin_expect(c->inside != 0, 0)) return __libc_malloc(size);
    c->malloc_calls++;
    c->bytes_allocated += size;
    c->histogram[63 - __builtin_clzll(2 * size + 1)]++;
    if (__builtin_expect((c->countdown -= (int64_t)size) <= 0, 0)) return checkpoint(size);
    return __libc_malloc(size);
}

void free(void *ptr) {
    struct counters *c = &counters;
    if (__builtin_expect(c->inside != 0 || ptr == NULL, 0)) {
        __libc_free(ptr);
        return;
    }
    c->free_calls++;
    /* glibc's chunk size word, flags masked; usable = chunk - 8 (not mmapped) */
    c->bytes_freed += (((const uint64_t *)ptr)[-1] & ~(uint64_t)7) - 8;
    __libc_free(ptr);
}
