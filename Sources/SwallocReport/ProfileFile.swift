import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Reading a profile's bytes with a bound: a path may name anything, and
/// /dev/zero, a FIFO that never ends or a file still growing must not
/// take all memory.
enum ProfileFile {
    /// The largest profile read: 256 MiB. Decoding and rendering take up
    /// to about 7 times the file's size (Foundation's JSON decoder and
    /// encoder), so this bounds memory near 2 GiB. Real profiles are far
    /// smaller: python3 with every allocation sampled writes 4.5 MB; the
    /// library's stack table would need its 2^22 frames full, with long
    /// names, to approach it.
    static let sizeLimit = 256 << 20

    static func contents(of path: String, limit: Int = sizeLimit) throws(ProfileError) -> Data {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { throw .unreadable(path: path, reason: reason(errno)) }
        defer { close(fd) }
        var status = stat()
        if fstat(fd, &status) == 0 && (status.st_mode & S_IFMT) == S_IFDIR {
            throw .unreadable(path: path, reason: "is a directory")
        }
        var data = Data()
        if (status.st_mode & S_IFMT) == S_IFREG { data.reserveCapacity(min(Int(status.st_size), limit)) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count == 0 { return data }
            if count < 0 {
                if errno == EINTR { continue }
                throw .unreadable(path: path, reason: reason(errno))
            }
            guard data.count + count <= limit else {
                throw .unreadable(path: path, reason: "larger than \(limit >> 20) MiB")
            }
            data.append(contentsOf: chunk[0..<count])
        }
    }

    static func reason(_ code: Int32) -> String {
        switch code {
        case ENOENT: return "no such file"
        case EACCES, EPERM: return "not readable"
        default: return String(cString: strerror(code)).lowercased()
        }
    }
}
