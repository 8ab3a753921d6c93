import CSwallocPreload

/// The per-thread reentrancy guard.
///
/// Raised while the library runs code that may call `malloc` itself: a
/// registered allocator (a Swift plug-in's runtime allocates), `dlsym`,
/// `pthread_setspecific`, libunwind. A call made while it is raised is the
/// library's own: glibc serves it, given a header with ``BlockOwner/system`` and not
/// counted, so it can neither recurse nor skew the program's statistics.
enum Reentrancy {
    @inline(__always)
    static var isInside: Bool {
        swalloc_current_thread().pointee.depth != 0
    }

    /// Raised only by the forks this thread is inside (fork.c's prepare
    /// handler raises it until the parent or child handler).
    static var isInsideOnlyForFork: Bool {
        let depth = swalloc_current_thread().pointee.depth
        return depth != 0 && UInt32(depth) == swalloc_forks_inside()
    }

    @inline(__always)
    static func enter() {
        swalloc_current_thread().pointee.depth &+= 1
    }

    @inline(__always)
    static func leave() {
        swalloc_current_thread().pointee.depth &-= 1
    }
}
