import CSwallocPreload

/// The static arena that serves every allocation made before the
/// constructor fixed the serving mode: the dynamic loader's, other
/// libraries' constructors that run before ours, and the library's own
/// (`dlsym`, `dlopen` of a plug-in).
///
/// A lock-free bump allocator over 1 MiB of `.bss` (untouched pages cost
/// nothing). Each block is preceded by 16 bytes holding its size, so that
/// `realloc` and `malloc_usable_size` work on it. `free` gives the newest
/// block back and leaves the others in place: the arena serves a few dozen
/// blocks per process, almost all of them kept for the process's life.
/// Its pointers are recognised by address (`swalloc_is_bootstrap`) and never
/// reach another allocator.
enum BootstrapArena {
    static let headerBytes = 16

    static func allocate(_ size: Int, alignment: Int = 16, zeroed: Bool = false) -> UnsafeMutableRawPointer? {
        let alignment = max(alignment, 16)
        // Reserve header + padding + payload; the padding puts the payload
        // on `alignment` whatever the offset we get.
        guard size >= 0, size <= Int(SWALLOC_BOOTSTRAP_BYTES) else {
            swalloc_set_errno(ENOMEM)
            return nil
        }
        let rounded = (size &+ 15) & ~15
        let reservation = headerBytes &+ (alignment &- 16) &+ rounded
        let offset = swalloc_arena_reserve(UInt64(reservation))
        guard offset != UInt64.max else {
            swalloc_set_errno(ENOMEM)
            return nil
        }
        _ = swalloc_atomic_increment(&swalloc_process_ptr().pointee.arena_served)
        let start = UnsafeMutableRawPointer(swalloc_bootstrap_base()) + Int(offset)
        // The arena's base is page-aligned and every reservation is a
        // multiple of 16, so `start + 16` is 16-aligned; round up further for
        // larger alignments (the reservation included that padding).
        var user = start + headerBytes
        let misalignment = Int(bitPattern: UInt(bitPattern: user)) & (alignment &- 1)
        if misalignment != 0 { user += alignment &- misalignment }
        user.storeBytes(of: size, toByteOffset: -16, as: Int.self)
        // Where the reservation started, to give it back in `free`.
        user.storeBytes(of: UInt64(reservation) &<< 32 | offset, toByteOffset: -8, as: UInt64.self)
        // .bss starts zeroed, but a given-back reservation may be reused.
        if zeroed { _ = memset(user, 0, size) }
        return user
    }

    /// The payload size of an arena block.
    static func usableSize(_ user: UnsafeMutableRawPointer) -> Int {
        user.load(fromByteOffset: -16, as: Int.self)
    }

    static func free(_ user: UnsafeMutableRawPointer) {
        let word = user.load(fromByteOffset: -8, as: UInt64.self)
        Invariant.check((word & 0xFFFF_FFFF) &+ (word &>> 32) <= UInt64(SWALLOC_BOOTSTRAP_BYTES),
                        "an arena block's reservation lies inside the arena")
        // Gives the block back only if nothing was reserved after it.
        _ = swalloc_arena_unreserve(word & 0xFFFF_FFFF, word &>> 32)
    }
}
