import CSwallocPreload

/// The calls the statistics tell apart.
enum CallKind {
    case malloc, calloc, realloc, free, aligned
}

/// Exact allocation statistics, kept per thread.
///
/// Each thread counts in its own `swalloc_thread_state` (initial-exec TLS:
/// one instruction to reach, no sharing between cores). The counters are
/// summed at exit over the live threads and the totals folded in from
/// threads that ended (see ``ThreadRegistry``), so every count is exact.
///
/// The peak of live bytes needs a process-wide view. Each thread keeps the
/// live bytes it has not yet published (`live_delta`) and publishes them
/// to one atomic total when they pass ±``publishBytes``. A thread also keeps
/// the highest value its delta reached since it last published
/// (`live_high`); `snapshot + high` is then a live total the process
/// really reached if no other thread published meanwhile. The reported peak
/// is therefore exact for one thread and at most
/// `(threads - 1) × publishBytes` below the truth with more.
enum Statistics {
    /// How far a thread's unpublished live bytes may drift: 64 KiB.
    static let publishBytes: Int64 = 64 << 10

    @inline(__always)
    static func countCall(_ kind: CallKind) {
        withThread { thread in
            switch kind {
            case .malloc: thread.pointee.counters.malloc_calls &+= 1
            case .calloc: thread.pointee.counters.calloc_calls &+= 1
            case .realloc: thread.pointee.counters.realloc_calls &+= 1
            case .free: thread.pointee.counters.free_calls &+= 1
            case .aligned: thread.pointee.counters.aligned_calls &+= 1
            }
        }
    }

    /// A block of `size` requested bytes was handed out.
    @inline(__always)
    static func recordAllocation(_ size: Int) {
        withThread { thread in
            thread.pointee.counters.blocks_allocated &+= 1
            thread.pointee.counters.bytes_allocated &+= UInt64(truncatingIfNeeded: size)
            let bucket = Int.bitWidth &- size.leadingZeroBitCount
            swalloc_histogram(&thread.pointee.counters)[bucket] &+= 1
            let delta = thread.pointee.live_delta &+ Int64(truncatingIfNeeded: size)
            thread.pointee.live_delta = delta
            if delta > thread.pointee.live_high {
                thread.pointee.live_high = delta
                if delta > publishBytes { publish(thread) }
            }
        }
    }

    /// A block of `size` requested bytes came back.
    @inline(__always)
    static func recordFree(_ size: Int) {
        withThread { thread in
            thread.pointee.counters.blocks_freed &+= 1
            thread.pointee.counters.bytes_freed &+= UInt64(truncatingIfNeeded: size)
            let delta = thread.pointee.live_delta &- Int64(truncatingIfNeeded: size)
            thread.pointee.live_delta = delta
            if delta < -publishBytes { publish(thread) }
        }
    }

    @inline(__always)
    static func recordFailure() {
        withThread { thread in thread.pointee.counters.failed_calls &+= 1 }
    }

    /// Runs `body` on this thread's counters; admits a new thread first, and
    /// folds the event straight into the process totals for a thread whose
    /// exit was already accounted.
    @inline(__always)
    static func withThread(_ body: (UnsafeMutablePointer<swalloc_thread_state>) -> Void) {
        let thread = swalloc_current_thread()
        if _fastPath(thread.pointee.registration == UInt32(SWALLOC_THREAD_ACTIVE)) {
            body(thread)
            return
        }
        ThreadRegistry.slowEvent(thread, body)
    }

    /// Publishes a thread's unpublished live bytes and its peak candidate.
    @inline(never)
    static func publish(_ thread: UnsafeMutablePointer<swalloc_thread_state>) {
        swalloc_raise_peak(thread.pointee.live_snapshot &+ thread.pointee.live_high)
        let total = swalloc_publish_live(thread.pointee.live_delta)
        thread.pointee.live_snapshot = total
        thread.pointee.live_delta = 0
        thread.pointee.live_high = 0
    }
}
