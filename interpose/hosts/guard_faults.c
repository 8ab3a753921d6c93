/* guard_faults overflow|use-after-free|limit|fail — the bugs and limits the
   guard allocator, SWALLOC_LIMIT and SWALLOC_FAIL are for. Built -O0 so that
   the faulting accesses stay. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    const char *what = argc > 1 ? argv[1] : "";
    if (!strcmp(what, "overflow")) {
        char *p = malloc(128);
        memset(p, 1, 128); /* in bounds */
        puts("in bounds ok");
        fflush(stdout);
        p[128] = 1; /* one byte past the end */
        puts("overflow not caught");
    } else if (!strcmp(what, "use-after-free")) {
        char *p = malloc(64);
        free(p);
        puts("freed");
        fflush(stdout);
        p[3] = 1;
        puts("use after free not caught");
    } else if (!strcmp(what, "limit")) {
        int blocks = 0;
        while (malloc(1 << 20)) blocks++;
        printf("blocks=%d errno=%s\n", blocks, errno == ENOMEM ? "ENOMEM" : "other");
    } else if (!strcmp(what, "fail")) {
        int failed = 0;
        for (int i = 0; i < 1000; i++) {
            void *p = malloc(32);
            if (!p) failed++;
            free(p);
        }
        printf("failed=%d\n", failed);
    }
    return 0;
}
