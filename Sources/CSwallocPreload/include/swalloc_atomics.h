/*
 * swalloc_atomics.h — atomic operations on memory the Swift code owns, each
 * with its ordering named.
 * Part of the C half of the preload library; swalloc_preload.h includes
 * every part.
 */
#ifndef SWALLOC_ATOMICS_H
#define SWALLOC_ATOMICS_H

#include <stdint.h>

#pragma clang assume_nonnull begin

/* ---- atomics on memory the Swift code owns ------------------------------- */
static inline int64_t swalloc_atomic_add_i64(int64_t *value, int64_t delta) {
    return __atomic_add_fetch(value, delta, __ATOMIC_ACQ_REL);
}
static inline uint64_t swalloc_atomic_add_u64(uint64_t *value, uint64_t delta) {
    return __atomic_add_fetch(value, delta, __ATOMIC_RELAXED);
}
/* For the live profile's header (swalloc_live.h), which another process
   reads: a release store publishes what was written before it. */
static inline void swalloc_atomic_store_u64(uint64_t *value, uint64_t new_value) {
    __atomic_store_n(value, new_value, __ATOMIC_RELEASE);
}
static inline void swalloc_atomic_store_u32(uint32_t *value, uint32_t new_value) {
    __atomic_store_n(value, new_value, __ATOMIC_RELEASE);
}
static inline void swalloc_fence_release(void) { __atomic_thread_fence(__ATOMIC_RELEASE); }
static inline void swalloc_fence_acquire(void) { __atomic_thread_fence(__ATOMIC_ACQUIRE); }

#pragma clang assume_nonnull end

#endif
