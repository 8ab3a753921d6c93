/* compat_hooks MODE — glibc's old malloc hooks, compatibility symbols that
 * live in libc_malloc_debug.so since glibc 2.34 (the tests preload it):
 *   hooks  after a first malloc and free (the debug library's set-up),
 *          sets a malloc, free, realloc and memalign hook that count their
 *          calls and pass each on with the hook unset, makes one call of
 *          each kind of the family, and prints what each hook counted
 *   first  (with MALLOC_CHECK_=3) prints the usable size of its first block,
 *          malloc(7), which the debug library's check makes exactly 7, then
 *          resizes it, frees it, and allocates and frees 1,000 more
 *   init   its __malloc_initialize_hook, which the debug library's set-up
 *          calls at the first malloc, sets a malloc hook that allocates a
 *          second block beside each one it returns (as a hook that logs
 *          with printf does); prints what ran, frees everything
 * Linked to the GLIBC_2.2.5 versions of the hooks, as a program built
 * against a glibc before 2.34 is (compat_hooks.map gives the executable's
 * __malloc_initialize_hook that version, so that the debug library finds
 * it). */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

extern void *(*volatile __malloc_hook)(size_t, const void *);
extern void (*volatile __free_hook)(void *, const void *);
extern void *(*volatile __realloc_hook)(void *, size_t, const void *);
extern void *(*volatile __memalign_hook)(size_t, size_t, const void *);
__asm__(".symver __malloc_hook, __malloc_hook@GLIBC_2.2.5");
__asm__(".symver __free_hook, __free_hook@GLIBC_2.2.5");
__asm__(".symver __realloc_hook, __realloc_hook@GLIBC_2.2.5");
__asm__(".symver __memalign_hook, __memalign_hook@GLIBC_2.2.5");

static int malloc_calls, free_calls, realloc_calls, memalign_calls;

static void *on_malloc(size_t size, const void *caller);
static void on_free(void *block, const void *caller);
static void *on_realloc(void *block, size_t size, const void *caller);
static void *on_memalign(size_t alignment, size_t size, const void *caller);

static void set_hooks(void) {
    __malloc_hook = on_malloc;
    __free_hook = on_free;
    __realloc_hook = on_realloc;
    __memalign_hook = on_memalign;
}
static void clear_hooks(void) {
    __malloc_hook = NULL;
    __free_hook = NULL;
    __realloc_hook = NULL;
    __memalign_hook = NULL;
}

static void *on_malloc(size_t size, const void *caller) {
    (void)caller;
    malloc_calls++;
    clear_hooks();
    void *block = malloc(size);
    set_hooks();
    return block;
}
static void on_free(void *block, const void *caller) {
    (void)caller;
    free_calls++;
    clear_hooks();
    free(block);
    set_hooks();
}
static void *on_realloc(void *block, size_t size, const void *caller) {
    (void)caller;
    realloc_calls++;
    clear_hooks();
    void *moved = realloc(block, size);
    set_hooks();
    return moved;
}
static void *on_memalign(size_t alignment, size_t size, const void *caller) {
    (void)caller;
    memalign_calls++;
    clear_hooks();
    void *block = memalign(alignment, size);
    set_hooks();
    return block;
}

static int inits, twice_calls;
static void *side_blocks[16];

static void *on_malloc_twice(size_t size, const void *caller) {
    (void)caller;
    __malloc_hook = NULL;
    void *block = malloc(size);
    if (twice_calls < 16) side_blocks[twice_calls] = malloc(32);
    twice_calls++;
    __malloc_hook = on_malloc_twice;
    return block;
}

static int init_mode; /* set by main before its first malloc */
static void on_init(void) {
    inits++;
    if (init_mode) __malloc_hook = on_malloc_twice;
}
void (*initialize_hook)(void) = on_init;
__asm__(".symver initialize_hook, __malloc_initialize_hook@GLIBC_2.2.5");

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "";
    if (strcmp(mode, "hooks") == 0) {
        free(malloc(1));
        set_hooks();
        /* volatile: a compiler may drop an allocation that is only freed */
        char *volatile a = malloc(100);          /* malloc */
        char *volatile b = calloc(10, 10);       /* malloc, cleared */
        a = realloc(a, 5000);                    /* realloc */
        void *volatile c = memalign(64, 100);    /* memalign */
        void *d = NULL;
        int failed = posix_memalign(&d, 128, 100); /* memalign */
        void *volatile e = aligned_alloc(256, 256); /* memalign */
        void *volatile f = valloc(100);          /* memalign */
        int cleared = b != NULL && b[0] == 0 && b[99] == 0;
        free(a), free(b), free(c), free(d), free(e), free(f); /* free x6 */
        clear_hooks();
        printf("malloc %d free %d realloc %d memalign %d, cleared %d, posix_memalign %d\n", malloc_calls,
               free_calls, realloc_calls, memalign_calls, cleared, failed);
        return 0;
    }
    if (strcmp(mode, "init") == 0) {
        init_mode = 1;
        char *volatile first = malloc(10);
        char *volatile second = malloc(20);
        __malloc_hook = NULL;
        memset(first, 1, 10);
        first = realloc(first, 4000);
        int sized = malloc_usable_size(second) >= 20;
        free(first);
        free(second);
        for (int i = 0; i < twice_calls && i < 16; i++) free(side_blocks[i]);
        printf("init %d, malloc hook %d, usable %d\n", inits, twice_calls, sized);
        return 0;
    }
    if (strcmp(mode, "first") == 0) {
        char *first = malloc(7);
        printf("usable %zu\n", malloc_usable_size(first));
        memset(first, 'x', 7);
        first = realloc(first, 64);
        int kept = memcmp(first, "xxxxxxx", 7) == 0;
        free(first);
        for (int i = 0; i < 1000; i++) free(malloc((size_t)i));
        printf("kept %d\n", kept);
        return 0;
    }
    return 64;
}
