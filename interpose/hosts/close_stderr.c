/* close_stderr — closes fd 2 in its own atexit handler, as ls does
   (docs/measurements.md, "Writing the report"); the report must still
   reach the original stderr. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void close_it(void) { close(2); }

int main(void) {
    atexit(close_it);
    void *leak = malloc(4242);
    (void)leak;
    printf("done\n");
    return 0;
}
