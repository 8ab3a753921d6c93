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

#endif
