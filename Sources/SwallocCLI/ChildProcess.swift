import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Spawns a program, forwards signals to it, waits, and returns the status
/// a shell would give: its exit code, or 128+N when signal N killed it.
enum ChildProcess {
    /// The child's pid, for the signal handler (set before handlers are).
    nonisolated(unsafe) static var childPID: pid_t = 0

    /// Forwarded to the child. SIGINT and SIGQUIT are not: a terminal sends
    /// them to the whole foreground process group, the child included, so
    /// swalloc ignores them while it waits, as system(3) does.
    static let forwarded: [Int32] = [SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU]

    static func run(_ command: [String], environment: [String: String]) throws -> Int32 {
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
        let error = posix_spawnp(&pid, command[0], nil, &attributes, arguments, variables)
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
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR { throw CLIError("waitpid failed: \(String(cString: strerror(errno)))") }
        }
        // WIFEXITED / WTERMSIG, spelled out: the C macros are not imported.
        let signalNumber = status & 0x7F
        if signalNumber == 0 { return (status >> 8) & 0xFF }
        return 128 + signalNumber
    }
}
