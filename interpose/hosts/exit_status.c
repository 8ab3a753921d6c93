/* exit_status N — prints hello, allocates a little, exits with status N
   through exit(): the smallest host whose report is always written. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    char *s = strdup("hello");
    puts(s);
    free(s);
    return argc > 1 ? atoi(argv[1]) : 0;
}
