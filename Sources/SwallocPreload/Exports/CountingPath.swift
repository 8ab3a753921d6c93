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
            return mallocThenSample(size)
        }
        guard let base = swalloc_libc_malloc(size &+ BlockHeader.byteCount) else {
            return failedAfterCounting(size)
        }
        return frame(base, size)
    }

    @inline(__always)
    static func free(_ pointer: UnsafeMutableRawPointer?) {
        let thread = swalloc_current_thread()
        // Three separate guards: joined, the compiler computes all three
        // conditions into flags before one branch.
        guard _fastPath(swalloc_thread_counts(thread)) else { return MallocFamily.free(pointer) }
        guard let pointer else { return MallocFamily.free(nil) }
        // An arena block never matches: the word before its payload holds an
        // offset below 1 MiB in its low half, never the magic number.
        // Unsafe: any pointer the program may free has 16 readable bytes
        // before it (a header, an arena header, or glibc's chunk header).
        guard _fastPath(pointer.load(fromByteOffset: -8, as: UInt64.self) == BlockHeader.countingTag) else {
            return MallocFamily.free(pointer)
        }
        let size = pointer.load(fromByteOffset: -16, as: Int.self)
        thread.pointee.counters.free_calls &+= 1
        thread.pointee.counters.blocks_freed &+= 1
        thread.pointee.counters.bytes_freed &+= UInt64(truncatingIfNeeded: size)
        if _slowPath(swalloc_live_shrink(thread, Int64(truncatingIfNeeded: size))) {
            return freeThenPublish(pointer - BlockHeader.byteCount)
        }
        swalloc_libc_free(pointer - BlockHeader.byteCount)
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
        guard _fastPath(pointer.load(fromByteOffset: -8, as: UInt64.self) == BlockHeader.countingTag) else {
            return MallocFamily.realloc(pointer, size)
        }
        let oldSize = pointer.load(fromByteOffset: -16, as: Int.self)
        thread.pointee.counters.realloc_calls &+= 1
        guard let base = swalloc_libc_realloc(pointer - BlockHeader.byteCount, size &+ BlockHeader.byteCount) else {
            // glibc left the old block as it was.
            return FramedAllocation.failure(counted: true)
        }
        base.storeBytes(of: size, as: Int.self)
        let user = base + BlockHeader.byteCount
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

    // MARK: Pieces

    /// Bytes allocated and the size's histogram bucket.
    @inline(__always)
    static func countBytes(_ size: Int, _ thread: UnsafeMutablePointer<swalloc_thread_state>) {
        thread.pointee.counters.bytes_allocated &+= UInt64(truncatingIfNeeded: size)
        swalloc_histogram(&thread.pointee.counters)[Statistics.bucket(size)] &+= 1
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
        guard let base = swalloc_libc_malloc(size &+ BlockHeader.byteCount) else {
            return failedAfterCounting(size)
        }
        let user = frame(base, size)
        let thread = swalloc_current_thread()
        Statistics.publish(thread)
        if swalloc_sample_due(thread, Int64(truncatingIfNeeded: size)) { Sampler.allocationDue(user, size: size) }
        return user
    }

    @inline(never)
    static func mallocThenSample(_ size: Int) -> UnsafeMutableRawPointer? {
        guard let base = swalloc_libc_malloc(size &+ BlockHeader.byteCount) else {
            return failedAfterCounting(size)
        }
        let user = frame(base, size)
        Sampler.allocationDue(user, size: size)
        return user
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

    @inline(never)
    static func freeThenPublish(_ base: UnsafeMutableRawPointer) {
        swalloc_libc_free(base)
        Statistics.publish()
    }
}
