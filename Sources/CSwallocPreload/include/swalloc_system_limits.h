/*
 * Limits of the kernel that the built-in allocators stay within.
 */
#ifndef SWALLOC_SYSTEM_LIMITS_H
#define SWALLOC_SYSTEM_LIMITS_H

#include <stddef.h>

/* /proc/sys/vm/max_map_count: how many mappings the process may have (the
   kernel's default is 65530), or `fallback` when it cannot be read. Reads
   with open/read: no allocation, fine in the constructor. */
long swalloc_max_map_count(long fallback) __attribute__((visibility("hidden")));

/* The process's peak resident set (VmHWM of /proc/self/status) in bytes,
   0 if unknown. Reset by exec, so it is the program's own, not that of the
   process that spawned it. open/read only: fine in the exit report. */
unsigned long long swalloc_peak_resident_bytes(void) __attribute__((visibility("hidden")));

#endif
