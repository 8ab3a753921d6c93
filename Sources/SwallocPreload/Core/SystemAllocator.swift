import CSwallocPreload

/// glibc's allocator, reached through its public `__libc_*` entry points
/// (no `dlsym` needed, so usable at any time), plus the two functions that
/// have no such twin, resolved once by the constructor.
enum SystemAllocator {
    typealias UsableSize = @convention(c) (UnsafeMutableRawPointer?) -> Int

    /// glibc's `malloc_usable_size`, from `dlsym(RTLD_NEXT)` in the
    /// constructor (glibc exports it under no other name, and the library
    /// defines this one). Never later: any dl* call frees the calling
    /// thread's pending dlerror() message, which a program may be about to
    /// read when it calls malloc_usable_size.
    nonisolated(unsafe) static var glibcUsableSize: UsableSize? = nil

    static func resolve() {
        if let symbol = dlsym(swalloc_rtld_next(), "malloc_usable_size") {
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
