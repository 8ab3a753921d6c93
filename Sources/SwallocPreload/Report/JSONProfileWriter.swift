import CSwallocPreload

/// The JSON profile (docs/profile-format.md), version 1.
enum JSONProfileWriter {
    static let version = 1

    static func write(_ profile: Profile, to out: inout OutputBuffer) {
        let c = profile.counters
        out.text("{\n  \"version\": ")
        out.decimal(version)
        out.text(",\n  \"pid\": ")
        out.decimal(Int64(profile.pid))
        out.text(",\n  \"program\": ")
        out.jsonString(cString: Profile.programPath())
        out.text(",\n  \"allocator\": \"")
        Profile.allocatorName(&out)
        out.text("\",\n  \"complete\": true,\n  \"threads\": ")
        out.decimal(profile.threads)
        out.text(",\n  \"totals\": {")
        field(&out, "malloc_calls", c.malloc_calls, first: true)
        field(&out, "calloc_calls", c.calloc_calls)
        field(&out, "realloc_calls", c.realloc_calls)
        field(&out, "free_calls", c.free_calls)
        field(&out, "aligned_calls", c.aligned_calls)
        field(&out, "failed_calls", c.failed_calls)
        field(&out, "allocations", profile.blocksAllocated)
        field(&out, "deallocations", c.blocks_freed)
        field(&out, "bytes_allocated", c.bytes_allocated)
        field(&out, "bytes_freed", c.bytes_freed)
        field(&out, "peak_live_bytes", profile.peakLiveBytes)
        field(&out, "live_bytes_at_exit", profile.liveBytes)
        field(&out, "live_allocations_at_exit", profile.liveBlocks)
        field(&out, "inherited_live_bytes", profile.inheritedBytes)
        field(&out, "inherited_live_allocations", profile.inheritedBlocks)
        out.text("\n  },\n  \"peak_error_bound_bytes\": ")
        out.decimal(max(profile.threads, 1) &* UInt64(SWALLOC_PEAK_STEP))
        out.text(",\n  \"bootstrap\": {\"allocations\": ")
        out.decimal(profile.arenaBlocks)
        out.text(", \"bytes\": ")
        out.decimal(profile.arenaBytes)
        out.text("},\n  \"histogram\": [")
        var first = true
        for index in 0..<Int(SWALLOC_HISTOGRAM_BUCKETS) {
            let count = profile.histogram(index)
            guard count > 0 else { continue }
            let range = Profile.bucketRange(index)
            out.text(first ? "\n    {\"min\": " : ",\n    {\"min\": ")
            first = false
            out.decimal(range.low)
            out.text(", \"max\": ")
            out.decimal(range.high)
            out.text(", \"count\": ")
            out.decimal(count)
            out.byte(UInt8(ascii: "}"))
        }
        out.text(first ? "]" : "\n  ]")
        if Sampler.enabled { SitesWriter.write(&out) }
        out.text("\n}\n")
    }

    static func field(_ out: inout OutputBuffer, _ name: StaticString, _ value: UInt64, first: Bool = false) {
        out.text(first ? "\n    \"" : ",\n    \"")
        out.text(name)
        out.text("\": ")
        out.decimal(value)
    }
}

/// Writes the profile to a file whole or not at all: a temporary sibling
/// created with O_EXCL | O_NOFOLLOW (mode 0600), then rename(2), which
/// replaces whatever is at the path, a planted symbolic link included,
/// without following it. A character device or a FIFO at the path
/// (`/dev/null`, a pipe) is written in place instead: renaming over it
/// would replace `/dev/null` itself with a regular file. Nothing is
/// written under AT_SECURE.
enum ProfileFile {
    static func write(_ profile: Profile, to template: UnsafePointer<CChar>) {
        if Startup.isSecure {
            Diagnostics.line { $0.text("SWALLOC_OUT: not written by a setuid or setgid program") }
            return
        }
        let path = swalloc_path_buffer(1)
        let temporary = swalloc_path_buffer(2)
        guard expand(template, pid: profile.pid, into: path),
              appendTemporarySuffix(path, pid: profile.pid, into: temporary) else {
            Diagnostics.line { $0.text("SWALLOC_OUT: path too long; no profile written") }
            return
        }
        let special = swalloc_open_special(path)
        if special != -2 {
            writeInPlace(profile, fd: special, path: path)
            return
        }
        let fd = swalloc_open_exclusive(temporary)
        guard fd >= 0 else {
            let error = swalloc_errno()
            Diagnostics.line { out in
                out.text("SWALLOC_OUT: cannot create ")
                out.text(cString: temporary)
                out.text(" (errno ")
                out.decimal(Int64(error))
                out.text("); no profile written")
            }
            return
        }
        var out = Profile.buffer(fd: fd)
        JSONProfileWriter.write(profile, to: &out)
        out.flush()
        let closed = close(fd) == 0
        guard out.healthy, closed, rename(temporary, path) == 0 else {
            let error = swalloc_errno()
            _ = unlink(temporary)
            Diagnostics.line { out in
                out.text("SWALLOC_OUT: writing ")
                out.text(cString: UnsafePointer(path))
                out.text(" failed (errno ")
                out.decimal(Int64(error))
                out.text("); no profile written")
            }
            return
        }
    }

    /// The profile to an open device or FIFO (`fd`, or -1 when opening
    /// `path` failed).
    static func writeInPlace(_ profile: Profile, fd: Int32, path: UnsafeMutablePointer<CChar>) {
        let opened = fd >= 0
        var healthy = false
        if opened {
            var out = Profile.buffer(fd: fd)
            JSONProfileWriter.write(profile, to: &out)
            out.flush()
            healthy = out.healthy
            healthy = close(fd) == 0 && healthy
        }
        guard !healthy else { return }
        let error = swalloc_errno()
        Diagnostics.line { out in
            out.text(opened ? "SWALLOC_OUT: writing " : "SWALLOC_OUT: cannot open ")
            out.text(cString: UnsafePointer(path))
            out.text(" failed (errno ")
            out.decimal(Int64(error))
            out.text("); no profile written")
        }
    }

    /// Copies `template` with each `%p` replaced by the pid (and `%%` by %).
    static func expand(_ template: UnsafePointer<CChar>, pid: Int32, into target: UnsafeMutablePointer<CChar>) -> Bool {
        var written = 0
        let capacity = Int(SWALLOC_PATH_BYTES) &- 32
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

    static func appendTemporarySuffix(_ path: UnsafeMutablePointer<CChar>, pid: Int32,
                                      into target: UnsafeMutablePointer<CChar>) -> Bool {
        let length = CString.length(path)
        guard length &+ 32 < Int(SWALLOC_PATH_BYTES) else { return false }
        _ = memcpy(target, path, length)
        var written = length
        let suffix: StaticString = ".swalloc-tmp."
        for index in 0..<suffix.utf8CodeUnitCount {
            target[written] = CChar(bitPattern: suffix.utf8Start[index])
            written &+= 1
        }
        written = appendDecimal(UInt64(pid), to: target, at: written)
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
