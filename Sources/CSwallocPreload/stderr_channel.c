/*
 * The program's stderr as the library's channel (swalloc_stderr.h), and
 * the descriptors the library holds, kept above the program's range.
 */
#include "swalloc_preload.h"

/* `wanted`, or `below` under the soft limit when that is lower; 3 under a
   very low limit. */
static int floor_within_limit(int wanted, int below) {
    struct rlimit limit;
    if (getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur > (rlim_t)below + 3)
        return (int)(limit.rlim_cur - (rlim_t)below < (rlim_t)wanted ? limit.rlim_cur - (rlim_t)below : (rlim_t)wanted);
    return 3;
}

/* The copy of stderr kept at exit: 48 (8 below a lower limit). Above the
   descriptors a program expects to get (the lowest free ones), and inside
   the table of 64 every process starts with, so that the kernel need not
   grow it (grown by a process with threads running, it waits for an RCU
   grace period: 10 ms at exit with 100 live threads), and
   /proc/self/status's FDSize stays as it was; it lives only while the
   program exits. */
int swalloc_exit_copy_floor(void) { return floor_within_limit(48, 8); }

/* A pipe libunwind makes for itself (only when its address test could not
   be pointed at the library's): 1000 (32 below a lower limit), far from
   the numbers a program picks itself (bash's `exec 48<file`), since it
   stays for the life of the process. */
int swalloc_unwinder_pipe_floor(void) { return floor_within_limit(1000, 32); }

int swalloc_move_descriptor_above(int fd, int floor, bool close_original, bool close_on_exec) {
    int command = close_on_exec ? F_DUPFD_CLOEXEC : F_DUPFD;
    int copy = fcntl(fd, command, floor);
    if (copy < 0) copy = fcntl(fd, command, 3);
    if (copy >= 0 && close_original) close(fd);
    return copy;
}

/* Which file a descriptor names: device, inode and type. */
struct file_identity {
    bool open; /* open for writing */
    dev_t device;
    ino_t inode;
    mode_t type;
};

static struct file_identity identify(int fd) {
    struct stat status;
    int flags = fcntl(fd, F_GETFL);
    if (flags == -1 || (flags & O_ACCMODE) == O_RDONLY || fstat(fd, &status) != 0) return (struct file_identity){0};
    return (struct file_identity){true, status.st_dev, status.st_ino, status.st_mode & S_IFMT};
}

/* The files fds 1 and 2 named at start-up (index: the descriptor). */
static struct file_identity originals[3];

/* The copy kept when the program started to exit: -1 none yet, -2 taking it. */
static int kept = -1;

/* Whether `fd` is open for writing and names the file that descriptor
   `standard` (1 or 2) named at start-up. */
static bool names_original_of(int fd, int standard) {
    if (!originals[standard].open) return false;
    struct file_identity now = identify(fd);
    return now.open && now.device == originals[standard].device && now.inode == originals[standard].inode &&
           now.type == originals[standard].type;
}
static bool names_original(int fd) { return names_original_of(fd, 2); }

void swalloc_stderr_remember(void) {
    for (int fd = 1; fd <= 2; fd++) originals[fd] = identify(fd);
}

int swalloc_stdout_descriptor(void) {
    int saved = errno, result = names_original_of(1, 1) ? 1 : -1;
    errno = saved;
    return result;
}

bool swalloc_exit_report_expected;

void swalloc_stderr_keep_for_exit(void) {
    int expected = -1;
    /* Without statistics there is no report to keep stderr for. (The copy
       is made inside the table the process started with: see
       swalloc_exit_copy_floor.) */
    if (!swalloc_exit_report_expected) return;
    if (!originals[2].open || !__atomic_compare_exchange_n(&kept, &expected, -2, false, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
        return;
    int copy = -1;
    if (names_original(2)) {
        int saved = errno;
        copy = swalloc_move_descriptor_above(2, swalloc_exit_copy_floor(), false, true);
        errno = saved;
    }
    __atomic_store_n(&kept, copy, __ATOMIC_RELEASE);
}

int swalloc_stderr_descriptor(void) {
    int saved = errno, result = -1;
    if (names_original(2)) result = 2;
    else {
        int copy = __atomic_load_n(&kept, __ATOMIC_ACQUIRE);
        if (copy >= 0 && names_original(copy)) result = copy;
    }
    errno = saved;
    return result;
}

int swalloc_fatal_descriptor(void) {
    int saved = errno, result = identify(2).open ? 2 : -1;
    errno = saved;
    return result >= 0 ? result : swalloc_stderr_descriptor();
}

void swalloc_sigpipe_block(struct swalloc_sigpipe_guard *guard) {
    sigset_t pipe_only, pending;
    sigemptyset(&pipe_only);
    sigaddset(&pipe_only, SIGPIPE);
    guard->was_pending = sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_only, &guard->previous_mask);
}

void swalloc_sigpipe_restore(struct swalloc_sigpipe_guard *guard) {
    int saved = errno;
    if (!guard->was_pending) {
        /* A write of ours to a closed pipe left SIGPIPE pending on this
           thread: take it, so that unblocking does not deliver it. */
        sigset_t pipe_only;
        sigemptyset(&pipe_only);
        sigaddset(&pipe_only, SIGPIPE);
        struct timespec now = {0, 0};
        while (sigtimedwait(&pipe_only, NULL, &now) == SIGPIPE) {}
    }
    pthread_sigmask(SIG_SETMASK, &guard->previous_mask, NULL);
    errno = saved;
}
