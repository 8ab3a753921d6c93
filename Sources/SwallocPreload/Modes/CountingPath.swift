import CSwallocPreload

/// The fast path of ``ServingMode/counting`` (the system allocator with
/// statistics, the default): malloc, free, realloc and calloc of ordinary
/// blocks in straight line, everything else handed to ``MallocFamily``'s
/// general path.
///
/// The fast path applies when the thread is active in the statistics and
/// not inside the library (one compare: `swalloc_thread_counts`). Each
/// allocation subtracts its size from the thread's countdown; the one that
/// reaches zero goes through the ``Checkpoint`` (a peak scan, a sample). Blocks up
/// to 64 KiB are ``TrailerBlock``s, larger ones carry the counting
/// ``BlockHeader`` (a counted, 16-aligned glibc block); free tells them
/// apart with one test of the word before the block. The general path
/// reads both formats (and writes headers), so either path can free or
/// resize any block.
///
/// malloc counts before it calls glibc, so that only the size has to live
/// across the call (one saved register, not three). The rare events divert
/// the whole call to a function of their own (CountingPath+RareEvents): the
/// checkpoint (which needs the block, so it comes after glibc's call), a
/// failure (which takes back what was counted), and a size beyond any
/// block (which the general path answers).
enum CountingPath {
    /// Larger requests take the general path in realloc and the registered
    /// path (which check for overflow); below 2^31, the check is one
    /// compare with an immediate.
    static let largestFastSize = Int(Int32.max)

    @inline(__always)
    static func malloc(_ size: Int) -> UnsafeMutableRawPointer? {
        let thread = swalloc_current_thread()
        guard _fastPath(swalloc_thread_counts(thread)) else { return MallocFamily.malloc(size) }
        // Any size counts here; one too large for a block is taken back
        // where the format is chosen (allocateCounted), off this path.
        thread.pointee.counters.malloc_calls &+= 1
        Statistics.countBytes(size, thread)
        if _slowPath(swalloc_countdown(thread, Int64(truncatingIfNeeded: size))) {
            // Through the C declaration: a tail call (see swalloc_preload.h).
            return swalloc_malloc_then_check(size)
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
            let (chunk, byte) = TrailerBlock.byte(pointer, word: word)
            // 1...127: not sampled, not the off-by-one zero.
            guard _fastPath(byte &- 1 < UInt8(TrailerBlock.largestValue)) else {
                return freeSampledOrOther(pointer, usable: chunk &- TrailerBlock.bias, byte: byte)
            }
            size = chunk &- Int(byte)
            Invariant.check(size >= 0 && size < chunk, "a trailer's size lies inside its chunk")
            base = pointer
        } else {
            // A header, or an arena block (the word before its payload holds
            // an offset below 1 MiB in its low half, never the magic number).
            guard _fastPath(word == BlockHeader.countingTag) else { return MallocFamily.free(pointer) }
            // Unsafe: the counting tag says the 16 bytes before are its header.
            size = pointer.load(fromByteOffset: -16, as: Int.self)
            Invariant.check(size >= 0, "a counting header's size is not negative")
            base = pointer - BlockHeader.byteCount
        }
        thread.pointee.counters.free_calls &+= 1
        Statistics.recordFree(size, thread)
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
            let (chunk, byte) = TrailerBlock.byte(pointer, word: word)
            guard byte &- 1 < UInt8(TrailerBlock.largestValue), size <= TrailerBlock.largestSize else {
                return MallocFamily.realloc(pointer, size)
            }
            oldSize = chunk &- Int(byte)
            thread.pointee.counters.realloc_calls &+= 1
            // glibc's realloc copies the old usable bytes, trailer included;
            // the new one is written over them.
            guard let block = swalloc_libc_realloc(pointer, size &+ 1) else {
                return HeaderBlocks.failure(counted: true)
            }
            guard TrailerBlock.mark(block, size: size) else {
                // Out of the byte's range (an mmapped chunk): frame a copy.
                return reframeReallocated(block, size: size, oldSize: oldSize)
            }
            user = block
        } else {
            guard _fastPath(word == BlockHeader.countingTag) else { return MallocFamily.realloc(pointer, size) }
            // Unsafe: the counting tag says the 16 bytes before are its header.
            oldSize = pointer.load(fromByteOffset: -16, as: Int.self)
            thread.pointee.counters.realloc_calls &+= 1
            guard let base = swalloc_libc_realloc(pointer - BlockHeader.byteCount, size &+ BlockHeader.byteCount) else {
                // glibc left the old block as it was.
                return HeaderBlocks.failure(counted: true)
            }
            base.storeBytes(of: size, as: Int.self)
            user = base + BlockHeader.byteCount
        }
        // As the general path sees a resize: the old block freed, a block
        // of the new size allocated.
        Statistics.recordFree(oldSize, thread)
        return Statistics.recordAllocation(size, at: user, thread)
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
        guard let block = swalloc_libc_calloc(1, total &+ 1) else { return HeaderBlocks.failure(counted: true) }
        var user = block
        if _slowPath(!TrailerBlock.mark(block, size: total)) {
            // An mmapped chunk (see TrailerBlock.mark): a header block.
            swalloc_libc_free(block)
            guard let base = swalloc_libc_calloc(1, total &+ BlockHeader.byteCount) else {
                return HeaderBlocks.failure(counted: true)
            }
            user = frame(base, total)
        }
        return Statistics.recordAllocation(total, at: user, thread)
    }

    // MARK: Pieces

    /// glibc's block for a request already counted: a trailer block up to
    /// ``TrailerBlock/largestSize`` bytes, a header block above.
    @inline(__always)
    static func allocateCounted(_ size: Int) -> UnsafeMutableRawPointer? {
        if UInt(bitPattern: size) <= UInt(TrailerBlock.largestSize) {
            guard let block = swalloc_libc_malloc(size &+ 1) else { return failedAfterCounting(size) }
            guard _fastPath(TrailerBlock.mark(block, size: size)) else { return reframe(block, size) }
            return block
        }
        // Above 2^63 no block can be had, and the header's 16 bytes could
        // wrap the size: the general path answers (ENOMEM).
        guard _fastPath(size >= 0) else { return generalAfterCounting(size) }
        return allocateWithHeader(size)
    }

    /// A counted header block of `size` bytes (0 ≤ size < 2^63), or the
    /// counted failure.
    @inline(__always)
    static func allocateWithHeader(_ size: Int) -> UnsafeMutableRawPointer? {
        guard let base = swalloc_libc_malloc(size &+ BlockHeader.byteCount) else {
            return failedAfterCounting(size)
        }
        return frame(base, size)
    }

    /// Writes the counting header in front of glibc's block.
    /// Unsafe: glibc returned at least size + 16 writable bytes at `base`.
    @inline(__always)
    static func frame(_ base: UnsafeMutableRawPointer, _ size: Int) -> UnsafeMutableRawPointer {
        BlockHeader.write(size: size, tag: BlockHeader.countingTag, at: base)
    }
}
