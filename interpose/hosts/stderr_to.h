/* `HOST stderr-to FILE ARGS...`: puts FILE on fd 2 before the host does
 * what ARGS say, as a program that keeps its own error log does after it
 * started (the tests of where fatal lines go: docs/fork-and-signals.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void stderr_to_if_asked(int *argc, char ***argv) {
    if (*argc > 3 && strcmp((*argv)[1], "stderr-to") == 0) {
        FILE *log = freopen((*argv)[2], "w", stderr);
        if (!log || fileno(log) != 2) exit(2);
        *argc -= 2;
        *argv += 2;
    }
}
