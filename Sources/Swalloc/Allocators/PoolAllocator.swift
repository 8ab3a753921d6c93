#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Blocks of one size, recycled through a free list: constant-time
/// allocate and deallocate, no fragmentation. Serves any layout that fits a
/// block (size and alignment at most the pool's); others get
/// ``AllocError/Reason/unsupportedLayout``.
///
/// Blocks come from chunks of `blocksPerChunk` taken from the C library as
/// needed and returned when the pool goes away. Not thread-safe.
public final class PoolAllocator: OwnershipAwareAllocator {
    /// The size of every block; requests up to it are served.
    public let blockSize: Int
    /// The alignment of every block; stricter requests are refused.
    public let blockAlignment: Int
    let blocksPerChunk: Int
    // Unchecked exclusivity, as ArenaAllocator's state and for the same
    // reason: not thread-safe by contract, no call out during an access.
    @exclusivity(unchecked) @usableFromInline var freeList: UnsafeMutableRawPointer?
    var chunks: [UnsafeMutableRawPointer] = []
    var chunkBytes: Int { blockSize * blocksPerChunk }

    /// `blockSize` is rounded up to a multiple of `alignment` (and of a
    /// pointer, which free blocks hold).
    public init(blockSize: Int, alignment: Int = 16, blocksPerChunk: Int = 1024) {
        precondition(blockSize > 0 && blocksPerChunk > 0, "PoolAllocator: sizes must be positive")
        precondition(alignment > 0 && alignment & (alignment - 1) == 0, "PoolAllocator: alignment must be a power of two")
        let unit = max(alignment, MemoryLayout<UnsafeRawPointer>.alignment)
        self.blockSize = (max(blockSize, MemoryLayout<UnsafeRawPointer>.size) + unit - 1) & ~(unit - 1)
        self.blockAlignment = unit
        self.blocksPerChunk = blocksPerChunk
    }

    deinit { chunks.forEach { free($0) } }

    @inlinable
    public func allocate(_ layout: Layout) throws(AllocError) -> UnsafeMutableRawBufferPointer {
        if layout.size == 0 { return zeroSizedBlock(layout) }
        guard layout.size <= blockSize, layout.alignment <= blockAlignment else {
            throw AllocError(.unsupportedLayout, layout: layout)
        }
        if freeList == nil { try refill(layout) }
        let block = freeList!
        freeList = block.load(as: UnsafeMutableRawPointer?.self)
        return UnsafeMutableRawBufferPointer(start: block, count: blockSize)
    }

    /// In debug builds, a pointer that is not one of the pool's blocks, or
    /// one already free, stops the program (as Rust's debug assertions
    /// would): adopting it would hand the same memory out twice.
    @inlinable
    public func deallocate(_ pointer: UnsafeMutableRawPointer, layout: Layout) {
        if layout.size == 0 { return }
        assert(isBlock(pointer), "PoolAllocator: \(pointer) is not a block of this pool")
        assert(!isFree(pointer), "PoolAllocator: \(pointer) freed twice")
        pointer.storeBytes(of: freeList, as: UnsafeMutableRawPointer?.self)
        freeList = pointer
    }

    /// In place while the new size fits a block.
    public func grow(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer {
        if let block = try growingFromZero(pointer, from: old, to: new) { return block }
        guard new.size <= blockSize, new.alignment <= blockAlignment else {
            throw AllocError(.unsupportedLayout, layout: new)
        }
        return UnsafeMutableRawBufferPointer(start: pointer, count: blockSize)
    }

    public func shrink(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer {
        guard new.alignment <= blockAlignment else { throw AllocError(.unsupportedLayout, layout: new) }
        if let block = try shrinkingToZeroOrMoving(pointer, from: old, to: new) { return block }
        return UnsafeMutableRawBufferPointer(start: pointer, count: blockSize)
    }

    /// The start of a block of one of the pool's chunks.
    @usableFromInline
    func isBlock(_ pointer: UnsafeRawPointer) -> Bool {
        chunks.contains { chunk in
            pointer >= UnsafeRawPointer(chunk) && pointer < UnsafeRawPointer(chunk + chunkBytes)
                && (pointer - UnsafeRawPointer(chunk)) % blockSize == 0
        }
    }

    /// On the free list's first 4096 blocks (a walk of them: for the debug
    /// check only, bounded so that debug builds stay linear; a double free
    /// is nearly always of a block freed recently, near the list's head).
    @usableFromInline
    func isFree(_ pointer: UnsafeRawPointer) -> Bool {
        var current = freeList
        var steps = 0
        while let block = current, steps < 4096 {
            if UnsafeRawPointer(block) == pointer { return true }
            current = block.load(as: UnsafeMutableRawPointer?.self)
            steps += 1
        }
        return false
    }

    public func owns(_ pointer: UnsafeRawPointer) -> Bool {
        chunks.contains { pointer >= UnsafeRawPointer($0) && pointer < UnsafeRawPointer($0 + chunkBytes) }
    }

    @usableFromInline
    func refill(_ layout: Layout) throws(AllocError) {
        var chunk: UnsafeMutableRawPointer?
        guard posix_memalign(&chunk, max(blockAlignment, MemoryLayout<UnsafeRawPointer>.size), chunkBytes) == 0,
              let chunk else { throw AllocError(.exhausted, layout: layout) }
        chunks.append(chunk)
        // Thread the new blocks onto the free list, first block first.
        for index in stride(from: blocksPerChunk - 1, through: 0, by: -1) {
            let block = chunk + index * blockSize
            block.storeBytes(of: freeList, as: UnsafeMutableRawPointer?.self)
            freeList = block
        }
    }
}
