/*
 * Storage for the declarations in swalloc_preload.h. A header alone cannot
 * provide it: `static` data in a header is never emitted into the library
 * (docs/measurements.md, "Static data in a header"), and thread-local
 * variables need a definition in a C file.
 */
#include "swalloc_preload.h"

__thread struct swalloc_thread_state swalloc_thread
    __attribute__((tls_model("initial-exec")));

__thread bool swalloc_unwinding __attribute__((tls_model("initial-exec")));

__thread void *swalloc_frames[SWALLOC_FRAME_BUFFER] __attribute__((tls_model("initial-exec")));

/* 16-byte aligned so that every arena block can be. */
unsigned char swalloc_bootstrap_storage[SWALLOC_BOOTSTRAP_BYTES] __attribute__((aligned(4096)));

struct swalloc_process_state swalloc_process;

/* Until the constructor decides, every free takes the slow path. */
uintptr_t swalloc_slow_free_base = 0;
uintptr_t swalloc_slow_free_size = UINTPTR_MAX;

/* Until the constructor chose the mode (ServingMode.installEntries, one
   file per mode in Modes/), every call takes the general path, which
   serves the starting mode from the arena. */
void *swalloc_general_malloc(size_t size);
void swalloc_general_free(void *ptr);

void *(*swalloc_malloc_entry)(size_t) = swalloc_general_malloc;
void (*swalloc_free_entry)(void *) = swalloc_general_free;

struct swalloc_global_allocator swalloc_registered;
struct swalloc_own_blocks swalloc_registered_own;

unsigned char swalloc_report_buffer[SWALLOC_REPORT_BUFFER_BYTES];

char swalloc_paths[5][SWALLOC_PATH_BYTES];

void *(*const swalloc_libc_malloc)(size_t) = __libc_malloc;
void (*const swalloc_libc_free)(void *) = __libc_free;
void *(*const swalloc_libc_calloc)(size_t, size_t) = __libc_calloc;
void *(*const swalloc_libc_realloc)(void *, size_t) = __libc_realloc;

/* A weak reference to swalloc_register: an executable linked against
   libswalloc.so that defines it then exports it (the linker exports
   symbols a shared library refers to), so that the constructor finds the
   program's own allocator with dlsym(RTLD_DEFAULT). */
extern void swalloc_register(void) __attribute__((weak));
void (*volatile swalloc_register_reference)(void) __attribute__((visibility("hidden"))) = swalloc_register;
