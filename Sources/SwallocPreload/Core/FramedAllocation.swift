import CSwallocPreload

/// The operations of ``ServingMode/framed``: every block gets a
/// ``BlockHeader``, so the owner and the exact layout are known on `free`,
/// `realloc` and `malloc_usable_size`, and the statistics see sizes.
///
/// Sizes arrive as `Int` (C's `size_t` as Swift imports it): a request of
/// 2^63 bytes or more is negative here, and fails like any too-large one.
enum FramedAllocation {
    /// Allocates `size` bytes aligned to `1 << alignmentShift` (at least 16).
    /// Returns nil with errno ENOMEM on failure.
    @inline(__always)
    static func allocate(_ size: Int, alignmentShift: Int, zeroed: Bool) -> UnsafeMutableRawPointer? {
        let offset = BlockHeader.offset(alignmentShift: alignmentShift)
        // glibc refuses anything above PTRDIFF_MAX; so does this check.
        guard size >= 0, size <= Int.max &- offset else {
            return failure()
        }
        let total = size &+ offset
        let alignment = 1 &<< alignmentShift
        let inside = Reentrancy.isInside
        let owner: BlockOwner = (GlobalAllocatorRegistry.isSystem || inside) ? .system : .registered
        let base: UnsafeMutableRawPointer?
        if owner == .system {
            base = SystemAllocator.alloc(size: total, alignment: alignment, zeroed: zeroed)
        } else {
            base = GlobalAllocatorRegistry.alloc(size: total, alignment: max(alignment, 16), zeroed: zeroed)
        }
        guard let base else { return failure() }
        let counted = statisticsEnabled && !inside
        let header = BlockHeader(requestedSize: size, alignmentShift: max(alignmentShift, 4),
                                 owner: owner, flags: counted ? BlockHeader.countedFlag : 0)
        if counted { Statistics.recordAllocation(size) }
        return header.frame(base)
    }

    @inline(__always)
    static func failure() -> UnsafeMutableRawPointer? {
        if statisticsEnabled && !Reentrancy.isInside { Statistics.recordFailure() }
        swalloc_set_errno(ENOMEM)
        return nil
    }

    /// Frees a framed block. `user` is neither nil nor an arena pointer.
    @inline(__always)
    static func free(_ user: UnsafeMutableRawPointer) {
        guard let header = BlockHeader.read(before: user) else {
            // Not framed by this library: glibc's own, or invalid (then
            // glibc's checks report it as they would without us).
            __libc_free(user)
            return
        }
        if header.isCounted { Statistics.recordFree(header.requestedSize) }
        release(user, header)
    }

    /// Returns a block to its owner without touching the statistics.
    @inline(__always)
    static func release(_ user: UnsafeMutableRawPointer, _ header: BlockHeader) {
        let base = header.base(of: user)
        if header.owner == .system {
            SystemAllocator.dealloc(base)
        } else {
            GlobalAllocatorRegistry.dealloc(base, size: header.allocatorSize, alignment: header.alignment)
        }
    }

    /// `realloc` for a framed block and a size > 0. Keeps the block's
    /// alignment; on failure returns nil, errno ENOMEM, the block untouched.
    static func reallocate(_ user: UnsafeMutableRawPointer, to size: Int) -> UnsafeMutableRawPointer? {
        guard let header = BlockHeader.read(before: user) else {
            return __libc_realloc(user, size)
        }
        let offset = header.offset
        guard size >= 0, size <= Int.max &- offset else { return failure() }
        let newTotal = size &+ offset
        let newBase: UnsafeMutableRawPointer?
        if header.owner == .system && header.alignmentShift <= 4 {
            newBase = __libc_realloc(header.base(of: user), newTotal)
        } else if header.owner == .registered && !GlobalAllocatorRegistry.isSystem {
            newBase = GlobalAllocatorRegistry.realloc(header.base(of: user), size: header.allocatorSize,
                                                     alignment: header.alignment, newSize: newTotal)
        } else {
            // An over-aligned glibc block: glibc's realloc would not keep the
            // alignment, so move it by hand.
            guard let moved = allocate(size, alignmentShift: header.alignmentShift, zeroed: false) else { return nil }
            _ = memcpy(moved, user, min(size, header.requestedSize))
            if header.isCounted { Statistics.recordFree(header.requestedSize) }
            release(user, header)
            return moved
        }
        guard let newBase else { return failure() }
        // The allocator moved or resized the block with its header (the
        // header is inside the block, and realloc preserves contents).
        let newUser = newBase + offset
        BlockHeader.setRequestedSize(size, before: newUser)
        if header.isCounted {
            Statistics.recordFree(header.requestedSize)
            Statistics.recordAllocation(size)
        }
        return newUser
    }

    /// `malloc_usable_size` for a framed block.
    static func usableSize(_ user: UnsafeMutableRawPointer) -> Int {
        guard let header = BlockHeader.read(before: user) else {
            return SystemAllocator.usableSize(user) ?? 0
        }
        if header.owner == .system, let usable = SystemAllocator.usableSize(header.base(of: user)) {
            // Everything glibc gave beyond the header is the program's to use.
            return usable &- header.offset
        }
        return header.requestedSize
    }
}
