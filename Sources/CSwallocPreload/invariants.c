/*
 * A failed invariant of a checked build (swalloc_invariants.h): one line
 * with write(2), which allocates nothing, then abort.
 */
#include "swalloc_preload.h"

static size_t append(char *buffer, size_t at, size_t capacity, const char *text) {
    while (*text && at < capacity) buffer[at++] = *text++;
    return at;
}

void swalloc_invariant_failed(const char *what, const char *file, int line) {
    char buffer[512], digits[12];
    size_t at = append(buffer, 0, sizeof buffer, "swalloc: invariant failed: ");
    at = append(buffer, at, sizeof buffer, what);
    at = append(buffer, at, sizeof buffer, " (");
    at = append(buffer, at, sizeof buffer, file);
    int length = 0;
    unsigned value = line > 0 ? (unsigned)line : 0;
    do digits[length++] = (char)('0' + value % 10); while ((value /= 10) && length < 11);
    at = append(buffer, at, sizeof buffer, ":");
    while (length > 0 && at < sizeof buffer) buffer[at++] = digits[--length];
    at = append(buffer, at, sizeof buffer, ")\n");
    (void)!write(2, buffer, at);
    abort();
}
