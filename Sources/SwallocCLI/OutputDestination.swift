import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where `swalloc report` and `swalloc compare` write: standard output, or
/// the file of `-o PATH` under the rules of docs/command-line.md.
///
/// - `/dev/stdout`, `/dev/stderr`, `/dev/fd/N` and `/proc/self/fd/N` mean
///   the descriptor, written as it is (never opened by name, so never
///   replaced);
/// - an existing FIFO or character device is opened and written, never
///   replaced, and only if it belongs to swalloc's user or to root;
/// - a symbolic link, a directory, a block device, a socket, and anything
///   else under /dev are refused;
/// - a regular file (or a new one) is written to a temporary file beside
///   it (O_EXCL, an unpredictable name) that replaces it once complete,
///   and is removed if anything fails (SafeFileReplacement).
///
/// The destination is resolved before the profile is read, so a refusal
/// costs nothing and leaves nothing behind.
enum OutputDestination {
    case descriptor(Int32, name: String)
    case special(path: String, device: dev_t, inode: ino_t)
    case file(path: String, replacing: stat?)

    var name: String {
        switch self {
        case let .descriptor(_, name): return name
        case let .special(path, _, _), let .file(path, _): return path
        }
    }

    static let standardOutput = OutputDestination.descriptor(1, name: "standard output")

    static func resolve(_ path: String?) throws(OutputFailure) -> OutputDestination {
        guard let path else { return standardOutput }
        if let fd = descriptorNumber(path) {
            // Checked now, before swalloc opens anything that could take the number.
            try checkWritable(fd)
            return .descriptor(fd, name: path)
        }
        var status = stat()
        guard lstat(path, &status) == 0 else {
            guard errno == ENOENT else { throw OutputFailure(reason: OutputFailure.describe(errno)) }
            if isUnderDev(path) { throw OutputFailure(reason: "swalloc creates no files in /dev") }
            return .file(path: path, replacing: nil)
        }
        switch status.st_mode & S_IFMT {
        case S_IFREG:
            if isUnderDev(path) { throw OutputFailure(reason: "swalloc replaces no files in /dev") }
            return .file(path: path, replacing: status)
        case S_IFCHR, S_IFIFO:
            guard status.st_uid == geteuid() || status.st_uid == 0 else {
                throw OutputFailure(reason: "a device or FIFO of another user (uid \(status.st_uid))")
            }
            return .special(path: path, device: status.st_dev, inode: status.st_ino)
        case S_IFLNK: throw OutputFailure(reason: "a symbolic link (give the path of the file it points to)")
        case S_IFDIR: throw OutputFailure(reason: "a directory")
        case S_IFBLK: throw OutputFailure(reason: "a block device")
        default: throw OutputFailure(reason: "not a file, FIFO or character device")
        }
    }

    /// 1 for /dev/stdout, 2 for /dev/stderr, N for /dev/fd/N and
    /// /proc/self/fd/N.
    static func descriptorNumber(_ path: String) -> Int32? {
        switch path {
        case "/dev/stdout": return 1
        case "/dev/stderr": return 2
        default:
            for prefix in ["/dev/fd/", "/proc/self/fd/"] where path.hasPrefix(prefix) {
                return Int32(path.dropFirst(prefix.count))
            }
            return nil
        }
    }

    /// The descriptor is open (and was when swalloc started, for 0 to 2)
    /// and open for writing.
    static func checkWritable(_ fd: Int32) throws(OutputFailure) {
        if StandardStreams.closedAtStart.contains(fd) { throw OutputFailure(reason: "the descriptor is closed") }
        let flags = fcntl(fd, F_GETFL)
        guard flags >= 0 else { throw OutputFailure(reason: OutputFailure.describe(errno)) }
        guard flags & O_ACCMODE != O_RDONLY else { throw OutputFailure(reason: "the descriptor is not open for writing") }
    }

    /// Whether `path` is in /dev or below, as written or through its
    /// directory's real path (`../../dev/x`, a link to /dev).
    static func isUnderDev(_ path: String) -> Bool {
        func inDev(_ path: String) -> Bool { path == "/dev" || path.hasPrefix("/dev/") }
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        if inDev((absolute as NSString).standardizingPath) { return true }
        let directory = (absolute as NSString).deletingLastPathComponent
        guard let real = realpath(directory, nil) else { return false }
        defer { free(real) }
        return inDev(String(cString: real))
    }

    /// Writes `data`, all of it, or throws.
    func write(_ data: Data) throws(OutputFailure) {
        switch self {
        case let .descriptor(fd, _):
            try Self.checkWritable(fd)
            try DescriptorWriter.write(data, to: fd)
        case let .special(path, device, inode):
            // No O_CREAT, no O_TRUNC: a device or FIFO is written into.
            let fd = open(path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC)
            guard fd >= 0 else { throw OutputFailure(reason: OutputFailure.describe(errno)) }
            var status = stat()
            guard fstat(fd, &status) == 0, status.st_dev == device, status.st_ino == inode else {
                close(fd)
                throw OutputFailure(reason: "it was replaced while swalloc opened it")
            }
            do {
                try DescriptorWriter.write(data, to: fd)
            } catch {
                close(fd)
                throw error
            }
            guard close(fd) == 0 else { throw OutputFailure(reason: OutputFailure.describe(errno)) }
        case let .file(path, replacing):
            try SafeFileReplacement.write(data, to: path, replacing: replacing)
        }
    }
}

extension OutputDestination {
    /// `resolve`, with a refusal printed as one swalloc: line.
    static func resolveForCommand(_ path: String?) throws -> OutputDestination {
        do {
            return try resolve(path)
        } catch {
            StandardStreams.diagnose("cannot write \(path ?? "standard output"): \(error.reason)")
            throw FailureStatus.output
        }
    }

    /// `write`, with a failure printed as one swalloc: line.
    func deliver(_ data: Data) throws {
        do {
            try write(data)
        } catch {
            StandardStreams.diagnose("cannot write \(name): \(error.reason)")
            throw FailureStatus.output
        }
    }
}
