import CSwallocPreload

/// The calls the statistics tell apart.
enum CallKind {
    case malloc, calloc, realloc, free, aligned
}

/// Exact allocation statistics, kept per thread.
///
/// Each thread counts in its own `swalloc_thread_state` (initial-exec TLS:
/// no sharing between cores, one instruction per counter). The counters are
/// summed at exit over the live threads and the totals folded in from
/// threads that ended (see ``ThreadRegistry``), so every count is exact.
///
/// The peak of live bytes needs a process-wide view without a shared atomic
/// on every call (7× slower with two threads in a prototype:
/// docs/measurements.md, "Shared counters"). Each thread
/// scans the process's live total (every thread's bytes allocated minus
/// freed) every `SWALLOC_PEAK_STEP` (64 KiB) bytes it allocates
/// (``Checkpoint``), and every scanned total is a peak candidate. Between
/// the last scan before the true peak and the peak itself each thread
/// allocated less than one step, so the reported peak is at most
/// `threads × SWALLOC_PEAK_STEP` below the truth (under 64 KiB for a
/// single-threaded program); see ``ThreadRegistry/scanPeak()`` for the
/// reads that race with other threads.
///
/// The recording functions take the thread whose counters to use; the
/// caller decided that the event counts (``begin()`` or the fast path's
/// `swalloc_thread_counts`).
enum Statistics {
    @inline(__always)
    static var thread: UnsafeMutablePointer<swalloc_thread_state> { swalloc_current_thread() }

    @inline(__always)
    static func countCall(_ kind: CallKind, _ thread: UnsafeMutablePointer<swalloc_thread_state>) {
        switch kind {
        case .malloc: thread.pointee.counters.malloc_calls &+= 1
        case .calloc: thread.pointee.counters.calloc_calls &+= 1
        case .realloc: thread.pointee.counters.realloc_calls &+= 1
        case .free: thread.pointee.counters.free_calls &+= 1
        case .aligned: thread.pointee.counters.aligned_calls &+= 1
        }
    }

    /// A block of `size` requested bytes was handed out at `user`: counted,
    /// and taken to the checkpoint if it reaches it (which may sample it, or
    /// move it to guard pages). Returns the block to hand out: `user`, or
    /// where the sampled guard moved it.
    @inline(__always)
    static func recordAllocation(_ size: Int, at user: UnsafeMutableRawPointer,
                                 _ thread: UnsafeMutablePointer<swalloc_thread_state>) -> UnsafeMutableRawPointer {
        countBytes(size, thread)
        if _slowPath(swalloc_countdown(thread, Int64(truncatingIfNeeded: size))) {
            return Checkpoint.reached(user, size: size)
        }
        return user
    }

    /// Bytes allocated and the size's histogram bucket: the part of an
    /// allocation's record that the counting fast path takes before
    /// calling glibc (the countdown it handles itself).
    @inline(__always)
    static func countBytes(_ size: Int, _ thread: UnsafeMutablePointer<swalloc_thread_state>) {
        thread.pointee.counters.bytes_allocated &+= UInt64(truncatingIfNeeded: size)
        swalloc_histogram(&thread.pointee.counters)[bucket(size)] &+= 1
    }

    /// The histogram bucket of a request: 64 - clz(size), written as
    /// log2(2·size + 1) so that 0 needs no special case. Sizes of 2^63 and
    /// up wrap into a wrong bucket, always in range, and are taken back
    /// with the call (no such block exists: CountingPath.uncount).
    @inline(__always)
    static func bucket(_ size: Int) -> Int {
        Int.bitWidth &- 1 &- (size &<< 1 | 1).leadingZeroBitCount
    }

    /// A block of `size` requested bytes came back.
    @inline(__always)
    static func recordFree(_ size: Int, _ thread: UnsafeMutablePointer<swalloc_thread_state>) {
        thread.pointee.counters.blocks_freed &+= 1
        thread.pointee.counters.bytes_freed &+= UInt64(truncatingIfNeeded: size)
    }

    // MARK: The general path's bracket around an event

    /// Whether the current call is the program's and counts: statistics on,
    /// and not a call the library makes itself. Admits a thread on its
    /// first event.
    @inline(__always)
    static func begin() -> Bool {
        guard statisticsEnabled else { return false }
        let thread = self.thread
        if _fastPath(swalloc_thread_counts(thread)) { return true }
        return admitOrRefuse(thread)
    }

    @inline(never)
    static func admitOrRefuse(_ thread: UnsafeMutablePointer<swalloc_thread_state>) -> Bool {
        if thread.pointee.depth != 0 { return false }
        if thread.pointee.registration == UInt32(SWALLOC_THREAD_FRESH) { ThreadRegistry.admit(thread) }
        return true
    }

    /// After a counted event: a thread whose exit was already accounted
    /// (glibc's clean-up after the key destructors) folds it in at once.
    @inline(__always)
    static func end() {
        let thread = self.thread
        if _slowPath(thread.pointee.registration == UInt32(SWALLOC_THREAD_RETIRED)) {
            ThreadRegistry.foldLate(thread)
        }
    }

    /// Records the free of a counted block whoever frees it (the library
    /// itself included): its bytes were counted live, so they must go.
    @inline(never)
    static func recordFreeAnywhere(_ size: Int) {
        let thread = self.thread
        if thread.pointee.registration == UInt32(SWALLOC_THREAD_FRESH) { ThreadRegistry.admit(thread) }
        recordFree(size, thread)
        end()
    }
}
