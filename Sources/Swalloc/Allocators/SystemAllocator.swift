import CSwalloc
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The C library's allocator: `malloc`, `calloc`, `realloc`,
/// `posix_memalign`, `free`. Thread-safe.
///
/// In a process running under libswalloc.so these calls reach the
/// process-wide global allocator, whichever is installed: `SystemAllocator`
/// is also the way to use the global allocator as an ``Allocator``.
///
/// Blocks are reported with their usable size (`malloc_usable_size`), so a
/// collection may use the slack; by the memory-fitting rule, any size
/// between the one asked for and that one is accepted back.
public struct SystemAllocator: Allocator, Sendable {
    /// What malloc guarantees without asking for it.
    @usableFromInline static let mallocAlignment = 2 * MemoryLayout<Int>.size

    /// The C library's allocator (the process's global one).
    @inlinable
    public init() {}

    @inlinable
    public func allocate(_ layout: Layout) throws(AllocError) -> UnsafeMutableRawBufferPointer {
        if layout.size == 0 { return zeroSizedBlock(layout) }
        let block: UnsafeMutableRawPointer?
        if layout.alignment <= Self.mallocAlignment {
            block = malloc(layout.size)
        } else {
            var aligned: UnsafeMutableRawPointer?
            block = posix_memalign(&aligned, layout.alignment, layout.size) == 0 ? aligned : nil
        }
        guard let block else { throw AllocError(.exhausted, layout: layout) }
        return UnsafeMutableRawBufferPointer(start: block, count: Self.usableSize(block, layout))
    }

    @inlinable
    public func allocateZeroed(_ layout: Layout) throws(AllocError) -> UnsafeMutableRawBufferPointer {
        if layout.size == 0 { return zeroSizedBlock(layout) }
        if layout.alignment <= Self.mallocAlignment {
            guard let block = calloc(1, layout.size) else { throw AllocError(.exhausted, layout: layout) }
            // calloc zeroes only what was asked for: report just that.
            return UnsafeMutableRawBufferPointer(start: block, count: layout.size)
        }
        let block = try allocate(layout)
        block.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0, count: block.count)
        return block
    }

    @inlinable
    public func deallocate(_ pointer: UnsafeMutableRawPointer, layout: Layout) {
        if layout.size == 0 { return }
        free(pointer)
    }

    @inlinable
    public func grow(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer {
        if let block = try growingFromZero(pointer, from: old, to: new) { return block }
        guard new.alignment <= Self.mallocAlignment else { return try defaultGrow(pointer, from: old, to: new) }
        // realloc keeps the block on failure, as the contract wants.
        guard let block = realloc(pointer, new.size) else { throw AllocError(.exhausted, layout: new) }
        return UnsafeMutableRawBufferPointer(start: block, count: Self.usableSize(block, new))
    }

    @inlinable
    public func shrink(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer {
        if let block = try shrinkingToZeroOrMoving(pointer, from: old, to: new) { return block }
        guard new.alignment <= Self.mallocAlignment else {
            return UnsafeMutableRawBufferPointer(start: pointer, count: old.size) // in place (aligned: checked above)
        }
        guard let block = realloc(pointer, new.size) else { throw AllocError(.exhausted, layout: new) }
        return UnsafeMutableRawBufferPointer(start: block, count: Self.usableSize(block, new))
    }

    @usableFromInline
    func defaultGrow(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer {
        let block = try allocate(new)
        block.baseAddress!.copyMemory(from: pointer, byteCount: old.size)
        deallocate(pointer, layout: old)
        return block
    }

    @inlinable
    static func usableSize(_ block: UnsafeMutableRawPointer, _ layout: Layout) -> Int {
        #if canImport(Glibc)
        return max(malloc_usable_size(block), layout.size)
        #else
        return layout.size
        #endif
    }
}
