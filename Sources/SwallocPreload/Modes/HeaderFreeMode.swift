import CSwallocPreload

/// ``ServingMode/headerFree``: a registered allocator that knows its own
/// blocks (swalloc.h's version 2 entries: owns, usable_size, free), with no
/// statistics and no wrappers. Its blocks carry nothing of the library's.
///
/// | call | goes to |
/// | --- | --- |
/// | malloc, free | these entries → ``HeaderFreePath``: the allocator's alloc; its free, which says no to other addresses |
/// | calloc, realloc, the aligned family, usable size | ``MallocFamily`` → ``HeaderBlocks``, which asks the allocator first (``HeaderFreePath/owns(_:)``) |
///
/// The library's own calls (inside the reentrancy guard) still get glibc
/// blocks with a header, and the bootstrap arena's blocks stay the arena's:
/// `owns` says no to both, and the general path takes them.
///
/// An allocator that promises never to call the malloc family
/// (`SWALLOC_NEVER_REENTERS`) gets entries without the reentrancy guard; one
/// whose `free` also forwards what is not its own (`SWALLOC_FREES_FOREIGN`)
/// gets a `free` that is one jump into it.
enum HeaderFreeMode {
    static func installEntries() {
        let flags = GlobalAllocatorRegistry.ownBlockFlags
        guard flags & UInt(SWALLOC_NEVER_REENTERS) != 0 else {
            swalloc_malloc_entry = swallocHeaderFreeMalloc
            swalloc_free_entry = swallocHeaderFreeFree
            return
        }
        swalloc_malloc_entry = swallocUnguardedMalloc
        swalloc_free_entry = flags & UInt(SWALLOC_FREES_FOREIGN) != 0 ? swallocForwardingFree : swallocUnguardedFree
    }
}

@c(swalloc_header_free_malloc)
public func swallocHeaderFreeMalloc(_ size: Int) -> UnsafeMutableRawPointer? { HeaderFreePath.malloc(size) }

@c(swalloc_header_free_free)
public func swallocHeaderFreeFree(_ pointer: UnsafeMutableRawPointer?) { HeaderFreePath.free(pointer) }

@c(swalloc_unguarded_malloc)
public func swallocUnguardedMalloc(_ size: Int) -> UnsafeMutableRawPointer? { HeaderFreePath.unguardedMalloc(size) }

@c(swalloc_unguarded_free)
public func swallocUnguardedFree(_ pointer: UnsafeMutableRawPointer?) { HeaderFreePath.unguardedFree(pointer) }

@c(swalloc_forwarding_free)
public func swallocForwardingFree(_ pointer: UnsafeMutableRawPointer?) { swalloc_registered_free_forwarding(pointer) }

/// The fast path of ``ServingMode/headerFree``, and the few places where
/// the general path asks the allocator about a block.
enum HeaderFreePath {
    @inline(__always)
    static func malloc(_ size: Int) -> UnsafeMutableRawPointer? {
        let thread = swalloc_current_thread()
        guard _fastPath(swalloc_thread_outside(thread)),
              _fastPath(UInt(bitPattern: size) <= UInt(CountingPath.largestFastSize)) else {
            return MallocFamily.malloc(size)
        }
        thread.pointee.depth = 1
        // GlobalAlloc's sizes are never 0; malloc(0) is a unique block.
        let block = swalloc_registered_alloc(max(size, 1), 16)
        thread.pointee.depth = 0
        guard let block else { return HeaderBlocks.failure(counted: false) }
        return block
    }

    @inline(__always)
    static func free(_ pointer: UnsafeMutableRawPointer?) {
        let thread = swalloc_current_thread()
        guard _fastPath(swalloc_thread_outside(thread)) else { return MallocFamily.free(pointer) }
        guard let pointer else { return MallocFamily.free(nil) }
        thread.pointee.depth = 1
        // One call: the allocator frees its own blocks and says no to any
        // other address (swalloc.h), the arena's and glibc's included.
        let freed = swalloc_registered_free_own(pointer)
        thread.pointee.depth = 0
        guard _fastPath(freed) else { return MallocFamily.free(pointer) }
    }

    /// ``malloc(_:)`` for an allocator that never calls the malloc family:
    /// no reentrancy guard, since the library's own calls may reach it too.
    @inline(__always)
    static func unguardedMalloc(_ size: Int) -> UnsafeMutableRawPointer? {
        // 1...largestFastSize in one unsigned compare; malloc(0) and huge
        // sizes take the general path.
        guard _fastPath(UInt(bitPattern: size &- 1) < UInt(CountingPath.largestFastSize)) else {
            return MallocFamily.malloc(size)
        }
        guard let block = swalloc_registered_alloc(size, 16) else { return HeaderBlocks.failure(counted: false) }
        return block
    }

    /// ``free(_:)`` for an allocator that never calls the malloc family.
    @inline(__always)
    static func unguardedFree(_ pointer: UnsafeMutableRawPointer?) {
        guard let pointer else { return }
        guard _fastPath(swalloc_registered_free_own(pointer)) else { return MallocFamily.free(pointer) }
    }

    /// Whether the allocator handed `pointer` out: in header-free mode, for
    /// a call from the program (the library's own calls get glibc blocks).
    @inline(__always)
    static func owns(_ pointer: UnsafeMutableRawPointer) -> Bool {
        guard servingMode == .headerFree else { return false }
        // Unguarded entries serve the library's own malloc calls too.
        if GlobalAllocatorRegistry.ownBlockFlags & UInt(SWALLOC_NEVER_REENTERS) != 0 {
            return swalloc_registered_owns(pointer)
        }
        // Inside only because a fork runs: another library's fork handler
        // frees or resizes a block of the allocator's, whose own handlers
        // have not run yet (allocator_fork.c). Said no, the block went to
        // glibc, which aborted.
        guard !Reentrancy.isInside || Reentrancy.isInsideOnlyForFork else { return false }
        Reentrancy.enter()
        defer { Reentrancy.leave() }
        return swalloc_registered_owns(pointer)
    }

    /// A block of the allocator's, for the general path (calloc, the
    /// aligned family, realloc's new block): no header.
    static func allocate(_ size: Int, alignment: Int, zeroed: Bool) -> UnsafeMutableRawPointer? {
        guard size >= 0 else { return HeaderBlocks.failure(counted: false) }
        guard let block = GlobalAllocatorRegistry.alloc(size: max(size, 1), alignment: max(alignment, 16),
                                                        zeroed: zeroed) else {
            return HeaderBlocks.failure(counted: false)
        }
        return block
    }

    static func release(_ pointer: UnsafeMutableRawPointer) {
        Reentrancy.enter()
        _ = swalloc_registered_free_own(pointer)
        Reentrancy.leave()
    }

    static func usableSize(_ pointer: UnsafeMutableRawPointer) -> Int {
        Reentrancy.enter()
        defer { Reentrancy.leave() }
        return swalloc_registered_usable_size(pointer)
    }

    /// realloc of a block the allocator owns: a new block, the bytes the
    /// program may have used copied, the old one freed (the allocator's
    /// own realloc would want the layout, which nothing here knows). nil,
    /// errno ENOMEM and the old block untouched on failure.
    static func reallocate(_ pointer: UnsafeMutableRawPointer, to size: Int) -> UnsafeMutableRawPointer? {
        let old = usableSize(pointer)
        guard let moved = allocate(size, alignment: 16, zeroed: false) else { return nil }
        // Unsafe: `old` bytes are the program's at `pointer`; `size` at `moved`.
        _ = memcpy(moved, pointer, min(old, size))
        release(pointer)
        return moved
    }
}
