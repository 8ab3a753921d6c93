/* signal_defaults PROGRAM [ARGS] — runs PROGRAM with every signal at its
 * default action, glibc's own 32 and 33 included (set with the raw system
 * call: glibc's sigaction refuses those two), as a shell started from a
 * clean login has them; the test harness's posix_spawn leaves 32 and 33
 * ignored. */
#include <signal.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's struct sigaction on x86_64 and aarch64. */
struct kernel_sigaction {
    void *handler;
    unsigned long flags;
    void *restorer;
    unsigned long mask;
};

int main(int argc, char **argv) {
    if (argc < 2) return 64;
    for (int signal_number = 1; signal_number <= 64; signal_number++) {
        if (signal_number == SIGKILL || signal_number == SIGSTOP) continue;
        struct kernel_sigaction action = {SIG_DFL, 0, NULL, 0};
        syscall(SYS_rt_sigaction, signal_number, &action, NULL, sizeof action.mask);
    }
    execvp(argv[1], argv + 1);
    perror(argv[1]);
    return 127;
}
