/*
 * swalloc_live.h — the live profile: a file the library keeps mapped
 * (MAP_SHARED) while the process runs, so that what it has counted is on
 * disk whatever happens to the process (a crash, _exit, SIGKILL), and a
 * running process can be read without stopping it (`swalloc dump PID`).
 *
 * Written by the preload library (Sources/SwallocPreload/Live/), read by
 * the CLI (Sources/SwallocReport/LiveProfile.swift); this header is the
 * one definition of the layout both use. docs/profile-format.md says when
 * the file exists and what a profile made from it means.
 *
 * Layout (offsets in the header, each checked by the reader against the
 * file's size):
 *
 *   | header (1 page) | timeline points | modules | site records … | frames … |
 *
 * Consistency: the header's totals and timeline change under a sequence
 * counter (odd while the writer is inside); a reader copies them and
 * retries while the counter was odd or moved. Site records and frames
 * only grow (a record is complete before `site_count` covers it) and their
 * numbers change in place: a reader takes each value as of some moment.
 */
#ifndef SWALLOC_LIVE_H
#define SWALLOC_LIVE_H

#include <stdbool.h>
#include <stdint.h>

#define SWALLOC_HISTOGRAM_BUCKETS 65 /* bucket b holds sizes in [2^(b-1), 2^b); 0 holds 0 */

/* What a thread (and the process, summed) has counted. */
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

/* One interned call stack and what was allocated at it. The estimates are
   sums of sample weights (exact counts when every allocation is sampled). */
struct swalloc_site {
    uint64_t hash;
    int32_t firstFrame;      /* index into the frame pool */
    int32_t depth;
    int64_t samples;
    double allocations;
    double bytes;
    double liveAllocations;
    double liveBytes;
    double peakLiveBytes;    /* liveBytes when the peak was last copied */
};

#define SWALLOC_LIVE_MAGIC 0x3145564C4C415753ull /* "SWALLVE1" */
#define SWALLOC_LIVE_VERSION 1u
#define SWALLOC_LIVE_HEADER_BYTES 4096u
#define SWALLOC_LIVE_TIMELINE_POINTS 512u
#define SWALLOC_LIVE_MODULES 512u
#define SWALLOC_LIVE_MODULE_PATH 240u
#define SWALLOC_LIVE_PROGRAM_PATH 1024u

enum {
    SWALLOC_LIVE_RUNNING = 1, /* the process is (or was, if it died) counting */
    SWALLOC_LIVE_EXITED = 2,  /* it reached its exit report; the totals are final */
};

struct swalloc_live_point {
    uint64_t nanoseconds; /* since the process started counting */
    int64_t live_bytes;
};

struct swalloc_live_module {
    uint64_t base;            /* load address of its first loadable segment's page */
    uint64_t end;             /* end of its last loadable segment */
    uint32_t build_id_length; /* 0: none */
    uint8_t build_id[20];
    char path[SWALLOC_LIVE_MODULE_PATH]; /* NUL-terminated; "" is the program */
};

struct swalloc_live_header {
    uint64_t magic;           /* written last when the file is made */
    uint32_t version;
    uint32_t state;           /* SWALLOC_LIVE_* */
    int32_t pid;
    int32_t ppid;
    uint64_t started_unix_ns; /* CLOCK_REALTIME when counting started */
    uint64_t timeline_offset, modules_offset, sites_offset, frames_offset;
    uint64_t sites_capacity, frames_capacity;
    char program[SWALLOC_LIVE_PROGRAM_PATH];
    char allocator[64];
    int64_t sample_mean_bytes; /* 0: sampling off */
    int32_t sample_depth;
    uint32_t reserved0;

    /* Under `sequence`: */
    uint64_t sequence;
    uint64_t updated_ns;      /* CLOCK_MONOTONIC, since counting started */
    struct swalloc_counters totals;
    int64_t peak_live_bytes;
    uint64_t inherited_blocks, inherited_bytes;
    uint64_t threads_seen;
    uint64_t arena_blocks, arena_bytes;
    uint64_t timeline_count, timeline_interval_ns;

    /* Sampling, under the library's sampler lock (read as of some moment): */
    uint64_t site_count;      /* records [0, site_count) are complete */
    uint64_t samples, dropped, untracked_blocks;
    uint32_t stack_table_overflowed;
    uint32_t unwinder;        /* 0 unused, 1 libunwind, 2 unavailable */
    int64_t peak_owners_at_bytes;
    uint64_t module_count;
    /* The sampled guard: its BYTES (0 with sample:1/N or off), and the
       blocks guarded so far. */
    uint64_t guard_mean_bytes, guarded_blocks;
};

_Static_assert(sizeof(struct swalloc_live_header) <= SWALLOC_LIVE_HEADER_BYTES, "the header fits its page");
_Static_assert(sizeof(struct swalloc_site) == 64, "site records are 64 bytes");

#endif /* SWALLOC_LIVE_H */
