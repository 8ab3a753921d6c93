/*
 * callsites [big] — three allocating functions whose calls are known:
 *   churn_kilobytes   1000 × malloc(1024), each freed
 *   leak_pages          10 × malloc(4096), never freed
 *   zero_records       500 × calloc(1, 64), freed at the end
 * With "big": also 200 × malloc(1 MiB) from allocate_megabytes, among
 * 200,000 small allocations from small_noise, for the default-rate test.
 * With "many": also hold_many, 20,000 × malloc(32) live at once, the even
 * ones then freed (every one sampled, they outgrow the library's first
 * table of sampled blocks several times).
 * Built with -g and without -rdynamic: it exports no symbols, so names come
 * from its .symtab. noinline keeps each function its own frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

static void *volatile sink;

NOINLINE static void churn_kilobytes(void) {
    for (int i = 0; i < 1000; i++) {
        sink = malloc(1024);
        free(sink);
    }
}

NOINLINE static void leak_pages(void) {
    for (int i = 0; i < 10; i++) sink = malloc(4096);
}

NOINLINE static void zero_records(void) {
    void *records[500];
    for (int i = 0; i < 500; i++) records[i] = calloc(1, 64);
    for (int i = 0; i < 500; i++) free(records[i]);
}

NOINLINE static void allocate_megabytes(void) {
    for (int i = 0; i < 200; i++) {
        sink = malloc(1 << 20);
        free(sink);
    }
}

NOINLINE static void small_noise(void) {
    for (int i = 0; i < 200000; i++) {
        sink = malloc(16 + i % 200);
        free(sink);
    }
}

NOINLINE static void hold_many(void) {
    static void *held[20000];
    for (int i = 0; i < 20000; i++) held[i] = malloc(32);
    for (int i = 0; i < 20000; i += 2) free(held[i]);
}

int main(int argc, char **argv) {
    churn_kilobytes();
    leak_pages();
    zero_records();
    if (argc > 1 && !strcmp(argv[1], "big")) {
        small_noise();
        allocate_megabytes();
        small_noise();
    }
    if (argc > 1 && !strcmp(argv[1], "many")) hold_many();
    puts("done");
    return 0;
}
