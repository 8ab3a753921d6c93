/*
 * swalloc_invariants.h — executable invariants, as mimalloc's
 * mi_assert_internal: `scripts/build --checked` compiles them in
 * (SWALLOC_CHECKED), the normal build compiles them away to nothing. A
 * failed one writes "swalloc: invariant failed: WHAT (FILE:LINE)" on fd 2
 * and aborts. Swift's side is Support/Invariant.swift.
 */
#ifndef SWALLOC_INVARIANTS_H
#define SWALLOC_INVARIANTS_H

#include <stdbool.h>

#ifndef SWALLOC_CHECKED
#define SWALLOC_CHECKED 0
#endif

#pragma clang assume_nonnull begin

/* Reports and aborts (invariants.c). */
__attribute__((noreturn, cold)) void swalloc_invariant_failed(const char *what, const char *file, int line)
    __attribute__((visibility("hidden")));

/* Whether this library was built with its invariants checked. */
static inline bool swalloc_invariants_checked(void) { return SWALLOC_CHECKED; }

#define swalloc_invariant(condition, what)                                                   \
    do {                                                                                     \
        if (SWALLOC_CHECKED && !(condition)) swalloc_invariant_failed(what, __FILE__, __LINE__); \
    } while (0)

#pragma clang assume_nonnull end

#endif /* SWALLOC_INVARIANTS_H */
