import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Writing all of a buffer to a descriptor, with every error reported
/// (ENOSPC on /dev/full, EBADF on a closed stream, EPIPE with SIGPIPE
/// ignored), never trapped as FileHandle.write does.
enum DescriptorWriter {
    static func write<Bytes: ContiguousBytes>(_ bytes: Bytes, to fd: Int32) throws(OutputFailure) {
        let error: Int32? = bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let count = Glibc.write(fd, buffer.baseAddress! + offset, min(buffer.count - offset, 1 << 20))
                if count < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += count
            }
            return nil
        }
        if let error { throw OutputFailure(reason: OutputFailure.describe(error)) }
    }
}

/// Why the output could not be written; the CLI prints it as `swalloc:
/// cannot write WHERE: REASON` and exits with FailureStatus.output.
struct OutputFailure: Error {
    var reason: String

    static func describe(_ code: Int32) -> String {
        String(cString: strerror(code)).lowercased()
    }
}
