/// An allocator as a value, passed to the collections that should use it,
/// as Rust's `core::alloc::Allocator` and Zig's `std.mem.Allocator`.
///
/// The methods are non-mutating: an allocator is shared by reference (the
/// stateful ones are classes), and a collection holds it by value.
///
/// The contract:
/// - **Zero-sized layouts are allowed**. Allocating one returns an aligned
///   pointer with `count == 0` that may not be dereferenced; deallocating it
///   does nothing. (A ``GlobalAllocator`` is never asked for size 0.)
/// - `allocate` may return more than asked for; the buffer's `count` says
///   how much, and all of it is the caller's.
/// - **Memory fitting**: `deallocate`, `grow`, `growZeroed` and `shrink`
///   accept any layout with the block's alignment whose size lies between
///   the size last asked for and the `count` last returned for that block.
/// - `grow`, `growZeroed` and `shrink`: on success the old pointer is given
///   up (it may be the new one); on failure it stays valid and untouched.
/// - Only `allocate` and `deallocate` must be written; the rest have default
///   implementations in terms of them.
/// - Thread safety is each allocator's to document. Installing one as the
///   process-wide allocator (``AllocatorAsGlobal``) requires it.
public protocol Allocator {
    /// A block for `layout`: at least `layout.size` bytes (the buffer's
    /// `count` says how many, all the caller's), aligned to
    /// `layout.alignment`; throws ``AllocError`` when the allocator cannot
    /// serve it. A zero-sized layout gets an aligned pointer with
    /// `count == 0`.
    func allocate(_ layout: Layout) throws(AllocError) -> UnsafeMutableRawBufferPointer
    /// As ``allocate(_:)``, with every byte of the block zero.
    func allocateZeroed(_ layout: Layout) throws(AllocError) -> UnsafeMutableRawBufferPointer
    /// Gives back a block this allocator returned, with a layout that fits
    /// it (its alignment, a size between the one asked for and the `count`
    /// returned). The pointer is invalid afterwards.
    func deallocate(_ pointer: UnsafeMutableRawPointer, layout: Layout)
    /// `new.size >= old.size`, same alignment or larger.
    func grow(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer
    /// As ``grow(_:from:to:)``, and the bytes past `old.size` are zero.
    func growZeroed(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer
    /// `new.size <= old.size`.
    func shrink(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer
}

extension Allocator {
    /// ``allocate(_:)``, then zeroes the whole block.
    @inlinable
    public func allocateZeroed(_ layout: Layout) throws(AllocError) -> UnsafeMutableRawBufferPointer {
        let block = try allocate(layout)
        if let base = block.baseAddress, block.count > 0 {
            base.initializeMemory(as: UInt8.self, repeating: 0, count: block.count)
        }
        return block
    }

    /// A new block from ``allocate(_:)``, the old bytes copied, the old
    /// block deallocated.
    @inlinable
    public func grow(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer {
        precondition(new.size >= old.size, "grow: the new size \(new.size) is below the old \(old.size)")
        let block = try allocate(new)
        if old.size > 0 { block.baseAddress!.copyMemory(from: pointer, byteCount: old.size) }
        deallocate(pointer, layout: old)
        return block
    }

    /// ``grow(_:from:to:)``, then zeroes the bytes past `old.size`.
    @inlinable
    public func growZeroed(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer {
        let block = try grow(pointer, from: old, to: new)
        if block.count > old.size {
            (block.baseAddress! + old.size).initializeMemory(as: UInt8.self, repeating: 0, count: block.count - old.size)
        }
        return block
    }

    /// A new block from ``allocate(_:)``, the first `new.size` bytes
    /// copied, the old block deallocated.
    @inlinable
    public func shrink(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer {
        precondition(new.size <= old.size, "shrink: the new size \(new.size) is above the old \(old.size)")
        let block = try allocate(new)
        if new.size > 0 { block.baseAddress!.copyMemory(from: pointer, byteCount: new.size) }
        deallocate(pointer, layout: old)
        return block
    }
}

extension Allocator {
    /// The opening every `grow` shares: checks the contract, and growing a
    /// zero-sized block is allocating one. Returns that block, or nil to go on.
    @inlinable
    func growingFromZero(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer? {
        precondition(new.size >= old.size, "grow: the new size \(new.size) is below the old \(old.size)")
        return old.size == 0 ? try allocate(new) : nil
    }

    /// The opening every `shrink` shares: checks the contract; shrinking to
    /// zero bytes gives the block back, and a block that is not aligned for
    /// the new layout (Rust lets `shrink` ask for a stricter alignment)
    /// moves. Returns the new block, or nil to shrink in place.
    @inlinable
    func shrinkingToZeroOrMoving(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout)
        throws(AllocError) -> UnsafeMutableRawBufferPointer? {
        precondition(new.size <= old.size, "shrink: the new size \(new.size) is above the old \(old.size)")
        if new.size == 0 {
            deallocate(pointer, layout: old)
            return zeroSizedBlock(new)
        }
        guard UInt(bitPattern: pointer) & UInt(new.alignment &- 1) == 0 else { return try moving(pointer, from: old, to: new) }
        return nil
    }

    /// A new block for `new`, the old one's first bytes copied, the old one
    /// given back (on failure, the old one stays as it was).
    @inlinable
    func moving(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer {
        let block = try allocate(new)
        let bytes = Swift.min(old.size, new.size)
        if bytes > 0 { block.baseAddress!.copyMemory(from: pointer, byteCount: bytes) }
        deallocate(pointer, layout: old)
        return block
    }
}

/// An allocator that can tell its own blocks from others' (what
/// ``FallbackAllocator`` needs to route a `deallocate`).
public protocol OwnershipAwareAllocator: Allocator {
    /// Whether `pointer` lies in a block this allocator handed out (or could
    /// have: answering for its whole region is enough).
    func owns(_ pointer: UnsafeRawPointer) -> Bool
}

/// The zero-sized block of `layout`.
@inlinable @inline(__always)
func zeroSizedBlock(_ layout: Layout) -> UnsafeMutableRawBufferPointer {
    UnsafeMutableRawBufferPointer(start: layout.danglingPointer, count: 0)
}
