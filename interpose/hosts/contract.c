/*
 * contract — checks the malloc family's contract in the process it runs in.
 *
 * Prints one line per fact, with no addresses, so that a run under the
 * interposer can be compared line for line with a run without it (glibc's
 * own behaviour is the reference), and exits 1 if an absolute check fails.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;

#define CHECK(cond, ...)                                   \
    do {                                                   \
        if (!(cond)) {                                     \
            failures++;                                    \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);    \
            printf(__VA_ARGS__);                           \
            printf("\n");                                  \
        }                                                  \
    } while (0)

static int aligned(void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

static void fact(const char *name, void *p, int err) {
    printf("%-40s %s errno=%s\n", name, p ? "ptr" : "NULL",
           err == 0 ? "0" : err == ENOMEM ? "ENOMEM" : err == EINVAL ? "EINVAL" : "other");
}

int main(void) {
    void *p;
    long page = sysconf(_SC_PAGESIZE);

    /* malloc */
    for (size_t n = 0; n < 5000; n = n * 2 + 1) {
        p = malloc(n);
        CHECK(p != NULL, "malloc(%zu) NULL", n);
        CHECK(aligned(p, 16), "malloc(%zu) not 16-aligned", n);
        CHECK(malloc_usable_size(p) >= n, "usable(%zu) = %zu", n, malloc_usable_size(p));
        memset(p, 0xAB, malloc_usable_size(p));
        free(p);
    }
    p = malloc(0);
    fact("malloc(0)", p, 0);
    free(p);
    errno = 0; p = malloc(SIZE_MAX);      fact("malloc(SIZE_MAX)", p, errno);
    errno = 0; p = malloc(SIZE_MAX - 8);  fact("malloc(SIZE_MAX-8)", p, errno);
    errno = 0; p = malloc(PTRDIFF_MAX);   fact("malloc(PTRDIFF_MAX)", p, errno);
    errno = 0; p = malloc((size_t)1 << 46); fact("malloc(64 TiB)", p, errno);
    free(NULL);
    printf("free(NULL) ok\n");

    /* calloc zeroes, also reused memory */
    for (int round = 0; round < 50; round++) {
        size_t n = 16 + (size_t)round * 48;
        char *dirty = malloc(n);
        memset(dirty, 0x5A, n);
        free(dirty);
        unsigned char *z = calloc(1, n);
        int zero = 1;
        for (size_t i = 0; i < n; i++) zero &= z[i] == 0;
        CHECK(zero, "calloc(1, %zu) not zeroed", n);
        free(z);
    }
    unsigned char *big = calloc(1 << 20, 3);
    CHECK(big && big[0] == 0 && big[(3 << 20) - 1] == 0, "calloc 3 MiB");
    free(big);
    errno = 0; p = calloc(SIZE_MAX / 2, 3);     fact("calloc overflow", p, errno);
    errno = 0; p = calloc((size_t)1 << 33, (size_t)1 << 33); fact("calloc 2^33*2^33", p, errno);
    p = calloc(0, 16); fact("calloc(0,16)", p, 0); free(p);

    /* realloc keeps contents, grows and shrinks */
    unsigned char *r = NULL;
    size_t size = 0;
    for (int step = 0; step < 40; step++) {
        size_t next = (size_t)(step * 37 % 23 + 1) * (step % 2 ? 300 : 7);
        unsigned char *grown = realloc(r, next);
        CHECK(grown != NULL, "realloc to %zu", next);
        for (size_t i = 0; i < size && i < next; i++)
            CHECK(grown[i] == (unsigned char)(i * 7), "realloc lost byte %zu", i);
        for (size_t i = 0; i < next; i++) grown[i] = (unsigned char)(i * 7);
        r = grown;
        size = next;
    }
    /* across the library's block formats: small (a trailer), above 64 KiB
       (a header), small again */
    for (size_t i = 0; i < size; i++) r[i] = (unsigned char)(i * 7);
    size_t sizes[] = {1000, 100000, 70000, 200, 24, 65535, 65536, 40};
    for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
        unsigned char *moved = realloc(r, sizes[k]);
        CHECK(moved != NULL, "realloc to %zu", sizes[k]);
        for (size_t i = 0; i < size && i < sizes[k]; i++)
            CHECK(moved[i] == (unsigned char)(i * 7), "realloc to %zu lost byte %zu", sizes[k], i);
        for (size_t i = 0; i < sizes[k]; i++) moved[i] = (unsigned char)(i * 7);
        CHECK(malloc_usable_size(moved) >= sizes[k], "usable after realloc to %zu", sizes[k]);
        r = moved;
        size = sizes[k];
    }
    errno = 0;
    p = realloc(r, SIZE_MAX - 4);
    fact("realloc(p, huge)", p, errno);
    CHECK(r[0] == 0, "block kept after failed realloc");
    p = realloc(r, 0);
    fact("realloc(p, 0)", p, 0);
    p = realloc(NULL, 100);
    fact("realloc(NULL, 100)", p, 0);
    free(p);

    /* reallocarray */
    p = reallocarray(NULL, 10, 10);
    fact("reallocarray(NULL,10,10)", p, 0);
    errno = 0;
    void *q = reallocarray(p, SIZE_MAX / 2, 4);
    fact("reallocarray overflow", q, errno);
    free(p);

    /* the aligned family */
    size_t alignments[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 4096, 65536, 1 << 21};
    for (size_t i = 0; i < sizeof alignments / sizeof *alignments; i++) {
        size_t a = alignments[i];
        void *m = memalign(a, 100);
        CHECK(m && aligned(m, a), "memalign(%zu)", a);
        if (!m) continue;
        CHECK(malloc_usable_size(m) >= 100, "usable memalign(%zu)", a);
        memset(m, 1, 100);
        m = realloc(m, 5000);
        CHECK(m != NULL, "realloc of memalign(%zu)", a);
        free(m);
        void *al = aligned_alloc(a, a * 3);
        CHECK(al && aligned(al, a), "aligned_alloc(%zu)", a);
        free(al);
        void *pm = (void *)1;
        int rc = posix_memalign(&pm, a, 77);
        if (a % sizeof(void *) == 0) {
            CHECK(rc == 0 && aligned(pm, a), "posix_memalign(%zu) rc=%d", a, rc);
            free(pm);
        } else {
            CHECK(rc == EINVAL && pm == (void *)1, "posix_memalign(%zu) should be EINVAL", a);
        }
    }
    void *pm = (void *)1;
    printf("posix_memalign(24) rc=%s\n", posix_memalign(&pm, 24, 10) == EINVAL ? "EINVAL" : "other");
    printf("posix_memalign(0) rc=%s\n", posix_memalign(&pm, 0, 10) == EINVAL ? "EINVAL" : "other");
    printf("posix_memalign(huge) rc=%s\n", posix_memalign(&pm, 64, SIZE_MAX - 100) == ENOMEM ? "ENOMEM" : "other");
    errno = 0; p = memalign(3, 10);  fact("memalign(3,10)", p, errno);
    CHECK(p && aligned(p, 4), "memalign(3) rounds to 4"); free(p);
    errno = 0; p = memalign(48, 10); fact("memalign(48,10)", p, errno);
    CHECK(p && aligned(p, 64), "memalign(48) rounds to 64"); free(p);
    errno = 0; p = memalign(SIZE_MAX / 2 + 2, 10); fact("memalign(huge alignment)", p, errno);
    errno = 0; p = aligned_alloc(3, 10); fact("aligned_alloc(3,10)", p, errno); free(p);
    errno = 0; p = memalign(64, SIZE_MAX - 10); fact("memalign(64, huge)", p, errno);
    p = valloc(10);
    CHECK(p && aligned(p, page), "valloc");
    fact("valloc(10)", p, 0); free(p);
    p = pvalloc(10);
    CHECK(p && aligned(p, page) && malloc_usable_size(p) >= 10, "pvalloc");
    fact("pvalloc(10)", p, 0); free(p);
    p = pvalloc(0); fact("pvalloc(0)", p, 0); free(p);
    errno = 0; p = pvalloc(SIZE_MAX - 10); fact("pvalloc(huge)", p, errno);
    printf("malloc_usable_size(NULL) = %zu\n", malloc_usable_size(NULL));

    /* a big block straight from mmap */
    char *huge = malloc(64 << 20);
    CHECK(huge != NULL, "malloc 64 MiB");
    huge[0] = 1; huge[(64 << 20) - 1] = 2;
    huge = realloc(huge, 128 << 20);
    CHECK(huge && huge[0] == 1 && huge[(64 << 20) - 1] == 2, "realloc 64→128 MiB");
    free(huge);

    printf("%s (%d failures)\n", failures ? "FAILED" : "OK", failures);
    return failures ? 1 : 0;
}
