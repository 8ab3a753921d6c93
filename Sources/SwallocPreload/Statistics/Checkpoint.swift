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
///   run out (``Sampler``);
/// - the **sampled guard**: this allocation moves to guard pages, when
///   the thread's guard gap has run out (``GuardSampling``).
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
        let due = settle(swalloc_current_thread(), size: size)
        if _slowPath(due == sampleDue) { return Sampler.record(user, size: size) }
        if _slowPath(due != 0) { return guardSampleAndPeak(user, size: size, due: due) }
        return user
    }

    /// The sampled guard's turn, a sample, the peak's owners: whichever
    /// are due, in that order. Out of line, so that the paths that inline
    /// ``reached(_:size:)`` stay as they were.
    @inline(never)
    static func guardSampleAndPeak(_ user: UnsafeMutableRawPointer, size: Int, due: UInt8) -> UnsafeMutableRawPointer {
        // Guarded first, so that a sample records the block's final address.
        var block = user
        let thread = swalloc_current_thread()
        if due & guardDue != 0 {
            if let moved = GuardSampling.replace(user, size: size) {
                block = moved
            } else {
                // Too large (or aligned) to guard: the next allocation takes
                // its turn, so that the rate holds.
                thread.pointee.guard_left = 0
                thread.pointee.countdown = 0
                thread.pointee.countdown_start = 0
            }
        }
        if due & sampleDue != 0 { block = Sampler.record(block, size: size) }
        // After the sample: the allocation that made the peak is among its
        // owners (a large block is the likeliest to be both).
        if due & peakDue != 0 { PeakOwners.peakReached(thread.pointee.peak_found) }
        return block
    }

    static let sampleDue: UInt8 = 1
    static let guardDue: UInt8 = 2
    static let peakDue: UInt8 = 4

    /// Charges the bytes allocated since the countdown was set (`size`:
    /// the allocation that reached it) to every schedule, scans the peak if
    /// its step ran out, and sets the next countdown. Returns what is due
    /// for this allocation: ``sampleDue``, ``guardDue``, ``peakDue``, any
    /// of them or none.
    @inline(never)
    static func settle(_ thread: UnsafeMutablePointer<swalloc_thread_state>, size: Int) -> UInt8 {
        let allocated = thread.pointee.countdown_start &- thread.pointee.countdown
        // A forked child makes its own live profile file here, its first
        // checkpoint (outside every lock; LiveProfile.afterForkInChild).
        if _slowPath(LiveProfile.privateCopy) { LiveProfile.adoptOwnFile() }
        // A fresh thread (zeroed TLS) seeds its generator here, at its
        // first allocation.
        if (Sampler.enabled || GuardSampling.enabled) && thread.pointee.sample_random == 0 { Sampler.seed(thread) }
        var sample = false
        if Sampler.enabled {
            thread.pointee.sample_left &-= allocated
            if thread.pointee.sample_left <= 0 {
                sample = true
                thread.pointee.sample_left = Sampler.nextGap(thread)
            }
        } else {
            thread.pointee.sample_left = Int64.max
        }
        var due = sample ? sampleDue : 0
        thread.pointee.peak_left &-= allocated
        if thread.pointee.peak_left <= 0 {
            let peak = ThreadRegistry.scanPeak()
            if peak > 0 && Sampler.enabled {
                thread.pointee.peak_found = peak
                due |= peakDue
            }
            thread.pointee.peak_left = Int64(SWALLOC_PEAK_STEP)
        }
        if GuardSampling.enabled {
            // The allocation that got here was chosen by its bytes (a large
            // one is likelier): left out of the mean size, which must be
            // the population's.
            thread.pointee.guard_window_charged &+= UInt64(truncatingIfNeeded: allocated &- min(Int64(size), allocated))
            thread.pointee.guard_window_checkpoints &+= 1
            if thread.pointee.guard_started {
                thread.pointee.guard_left &-= allocated
                if thread.pointee.guard_left <= 0 {
                    due |= guardDue
                    thread.pointee.guard_left = GuardSampling.nextGap(thread)
                }
            } else {
                thread.pointee.guard_started = true
                thread.pointee.guard_left = GuardSampling.nextGap(thread)
            }
        } else {
            thread.pointee.guard_left = Int64.max
        }
        let next = min(thread.pointee.sample_left, thread.pointee.peak_left, thread.pointee.guard_left)
        thread.pointee.countdown = next
        thread.pointee.countdown_start = next
        return due
    }
}
