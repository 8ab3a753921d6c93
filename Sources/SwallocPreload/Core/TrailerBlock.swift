import CSwallocPreload

/// The small blocks of ``ServingMode/counting``: no header in front; the
/// requested size is kept in the last byte of glibc's usable area.
///
/// ```
///   glibc's chunk word      user                         user + usable - 1
///   | size | flags (p - 8)  | payload (size bytes) … free | slack
/// ```
/// The block is requested from glibc as `size + 1` bytes, so glibc's usable
/// size exceeds `size` by at least one byte, the slack `usable - size` (1 to
/// about 56: glibc splits off any remainder of 32 bytes or more). The last
/// byte holds `slack + 8`, which for a chunk that is not mmapped is `chunk
/// size - size`: `free` finds the chunk size in glibc's own word at
/// `user - 8` (which `malloc_usable_size` reads too: usable = chunk size -
/// 8, - 16 for an mmapped chunk), and the size is one subtraction away. Bit
/// 7 of the byte marks a sampled block.
///
/// Why not the 16-byte ``BlockHeader`` for every block: it moves each
/// request up one glibc size class. On python3 (68 % of requests are 32–63
/// bytes) a shim that only adds the header slowed the run by 16–18 %; one
/// that only adds this trailer, by 3 % (docs/benchmarks.md). Requests above
/// ``largestSize`` keep the header: 16 bytes are little beside them, and the
/// trailer would touch a page the program may never use. Below it, every
/// request gets a trailer: a choice of format by size would be a branch
/// that random sizes mispredict (1.8× instead of 1.3× glibc's time on the
/// malloc+free microbenchmark when the line was drawn at 255 bytes).
///
/// Telling the formats apart on `free` takes one test of the word at
/// `user - 8`: a header's tag is at least 2^30 (the magic number), an arena
/// block's word at least 2^36 (its reservation in the high half); a trailer
/// block's is a chunk size below 2^17 without the IS_MMAPPED flag
/// (``notTrailerWordBits``).
enum TrailerBlock {
    /// Requests up to this many bytes get a trailer.
    static let largestSize = (1 << 16) - 1
    /// The bits of the word at `user - 8` that are all clear for a trailer
    /// block: at or above 2^17 (above every chunk of at most 2^16 + 24
    /// bytes plus an unsplit remainder below 32; below any tag and arena
    /// word), and glibc's IS_MMAPPED flag. One `test` with a sign-extended
    /// 32-bit immediate.
    static let notTrailerWordBits: UInt64 = 0xFFFF_FFFF_FFFE_0002
    static let sampledBit: UInt8 = 0x80
    /// What the byte adds to the slack: the difference between glibc's
    /// chunk size and its usable size, for a chunk that is not mmapped.
    static let bias = 8
    /// The largest value the byte holds besides the sampled bit.
    static let largestValue = 127

    /// glibc's usable size of the chunk whose word is `word`.
    @inline(__always)
    static func usableSize(word: UInt64) -> Int {
        Int(truncatingIfNeeded: word & ~7) &- 8 &- Int(truncatingIfNeeded: (word & 2) &<< 2)
    }

    /// Writes the slack of a block glibc returned for `size + 1` bytes;
    /// false when it does not fit in the byte (an mmapped chunk, when the
    /// program lowered glibc's mmap threshold: the caller frames it instead).
    /// Unsafe: `user` came from glibc's malloc or realloc.
    @inline(__always)
    static func mark(_ user: UnsafeMutableRawPointer, size: Int) -> Bool {
        // The byte: chunk size - size = slack + bias. An mmapped chunk's
        // usable size is 8 bytes less than chunk - bias, but such a chunk
        // is at least a page long, so its value fails the check below
        // before anything is written (sizes here are at most
        // ``largestSize``).
        let chunk = Int(truncatingIfNeeded: user.load(fromByteOffset: -8, as: UInt64.self) & ~7)
        let value = chunk &- size
        guard _fastPath(value <= largestValue) else { return false }
        Invariant.check(value > bias, "a trailer block has a byte of slack past its request")
        user.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: chunk &- bias &- 1, as: UInt8.self)
        return true
    }

    /// The chunk size and the trailer byte of a block whose word passed
    /// ``notTrailerWordBits`` (not mmapped: usable = chunk size - 8): the
    /// fast paths' decoding. A plain byte (1...127) makes the requested
    /// size `chunk - byte`. Unsafe: `user` is that glibc block.
    @inline(__always)
    static func byte(_ user: UnsafeMutableRawPointer, word: UInt64) -> (chunk: Int, byte: UInt8) {
        let chunk = Int(truncatingIfNeeded: word & ~7)
        return (chunk, user.load(fromByteOffset: chunk &- bias &- 1, as: UInt8.self))
    }

    /// Marks a block as carrying no trailer (the sampled bit with a value of
    /// 0, which ``read(_:)`` refuses): its free is then glibc's alone.
    @inline(__always)
    static func unmark(_ user: UnsafeMutableRawPointer) {
        let usable = usableSize(word: user.load(fromByteOffset: -8, as: UInt64.self))
        user.storeBytes(of: sampledBit, toByteOffset: usable &- 1, as: UInt8.self)
    }

    /// A trailer block's requested size and whether it was sampled; nil
    /// when the byte holds no valid slack (the block is not one: glibc's
    /// own, or its trailer was overwritten by the program).
    ///
    /// A zero byte reads as a slack of 1: the byte sits right after the
    /// program's bytes only when the slack is 1, and a zero there is C's
    /// classic off-by-one, the string terminator written one past the
    /// request. The block is then still counted as freed, with its size.
    /// (Had the byte held the slack alone, a slack of 0 would be impossible
    /// too; the bias keeps every valid value non-zero as well.)
    /// Unsafe: `user` is a glibc block (without a header, not in the arena).
    @inline(__always)
    static func read(_ user: UnsafeMutableRawPointer) -> (size: Int, sampled: Bool)? {
        let word = user.load(fromByteOffset: -8, as: UInt64.self)
        // Only a word that can be a trailer block's chunk size says where
        // the byte is: a freed block's word is glibc's list pointer, and
        // reading "its byte" faulted inside the library instead of letting
        // glibc report the double free.
        guard word & notTrailerWordBits == 0 else { return nil }
        let usable = usableSize(word: word)
        guard usable >= 1 else { return nil }
        return decode(usable: usable, byte: user.load(fromByteOffset: usable &- 1, as: UInt8.self))
    }

    /// The requested size and the sampled bit that a trailer byte gives a
    /// block of `usable` bytes; nil when it is no valid slack.
    @inline(__always)
    static func decode(usable: Int, byte: UInt8) -> (size: Int, sampled: Bool)? {
        let slack = byte == 0 ? 1 : Int(byte & ~sampledBit) &- bias
        guard slack >= 1, slack <= usable else { return nil }
        return (usable &- slack, byte & sampledBit != 0)
    }

    /// Trailer blocks are made in counting mode, and in general mode over
    /// glibc (a limit or fault injection): set with the mode, by the
    /// constructor.
    nonisolated(unsafe) static var inUse = false

    /// ``read(_:)`` in the modes with trailer blocks (``inUse``); nil in the
    /// others (a block without a header is then glibc's own).
    @inline(__always)
    static func find(_ user: UnsafeMutableRawPointer) -> (size: Int, sampled: Bool)? {
        inUse ? read(user) : nil
    }

    /// A trailer block of glibc's for the general path over glibc (a limit
    /// or fault injection): glibc's chunk stays the program's neighbour,
    /// as without the library, so glibc's own checks of its chunks (a
    /// corrupted size, a freed block's list pointer) see what the program
    /// did. nil when glibc failed, or served an mmapped chunk (which the
    /// byte cannot describe): the caller frames one with a header then.
    static func allocate(_ size: Int, zeroed: Bool) -> UnsafeMutableRawPointer? {
        guard size < largestSize else { return nil }
        guard let block = zeroed ? swalloc_libc_calloc(1, size &+ 1) : swalloc_libc_malloc(size &+ 1) else { return nil }
        // Unsafe: glibc's chunk of at least size + 1 usable bytes.
        guard mark(block, size: size) else {
            swalloc_libc_free(block)
            return nil
        }
        return block
    }

    /// The header flags a trailer block stands for, when it moves to a
    /// header (the sampled guard): counted, and limited where a policy
    /// admitted it.
    static var headerFlags: UInt64 {
        BlockHeader.countedFlag | (AllocationPolicy.isActive ? BlockHeader.limitFlag : 0)
    }

    /// Marks a trailer block sampled.
    @inline(__always)
    static func markSampled(_ user: UnsafeMutableRawPointer) {
        let usable = usableSize(word: user.load(fromByteOffset: -8, as: UInt64.self))
        let byte = user.load(fromByteOffset: usable &- 1, as: UInt8.self)
        user.storeBytes(of: byte | sampledBit, toByteOffset: usable &- 1, as: UInt8.self)
    }

    /// Whether `user` (not in the arena) has a ``BlockHeader`` in front.
    @inline(__always)
    static func hasHeader(_ user: UnsafeMutableRawPointer) -> Bool {
        user.load(fromByteOffset: -8, as: UInt64.self) & 0xFFFF_FFFF == BlockHeader.magic
    }
}
