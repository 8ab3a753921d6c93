/* inlined — an allocation inside a function the compiler inlines
   (always_inline), called from one it may not (noinline), built -O2 -g: the
   report's source lines show the inlined call as a frame of its own. */
#include <stdlib.h>

static void *volatile sink;

static inline __attribute__((always_inline)) void *make_record(size_t size) {
    return malloc(size); /* MAKE_RECORD_LINE */
}

__attribute__((noinline)) static void build_records(void) {
    for (int i = 0; i < 100; i++) {
        sink = make_record(48); /* BUILD_RECORDS_LINE */
        free(sink);
    }
}

int main(void) {
    build_records();
    return 0;
}
