import CSwallocPreload

/// The rare events of the counting fast path (``CountingPath``), each a
/// whole call of its own so that the fast path keeps one saved register and
/// no work after glibc's call beyond writing the size back.
extension CountingPath {
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
            // block may be gone): hand it out uncounted, so that its free
            // is glibc's alone.
            TrailerBlock.unmark(block)
            Statistics.recordFree(oldSize, thread)
            return block
        }
        Statistics.recordFree(oldSize, thread)
        Statistics.recordAllocation(size, thread)
        return user
    }

    /// A trailer block whose byte is not a plain slack: sampled (bit 7 and
    /// a valid slack: every sampled small block, so every allocation with
    /// `SWALLOC_SAMPLE=1`), a zero written one past the request, or not a
    /// trailer block at all (the general path sorts that out).
    @inline(never)
    static func freeSampledOrOther(_ pointer: UnsafeMutableRawPointer, usable: Int, slack: UInt8) {
        guard let trailer = TrailerBlock.decode(usable: usable, byte: slack) else {
            return MallocFamily.free(pointer)
        }
        let thread = swalloc_current_thread()
        thread.pointee.counters.free_calls &+= 1
        Statistics.recordFree(trailer.size, thread)
        if trailer.sampled { Sampler.released(pointer, size: trailer.size) }
        swalloc_libc_free(pointer)
    }

    @inline(never)
    static func freeThenPublish(_ base: UnsafeMutableRawPointer) {
        swalloc_libc_free(base)
        Statistics.publish()
    }
}
