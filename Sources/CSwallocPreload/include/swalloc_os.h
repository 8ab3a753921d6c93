/*
 * swalloc_os.h — thin wrappers of system calls and signals that Swift
 * cannot call directly, or that must keep errno.
 * Part of the C half of the preload library; swalloc_preload.h includes
 * every part.
 */
#ifndef SWALLOC_OS_H
#define SWALLOC_OS_H

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#pragma clang assume_nonnull begin

/* ---- fault handling (the guard allocator) --------------------------------- */
typedef void (*swalloc_fault_handler)(int, siginfo_t *_Nonnull, void *_Nullable);
static inline int swalloc_install_fault_handler(swalloc_fault_handler handler) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_sigaction = handler;
    action.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&action.sa_mask);
    return sigaction(SIGSEGV, &action, NULL);
}
/* Back to the default action: returning from the handler then re-runs the
   faulting instruction, and the program dies of its signal as it would. */
static inline void swalloc_reset_fault_handler(void) {
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = SIG_DFL;
    sigemptyset(&action.sa_mask);
    sigaction(SIGSEGV, &action, NULL);
}
static inline void *_Nullable swalloc_fault_address(siginfo_t *_Nonnull info) { return info->si_addr; }
/* Whether the kernel raised this SIGSEGV for a fault of this thread
   (si_code > 0). kill, tgkill, raise and sigqueue send it with si_code <= 0,
   and then si_addr holds the sender's pid and uid, not an address. */
static inline bool swalloc_signal_is_fault(siginfo_t *_Nonnull info) { return info->si_code > 0; }
/* A SIGSEGV someone sent: the default action, as without the handler.
   Returning would ignore it (no instruction runs again to raise it anew), so
   it is sent again with the default action in place. */
static inline void swalloc_take_sent_signal(void) {
    int saved = errno;
    swalloc_reset_fault_handler();
    raise(SIGSEGV);
    errno = saved;
}
/* Reads `bytes` at `address` without faulting: false if any is unreadable.
   (process_vm_readv on ourselves reports EFAULT instead of a signal, and is
   async-signal-safe.) */
static inline bool swalloc_safe_read(void *destination, const void *address, size_t bytes) {
    struct iovec local = {destination, bytes};
    struct iovec remote = {(void *)address, bytes};
    return syscall(SYS_process_vm_readv, getpid(), &local, 1UL, &remote, 1UL, 0UL) == (long)bytes;
}

/* ---- small libc helpers Swift cannot call directly ------------------------- */
static inline int swalloc_open_read(const char *path) {
    return open(path, O_RDONLY | O_CLOEXEC);
}
static inline void *_Nullable swalloc_map_anonymous(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}
/* munmap and mprotect keep errno: free calls them, and free keeps errno
   (POSIX.1-2024; glibc's tst-free-errno makes munmap fail on purpose). */
static inline int swalloc_unmap(void *address, size_t bytes) {
    int saved = errno, result = munmap(address, bytes);
    errno = saved;
    return result;
}
/* Resizes a private anonymous mapping, moving it when it must (its pages
   go along, nothing is copied); keeps errno. NULL when the kernel refuses,
   the mapping then untouched. */
static inline void *_Nullable swalloc_remap(void *address, size_t bytes, size_t new_bytes) {
    int saved = errno;
    void *result = mremap(address, bytes, new_bytes, MREMAP_MAYMOVE);
    errno = saved;
    return result == MAP_FAILED ? NULL : result;
}
static inline int swalloc_protect_read_write(void *address, size_t bytes) {
    int saved = errno, result = mprotect(address, bytes, PROT_READ | PROT_WRITE);
    errno = saved;
    return result;
}
static inline int swalloc_protect_none(void *address, size_t bytes) {
    int saved = errno, result = mprotect(address, bytes, PROT_NONE);
    errno = saved;
    return result;
}
/* Leaves [address, address + bytes) out of every child this process forks
   (MADV_DONTFORK): fork copies a mapping's page tables, and a quarantine
   of thousands of freed guarded blocks made every fork pay for them. */
static inline int swalloc_keep_from_children(void *address, size_t bytes) {
    int saved = errno, result = madvise(address, bytes, MADV_DONTFORK);
    errno = saved;
    return result;
}
/* Undoes swalloc_keep_from_children (MADV_DOFORK): a retired guarded
   mapping that serves a live block again. */
static inline int swalloc_share_with_children(void *address, size_t bytes) {
    int saved = errno, result = madvise(address, bytes, MADV_DOFORK);
    errno = saved;
    return result;
}
/* Gives the pages of [address, address + bytes) back (MADV_DONTNEED): the
   mapping stays, reading zeros. */
static inline void swalloc_give_back_pages(void *address, size_t bytes) {
    int saved = errno;
    (void)madvise(address, bytes, MADV_DONTNEED);
    errno = saved;
}
static inline void *swalloc_rtld_next(void) { return RTLD_NEXT; }
static inline void *_Nullable swalloc_rtld_default(void) { return RTLD_DEFAULT; }

#pragma clang assume_nonnull end

#endif
