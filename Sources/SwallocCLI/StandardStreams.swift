import Foundation
import ArgumentParser
import SwallocReport
#if canImport(Glibc)
import Glibc
#endif

/// swalloc's own standard streams: its one-line diagnostics, and the
/// descriptors 0 to 2 when it was started with one of them closed.
enum StandardStreams {
    /// The descriptors among 0, 1 and 2 that were closed at start-up.
    nonisolated(unsafe) private(set) static var closedAtStart: Set<Int32> = []

    /// Called before anything is opened: a closed 0, 1 or 2 is noted and
    /// filled with /dev/null, so that no file swalloc opens later takes its
    /// number (a profile read as "standard output", a diagnostic written
    /// into the -o file). Writing to a stream that was closed is an error.
    static func prepare() {
        for fd: Int32 in 0...2 where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
            closedAtStart.insert(fd)
            let filler = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY)
            if filler >= 0 && filler != fd {
                dup2(filler, fd)
                close(filler)
            }
        }
    }

    /// `swalloc: MESSAGE` on standard error, escaped for the terminal (the
    /// message may hold a path or a profile's strings). A failure to write
    /// it is ignored: there is nowhere left to report it.
    static func diagnose(_ message: String) {
        let line = Array("swalloc: \(TerminalText.escaped(message))\n".utf8)
        _ = try? DescriptorWriter.write(line, to: 2)
    }
}

/// What `swalloc` exits with when it fails (docs/command-line.md).
enum FailureStatus {
    /// A profile could not be read or is not a valid one; a program could not be run.
    static let input = ExitCode(2)
    /// The output could not be written: standard output, or -o FILE.
    static let output = ExitCode(74)
}
