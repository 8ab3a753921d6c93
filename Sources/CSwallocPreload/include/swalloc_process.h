/*
 * swalloc_process.h — process-wide state: the thread list, retired totals,
 * the arena's bump pointer, the report's buffers.
 * Part of the C half of the preload library; swalloc_preload.h includes
 * every part.
 */
#ifndef SWALLOC_PROCESS_H
#define SWALLOC_PROCESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include "swalloc_locks.h"
#include "swalloc_thread.h"
#include "swalloc_entries.h"

#pragma clang assume_nonnull begin

/* ---- process-wide state ----------------------------------------------------
 * Touched only off the hot path (thread start and exit, the peak scan every
 * SWALLOC_PEAK_STEP bytes a thread allocates, fork, the exit report). */
struct swalloc_process_state {
    struct swalloc_thread_state *_Nullable threads; /* active threads */
    struct swalloc_counters retired;      /* folded from threads that ended */
    int64_t peak_live_bytes;              /* highest live total a scan saw (under the lock) */
    uint64_t arena_next;                  /* bootstrap arena: offset of the next free byte (atomic) */
    uint64_t arena_served;                /* bootstrap arena: blocks served (atomic) */
    uint32_t report_done;                 /* 1 once the exit report started (atomic) */
    /* What a forked child inherited from its parent: blocks and bytes live
       at the fork, which the child may free. */
    uint64_t inherited_blocks;
    uint64_t inherited_bytes;
    pthread_key_t thread_key;             /* its destructor folds an ending thread */
    uint64_t threads_seen;                /* threads that counted anything, main included */
    int32_t parent_pid;                   /* the parent when the process started (or forked) */
    /* A forked child made while its thread was inside the library (a
       signal handler forked there): the loader's lock may be held for
       good, and the report leaves out what needs it (fork.c). */
    bool forked_inside_library;
};
extern struct swalloc_process_state swalloc_process __attribute__((visibility("hidden")));

static inline struct swalloc_process_state *swalloc_process_ptr(void) { return &swalloc_process; }

/* The process lock (SWALLOC_LOCK_PROCESS): thread list, retired totals, peak. */
static inline void swalloc_lock(void) { swalloc_lock_acquire(SWALLOC_LOCK_PROCESS); }
/* The lock if it is free, without waiting: for the peak scan, which a
   scan already under way makes unnecessary. */
static inline bool swalloc_try_lock(void) { return swalloc_lock_try(SWALLOC_LOCK_PROCESS); }
static inline void swalloc_unlock(void) { swalloc_lock_release(SWALLOC_LOCK_PROCESS); }
/* A thread's live bytes (allocated minus freed; negative when it freed
   other threads' blocks), read while that thread may be counting: relaxed
   loads, the bytes allocated first, so that a free counted between the two
   reads can only lower the result. For the peak scan. */
static inline int64_t swalloc_thread_live(const struct swalloc_thread_state *thread) {
    uint64_t allocated = __atomic_load_n(&thread->counters.bytes_allocated, __ATOMIC_RELAXED);
    uint64_t freed = __atomic_load_n(&thread->counters.bytes_freed, __ATOMIC_RELAXED);
    return (int64_t)(allocated - freed);
}
/* Reserves `bytes` from the bootstrap arena with the given alignment of the
   returned offset + header; returns the offset, or UINT64_MAX when full. */
static inline uint64_t swalloc_arena_reserve(uint64_t bytes) {
    uint64_t old = __atomic_load_n(&swalloc_process.arena_next, __ATOMIC_RELAXED);
    for (;;) {
        if (bytes > SWALLOC_BOOTSTRAP_BYTES - old) return UINT64_MAX;
        if (__atomic_compare_exchange_n(&swalloc_process.arena_next, &old, old + bytes,
                                        true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
            return old;
    }
}
/* Gives back the newest reservation [offset, offset+bytes) if it still is. */
static inline bool swalloc_arena_unreserve(uint64_t offset, uint64_t bytes) {
    uint64_t expected = offset + bytes;
    return __atomic_compare_exchange_n(&swalloc_process.arena_next, &expected, offset,
                                       false, __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}
static inline bool swalloc_claim_report(void) {
    return __atomic_exchange_n(&swalloc_process.report_done, 1, __ATOMIC_ACQ_REL) == 0;
}
static inline uint64_t swalloc_atomic_increment(uint64_t *value) {
    return __atomic_add_fetch(value, 1, __ATOMIC_RELAXED);
}


/* A buffer for the exit report: it is written once per process (the report
   is claimed atomically), and static storage keeps it off the heap. */
#define SWALLOC_REPORT_BUFFER_BYTES (64u << 10)
extern unsigned char swalloc_report_buffer[SWALLOC_REPORT_BUFFER_BYTES] __attribute__((visibility("hidden")));
static inline unsigned char *swalloc_report_buffer_base(void) { return swalloc_report_buffer; }

/* Five path buffers: the program's path, the profile's
   path with %p expanded, its temporary sibling, and SWALLOC_OUT as it was
   at start-up (programs rewrite their environment: redis-server's process
   title overwrote the string getenv had returned). */
#define SWALLOC_PATH_BYTES 4096
#define SWALLOC_OUT_TEMPLATE 3
#define SWALLOC_LIVE_PATH 4 /* the live profile file (Live/LiveProfile.swift) */
extern char swalloc_paths[5][SWALLOC_PATH_BYTES] __attribute__((visibility("hidden")));
static inline char *swalloc_path_buffer(int index) { return swalloc_paths[index]; }

#pragma clang assume_nonnull end

#endif
