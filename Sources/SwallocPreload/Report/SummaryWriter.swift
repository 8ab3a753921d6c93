import CSwallocPreload

/// The human summary on stderr: every line starts with `swalloc:`.
///
/// ```
/// swalloc: python3 [pid 4242] allocator system, 3 threads
/// swalloc: calls      malloc 61,052  calloc 1,211  realloc 6,473  aligned 0  free 59,902  failed 0
/// swalloc: allocated  68,736 blocks  10.4 MiB
/// swalloc: freed      67,118 blocks   9.8 MiB
/// swalloc: peak live  2.3 MiB
/// swalloc: at exit    1,618 blocks   601.2 KiB still live
/// swalloc: sizes      16 B – 32 B      12,204      17.8% ███████
/// ```
enum SummaryWriter {
    static func write(_ profile: ReportSnapshot, to fd: Int32) {
        var out = ReportSnapshot.buffer(fd: fd)
        let c = profile.counters

        out.text("swalloc: ")
        if let path = ReportSnapshot.programPath() {
            out.text(cString: baseName(path))
        }
        out.text(" [pid ")
        out.decimal(Int64(profile.pid))
        out.text("] allocator ")
        ReportSnapshot.allocatorName(&out)
        out.text(", ")
        out.grouped(profile.threads)
        out.text(profile.threads == 1 ? " thread\n" : " threads\n")

        out.text("swalloc: calls      malloc ")
        out.grouped(c.malloc_calls)
        out.text("  calloc ")
        out.grouped(c.calloc_calls)
        out.text("  realloc ")
        out.grouped(c.realloc_calls)
        out.text("  aligned ")
        out.grouped(c.aligned_calls)
        out.text("  free ")
        out.grouped(c.free_calls)
        out.text("  failed ")
        out.grouped(c.failed_calls)

        out.text("\nswalloc: allocated  ")
        out.grouped(profile.blocksAllocated)
        out.text(" blocks  ")
        out.bytes(c.bytes_allocated)
        out.text("\nswalloc: freed      ")
        out.grouped(c.blocks_freed)
        out.text(" blocks  ")
        out.bytes(c.bytes_freed)
        out.text("\nswalloc: peak live  ")
        out.bytes(profile.peakLiveBytes)
        out.text("\nswalloc: at exit    ")
        out.grouped(profile.liveBlocks)
        out.text(" blocks  ")
        out.bytes(profile.liveBytes)
        out.text(" still live")
        if profile.inheritedBlocks != 0 {
            out.text(" (")
            out.grouped(profile.inheritedBlocks)
            out.text(" blocks inherited at fork)")
        }
        out.byte(0x0A)
        histogram(profile, &out)
        out.flush()
    }

    /// Every size class that has allocations, in size order, as bars,
    /// labelled as the text report labels them ("32 B – 64 B"): hiding the
    /// quieter ones hid every large allocation of some programs.
    static func histogram(_ profile: ReportSnapshot, _ out: inout OutputBuffer) {
        let buckets = Int(SWALLOC_HISTOGRAM_BUCKETS)
        var total: UInt64 = 0
        var largest: UInt64 = 0
        for index in 0..<buckets {
            let count = profile.histogram(index)
            total &+= count
            largest = max(largest, count)
        }
        guard total > 0 else { return }
        var first = true
        for index in 0..<buckets {
            let count = profile.histogram(index)
            guard count > 0 else { continue }
            out.text(first ? "swalloc: sizes      " : "swalloc:            ")
            first = false
            let lineStart = out.count
            // Bucket 0 holds size 0, bucket 1 size 1, bucket b sizes in
            // [2^(b-1), 2^b).
            if index <= 1 {
                out.decimal(UInt64(index))
                out.text(" B")
            } else {
                powerOfTwo(index &- 1, &out)
                out.text(" – ")
                powerOfTwo(index, &out)
            }
            // Columns, not bytes: the en dash is three bytes of UTF-8.
            out.padding(to: index <= 1 ? 20 : 22, from: lineStart)
            let countStart = out.count
            out.grouped(count)
            out.padding(to: 11, from: countStart)
            let percentTenths = count &* 1000 / total
            if percentTenths < 1000 { out.byte(0x20) }
            if percentTenths < 100 { out.byte(0x20) }
            out.decimal(percentTenths / 10)
            out.byte(UInt8(ascii: "."))
            out.decimal(percentTenths % 10)
            out.text("% ")
            // Bars of up to 30 cells, ▏-precision is not worth the bytes.
            let cells = Int((count &* 30 &+ largest &- 1) / largest)
            for _ in 0..<cells { out.text("█") }
            out.byte(0x0A)
        }
    }

    /// 2^exponent with a binary unit, exactly: "64 B", "2 KiB", "1 GiB".
    static func powerOfTwo(_ exponent: Int, _ out: inout OutputBuffer) {
        let units: StaticString = "B  KiBMiBGiBTiBPiBEiB"
        let unit = min(exponent / 10, 6)
        out.decimal(UInt64(1) &<< UInt64(exponent &- unit &* 10))
        out.byte(0x20)
        let start = units.utf8Start + unit &* 3
        for index in 0..<3 where start[index] != 0x20 { out.byte(start[index]) }
    }

    static func baseName(_ path: UnsafePointer<CChar>) -> UnsafePointer<CChar> {
        var last = path
        var index = 0
        while path[index] != 0 {
            if path[index] == 0x2F { last = path + index + 1 }
            index &+= 1
        }
        return last
    }
}
