import CSwallocPreload

/// Who handed a header block out, so that only that allocator frees it.
enum BlockOwner: UInt8 {
    /// glibc, through `__libc_*`: the `system` allocator, and every
    /// re-entrant call made while the library is inside its own code.
    case system = 0
    /// The registered global allocator (`swalloc_set_global_allocator`).
    case registered = 1
    /// The guard allocator, for the blocks the sampled guard chose
    /// (``GuardSampling``) while another allocator serves the rest.
    case guarded = 2
}

/// The 16 bytes in front of every block served in ``ServingMode/general``.
///
/// ```
///   base                         user - 16       user - 8        user
///   | padding up to the alignment | requested size | tag            | payload …
/// ```
/// `tag` packs a magic number (bits 0–31), log2 of the alignment (32–39),
/// the ``BlockOwner`` (40–47) and flags (48–55), the alignment and the owner
/// stored relative to the registered path's blocks (16 bytes, registered:
/// both zero), so that the tag of those is the magic number alone: a 32-bit
/// immediate for the one store and the one compare of that path. The allocator saw the layout
/// (`requestedSize + offset`, `alignment`) with `offset = max(16, alignment)`,
/// and gets exactly that back on `dealloc`/`realloc`.
///
/// This is how `free`, which carries no size, hands a `GlobalAlloc`-style
/// allocator its layout; it costs 16 bytes per block (more for alignments
/// above 16), see docs/architecture.md.
struct BlockHeader {
    static let byteCount = 16
    static let magic: UInt64 = 0x5357_414C // "SWAL"
    /// The block's allocation was counted in the statistics.
    static let countedFlag: UInt64 = 1
    /// The block's bytes count against `SWALLOC_LIMIT`.
    static let limitFlag: UInt64 = 2
    /// The block was sampled: its free is attributed to its call site.
    static let sampledFlag: UInt64 = 4

    var requestedSize: Int
    var alignmentShift: Int
    var owner: BlockOwner
    var flags: UInt64

    @inline(__always)
    var alignment: Int { 1 &<< alignmentShift }

    /// Distance from the allocator's block to the user pointer.
    @inline(__always)
    var offset: Int { BlockHeader.offset(alignmentShift: alignmentShift) }

    /// The size the allocator was asked for.
    @inline(__always)
    var allocatorSize: Int { requestedSize &+ offset }

    @inline(__always)
    var isCounted: Bool { flags & BlockHeader.countedFlag != 0 }

    @inline(__always)
    var isLimited: Bool { flags & BlockHeader.limitFlag != 0 }

    @inline(__always)
    var isSampled: Bool { flags & BlockHeader.sampledFlag != 0 }

    @inline(__always)
    static func offset(alignmentShift: Int) -> Int {
        alignmentShift <= 4 ? byteCount : 1 &<< alignmentShift
    }

    /// Reads the header in front of `user`, or nil when there is none (the
    /// pointer was without a header by this library: glibc's or invalid).
    ///
    /// Unsafe: `user` must point at least 16 readable bytes into a mapping,
    /// which holds for any pointer the program may legally free.
    @inline(__always)
    static func read(before user: UnsafeMutableRawPointer) -> BlockHeader? {
        let size = user.loadUnaligned(fromByteOffset: -16, as: Int.self)
        let tag = user.loadUnaligned(fromByteOffset: -8, as: UInt64.self)
        guard tag & 0xFFFF_FFFF == magic,
              let owner = BlockOwner(rawValue: UInt8(truncatingIfNeeded: tag &>> 40) ^ BlockOwner.registered.rawValue)
        else { return nil }
        return BlockHeader(
            requestedSize: size,
            alignmentShift: Int(truncatingIfNeeded: ((tag &>> 32) & 0xFF) ^ 4),
            owner: owner,
            flags: (tag &>> 48) & 0xFF)
    }

    /// Writes this header in front of the payload of `base` and returns the
    /// user pointer. Unsafe: `base` must have `allocatorSize` writable bytes.
    @inline(__always)
    func frame(_ base: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        BlockHeader.write(size: requestedSize,
                          tag: BlockHeader.tag(alignmentShift: alignmentShift, owner: owner, flags: flags),
                          at: base + (offset &- BlockHeader.byteCount))
    }

    /// The one writer of a header: `size` and `tag` in the 16 bytes at
    /// `header`; returns the user pointer right after them. The fast paths
    /// call it with their constant tag (``countingTag``, ``registeredTag``).
    /// Unsafe: the 16 bytes at `header` belong to the block's allocation.
    @inline(__always)
    static func write(size: Int, tag: UInt64, at header: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        header.storeBytes(of: size, as: Int.self)
        header.storeBytes(of: tag, toByteOffset: 8, as: UInt64.self)
        return header + byteCount
    }

    /// The tag of a header (see above: alignment and owner relative to 16
    /// bytes and ``BlockOwner/registered``).
    @inline(__always)
    static func tag(alignmentShift: Int, owner: BlockOwner, flags: UInt64) -> UInt64 {
        magic
            | UInt64(truncatingIfNeeded: alignmentShift ^ 4) &<< 32
            | UInt64(owner.rawValue ^ BlockOwner.registered.rawValue) &<< 40
            | flags &<< 48
    }

    /// Updates the requested size after an in-place resize.
    @inline(__always)
    static func setRequestedSize(_ size: Int, before user: UnsafeMutableRawPointer) {
        user.storeBytes(of: size, toByteOffset: -16, as: Int.self)
    }

    /// Marks the block counted (a realloc by the program of a block the
    /// library allocated for itself).
    @inline(__always)
    static func setFlag(_ flag: UInt64, _ on: Bool, before user: UnsafeMutableRawPointer) {
        var tag = user.loadUnaligned(fromByteOffset: -8, as: UInt64.self)
        tag = on ? tag | flag &<< 48 : tag & ~(flag &<< 48)
        user.storeBytes(of: tag, toByteOffset: -8, as: UInt64.self)
    }

    /// The tag of a counted, 16-aligned glibc block: the one the counting
    /// fast path writes and recognises with a single compare.
    static let countingTag: UInt64 = tag(alignmentShift: 4, owner: .system, flags: countedFlag)

    /// The tag a registered allocator's block carries once it was freed,
    /// written just before the allocator's dealloc: a second free finds it
    /// and is reported before the allocator sees the block twice (the bump
    /// allocator would otherwise recycle a chunk that holds live blocks).
    /// Its low half is not ``magic``, so no path takes it for a live header;
    /// as a glibc chunk's size word it would have IS_MMAPPED and
    /// NON_MAIN_ARENA both set, which glibc never does. Once the allocator
    /// has reused the memory the tag may be gone; a free then is as
    /// undefined as under glibc. Not trusted when the program can reach the
    /// allocator without the library
    /// (``GlobalAllocatorRegistry/reachableWithoutTheLibrary``).
    static let freedTag: UInt64 = 0x4645_5246 // "FREF"

    /// Whether the 8 bytes before `user` hold ``freedTag``.
    /// Unsafe: as ``read(before:)``.
    @inline(__always)
    static func isFreed(before user: UnsafeMutableRawPointer) -> Bool {
        user.loadUnaligned(fromByteOffset: -8, as: UInt64.self) == freedTag
    }

    /// Marks a registered allocator's block freed (see ``freedTag``).
    /// Unsafe: `user` is a live header block, about to be deallocated.
    @inline(__always)
    static func markFreed(before user: UnsafeMutableRawPointer) {
        user.storeBytes(of: freedTag, toByteOffset: -8, as: UInt64.self)
    }

    /// The tag of an uncounted, 16-aligned block of the registered
    /// allocator: the one ``RegisteredPath`` writes and recognises.
    static let registeredTag: UInt64 = tag(alignmentShift: 4, owner: .registered, flags: 0)

    /// The base the allocator handed out, from the user pointer.
    @inline(__always)
    func base(of user: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer {
        user - offset
    }
}

/// log2 of a power of two.
@inline(__always)
func log2(powerOfTwo value: Int) -> Int {
    Int.bitWidth &- 1 &- value.leadingZeroBitCount
}
