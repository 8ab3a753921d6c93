/* What the Swift API needs from the C library beyond the Glibc module:
   malloc_usable_size, declared in <malloc.h>. */
#ifndef SWALLOC_LIBC_H
#define SWALLOC_LIBC_H
#if defined(__linux__)
#include <malloc.h>
#endif
#endif
