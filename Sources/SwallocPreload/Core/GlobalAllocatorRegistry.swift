import CSwallocPreload

/// The one process-wide global allocator.
///
/// The default is ``GlibcMalloc`` (glibc). Another allocator is a C
/// table (`struct swalloc_global_allocator`, see swalloc.h) copied into
/// `swalloc_registered` by `swalloc_set_global_allocator`, which is accepted
/// only while the constructor runs, before the serving mode is fixed:
/// afterwards blocks exist that another allocator handed out.
enum GlobalAllocatorRegistry {
    /// True while the system allocator is the global one. A constant-
    /// initialised global: one load on the hot path.
    nonisolated(unsafe) static var isSystem: Bool = true

    /// Accepting registrations (only inside the constructor).
    nonisolated(unsafe) static var isOpen: Bool = false
    /// The program can reach the registered allocator without the library
    /// (a jemalloc it links or that is preloaded: its mallocx), so a block
    /// without a header may sit right after a freed one of ours, over its
    /// ``BlockHeader/freedTag``: the tag then proves nothing.
    nonisolated(unsafe) static var reachableWithoutTheLibrary = false

    @inline(__always)
    static var table: UnsafeMutablePointer<swalloc_global_allocator> {
        swalloc_registered_ptr()
    }

    /// The registered allocator's name, for reports.
    static var name: UnsafePointer<CChar>? {
        isSystem ? nil : table.pointee.name
    }

    enum Refusal { case tooLate, incomplete }

    /// The registered allocator gave the three version 2 entries (owns,
    /// usable_size, free): it can serve without headers
    /// (``ServingMode/headerFree``).
    nonisolated(unsafe) static var knowsItsBlocks = false
    /// Its version 3 flags (`SWALLOC_NEVER_REENTERS`,
    /// `SWALLOC_FREES_FOREIGN`), when it knows its blocks; 0 otherwise.
    nonisolated(unsafe) static var ownBlockFlags: UInt = 0

    /// A version 2 table, read no further than its `size` says the caller's
    /// version holds: the base table, and the three entries when all are
    /// there.
    static func install(_ allocator: UnsafePointer<swalloc_global_allocator_v2>) -> Refusal? {
        let declared = UnsafeRawPointer(allocator).load(as: Int.self)
        let baseEnd = MemoryLayout<swalloc_global_allocator_v2>.offset(of: \.base)! &+ MemoryLayout<swalloc_global_allocator>.size
        guard declared >= baseEnd else { return .incomplete }
        var table = swalloc_global_allocator_v2()
        // Unsafe: the caller's table holds `declared` bytes; no more than
        // ours are copied, and the rest of ours stays zero (NULL entries).
        _ = memcpy(&table, allocator, min(declared, MemoryLayout<swalloc_global_allocator_v2>.size))
        if let refusal = install(&table.base) { return refusal }
        if let owns = table.owns, let usable = table.usable_size, let free = table.free {
            swalloc_registered_own_ptr().pointee = swalloc_own_blocks(owns: owns, usable_size: usable, free: free)
            knowsItsBlocks = true
            ownBlockFlags = table.flags
        } else {
            knowsItsBlocks = false
            ownBlockFlags = 0
        }
        return nil
    }

    static func install(_ allocator: UnsafePointer<swalloc_global_allocator>) -> Refusal? {
        guard isOpen else { return .tooLate }
        guard allocator.pointee.alloc != nil, allocator.pointee.dealloc != nil else { return .incomplete }
        table.pointee = allocator.pointee
        isSystem = false
        knowsItsBlocks = false
        ownBlockFlags = 0
        return nil
    }

    // MARK: Calls into the registered allocator, under the reentrancy guard.

    @inline(__always)
    static func alloc(size: Int, alignment: Int, zeroed: Bool) -> UnsafeMutableRawPointer? {
        let t = table.pointee
        Reentrancy.enter()
        defer { Reentrancy.leave() }
        if zeroed {
            if let allocZeroed = t.alloc_zeroed {
                return allocZeroed(t.context, size, alignment)
            }
            guard let block = t.alloc!(t.context, size, alignment) else { return nil }
            _ = memset(block, 0, size)
            return block
        }
        return t.alloc!(t.context, size, alignment)
    }

    @inline(__always)
    static func dealloc(_ block: UnsafeMutableRawPointer, size: Int, alignment: Int) {
        let t = table.pointee
        Reentrancy.enter()
        t.dealloc!(t.context, block, size, alignment)
        Reentrancy.leave()
    }

    /// Resizes with the allocator's `realloc`, or allocate + copy + dealloc.
    /// On failure returns nil and the old block is untouched.
    static func realloc(_ block: UnsafeMutableRawPointer, size: Int, alignment: Int,
                        newSize: Int) -> UnsafeMutableRawPointer? {
        let t = table.pointee
        if let reallocate = t.realloc {
            Reentrancy.enter()
            defer { Reentrancy.leave() }
            return reallocate(t.context, block, size, alignment, newSize)
        }
        guard let newBlock = alloc(size: newSize, alignment: alignment, zeroed: false) else { return nil }
        _ = memcpy(newBlock, block, min(size, newSize))
        dealloc(block, size: size, alignment: alignment)
        return newBlock
    }
}
