/*
 * own_allocator — a C program that declares its own global allocator, as a
 * Rust program does with #[global_allocator]: it links libswalloc.so
 * (-lswalloc), which makes the linker export its swalloc_register, and runs
 * without LD_PRELOAD. Its allocator bumps through a static arena.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "swalloc.h"

static _Alignas(4096) unsigned char arena[64 << 20];
static size_t top;
static unsigned long served, returned;

static void *own_alloc(void *context, size_t size, size_t align) {
    (void)context;
    size_t old = __atomic_load_n(&top, __ATOMIC_RELAXED), start;
    do {
        start = (old + align - 1) & ~(align - 1);
        if (start + size > sizeof arena) return NULL;
    } while (!__atomic_compare_exchange_n(&top, &old, start + size, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED));
    __atomic_add_fetch(&served, 1, __ATOMIC_RELAXED);
    return arena + start;
}

static void own_dealloc(void *context, void *ptr, size_t size, size_t align) {
    (void)context, (void)ptr, (void)size, (void)align;
    __atomic_add_fetch(&returned, 1, __ATOMIC_RELAXED);
}

static const struct swalloc_global_allocator own = {
    .alloc = own_alloc, .dealloc = own_dealloc, .name = "own_arena",
};

void swalloc_register(void) { swalloc_set_global_allocator(&own); }

int main(void) {
    char *text = malloc(100);
    strcpy(text, "hello from the program's own allocator");
    char *copy = strdup(text);
    int inside = (unsigned char *)text >= arena && (unsigned char *)text < arena + sizeof arena;
    free(text);
    free(copy);
    printf("%s; served by it: %s; blocks served: %s\n", copy == text ? "?" : "ok",
           inside ? "yes" : "no", served >= 2 ? "2 or more" : "fewer than 2");
    /* Too late now: the library refuses, with a swalloc: line. */
    printf("late registration: %d\n", swalloc_set_global_allocator(&own));
    return 0;
}
