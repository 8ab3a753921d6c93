#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// An arena: hands out memory front to back from chunks it takes from the
/// C library as it needs them, and frees everything at once, at `reset()`
/// or when it goes away. `deallocate` is free (it gives back only the newest
/// block); the newest block grows in place while its chunk has room.
///
/// Chunks start at `chunkSize` and double (up to 64 MiB) as the arena
/// grows; a request larger than the next chunk gets a chunk of twice its
/// size, where it can keep growing in place. `reset()` keeps the largest
/// chunk for reuse.
///
/// Not thread-safe: one per thread or task. For a parse tree, a request, a
/// frame: allocate freely, drop it all in one step.
public final class ArenaAllocator: OwnershipAwareAllocator {
    /// A chunk starts with this header.
    @usableFromInline struct ChunkHeader {
        @usableFromInline var previous: UnsafeMutableRawPointer?
        @usableFromInline var bytes: Int
    }

    @usableFromInline static let headerBytes = 64

    // The allocation state is `@exclusivity(unchecked)`: a class's stored
    // properties are otherwise checked at run time (swift_beginAccess) on
    // every access from code outside this module, three calls per
    // allocation in a client's specialised code. Sound here: the arena is
    // not thread-safe by contract, and no method calls out while it
    // accesses them, so no two accesses can overlap.
    @exclusivity(unchecked) @usableFromInline var chunk: UnsafeMutableRawPointer?
    @exclusivity(unchecked) @usableFromInline var cursor: UInt = 0
    @exclusivity(unchecked) @usableFromInline var end: UInt = 0
    @exclusivity(unchecked) @usableFromInline var newest: UInt = 0
    @exclusivity(unchecked) @usableFromInline var nextChunkBytes: Int
    let firstChunkBytes: Int
    /// Chunks taken so far and not given back.
    public private(set) var chunkCount = 0

    /// An arena that takes memory `chunkSize` bytes at a time (more for a
    /// larger block), doubling the size of later chunks.
    public init(chunkSize: Int = 64 << 10) {
        precondition(chunkSize > 0, "ArenaAllocator: chunk size must be positive")
        self.firstChunkBytes = chunkSize
        self.nextChunkBytes = chunkSize
    }

    deinit { releaseChunks(keepingLargest: false) }

    /// Frees every block at once; keeps the largest chunk for what comes next.
    public func reset() {
        releaseChunks(keepingLargest: true)
    }

    @inlinable
    public func allocate(_ layout: Layout) throws(AllocError) -> UnsafeMutableRawBufferPointer {
        if layout.size == 0 { return zeroSizedBlock(layout) }
        let start = (cursor &+ UInt(layout.alignment) &- 1) & ~UInt(layout.alignment &- 1)
        if _fastPath(start &+ UInt(layout.size) <= end && start >= cursor) {
            cursor = start &+ UInt(layout.size)
            newest = start
            return UnsafeMutableRawBufferPointer(start: UnsafeMutableRawPointer(bitPattern: start)!, count: layout.size)
        }
        return try allocateInNewChunk(layout)
    }

    @inlinable
    public func deallocate(_ pointer: UnsafeMutableRawPointer, layout: Layout) {
        if layout.size == 0 { return }
        assert(holdsLiveBlock(pointer, bytes: layout.size), Self.staleBlockMessage)
        if UInt(bitPattern: pointer) == newest && newest != 0 {
            cursor = newest
            newest = 0
        }
    }

    @inlinable
    public func grow(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer {
        if let block = try growingFromZero(pointer, from: old, to: new) { return block }
        assert(holdsLiveBlock(pointer, bytes: old.size), Self.staleBlockMessage)
        let address = UInt(bitPattern: pointer)
        // The newest block grows in place while the chunk has room.
        if address == newest, address & UInt(new.alignment &- 1) == 0, UInt(new.size) <= end &- address {
            cursor = address &+ UInt(new.size)
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
        if UInt(bitPattern: pointer) == newest { cursor = newest &+ UInt(new.size) }
        return UnsafeMutableRawBufferPointer(start: pointer, count: new.size)
    }

    @usableFromInline static var staleBlockMessage: String {
        "ArenaAllocator: a block it does not hold (one from before reset(), or another allocator's)"
    }

    /// The debug check of deallocate, grow and shrink (Rust's debug
    /// assertions' place): `bytes` at `pointer` lie in one of the chunks,
    /// and in the newest chunk below the cursor. A collection that outlived
    /// `reset()` fails it when its block lies above the new cursor or in a
    /// chunk that was given back; one that the new blocks cover already
    /// cannot be told from them.
    @usableFromInline
    func holdsLiveBlock(_ pointer: UnsafeMutableRawPointer, bytes: Int) -> Bool {
        guard let (base, end) = chunk(containing: UnsafeRawPointer(pointer)) else { return false }
        let limit = base == chunk ? cursor : end
        return UInt(bytes) <= limit &- UInt(bitPattern: pointer)
    }

    public func owns(_ pointer: UnsafeRawPointer) -> Bool {
        chunk(containing: pointer) != nil
    }

    /// The chunk `pointer` lies in (its start and end), newest first.
    func chunk(containing pointer: UnsafeRawPointer) -> (base: UnsafeMutableRawPointer, end: UInt)? {
        let address = UInt(bitPattern: pointer)
        var current = chunk
        while let base = current {
            let header = base.load(as: ChunkHeader.self)
            let start = UInt(bitPattern: base)
            if address >= start && address < start &+ UInt(header.bytes) { return (base, start &+ UInt(header.bytes)) }
            current = header.previous
        }
        return nil
    }

    @usableFromInline
    func allocateInNewChunk(_ layout: Layout) throws(AllocError) -> UnsafeMutableRawBufferPointer {
        let needed = layout.size.addingReportingOverflow(layout.alignment &+ Self.headerBytes)
        guard !needed.overflow else { throw AllocError(.exhausted, layout: layout) }
        // A request larger than the next chunk gets twice its size, so
        // that the newest block (a growing vector) keeps growing in place:
        // untouched pages of the chunk cost nothing.
        let headroom = needed.partialValue.multipliedReportingOverflow(by: 2)
        let bytes = needed.partialValue > nextChunkBytes
            ? (headroom.overflow ? needed.partialValue : headroom.partialValue)
            : nextChunkBytes
        guard let base = malloc(bytes) else { throw AllocError(.exhausted, layout: layout) }
        base.storeBytes(of: ChunkHeader(previous: chunk, bytes: bytes), as: ChunkHeader.self)
        chunk = base
        chunkCount += 1
        cursor = UInt(bitPattern: base) &+ UInt(Self.headerBytes)
        end = UInt(bitPattern: base) &+ UInt(bytes)
        newest = 0
        nextChunkBytes = min(nextChunkBytes * 2, 64 << 20)
        return try allocate(layout)
    }

    func releaseChunks(keepingLargest: Bool) {
        var largest: UnsafeMutableRawPointer?
        var largestBytes = 0
        var current = chunk
        while let base = current {
            let header = base.load(as: ChunkHeader.self)
            current = header.previous
            if keepingLargest && header.bytes > largestBytes {
                if let previousLargest = largest { free(previousLargest) }
                largest = base
                largestBytes = header.bytes
            } else {
                free(base)
            }
        }
        chunk = largest
        chunkCount = largest == nil ? 0 : 1
        newest = 0
        if let largest {
            largest.storeBytes(of: ChunkHeader(previous: nil, bytes: largestBytes), as: ChunkHeader.self)
            cursor = UInt(bitPattern: largest) &+ UInt(Self.headerBytes)
            end = UInt(bitPattern: largest) &+ UInt(largestBytes)
        } else {
            cursor = 0
            end = 0
            nextChunkBytes = firstChunkBytes
        }
    }
}
