import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A regular file written whole or not at all: the data goes to a new file
/// beside it, created with O_EXCL under an unpredictable name (no other
/// user can have it waiting there as a link or a FIFO), then replaces the
/// file by rename, or for a new file takes its name by link, which fails
/// rather than replace whatever appeared there meanwhile. On any failure
/// the temporary file is removed and the old file is left as it was.
/// A new file is made with `mode` (less the umask); a replaced one keeps
/// the old file's permissions.
enum SafeFileReplacement {
    static func write(_ data: Data, to path: String, replacing old: stat?, mode: mode_t = 0o666) throws(OutputFailure) {
        let directory = (path as NSString).deletingLastPathComponent
        let base = (path as NSString).lastPathComponent
        var random = SystemRandomNumberGenerator()
        let suffix = String(random.next(), radix: 16) + String(random.next(), radix: 16)
        // The name cut so that the temporary one stays within NAME_MAX.
        let temporary = (directory.isEmpty ? "" : directory + "/") + ".\(base.prefix(100)).swalloc-\(suffix)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw OutputFailure(reason: OutputFailure.describe(errno)) }
        do {
            try fill(fd, data, like: old)
        } catch {
            close(fd)
            unlink(temporary)
            throw error
        }
        guard close(fd) == 0 else {
            let reason = OutputFailure.describe(errno)
            unlink(temporary)
            throw OutputFailure(reason: reason)
        }
        if old != nil {
            guard rename(temporary, path) == 0 else {
                let reason = OutputFailure.describe(errno)
                unlink(temporary)
                throw OutputFailure(reason: reason)
            }
            return
        }
        let linked = link(temporary, path) == 0
        let linkError = errno
        if linked || linkError == EEXIST {
            unlink(temporary)
            if !linked { throw OutputFailure(reason: "a file appeared there while swalloc wrote it") }
            return
        }
        // A file system without hard links: rename, which would replace a
        // file that appeared since resolve() found none.
        guard rename(temporary, path) == 0 else {
            let reason = OutputFailure.describe(errno)
            unlink(temporary)
            throw OutputFailure(reason: reason)
        }
    }

    /// Writes the data and flushes it to the disk (where ENOSPC may only
    /// show), with the old file's permissions, and its owner when root.
    static func fill(_ fd: Int32, _ data: Data, like old: stat?) throws(OutputFailure) {
        if let old {
            fchmod(fd, old.st_mode & 0o777)
            if geteuid() == 0 { _ = fchown(fd, old.st_uid, old.st_gid) }
        }
        try DescriptorWriter.write(data, to: fd)
        if fsync(fd) != 0 && errno != EINVAL && errno != EROFS {
            throw OutputFailure(reason: OutputFailure.describe(errno))
        }
    }
}
