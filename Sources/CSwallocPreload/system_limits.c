/* The kernel's limits (swalloc_system_limits.h). */
#include "swalloc_preload.h"

long swalloc_max_map_count(long fallback) {
    int saved = errno;
    int fd = open("/proc/sys/vm/max_map_count", O_RDONLY | O_CLOEXEC);
    long value = -1;
    if (fd >= 0) {
        char text[32];
        ssize_t length = read(fd, text, sizeof text - 1);
        close(fd);
        if (length > 0) {
            value = 0;
            for (ssize_t i = 0; i < length && text[i] >= '0' && text[i] <= '9' && value < (1L << 40); i++)
                value = value * 10 + (text[i] - '0');
            if (length == 0 || text[0] < '0' || text[0] > '9') value = -1;
        }
    }
    errno = saved;
    return value > 0 ? value : fallback;
}

unsigned long long swalloc_peak_resident_bytes(void) {
    int saved = errno;
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    unsigned long long kilobytes = 0;
    if (fd >= 0) {
        char text[4096];
        ssize_t length = read(fd, text, sizeof text - 1);
        close(fd);
        if (length > 0) {
            text[length] = 0;
            const char *line = strstr(text, "VmHWM:");
            if (line) {
                line += 6;
                while (*line == ' ' || *line == '\t') line++;
                while (*line >= '0' && *line <= '9') kilobytes = kilobytes * 10 + (unsigned long long)(*line++ - '0');
            }
        }
    }
    errno = saved;
    return kilobytes * 1024;
}
