/// Allocates from `primary`, and from `secondary` when `primary` fails (an
/// arena for the common case, the system for overflow). Every later call on
/// a block goes to the allocator that owns it, which `primary` tells
/// (``OwnershipAwareAllocator``); a block that outgrows `primary` moves to
/// `secondary`.
public struct FallbackAllocator<Primary: OwnershipAwareAllocator, Secondary: Allocator>: Allocator {
    /// Serves first, and says which blocks are its own.
    public let primary: Primary
    /// Serves what `primary` cannot.
    public let secondary: Secondary

    /// `primary` first, `secondary` when it fails.
    @inlinable
    public init(primary: Primary, secondary: Secondary) {
        self.primary = primary
        self.secondary = secondary
    }

    @inlinable
    public func allocate(_ layout: Layout) throws(AllocError) -> UnsafeMutableRawBufferPointer {
        do {
            return try primary.allocate(layout)
        } catch {
            return try secondary.allocate(layout)
        }
    }

    @inlinable
    public func allocateZeroed(_ layout: Layout) throws(AllocError) -> UnsafeMutableRawBufferPointer {
        do {
            return try primary.allocateZeroed(layout)
        } catch {
            return try secondary.allocateZeroed(layout)
        }
    }

    @inlinable
    public func deallocate(_ pointer: UnsafeMutableRawPointer, layout: Layout) {
        if layout.size == 0 { return }
        if primary.owns(pointer) {
            primary.deallocate(pointer, layout: layout)
        } else {
            secondary.deallocate(pointer, layout: layout)
        }
    }

    @inlinable
    public func grow(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer {
        if old.size == 0 { return try allocate(new) }
        guard primary.owns(pointer) else { return try secondary.grow(pointer, from: old, to: new) }
        if let grown = try? primary.grow(pointer, from: old, to: new) { return grown }
        // Moves to the secondary; the old block stays valid if that fails.
        let block = try secondary.allocate(new)
        block.baseAddress!.copyMemory(from: pointer, byteCount: old.size)
        primary.deallocate(pointer, layout: old)
        return block
    }

    @inlinable
    public func shrink(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer {
        if old.size == 0 { return zeroSizedBlock(new) }
        return primary.owns(pointer)
            ? try primary.shrink(pointer, from: old, to: new)
            : try secondary.shrink(pointer, from: old, to: new)
    }
}
