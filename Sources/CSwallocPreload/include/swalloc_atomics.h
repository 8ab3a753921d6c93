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

#pragma clang assume_nonnull end

#endif
