import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Spawns a program, forwards signals to it, waits, and returns the status
/// a shell would give: its exit code, or 128+N when signal N killed it.
enum ChildProcess {
    /// Files for the child's standard streams (`swalloc compare` runs a
    /// program several times: its input is /dev/null, its output kept).
    struct Redirection {
        var input: String
        var output: String
        var error: String
    }

    /// How a run ended, and what it cost.
    struct Outcome {
        var pid: pid_t
        /// The shell's status: the exit code, or 128+N for signal N.
        var status: Int32
        var wallSeconds: Double
        var userSeconds: Double
        var systemSeconds: Double
        /// The child's largest resident set, in bytes.
        var maxResidentBytes: UInt64
    }

    /// The child's pid, for the signal handler (set before handlers are).
    nonisolated(unsafe) static var childPID: pid_t = 0

    /// Forwarded to the child. SIGINT and SIGQUIT are not: a terminal sends
    /// them to the whole foreground process group, the child included, so
    /// swalloc ignores them while it waits, as system(3) does.
    static let forwarded: [Int32] = [SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU]

    static func run(_ command: [String], environment: [String: String]) throws -> Int32 {
        try run(command, environment: environment, redirection: nil).status
    }

    static func run(_ command: [String], environment: [String: String],
                    redirection: Redirection?) throws -> Outcome {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if let redirection {
            posix_spawn_file_actions_addopen(&actions, 0, redirection.input, O_RDONLY, 0)
            posix_spawn_file_actions_addopen(&actions, 1, redirection.output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
            posix_spawn_file_actions_addopen(&actions, 2, redirection.error, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        }
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // The child starts with default handlers for what swalloc ignores.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGQUIT)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        // The forwarded signals are blocked from before the spawn until the
        // handlers are in place, so one that arrives in between (the child
        // may already be running and talking) waits and is forwarded, rather
        // than killing swalloc and orphaning the child. The child starts
        // with the mask swalloc had.
        var forwardedSet = sigset_t()
        sigemptyset(&forwardedSet)
        for signalNumber in Self.forwarded { sigaddset(&forwardedSet, signalNumber) }
        var previousMask = sigset_t()
        pthread_sigmask(SIG_BLOCK, &forwardedSet, &previousMask)
        defer { pthread_sigmask(SIG_SETMASK, &previousMask, nil) }
        posix_spawnattr_setsigmask(&attributes, &previousMask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let arguments = command.map { strdup($0) } + [nil]
        let variables = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            arguments.forEach { free($0) }
            variables.forEach { free($0) }
        }
        signal(SIGINT, SIG_IGN)
        signal(SIGQUIT, SIG_IGN)
        var pid = pid_t()
        var started = timespec()
        clock_gettime(CLOCK_MONOTONIC, &started)
        let error = posix_spawnp(&pid, command[0], &actions, &attributes, arguments, variables)
        guard error == 0 else {
            throw CLIError("cannot run \(command[0]): \(String(cString: strerror(error)))")
        }
        childPID = pid
        for signalNumber in forwarded {
            signal(signalNumber) { received in
                if ChildProcess.childPID > 0 { kill(ChildProcess.childPID, received) }
            }
        }
        // Now anything pending is forwarded.
        pthread_sigmask(SIG_SETMASK, &previousMask, nil)
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            if errno != EINTR { throw CLIError("waitpid failed: \(String(cString: strerror(errno)))") }
        }
        var ended = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ended)
        // Between runs (swalloc compare), signals act on swalloc as usual.
        childPID = 0
        for signalNumber in forwarded + [SIGINT, SIGQUIT] { signal(signalNumber, SIG_DFL) }
        // WIFEXITED / WTERMSIG, spelled out: the C macros are not imported.
        let signalNumber = status & 0x7F
        return Outcome(
            pid: pid,
            status: signalNumber == 0 ? (status >> 8) & 0xFF : 128 + signalNumber,
            wallSeconds: seconds(ended) - seconds(started),
            userSeconds: seconds(usage.ru_utime),
            systemSeconds: seconds(usage.ru_stime),
            maxResidentBytes: UInt64(max(usage.ru_maxrss, 0)) * 1024)
    }

    static func seconds(_ time: timespec) -> Double { Double(time.tv_sec) + Double(time.tv_nsec) / 1e9 }
    static func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
}
