import Synchronization

/// Counts what passes through to another allocator: calls, bytes, the live
/// bytes and their peak. Thread-safe counters (atomics); as thread-safe as
/// the allocator it wraps.
///
/// Bytes are counted as the layouts say (what was asked for), as the
/// process-wide statistics count them. So that what comes back is counted
/// as what went out, the blocks it returns are exactly as large as asked
/// for (the base's extra room is not passed on: memory fitting would let
/// a caller give a block back with a size that was never counted).
public final class CountingAllocator<Base: Allocator>: Allocator, @unchecked Sendable {
    /// The allocator every call passes through to.
    public let base: Base

    /// A snapshot of the counters.
    public struct Counts: Hashable, Sendable {
        /// Successful `allocate` and `allocateZeroed` calls.
        public var allocations = 0
        /// `deallocate` calls.
        public var deallocations = 0
        /// Successful `grow` and `growZeroed` calls.
        public var grows = 0
        /// Successful `shrink` calls.
        public var shrinks = 0
        /// Calls that threw.
        public var failures = 0
        /// Bytes asked for by allocations and by the growth of grows.
        public var bytesAllocated = 0
        /// Bytes in blocks not yet given back, as their layouts say.
        public var liveBytes = 0
        /// The highest `liveBytes` reached.
        public var peakLiveBytes = 0
        /// All zero.
        public init() {}
    }

    @usableFromInline let allocations = Atomic<Int>(0)
    @usableFromInline let deallocations = Atomic<Int>(0)
    @usableFromInline let grows = Atomic<Int>(0)
    @usableFromInline let shrinks = Atomic<Int>(0)
    @usableFromInline let failures = Atomic<Int>(0)
    @usableFromInline let bytesAllocated = Atomic<Int>(0)
    @usableFromInline let liveBytes = Atomic<Int>(0)
    @usableFromInline let peakLiveBytes = Atomic<Int>(0)

    /// Counts the calls that reach `base`, from zero.
    @inlinable
    public init(_ base: Base) { self.base = base }

    /// The counters now (each read atomically; together, as of about now).
    public var counts: Counts {
        var counts = Counts()
        counts.allocations = allocations.load(ordering: .relaxed)
        counts.deallocations = deallocations.load(ordering: .relaxed)
        counts.grows = grows.load(ordering: .relaxed)
        counts.shrinks = shrinks.load(ordering: .relaxed)
        counts.failures = failures.load(ordering: .relaxed)
        counts.bytesAllocated = bytesAllocated.load(ordering: .relaxed)
        counts.liveBytes = liveBytes.load(ordering: .relaxed)
        counts.peakLiveBytes = peakLiveBytes.load(ordering: .relaxed)
        return counts
    }

    @inlinable
    public func allocate(_ layout: Layout) throws(AllocError) -> UnsafeMutableRawBufferPointer {
        Self.exact(try counted(layout.size, allocation: true) { () throws(AllocError) in try base.allocate(layout) },
                   layout.size)
    }

    @inlinable
    public func allocateZeroed(_ layout: Layout) throws(AllocError) -> UnsafeMutableRawBufferPointer {
        Self.exact(try counted(layout.size, allocation: true) { () throws(AllocError) in try base.allocateZeroed(layout) },
                   layout.size)
    }

    @inlinable
    public func deallocate(_ pointer: UnsafeMutableRawPointer, layout: Layout) {
        base.deallocate(pointer, layout: layout)
        deallocations.add(1, ordering: .relaxed)
        liveBytes.subtract(layout.size, ordering: .relaxed)
    }

    @inlinable
    public func grow(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer {
        let block = try counted(new.size - old.size, allocation: false) { () throws(AllocError) in
            try base.grow(pointer, from: old, to: new)
        }
        grows.add(1, ordering: .relaxed)
        return Self.exact(block, new.size)
    }

    @inlinable
    public func growZeroed(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer {
        let block = try counted(new.size - old.size, allocation: false) { () throws(AllocError) in
            try base.growZeroed(pointer, from: old, to: new)
        }
        grows.add(1, ordering: .relaxed)
        return Self.exact(block, new.size)
    }

    @inlinable
    public func shrink(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer {
        let block: UnsafeMutableRawBufferPointer
        do {
            block = try base.shrink(pointer, from: old, to: new)
        } catch {
            failures.add(1, ordering: .relaxed)
            throw error
        }
        shrinks.add(1, ordering: .relaxed)
        liveBytes.subtract(old.size - new.size, ordering: .relaxed)
        return Self.exact(block, new.size)
    }

    /// The block cut to the size that was counted.
    @inlinable
    static func exact(_ block: UnsafeMutableRawBufferPointer, _ size: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: block.baseAddress, count: Swift.min(block.count, size))
    }

    /// Runs an allocation, and on success adds `bytes` to the live total.
    @inlinable
    func counted(_ bytes: Int, allocation: Bool,
                 _ body: () throws(AllocError) -> UnsafeMutableRawBufferPointer) throws(AllocError)
        -> UnsafeMutableRawBufferPointer {
        let block: UnsafeMutableRawBufferPointer
        do {
            block = try body()
        } catch {
            failures.add(1, ordering: .relaxed)
            throw error
        }
        if allocation { allocations.add(1, ordering: .relaxed) }
        bytesAllocated.add(bytes, ordering: .relaxed)
        let live = liveBytes.add(bytes, ordering: .relaxed).newValue
        var peak = peakLiveBytes.load(ordering: .relaxed)
        while live > peak {
            let (exchanged, original) = peakLiveBytes.compareExchange(expected: peak, desired: live, ordering: .relaxed)
            if exchanged { break }
            peak = original
        }
        return block
    }
}
