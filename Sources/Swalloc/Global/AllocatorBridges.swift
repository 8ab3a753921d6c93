/// An ``Allocator`` installed as the process-wide ``GlobalAllocator``: for
/// an allocator value you already have, thread-safe (hence `Sendable`), to
/// become what every `malloc` of the process uses.
///
/// ```swift
/// try GlobalAllocatorInstallation.install(AllocatorAsGlobal(MyAllocator()), name: "mine")
/// ```
public struct AllocatorAsGlobal<Base: Allocator & Sendable>: GlobalAllocator {
    /// The allocator that serves every call.
    public let base: Base

    /// `base`, as a global allocator.
    public init(_ base: Base) { self.base = base }

    public func alloc(_ layout: Layout) -> UnsafeMutableRawPointer? {
        try? base.allocate(layout).baseAddress
    }

    public func allocZeroed(_ layout: Layout) -> UnsafeMutableRawPointer? {
        try? base.allocateZeroed(layout).baseAddress
    }

    public func dealloc(_ pointer: UnsafeMutableRawPointer, layout: Layout) {
        base.deallocate(pointer, layout: layout)
    }

    public func realloc(_ pointer: UnsafeMutableRawPointer, layout: Layout, newSize: Int) -> UnsafeMutableRawPointer? {
        // The caller guarantees newSize > 0 and a valid layout (GlobalAlloc).
        let new = Layout(uncheckedSize: newSize, alignment: layout.alignment)
        if newSize >= layout.size { return try? base.grow(pointer, from: layout, to: new).baseAddress }
        return try? base.shrink(pointer, from: layout, to: new).baseAddress
    }
}

/// A ``GlobalAllocator`` used as an ``Allocator``: for passing one to the
/// allocator-generic collections. Zero-sized layouts, which a global
/// allocator never sees, are handled here. (The global allocator the
/// process is running on is simply ``SystemAllocator``: `malloc`.)
public struct GlobalAsAllocator<Base: GlobalAllocator>: Allocator, Sendable {
    /// The global allocator that serves every call.
    public let base: Base

    /// `base`, as an ``Allocator``.
    public init(_ base: Base) { self.base = base }

    public func allocate(_ layout: Layout) throws(AllocError) -> UnsafeMutableRawBufferPointer {
        if layout.size == 0 { return zeroSizedBlock(layout) }
        guard let block = base.alloc(layout) else { throw AllocError(.exhausted, layout: layout) }
        return UnsafeMutableRawBufferPointer(start: block, count: layout.size)
    }

    public func allocateZeroed(_ layout: Layout) throws(AllocError) -> UnsafeMutableRawBufferPointer {
        if layout.size == 0 { return zeroSizedBlock(layout) }
        guard let block = base.allocZeroed(layout) else { throw AllocError(.exhausted, layout: layout) }
        return UnsafeMutableRawBufferPointer(start: block, count: layout.size)
    }

    public func deallocate(_ pointer: UnsafeMutableRawPointer, layout: Layout) {
        if layout.size == 0 { return }
        base.dealloc(pointer, layout: layout)
    }

    public func grow(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer {
        if let block = try growingFromZero(pointer, from: old, to: new) { return block }
        if new.alignment != old.alignment {
            // realloc keeps the alignment: move by hand.
            let block = try allocate(new)
            block.baseAddress!.copyMemory(from: pointer, byteCount: old.size)
            deallocate(pointer, layout: old)
            return block
        }
        guard let block = base.realloc(pointer, layout: old, newSize: new.size) else {
            throw AllocError(.exhausted, layout: new)
        }
        return UnsafeMutableRawBufferPointer(start: block, count: new.size)
    }

    public func shrink(_ pointer: UnsafeMutableRawPointer, from old: Layout, to new: Layout) throws(AllocError)
        -> UnsafeMutableRawBufferPointer {
        if let block = try shrinkingToZeroOrMoving(pointer, from: old, to: new) { return block }
        // realloc promises the old alignment only.
        if new.alignment > old.alignment { return try moving(pointer, from: old, to: new) }
        guard let block = base.realloc(pointer, layout: old, newSize: new.size) else {
            throw AllocError(.exhausted, layout: new)
        }
        return UnsafeMutableRawBufferPointer(start: block, count: new.size)
    }
}
