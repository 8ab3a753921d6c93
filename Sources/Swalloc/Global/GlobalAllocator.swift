#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process-wide allocator's contract, as Rust's `core::alloc::GlobalAlloc`.
///
/// A type conforming to `GlobalAllocator` can serve every `malloc`, `free`,
/// `calloc` and `realloc` of a process: install it with
/// ``GlobalAllocatorInstallation/install(_:name:)`` from a plug-in's or the
/// program's `swalloc_register` (see docs/writing-an-allocator.md).
///
/// The contract (what the library promises the allocator, and what the
/// allocator must keep):
/// - `layout.size` is never 0; `layout.alignment` is a power of two.
/// - `dealloc` and `realloc` receive exactly the layout the block was
///   allocated with, and only blocks this allocator handed out.
/// - A block returned by `allocZeroed` is zeroed.
/// - Every method may be called from any thread at any time, also while
///   another is running: the allocator must be thread-safe.
/// - Returning nil reports exhaustion; the program then sees ENOMEM.
/// - Methods may call `malloc` themselves (a Swift implementation will,
///   through its runtime): those calls reach glibc, not the allocator.
public protocol GlobalAllocator: Sendable {
    /// A block of at least `layout.size` bytes aligned to `layout.alignment`,
    /// or nil.
    func alloc(_ layout: Layout) -> UnsafeMutableRawPointer?

    /// Gives back a block this allocator handed out with `layout`.
    func dealloc(_ pointer: UnsafeMutableRawPointer, layout: Layout)

    /// As ``alloc(_:)``, zeroed. Default: `alloc`, then zero the bytes.
    func allocZeroed(_ layout: Layout) -> UnsafeMutableRawPointer?

    /// Resizes a block to `newSize` bytes with the same alignment, keeping
    /// the contents up to the smaller size. On nil the old block is
    /// untouched and still the caller's. Default: alloc, copy, dealloc.
    func realloc(_ pointer: UnsafeMutableRawPointer, layout: Layout, newSize: Int) -> UnsafeMutableRawPointer?
}

extension GlobalAllocator {
    public func allocZeroed(_ layout: Layout) -> UnsafeMutableRawPointer? {
        guard let block = alloc(layout) else { return nil }
        block.initializeMemory(as: UInt8.self, repeating: 0, count: layout.size)
        return block
    }

    public func realloc(_ pointer: UnsafeMutableRawPointer, layout: Layout, newSize: Int) -> UnsafeMutableRawPointer? {
        guard let newLayout = try? Layout(size: newSize, alignment: layout.alignment),
              let block = alloc(newLayout) else { return nil }
        block.copyMemory(from: pointer, byteCount: min(layout.size, newSize))
        dealloc(pointer, layout: layout)
        return block
    }
}

/// A global allocator that knows its own blocks: given any address, it can
/// tell whether the address is a live block of its own, how many bytes the
/// block has, and free it without a layout (swalloc.h's version 2 table).
/// Installed in a process without statistics (`SWALLOC_STATS=off`), its
/// blocks then carry no header of the library's: no bytes per block, and a
/// `free` that reaches ``free(_:)`` through ``owns(_:)`` alone. With
/// statistics on, the library frames the blocks and uses ``GlobalAllocator/dealloc(_:layout:)``
/// as for any ``GlobalAllocator``.
///
/// The contract beyond ``GlobalAllocator``'s:
/// - ``owns(_:)`` is called with every pointer the program frees, resizes
///   or measures, also ones this allocator never saw (glibc's, the
///   library's own): it answers for any address without touching memory it
///   does not own, and without allocating.
/// - ``usableSize(of:)`` and ``free(_:)`` get only pointers ``owns(_:)``
///   said yes to.
public protocol BlockOwningAllocator: GlobalAllocator {
    /// Whether `pointer` is a live block this allocator handed out.
    func owns(_ pointer: UnsafeRawPointer) -> Bool

    /// The bytes the program may use at a block of this allocator's: at
    /// least the size it was allocated with.
    func usableSize(of pointer: UnsafeRawPointer) -> Int

    /// Gives back a block of this allocator's, whatever its layout was.
    func free(_ pointer: UnsafeMutableRawPointer)
}

