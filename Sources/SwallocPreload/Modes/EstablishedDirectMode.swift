import CSwallocPreload

/// ``ServingMode/establishedDirect``: jemalloc, mimalloc or tcmalloc
/// (`SWALLOC_ALLOCATOR`) with nothing to count (statistics off, no limit,
/// no fault injection), served as ``DirectMode`` serves glibc: straight from
/// the allocator's own malloc family (`swalloc_direct_family`,
/// established_allocators.c). Only blocks of the bootstrap arena (handed
/// out before the constructor chose) take the general path.
///
/// | call | goes to |
/// | --- | --- |
/// | malloc | the family's malloc itself: the exported malloc's one jump |
/// | free | ``swallocEstablishedDirectFree``: one range check, then the family's free |
/// | calloc, realloc, the aligned family, usable size | the family, from the first line of each exported function (``EstablishedDirectMode``'s functions) |
///
/// No block carries anything of the library's, and none is asked whose it
/// is: as with the allocator preloaded alone, every block outside the arena
/// is the allocator's. The library's own allocations are glibc's and go
/// back to glibc by its own calls; a library opened with `RTLD_DEEPBIND`
/// loses the flag (exports.c), so its blocks are the allocator's too.
enum EstablishedDirectMode {
    /// The allocator's family was found (the constructor, with the
    /// allocator's table).
    static var isAvailable: Bool { swalloc_direct_family.malloc != nil }

    static func installEntries() {
        swalloc_malloc_entry = swalloc_direct_family.malloc!
        swalloc_free_entry = swallocEstablishedDirectFree
    }

    @inline(__always)
    static func calloc(_ count: Int, _ size: Int) -> UnsafeMutableRawPointer? {
        swalloc_direct_family.calloc!(count, size)
    }

    static func realloc(_ pointer: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
        if let pointer, swalloc_is_bootstrap(pointer) {
            // Out of the arena: a block of the allocator's, the contents copied.
            if size == 0 {
                BootstrapArena.free(pointer)
                return nil
            }
            guard let moved = swalloc_direct_family.malloc!(size) else { return nil }
            _ = memcpy(moved, pointer, min(size, BootstrapArena.usableSize(pointer)))
            BootstrapArena.free(pointer)
            return moved
        }
        if let pointer, size == 0 {
            // glibc 2.36: realloc(p, 0) frees p and returns NULL (the three
            // would return a minimal block).
            swalloc_direct_family.free!(pointer)
            return nil
        }
        return swalloc_direct_family.realloc!(pointer, size)
    }

    /// memalign, aligned_alloc and posix_memalign (its checks done):
    /// glibc's memalign rounds an alignment up to a power of two.
    static func aligned(_ alignment: Int, _ size: Int) -> UnsafeMutableRawPointer? {
        guard let shift = MallocFamily.alignmentShift(alignment) else {
            swalloc_set_errno(EINVAL)
            return nil
        }
        return swalloc_direct_family.memalign!(1 &<< shift, size)
    }

    static func usableSize(_ pointer: UnsafeMutableRawPointer) -> Int {
        swalloc_direct_family.usable_size!(pointer)
    }
}

/// The mode's free (its malloc is the allocator's): everything but arena
/// blocks goes to the allocator's free, after one range check (see
/// swalloc_set_direct_free_range).
@c(swalloc_established_direct_free)
public func swallocEstablishedDirectFree(_ pointer: UnsafeMutableRawPointer?) {
    if _fastPath(swalloc_free_is_direct(pointer)) {
        // Set whenever this mode is (isAvailable): no check on the path.
        swalloc_direct_family.free.unsafelyUnwrapped(pointer)
        return
    }
    MallocFamily.free(pointer)
}
