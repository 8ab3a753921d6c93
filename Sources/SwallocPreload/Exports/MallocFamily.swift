import CSwallocPreload

// The malloc family, exported to the whole process.
//
// Each function is `@c(swalloc_<name>)` here and exported as `<name>` by a
// one-jump C function with default visibility (CSwallocPreload/exports.c:
// Swift's public symbols are protected, which glibc's loader warns about).
// malloc and free are C alone: one indirect jump to the mode's entry
// (one file per mode in Modes/: glibc itself for malloc in ``DirectMode``). `@c`
// (unlike `@_cdecl`) lets the C helpers inline.
//
// The hot path of each function is its first line: in direct mode it goes
// straight to glibc. Everything else is in ``MallocFamily``.

@c(swalloc_calloc)
public func swallocCalloc(_ count: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    if _fastPath(servingMode == .direct) { return swalloc_libc_calloc(count, size) }
    if servingMode == .counting { return swallocCountingCalloc(count, size) }
    if servingMode == .establishedDirect { return EstablishedDirectMode.calloc(count, size) }
    return MallocFamily.calloc(count, size)
}

@c(swalloc_realloc)
public func swallocRealloc(_ pointer: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
    // Nested, not joined: joined, the conditions are computed into flags.
    if _fastPath(servingMode == .direct) {
        if _fastPath(swalloc_free_is_direct(pointer)) { return swalloc_libc_realloc(pointer, size) }
    } else if servingMode == .counting {
        return swallocCountingRealloc(pointer, size)
    } else if servingMode == .establishedDirect {
        return EstablishedDirectMode.realloc(pointer, size)
    }
    return MallocFamily.realloc(pointer, size)
}

@c(swalloc_reallocarray)
public func swallocReallocarray(_ pointer: UnsafeMutableRawPointer?, _ count: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    guard let total = MallocFamily.product(count, size) else {
        MallocFamily.countRejected(.realloc)
        swalloc_set_errno(ENOMEM)
        return nil
    }
    return swallocRealloc(pointer, total)
}

@c(swalloc_posix_memalign)
public func swallocPosixMemalign(_ result: UnsafeMutablePointer<UnsafeMutableRawPointer?>?,
                                 _ alignment: Int, _ size: Int) -> Int32 {
    // glibc: a power of two and a multiple of sizeof(void *), else EINVAL.
    let words = UInt(bitPattern: alignment) / UInt(MemoryLayout<UnsafeRawPointer>.size)
    guard alignment % MemoryLayout<UnsafeRawPointer>.size == 0, words != 0, words & (words &- 1) == 0 else {
        MallocFamily.countRejected(.aligned)
        return EINVAL
    }
    let block: UnsafeMutableRawPointer?
    if servingMode == .direct {
        block = __libc_memalign(alignment, size)
    } else if servingMode == .establishedDirect {
        block = EstablishedDirectMode.aligned(alignment, size)
    } else {
        block = MallocFamily.aligned(alignment, size)
    }
    guard let block else { return ENOMEM }
    result?.pointee = block
    return 0
}

@c(swalloc_aligned_alloc)
public func swallocAlignedAlloc(_ alignment: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    // glibc 2.36's aligned_alloc is memalign (it rejects nothing but
    // alignments above SIZE_MAX / 2 + 1).
    if servingMode == .direct { return __libc_memalign(alignment, size) }
    if servingMode == .establishedDirect { return EstablishedDirectMode.aligned(alignment, size) }
    return MallocFamily.aligned(alignment, size)
}

@c(swalloc_memalign)
public func swallocMemalign(_ alignment: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    if servingMode == .direct { return __libc_memalign(alignment, size) }
    if servingMode == .establishedDirect { return EstablishedDirectMode.aligned(alignment, size) }
    return MallocFamily.aligned(alignment, size)
}

@c(swalloc_valloc)
public func swallocValloc(_ size: Int) -> UnsafeMutableRawPointer? {
    if servingMode == .direct { return __libc_valloc(size) }
    if servingMode == .establishedDirect { return EstablishedDirectMode.aligned(MallocFamily.pageSize, size) }
    return MallocFamily.aligned(MallocFamily.pageSize, size)
}

@c(swalloc_pvalloc)
public func swallocPvalloc(_ size: Int) -> UnsafeMutableRawPointer? {
    if servingMode == .direct { return __libc_pvalloc(size) }
    let page = MallocFamily.pageSize
    // Rounded up to whole pages; pvalloc(0) is one page.
    guard size >= 0, size <= Int.max &- page else {
        MallocFamily.countRejected(.aligned)
        swalloc_set_errno(ENOMEM)
        return nil
    }
    let rounded = max((size &+ page &- 1) & ~(page &- 1), page)
    if servingMode == .establishedDirect { return EstablishedDirectMode.aligned(page, rounded) }
    return MallocFamily.aligned(page, rounded)
}

@c(swalloc_malloc_usable_size)
public func swallocMallocUsableSize(_ pointer: UnsafeMutableRawPointer?) -> Int {
    guard let pointer else { return 0 }
    if swalloc_is_bootstrap(pointer) { return BootstrapArena.usableSize(pointer) }
    if servingMode.blocksCarrySize { return HeaderBlocks.usableSize(pointer) }
    if servingMode == .establishedDirect { return EstablishedDirectMode.usableSize(pointer) }
    return GlibcMalloc.usableSize(pointer) ?? 0
}

// glibc's surface beyond the eleven: `cfree` (a GLIBC_2.2.5 compatibility
// symbol old binaries still call) and C23 `free_sized` and
// `free_aligned_sized` are free itself (exports.c: one jump through free's
// entry), so no block reaches an allocator that did not hand it out.
// mallopt, malloc_trim,
// malloc_stats and malloc_info take no pointer: they stay glibc's and
// describe glibc's heap, which `system` uses. mallinfo and mallinfo2 are
// glibc's plus the registered allocator's live bytes (exports.c).

/// Requested bytes live in blocks of the registered allocator, from the
/// statistics; without them, what the allocator counts itself: the guard
/// allocator's live bytes under `SWALLOC_GUARD=below`, jemalloc's,
/// mimalloc's or tcmalloc's own figure in ``ServingMode/establishedDirect``
/// (0 otherwise): for mallinfo2.
@c(swalloc_registered_live_bytes)
func swallocRegisteredLiveBytes() -> Int {
    if !statisticsEnabled && GuardBelow.active {
        return Int(truncatingIfNeeded: swalloc_atomic_add_i64(&GuardBelow.liveBytes, 0))
    }
    if servingMode == .establishedDirect, let allocated = swalloc_direct_family.allocated {
        return allocated()
    }
    guard statisticsEnabled, GlobalAllocatorRegistry.name != nil else { return 0 }
    Reentrancy.enter()
    defer { Reentrancy.leave() }
    let snapshot = ReportSnapshot.collect()
    return Int(truncatingIfNeeded: snapshot.liveBytes)
}

/// Everything off the fast paths: the bootstrap arena while starting,
/// and ``HeaderBlocks`` with statistics in the framing modes.
enum MallocFamily {
    nonisolated(unsafe) static var pageSize: Int = 4096

    @inline(never)
    static func malloc(_ size: Int) -> UnsafeMutableRawPointer? {
        if servingMode == .starting { return BootstrapArena.allocate(size) }
        let counted = Statistics.begin()
        if counted { Statistics.countCall(.malloc, Statistics.thread) }
        let block = HeaderBlocks.allocate(size, alignmentShift: 4, zeroed: false, counted: counted)
        if counted { Statistics.end() }
        return block
    }

    /// Keeps errno whatever the block's owner does (a plug-in's dealloc
    /// may make system calls); the fast paths need not: glibc's free keeps
    /// it, and a plug-in's dealloc must (docs/writing-an-allocator.md).
    @inline(never)
    static func free(_ pointer: UnsafeMutableRawPointer?) {
        let savedErrno = swalloc_errno()
        defer { swalloc_set_errno(savedErrno) }
        if servingMode == .starting {
            if let pointer, swalloc_is_bootstrap(pointer) { BootstrapArena.free(pointer) }
            return
        }
        // free(NULL) from a thread that never counted anything: counted
        // without admitting the thread. glibc calls it at thread exit, after
        // the key destructors, when admission would leave the thread in the
        // list after it is gone.
        if pointer == nil && statisticsEnabled && !Reentrancy.isInside
            && swalloc_current_thread().pointee.registration == UInt32(SWALLOC_THREAD_FRESH) {
            ThreadRegistry.countFreeWithoutAdmission()
            return
        }
        let counted = Statistics.begin()
        if counted { Statistics.countCall(.free, Statistics.thread) }
        if let pointer {
            if swalloc_is_bootstrap(pointer) {
                BootstrapArena.free(pointer)
            } else if servingMode.blocksCarrySize {
                HeaderBlocks.free(pointer)
            } else if servingMode == .establishedDirect {
                swalloc_direct_family.free!(pointer)
            } else {
                swalloc_libc_free(pointer)
            }
        }
        if counted { Statistics.end() }
    }

    @inline(never)
    static func calloc(_ count: Int, _ size: Int) -> UnsafeMutableRawPointer? {
        if servingMode == .starting {
            guard let total = product(count, size) else {
                swalloc_set_errno(ENOMEM)
                return nil
            }
            return BootstrapArena.allocate(total, zeroed: true)
        }
        let counted = Statistics.begin()
        if counted { Statistics.countCall(.calloc, Statistics.thread) }
        defer { if counted { Statistics.end() } }
        guard let total = product(count, size) else { return HeaderBlocks.failure(counted: counted) }
        return HeaderBlocks.allocate(total, alignmentShift: 4, zeroed: true, counted: counted)
    }

    @inline(never)
    static func realloc(_ pointer: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
        if servingMode == .starting {
            guard let pointer else { return BootstrapArena.allocate(size) }
            return moveOutOfArena(pointer, size, counted: false)
        }
        let counted = Statistics.begin()
        if counted { Statistics.countCall(.realloc, Statistics.thread) }
        defer { if counted { Statistics.end() } }
        guard let pointer else {
            return servingMode == .direct ? swalloc_libc_malloc(size)
                : HeaderBlocks.allocate(size, alignmentShift: 4, zeroed: false, counted: counted)
        }
        if swalloc_is_bootstrap(pointer) {
            return moveOutOfArena(pointer, size, counted: counted)
        }
        if servingMode == .direct { return swalloc_libc_realloc(pointer, size) }
        if size == 0 {
            // glibc 2.36: realloc(p, 0) frees p and returns NULL.
            HeaderBlocks.free(pointer)
            return nil
        }
        return HeaderBlocks.reallocate(pointer, to: size, counted: counted)
    }

    /// `realloc` of an arena block: a new block of the mode in force, the
    /// contents copied, the arena block given back.
    static func moveOutOfArena(_ pointer: UnsafeMutableRawPointer, _ size: Int, counted: Bool) -> UnsafeMutableRawPointer? {
        if size == 0 {
            BootstrapArena.free(pointer)
            return nil
        }
        let moved: UnsafeMutableRawPointer?
        switch servingMode {
        case .starting: moved = BootstrapArena.allocate(size)
        case .direct: moved = swalloc_libc_malloc(size)
        case .establishedDirect: moved = swalloc_direct_family.malloc!(size)
        case .counting, .general, .registered, .headerFree:
            moved = HeaderBlocks.allocate(size, alignmentShift: 4, zeroed: false, counted: counted)
        }
        guard let moved else { return nil }
        _ = memcpy(moved, pointer, min(size, BootstrapArena.usableSize(pointer)))
        BootstrapArena.free(pointer)
        return moved
    }

    /// memalign's semantics (glibc 2.36): alignments up to 16 are malloc's;
    /// others are rounded up to a power of two; above SIZE_MAX / 2 + 1 is
    /// EINVAL.
    @inline(never)
    static func aligned(_ alignment: Int, _ size: Int) -> UnsafeMutableRawPointer? {
        let shift = alignmentShift(alignment)
        if servingMode == .starting {
            guard let shift else {
                swalloc_set_errno(EINVAL)
                return nil
            }
            return BootstrapArena.allocate(size, alignment: 1 &<< shift)
        }
        let counted = Statistics.begin()
        if counted { Statistics.countCall(.aligned, Statistics.thread) }
        defer { if counted { Statistics.end() } }
        guard let shift else {
            if counted { Statistics.thread.pointee.counters.failed_calls &+= 1 }
            swalloc_set_errno(EINVAL)
            return nil
        }
        // An alignment of 2^63 cannot have a header: no block is that large.
        guard shift < Int.bitWidth &- 1 else { return HeaderBlocks.failure(counted: counted) }
        return HeaderBlocks.allocate(size, alignmentShift: shift, zeroed: false, counted: counted)
    }

    /// log2 of the alignment memalign serves for `alignment` (glibc 2.36: up
    /// to 16 is malloc's, 4; others rounded up to a power of two); nil above
    /// SIZE_MAX / 2 + 1, which is EINVAL.
    @inline(__always)
    static func alignmentShift(_ alignment: Int) -> Int? {
        let requested = UInt(bitPattern: alignment)
        guard requested <= UInt.max / 2 &+ 1 else { return nil }
        return requested <= 16 ? 4 : UInt.bitWidth &- (requested &- 1).leadingZeroBitCount
    }

    /// A call refused before it reached an allocator (an overflowing
    /// reallocarray, a bad alignment, pvalloc of a size with no page
    /// rounding): counted as a call of its kind and a failed one, as the
    /// calls an allocator refuses are.
    @inline(never)
    static func countRejected(_ kind: CallKind) {
        guard servingMode != .direct, servingMode != .starting, Statistics.begin() else { return }
        Statistics.countCall(kind, Statistics.thread)
        Statistics.thread.pointee.counters.failed_calls &+= 1
        Statistics.end()
    }

    /// count × size, or nil on overflow (both are C size_t).
    @inline(__always)
    static func product(_ count: Int, _ size: Int) -> Int? {
        let (total, overflow) = UInt(bitPattern: count).multipliedReportingOverflow(by: UInt(bitPattern: size))
        guard !overflow, total <= UInt(Int.max) else { return nil }
        return Int(total)
    }
}
