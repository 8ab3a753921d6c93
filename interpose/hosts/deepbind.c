/* deepbind LIBRARY — dlopens LIBRARY with RTLD_NOW | RTLD_DEEPBIND (as PHP
 * loads its extensions), then passes blocks both ways: 1000 allocated by
 * the library and freed by the program, 1000 the other way. Prints
 * "deepbind ok" and exits 0, or exits 1. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc != 2) return 64;
    void *library = dlopen(argv[1], RTLD_NOW | RTLD_DEEPBIND);
    if (!library) { fprintf(stderr, "deepbind: %s\n", dlerror()); return 1; }
    void *(*lib_alloc)(size_t) = (void *(*)(size_t))dlsym(library, "deepbind_alloc");
    void (*lib_free)(void *) = (void (*)(void *))dlsym(library, "deepbind_free");
    if (!lib_alloc || !lib_free) return 1;
    for (int i = 0; i < 1000; i++) {
        char *block = lib_alloc(100 + i);
        memset(block, 1, 100 + i);
        free(block);
        block = malloc(200 + i);
        memset(block, 2, 200 + i);
        lib_free(block);
    }
    printf("deepbind ok\n");
    return 0;
}
