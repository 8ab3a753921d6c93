/* fork from a signal handler that interrupts allocations. A helper
 * process sends SIGUSR1 to this one as fast as it can; the handler stops
 * the helper, forks, and waits for the child, which either leaves at once
 * (_exit) or, with "exit", runs exit() and so the exit handlers (and the
 * library's report) from inside the handler. Meanwhile the main thread
 * frees and allocates blocks of random sizes, so most signals land inside
 * malloc or free. Single-threaded, as glibc's own malloc is async-signal-
 * safe for fork only there. Ends after SIGNALS handled signals; prints
 * "signals=N" and exits 0, or exits 1. Seeded: the same sizes every run.
 * Usage: fork_signal SIGNALS [exit] */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum { SLOTS = 1009, MAXIMUM_SIZE = 70000 };

static pid_t sender;
static volatile sig_atomic_t handled;
static int child_exits_normally;

static void say(const char *text) { (void)!write(2, text, strlen(text)); }

static void on_signal(int signal_number) {
    (void)signal_number;
    int saved = errno;
    if (sender > 0) kill(sender, SIGSTOP);
    pid_t pid = fork();
    if (pid < 0) { say("fork_signal: fork failed\n"); abort(); }
    if (pid == 0) {
        if (child_exits_normally) exit(0);
        _exit(0);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) { say("fork_signal: waitpid failed\n"); abort(); }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) { say("fork_signal: child failed\n"); abort(); }
    handled = handled + 1;
    errno = saved;
}

int main(int argc, char **argv) {
    if (argc < 2) { say("usage: fork_signal SIGNALS [exit]\n"); return 1; }
    int wanted = atoi(argv[1]);
    child_exits_normally = argc > 2 && strcmp(argv[2], "exit") == 0;
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = on_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGUSR1, &action, NULL);

    pid_t parent = getpid();
    sender = fork();
    if (sender == 0) {
        for (;;) {
            if (kill(parent, SIGUSR1) != 0) _exit(0);
            sched_yield();
        }
    }
    void *blocks[SLOTS] = {0};
    unsigned seed = 1;
    while (handled < wanted) {
        int slot = rand_r(&seed) % SLOTS;
        size_t size = rand_r(&seed) % MAXIMUM_SIZE;
        kill(sender, SIGCONT);
        free(blocks[slot]);
        blocks[slot] = malloc(size);
        if (!blocks[slot]) { say("fork_signal: malloc failed\n"); return 1; }
    }
    signal(SIGUSR1, SIG_IGN);
    kill(sender, SIGKILL);
    waitpid(sender, NULL, 0);
    for (int i = 0; i < SLOTS; i++) free(blocks[i]);
    printf("signals=%d\n", (int)handled);
    return 0;
}
