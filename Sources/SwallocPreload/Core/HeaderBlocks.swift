import CSwallocPreload

/// The operations on header blocks (``ServingMode/frames``): every block
/// gets a ``BlockHeader``, so the owner and the exact layout are known on
/// `free`, `realloc` and `malloc_usable_size`, and the statistics see sizes.
///
/// Callers decide whether the program's event counts (`counted`, from
/// ``Statistics/begin()``) and count the call; these functions record the
/// blocks and bytes. Sizes arrive as `Int` (C's `size_t` as Swift imports
/// it): 2^63 bytes or more is negative here, and fails like any too-large
/// request.
enum HeaderBlocks {
    /// Allocates `size` bytes aligned to `1 << alignmentShift` (at least 16).
    /// Returns nil with errno ENOMEM on failure.
    static func allocate(_ size: Int, alignmentShift: Int, zeroed: Bool, counted: Bool) -> UnsafeMutableRawPointer? {
        let offset = BlockHeader.offset(alignmentShift: alignmentShift)
        // glibc refuses anything above PTRDIFF_MAX; so does this check.
        guard size >= 0, size <= Int.max &- offset else {
            return failure(counted: counted)
        }
        let total = size &+ offset
        let alignment = 1 &<< alignmentShift
        let inside = Reentrancy.isInside
        // Under `system` with glibc's debugging library next, a program's
        // malloc hook calls back from inside it: the hook's block is handed
        // to the debug library as the debug library would have served it,
        // with no header of the library's, since the debug library frees
        // it itself (with a header, its free got the wrong address).
        if inside && swalloc_next_calls_back() {
            return swalloc_next_alloc_raw(size, alignment, zeroed)
        }
        // SWALLOC_LIMIT / SWALLOC_FAIL judge the program's calls.
        let limited = AllocationPolicy.isActive && !inside
        if limited && !AllocationPolicy.admit(size) { return failure(counted: counted) }
        // The library's own calls (inside) always go to glibc.
        let owner: BlockOwner = (GlobalAllocatorRegistry.isSystem || inside) ? .system : .registered
        if owner == .registered && servingMode == .headerFree {
            return HeaderFreePath.allocate(size, alignment: alignment, zeroed: zeroed)
        }
        // The program's malloc-aligned blocks over glibc in general mode
        // (a limit, fault injection) keep glibc's layout: a trailer.
        if owner == .system && !inside && alignmentShift == 4 && servingMode == .general,
           let block = TrailerBlock.allocate(size, zeroed: zeroed) {
            return counted ? Statistics.recordAllocation(size, at: block, Statistics.thread) : block
        }
        let base: UnsafeMutableRawPointer?
        if owner == .system {
            base = GlibcMalloc.alloc(size: total, alignment: alignment, zeroed: zeroed)
        } else {
            base = GlobalAllocatorRegistry.alloc(size: total, alignment: max(alignment, 16), zeroed: zeroed)
        }
        guard let base else {
            if limited { AllocationPolicy.release(size) }
            // The library's own needs come from the bootstrap arena when
            // glibc has nothing left: among them the thread-local data of
            // libunwind, which glibc allocates at a thread's first sample
            // and cannot do without (it aborts the process; glibc's
            // tst-malloc-thread-fail, which exhausts the address space).
            if inside, let block = BootstrapArena.allocate(size, alignment: alignment, zeroed: zeroed) { return block }
            return failure(counted: counted)
        }
        let flags = (counted ? BlockHeader.countedFlag : 0) | (limited ? BlockHeader.limitFlag : 0)
        let header = BlockHeader(requestedSize: size, alignmentShift: max(alignmentShift, 4),
                                 owner: owner, flags: flags)
        let user = header.frame(base)
        // The checkpoint may move the block (the sampled guard): its answer
        // is the block.
        return counted ? Statistics.recordAllocation(size, at: user, Statistics.thread) : user
    }

    @inline(never)
    static func failure(counted: Bool) -> UnsafeMutableRawPointer? {
        if counted { Statistics.thread.pointee.counters.failed_calls &+= 1 }
        swalloc_set_errno(ENOMEM)
        return nil
    }

    /// Frees a header block. `user` is neither nil nor an arena pointer.
    static func free(_ user: UnsafeMutableRawPointer) {
        if HeaderFreePath.owns(user) { return HeaderFreePath.release(user) }
        guard let header = BlockHeader.read(before: user) else {
            if BlockHeader.isFreed(before: user) && !GlobalAllocatorRegistry.reachableWithoutTheLibrary {
                Diagnostics.doubleFree("free", user)
            }
            // A trailer block of the counting mode, or without a header by this
            // library: glibc's own, or invalid (then glibc's checks report
            // it as they would without us).
            if let trailer = TrailerBlock.find(user) {
                if statisticsEnabled { Statistics.recordFreeAnywhere(trailer.size) }
                // Every trailer block was admitted by the policy, if any.
                AllocationPolicy.release(trailer.size)
                if trailer.sampled { Sampler.released(user, size: trailer.size) }
            } else if GlibcMalloc.threadCacheKey != 0,
                      user.loadUnaligned(fromByteOffset: -8, as: UInt64.self) == GlibcMalloc.threadCacheKey {
                // A 16-byte header block already in glibc's thread cache:
                // freed twice. glibc's own pointer lets glibc say so.
                swalloc_libc_free(user - BlockHeader.byteCount)
                return
            }
            // The allocator after the library (a linked jemalloc) may have
            // handed it out by a call of its own (mallocx): its free.
            if swalloc_next_free(user) { return }
            swalloc_libc_free(user)
            return
        }
        Invariant.check(header.alignmentShift >= 4 && header.alignmentShift < 63,
                        "a header's alignment is a power of two from 16 to 2^62")
        Invariant.check(header.requestedSize >= 0, "a header's size is not negative")
        if header.isCounted { Statistics.recordFreeAnywhere(header.requestedSize) }
        guard header.isSampled else {
            release(user, header)
            return
        }
        // The site goes along to the allocator's dealloc (the guard
        // allocator keeps it for a fault on the freed block), then is cleared.
        let thread = swalloc_current_thread()
        thread.pointee.freeing_site = Sampler.released(user, size: header.requestedSize).map { $0 &+ 1 } ?? 0
        release(user, header)
        thread.pointee.freeing_site = 0
    }

    /// Returns a block to its owner without touching the statistics.
    @inline(__always)
    static func release(_ user: UnsafeMutableRawPointer, _ header: BlockHeader) {
        if header.isLimited { AllocationPolicy.release(header.requestedSize) }
        returnToOwner(user, header)
    }

    /// Gives the block to the allocator its header names (the registered
    /// one's marked freed first), without the statistics or the limit.
    @inline(__always)
    static func returnToOwner(_ user: UnsafeMutableRawPointer, _ header: BlockHeader) {
        let base = header.base(of: user)
        if header.owner == .system {
            GlibcMalloc.dealloc(base)
        } else if header.owner == .guarded {
            GuardBuiltin.dealloc(base, header.allocatorSize, header.alignment)
        } else {
            // Unsafe: the header is ours until the dealloc below.
            BlockHeader.markFreed(before: user)
            GlobalAllocatorRegistry.dealloc(base, size: header.allocatorSize, alignment: header.alignment)
        }
    }

    /// `realloc` for a header block and a size > 0. Keeps the block's
    /// alignment; on failure returns nil, errno ENOMEM, the block untouched.
    /// Counted as the free of the old size and the allocation of the new.
    static func reallocate(_ user: UnsafeMutableRawPointer, to size: Int, counted: Bool) -> UnsafeMutableRawPointer? {
        if HeaderFreePath.owns(user) { return HeaderFreePath.reallocate(user, to: size) }
        guard let header = BlockHeader.read(before: user) else {
            if BlockHeader.isFreed(before: user) && !GlobalAllocatorRegistry.reachableWithoutTheLibrary {
                Diagnostics.doubleFree("realloc", user)
            }
            if let trailer = TrailerBlock.find(user) {
                return moveTrailerBlock(user, trailer, to: size, counted: counted)
            }
            // As in free: the allocator after the library may own it.
            var handled = false
            let moved = swalloc_next_realloc(user, size, &handled)
            if handled { return moved }
            return swalloc_libc_realloc(user, size)
        }
        let offset = header.offset
        guard size >= 0, size <= Int.max &- offset else { return failure(counted: counted) }
        let newTotal = size &+ offset
        // The limit judges what is live after the call: the new size in
        // place of the old block's share (a shrinking realloc near the cap
        // used to fail, old and new counted together). Fault injection
        // sees a realloc as a new allocation of the new size.
        let limited = AllocationPolicy.isActive && !Reentrancy.isInside
        let oldShare = limited && header.isLimited ? header.requestedSize : 0
        if limited && !AllocationPolicy.admitResize(from: oldShare, to: size) { return failure(counted: counted) }
        let newBase: UnsafeMutableRawPointer?
        if header.owner == .system && header.alignmentShift <= 4 {
            newBase = swalloc_libc_realloc(header.base(of: user), newTotal)
        } else if header.owner == .registered {
            // The old block reads as freed if the allocator moves it, and
            // the tag goes back wherever the block is after the call (the
            // allocator copies the header with the contents).
            // Unsafe: the header is ours until the realloc below; after it,
            // the block at newBase, or the untouched old one on failure.
            let tag = user.loadUnaligned(fromByteOffset: -8, as: UInt64.self)
            BlockHeader.markFreed(before: user)
            newBase = GlobalAllocatorRegistry.realloc(header.base(of: user), size: header.allocatorSize,
                                                     alignment: header.alignment, newSize: newTotal)
            (newBase.map { $0 + offset } ?? user).storeBytes(of: tag, toByteOffset: -8, as: UInt64.self)
        } else {
            // An over-aligned glibc block (glibc's realloc would not keep the
            // alignment), or one the sampled guard placed: moved by hand.
            // allocate() admits the new size again: what admitResize
            // charged (the new size less the old share) comes off with
            // the size, which leaves the old block's share given back
            // (taken again if the move fails).
            if limited { AllocationPolicy.release(size) }
            guard let moved = allocate(size, alignmentShift: header.alignmentShift, zeroed: false,
                                       counted: counted) else {
                if limited { AllocationPolicy.charge(oldShare) }
                return nil
            }
            // Unsafe: `moved` holds `size` bytes, `user` the header's requested size.
            _ = memcpy(moved, user, min(size, header.requestedSize))
            if header.isCounted { Statistics.recordFreeAnywhere(header.requestedSize) }
            if header.isSampled { Sampler.released(user, size: header.requestedSize) }
            if header.isLimited && !limited { AllocationPolicy.release(header.requestedSize) }
            returnToOwner(user, header)
            return moved
        }
        guard let newBase else {
            if limited { AllocationPolicy.undoResize(from: oldShare, to: size) }
            return failure(counted: counted)
        }
        // The allocator moved or resized the block with its header (the
        // header is inside the block, and realloc preserves contents).
        let newUser = newBase + offset
        BlockHeader.setRequestedSize(size, before: newUser)
        // With the policy judging this call, admitResize accounted for the
        // old share already.
        if header.isLimited && !limited { AllocationPolicy.release(header.requestedSize) }
        BlockHeader.setFlag(BlockHeader.limitFlag, limited, before: newUser)
        if header.isCounted {
            Statistics.recordFreeAnywhere(header.requestedSize)
        }
        if header.isSampled {
            // The old block's sample ends here (by its old address).
            Sampler.released(user, size: header.requestedSize)
            BlockHeader.setFlag(BlockHeader.sampledFlag, false, before: newUser)
        }
        if header.isCounted || counted {
            // Counted now whoever allocated it: the block stays live.
            BlockHeader.setFlag(BlockHeader.countedFlag, true, before: newUser)
            return Statistics.recordAllocation(size, at: newUser, Statistics.thread)
        }
        return newUser
    }

    /// realloc of a trailer block that the counting fast path left to the
    /// general one (a size above the trailer range, a sampled block): a new
    /// block, the contents copied, the old one freed. Trailer blocks are
    /// always counted, and so is the new block.
    static func moveTrailerBlock(_ user: UnsafeMutableRawPointer, _ trailer: (size: Int, sampled: Bool),
                                 to size: Int, counted: Bool) -> UnsafeMutableRawPointer? {
        // The old block's share given back first, so that the limit judges
        // what is live after the call (taken again if the move fails).
        AllocationPolicy.release(trailer.size)
        guard let moved = allocate(size, alignmentShift: 4, zeroed: false, counted: counted) else {
            AllocationPolicy.charge(trailer.size)
            return nil
        }
        _ = memcpy(moved, user, min(size, trailer.size))
        if statisticsEnabled { Statistics.recordFreeAnywhere(trailer.size) }
        if trailer.sampled { Sampler.released(user, size: trailer.size) }
        swalloc_libc_free(user)
        return moved
    }

    /// `malloc_usable_size` for a header block.
    static func usableSize(_ user: UnsafeMutableRawPointer) -> Int {
        if HeaderFreePath.owns(user) { return HeaderFreePath.usableSize(user) }
        guard let header = BlockHeader.read(before: user) else {
            // A trailer block's bytes beyond its size hold the trailer:
            // the requested size is all the program may use.
            if let trailer = TrailerBlock.find(user) { return trailer.size }
            // The allocator after the library may have handed it out by a
            // call of its own (as in free).
            var handled = false
            let usable = swalloc_next_usable_size(user, &handled)
            if handled { return usable }
            // Neither: every live block of a framing mode has a header or
            // a trailer, so this one was freed (glibc's list pointers are
            // over its header) or never allocated. glibc answers 0 for a
            // freed chunk; asked about this pointer, which is not its own,
            // it read a garbage size and faulted.
            return 0
        }
        if header.owner == .system, let usable = GlibcMalloc.usableSize(header.base(of: user)) {
            // Everything glibc gave beyond the header is the program's to use.
            return usable &- header.offset
        }
        return header.requestedSize
    }
}
