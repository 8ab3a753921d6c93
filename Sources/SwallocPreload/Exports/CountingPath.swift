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
        guard let base = swalloc_libc_malloc(size &+ BlockHeader.byteCount) else {
            return FramedAllocation.failure(counted: true)
        }
        // Unsafe: glibc returned at least size + 16 writable bytes.
        base.storeBytes(of: size, as: Int.self)
        base.storeBytes(of: BlockHeader.countingTag, toByteOffset: 8, as: UInt64.self)
        Statistics.recordAllocation(size, thread)
        let user = base + BlockHeader.byteCount
        if _slowPath(swalloc_sample_due(thread, Int64(truncatingIfNeeded: size))) {
            Sampler.allocationDue(user, size: size)
        }
        return user
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
        thread.pointee.counters.free_calls &+= 1
        Statistics.recordFree(pointer.load(fromByteOffset: -16, as: Int.self), thread)
        swalloc_libc_free(pointer - BlockHeader.byteCount)
    }
}
