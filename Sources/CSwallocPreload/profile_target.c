/*
 * Where the JSON profile may be written (swalloc_profile_target.h).
 *
 * - /dev/stdout, /dev/stderr, /dev/fd/N and /proc/self/fd/N mean the
 *   program's descriptor: opening them by name would, as root, have the
 *   rename below replace the /dev/stdout link itself.
 * - A FIFO or character device is written in place, and only if its owner
 *   is this process's user or root (a FIFO another user planted at root's
 *   path in /tmp would receive the profile).
 * - Nothing else under /dev is ever created or replaced.
 * - Anything else gets a new file: a temporary sibling with an
 *   unpredictable name, created with O_EXCL | O_NOFOLLOW (mode 0600),
 *   renamed over the path when complete, so that the profile is whole or
 *   absent and a link planted at the path is replaced, not followed.
 */
#include "swalloc_preload.h"
#include <sys/random.h>

static bool has_prefix(const char *text, const char *prefix, size_t length) {
    return strncmp(text, prefix, length) == 0;
}

/* The descriptor a name like /dev/fd/N stands for, or -1 for other names. */
static int named_descriptor(const char *path) {
    if (strcmp(path, "/dev/stdout") == 0) return 1;
    if (strcmp(path, "/dev/stderr") == 0) return 2;
    const char *digits = NULL;
    if (has_prefix(path, "/dev/fd/", 8)) digits = path + 8;
    else if (has_prefix(path, "/proc/self/fd/", 14)) digits = path + 14;
    if (digits == NULL || *digits == 0) return -1;
    long value = 0;
    for (const char *c = digits; *c; c++) {
        if (*c < '0' || *c > '9' || value > 1000000) return -1;
        value = value * 10 + (*c - '0');
    }
    return (int)value;
}

/* Whether `path`'s directory is on /dev's file system: by the directory
   itself, not by the text (//dev/x, /./dev/x, a relative name with the
   working directory in /dev, a link to /dev on the way all name it). */
static bool in_dev(const char *path, char *scratch) {
    struct stat dev, directory;
    if (stat("/dev", &dev) != 0) return has_prefix(path, "/dev/", 5);
    size_t length = strlen(path);
    while (length > 0 && path[length - 1] != '/') length--;
    const char *parent = ".";
    if (length > 0) {
        memcpy(scratch, path, length);
        scratch[length] = 0;
        parent = scratch;
    }
    /* A directory that cannot be read is judged by the text. */
    if (stat(parent, &directory) != 0) return has_prefix(path, "/dev/", 5);
    return directory.st_dev == dev.st_dev;
}

static struct swalloc_profile_target refused(int reason, int error) {
    return (struct swalloc_profile_target){SWALLOC_TARGET_REFUSED, -1, reason, error};
}

/* PATH.swalloc-tmp.<16 random hex digits>: getrandom, or the clock and the
   address space's layout mixed, when the kernel has none to give yet. */
static void temporary_name(const char *path, char *target) {
    uint64_t random = 0;
    if (getrandom(&random, sizeof random, GRND_NONBLOCK) != (ssize_t)sizeof random) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        random = ((uint64_t)now.tv_nsec * 0x9E3779B97F4A7C15u) ^ (uint64_t)(uintptr_t)&now ^ (uint64_t)getpid();
    }
    size_t length = strlen(path);
    memcpy(target, path, length);
    memcpy(target + length, ".swalloc-tmp.", 13);
    length += 13;
    for (int shift = 60; shift >= 0; shift -= 4) target[length++] = "0123456789abcdef"[(random >> shift) & 0xF];
    target[length] = 0;
}

struct swalloc_profile_target swalloc_open_profile_target(const char *path, char *temporary) {
    int named = named_descriptor(path);
    if (named >= 0) {
        int fd = named == 2 ? swalloc_stderr_descriptor() : named == 1 ? swalloc_stdout_descriptor() : named;
        int flags = fd < 0 ? -1 : fcntl(fd, F_GETFL);
        if (flags == -1 || (flags & O_ACCMODE) == O_RDONLY) return refused(SWALLOC_REASON_DESCRIPTOR_MOVED, 0);
        return (struct swalloc_profile_target){SWALLOC_TARGET_DESCRIPTOR, fd, SWALLOC_REASON_NONE, 0};
    }
    struct stat status;
    bool exists = lstat(path, &status) == 0;
    if (!exists && errno != ENOENT) return refused(SWALLOC_REASON_ERRNO, errno);
    if (exists && (S_ISCHR(status.st_mode) || S_ISFIFO(status.st_mode))) {
        if (status.st_uid != geteuid() && status.st_uid != 0) return refused(SWALLOC_REASON_FOREIGN_OWNER, 0);
        /* Non-blocking, so that a FIFO with no reader fails (ENXIO) rather
           than hang the program's exit; then blocking for the writes. */
        int fd = open(path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) return refused(SWALLOC_REASON_ERRNO, errno);
        struct stat opened;
        /* The same node as checked, not one swapped in between. */
        if (fstat(fd, &opened) != 0 || opened.st_ino != status.st_ino || opened.st_dev != status.st_dev) {
            close(fd);
            return refused(SWALLOC_REASON_FOREIGN_OWNER, 0);
        }
        int flags = fcntl(fd, F_GETFL);
        if (flags != -1) fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
        return (struct swalloc_profile_target){SWALLOC_TARGET_IN_PLACE, fd, SWALLOC_REASON_NONE, 0};
    }
    /* `temporary` is free until the temporary name goes there. */
    if (in_dev(path, temporary)) return refused(SWALLOC_REASON_IN_DEV, 0);
    if (exists && (S_ISDIR(status.st_mode) || S_ISSOCK(status.st_mode))) return refused(SWALLOC_REASON_NOT_A_FILE, 0);
    for (int attempt = 0; attempt < 4; attempt++) {
        temporary_name(path, temporary);
        int fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0) return (struct swalloc_profile_target){SWALLOC_TARGET_RENAME, fd, SWALLOC_REASON_NONE, 0};
        if (errno != EEXIST) return refused(SWALLOC_REASON_ERRNO, errno);
    }
    return refused(SWALLOC_REASON_ERRNO, EEXIST);
}
