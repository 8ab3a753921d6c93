/*
 * glibc's compatibility hooks under a registered allocator
 * (swalloc_debug_hooks.h).
 *
 * Since glibc 2.34 the old hooks (__malloc_hook and its siblings, and
 * __malloc_initialize_hook) live only in libc_malloc_debug.so, which a
 * program preloads to have them: its malloc family calls a hook that is
 * set, else glibc's allocator. Under `system` the library's next
 * allocator is that family (next_allocator.c), so the hooks run as they
 * would without the library. With bump, guard, a plug-in or an
 * established allocator chosen, the library serves the program itself
 * and the debug library's family is never called: a program's hooks, and
 * its __malloc_initialize_hook, silently never ran (glibc's
 * tst-compathooks-on and tst-mallocstate). So, with the debug library
 * loaded, each function of the family asks its hook first, as the debug
 * library's own does, and serves the call itself only when the hook is
 * unset.
 *
 * The hooks' first values are the debug library's set-up functions. The
 * first call through one runs the set-up (which calls the program's
 * __malloc_initialize_hook, which may set hooks of its own) and then
 * serves the call: through the program's new hook, which comes back here,
 * or from glibc's allocator. A block of glibc's cannot go to the chosen
 * allocator (jemalloc's free of one crashes), so that one block is
 * remembered and goes back to the debug library's own free, realloc and
 * malloc_usable_size. The set-up runs once: its functions clear the hooks
 * before anything else.
 */
#include "swalloc_preload.h"
#include "swalloc_debug_hooks.h"
#include "swalloc_entries.h"
#include <stdatomic.h>

typedef void *(*malloc_hook_fn)(size_t, const void *);
typedef void (*free_hook_fn)(void *, const void *);
typedef void *(*realloc_hook_fn)(void *, size_t, const void *);
typedef void *(*memalign_hook_fn)(size_t, size_t, const void *);

bool swalloc_debug_hooks_on;

/* The hook variables the debug library reads. */
static malloc_hook_fn volatile *malloc_hook;
static free_hook_fn volatile *free_hook;
static realloc_hook_fn volatile *realloc_hook;
static memalign_hook_fn volatile *memalign_hook;

/* The debug library's set-up functions: the hooks' values at start-up. */
static void *setup_malloc, *setup_realloc, *setup_memalign;

/* The debug library's own family, for the block its set-up served. */
static void (*debug_free)(void *);
static void *(*debug_realloc)(void *, size_t);
static size_t (*debug_usable_size)(void *);

/* The block the set-up served from glibc's allocator, until it is freed
   (or reallocated: then the block that replaced it, glibc's too). */
static void *_Atomic setup_block;

/* The set-up runs once, on the one thread that claims it: the debug
   library does not serialise it, and two concurrent set-ups would serve
   two blocks of glibc's. A call that finds it claimed by another thread
   (or made on the set-up's thread while it runs: a signal handler's) is
   served as if it came just before: by the library, without waiting,
   since the set-up runs the program's initialize hook, which may wait for
   that very thread. */
static atomic_bool setup_claimed;
/* Set on the thread that runs the set-up. */
static __thread bool in_setup __attribute__((tls_model("initial-exec")));
/* The blocks the library served while the set-up ran (the program's hooks
   allocating through it), less those freed meanwhile: the set-up's answer
   is one of them, or glibc's. Written by the set-up's thread only. */
enum { served_capacity = 64 };
static void *served_in_setup[served_capacity];
static int served_count;
static bool served_overflowed;

/* The serving mode's entries, which the hooked ones wrap. */
static void *(*mode_malloc)(size_t);
static void (*mode_free)(void *);

/* The Swift implementations the exported functions call otherwise. */
void *swalloc_calloc(size_t count, size_t size);
void *swalloc_realloc(void *ptr, size_t size);
void *swalloc_reallocarray(void *ptr, size_t count, size_t size);
void *swalloc_memalign(size_t alignment, size_t size);
int swalloc_posix_memalign(void **result, size_t alignment, size_t size);
void *swalloc_valloc(size_t size);
void *swalloc_pvalloc(size_t size);

/* A hook is called for the program's own calls: not for the library's,
   made inside it (a plug-in's, libunwind's), which the program's hook
   would count as its own. */
static bool applies(const void *hook) {
    return hook != NULL && swalloc_thread_outside(swalloc_current_thread());
}

static bool is_setup(const void *hook) {
    return hook == setup_malloc || hook == setup_realloc || hook == setup_memalign;
}

/* A block the library served: noted while the set-up runs. */
static void *served(void *block) {
    if (__builtin_expect(in_setup, 0) && block != NULL) {
        if (served_count < served_capacity) served_in_setup[served_count++] = block;
        else served_overflowed = true;
    }
    return block;
}

/* A block the library freed while the set-up runs: no longer one it
   served (glibc may hand out the same address). */
static void forget_served(const void *block) {
    for (int index = 0; index < served_count; index++)
        if (served_in_setup[index] == block) {
            served_in_setup[index] = served_in_setup[--served_count];
            return;
        }
}

/* What a call does with the hook in `variable`: serve_here (no hook
   applies, or another thread claimed the set-up: served by the library),
   call_hook, or run_setup (the debug library's set-up runs through the
   hook, on this thread, which has claimed it: then end_setup). `*hook`
   receives the hook read. */
enum hook_turn { serve_here, call_hook, run_setup };
static enum hook_turn turn_for(const void *volatile *variable, const void **hook) {
    for (;;) {
        *hook = *variable;
        if (!applies(*hook)) return serve_here;
        if (!is_setup(*hook)) return call_hook;
        if (in_setup || atomic_exchange_explicit(&setup_claimed, true, memory_order_acq_rel)) return serve_here;
        if (*variable == *hook) break;
        /* The hook changed meanwhile: give the claim back, read it again. */
        atomic_store_explicit(&setup_claimed, false, memory_order_release);
    }
    in_setup = true;
    served_count = 0;
    served_overflowed = false;
    return run_setup;
}

/* The set-up's answer: remembered when it is glibc's, not the library's
   (with more blocks served than noted, it is taken as the library's). */
static void *end_setup(void *block) {
    bool ours = served_overflowed;
    for (int index = 0; index < served_count && !ours; index++) ours = served_in_setup[index] == block;
    if (block != NULL && !ours) atomic_store(&setup_block, block);
    in_setup = false;
    return block;
}

static bool is_setup_block(const void *ptr) {
    return ptr != NULL && ptr == atomic_load_explicit(&setup_block, memory_order_relaxed);
}

/* Reached by a jump from the exported malloc and free: the return
   address is the program's. */
static void *hooked_malloc(size_t size) {
    const void *caller = __builtin_return_address(0), *hook;
    switch (turn_for((const void *volatile *)malloc_hook, &hook)) {
    case call_hook: return ((malloc_hook_fn)hook)(size, caller);
    case run_setup: return end_setup(((malloc_hook_fn)hook)(size, caller));
    case serve_here: break;
    }
    return served(mode_malloc(size));
}

static void hooked_free(void *ptr) {
    free_hook_fn hook = *free_hook;
    if (__builtin_expect(applies((const void *)hook), 0)) {
        hook(ptr, __builtin_return_address(0));
        return;
    }
    if (__builtin_expect(is_setup_block(ptr), 0)) {
        atomic_store(&setup_block, NULL);
        debug_free(ptr);
        return;
    }
    if (__builtin_expect(in_setup, 0)) forget_served(ptr);
    mode_free(ptr);
}

void *swalloc_hooked_calloc(size_t count, size_t size, const void *caller) {
    const void *hook;
    enum hook_turn turn = turn_for((const void *volatile *)malloc_hook, &hook);
    size_t bytes;
    if (turn == serve_here) return served(swalloc_calloc(count, size));
    if (__builtin_mul_overflow(count, size, &bytes)) {
        errno = ENOMEM;
        return NULL;
    }
    /* As the debug library: calloc is the malloc hook's block, cleared. */
    void *block = ((malloc_hook_fn)hook)(bytes, caller);
    if (turn == run_setup) block = end_setup(block);
    if (block != NULL) memset(block, 0, bytes);
    return block;
}

void *swalloc_hooked_realloc(void *ptr, size_t size, const void *caller) {
    /* The set-up's realloc hands its block to glibc's realloc; before the
       set-up every block is the library's (the program has made no other
       call yet), so a realloc of one is served here and the set-up waits
       for the next call. */
    const void *hook = NULL;
    enum hook_turn turn = ptr != NULL && is_setup((const void *)*realloc_hook)
                              ? serve_here
                              : turn_for((const void *volatile *)realloc_hook, &hook);
    if (turn == call_hook) return ((realloc_hook_fn)hook)(ptr, size, caller);
    if (turn == run_setup) return end_setup(((realloc_hook_fn)hook)(ptr, size, caller));
    if (!is_setup_block(ptr)) return served(swalloc_realloc(ptr, size));
    /* glibc's block stays glibc's: the debug library resizes it. */
    void *moved = debug_realloc(ptr, size);
    if (moved != NULL || size == 0) atomic_store(&setup_block, moved);
    return moved;
}

void *swalloc_hooked_reallocarray(void *ptr, size_t count, size_t size, const void *caller) {
    /* glibc's reallocarray is its realloc after the overflow check. */
    size_t bytes;
    if (__builtin_mul_overflow(count, size, &bytes)) return swalloc_reallocarray(ptr, count, size);
    return swalloc_hooked_realloc(ptr, bytes, caller);
}

void *swalloc_hooked_memalign(size_t alignment, size_t size, const void *caller) {
    const void *hook;
    switch (turn_for((const void *volatile *)memalign_hook, &hook)) {
    case call_hook: return ((memalign_hook_fn)hook)(alignment, size, caller);
    case run_setup: return end_setup(((memalign_hook_fn)hook)(alignment, size, caller));
    case serve_here: break;
    }
    return served(swalloc_memalign(alignment, size));
}

int swalloc_hooked_posix_memalign(void **result, size_t alignment, size_t size, const void *caller) {
    if (!applies((const void *)*memalign_hook)) {
        int error = swalloc_posix_memalign(result, alignment, size);
        if (error == 0) served(*result);
        return error;
    }
    /* The alignment is checked before the hook is asked, as glibc does. */
    if (alignment == 0 || alignment % sizeof(void *) != 0 || (alignment & (alignment - 1)) != 0) return EINVAL;
    *result = swalloc_hooked_memalign(alignment, size, caller);
    return *result != NULL ? 0 : ENOMEM;
}

void *swalloc_hooked_valloc(size_t size, bool round_up, const void *caller) {
    if (!applies((const void *)*memalign_hook)) return served(round_up ? swalloc_pvalloc(size) : swalloc_valloc(size));
    size_t page = (size_t)getpagesize();
    if (round_up) {
        if (__builtin_add_overflow(size, page - 1, &size)) {
            errno = ENOMEM;
            return NULL;
        }
        size &= ~(page - 1);
    }
    return swalloc_hooked_memalign(page, size, caller);
}

bool swalloc_hooked_usable_size(void *ptr, size_t *size) {
    if (!is_setup_block(ptr)) return false;
    *size = debug_usable_size(ptr);
    return true;
}

void swalloc_debug_hooks_after_fork_in_child(void) {
    /* Claimed by a thread the child does not have, before it cleared the
       hooks: the child's first call runs the set-up. */
    if (swalloc_debug_hooks_on && !in_setup &&
        (is_setup((const void *)*malloc_hook) || is_setup((const void *)*realloc_hook) ||
         is_setup((const void *)*memalign_hook)))
        atomic_store(&setup_claimed, false);
}

bool swalloc_debug_hooks_install(void) {
    /* The hooks are compatibility symbols of version GLIBC_2.2.5 (x86-64's
       first), which a program built against an older glibc binds to. Found
       in the global scope, not in the debug library: a program that sets a
       hook has the variable copied into itself (a copy relocation), and
       the debug library reads that copy. (Loaded by LD_PRELOAD, which the
       caller checked: the debug library's definitions come before libc's
       placeholders.) */
    malloc_hook = dlvsym(RTLD_DEFAULT, "__malloc_hook", "GLIBC_2.2.5");
    free_hook = dlvsym(RTLD_DEFAULT, "__free_hook", "GLIBC_2.2.5");
    realloc_hook = dlvsym(RTLD_DEFAULT, "__realloc_hook", "GLIBC_2.2.5");
    memalign_hook = dlvsym(RTLD_DEFAULT, "__memalign_hook", "GLIBC_2.2.5");
    void *debug = dlopen("libc_malloc_debug.so.0", RTLD_LAZY | RTLD_NOLOAD);
    if (debug == NULL) return false;
    /* Its family is versioned without a default version (nm: free@, not
       free@@): dlsym would pass over it to libc's. */
    debug_free = (void (*)(void *))dlvsym(debug, "free", "GLIBC_2.2.5");
    debug_realloc = (void *(*)(void *, size_t))dlvsym(debug, "realloc", "GLIBC_2.2.5");
    debug_usable_size = (size_t (*)(void *))dlvsym(debug, "malloc_usable_size", "GLIBC_2.2.5");
    dlclose(debug); /* it stays loaded: LD_PRELOAD holds it */
    if (malloc_hook == NULL || free_hook == NULL || realloc_hook == NULL || memalign_hook == NULL ||
        debug_free == NULL || debug_realloc == NULL || debug_usable_size == NULL)
        return false;
    setup_malloc = (void *)*malloc_hook;
    setup_realloc = (void *)*realloc_hook;
    setup_memalign = (void *)*memalign_hook;
    mode_malloc = swalloc_malloc_entry;
    mode_free = swalloc_free_entry;
    swalloc_malloc_entry = hooked_malloc;
    swalloc_free_entry = hooked_free;
    swalloc_debug_hooks_on = true;
    return true;
}
