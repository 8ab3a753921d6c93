import CSwallocPreload

/// ``ServingMode/direct``: the system allocator with nothing to count
/// (SWALLOC_STATS=off, no wrappers). Every call reaches glibc in one or two
/// jumps; only blocks of the bootstrap arena (handed out before the
/// constructor chose) take the general path.
///
/// | call | goes to |
/// | --- | --- |
/// | malloc | glibc's `__libc_malloc` itself: the exported malloc's one jump |
/// | free | ``swallocDirectFree``: one range check, then glibc |
/// | calloc, realloc | glibc, from the first line of ``swallocCalloc`` and ``swallocRealloc`` |
/// | the aligned family, usable size | glibc, through ``MallocFamily`` |
enum DirectMode {
    static func installEntries() {
        swalloc_malloc_entry = __libc_malloc
        swalloc_free_entry = swallocDirectFree
    }
}

/// Direct mode's free (its malloc is glibc's): everything but arena blocks
/// goes to glibc, after one range check (see swalloc_set_direct_free_range).
@c(swalloc_direct_free)
public func swallocDirectFree(_ pointer: UnsafeMutableRawPointer?) {
    if _fastPath(swalloc_free_is_direct(pointer)) {
        swalloc_libc_free(pointer)
        return
    }
    MallocFamily.free(pointer)
}
