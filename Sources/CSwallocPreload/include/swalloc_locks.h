/*
 * swalloc_locks.h — the library's locks, and the order fork takes them in.
 *
 * Every lock of the library is one word in one table (swalloc_locks), so
 * that the fork handler (fork.c) can take them all, in one documented
 * order, and so that a lock knows its owner: a fork called from a signal
 * handler that interrupted the owner must not wait for itself
 * (docs/fork-and-signals.md). A lock is held for microseconds, never while
 * calling malloc through the interposer, never while taking a stdio lock,
 * and never while taking another of these locks.
 */
#ifndef SWALLOC_LOCKS_H
#define SWALLOC_LOCKS_H

#include <stdbool.h>
#include <stdint.h>
#include <sched.h>

#include "swalloc_invariants.h"

#pragma clang assume_nonnull begin

/* The library's locks, in the order the fork handler takes them. */
enum swalloc_lock_id {
    SWALLOC_LOCK_SAMPLER = 0, /* the stack table and the sampled blocks (Sampling/) */
    SWALLOC_LOCK_GUARD = 1,   /* the guard allocator's quarantine */
    SWALLOC_LOCK_BUMP = 2,    /* the bump allocator's recycled chunks */
    SWALLOC_LOCK_PROCESS = 3, /* thread list, retired totals, peak (Statistics/) */
    SWALLOC_LOCK_COUNT = 4,
};

/* Each lock word is 0 when free, else its owner's thread identity. */
extern uintptr_t swalloc_locks[SWALLOC_LOCK_COUNT] __attribute__((visibility("hidden")));

/* A thread's identity: the address of its thread-control block, which no
   two live threads share (%fs:0 on x86-64; one load). Never 0. */
static inline uintptr_t swalloc_thread_identity(void) {
    return (uintptr_t)__builtin_thread_pointer();
}

/* Waits until a word is 0 (a lock looks free, no fork waits): a short
   spin, then sched_yield. The
   library's locks are held for microseconds, but a holder that the kernel
   preempted (more threads than cores) holds them for a whole time slice,
   which pure spinning would burn. sched_yield is a system call: no malloc,
   no lock, async-signal-safe. Out of line and cold: the waiting loop
   stays out of the functions that take the locks. */
static __attribute__((noinline, cold)) void swalloc_wait_until_zero(const uintptr_t *word) {
    for (unsigned spins = 0; __atomic_load_n(word, __ATOMIC_SEQ_CST); spins++) {
        if (spins < 64) __builtin_ia32_pause();
        else sched_yield();
    }
}

static inline void swalloc_lock_acquire(enum swalloc_lock_id id) {
    uintptr_t *word = &swalloc_locks[id], self = swalloc_thread_identity();
    for (;;) {
        uintptr_t expected = 0;
        if (__atomic_compare_exchange_n(word, &expected, self, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            return;
        swalloc_wait_until_zero(word);
    }
}

/* The lock if it is free, without waiting. */
static inline bool swalloc_lock_try(enum swalloc_lock_id id) {
    uintptr_t *word = &swalloc_locks[id], expected = 0;
    return __atomic_load_n(word, __ATOMIC_RELAXED) == 0 &&
           __atomic_compare_exchange_n(word, &expected, swalloc_thread_identity(), false,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/* Whether the calling thread holds the lock (a signal handler that
   interrupted the holder runs on the holder's thread). */
static inline bool swalloc_lock_held_by_caller(enum swalloc_lock_id id) {
    return __atomic_load_n(&swalloc_locks[id], __ATOMIC_RELAXED) == swalloc_thread_identity();
}

static inline void swalloc_lock_release(enum swalloc_lock_id id) {
    swalloc_invariant(swalloc_lock_held_by_caller(id), "a lock is released by the thread that holds it");
    __atomic_store_n(&swalloc_locks[id], 0, __ATOMIC_RELEASE);
}


/* ---- threads inside libunwind ------------------------------------------
 * libunwind has locks of its own (its one-time set-up, its global cache)
 * and takes the loader's while it unwinds; none is fork-safe. So a fork
 * waits until no thread is inside libunwind, and no thread enters while a
 * fork waits: a readers-writer gate, the unwinding threads its readers.
 * Touched only when a sample is taken. */
/* Set while this thread is inside libunwind. Also read by pipe2
   (exports.c): a pipe libunwind makes for itself (when the probe above
   could not be installed) is moved high, so that the program's next
   open() still gets the lowest free descriptor. */
extern __thread bool swalloc_unwinding __attribute__((tls_model("initial-exec"), visibility("hidden")));
extern uintptr_t swalloc_unwinders __attribute__((visibility("hidden")));   /* threads inside */
extern uintptr_t swalloc_forks_waiting __attribute__((visibility("hidden"))); /* forks waiting for them */

/* Enters libunwind and marks this thread as inside (swalloc_unwinding).
   The flag is raised before the count and lowered after it, so that a fork
   from a signal handler on this thread never waits for this thread's own
   count (it would wait forever); in the instant between, it may count this
   thread as inside when it is not, and wait for one thread fewer. */
static inline void swalloc_unwinder_enter(void) {
    for (;;) {
        swalloc_unwinding = true;
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        __atomic_add_fetch(&swalloc_unwinders, 1, __ATOMIC_SEQ_CST);
        if (__atomic_load_n(&swalloc_forks_waiting, __ATOMIC_SEQ_CST) == 0) return;
        __atomic_sub_fetch(&swalloc_unwinders, 1, __ATOMIC_SEQ_CST);
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
        swalloc_unwinding = false;
        swalloc_wait_until_zero(&swalloc_forks_waiting);
    }
}

static inline void swalloc_unwinder_leave(void) {
    __atomic_sub_fetch(&swalloc_unwinders, 1, __ATOMIC_SEQ_CST);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    swalloc_unwinding = false;
}

/* For the exit report, which may run inside a signal handler (a child
   forked there that calls exit): the lock, unless the calling thread holds
   it already, in which case the report must not wait for itself. Returns
   whether it took the lock. */
static inline bool swalloc_lock_acquire_unless_held(enum swalloc_lock_id id) {
    if (swalloc_lock_held_by_caller(id)) return false;
    swalloc_lock_acquire(id);
    return true;
}

/* Registers the fork handler (fork.c); called once, by the constructor,
   after the global allocator was chosen. */
void swalloc_install_fork_handler(void) __attribute__((visibility("hidden")));
/* How many forks this thread is inside (fork.c): each raised its
   reentrancy depth by one, from its prepare handler to its parent or
   child handler. */
unsigned swalloc_forks_inside(void) __attribute__((visibility("hidden")));
/* While SWALLOC_ALLOCATOR's plug-in loads from `path` and registers (NULL
   afterwards), its fork handlers are run after every other prepare
   handler and before every other parent and child handler
   (allocator_fork.c). */
void swalloc_fork_handlers_of_plugin(const char *_Nullable path) __attribute__((visibility("hidden")));
/* The library's own fork handlers (fork.c), run after every other prepare
   handler and before every other parent and child handler, before the
   allocators' prepare handlers and after their others (allocator_fork.c). */
void swalloc_register_library_fork_handlers(void (*prepare)(void), void (*parent)(void),
                                            void (*child)(void)) __attribute__((visibility("hidden")));

#pragma clang assume_nonnull end

#endif /* SWALLOC_LOCKS_H */
