import CSwallocPreload

/// ``ServingMode/general`` (a registered allocator with statistics, or any
/// allocator under SWALLOC_LIMIT or SWALLOC_FAIL), and ``ServingMode/starting``
/// before the constructor chose: every call of the family goes to
/// ``MallocFamily``'s general path, which gives every block a
/// ``BlockHeader`` (``HeaderBlocks``) and serves the starting mode from the
/// bootstrap arena.
///
/// | call | goes to |
/// | --- | --- |
/// | malloc, free | these entries → ``MallocFamily`` |
/// | calloc, realloc, the aligned family, usable size | ``MallocFamily`` |
///
/// The entries are also where `swalloc_malloc_entry` and
/// `swalloc_free_entry` point until the constructor runs (storage.c).
enum GeneralMode {
    static func installEntries() {
        swalloc_malloc_entry = swallocGeneralMalloc
        swalloc_free_entry = swallocGeneralFree
    }
}

@c(swalloc_general_malloc)
public func swallocGeneralMalloc(_ size: Int) -> UnsafeMutableRawPointer? { MallocFamily.malloc(size) }

@c(swalloc_general_free)
public func swallocGeneralFree(_ pointer: UnsafeMutableRawPointer?) { MallocFamily.free(pointer) }
