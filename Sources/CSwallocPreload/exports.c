/*
 * The symbols libswalloc.so exports (interpose/exports.map), with default
 * visibility, as glibc's own malloc family has.
 *
 * Why in C: Swift gives its public symbols protected visibility, and a
 * protected malloc family made glibc 2.36's loader print "warning: direct
 * reference to protected function `free' ... may break pointer equality" on
 * stderr for every non-PIE executable that takes the address of free (gcc's
 * cc1, for one), and so changed what the program printed. Each function
 * here is one jump: malloc and free through the mode's entry, the others to
 * their Swift implementation (Exports/MallocFamily.swift, PublicAPI.swift).
 */
#include "swalloc_preload.h"
#include "swalloc.h"
#include <malloc.h>

#define SWALLOC_EXPORT __attribute__((visibility("default")))
#define SWALLOC_IMPL __attribute__((visibility("hidden")))

SWALLOC_IMPL void *swalloc_calloc(size_t count, size_t size);
SWALLOC_IMPL void *swalloc_realloc(void *ptr, size_t size);
SWALLOC_IMPL void *swalloc_reallocarray(void *ptr, size_t count, size_t size);
SWALLOC_IMPL int swalloc_posix_memalign(void **result, size_t alignment, size_t size);
SWALLOC_IMPL void *swalloc_aligned_alloc(size_t alignment, size_t size);
SWALLOC_IMPL void *swalloc_memalign(size_t alignment, size_t size);
SWALLOC_IMPL void *swalloc_valloc(size_t size);
SWALLOC_IMPL void *swalloc_pvalloc(size_t size);
SWALLOC_IMPL size_t swalloc_malloc_usable_size(void *ptr);
SWALLOC_IMPL int swalloc_set_global_allocator_impl(const struct swalloc_global_allocator *allocator);
SWALLOC_IMPL int swalloc_set_global_allocator_v2_impl(const struct swalloc_global_allocator_v2 *allocator);
SWALLOC_IMPL void swalloc_free_foreign_impl(void *ptr);

SWALLOC_EXPORT void *malloc(size_t size) { return swalloc_malloc_entry(size); }
SWALLOC_EXPORT void free(void *ptr) { swalloc_free_entry(ptr); }
/* glibc's compatibility cfree and C23's sized frees are free itself. */
SWALLOC_EXPORT void cfree(void *ptr) { swalloc_free_entry(ptr); }
SWALLOC_EXPORT void free_sized(void *ptr, size_t size) { (void)size; swalloc_free_entry(ptr); }
SWALLOC_EXPORT void free_aligned_sized(void *ptr, size_t alignment, size_t size) {
    (void)alignment, (void)size;
    swalloc_free_entry(ptr);
}
/* The functions below ask glibc's compatibility hooks first when a
   registered allocator serves with libc_malloc_debug.so loaded
   (debug_hooks.c); malloc and free do through their entries. */
#define SWALLOC_CALLER __builtin_return_address(0)
#define SWALLOC_HOOKED __builtin_expect(swalloc_debug_hooks_on, 0)
SWALLOC_EXPORT void *calloc(size_t count, size_t size) {
    if (SWALLOC_HOOKED) return swalloc_hooked_calloc(count, size, SWALLOC_CALLER);
    return swalloc_calloc(count, size);
}
SWALLOC_EXPORT void *realloc(void *ptr, size_t size) {
    if (SWALLOC_HOOKED) return swalloc_hooked_realloc(ptr, size, SWALLOC_CALLER);
    return swalloc_realloc(ptr, size);
}
SWALLOC_EXPORT void *reallocarray(void *ptr, size_t count, size_t size) {
    if (SWALLOC_HOOKED) return swalloc_hooked_reallocarray(ptr, count, size, SWALLOC_CALLER);
    return swalloc_reallocarray(ptr, count, size);
}
SWALLOC_EXPORT int posix_memalign(void **result, size_t alignment, size_t size) {
    if (SWALLOC_HOOKED) return swalloc_hooked_posix_memalign(result, alignment, size, SWALLOC_CALLER);
    return swalloc_posix_memalign(result, alignment, size);
}
SWALLOC_EXPORT void *aligned_alloc(size_t alignment, size_t size) {
    if (SWALLOC_HOOKED) return swalloc_hooked_memalign(alignment, size, SWALLOC_CALLER);
    return swalloc_aligned_alloc(alignment, size);
}
SWALLOC_EXPORT void *memalign(size_t alignment, size_t size) {
    if (SWALLOC_HOOKED) return swalloc_hooked_memalign(alignment, size, SWALLOC_CALLER);
    return swalloc_memalign(alignment, size);
}
SWALLOC_EXPORT void *valloc(size_t size) {
    if (SWALLOC_HOOKED) return swalloc_hooked_valloc(size, false, SWALLOC_CALLER);
    return swalloc_valloc(size);
}
SWALLOC_EXPORT void *pvalloc(size_t size) {
    if (SWALLOC_HOOKED) return swalloc_hooked_valloc(size, true, SWALLOC_CALLER);
    return swalloc_pvalloc(size);
}
SWALLOC_EXPORT size_t malloc_usable_size(void *ptr) {
    size_t size;
    if (SWALLOC_HOOKED && swalloc_hooked_usable_size(ptr, &size)) return size;
    return swalloc_malloc_usable_size(ptr);
}
/* mallinfo2 and mallinfo describe glibc's heap; when a registered allocator
   (bump, guard, a plug-in, an established one) serves the program, its
   blocks are not there, and the library adds what it counted of them
   (swalloc_registered_live_bytes: 0 without a registered allocator or
   without statistics) to the bytes in use and the arena, so that a
   program that watches its memory through them still sees it. */
SWALLOC_IMPL size_t swalloc_registered_live_bytes(void);
typedef struct mallinfo2 (*swalloc_mallinfo2_function)(void);
SWALLOC_EXPORT struct mallinfo2 mallinfo2(void) {
    static swalloc_mallinfo2_function next;
    if (next == NULL) next = (swalloc_mallinfo2_function)dlsym(RTLD_NEXT, "mallinfo2");
    struct mallinfo2 info = {0};
    if (next != NULL) info = next();
    size_t extra = swalloc_registered_live_bytes();
    info.uordblks += extra;
    info.arena += extra;
    return info;
}
/* The old form: int fields, which glibc fills by truncation. */
SWALLOC_EXPORT struct mallinfo mallinfo(void) {
    struct mallinfo2 wide = mallinfo2();
    struct mallinfo info = {
        .arena = (int)wide.arena, .ordblks = (int)wide.ordblks, .smblks = (int)wide.smblks,
        .hblks = (int)wide.hblks, .hblkhd = (int)wide.hblkhd, .usmblks = (int)wide.usmblks,
        .fsmblks = (int)wide.fsmblks, .uordblks = (int)wide.uordblks, .fordblks = (int)wide.fordblks,
        .keepcost = (int)wide.keepcost,
    };
    return info;
}

SWALLOC_EXPORT int swalloc_set_global_allocator(const struct swalloc_global_allocator *allocator) {
    return swalloc_set_global_allocator_impl(allocator);
}
SWALLOC_EXPORT int swalloc_set_global_allocator_v2(const struct swalloc_global_allocator_v2 *allocator) {
    return swalloc_set_global_allocator_v2_impl(allocator);
}
SWALLOC_EXPORT void swalloc_free_foreign(void *ptr) { swalloc_free_foreign_impl(ptr); }

/* ---- the start of the program's exit ------------------------------------
 * Where the library learns that the program has started to exit, before
 * any exit handler of the program runs (one may close stderr: `ls`): main
 * returning, and exit(). See swalloc_stderr.h. */

typedef int (*swalloc_main_function)(int, char **, char **);
typedef int (*swalloc_start_main_function)(swalloc_main_function, int, char **, void (*)(void), void (*)(void),
                                           void (*)(void), void *);
static swalloc_main_function program_main;

static int main_then_exit(int argc, char **argv, char **environment) {
    int status = program_main(argc, argv, environment);
    swalloc_stderr_keep_for_exit();
    return status;
}

/* glibc's start-up calls main through here: the program's main runs as it
   would, and its return is seen before glibc calls exit with its status.
   Both of glibc's versions of this symbol are one function (2.34's takes
   the old one's arguments), so the default one serves either caller. */
SWALLOC_EXPORT int __libc_start_main(swalloc_main_function main, int argc, char **argv, void (*init)(void),
                                     void (*fini)(void), void (*rtld_fini)(void), void *stack_end) {
    swalloc_start_main_function next = (swalloc_start_main_function)dlsym(RTLD_NEXT, "__libc_start_main");
    if (next == NULL) abort(); /* no libc after this library: nothing can run */
    program_main = main;
    return next(main_then_exit, argc, argv, init, fini, rtld_fini, stack_end);
}

typedef void (*swalloc_exit_function)(int) __attribute__((noreturn));
static swalloc_exit_function glibc_exit;

/* Found by the constructor, so that exit never calls dlsym (which may
   allocate); found here if a constructor that ran before ours exits. */
void swalloc_resolve_exit(void) {
    if (glibc_exit == NULL) glibc_exit = (swalloc_exit_function)dlsym(RTLD_NEXT, "exit");
}

SWALLOC_EXPORT __attribute__((noreturn)) void exit(int status) {
    swalloc_stderr_keep_for_exit();
    swalloc_resolve_exit();
    if (glibc_exit == NULL) _exit(status);
    glibc_exit(status);
}

/* ---- a quick exit -----------------------------------------------------------
 * _exit and _Exit run no exit handler, so no report: a process that leaves
 * by them (dash, Python's forked workers) keeps only its live profile. It
 * gets the final totals here, and a forked child that has not made its
 * own file yet makes it (LiveProfile.swift); then the process leaves by the
 * system call, as glibc's _exit does. */
void swalloc_live_before_quick_exit(void);

SWALLOC_EXPORT __attribute__((noreturn)) void _exit(int status) {
    swalloc_live_before_quick_exit();
    for (;;) syscall(SYS_exit_group, status);
}

SWALLOC_EXPORT __attribute__((noreturn)) void _Exit(int status) { _exit(status); }

/* ---- descriptors the library's helpers open ------------------------------
 * libunwind opens a pipe for itself on its first backtrace (to test
 * addresses for readability), unless its test was pointed at the library's
 * (unwinder_probe.c). At the lowest free descriptors it would shift every
 * descriptor the program opens afterwards, so a pipe made while the
 * library unwinds is moved above the program's range. Anyone else's pipe2
 * is the system call, as glibc's is. */
SWALLOC_EXPORT int pipe2(int fds[2], int flags) {
    int result = (int)syscall(SYS_pipe2, fds, flags);
    if (result == 0 && swalloc_unwinding) {
        int saved = errno;
        for (int end = 0; end < 2; end++) {
            int moved = swalloc_move_descriptor_above(fds[end], swalloc_unwinder_pipe_floor(), true, (flags & O_CLOEXEC) != 0);
            if (moved >= 0) fds[end] = moved;
        }
        errno = saved;
    }
    return result;
}

/* ---- libraries loaded with RTLD_DEEPBIND ----------------------------------
 * dlopen(RTLD_DEEPBIND) binds the library's malloc and free to glibc's own
 * (its dependencies come before the global scope), so its blocks would
 * bypass the allocator and the statistics, and its free would hand glibc
 * blocks of the library's: PHP's extensions crashed under bump, guard, a
 * plug-in and a limit. The flag is taken off whenever blocks are not plain
 * glibc blocks (every mode but direct), as sanitizers refuse it; the
 * library then binds to the global scope like any other. A tail call, so
 * that glibc sees the program's own return address as the caller (its
 * search paths and namespace), not this library's. */
typedef void *(*swalloc_dlopen_function)(const char *, int);
static swalloc_dlopen_function glibc_dlopen;

SWALLOC_EXPORT void *dlopen(const char *file, int mode) {
    if (glibc_dlopen == NULL) glibc_dlopen = (swalloc_dlopen_function)dlsym(RTLD_NEXT, "dlopen");
    /* Direct mode is the one whose malloc entry is glibc's malloc itself. */
    if (swalloc_malloc_entry != __libc_malloc) mode &= ~RTLD_DEEPBIND;
    __attribute__((musttail)) return glibc_dlopen(file, mode);
}
