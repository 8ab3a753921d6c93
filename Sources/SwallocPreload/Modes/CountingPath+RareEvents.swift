import CSwallocPreload

/// The rare events of the counting fast path (``CountingPath``), each a
/// whole call of its own so that the fast path keeps one saved register and
/// no work after glibc's call beyond writing the size back.
extension CountingPath {
    /// The allocation reaches the checkpoint: allocate, then the
    /// checkpoint (the block exists, so a peak scan counts it, and a
    /// sample can mark it). Reached by a tail call, and tail-calls the
    /// sampler in turn: between the program's frame and libunwind there is
    /// only the sampler's.
    @inline(__always)
    static func mallocThenCheck(_ size: Int) -> UnsafeMutableRawPointer? {
        // nil also for the sizes allocateCounted hands to the general path:
        // no block has 2^63 bytes.
        guard let user = allocateCounted(size) else { return nil }
        return Checkpoint.reached(user, size: size)
    }

    /// glibc failed: the call counts as failed and its bytes come back off.
    @inline(never)
    static func failedAfterCounting(_ size: Int) -> UnsafeMutableRawPointer? {
        uncount(size)
        return HeaderBlocks.failure(counted: true)
    }

    /// A size no block can have (2^63 bytes or more): the counts come back
    /// off, and the general path answers as for any call.
    @inline(never)
    static func generalAfterCounting(_ size: Int) -> UnsafeMutableRawPointer? {
        uncount(size)
        swalloc_current_thread().pointee.counters.malloc_calls &-= 1
        return MallocFamily.malloc(size)
    }

    /// Takes back what the fast path counted for an allocation of `size`
    /// bytes before calling glibc: its bytes, its histogram bucket, and its
    /// share of the countdown (no checkpoint ran for it: that comes after
    /// the block), so that it leaves no trace.
    static func uncount(_ size: Int) {
        let thread = swalloc_current_thread()
        thread.pointee.counters.bytes_allocated &-= UInt64(truncatingIfNeeded: size)
        swalloc_histogram(&thread.pointee.counters)[Statistics.bucket(size)] &-= 1
        thread.pointee.countdown &+= Int64(truncatingIfNeeded: size)
    }

    /// glibc's block cannot carry a trailer (see TrailerBlock.mark): give
    /// it back and take one with room for a header. Already counted.
    @inline(never)
    static func reframe(_ block: UnsafeMutableRawPointer, _ size: Int) -> UnsafeMutableRawPointer? {
        swalloc_libc_free(block)
        return allocateWithHeader(size)
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
        return Statistics.recordAllocation(size, at: user, thread)
    }

    /// A trailer block whose byte is not a plain value: sampled (bit 7 and
    /// a valid value: every sampled small block, so every allocation with
    /// `SWALLOC_SAMPLE=1`), a zero written one past the request, or not a
    /// trailer block at all (the general path sorts that out).
    @inline(never)
    static func freeSampledOrOther(_ pointer: UnsafeMutableRawPointer, usable: Int, byte: UInt8) {
        guard let trailer = TrailerBlock.decode(usable: usable, byte: byte) else {
            return MallocFamily.free(pointer)
        }
        let thread = swalloc_current_thread()
        thread.pointee.counters.free_calls &+= 1
        Statistics.recordFree(trailer.size, thread)
        if trailer.sampled { Sampler.released(pointer, size: trailer.size) }
        swalloc_libc_free(pointer)
    }
}
