#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One fixed region, handed out front to back. `deallocate` gives memory
/// back only for the newest block (so a block freed right after it was
/// allocated costs nothing); `reset()` gives back everything at once. The
/// newest block grows and shrinks in place.
///
/// Not thread-safe: use one per thread, or wrap it. The region is taken
/// from the C library at `init` and returned when the allocator goes away;
/// every block it handed out is invalid after `reset()` or its end.
public final class BumpAllocator: OwnershipAwareAllocator {
    @usableFromInline let region: UnsafeMutableRawPointer
    /// Bytes in the region.
    public let capacity: Int
    // Unchecked exclusivity, as ArenaAllocator's state and for the same
    // reason: not thread-safe by contract, no call out during an access.
    /// Offset of the first free byte.
    @exclusivity(unchecked) @usableFromInline var top = 0
    /// Offset of the newest block, or -1.
    @exclusivity(unchecked) @usableFromInline var newest = -1

    /// A region of `capacity` bytes, page-aligned. Ends the process through
    /// ``handleAllocError(_:)`` if the C library cannot provide it (as an
    /// Array that cannot grow traps); see ``withCapacity(_:)`` for an error
    /// instead.
    public convenience init(capacity: Int) {
        precondition(capacity >= 0, "BumpAllocator: negative capacity")
        guard let region = Self.region(capacity) else {
            handleAllocError(AllocError(.exhausted, layout: try? Layout(size: capacity, alignment: 4096)))
        }
        self.init(region: region, capacity: capacity)
    }

    /// A region of `capacity` bytes, or ``AllocError/Reason/exhausted``
    /// when the C library cannot provide it (bumpalo's `try_with_capacity`).
    public static func withCapacity(_ capacity: Int) throws(AllocError) -> BumpAllocator {
        guard capacity >= 0, let region = region(capacity) else { throw AllocError(.exhausted, layout: nil) }
        return BumpAllocator(region: region, capacity: capacity)
    }

    init(region: UnsafeMutableRawPointer, capacity: Int) {
        self.region = region
        self.capacity = capacity
    }

    static func region(_ capacity: Int) -> UnsafeMutableRawPointer? {
        var region: UnsafeMutableRawPointer?
        guard posix_memalign(&region, 4096, max(capacity, 1)) == 0 else { return nil }
        return region
    }

    deinit { free(region) }

    /// Bytes handed out since the last reset (alignment padding included).
    public var bytesUsed: Int { top }

    /// Gives back every block at once.
    public func reset() {
        top = 0
        newest = -1
    }

    @inlinable
    public func allocate(_ layout: Layout) throws(AllocError) -> UnsafeMutableRawBufferPointer {
        if layout.size == 0 { return zeroSizedBlock(layout) }
        let address = UInt(bitPattern: region) &+ UInt(top)
        let padding = Int((UInt(layout.alignment) &- (address & UInt(layout.alignment &- 1))) & UInt(layout.alignment &- 1))
        let start = top &+ padding
        guard layout.size <= capacity &- start else { throw AllocError(.exhausted, layout: layout) }
        top = start &+ layout.size
        newest = start
        return UnsafeMutableRawBufferPointer(start: region + start, count: layout.size)
    }

    @inlinable
    public func deallocate(_ pointer: UnsafeMutableRawPointer, layout: Layout) {
        if layout.size == 0 { return }
        assert(holdsLiveBlock(pointer, bytes: layout.size), Self.staleBlockMessage)
        if pointer - region == newest {
            top = newest
            newest = -1
        }
    }

    @inlinable
    public func grow(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer {
        if let block = try growingFromZero(pointer, from: old, to: new) { return block }
        assert(holdsLiveBlock(pointer, bytes: old.size), Self.staleBlockMessage)
        let offset = pointer - region
        if offset == newest, UInt(bitPattern: pointer) & UInt(new.alignment &- 1) == 0 {
            guard new.size <= capacity &- offset else { throw AllocError(.exhausted, layout: new) }
            top = offset &+ new.size
            return UnsafeMutableRawBufferPointer(start: pointer, count: new.size)
        }
        let block = try allocate(new)
        block.baseAddress!.copyMemory(from: pointer, byteCount: old.size)
        return block
    }

    @inlinable
    public func shrink(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer {
        assert(old.size == 0 || holdsLiveBlock(pointer, bytes: old.size), Self.staleBlockMessage)
        if let block = try shrinkingToZeroOrMoving(pointer, from: old, to: new) { return block }
        if pointer - region == newest { top = newest &+ new.size }
        return UnsafeMutableRawBufferPointer(start: pointer, count: new.size)
    }

    @usableFromInline static var staleBlockMessage: String {
        "BumpAllocator: a block it does not hold (one from before reset(), or another allocator's)"
    }

    /// The debug check of deallocate, grow and shrink: `bytes` at `pointer`
    /// lie in the region below the top, where every live block ends. A
    /// collection that outlived `reset()` fails it until new blocks cover
    /// its old place.
    @usableFromInline
    func holdsLiveBlock(_ pointer: UnsafeMutableRawPointer, bytes: Int) -> Bool {
        let offset = UInt(bitPattern: pointer) &- UInt(bitPattern: region)
        return offset <= UInt(top) && UInt(bytes) <= UInt(top) &- offset
    }

    public func owns(_ pointer: UnsafeRawPointer) -> Bool {
        pointer >= UnsafeRawPointer(region) && pointer < UnsafeRawPointer(region + capacity)
    }
}
