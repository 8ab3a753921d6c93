import CSwallocPreload

/// The rare stop on the allocation paths.
///
/// Every counted allocation subtracts its size from the thread's one
/// countdown (`swalloc_countdown`); the allocation that takes it to zero or
/// below reaches the checkpoint, after its block exists. The checkpoint
/// does what has fallen due:
///
/// - the **peak scan**, every `SWALLOC_PEAK_STEP` (64 KiB) bytes the thread
///   allocates: the process's live total, summed from every thread's
///   counters (``ThreadRegistry/scanPeak()``), is a peak candidate;
/// - a **sample** of this allocation, when the thread's sampling gap has
///   run out (``Sampler``).
///
/// One countdown for both keeps each allocation at one subtract and one
/// branch, and frees need nothing: live bytes reach their peak just after
/// an allocation, so scans after allocations are where a peak can be seen.
/// The countdown is set to the nearer of the two; `countdown_start`
/// remembers that value, so that the checkpoint knows how many bytes were
/// allocated since (the last allocation may overshoot by any amount).
enum Checkpoint {
    /// The allocation of `size` bytes at `user` reached the checkpoint.
    /// Returns `user`, so that callers can tail-call it (with sampling, a
    /// frame fewer for libunwind to walk).
    @inline(__always)
    static func reached(_ user: UnsafeMutableRawPointer, size: Int) -> UnsafeMutableRawPointer {
        if _slowPath(settle(swalloc_current_thread())) { return Sampler.record(user, size: size) }
        return user
    }

    /// Charges the bytes allocated since the countdown was set to both
    /// schedules, scans the peak if its step ran out, and sets the next
    /// countdown. Returns whether the allocation is to be sampled.
    @inline(never)
    static func settle(_ thread: UnsafeMutablePointer<swalloc_thread_state>) -> Bool {
        let allocated = thread.pointee.countdown_start &- thread.pointee.countdown
        var sample = false
        if Sampler.enabled {
            // A fresh thread (zeroed TLS) seeds its generator and starts its
            // first gap here, at its first allocation.
            if thread.pointee.sample_random == 0 { Sampler.seed(thread) }
            thread.pointee.sample_left &-= allocated
            if thread.pointee.sample_left <= 0 {
                sample = true
                thread.pointee.sample_left = Sampler.nextGap(thread)
            }
        } else {
            thread.pointee.sample_left = Int64.max
        }
        thread.pointee.peak_left &-= allocated
        if thread.pointee.peak_left <= 0 {
            ThreadRegistry.scanPeak()
            thread.pointee.peak_left = Int64(SWALLOC_PEAK_STEP)
        }
        let next = min(thread.pointee.sample_left, thread.pointee.peak_left)
        thread.pointee.countdown = next
        thread.pointee.countdown_start = next
        return sample
    }
}
