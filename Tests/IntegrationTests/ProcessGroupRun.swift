import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs one program in a process group of its own and collects its output,
/// with a deadline that holds for the whole group.
///
/// Why not Foundation's `Process`: a test of fork safety is only worth
/// something if a hang ends in a failure. A hung grandchild (a forked child
/// stuck on a lock) keeps the output pipes open, and killing the direct
/// child alone then leaves the reader waiting for end-of-file forever, so
/// one deadlock made CI run until its own limit with no word of which
/// test. Here the deadline kills the whole group, and reading stops a few
/// seconds later even if something outside the group still holds a pipe.
enum ProcessGroupRun {
    struct Outcome {
        var status: Int32
        var signaled: Bool
        var stdout: Data
        var stderr: Data
        var timedOut: Bool
    }

    /// How long reading goes on after the group was killed: long enough
    /// for the kernel to close the killed processes' pipes.
    static let drainSeconds: Double = 5

    static func run(executable: String, arguments: [String], environment: [String: String],
                    stdin: Data, timeout: TimeInterval) -> Outcome {
        // Each pipe: [read end, write end], both close-on-exec in this
        // process (tests run one at a time, so no other spawn can inherit
        // them before the flag is set); the spawn's dup2 gives the child
        // its ends without the flag.
        var outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1], inPipe: [Int32] = [-1, -1]
        guard pipe(&outPipe) == 0, pipe(&errPipe) == 0, pipe(&inPipe) == 0 else {
            return failure("pipe: \(String(cString: strerror(errno)))", closing: outPipe + errPipe + inPipe)
        }
        for fd in outPipe + errPipe + inPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Group 0: a new group whose id is the child's pid. Signals the
        // test runner ignores or blocks go back to their defaults.
        posix_spawnattr_setpgroup(&attributes, 0)
        var everything = sigset_t(), nothing = sigset_t()
        sigfillset(&everything)
        sigemptyset(&nothing)
        posix_spawnattr_setsigdefault(&attributes, &everything)
        posix_spawnattr_setsigmask(&attributes, &nothing)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK))

        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var pid = pid_t()
        let error = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        close(inPipe[0]); close(outPipe[1]); close(errPipe[1])
        guard error == 0 else {
            return failure("cannot run \(executable): \(String(cString: strerror(error)))",
                           closing: [inPipe[1], outPipe[0], errPipe[0]])
        }

        let deadline = now() + timeout
        var killedAt: Double? = nil
        var stdoutData = Data(), stderrData = Data()
        var input = [UInt8](stdin)
        var inputOffset = 0
        var readers: [(fd: Int32, isStdout: Bool)] = [(outPipe[0], true), (errPipe[0], false)]
        var writer: Int32 = inPipe[1]
        if input.isEmpty { close(writer); writer = -1 }
        else { _ = fcntl(writer, F_SETFL, fcntl(writer, F_GETFL) | O_NONBLOCK) }
        var buffer = [UInt8](repeating: 0, count: 65536)

        while !readers.isEmpty || writer >= 0 {
            let current = now()
            if killedAt == nil, current >= deadline {
                kill(-pid, SIGKILL)
                killedAt = current
            }
            if let killedAt, current >= killedAt + drainSeconds { break }
            var fds = readers.map { pollfd(fd: $0.fd, events: Int16(POLLIN), revents: 0) }
            if writer >= 0 { fds.append(pollfd(fd: writer, events: Int16(POLLOUT), revents: 0)) }
            let limit = killedAt.map { $0 + drainSeconds } ?? deadline
            let waitMilliseconds = Int32(max(1, min(1000, (limit - current) * 1000)))
            let ready = poll(&fds, nfds_t(fds.count), waitMilliseconds)
            if ready < 0 { if errno == EINTR { continue } else { break } }
            if ready == 0 { continue }
            var finished: [Int32] = []
            for entry in fds where entry.revents != 0 {
                if entry.fd == writer {
                    let count = input.withUnsafeBytes { bytes in
                        Glibc.write(writer, bytes.baseAddress! + inputOffset, bytes.count - inputOffset)
                    }
                    if count > 0 { inputOffset += count }
                    if count < 0 && errno == EAGAIN { continue }
                    if count <= 0 || inputOffset == input.count {
                        close(writer)
                        writer = -1
                        input = []
                    }
                    continue
                }
                let count = read(entry.fd, &buffer, buffer.count)
                if count > 0 {
                    let chunk = buffer[0..<count]
                    if readers.first(where: { $0.fd == entry.fd })!.isStdout { stdoutData.append(contentsOf: chunk) }
                    else { stderrData.append(contentsOf: chunk) }
                } else if count == 0 || errno != EINTR {
                    finished.append(entry.fd)
                }
            }
            for fd in finished { close(fd) }
            readers.removeAll { finished.contains($0.fd) }
        }
        for reader in readers { close(reader.fd) }
        if writer >= 0 { close(writer) }

        // The output is complete (or the group was killed); the child has
        // ended or is about to. Past the deadline it is killed, group and all.
        var status: Int32 = 0
        while true {
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { break }
            if result < 0 && errno != EINTR { break }
            if killedAt == nil, now() >= deadline {
                kill(-pid, SIGKILL)
                killedAt = now()
            }
            usleep(2000)
        }
        let signalNumber = status & 0x7F
        return Outcome(status: signalNumber == 0 ? (status >> 8) & 0xFF : signalNumber,
                       signaled: signalNumber != 0, stdout: stdoutData, stderr: stderrData,
                       timedOut: killedAt != nil)
    }

    private static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    private static func failure(_ message: String, closing descriptors: [Int32]) -> Outcome {
        for fd in descriptors where fd >= 0 { close(fd) }
        return Outcome(status: 127, signaled: false, stdout: Data(), stderr: Data(message.utf8), timedOut: false)
    }
}
