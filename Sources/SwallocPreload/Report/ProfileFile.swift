import CSwallocPreload

/// Writes the profile where `SWALLOC_OUT` says, by the rules of
/// swalloc_profile_target.h: the program's descriptor for /dev/stdout,
/// /dev/stderr and /dev/fd/N; a FIFO or device of this user's or root's in
/// place; any other path whole or not at all, through a temporary sibling
/// with an unpredictable name, renamed over it. Every failure is one
/// `swalloc:` line. Nothing is written under AT_SECURE.
enum ProfileFile {
    /// Whether the profile was written whole.
    @discardableResult
    static func write(_ profile: ReportSnapshot, to template: UnsafePointer<CChar>) -> Bool {
        if Startup.isSecure {
            Diagnostics.line { $0.text("SWALLOC_OUT: not written by a setuid or setgid program") }
            return false
        }
        let path = swalloc_path_buffer(1)
        let temporary = swalloc_path_buffer(2)
        guard expand(template, pid: profile.pid, into: path) else {
            Diagnostics.line { $0.text("SWALLOC_OUT: path too long; no profile written") }
            return false
        }
        let target = swalloc_open_profile_target(path, temporary)
        guard target.kind != Int32(SWALLOC_TARGET_REFUSED.rawValue) else {
            refused(path, target)
            return false
        }
        var out = ReportSnapshot.buffer(fd: target.fd)
        JSONProfileWriter.write(profile, to: &out)
        out.flush()
        var healthy = out.healthy
        var error = healthy ? 0 : swalloc_errno()
        if target.kind != Int32(SWALLOC_TARGET_DESCRIPTOR.rawValue) {
            if close(target.fd) != 0 && healthy {
                healthy = false
                error = swalloc_errno()
            }
        }
        if target.kind == Int32(SWALLOC_TARGET_RENAME.rawValue) {
            if healthy && rename(temporary, path) != 0 {
                healthy = false
                error = swalloc_errno()
            }
            if !healthy { _ = unlink(temporary) }
        }
        guard !healthy else { return true }
        Diagnostics.line { out in
            out.text("SWALLOC_OUT: writing ")
            out.escapedText(cString: UnsafePointer(path), limit: 300)
            out.text(" failed (")
            out.text(cString: strerror(error), limit: 100)
            out.text("); no profile written")
        }
        return false
    }

    static func refused(_ path: UnsafeMutablePointer<CChar>, _ target: swalloc_profile_target) {
        Diagnostics.line { out in
            out.text("SWALLOC_OUT=")
            out.escapedText(cString: UnsafePointer(path), limit: 300)
            switch target.reason {
            case Int32(SWALLOC_REASON_DESCRIPTOR_MOVED.rawValue):
                out.text(": that descriptor is closed or no longer the file it was at start-up")
            case Int32(SWALLOC_REASON_FOREIGN_OWNER.rawValue):
                out.text(": a FIFO or device that belongs to another user")
            case Int32(SWALLOC_REASON_IN_DEV.rawValue):
                out.text(": nothing but a device or FIFO is written in /dev")
            case Int32(SWALLOC_REASON_NOT_A_FILE.rawValue):
                out.text(": a directory or socket")
            default:
                out.text(": ")
                out.text(cString: strerror(target.error), limit: 100)
            }
            out.text("; no profile written")
        }
    }

    /// Copies `template` with each `%p` replaced by the pid (and `%%` by %).
    static func expand(_ template: UnsafePointer<CChar>, pid: Int32, into target: UnsafeMutablePointer<CChar>) -> Bool {
        var written = 0
        // Room for the temporary name's suffix (".swalloc-tmp." and 16 hex
        // digits) and a pid's digits past the last check.
        let capacity = Int(SWALLOC_PATH_BYTES) &- 48
        var index = 0
        while template[index] != 0 {
            guard written < capacity else { return false }
            if template[index] == 0x25, template[index + 1] == 0x70 { // %p
                written = appendDecimal(UInt64(pid), to: target, at: written)
                index &+= 2
                continue
            }
            if template[index] == 0x25, template[index + 1] == 0x25 { // %%
                target[written] = 0x25
                written &+= 1
                index &+= 2
                continue
            }
            target[written] = template[index]
            written &+= 1
            index &+= 1
        }
        target[written] = 0
        return true
    }

    static func appendDecimal(_ value: UInt64, to target: UnsafeMutablePointer<CChar>, at start: Int) -> Int {
        var digits = 1
        var probe = value
        while probe >= 10 { probe /= 10; digits &+= 1 }
        var rest = value
        var index = start &+ digits &- 1
        while index >= start {
            target[index] = CChar(truncatingIfNeeded: 48 &+ rest % 10)
            rest /= 10
            index &-= 1
        }
        return start &+ digits
    }
}
