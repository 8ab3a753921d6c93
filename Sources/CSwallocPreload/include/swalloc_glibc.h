/*
 * swalloc_glibc.h — glibc's allocator entry points and errno.
 * Part of the C half of the preload library; swalloc_preload.h includes
 * every part.
 */
#ifndef SWALLOC_GLIBC_H
#define SWALLOC_GLIBC_H

#include <errno.h>
#include <stddef.h>

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

/* How the library calls glibc's allocator: constant function pointers to
   the functions above, filled in by the dynamic linker when the library is
   loaded (storage.c). A call through them is one indirect jump, like a GOT
   call, and unlike a PLT call it does not jump twice; unlike -fno-plt, it
   does not make every other libc function the library uses an eager
   relocation at start-up. Swift calls them as functions. */
extern void *_Nullable (*_Nonnull const swalloc_libc_malloc)(size_t) __attribute__((visibility("hidden")));
extern void (*_Nonnull const swalloc_libc_free)(void *_Nullable) __attribute__((visibility("hidden")));
extern void *_Nullable (*_Nonnull const swalloc_libc_calloc)(size_t, size_t) __attribute__((visibility("hidden")));
extern void *_Nullable (*_Nonnull const swalloc_libc_realloc)(void *_Nullable, size_t) __attribute__((visibility("hidden")));

/* ---- errno ------------------------------------------------------------ */
static inline void swalloc_set_errno(int value) { errno = value; }
static inline int swalloc_errno(void) { return errno; }

#pragma clang assume_nonnull end

#endif
