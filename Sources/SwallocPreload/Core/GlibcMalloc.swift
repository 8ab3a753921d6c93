import CSwallocPreload

/// glibc's allocator, reached through its public `__libc_*` entry points
/// (no `dlsym` needed, so usable at any time), plus the two functions that
/// have no such twin, resolved once by the constructor.
enum GlibcMalloc {
    typealias UsableSize = @convention(c) (UnsafeMutableRawPointer?) -> Int

    /// glibc's `malloc_usable_size`, looked up in libc.so.6 itself by the
    /// constructor (glibc exports it under no other name, and the library
    /// defines this one). Not the next definition in the lookup order: a
    /// program that links jemalloc (redis-server) has jemalloc's there,
    /// and it crashed on blocks glibc handed out. Never later than the
    /// constructor: any dl* call frees the calling thread's pending
    /// dlerror() message, which a program may be about to read.
    nonisolated(unsafe) static var glibcUsableSize: UsableSize? = nil

    /// glibc's thread-cache key (glibc 2.34 on): a random word glibc writes
    /// into the second word of every chunk it puts in a thread cache, to
    /// recognise a double free. A header block freed that way has the key
    /// where its tag was; knowing it, a double free of such a block is
    /// handed to glibc as glibc's own pointer, and glibc reports it as it
    /// would without the library. 0: unknown (the cache is off).
    nonisolated(unsafe) static var threadCacheKey: UInt64 = 0

    /// Learns ``threadCacheKey`` from a block of glibc's own, freed.
    static func learnThreadCacheKey() {
        guard let probe = __libc_malloc(24) else { return }
        // A chunk glibc mapped on its own (MALLOC_MMAP_THRESHOLD_=0) is
        // unmapped by its free: no key to read then.
        // Unsafe: a glibc chunk's size word lies 8 bytes before its payload.
        guard probe.load(fromByteOffset: -8, as: UInt64.self) & 2 == 0 else {
            __libc_free(probe)
            return
        }
        probe.storeBytes(of: 0, toByteOffset: 8, as: UInt64.self)
        __libc_free(probe)
        // SAFETY: a heap chunk stays mapped after its free (glibc keeps it
        // in its thread cache, or in a bin, which leaves this word alone:
        // then it reads 0, "unknown"); read once, before anything else
        // allocates.
        threadCacheKey = probe.load(fromByteOffset: 8, as: UInt64.self)
    }

    static func resolve() {
        learnThreadCacheKey()
        // libc.so.6 stays loaded for the life of the process: the handle
        // is not closed (one call fewer on every exec).
        guard let libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD) else { return }
        if let symbol = dlsym(libc, "malloc_usable_size") {
            glibcUsableSize = unsafeBitCast(symbol, to: UsableSize.self)
        }
    }

    @inline(__always)
    static func alloc(size: Int, alignment: Int, zeroed: Bool) -> UnsafeMutableRawPointer? {
        if alignment <= 16 {
            return zeroed ? __libc_calloc(1, size) : __libc_malloc(size)
        }
        guard let block = __libc_memalign(alignment, size) else { return nil }
        if zeroed { _ = memset(block, 0, size) }
        return block
    }

    @inline(__always)
    static func dealloc(_ block: UnsafeMutableRawPointer) {
        __libc_free(block)
    }

    /// The usable size of a block glibc handed out.
    static func usableSize(_ block: UnsafeMutableRawPointer) -> Int? {
        glibcUsableSize.map { $0(block) }
    }
}
