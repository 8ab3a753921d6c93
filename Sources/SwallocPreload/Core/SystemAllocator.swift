import CSwallocPreload

/// glibc's allocator, reached through its public `__libc_*` entry points
/// (no `dlsym` needed, so usable at any time), plus the two functions that
/// have no such twin, resolved once by the constructor.
enum SystemAllocator {
    typealias UsableSize = @convention(c) (UnsafeMutableRawPointer?) -> Int

    /// glibc's `malloc_usable_size`, looked up in libc.so.6 itself by the
    /// constructor (glibc exports it under no other name, and the library
    /// defines this one). Not the next definition in the lookup order: a
    /// program that links jemalloc (redis-server) has jemalloc's there,
    /// and it crashed on blocks glibc handed out. Never later than the
    /// constructor: any dl* call frees the calling thread's pending
    /// dlerror() message, which a program may be about to read.
    nonisolated(unsafe) static var glibcUsableSize: UsableSize? = nil

    static func resolve() {
        guard let libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD) else { return }
        if let symbol = dlsym(libc, "malloc_usable_size") {
            glibcUsableSize = unsafeBitCast(symbol, to: UsableSize.self)
        }
        _ = dlclose(libc)
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
