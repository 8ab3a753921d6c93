/*
 * The fork handler: fork in a threaded program leaves every lock of the
 * library consistent in the child, and a fork from a signal handler never
 * waits for a lock its own thread holds. The rules, and why they are these,
 * are in docs/fork-and-signals.md; in short:
 *
 * - Like glibc's malloc, the library's locks are taken after the stdio list
 *   lock (_IO_list_lock, recursive, public since glibc 2.2.5): a thread in
 *   fflush(NULL) holds that lock and waits for a FILE whose owner, inside
 *   getline, is in realloc; taking the library's locks first closed that
 *   cycle.
 * - In a single-threaded process nothing is taken, as glibc takes nothing
 *   there: no other thread can hold a lock, so only a signal handler that
 *   interrupted the library could, and waiting for it would never end.
 * - A lock the forking thread already holds (a signal handler interrupted
 *   its owner) is left as it is, in the parent and in the child: the
 *   interrupted code releases it when the handler returns.
 * - No thread is inside libunwind when the child is made: libunwind's own
 *   locks are not fork-safe (swalloc_unwinder_enter).
 * - Like glibc's malloc locks, the library's are taken after every other
 *   prepare handler ran and released before any other parent or child
 *   handler runs (allocator_fork.c's sentinel runs these handlers): a
 *   prepare handler of the program's libraries that frees a sampled block
 *   waited for the sampler's lock this handler held.
 * - From then on the forking thread is inside the library (its reentrancy
 *   depth is raised): an allocator's own prepare handlers, run after this
 *   one, that allocate reach glibc directly, never a lock the fork holds.
 */
#include "swalloc_preload.h"
#include <sys/single_threaded.h>

uintptr_t swalloc_locks[SWALLOC_LOCK_COUNT];
uintptr_t swalloc_unwinders;
uintptr_t swalloc_forks_waiting;

/* glibc's stdio list lock: public symbols without a header. */
void _IO_list_lock(void);
void _IO_list_unlock(void);

/* The child's account starts over (Statistics/ThreadRegistry.swift). */
void swalloc_statistics_after_fork_in_child(void);
/* The guard allocator's quarantine was not copied (GuardBuiltin.dealloc). */
void swalloc_guard_after_fork_in_child(void);
/* The live profile's mapping stops being the parent's file (LiveProfile). */
void swalloc_live_after_fork_in_child(void);

/* What one fork's prepare handler did, for its parent or child handler.
   Forks nest only on one thread (a signal handler that forks while its
   thread is inside fork), so the records are a per-thread stack. */
struct fork_record {
    bool stdio_locked; /* and the unwinders' gate closed */
    uint8_t taken; /* bit i: lock i was taken by this fork */
};
#define FORK_NESTING 4
static __thread struct fork_record fork_records[FORK_NESTING] __attribute__((tls_model("initial-exec")));
static __thread unsigned fork_depth __attribute__((tls_model("initial-exec")));

static void prepare(void) {
    swalloc_current_thread()->depth += 1;
    struct fork_record record = {false, 0};
    unsigned level = fork_depth++;
    if (!__libc_single_threaded && level < FORK_NESTING) {
        _IO_list_lock();
        record.stdio_locked = true;
        /* Close the gate, then wait for the threads inside libunwind to
           leave (this one stays inside if a signal handler interrupted it
           there). */
        __atomic_add_fetch(&swalloc_forks_waiting, 1, __ATOMIC_SEQ_CST);
        uintptr_t own = swalloc_unwinding ? 1 : 0;
        while (__atomic_load_n(&swalloc_unwinders, __ATOMIC_SEQ_CST) > own) sched_yield();
        for (int id = 0; id < SWALLOC_LOCK_COUNT; id++) {
            if (swalloc_lock_held_by_caller(id)) continue;
            swalloc_lock_acquire(id);
            record.taken |= (uint8_t)(1u << id);
        }
    }
    if (level < FORK_NESTING) fork_records[level] = record;
}

static struct fork_record release_taken(void) {
    /* The record is read before the depth goes down: a fork from a signal
       handler in between would otherwise write over it. */
    unsigned level = fork_depth - 1;
    struct fork_record record = level < FORK_NESTING ? fork_records[level] : (struct fork_record){false, 0};
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    fork_depth = level;
    for (int id = SWALLOC_LOCK_COUNT - 1; id >= 0; id--)
        if (record.taken & (1u << id)) swalloc_lock_release(id);
    return record;
}

static void in_parent(void) {
    int saved = errno; /* fork's errno when it failed */
    struct fork_record record = release_taken();
    if (record.stdio_locked) {
        __atomic_sub_fetch(&swalloc_forks_waiting, 1, __ATOMIC_SEQ_CST);
        _IO_list_unlock();
    }
    swalloc_current_thread()->depth -= 1;
    errno = saved;
}

static void in_child(void) {
    /* The prepare handler raised the depth by one: above that, the fork
       interrupted the library's own code, which may hold the loader's lock
       (inside dl_iterate_phdr or dladdr) for a thread the child does not
       have. The child's report then calls neither (Report/SitesWriter). */
    swalloc_process.forked_inside_library = swalloc_current_thread()->depth > 1;
    /* In a threaded process glibc has reset the stdio list lock already
       (before the child handlers run), so it is not released here. */
    (void)release_taken();
    /* The child's only thread is this one: the gate's counts are its own
       (a thread of the parent's that was entering or backing off in the
       meantime left its count behind, and the child's next fork, which
       counts as threaded, would wait for it forever). */
    uintptr_t waiting = 0;
    for (unsigned level = 0; level < fork_depth && level < FORK_NESTING; level++)
        waiting += fork_records[level].stdio_locked;
    __atomic_store_n(&swalloc_forks_waiting, waiting, __ATOMIC_SEQ_CST);
    __atomic_store_n(&swalloc_unwinders, swalloc_unwinding ? 1 : 0, __ATOMIC_SEQ_CST);
    /* First: nothing the child does may reach its parent's live file. */
    swalloc_live_after_fork_in_child();
    if (!swalloc_lock_held_by_caller(SWALLOC_LOCK_PROCESS)) swalloc_statistics_after_fork_in_child();
    if (!swalloc_lock_held_by_caller(SWALLOC_LOCK_GUARD)) swalloc_guard_after_fork_in_child();
    swalloc_debug_hooks_after_fork_in_child();
    swalloc_current_thread()->depth -= 1;
}

unsigned swalloc_forks_inside(void) { return fork_depth; }

void swalloc_install_fork_handler(void) {
    swalloc_register_library_fork_handlers(prepare, in_parent, in_child);
}
