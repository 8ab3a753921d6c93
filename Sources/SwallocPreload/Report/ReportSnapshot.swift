import CSwallocPreload

/// Everything the report says, gathered once.
struct ReportSnapshot {
    var counters: swalloc_counters
    var blocksAllocated: UInt64
    var peakLiveBytes: UInt64
    var liveBytes: UInt64
    var liveBlocks: UInt64
    var inheritedBytes: UInt64
    var inheritedBlocks: UInt64
    var threads: UInt64
    var arenaBlocks: UInt64
    var arenaBytes: UInt64
    var pid: Int32

    static func collect() -> ReportSnapshot {
        var (counters, peak) = ThreadRegistry.snapshot()
        let blocksAllocated = Counters.blocksAllocated(&counters)
        let process = swalloc_process_ptr()
        let inheritedBytes = process.pointee.inherited_bytes
        let inheritedBlocks = process.pointee.inherited_blocks
        let liveBytes = inheritedBytes &+ counters.bytes_allocated &- counters.bytes_freed
        return ReportSnapshot(
            counters: counters,
            blocksAllocated: blocksAllocated,
            peakLiveBytes: max(UInt64(max(peak, 0)), liveBytes),
            liveBytes: liveBytes,
            liveBlocks: inheritedBlocks &+ blocksAllocated &- counters.blocks_freed,
            inheritedBytes: inheritedBytes,
            inheritedBlocks: inheritedBlocks,
            threads: process.pointee.threads_seen,
            arenaBlocks: process.pointee.arena_served,
            arenaBytes: process.pointee.arena_next,
            pid: getpid())
    }

    /// The histogram bucket `index` covers sizes [low, high].
    static func bucketRange(_ index: Int) -> (low: UInt64, high: UInt64) {
        if index == 0 { return (0, 0) }
        let low: UInt64 = 1 &<< UInt64(index &- 1)
        let high: UInt64 = index == 64 ? UInt64.max : (1 &<< UInt64(index)) &- 1
        return (low, high)
    }

    func histogram(_ index: Int) -> UInt64 {
        var copy = counters
        return swalloc_histogram(&copy)[index]
    }

    /// Name of the global allocator, for the report.
    static func allocatorName(_ out: inout OutputBuffer) {
        if let name = GlobalAllocatorRegistry.name { out.text(cString: name, limit: 100) } else { out.text("system") }
    }

    /// The report's output buffer over the static report storage.
    static func buffer(fd: Int32) -> OutputBuffer {
        OutputBuffer(storage: UnsafeMutableRawPointer(swalloc_report_buffer_base()), capacity: Int(SWALLOC_REPORT_BUFFER_BYTES), fd: fd)
    }

    /// The program's path (/proc/self/exe), in static storage.
    static func programPath() -> UnsafePointer<CChar>? {
        let storage = swalloc_path_buffer(0)
        let length = readlink("/proc/self/exe", storage, Int(SWALLOC_PATH_BYTES) &- 1)
        guard length > 0 else { return nil }
        storage[length] = 0
        return UnsafePointer(storage)
    }
}
