/*
 * swalloc_preload.h — the C half of the preload library, kept to what Swift
 * cannot express: glibc's undeclared allocator entry points, errno, initial-
 * exec thread-local storage, static storage with a known address range, and
 * atomic primitives on process-wide state. Every function here is `static
 * inline` so that it is inlined into the Swift `@c` functions that call it
 * (docs/measurements.md, "TLS access": a TLS access is then one instruction).
 */
#ifndef SWALLOC_PRELOAD_H
#define SWALLOC_PRELOAD_H

/* dladdr, Dl_info, program_invocation_name. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <stdlib.h>
#include <stdio.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <elf.h>
#include <link.h>

#include "swalloc.h"
#include "swalloc_invariants.h"
#include "swalloc_locks.h"
#include "swalloc_stderr.h"
#include "swalloc_profile_target.h"
#include "swalloc_system_limits.h"

#pragma clang assume_nonnull begin

/* ---- glibc's allocator ------------------------------------------------
 * Public GLIBC_2.2.5 symbols that no header declares. Calling them needs no
 * dlsym, so they are usable before the library is initialised. */
void *_Nullable __libc_malloc(size_t size);
void  __libc_free(void *_Nullable ptr);
void *_Nullable __libc_calloc(size_t count, size_t size);
void *_Nullable __libc_realloc(void *_Nullable ptr, size_t size);
void *_Nullable __libc_memalign(size_t alignment, size_t size);
void *_Nullable __libc_valloc(size_t size);
void *_Nullable __libc_pvalloc(size_t size);

/* glibc's hot entry points as constant function pointers, filled in by the
   dynamic linker when the library is loaded (storage.c). A call through
   them is one indirect jump, like a GOT call, and unlike a PLT call it does
   not jump twice; unlike -fno-plt, it does not make every other libc
   function the library uses an eager relocation at start-up. */
extern void *_Nullable (*_Nonnull const swalloc_glibc_malloc)(size_t) __attribute__((visibility("hidden")));
extern void (*_Nonnull const swalloc_glibc_free)(void *_Nullable) __attribute__((visibility("hidden")));
extern void *_Nullable (*_Nonnull const swalloc_glibc_calloc)(size_t, size_t) __attribute__((visibility("hidden")));
extern void *_Nullable (*_Nonnull const swalloc_glibc_realloc)(void *_Nullable, size_t) __attribute__((visibility("hidden")));
static inline void *_Nullable swalloc_libc_malloc(size_t size) { return swalloc_glibc_malloc(size); }
static inline void swalloc_libc_free(void *_Nullable ptr) { swalloc_glibc_free(ptr); }
static inline void *_Nullable swalloc_libc_calloc(size_t count, size_t size) { return swalloc_glibc_calloc(count, size); }
static inline void *_Nullable swalloc_libc_realloc(void *_Nullable ptr, size_t size) { return swalloc_glibc_realloc(ptr, size); }

/* ---- errno ------------------------------------------------------------ */
static inline void swalloc_set_errno(int value) { errno = value; }
static inline int swalloc_errno(void) { return errno; }

/* ---- per-thread state ---------------------------------------------------
 * One instance per thread in static TLS (initial-exec: the library is
 * loaded at start-up, by LD_PRELOAD or DT_NEEDED). Zeroed for every new
 * thread by glibc, which is the "fresh" state below. */
#define SWALLOC_HISTOGRAM_BUCKETS 65 /* bucket b holds sizes in [2^(b-1), 2^b); 0 holds 0 */

struct swalloc_counters {
    uint64_t malloc_calls;
    uint64_t calloc_calls;
    uint64_t realloc_calls;
    uint64_t free_calls;
    uint64_t aligned_calls;
    uint64_t failed_calls;
    uint64_t blocks_freed;
    uint64_t bytes_allocated;
    uint64_t bytes_freed;
    /* Successful allocations by size; their sum is the number of blocks
       allocated, so that is not counted separately. */
    uint64_t histogram[SWALLOC_HISTOGRAM_BUCKETS];
};

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
    /* This thread's random generator for sampling gaps (0: not seeded). */
    uint64_t sample_random;
    /* The site (+1; 0: none) of the sampled block being freed right now,
       for the guard allocator's quarantine: set around its dealloc only. */
    int32_t freeing_site;
    struct swalloc_thread_state *_Nullable next; /* thread list, under the process lock */
    struct swalloc_thread_state *_Nullable prev;
};

/* Where a sample's stack is captured: per thread, so that capturing needs
   no lock and no buffer on the stack to clear (a sample runs inside the
   reentrancy guard, so it is never nested on one thread). */
#define SWALLOC_FRAME_BUFFER 80
extern __thread void *_Nullable swalloc_frames[SWALLOC_FRAME_BUFFER]
    __attribute__((tls_model("initial-exec"), visibility("hidden")));
static inline void *_Nullable *_Nonnull swalloc_frame_buffer(void) { return swalloc_frames; }

/* Counting mode's malloc that reaches the checkpoint (Exports/FastPaths.swift),
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

/* ---- the bootstrap arena's storage ---------------------------------------
 * In .bss: costs nothing until touched, and its address range is two
 * link-time constants, so recognising its pointers is two comparisons. */
#define SWALLOC_BOOTSTRAP_BYTES (1u << 20)
extern unsigned char swalloc_bootstrap_storage[SWALLOC_BOOTSTRAP_BYTES] __attribute__((visibility("hidden")));

static inline unsigned char *swalloc_bootstrap_base(void) {
    return swalloc_bootstrap_storage;
}
static inline bool swalloc_is_bootstrap(const void *_Nullable ptr) {
    return (uintptr_t)ptr - (uintptr_t)swalloc_bootstrap_storage < SWALLOC_BOOTSTRAP_BYTES;
}

/* The range direct mode's free hands to glibc without looking further:
   everything but the arena. In the other modes the range is set empty
   (limit 0), so that one compare sends every free down the mode's path. */
extern uintptr_t swalloc_slow_free_base __attribute__((visibility("hidden")));
extern uintptr_t swalloc_slow_free_size __attribute__((visibility("hidden")));
static inline bool swalloc_free_is_direct(const void *_Nullable ptr) {
    return (uintptr_t)ptr - swalloc_slow_free_base >= swalloc_slow_free_size;
}
/* The mode's malloc and free: set once by the constructor
   (swalloc_install_entries), before the program's code runs; until then
   the general path, which serves the starting mode from the arena. The
   exported malloc and free are each one indirect jump: to glibc's malloc
   itself in direct mode (whose free entry applies the range check above),
   else to the mode's path. No compare of the mode, no second jump. */
extern void *_Nullable (*_Nonnull swalloc_malloc_entry)(size_t) __attribute__((visibility("hidden")));
extern void (*_Nonnull swalloc_free_entry)(void *_Nullable) __attribute__((visibility("hidden")));
/* The pairs of paths the entries can point at, one per serving mode that
   has paths of its own (ServingMode.entrySet names them; the framed mode
   uses the general paths). */
enum swalloc_entry_set {
    SWALLOC_ENTRIES_GENERAL = 0,
    SWALLOC_ENTRIES_DIRECT = 1,
    SWALLOC_ENTRIES_COUNTING = 2,
    SWALLOC_ENTRIES_REGISTERED = 3,
};
/* Points the entries at a set of paths. */
void swalloc_install_entries(enum swalloc_entry_set set) __attribute__((visibility("hidden")));

/* Finds glibc's exit for the exported exit (exports.c): by the
   constructor, so that exit never calls dlsym. */
void swalloc_resolve_exit(void) __attribute__((visibility("hidden")));

static inline void swalloc_set_direct_free_range(bool direct) {
    swalloc_slow_free_base = direct ? (uintptr_t)swalloc_bootstrap_storage : 0;
    swalloc_slow_free_size = direct ? SWALLOC_BOOTSTRAP_BYTES : UINTPTR_MAX;
}

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

/* The next malloc in the lookup order, when it is not glibc's (a linked
   jemalloc), as a global allocator's table (next_allocator.c); false when
   the next one is glibc's. Called once, by the constructor. */
bool swalloc_next_allocator(struct swalloc_global_allocator *table) __attribute__((visibility("hidden")));
/* Frees a block without a header through that allocator (one it handed to
   the program by a call of its own, like jemalloc's mallocx); false when
   the allocator is glibc's. */
bool swalloc_next_free(void *block) __attribute__((visibility("hidden")));

/* ---- the registered global allocator ----------------------------------------
 * A copy of the table given to swalloc_set_global_allocator. */
extern struct swalloc_global_allocator swalloc_registered __attribute__((visibility("hidden")));
static inline struct swalloc_global_allocator *swalloc_registered_ptr(void) {
    return &swalloc_registered;
}
/* The table's alloc and dealloc, called without a null check: the registry
   accepts only a table with both (GlobalAllocatorRegistry.install). */
static inline void *_Nullable swalloc_registered_alloc(size_t size, size_t align) {
    return swalloc_registered.alloc(swalloc_registered.context, size, align);
}
static inline void swalloc_registered_dealloc(void *ptr, size_t size, size_t align) {
    swalloc_registered.dealloc(swalloc_registered.context, ptr, size, align);
}

/* A buffer for the exit report: it is written once per process (the report
   is claimed atomically), and static storage keeps it off the heap. */
#define SWALLOC_REPORT_BUFFER_BYTES (64u << 10)
extern unsigned char swalloc_report_buffer[SWALLOC_REPORT_BUFFER_BYTES] __attribute__((visibility("hidden")));
static inline unsigned char *swalloc_report_buffer_base(void) { return swalloc_report_buffer; }

/* Four path buffers for the report: the program's path, the profile's
   path with %p expanded, its temporary sibling, and SWALLOC_OUT as it was
   at start-up (programs rewrite their environment: redis-server's process
   title overwrote the string getenv had returned). */
#define SWALLOC_PATH_BYTES 4096
#define SWALLOC_OUT_TEMPLATE 3
extern char swalloc_paths[4][SWALLOC_PATH_BYTES] __attribute__((visibility("hidden")));
static inline char *swalloc_path_buffer(int index) { return swalloc_paths[index]; }

/* ---- atomics on memory the Swift code owns ------------------------------- */
static inline int64_t swalloc_atomic_add_i64(int64_t *value, int64_t delta) {
    return __atomic_add_fetch(value, delta, __ATOMIC_ACQ_REL);
}
static inline uint64_t swalloc_atomic_add_u64(uint64_t *value, uint64_t delta) {
    return __atomic_add_fetch(value, delta, __ATOMIC_RELAXED);
}

/* ---- fault handling (the guard allocator) --------------------------------- */
typedef void (*swalloc_fault_handler)(int, siginfo_t *_Nonnull, void *_Nullable);
static inline int swalloc_install_fault_handler(swalloc_fault_handler handler) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = handler;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    return sigaction(SIGSEGV, &action, NULL);
}
/* Back to the default action: returning from the handler then re-runs the
   faulting instruction, and the program dies of its signal as it would. */
static inline void swalloc_reset_fault_handler(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, NULL);
}
static inline void *_Nullable swalloc_fault_address(siginfo_t *_Nonnull info) { return info->si_addr; }
/* Reads `bytes` at `address` without faulting: false if any is unreadable.
   (process_vm_readv on ourselves reports EFAULT instead of a signal, and is
   async-signal-safe.) */
static inline bool swalloc_safe_read(void *destination, const void *address, size_t bytes) {
    struct iovec local = {destination, bytes};
    struct iovec remote = {(void *)address, bytes};
    return syscall(SYS_process_vm_readv, getpid(), &local, 1UL, &remote, 1UL, 0UL) == (long)bytes;
}

/* ---- small libc helpers Swift cannot call directly ------------------------- */
static inline int swalloc_open_read(const char *path) {
    return open(path, O_RDONLY | O_CLOEXEC);
}
static inline void *_Nullable swalloc_map_anonymous(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}
/* munmap and mprotect keep errno: free calls them, and free keeps errno
   (POSIX.1-2024; glibc's tst-free-errno makes munmap fail on purpose). */
static inline int swalloc_unmap(void *address, size_t bytes) {
    int saved = errno, result = munmap(address, bytes);
    errno = saved;
    return result;
}
static inline int swalloc_protect_none(void *address, size_t bytes) {
    int saved = errno, result = mprotect(address, bytes, PROT_NONE);
    errno = saved;
    return result;
}
static inline void *swalloc_rtld_next(void) { return RTLD_NEXT; }
static inline void *_Nullable swalloc_rtld_default(void) { return RTLD_DEFAULT; }

#pragma clang assume_nonnull end

#endif /* SWALLOC_PRELOAD_H */
