/*
 * swalloc_thread.h — the per-thread state: counters, the histogram, the
 * sampler's countdown, in initial-exec TLS (one instruction to reach).
 * Part of the C half of the preload library; swalloc_preload.h includes
 * every part.
 */
#ifndef SWALLOC_THREAD_H
#define SWALLOC_THREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "swalloc_live.h"

#pragma clang assume_nonnull begin

/* ---- per-thread state ---------------------------------------------------
 * One instance per thread in static TLS (initial-exec: the library is
 * loaded at start-up, by LD_PRELOAD or DT_NEEDED). Zeroed for every new
 * thread by glibc, which is the "fresh" state below. */
/* struct swalloc_counters (and SWALLOC_HISTOGRAM_BUCKETS) is in swalloc_live.h:
   the live profile file carries it, and the CLI reads it there. */

enum {
    SWALLOC_THREAD_FRESH = 0,   /* not yet in the thread list */
    SWALLOC_THREAD_ACTIVE = 1,  /* in the list; counts in its own counters */
    SWALLOC_THREAD_RETIRED = 2, /* folded at thread exit; late events go to the process totals */
};

/* Each thread scans the process's live bytes for the peak every
   SWALLOC_PEAK_STEP bytes it allocates: the peak's error bound per thread
   (Statistics/Checkpoint.swift). */
#define SWALLOC_PEAK_STEP ((int64_t)64 << 10)

struct swalloc_thread_state {
    /* registration (low half) and the reentrancy depth (high half) in one
       word, so that "active and not inside the library" is one compare. */
    union {
        struct {
            uint32_t registration; /* SWALLOC_THREAD_* */
            uint32_t depth;        /* reentrancy guard: >0 while inside the library */
        };
        uint64_t gate;
    };
    /* Bytes this thread may still allocate before its next checkpoint
       (Statistics/Checkpoint.swift): the one countdown of the fast paths.
       The allocation that takes it to 0 or below reaches the checkpoint,
       which scans the peak and takes a sample when theirs are due. A fresh
       thread's zero reaches it on its first allocation. */
    int64_t countdown;
    struct swalloc_counters counters;
    void *_Nullable bump_chunk;   /* the bump allocator's current chunk */
    void *_Nullable bump_spare;   /* a recycled chunk of this thread's, kept for its next */
    /* What the checkpoint keeps: the countdown's value when it was set, and
       the bytes then left before the next sample and the next peak scan. */
    int64_t countdown_start;
    int64_t sample_left;
    int64_t peak_left;
    /* A new peak the checkpoint found, whose owners are copied once this
       allocation's sample (if any) is recorded; meaningful while the
       checkpoint runs. */
    int64_t peak_found;
    /* This thread's random generator for sampling gaps (0: not seeded). */
    uint64_t sample_random;
    /* The site (+1; 0: none) of the sampled block being freed right now,
       for the guard allocator's quarantine: set around its dealloc only. */
    int32_t freeing_site;
    struct swalloc_thread_state *_Nullable next; /* thread list, under the process lock */
    struct swalloc_thread_state *_Nullable prev;
    /* Bytes left before the sampled guard's next guarded allocation
       (Allocators/GuardSampling.swift), once guard_started is set. */
    int64_t guard_left;
    bool guard_started;
    /* sample:1/N: the thread's recent mean charge per allocation call,
       its allocation calls when that mean was last updated, and since
       then the bytes the countdown charged and the allocations that
       reached the checkpoint (whose own bytes are left out). */
    int64_t guard_mean_size;
    uint64_t guard_calls_mark, guard_window_charged, guard_window_checkpoints;
};

/* Where a sample's stack is captured: per thread, so that capturing needs
   no lock and no buffer on the stack to clear (a sample runs inside the
   reentrancy guard, so it is never nested on one thread). */
#define SWALLOC_FRAME_BUFFER 80
extern __thread void *_Nullable swalloc_frames[SWALLOC_FRAME_BUFFER]
    __attribute__((tls_model("initial-exec"), visibility("hidden")));
static inline void *_Nullable *_Nonnull swalloc_frame_buffer(void) { return swalloc_frames; }

/* Counting mode's malloc that reaches the checkpoint (Modes/CountingMode.swift),
   declared here so that Swift calls it with C's convention: the counting
   malloc can then tail-call it, and its frame is not one more for
   libunwind to walk when it samples. */
void *_Nullable swalloc_malloc_then_check(size_t size) __attribute__((visibility("hidden")));

extern __thread struct swalloc_thread_state swalloc_thread
    __attribute__((tls_model("initial-exec"), visibility("hidden")));

/* The histogram as a pointer: Swift imports C arrays as tuples, which
   cannot be indexed by a variable. */
static inline uint64_t *swalloc_histogram(struct swalloc_counters *counters) {
    return counters->histogram;
}

static inline struct swalloc_thread_state *swalloc_current_thread(void) {
    return &swalloc_thread;
}

/* Not inside the library (whatever the registration). */
static inline bool swalloc_thread_outside(const struct swalloc_thread_state *thread) {
    return thread->depth == 0;
}

/* Counts `size` bytes allocated towards the next checkpoint; true when
   this allocation reaches it. */
static inline bool swalloc_countdown(struct swalloc_thread_state *thread, int64_t size) {
    return (thread->countdown -= size) <= 0;
}

/* Active in the thread list, and not inside the library. */
static inline bool swalloc_thread_counts(const struct swalloc_thread_state *thread) {
    return thread->gate == SWALLOC_THREAD_ACTIVE;
}

#pragma clang assume_nonnull end

#endif
