/* The live profile file's system calls (swalloc_live_file.h). */
#include "swalloc_preload.h"
#include <time.h>

static void remember(int fd, struct swalloc_live_identity *identity) {
    struct stat status;
    if (fstat(fd, &status) == 0) {
        identity->device = (uint64_t)status.st_dev;
        identity->inode = (uint64_t)status.st_ino;
    }
}

/* A new file at `path`, or -1. A leftover of ours (a regular file of this
   user's: an earlier image of this pid, before an exec) is replaced;
   anything else there is left alone and the file is not made. */
static int make_file(const char *path) {
    int flags = O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int fd = open(path, flags, 0600);
    if (fd < 0 && errno == EEXIST) {
        struct stat status;
        if (lstat(path, &status) == 0 && S_ISREG(status.st_mode) && status.st_uid == geteuid() &&
            unlink(path) == 0)
            fd = open(path, flags, 0600);
    }
    return fd;
}

/* Pages are touched one at a time, far apart: without MADV_RANDOM the
   kernel (6.x, ext4's large folios) fills the first fault in each region
   with a folio of up to 2 MiB, zeroed, which cost 1.7 ms per region, and
   unmapping it 0.7 ms more; with it, a fault is one page (15 us). */
static void touched_sparsely(void *mapping, size_t bytes) {
    (void)madvise(mapping, bytes, MADV_RANDOM);
}

static bool size_file(int fd, size_t bytes, size_t allocated) {
    return ftruncate(fd, (off_t)bytes) == 0 && (allocated == 0 || posix_fallocate(fd, 0, (off_t)allocated) == 0);
}

void *swalloc_live_create(const char *path, size_t bytes, size_t allocated, struct swalloc_live_identity *identity) {
    int saved = errno;
    void *mapping = NULL;
    int fd = make_file(path);
    if (fd >= 0) {
        if (size_file(fd, bytes, allocated)) {
            void *mapped = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
            if (mapped != MAP_FAILED) {
                mapping = mapped;
                touched_sparsely(mapping, bytes);
            }
        }
        remember(fd, identity);
        close(fd);
        if (mapping == NULL) unlink(path);
    }
    errno = saved;
    return mapping;
}

bool swalloc_live_allocate(const char *path, const struct swalloc_live_identity *identity, size_t offset,
                           size_t length) {
    int saved = errno;
    bool done = false;
    int fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        struct swalloc_live_identity found = {0, 0};
        remember(fd, &found);
        done = found.device == identity->device && found.inode == identity->inode &&
               posix_fallocate(fd, (off_t)offset, (off_t)length) == 0;
        close(fd);
    }
    errno = saved;
    return done;
}

bool swalloc_live_move(void *mapping, size_t bytes, const char *path, const uint64_t *ranges, size_t count,
                       size_t allocated, struct swalloc_live_identity *identity) {
    int saved = errno;
    bool moved = false;
    int fd = make_file(path);
    if (fd >= 0) {
        bool written = size_file(fd, bytes, allocated);
        for (size_t index = 0; written && index < count; index++) {
            uint64_t offset = ranges[2 * index], left = ranges[2 * index + 1];
            /* Unsafe: each range lies inside the mapping (the caller's). */
            const unsigned char *source = (const unsigned char *)mapping + offset;
            while (written && left > 0) {
                ssize_t done = pwrite(fd, source, left, (off_t)offset);
                if (done < 0 && errno == EINTR) continue;
                written = done > 0;
                if (written) {
                    source += done;
                    offset += (uint64_t)done;
                    left -= (uint64_t)done;
                }
            }
        }
        /* MAP_FIXED replaces the old mapping in one step: no moment without one. */
        moved = written && mmap(mapping, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, 0) != MAP_FAILED;
        if (moved) touched_sparsely(mapping, bytes);
        remember(fd, identity);
        close(fd);
        if (!moved) unlink(path);
    }
    errno = saved;
    return moved;
}

bool swalloc_live_privatize(void *mapping, size_t bytes, const char *path) {
    int saved = errno;
    bool done = false;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        done = mmap(mapping, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0) != MAP_FAILED;
        if (done) touched_sparsely(mapping, bytes);
        close(fd);
    }
    errno = saved;
    return done;
}

bool swalloc_live_detach(void *mapping, size_t bytes, const uint64_t *ranges, size_t count) {
    int saved = errno;
    size_t total = 0;
    for (size_t index = 0; index < count; index++) total += ranges[2 * index + 1];
    bool done = false;
    unsigned char *copy = mmap(NULL, total ? total : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (copy != MAP_FAILED) {
        size_t at = 0;
        for (size_t index = 0; index < count; index++) {
            memcpy(copy + at, (unsigned char *)mapping + ranges[2 * index], ranges[2 * index + 1]);
            at += ranges[2 * index + 1];
        }
        done = mmap(mapping, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
                    -1, 0) != MAP_FAILED;
        if (done) {
            at = 0;
            for (size_t index = 0; index < count; index++) {
                memcpy((unsigned char *)mapping + ranges[2 * index], copy + at, ranges[2 * index + 1]);
                at += ranges[2 * index + 1];
            }
        }
        munmap(copy, total ? total : 1);
    }
    errno = saved;
    return done;
}

uint64_t swalloc_unix_nanoseconds(void) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    return (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
}
