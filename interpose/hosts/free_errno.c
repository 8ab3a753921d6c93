/* free keeps errno: free(NULL), small and large blocks, aligned blocks,
 * blocks from calloc and realloc, and a large block whose munmap fails
 * because the process is at its mapping limit (vm.max_map_count), which is
 * when an allocator that unmaps on free would change errno.
 * Prints "free_errno ok" and exits 0, or names each failure and exits 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static int failures;

/* Out of line, so that the compiler cannot assume free left errno alone. */
__attribute__((noinline)) static int current_errno(void) { return errno; }

static void check_free(void *block, const char *what) {
    errno = 1789;
    free(block);
    if (current_errno() != 1789) {
        printf("free(%s) changed errno to %d\n", what, current_errno());
        failures++;
    }
}

/* Widens the mapping that holds `block` by a page on each side (anonymous
   read-write pages merge with it), so that an allocator that unmaps or
   protects the block's own range must split the mapping, which needs one
   more mapping than the process may have once exhaust_mappings ran. */
static void widen_mapping(void *block) {
    static char maps[1 << 16];
    int fd = open("/proc/self/maps", O_RDONLY);
    ssize_t length = fd < 0 ? -1 : read(fd, maps, sizeof maps - 1);
    if (fd >= 0) close(fd);
    if (length <= 0) return;
    maps[length] = 0;
    uintptr_t address = (uintptr_t)block;
    for (char *line = maps; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        unsigned long start, end;
        if (sscanf(line, "%lx-%lx", &start, &end) != 2 || address < start || address >= end) continue;
        long page = sysconf(_SC_PAGESIZE);
        mmap((void *)(start - page), page, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        mmap((void *)end, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
        return;
    }
}

/* Fills the process's mappings up to its limit, so that an munmap that
   would split a mapping fails with ENOMEM. Returns the pages mapped. */
static int exhaust_mappings(void) {
    char path[] = "/tmp/free_errno.XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return 0;
    unlink(path);
    if (ftruncate(fd, 4096) != 0) return 0;
    int count = 0;
    /* Read-only private file pages never merge with their neighbours. */
    while (count < 70000 && mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0) != MAP_FAILED) count++;
    return count;
}

int main(void) {
    check_free(NULL, "NULL");
    check_free(malloc(10), "small");
    check_free(calloc(100, 10), "calloc");
    check_free(realloc(malloc(10), 5000), "realloc");
    check_free(malloc(5 << 20), "large");
    void *aligned = NULL;
    if (posix_memalign(&aligned, 4096, 100) == 0) check_free(aligned, "aligned");
    check_free(aligned_alloc(64, 128), "aligned_alloc");

    /* A large block, then the mapping limit, then its free. */
    void *big = malloc(16 << 20);
    memset(big, 1, 16 << 20);
    void *small = malloc(100);
    widen_mapping(big);
    int mapped = exhaust_mappings();
    check_free(big, "large at the mapping limit");
    check_free(small, "small at the mapping limit");
    if (mapped == 0) { printf("could not reach the mapping limit\n"); failures++; }
    if (failures) return 1;
    printf("free_errno ok\n");
    return 0;
}
