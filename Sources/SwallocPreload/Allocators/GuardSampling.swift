import CSwallocPreload

/// The sampled guard (`SWALLOC_GUARD=sample:BYTES` or `sample:1/N`),
/// GWP-ASan's idea for any program: about one allocation per BYTES
/// allocated, or about one allocation in N, chosen at random, moves to
/// guard pages (``GuardBuiltin``'s placement, slack check and
/// quarantine), while the chosen allocator serves the rest. Cheap enough
/// to leave on: the choice rides on the checkpoint the statistics already
/// have (``Checkpoint``), so the fast paths do not change, and a guarded
/// allocation costs a few system calls once per BYTES.
///
/// The chosen allocation already exists when the checkpoint sees it: it is
/// copied into a guarded block (its `size` bytes: a fresh malloc's are
/// garbage, calloc's zeros, realloc's the data), and the first block goes
/// back to its allocator uncounted. Blocks of alignment above 16 are left
/// alone. The guarded block carries a ``BlockHeader`` of owner
/// ``BlockOwner/guarded``, so that free, realloc and malloc_usable_size
/// send it back to the guard allocator.
enum GuardSampling {
    /// Mean bytes between guarded allocations (`sample:BYTES`); 0: not
    /// this form.
    nonisolated(unsafe) static var meanBytes: Int64 = 0
    /// About one allocation in this many is guarded (`sample:1/N`); 0: not
    /// this form. The gap is still drawn in bytes, on the checkpoint's one
    /// countdown, with a mean of N times the thread's recent mean
    /// allocation size (``meanAllocationBytes(_:)``): the rate holds
    /// whatever the program's sizes (with BYTES, a compiler's 1 KiB mean
    /// made `sample:64k` one allocation in 71, a Python's 64-byte mean one
    /// in 1,021).
    nonisolated(unsafe) static var oneIn: Int64 = 0
    nonisolated(unsafe) static var enabled = false
    /// Allocations moved to guard pages so far (atomic).
    nonisolated(unsafe) static var guarded: UInt64 = 0

    /// `SWALLOC_GUARD`: comma-separated `exact` (``GuardBuiltin``'s
    /// byte-exact placement), `below` (``GuardBelow``) and `sample:BYTES`
    /// or `sample:1/N`. Read by the constructor;
    /// the sampled guard needs the statistics' checkpoint, so it is off
    /// (with a line) when they are.
    static func configure(_ text: UnsafePointer<CChar>?, allocatorIsGuard: Bool, statistics: Bool, quiet: Bool) {
        guard let text, text[0] != 0 else { return }
        var exact = false
        var below = false
        var mean: Int64 = 0
        var count: Int64 = 0
        var start = 0
        let length = CString.length(text)
        var valid = true
        while start <= length && valid {
            var end = start
            while end < length && text[end] != 0x2C { end &+= 1 } // ","
            let clause = text + start
            let clauseLength = end &- start
            if clauseLength == 5 && strncmp(clause, "exact", 5) == 0 {
                exact = true
            } else if clauseLength == 5 && strncmp(clause, "below", 5) == 0 {
                below = true
            } else if clauseLength > 9 && strncmp(clause, "sample:1/", 9) == 0,
                      let n = parseCount(clause + 9, length: clauseLength &- 9) {
                count = n
                mean = 0
            } else if clauseLength > 7 && strncmp(clause, "sample:", 7) == 0,
                      let bytes = SizeParser.parse(clause + 7, length: clauseLength &- 7), bytes > 0 {
                mean = Int64(bytes)
                count = 0
            } else {
                valid = false
            }
            start = end &+ 1
        }
        guard valid else {
            Diagnostics.badSetting(SettingsTable.guardPlacement, value: text)
            return
        }
        GuardBuiltin.exactPlacement = exact
        if below && allocatorIsGuard {
            if statistics {
                if !quiet {
                    ignored(text, because: "below needs SWALLOC_STATS=off (blocks then carry no header of the library's, which would sit between the guard page and the block)")
                }
                return
            }
            GuardBelow.requested = true
        }
        if (mean > 0 || count > 0) && !allocatorIsGuard {
            if statistics {
                meanBytes = mean
                oneIn = count
                enabled = true
            } else {
                if !quiet { ignored(text, because: "sample: needs the statistics (SWALLOC_STATS summary or json)") }
                return
            }
        }
        if !allocatorIsGuard && !enabled && !quiet {
            ignored(text, because: "only SWALLOC_ALLOCATOR=guard or sample: reads it")
        }
    }

    /// `swalloc: SWALLOC_GUARD=value: reason; ignored`.
    static func ignored(_ text: UnsafePointer<CChar>, because reason: StaticString) {
        Diagnostics.ignoredSetting(SettingsTable.guardPlacement.variable, value: text, because: reason)
    }

    /// Sets up the guard allocator's parts the sampled guard uses.
    static func start() {
        guard enabled else { return }
        GuardBuiltin.prepare()
        GuardPool.start()
    }

    /// The thread's counters start again from zero (a forked child, a
    /// thread's counters folded into the process's): so does the window
    /// of its mean size, whose calls are counted there.
    static func countersReset(_ thread: UnsafeMutablePointer<swalloc_thread_state>) {
        thread.pointee.guard_calls_mark = 0
        thread.pointee.guard_window_charged = 0
        thread.pointee.guard_window_checkpoints = 0
    }

    /// N of `sample:1/N`: 1 to 2^40 (beyond, the product with a mean size
    /// could overflow, and no program makes that many allocations between
    /// two guarded ones anyway).
    static func parseCount(_ text: UnsafePointer<CChar>, length: Int) -> Int64? {
        guard let value = SizeParser.decimal(text, length: length), value >= 1, value <= 1 << 40 else { return nil }
        return Int64(value)
    }

    /// Bytes until the next guarded allocation, drawn at random (exponential).
    static func nextGap(_ thread: UnsafeMutablePointer<swalloc_thread_state>) -> Int64 {
        guard oneIn > 0 else { return Sampler.gap(thread, mean: meanBytes) }
        if oneIn == 1 { return 0 }
        return Sampler.gap(thread, mean: oneIn &* meanAllocationBytes(thread))
    }

    /// The thread's recent mean allocation size, as the countdown sees it:
    /// the bytes it charged over the allocation calls since the mean was
    /// last updated (about N of them), averaged with the previous value.
    /// - On the countdown, not the statistics' byte count, which has bytes
    ///   the countdown never sees.
    /// - Without the allocations that reached the checkpoint: chosen by
    ///   their bytes, they are larger than the rest (with them, python3 was
    ///   guarded one allocation in 126 at `1/100`).
    /// - Recent, so that it follows a program whose sizes change.
    /// A nominal 64 bytes until the thread has made 16 calls.
    static func meanAllocationBytes(_ thread: UnsafeMutablePointer<swalloc_thread_state>) -> Int64 {
        let calls = Counters.allocationCalls(thread.pointee.counters)
        let windowCalls = calls &- thread.pointee.guard_calls_mark
        let checkpoints = thread.pointee.guard_window_checkpoints
        if windowCalls >= checkpoints &+ 16 {
            // At most 4 MiB (2^22), so that N (at most 2^40) times it fits.
            let windowMean = Int64(max(1, min(thread.pointee.guard_window_charged / (windowCalls &- checkpoints),
                                              1 << 22)))
            let previous = thread.pointee.guard_mean_size
            thread.pointee.guard_mean_size = previous > 0 ? (previous &+ windowMean) / 2 : windowMean
            thread.pointee.guard_calls_mark = calls
            thread.pointee.guard_window_charged = 0
            thread.pointee.guard_window_checkpoints = 0
        }
        return thread.pointee.guard_mean_size > 0 ? thread.pointee.guard_mean_size : 64
    }

    /// The largest allocation guarded: a guarded block is a fresh mapping
    /// whose every page faults in, and the chosen block is copied, so a
    /// large one would cost its size; as GWP-ASan, small blocks only (where
    /// most overflows are). A larger one passes its turn to the next
    /// allocation.
    static let largestSize = 16 << 10

    /// The block at `user` (`size` requested bytes, counted, not yet seen
    /// by the program) moved to guard pages; `user` itself when the guard
    /// allocator refused (its mapping budget), nil when the block is not
    /// one to guard (larger than ``largestSize``, over-aligned).
    @inline(never)
    static func replace(_ user: UnsafeMutableRawPointer, size: Int) -> UnsafeMutableRawPointer? {
        let header = BlockHeader.read(before: user)
        if let header, header.alignmentShift != 4 || header.owner == .guarded { return nil }
        guard size <= largestSize else { return nil }
        // A slot of the pool (two mprotects in all); a mapping of its own
        // when every slot is taken.
        guard let base = GuardPool.allocate(size &+ BlockHeader.byteCount)
                ?? GuardBuiltin.mapGuardedCounted(size &+ BlockHeader.byteCount, BlockHeader.byteCount) else {
            return user
        }
        // The old block's flags carry over (counted, limited); sampling
        // marks the new one afterwards.
        let flags = header.map { $0.flags & ~BlockHeader.sampledFlag } ?? TrailerBlock.headerFlags
        let moved = BlockHeader(requestedSize: size, alignmentShift: 4, owner: .guarded, flags: flags).frame(base)
        // Unsafe: both blocks hold at least `size` bytes.
        _ = memcpy(moved, user, size)
        if let header {
            // Back to its owner without the statistics or the limit (its
            // share moved with the flags): the program never saw it.
            HeaderBlocks.returnToOwner(user, header)
        } else {
            // A trailer block (counting mode, or a limit over glibc): glibc's own.
            swalloc_libc_free(user)
        }
        _ = swalloc_atomic_add_u64(&guarded, 1)
        return moved
    }
}
