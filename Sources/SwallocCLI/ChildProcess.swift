import Foundation
import Synchronization
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

    /// The child's pid for the signal handler: 0 before the spawn and
    /// between runs.
    static let childPID = Atomic<Int32>(0)
    /// The forwarded signals that arrived before the child existed, one
    /// bit each, kept for it: either the handler or the spawning thread
    /// takes them (exchange), never both, never neither.
    static let pendingSignals = Atomic<UInt64>(0)

    /// Process-wide: whichever thread the kernel picks for a signal runs
    /// this, so no thread (Foundation and Dispatch start some) can take a
    /// forwarded signal with its default action and kill swalloc while its
    /// child lives on. That happened when handlers were installed after the
    /// spawn and only the spawning thread blocked the signals: `swalloc run`
    /// died of a SIGTERM sent right after its child started, and the child
    /// was orphaned.
    static func forward(_ received: Int32) {
        let pid = childPID.load(ordering: .sequentiallyConsistent)
        if pid > 0 {
            kill(pid, received)
            return
        }
        pendingSignals.bitwiseOr(UInt64(1) << UInt64(received & 63), ordering: .sequentiallyConsistent)
        // The child may have been recorded in between: then one of us
        // forwards what is pending.
        let late = childPID.load(ordering: .sequentiallyConsistent)
        if late > 0 { forwardPending(to: late) }
    }

    /// Sends every pending signal to `pid`, once.
    static func forwardPending(to pid: pid_t) {
        let pending = pendingSignals.exchange(0, ordering: .sequentiallyConsistent)
        for signalNumber in 1..<64 where pending & (UInt64(1) << UInt64(signalNumber)) != 0 {
            kill(pid, Int32(signalNumber))
        }
    }

    /// Forwarded to the child. SIGINT and SIGQUIT are not: a terminal sends
    /// them to the whole foreground process group, the child included, so
    /// swalloc ignores them while it waits, as system(3) does.
    static let forwarded: [Int32] = [SIGTERM, SIGHUP, SIGUSR1, SIGUSR2, SIGALRM, SIGWINCH, SIGCONT, SIGTSTP, SIGTTIN, SIGTTOU]

    /// The signals swalloc handles while a child runs (forwarded or ignored).
    static let handled = forwarded + [SIGINT, SIGQUIT]

    /// The signals swalloc's caller left ignored, one bit each (bit N-1 for
    /// signal N, as the kernel shows them in /proc/self/status): `nohup`
    /// ignores SIGHUP, a shell starts a background job with SIGINT and
    /// SIGQUIT ignored, a launcher may leave glibc's own 32 and 33 ignored.
    /// Those stay ignored in the child, as exec keeps an ignored signal, and
    /// swalloc ignores them too rather than forward them; the others start
    /// at their default. Read once, before swalloc changes any. (A child
    /// started with them at their default died of a `kill -HUP` that
    /// `nohup prog` survives.)
    static let ignoredAtStart: UInt64 = {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
           let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigIgn:") }),
           let mask = UInt64(line.dropFirst("SigIgn:".count).trimmingCharacters(in: .whitespaces), radix: 16) {
            return mask
        }
        // Without /proc: the handled signals asked one by one, reading
        // only (glibc's own two cannot be asked, its sigaction refuses
        // them: they are taken as not ignored, the usual case).
        var mask: UInt64 = 0
        for signalNumber in handled {
            var current = sigaction()
            if sigaction(signalNumber, nil, &current) == 0,
               unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self) {
                mask |= UInt64(1) << UInt64(signalNumber - 1)
            }
        }
        return mask
    }()

    static func ignoredByCaller(_ signalNumber: Int32) -> Bool {
        ignoredAtStart & (UInt64(1) << UInt64(signalNumber - 1)) != 0
    }

    /// glibc's own signals (SIGCANCEL and SIGSETXID, 32 and 33): glibc's
    /// posix_spawn sets them ignored in the child unless told to default
    /// them. sigaddset refuses them, so their bits are set by hand, for
    /// those the caller did not leave ignored.
    static func addGlibcInternalSignals(to set: inout sigset_t) {
        withUnsafeMutableBytes(of: &set) { bytes in
            for signalNumber in [32, 33] where !ignoredByCaller(Int32(signalNumber)) {
                bytes[(signalNumber - 1) / 8] |= UInt8(1) << UInt8((signalNumber - 1) % 8)
            }
        }
    }

    /// Why `program` cannot be started, as a shell would say it, with the
    /// shell's status: nil when it names an executable file, as
    /// posix_spawnp looks it up (a name with a slash as it is, else along
    /// PATH). Found before anything runs, so that a run directory is not
    /// made for nothing.
    static func startProblem(_ program: String) -> (reason: String, status: Int32)? {
        func problem(_ path: String) -> (reason: String, status: Int32)? {
            var status = stat()
            guard stat(path, &status) == 0 else { return ("No such file or directory", 127) }
            if status.st_mode & S_IFMT == S_IFDIR { return ("Is a directory", 126) }
            return access(path, X_OK) == 0 ? nil : ("Permission denied", 126)
        }
        if program.isEmpty { return ("No such file or directory", 127) }
        if program.contains("/") { return problem(program) }
        // glibc's posix_spawnp searches "/bin:/usr/bin" when PATH is unset.
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/bin:/usr/bin"
        var found: (reason: String, status: Int32)? = ("No such file or directory", 127)
        for directory in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + program
            switch problem(candidate) {
            case nil: return nil
            case let other? where other.status == 126: found = other // found, but not to be run: kept looking
            default: continue
            }
        }
        return found
    }

    /// The handled signals back as swalloc found them: their default, or
    /// ignored where its caller ignored them.
    static func restoreDispositions() {
        for signalNumber in handled {
            signal(signalNumber, ignoredByCaller(signalNumber) ? SIG_IGN : SIG_DFL)
        }
    }

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
        // The child starts with default actions for what swalloc ignores
        // or forwards, but for what its caller left ignored.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signalNumber in handled where !ignoredByCaller(signalNumber) { sigaddset(&defaults, signalNumber) }
        addGlibcInternalSignals(to: &defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF))

        let arguments = command.map { strdup($0) } + [nil]
        let variables = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            arguments.forEach { free($0) }
            variables.forEach { free($0) }
        }
        // Handlers before the spawn: a signal from the moment the child may
        // run is forwarded (kept until its pid is known). Both atomics are
        // initialised here, never first in the handler.
        childPID.store(0, ordering: .sequentiallyConsistent)
        pendingSignals.store(0, ordering: .sequentiallyConsistent)
        for signalNumber in forwarded where !ignoredByCaller(signalNumber) {
            signal(signalNumber) { ChildProcess.forward($0) }
        }
        signal(SIGINT, SIG_IGN)
        signal(SIGQUIT, SIG_IGN)
        var pid = pid_t()
        var started = timespec()
        clock_gettime(CLOCK_MONOTONIC, &started)
        let error = posix_spawnp(&pid, command[0], &actions, &attributes, arguments, variables)
        guard error == 0 else {
            restoreDispositions()
            let pending = pendingSignals.exchange(0, ordering: .sequentiallyConsistent)
            for signalNumber in 1..<64 where pending & (UInt64(1) << UInt64(signalNumber)) != 0 { raise(Int32(signalNumber)) }
            throw CLIError("cannot run \(command[0]): \(String(cString: strerror(error)))")
        }
        childPID.store(pid, ordering: .sequentiallyConsistent)
        forwardPending(to: pid)
        // Wait for the child to end without reaping it, stop forwarding,
        // then reap: a signal forwarded after the reaping could reach
        // another process that got the pid.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 {
            if errno != EINTR { throw CLIError("waitid failed: \(String(cString: strerror(errno)))") }
        }
        childPID.store(0, ordering: .sequentiallyConsistent)
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 {
            if errno != EINTR { throw CLIError("waitpid failed: \(String(cString: strerror(errno)))") }
        }
        var ended = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ended)
        // Between runs (swalloc compare), signals act on swalloc as usual.
        childPID.store(0, ordering: .sequentiallyConsistent)
        restoreDispositions()
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

    /// Runs a short program with no input and no output, and returns what
    /// it wrote to stderr. posix_spawn and a pipe, not Foundation's
    /// `Process`: that starts threads, and a thread started before `run`
    /// spawns the real child could take a forwarded signal.
    static func standardError(of command: [String], environment: [String: String]) throws -> [UInt8] {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { throw CLIError("pipe failed: \(String(cString: strerror(errno)))") }
        defer { close(ends[0]) }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        posix_spawn_file_actions_adddup2(&actions, ends[1], 2)
        let arguments = command.map { strdup($0) } + [nil]
        let variables = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            arguments.forEach { free($0) }
            variables.forEach { free($0) }
        }
        var pid = pid_t()
        let error = posix_spawn(&pid, command[0], &actions, nil, arguments, variables)
        close(ends[1])
        guard error == 0 else { throw CLIError("cannot run \(command[0]): \(String(cString: strerror(error)))") }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(ends[0], &buffer, buffer.count)
            if count > 0 { output += buffer[0..<count] } else if count == 0 || errno != EINTR { break }
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return output
    }

    static func seconds(_ time: timespec) -> Double { Double(time.tv_sec) + Double(time.tv_nsec) / 1e9 }
    static func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
}
