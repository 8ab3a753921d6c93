/*
 * The fork handlers of jemalloc and tcmalloc, given glibc's rules for its
 * own malloc locks: taken last before fork and released first after it,
 * and not at all in a single-threaded process.
 *
 * Both register handlers (pthread_atfork) that take every lock of theirs
 * before fork and release them after. Two ways that went wrong, each a
 * hang:
 * - In a single-threaded process no other thread can hold one of those
 *   locks, only code that a signal handler interrupted, and a fork from
 *   that handler waited forever for a lock its own thread holds (glibc's
 *   tst-mallocfork2, host fork_signal; also with either preloaded alone).
 *   glibc's malloc takes nothing there, which is what makes its fork
 *   async-signal-safe in that case (POSIX asks no more).
 * - glibc runs prepare handlers newest first. The library loads the
 *   allocator in its constructor, after the program's libraries ran
 *   theirs, so a prepare handler one of them registered ran after the
 *   allocator's had taken its locks, and an allocation in it waited for
 *   itself (host atfork_alloc). glibc's fork takes its malloc locks after
 *   every handler, so that handlers may allocate.
 * So the library stands in front of the registration (pthread_atfork,
 * which tcmalloc calls, and __register_atfork, which glibc's static
 * pthread_atfork in jemalloc calls: every registration in the process,
 * since the library is preloaded). The first registration it sees is
 * preceded by one of its own, the sentinel, whose prepare handler then
 * runs after every other and whose parent and child handlers run before
 * every other. An allocator's prepare handler, at its turn, only notes
 * that it is due; the sentinel runs the due ones last, newest first, and
 * their parent and child handlers first, oldest first; at their own turn
 * these do nothing. jemalloc's and tcmalloc's are due only in a threaded
 * process. A plug-in's (SWALLOC_ALLOCATOR) are deferred the same way and
 * always due: the plug-in decides itself what a single-threaded fork
 * takes (docs/writing-an-allocator.md), and its locks, taken last, are
 * then never held while another library's handler allocates or frees.
 * Handlers of every other library, and the program's, are registered
 * unchanged.
 *
 * One mask per thread says which handlers are due. A fork from a signal
 * handler that interrupts another fork's prepare phase on the same thread
 * of a threaded process clears it early (glibc releases its handler lock
 * while each handler runs), so the outer fork may then skip an
 * allocator's handlers, as the allocator alone would have deadlocked
 * there; a single-threaded process runs none of jemalloc's or tcmalloc's.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
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

/* The path the plug-in is loaded from, while it loads and registers its
   allocator (AllocatorChoice.loadPlugin), else NULL. */
static const char *plugin_path;
void swalloc_fork_handlers_of_plugin(const char *path) { __atomic_store_n(&plugin_path, path, __ATOMIC_RELEASE); }

enum handler_owner { OTHER, LOCK_TAKING_ALLOCATOR, PLUGIN };

/* Whose handlers these are, from the object containing `address`:
   jemalloc or tcmalloc (Debian's libjemalloc.so.2, libtcmalloc.so.4,
   libtcmalloc_minimal.so.4; by name, since each is loaded under it), the
   plug-in being loaded (by its path, as dlopen was given it), or another.
   dladdr does not allocate. */
static enum handler_owner owner_of(const void *address) {
    Dl_info info;
    if (address == NULL || dladdr(address, &info) == 0 || info.dli_fname == NULL) return OTHER;
    const char *plugin = __atomic_load_n(&plugin_path, __ATOMIC_ACQUIRE);
    if (plugin != NULL && strcmp(info.dli_fname, plugin) == 0) return PLUGIN;
    const char *name = strrchr(info.dli_fname, '/');
    name = name ? name + 1 : info.dli_fname;
    if (strncmp(name, "libjemalloc.", 12) == 0 || strncmp(name, "libtcmalloc.", 12) == 0
        || strncmp(name, "libtcmalloc_minimal.", 20) == 0)
        return LOCK_TAKING_ALLOCATOR;
    return OTHER;
}

/* The registrations wrapped so far, in registration order; an entry is
   whole before its trampolines are registered with glibc. */
#define WRAPPED_MAX 8
static struct {
    fork_handler prepare, parent, child;
    bool only_when_threaded; /* jemalloc's and tcmalloc's */
} wrapped[WRAPPED_MAX];
static unsigned wrapped_count;

/* Bit i: wrapped[i]'s handlers are due in this thread's fork. */
static __thread uint32_t due __attribute__((tls_model("initial-exec")));

static void note_due(unsigned index) {
    if (!wrapped[index].only_when_threaded || !__libc_single_threaded) due |= 1u << index;
}

/* The library's own fork handlers (fork.c), run by the sentinel: its
   prepare handler before the allocators' (as glibc's fork takes the stdio
   list lock before its malloc locks), its parent and child handlers after
   theirs. Set once, by the constructor. */
static fork_handler library_prepare, library_parent, library_child;

static void sentinel_prepare(void) {
    if (library_prepare) library_prepare();
    for (unsigned index = WRAPPED_MAX; index-- > 0;)
        if (due & (1u << index)) wrapped[index].prepare();
}

/* The due handlers' parent or child halves, oldest first, then the
   library's. */
static void run_after_fork(bool in_child) {
    uint32_t ran = due;
    due = 0;
    for (unsigned index = 0; index < WRAPPED_MAX; index++)
        if (ran & (1u << index)) (in_child ? wrapped[index].child : wrapped[index].parent)();
    fork_handler library = in_child ? library_child : library_parent;
    if (library) library();
}

static void sentinel_parent(void) { run_after_fork(false); }
static void sentinel_child(void) { run_after_fork(true); }

/* The allocator's own parent and child handlers run from the sentinel's. */
static void nothing(void) {}

#define TRAMPOLINE(i) static void prepare_##i(void) { note_due(i); }
TRAMPOLINE(0) TRAMPOLINE(1) TRAMPOLINE(2) TRAMPOLINE(3)
TRAMPOLINE(4) TRAMPOLINE(5) TRAMPOLINE(6) TRAMPOLINE(7)
static const fork_handler prepares[WRAPPED_MAX] = {prepare_0, prepare_1, prepare_2, prepare_3,
                                                   prepare_4, prepare_5, prepare_6, prepare_7};

/* glibc's __register_atfork found, and the sentinel registered before
   anything else; false when either failed (then nothing is deferred). */
static bool ready_to_register(void) {
    static int sentinel_state; /* 0: not yet, 1: being registered, 2: registered, 3: refused */
    if (__atomic_load_n(&sentinel_state, __ATOMIC_ACQUIRE) == 2) return true;
    if (glibc_register_atfork == NULL) {
        glibc_register_atfork = (register_function)dlsym(RTLD_NEXT, "__register_atfork");
        if (glibc_register_atfork == NULL) return false;
    }
    int expected = 0;
    if (__atomic_compare_exchange_n(&sentinel_state, &expected, 1, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
        int refused = glibc_register_atfork(sentinel_prepare, sentinel_parent, sentinel_child, NULL);
        __atomic_store_n(&sentinel_state, refused ? 3 : 2, __ATOMIC_RELEASE);
    }
    /* Another thread's first registration: the sentinel is older than any. */
    while (__atomic_load_n(&sentinel_state, __ATOMIC_ACQUIRE) == 1) {
    }
    return __atomic_load_n(&sentinel_state, __ATOMIC_ACQUIRE) == 2;
}

/* Registers the three handlers with glibc, the sentinel first of all;
   deferred to the sentinel when `owner` (an address inside the registering
   object) is jemalloc, tcmalloc or the plug-in and all three are given. */
static int register_handlers(fork_handler prepare, fork_handler parent, fork_handler child, void *dso_handle,
                             const void *owner) {
    bool deferrable = ready_to_register();
    if (glibc_register_atfork == NULL) return ENOMEM;
    enum handler_owner kind = deferrable && prepare != NULL && parent != NULL && child != NULL ? owner_of(owner) : OTHER;
    if (kind != OTHER) {
        unsigned index = __atomic_fetch_add(&wrapped_count, 1, __ATOMIC_ACQ_REL);
        if (index < WRAPPED_MAX) {
            wrapped[index].prepare = prepare;
            wrapped[index].parent = parent;
            wrapped[index].child = child;
            wrapped[index].only_when_threaded = kind == LOCK_TAKING_ALLOCATOR;
            __atomic_thread_fence(__ATOMIC_RELEASE);
            return glibc_register_atfork(prepares[index], nothing, nothing, dso_handle);
        }
    }
    return glibc_register_atfork(prepare, parent, child, dso_handle);
}

void swalloc_register_library_fork_handlers(void (*prepare)(void), void (*parent)(void), void (*child)(void)) {
    if (ready_to_register()) {
        library_prepare = prepare;
        library_parent = parent;
        library_child = child;
    } else if (glibc_register_atfork != NULL) {
        (void)glibc_register_atfork(prepare, parent, child, NULL);
    }
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
