import CSwallocPreload

/// ``ServingMode/registered``: a registered global allocator (bump, guard,
/// a plug-in, the program's own) with no statistics and no wrappers.
///
/// | call | goes to |
/// | --- | --- |
/// | malloc, free | these entries → ``RegisteredPath``: the allocator's table, a 16-byte header |
/// | calloc, realloc, the aligned family, usable size | ``MallocFamily`` → ``HeaderBlocks`` → the table |
enum RegisteredMode {
    static func installEntries() {
        swalloc_malloc_entry = swallocRegisteredMalloc
        swalloc_free_entry = swallocRegisteredFree
    }
}

@c(swalloc_registered_malloc)
public func swallocRegisteredMalloc(_ size: Int) -> UnsafeMutableRawPointer? { RegisteredPath.malloc(size) }

@c(swalloc_registered_free)
public func swallocRegisteredFree(_ pointer: UnsafeMutableRawPointer?) { RegisteredPath.free(pointer) }
