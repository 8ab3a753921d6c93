/*
 * The fork handlers of jemalloc and tcmalloc, given glibc's rule: in a
 * single-threaded process they do nothing.
 *
 * Both register handlers (pthread_atfork) that take every lock of theirs
 * before fork and release them after. In a single-threaded process no
 * other thread can hold one of those locks, only code that a signal
 * handler interrupted, and a fork from that handler then waits forever
 * for a lock its own thread holds: glibc's tst-mallocfork2 and the host
 * fork_signal hung under both, also with each preloaded alone. glibc's own
 * malloc takes nothing when the process is single-threaded, which is what
 * makes its fork async-signal-safe there (POSIX asks no more). So the
 * library stands in front of the registration (pthread_atfork, which
 * tcmalloc calls, and __register_atfork, which glibc's static
 * pthread_atfork in jemalloc calls) and, for handlers registered by one of
 * these libraries, calls them only when the process has threads.
 *
 * The decision is made once per fork, by the prepare handler, and the
 * parent and child handlers follow it (in the child the process is always
 * single-threaded, yet a threaded parent's prepare took the locks that the
 * child handler must release). Forks nest only on one thread, so the
 * decisions are a per-thread stack of bits; glibc calls the prepare
 * handlers in the reverse order of registration and the others in that
 * order, which pops them in the order they were pushed in reverse.
 * Handlers of every other library, and the program's, pass through.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/single_threaded.h>

#define SWALLOC_EXPORT __attribute__((visibility("default")))

typedef void (*fork_handler)(void);
typedef int (*register_function)(fork_handler, fork_handler, fork_handler, void *);

/* glibc's __register_atfork, found on first use (every caller is inside
   some library's initialisation, where dlsym is safe). */
static register_function glibc_register_atfork;

/* Whether the object containing `address` is jemalloc or tcmalloc
   (Debian's libjemalloc.so.2, libtcmalloc.so.4, libtcmalloc_minimal.so.4;
   by name, since each is loaded under it). dladdr does not allocate. */
static bool from_lock_taking_allocator(const void *address) {
    Dl_info info;
    if (address == NULL || dladdr(address, &info) == 0 || info.dli_fname == NULL) return false;
    const char *name = strrchr(info.dli_fname, '/');
    name = name ? name + 1 : info.dli_fname;
    return strncmp(name, "libjemalloc.", 12) == 0 || strncmp(name, "libtcmalloc.", 12) == 0
        || strncmp(name, "libtcmalloc_minimal.", 20) == 0;
}

/* The registrations wrapped so far; a handler reads its entry only after
   the registration that published it (release/acquire on the count). */
#define WRAPPED_MAX 8
static struct { fork_handler prepare, parent, child; } wrapped[WRAPPED_MAX];
static unsigned wrapped_count;

/* Per fork level on this thread: bit set when its handlers were skipped. */
static __thread uint64_t skipped_bits __attribute__((tls_model("initial-exec")));
static __thread unsigned skipped_depth __attribute__((tls_model("initial-exec")));

static void run_prepare(unsigned index) {
    bool skip = __libc_single_threaded;
    if (skipped_depth < 64) {
        if (skip) skipped_bits |= (uint64_t)1 << skipped_depth;
        else skipped_bits &= ~((uint64_t)1 << skipped_depth);
    }
    skipped_depth++;
    if (!skip) wrapped[index].prepare();
}

/* The prepare handler's decision for the same fork, popped. */
static bool pop_skipped(void) {
    if (skipped_depth == 0) return false;
    skipped_depth--;
    return skipped_depth < 64 ? (skipped_bits >> skipped_depth) & 1 : false;
}

static void run_parent(unsigned index) {
    if (!pop_skipped()) wrapped[index].parent();
}

static void run_child(unsigned index) {
    if (!pop_skipped()) wrapped[index].child();
}

#define TRAMPOLINES(i)                                             \
    static void prepare_##i(void) { run_prepare(i); }              \
    static void parent_##i(void) { run_parent(i); }                \
    static void child_##i(void) { run_child(i); }
TRAMPOLINES(0) TRAMPOLINES(1) TRAMPOLINES(2) TRAMPOLINES(3)
TRAMPOLINES(4) TRAMPOLINES(5) TRAMPOLINES(6) TRAMPOLINES(7)
static const fork_handler prepares[WRAPPED_MAX] = {prepare_0, prepare_1, prepare_2, prepare_3,
                                                   prepare_4, prepare_5, prepare_6, prepare_7};
static const fork_handler parents[WRAPPED_MAX] = {parent_0, parent_1, parent_2, parent_3,
                                                  parent_4, parent_5, parent_6, parent_7};
static const fork_handler children[WRAPPED_MAX] = {child_0, child_1, child_2, child_3,
                                                   child_4, child_5, child_6, child_7};

/* Registers the three handlers with glibc, wrapped when `owner` (an
   address inside the registering object) is jemalloc or tcmalloc and all
   three are given (the stack above needs the prepare handler's push). */
static int register_handlers(fork_handler prepare, fork_handler parent, fork_handler child, void *dso_handle,
                             const void *owner) {
    if (glibc_register_atfork == NULL) {
        glibc_register_atfork = (register_function)dlsym(RTLD_NEXT, "__register_atfork");
        if (glibc_register_atfork == NULL) return -1;
    }
    if (prepare != NULL && parent != NULL && child != NULL && from_lock_taking_allocator(owner)) {
        unsigned index = __atomic_fetch_add(&wrapped_count, 1, __ATOMIC_ACQ_REL);
        if (index < WRAPPED_MAX) {
            wrapped[index].prepare = prepare;
            wrapped[index].parent = parent;
            wrapped[index].child = child;
            __atomic_thread_fence(__ATOMIC_RELEASE);
            return glibc_register_atfork(prepares[index], parents[index], children[index], dso_handle);
        }
    }
    return glibc_register_atfork(prepare, parent, child, dso_handle);
}

/* glibc's static pthread_atfork (libc_nonshared.a), linked into jemalloc
   and into this library, calls this with the caller's __dso_handle, which
   lies inside the caller. */
SWALLOC_EXPORT int __register_atfork(fork_handler prepare, fork_handler parent, fork_handler child,
                                     void *dso_handle) {
    return register_handlers(prepare, parent, child, dso_handle, dso_handle);
}

/* The dynamic pthread_atfork (glibc's compatibility symbol), which
   tcmalloc calls: the caller is found by its return address. glibc's own
   passes its __dso_handle, which is never unloaded; NULL does the same. */
SWALLOC_EXPORT int pthread_atfork(fork_handler prepare, fork_handler parent, fork_handler child) {
    return register_handlers(prepare, parent, child, NULL, __builtin_return_address(0));
}
