import CSwallocPreload

/// The list of threads that count, and what happens to their counters when
/// a thread ends, when the process forks, and when the report sums them.
///
/// A thread joins the list on its first counted event (``admit(_:)``) and
/// sets a pthread key whose destructor (``retire(_:)``) folds its counters
/// into `swalloc_process.retired` when it ends. Events after that (glibc's
/// own clean-up frees once the key destructors ran) are folded one by one.
/// The list and the retired totals are guarded by the process lock, taken
/// only at thread start and end, at fork, by the peak scan and by the report.
enum ThreadRegistry {
    static func start() {
        var key = pthread_key_t()
        if pthread_key_create(&key, { value in
            // Unsafe: the key's only value is the thread's own state (admit).
            if let value { ThreadRegistry.retire(value.assumingMemoryBound(to: swalloc_thread_state.self)) }
        }) == 0 {
            swalloc_process_ptr().pointee.thread_key = key
        }
    }

    /// A free(NULL) counted straight into the process totals, for a thread
    /// that is not (and should not become) a member of the list.
    @inline(never)
    static func countFreeWithoutAdmission() {
        swalloc_lock()
        swalloc_process_ptr().pointee.retired.free_calls &+= 1
        swalloc_unlock()
    }

    /// The list holds at most as many threads as were ever admitted: a walk
    /// longer than that would mean a broken list, and stops rather than
    /// hang the process.
    static var walkLimit: UInt64 { swalloc_process_ptr().pointee.threads_seen &+ 1 }

    /// Folds the events of a thread that already retired, one by one.
    @inline(never)
    static func foldLate(_ thread: UnsafeMutablePointer<swalloc_thread_state>) {
        swalloc_lock()
        fold(thread)
        swalloc_unlock()
    }

    static func admit(_ thread: UnsafeMutablePointer<swalloc_thread_state>) {
        let process = swalloc_process_ptr()
        swalloc_lock()
        thread.pointee.next = process.pointee.threads
        thread.pointee.prev = nil
        if let head = process.pointee.threads { head.pointee.prev = thread }
        process.pointee.threads = thread
        thread.pointee.registration = UInt32(SWALLOC_THREAD_ACTIVE)
        process.pointee.threads_seen &+= 1
        swalloc_unlock()
        // pthread_setspecific may allocate (keys past the first 32): that
        // call is the library's own.
        Reentrancy.enter()
        _ = pthread_setspecific(process.pointee.thread_key, thread)
        Reentrancy.leave()
    }

    /// The key destructor: the thread is ending.
    static func retire(_ thread: UnsafeMutablePointer<swalloc_thread_state>) {
        let process = swalloc_process_ptr()
        swalloc_lock()
        if thread.pointee.registration == UInt32(SWALLOC_THREAD_ACTIVE) {
            if let prev = thread.pointee.prev { prev.pointee.next = thread.pointee.next }
            else { process.pointee.threads = thread.pointee.next }
            if let next = thread.pointee.next { next.pointee.prev = thread.pointee.prev }
            thread.pointee.registration = UInt32(SWALLOC_THREAD_RETIRED)
        }
        fold(thread)
        swalloc_unlock()
    }

    /// Adds a thread's counters to the retired totals and zeroes them.
    /// Called under the lock.
    static func fold(_ thread: UnsafeMutablePointer<swalloc_thread_state>) {
        Invariant.check(swalloc_lock_held_by_caller(SWALLOC_LOCK_PROCESS), "fold runs under the process lock")
        let process = swalloc_process_ptr()
        Counters.add(&thread.pointee.counters, into: &process.pointee.retired)
        thread.pointee.counters = swalloc_counters()
        GuardSampling.countersReset(thread)
    }

    /// In a forked child (from the fork handler, fork.c): the child keeps
    /// only its own thread and starts its own account. Blocks live at the
    /// fork stay the child's to free, so they become its inherited baseline
    /// (and its starting peak).
    static func resetInChild() {
        let process = swalloc_process_ptr()
        let me = swalloc_current_thread()
        swalloc_lock()
        var totals = sum()
        process.pointee.inherited_blocks = process.pointee.inherited_blocks
            &+ Counters.blocksAllocated(&totals) &- totals.blocks_freed
        process.pointee.inherited_bytes = process.pointee.inherited_bytes
            &+ totals.bytes_allocated &- totals.bytes_freed
        process.pointee.peak_live_bytes = Int64(bitPattern: process.pointee.inherited_bytes)
        process.pointee.retired = swalloc_counters()
        // A child that its run does not select (RunSelection) never reports.
        process.pointee.report_done = RunSelection.forkedChildrenReport ? 0 : 1
        process.pointee.parent_pid = getppid()
        Timeline.start()
        PeakOwners.copiedAt = 0
        process.pointee.threads_seen = 0
        process.pointee.threads = nil
        let wasActive = me.pointee.registration == UInt32(SWALLOC_THREAD_ACTIVE)
        me.pointee.counters = swalloc_counters()
        GuardSampling.countersReset(me)
        me.pointee.registration = UInt32(SWALLOC_THREAD_FRESH)
        swalloc_unlock()
        if wasActive { admit(me) }
    }

    /// Sums every counter of the process: retired threads and live ones.
    /// Also returns the peak, the live total now included. When the calling
    /// thread holds the lock already (a report from a signal handler that
    /// interrupted the library), it sums without: the walk is bounded, and
    /// a thread being folded right then may be counted twice or not at all.
    static func snapshot() -> (counters: swalloc_counters, peak: Int64) {
        let process = swalloc_process_ptr()
        let locked = swalloc_lock_acquire_unless_held(SWALLOC_LOCK_PROCESS)
        let totals = sum()
        raisePeak(to: Int64(bitPattern: process.pointee.inherited_bytes
            &+ totals.bytes_allocated &- totals.bytes_freed))
        let peak = process.pointee.peak_live_bytes
        if locked { swalloc_unlock() }
        return (totals, peak)
    }

    /// The counters of ended threads and of every active one. Under the lock.
    static func sum() -> swalloc_counters {
        var totals = swalloc_counters()
        Counters.add(&swalloc_process_ptr().pointee.retired, into: &totals)
        forEachActive { Counters.add(&$0.pointee.counters, into: &totals) }
        return totals
    }

    /// Calls `body` on every thread in the list. Under the lock.
    static func forEachActive(_ body: (UnsafeMutablePointer<swalloc_thread_state>) -> Void) {
        var node = swalloc_process_ptr().pointee.threads
        var steps: UInt64 = 0
        while let thread = node, steps < walkLimit {
            body(thread)
            node = thread.pointee.next
            steps &+= 1
        }
    }

    /// A peak candidate, taken at a checkpoint (``Checkpoint``): the
    /// process's live bytes now. Skipped when the lock is taken: a thread
    /// that holds it is scanning (its total is as recent as this one would
    /// be), starting or ending, forking, or reporting, and the next step
    /// scans again. Never waits, so it cannot deadlock inside malloc.
    /// Returns the live bytes when they are a new peak, else 0: the caller
    /// copies the peak's owners (``PeakOwners``) once the allocation that
    /// made it is sampled, outside the process lock (the sampler's lock is
    /// never taken inside it).
    @inline(never)
    static func scanPeak() -> Int64 {
        guard swalloc_try_lock() else { return 0 }
        let live = liveBytes()
        let newPeak = raisePeak(to: live)
        Timeline.record(live)
        LiveProfile.publishTotals()
        swalloc_unlock()
        return newPeak ? live : 0
    }

    /// The live bytes of the process: what it inherited, what ended
    /// threads left, and every active thread's allocated minus freed bytes,
    /// read while those threads run (`swalloc_thread_live`). The sum is not
    /// one instant's: it can be above the live total of any instant by what
    /// other threads allocate while the walk runs (a handful of reads per
    /// thread), and no more. Under the lock.
    static func liveBytes() -> Int64 {
        let process = swalloc_process_ptr()
        var live = Int64(bitPattern: process.pointee.inherited_bytes
            &+ process.pointee.retired.bytes_allocated &- process.pointee.retired.bytes_freed)
        forEachActive { live &+= swalloc_thread_live($0) }
        return live
    }

    /// Under the lock. Whether `live` is a new peak.
    @discardableResult
    static func raisePeak(to live: Int64) -> Bool {
        Invariant.check(swalloc_lock_held_by_caller(SWALLOC_LOCK_PROCESS), "the peak changes under the process lock")
        let process = swalloc_process_ptr()
        guard live > process.pointee.peak_live_bytes else { return false }
        process.pointee.peak_live_bytes = live
        return true
    }
}

/// The fork handler's call in the child (CSwallocPreload/fork.c), unless
/// the forking thread itself holds the process lock (a signal handler
/// interrupted it there): the child then keeps the parent's account.
@c(swalloc_statistics_after_fork_in_child)
func swallocStatisticsAfterForkInChild() {
    guard statisticsEnabled else { return }
    ThreadRegistry.resetInChild()
    // The child's profile counts its own guarded blocks, as its calls.
    GuardSampling.guarded = 0
}
