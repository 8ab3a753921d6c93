import CSwallocPreload

/// Live bytes over time, for the profile's `timeline`: points of (time
/// since start, live bytes), taken by the peak scan (``ThreadRegistry``,
/// under the process lock) at most once per interval. The interval starts
/// at 1 ms; when the table is full, every other point goes and the
/// interval doubles, so any run ends with between half and all of
/// ``capacity`` points, evenly spread, in 8 KiB of mapped memory.
enum Timeline {
    static let capacity = 512

    struct Point {
        var nanoseconds: UInt64
        var liveBytes: Int64
    }

    nonisolated(unsafe) static var points: UnsafeMutablePointer<Point>? = nil
    nonisolated(unsafe) static var count = 0
    nonisolated(unsafe) static var intervalNanoseconds: UInt64 = 1_000_000
    nonisolated(unsafe) static var startNanoseconds: UInt64 = 0
    nonisolated(unsafe) static var lastNanoseconds: UInt64 = 0

    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) &* 1_000_000_000 &+ UInt64(time.tv_nsec)
    }

    /// At start-up, with statistics on (and again in a forked child).
    static func start() {
        if points == nil {
            // Unsafe: a fresh mapping of `capacity` points, ours alone.
            points = swalloc_map_anonymous(capacity &* MemoryLayout<Point>.stride)?.assumingMemoryBound(to: Point.self)
        }
        count = 0
        intervalNanoseconds = 1_000_000
        startNanoseconds = now()
        lastNanoseconds = 0
    }

    /// A scan's total. Under the process lock.
    static func record(_ live: Int64) {
        Invariant.check(swalloc_lock_held_by_caller(SWALLOC_LOCK_PROCESS), "the timeline grows under the process lock")
        guard let points else { return }
        let elapsed = now() &- startNanoseconds
        if count > 0 && elapsed &- lastNanoseconds < intervalNanoseconds {
            // Within the interval: keep the higher of the two, so that a
            // spike between points is not lost.
            if live > points[count &- 1].liveBytes { points[count &- 1].liveBytes = live }
            return
        }
        if count == capacity {
            // Every other point goes (the higher of each pair stays).
            for index in 0..<(capacity / 2) {
                let first = points[2 &* index], second = points[2 &* index &+ 1]
                points[index] = Point(nanoseconds: first.nanoseconds, liveBytes: max(first.liveBytes, second.liveBytes))
            }
            count = capacity / 2
            intervalNanoseconds &*= 2
        }
        points[count] = Point(nanoseconds: elapsed, liveBytes: live)
        count &+= 1
        lastNanoseconds = elapsed
    }

    /// `"timeline": {"interval_ns": …, "points": [[ns, live bytes], …]}`,
    /// with a last point for the exit's live bytes.
    static func write(_ out: inout OutputBuffer, liveAtExit: UInt64) {
        guard let points else { return }
        out.text(",\n  \"timeline\": {\"interval_ns\": ")
        out.decimal(intervalNanoseconds)
        out.text(", \"points\": [")
        for index in 0..<count {
            out.text(index == 0 ? "[" : ", [")
            out.decimal(points[index].nanoseconds)
            out.text(", ")
            out.decimal(max(points[index].liveBytes, 0))
            out.byte(UInt8(ascii: "]"))
        }
        out.text(count == 0 ? "[" : ", [")
        out.decimal(now() &- startNanoseconds)
        out.text(", ")
        out.decimal(liveAtExit)
        out.text("]]}")
    }
}
