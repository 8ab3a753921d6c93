import CSwallocPreload

// The entries the exported `malloc` and `free` jump to, one pair per mode
// (`swalloc_malloc_entry`, `swalloc_free_entry`), chosen once by the
// constructor (`swalloc_install_entries` in storage.c picks them by these
// names). Each mode's path is a function of its own: inlined together,
// they spill each other's registers. The paths themselves are
// ``CountingPath`` and ``RegisteredPath``.

/// The general path: every mode's fallback, and the entries' value until
/// the constructor chose.
@c(swalloc_general_malloc)
public func swallocGeneralMalloc(_ size: Int) -> UnsafeMutableRawPointer? { MallocFamily.malloc(size) }

@c(swalloc_general_free)
public func swallocGeneralFree(_ pointer: UnsafeMutableRawPointer?) { MallocFamily.free(pointer) }

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

@c(swalloc_counting_malloc)
public func swallocCountingMalloc(_ size: Int) -> UnsafeMutableRawPointer? { CountingPath.malloc(size) }

@c(swalloc_malloc_then_check)
public func swallocMallocThenCheck(_ size: Int) -> UnsafeMutableRawPointer? { CountingPath.mallocThenCheck(size) }

/// Counting mode's calloc (reached from the exported calloc by a compare of
/// the mode, as realloc).
@c(swalloc_counting_calloc)
public func swallocCountingCalloc(_ count: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    CountingPath.calloc(count, size)
}

@c(swalloc_counting_free)
public func swallocCountingFree(_ pointer: UnsafeMutableRawPointer?) { CountingPath.free(pointer) }

/// Counting mode's realloc (reached from the exported realloc by a compare
/// of the mode: realloc has no entry of its own).
@c(swalloc_counting_realloc)
public func swallocCountingRealloc(_ pointer: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
    CountingPath.realloc(pointer, size)
}

@c(swalloc_registered_malloc)
public func swallocRegisteredMalloc(_ size: Int) -> UnsafeMutableRawPointer? { RegisteredPath.malloc(size) }

@c(swalloc_registered_free)
public func swallocRegisteredFree(_ pointer: UnsafeMutableRawPointer?) { RegisteredPath.free(pointer) }
