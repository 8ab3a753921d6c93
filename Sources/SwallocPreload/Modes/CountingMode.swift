import CSwallocPreload

/// ``ServingMode/counting``: the system allocator with statistics, the
/// default. The common calls take ``CountingPath``'s straight line; the
/// rest, and the calls the library makes itself, take the general path.
///
/// | call | goes to |
/// | --- | --- |
/// | malloc, free | these entries → ``CountingPath`` |
/// | calloc, realloc | ``swallocCountingCalloc``, ``swallocCountingRealloc``, from the second line of ``swallocCalloc`` and ``swallocRealloc`` |
/// | the aligned family, usable size | ``MallocFamily`` |
///
/// Each mode's path is a function of its own: inlined together, they
/// spilled each other's registers.
enum CountingMode {
    static func installEntries() {
        swalloc_malloc_entry = swallocCountingMalloc
        swalloc_free_entry = swallocCountingFree
    }
}

@c(swalloc_counting_malloc)
public func swallocCountingMalloc(_ size: Int) -> UnsafeMutableRawPointer? { CountingPath.malloc(size) }

/// The malloc that reaches the checkpoint (swalloc_thread.h declares it).
@c(swalloc_malloc_then_check)
public func swallocMallocThenCheck(_ size: Int) -> UnsafeMutableRawPointer? { CountingPath.mallocThenCheck(size) }

@c(swalloc_counting_calloc)
public func swallocCountingCalloc(_ count: Int, _ size: Int) -> UnsafeMutableRawPointer? {
    CountingPath.calloc(count, size)
}

@c(swalloc_counting_free)
public func swallocCountingFree(_ pointer: UnsafeMutableRawPointer?) { CountingPath.free(pointer) }

@c(swalloc_counting_realloc)
public func swallocCountingRealloc(_ pointer: UnsafeMutableRawPointer?, _ size: Int) -> UnsafeMutableRawPointer? {
    CountingPath.realloc(pointer, size)
}
