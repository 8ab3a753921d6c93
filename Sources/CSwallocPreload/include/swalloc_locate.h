/*
 * Which file a code address belongs to, and where that file is loaded,
 * read from /proc/self/maps: for the guard allocator's fault lines, written
 * from a SIGSEGV handler that may have interrupted the loader itself, so
 * that dladdr and dl_iterate_phdr (the loader's lock) are out.
 */
#ifndef SWALLOC_LOCATE_H
#define SWALLOC_LOCATE_H

#include <stddef.h>
#include <stdint.h>

#pragma clang assume_nonnull begin

enum { SWALLOC_LOCATION_PATH_BYTES = 256 };

struct swalloc_location {
    /* The file's load base: the start of its mapping at file offset 0
       (symbols of a shared object or PIE are relative to it). */
    uintptr_t base;
    /* The mapped file's path, NUL-terminated; "" when not found (an
       anonymous mapping, JIT code, an address nothing maps, a path longer
       than the buffer). */
    char path[SWALLOC_LOCATION_PATH_BYTES];
};

/* Fills locations[i] for addresses[i], i < count, in one pass over
   /proc/self/maps. Async-signal-safe: open, read and close on `buffer`
   (at least 4096 bytes, the caller's), no allocation, no lock. Returns
   false when the file cannot be read (every location then empty). */
bool swalloc_locate(const uintptr_t *addresses, size_t count, struct swalloc_location *locations,
                    char *buffer, size_t buffer_bytes) __attribute__((visibility("hidden")));

/* The faulting instruction's address, from a SA_SIGINFO handler's third
   argument (0 when unknown). */
uintptr_t swalloc_fault_instruction(void *_Nullable context) __attribute__((visibility("hidden")));

#pragma clang assume_nonnull end

#endif
