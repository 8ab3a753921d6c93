/*
 * swalloc_stderr.h — where the library's messages and exit summary go: the
 * file that was the program's stderr when it started, and never another.
 *
 * The library keeps no copy of fd 2 while the program runs (a copy would
 * keep the caller's pipe open after a daemon closed its stderr). It
 * remembers which file fd 2 was; when the program starts to exit (main
 * returned, or exit was called) it takes a close-on-exec copy, so that the
 * summary survives a program that closes stderr in its own exit handlers
 * (`ls`); and before each write it checks that the descriptor still names
 * that file. The summary's writes never raise SIGPIPE for the program.
 * The reasons: docs/fork-and-signals.md ("The report and the program's
 * descriptors").
 */
#ifndef SWALLOC_STDERR_H
#define SWALLOC_STDERR_H

#include <signal.h>
#include <stdbool.h>

#pragma clang assume_nonnull begin

/* At start-up: which file fd 2 is (nothing when it is closed). */
void swalloc_stderr_remember(void) __attribute__((visibility("hidden")));

/* Set by the constructor when statistics are on: only then is there an
   exit report to keep stderr for. */
extern bool swalloc_exit_report_expected __attribute__((visibility("hidden")));

/* The program has started to exit: keep a copy of fd 2 while it is still
   the file it was at start-up. Once per process; any thread. */
void swalloc_stderr_keep_for_exit(void) __attribute__((visibility("hidden")));

/* A descriptor that names the program's original stderr now (fd 2, or the
   copy kept at exit), or -1 when none does. */
int swalloc_stderr_descriptor(void) __attribute__((visibility("hidden")));

/* Where a message about the program's own fatal error goes (a heap
   overflow, a double free): fd 2 as it is now, open for writing, as glibc
   sends its own "double free detected"; when fd 2 is closed, the original
   stderr's copy kept at exit; else -1. Async-signal-safe. */
int swalloc_fatal_descriptor(void) __attribute__((visibility("hidden")));

/* A copy of `fd` at the lowest free number from `floor` (from 3 when none
   is free there), close-on-exec when asked, closing `fd` when asked; -1 on
   failure. The floors, each with its reason: */
int swalloc_move_descriptor_above(int fd, int floor, bool close_original, bool close_on_exec) __attribute__((visibility("hidden")));
int swalloc_exit_copy_floor(void) __attribute__((visibility("hidden")));
int swalloc_unwinder_pipe_floor(void) __attribute__((visibility("hidden")));

/* fd 1 while it names the file it named at start-up, else -1. */
int swalloc_stdout_descriptor(void) __attribute__((visibility("hidden")));

/* SIGPIPE blocked around the library's own writes: a write to a pipe whose
   reader left fails with EPIPE instead of killing the program, and the
   SIGPIPE it raised is taken back; one that was pending before is left. */
struct swalloc_sigpipe_guard {
    sigset_t previous_mask;
    bool was_pending;
};
void swalloc_sigpipe_block(struct swalloc_sigpipe_guard *guard) __attribute__((visibility("hidden")));
void swalloc_sigpipe_restore(struct swalloc_sigpipe_guard *guard) __attribute__((visibility("hidden")));

#pragma clang assume_nonnull end

#endif /* SWALLOC_STDERR_H */
