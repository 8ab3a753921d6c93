import CSwallocPreload

/// The fast path of ``ServingMode/counting`` (the system allocator with
/// statistics, the default): malloc and free of ordinary blocks in straight
/// line, everything else handed to ``MallocFamily``'s general path.
///
/// The fast path applies when the thread is active in the statistics and
/// not inside the library (one compare: `swalloc_thread_counts`), and, for
/// free, when the block's tag is the counting tag (one compare: a counted,
/// 16-aligned glibc block). It writes and reads the same ``BlockHeader``
/// as the general path; the two are interchangeable for any block.
///
/// malloc counts before it calls glibc, so that only the size has to live
/// across the call (one saved register, not three). The rare events divert
/// the whole call to a function of their own: a publication of live bytes
/// or a sample (which need the block, so they come after glibc's call), and
/// a failure (which takes back what was counted).
enum CountingPath {
    /// Larger requests take the general path (which checks for overflow);
    /// below 2^31, the check is one compare with an immediate.
    static let largestFastSize = Int(Int32.max)

    @inline(__always)
    static func malloc(_ size: Int) -> UnsafeMutableRawPointer? {
        let thread = swalloc_current_thread()
        guard _fastPath(swalloc_thread_counts(thread)),
              _fastPath(UInt(bitPattern: size) <= UInt(largestFastSize)) else {
            return MallocFamily.malloc(size)
        }
        thread.pointee.counters.malloc_calls &+= 1
        countBytes(size, thread)
        if _slowPath(swalloc_live_grow(thread, Int64(truncatingIfNeeded: size))) {
            return mallocThenPublish(size)
        }
        if _slowPath(swalloc_sample_due(thread, Int64(truncatingIfNeeded: size))) {
            // Through the C declaration: a tail call (see swalloc_preload.h).
            return swalloc_malloc_then_sample(size)
        }
        return allocateCounted(size)
    }

    @inline(__always)
    static func free(_ pointer: UnsafeMutableRawPointer?) {
        let thread = swalloc_current_thread()
        // Three separate guards: joined, the compiler computes all three
        // conditions into flags before one branch.
        guard _fastPath(swalloc_thread_counts(thread)) else { return MallocFamily.free(pointer) }
        guard let pointer else { return MallocFamily.free(nil) }
        // Unsafe: any pointer the program may free has 16 readable bytes
        // before it (a header, an arena header, or glibc's chunk header).
        let word = pointer.load(fromByteOffset: -8, as: UInt64.self)
        let size: Int
        let base: UnsafeMutableRawPointer
        if _fastPath(word & TrailerBlock.notTrailerWordBits == 0) {
            // A glibc chunk, not mmapped, with no header: a trailer block
            // (see TrailerBlock). Unsafe: its usable bytes are readable.
            let usable = Int(truncatingIfNeeded: word & ~7) &- 8
            let slack = pointer.load(fromByteOffset: usable &- 1, as: UInt8.self)
            // 1...127: not sampled, and a valid slack.
            guard _fastPath(slack &- 1 < UInt8(TrailerBlock.largestSlack)) else {
                return freeSampledOrOther(pointer, usable: usable, slack: slack)
            }
            size = usable &- Int(slack)
            base = pointer
        } else {
            // A header, or an arena block (the word before its payload holds
            // an offset below 1 MiB in its low half, never the magic number).
            guard _fastPath(word == BlockHeader.countingTag) else { return MallocFamily.free(pointer) }
            size = pointer.load(fromByteOffset: -16, as: Int.self)
            base = pointer - BlockHeader.byteCount
        }
        thread.pointee.counters.free_calls &+= 1
        thread.pointee.counters.blocks_freed &+= 1
        thread.pointee.counters.bytes_freed &+= UInt64(truncatingIfNeeded: size)
        if _slowPath(swalloc_live_shrink(thread, Int64(truncatingIfNeeded: size))) {
            return freeThenPublish(base)
        }
        swalloc_libc_free(base)
    }

    /// realloc of a counting block to a size in the fast range: glibc moves
    /// or resizes the block with its header (realloc keeps the contents),
    /// and the statistics see the old block freed and the new one
    /// allocated, as on the general path. Everything else (NULL, size 0,
    /// other blocks, a thread that does not count) goes there.
    @inline(__always)
    static func realloc(_ pointer: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
        let thread = swalloc_current_thread()
        // Separate guards, as in free.
        guard _fastPath(swalloc_thread_counts(thread)) else { return MallocFamily.realloc(pointer, size) }
        guard let pointer else { return MallocFamily.realloc(nil, size) }
        // 1...largestFastSize in one unsigned compare.
        guard _fastPath(UInt(bitPattern: size &- 1) < UInt(largestFastSize)) else {
            return MallocFamily.realloc(pointer, size)
        }
        // Unsafe: as in free.
        let word = pointer.load(fromByteOffset: -8, as: UInt64.self)
        let oldSize: Int
        let user: UnsafeMutableRawPointer
        if word & TrailerBlock.notTrailerWordBits == 0 {
            // A trailer block stays one when the new size allows; otherwise
            // (a larger size, a sampled block) the general path moves it.
            let usable = Int(truncatingIfNeeded: word & ~7) &- 8
            let slack = pointer.load(fromByteOffset: usable &- 1, as: UInt8.self)
            guard slack &- 1 < UInt8(TrailerBlock.largestSlack), size <= TrailerBlock.largestSize else {
                return MallocFamily.realloc(pointer, size)
            }
            oldSize = usable &- Int(slack)
            thread.pointee.counters.realloc_calls &+= 1
            // glibc's realloc copies the old usable bytes, trailer included;
            // the new one is written over them.
            guard let block = swalloc_libc_realloc(pointer, size &+ 1) else {
                return FramedAllocation.failure(counted: true)
            }
            guard TrailerBlock.mark(block, size: size) else {
                // Out of the byte's range (an mmapped chunk): frame a copy.
                return reframeReallocated(block, size: size, oldSize: oldSize)
            }
            user = block
        } else {
            guard _fastPath(word == BlockHeader.countingTag) else { return MallocFamily.realloc(pointer, size) }
            oldSize = pointer.load(fromByteOffset: -16, as: Int.self)
            thread.pointee.counters.realloc_calls &+= 1
            guard let base = swalloc_libc_realloc(pointer - BlockHeader.byteCount, size &+ BlockHeader.byteCount) else {
                // glibc left the old block as it was.
                return FramedAllocation.failure(counted: true)
            }
            base.storeBytes(of: size, as: Int.self)
            user = base + BlockHeader.byteCount
        }
        thread.pointee.counters.blocks_freed &+= 1
        thread.pointee.counters.bytes_freed &+= UInt64(truncatingIfNeeded: oldSize)
        let shrunk = swalloc_live_shrink(thread, Int64(truncatingIfNeeded: oldSize))
        countBytes(size, thread)
        let grown = swalloc_live_grow(thread, Int64(truncatingIfNeeded: size))
        if _slowPath(shrunk || grown) { Statistics.publish(thread) }
        if _slowPath(swalloc_sample_due(thread, Int64(truncatingIfNeeded: size))) {
            Sampler.allocationDue(user, size: size)
        }
        return user
    }

    /// calloc of up to ``TrailerBlock/largestSize`` bytes: glibc's calloc
    /// of one more byte, and a trailer. Counted after glibc's call (calloc
    /// is rarer than malloc, and zeroing dwarfs the rest); larger or
    /// overflowing requests take the general path.
    @inline(__always)
    static func calloc(_ count: Int, _ size: Int) -> UnsafeMutableRawPointer? {
        let thread = swalloc_current_thread()
        let (product, overflow) = UInt(bitPattern: count).multipliedReportingOverflow(by: UInt(bitPattern: size))
        guard _fastPath(swalloc_thread_counts(thread)), !overflow,
              _fastPath(product <= UInt(TrailerBlock.largestSize)) else {
            return MallocFamily.calloc(count, size)
        }
        let total = Int(product)
        thread.pointee.counters.calloc_calls &+= 1
        guard let block = swalloc_libc_calloc(1, total &+ 1) else { return FramedAllocation.failure(counted: true) }
        var user = block
        if _slowPath(!TrailerBlock.mark(block, size: total)) {
            // An mmapped chunk (see TrailerBlock.mark): a header block.
            swalloc_libc_free(block)
            guard let base = swalloc_libc_calloc(1, total &+ BlockHeader.byteCount) else {
                return FramedAllocation.failure(counted: true)
            }
            user = frame(base, total)
        }
        Statistics.recordAllocation(total, thread)
        if _slowPath(swalloc_sample_due(thread, Int64(truncatingIfNeeded: total))) {
            return Sampler.allocationDue(user, size: total)
        }
        return user
    }

    // MARK: Pieces

    /// Bytes allocated and the size's histogram bucket.
    @inline(__always)
    static func countBytes(_ size: Int, _ thread: UnsafeMutablePointer<swalloc_thread_state>) {
        thread.pointee.counters.bytes_allocated &+= UInt64(truncatingIfNeeded: size)
        swalloc_histogram(&thread.pointee.counters)[Statistics.bucket(size)] &+= 1
    }

    /// glibc's block for a request already counted: a trailer block up to
    /// ``TrailerBlock/largestSize`` bytes, a header block above.
    @inline(__always)
    static func allocateCounted(_ size: Int) -> UnsafeMutableRawPointer? {
        if size <= TrailerBlock.largestSize {
            guard let block = swalloc_libc_malloc(size &+ 1) else { return failedAfterCounting(size) }
            guard _fastPath(TrailerBlock.mark(block, size: size)) else { return reframe(block, size) }
            return block
        }
        guard let base = swalloc_libc_malloc(size &+ BlockHeader.byteCount) else {
            return failedAfterCounting(size)
        }
        return frame(base, size)
    }

    /// Writes the counting header in front of glibc's block.
    /// Unsafe: glibc returned at least size + 16 writable bytes at `base`.
    @inline(__always)
    static func frame(_ base: UnsafeMutableRawPointer, _ size: Int) -> UnsafeMutableRawPointer {
        base.storeBytes(of: size, as: Int.self)
        base.storeBytes(of: BlockHeader.countingTag, toByteOffset: 8, as: UInt64.self)
        return base + BlockHeader.byteCount
    }

    // MARK: The rare events, each a whole call of its own

    /// The thread's live bytes passed the publication step: allocate, then
    /// publish (the block exists, so the new total is a true peak
    /// candidate), then the sample countdown the fast path did not reach.
    @inline(never)
    static func mallocThenPublish(_ size: Int) -> UnsafeMutableRawPointer? {
        guard let user = allocateCounted(size) else { return nil }
        let thread = swalloc_current_thread()
        Statistics.publish(thread)
        if swalloc_sample_due(thread, Int64(truncatingIfNeeded: size)) { Sampler.allocationDue(user, size: size) }
        return user
    }

    /// Reached by a tail call, and tail-calls the sampler in turn: between
    /// the program's frame and libunwind there is only the sampler's.
    @inline(__always)
    static func mallocThenSample(_ size: Int) -> UnsafeMutableRawPointer? {
        guard let user = allocateCounted(size) else { return nil }
        return Sampler.allocationDue(user, size: size)
    }

    /// glibc failed: the call counts as failed and its bytes come back off.
    @inline(never)
    static func failedAfterCounting(_ size: Int) -> UnsafeMutableRawPointer? {
        let thread = swalloc_current_thread()
        thread.pointee.counters.bytes_allocated &-= UInt64(truncatingIfNeeded: size)
        swalloc_histogram(&thread.pointee.counters)[Statistics.bucket(size)] &-= 1
        // Not published since it was added (a publication diverts before
        // glibc's call), so taking it back leaves no trace.
        _ = swalloc_live_shrink(thread, Int64(truncatingIfNeeded: size))
        return FramedAllocation.failure(counted: true)
    }

    /// glibc's block cannot carry a trailer (see TrailerBlock.mark): give
    /// it back and take one with room for a header. Already counted.
    @inline(never)
    static func reframe(_ block: UnsafeMutableRawPointer, _ size: Int) -> UnsafeMutableRawPointer? {
        swalloc_libc_free(block)
        guard let base = swalloc_libc_malloc(size &+ BlockHeader.byteCount) else {
            return failedAfterCounting(size)
        }
        return frame(base, size)
    }

    /// As ``reframe(_:_:)`` for a block glibc's realloc returned, whose
    /// first `min(size, oldSize)` bytes are the program's. The fast path has
    /// counted the call; this counts the old block's free and the new one.
    @inline(never)
    static func reframeReallocated(_ block: UnsafeMutableRawPointer, size: Int, oldSize: Int) -> UnsafeMutableRawPointer? {
        let thread = swalloc_current_thread()
        let user: UnsafeMutableRawPointer
        if let base = swalloc_libc_malloc(size &+ BlockHeader.byteCount) {
            _ = memcpy(base + BlockHeader.byteCount, block, min(size, oldSize))
            swalloc_libc_free(block)
            user = frame(base, size)
        } else {
            // Out of memory with the program's bytes in `block` (the old
            // block may be gone): hand it out uncounted. A zero byte is no
            // valid slack, so its free will be glibc's alone.
            let usable = TrailerBlock.usableSize(word: block.load(fromByteOffset: -8, as: UInt64.self))
            block.storeBytes(of: 0 as UInt8, toByteOffset: usable &- 1, as: UInt8.self)
            thread.pointee.counters.blocks_freed &+= 1
            thread.pointee.counters.bytes_freed &+= UInt64(truncatingIfNeeded: oldSize)
            if swalloc_live_shrink(thread, Int64(truncatingIfNeeded: oldSize)) { Statistics.publish(thread) }
            return block
        }
        thread.pointee.counters.blocks_freed &+= 1
        thread.pointee.counters.bytes_freed &+= UInt64(truncatingIfNeeded: oldSize)
        let shrunk = swalloc_live_shrink(thread, Int64(truncatingIfNeeded: oldSize))
        countBytes(size, thread)
        let grown = swalloc_live_grow(thread, Int64(truncatingIfNeeded: size))
        if shrunk || grown { Statistics.publish(thread) }
        return user
    }

    /// A trailer block whose byte is not a plain slack: sampled (bit 7 and
    /// a valid slack: every sampled small block, so every allocation with
    /// `SWALLOC_SAMPLE=1`), or not a trailer block at all (the general path
    /// sorts that out).
    @inline(never)
    static func freeSampledOrOther(_ pointer: UnsafeMutableRawPointer, usable: Int, slack: UInt8) {
        let plain = Int(slack & ~TrailerBlock.sampledBit)
        guard slack & TrailerBlock.sampledBit != 0, plain >= 1, plain <= usable else {
            return MallocFamily.free(pointer)
        }
        let size = usable &- plain
        let thread = swalloc_current_thread()
        thread.pointee.counters.free_calls &+= 1
        Statistics.recordFree(size, thread)
        Sampler.released(pointer, size: size)
        swalloc_libc_free(pointer)
    }

    @inline(never)
    static func freeThenPublish(_ base: UnsafeMutableRawPointer) {
        swalloc_libc_free(base)
        Statistics.publish()
    }
}
