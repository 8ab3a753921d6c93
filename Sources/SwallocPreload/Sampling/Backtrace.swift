import CSwallocPreload

/// Stack capture with libunwind's `unw_backtrace` (FINDINGS.md: no malloc,
/// ~155 ns for 16 frames, 13× faster than libgcc's unwinder).
///
/// libunwind is loaded with `dlopen(RTLD_NOW | RTLD_LOCAL)` when the first
/// sample is taken, never linked: linked, its unversioned `_Unwind_*`
/// symbols took over the host's and crashed C++ forced unwinding
/// (FINDINGS.md). Loading it lazily keeps it out of processes that never
/// sample (most short ones). Without libunwind (libunwind8 not installed)
/// samples are counted as dropped.
enum Backtrace {
    typealias UnwBacktrace = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, Int32) -> Int32

    /// 0: not tried, 1: loaded, 2: unavailable, 3: being loaded.
    nonisolated(unsafe) static var state: Int32 = 0
    nonisolated(unsafe) static var backtrace: UnwBacktrace? = nil

    /// Fills `frames` with return addresses, innermost first; returns how
    /// many (0: no stack, the sample is dropped). Called inside the
    /// reentrancy guard.
    static func capture(_ frames: UnsafeMutablePointer<UnsafeMutableRawPointer?>, capacity: Int) -> Int {
        if _slowPath(swalloc_atomic_load_i32(&state) != 1) {
            // Start the load once, elsewhere, and never wait for it:
            // waiting could deadlock against a thread that holds the
            // loader's lock and allocates.
            if swalloc_atomic_cas_i32(&state, 0, 3) { startLoading() }
            return 0
        }
        return Int(backtrace!(frames, Int32(capacity)))
    }

    /// Loads libunwind right away (the constructor, when SWALLOC_SAMPLE was
    /// given).
    static func loadNow() {
        if swalloc_atomic_cas_i32(&state, 0, 3) { load() }
    }

    /// Loads libunwind on a detached helper thread.
    static func startLoading() {
        var attributes = pthread_attr_t()
        var thread = pthread_t()
        _ = pthread_attr_init(&attributes)
        _ = pthread_attr_setdetachstate(&attributes, Int32(PTHREAD_CREATE_DETACHED))
        let created = pthread_create(&thread, &attributes, { _ in
            // Everything the helper does is the library's own, to its very
            // end: glibc frees its dlerror() state after the thread's key
            // destructors ran, and a thread admitted to the statistics that
            // late would stay in the thread list after it is gone.
            Reentrancy.enter()
            Backtrace.load()
            return nil
        }, nil)
        _ = pthread_attr_destroy(&attributes)
        if created != 0 { swalloc_atomic_store_i32(&state, 2) }
    }

    /// In a forked child: a load that was under way in the parent never
    /// finishes here (its thread was not copied), so start over.
    static func resetInChild() {
        if swalloc_atomic_load_i32(&state) == 3 { swalloc_atomic_store_i32(&state, 0) }
    }

    static func load() {
        if let handle = dlopen("libunwind.so.8", RTLD_NOW | RTLD_LOCAL),
           let symbol = dlsym(handle, "unw_backtrace") {
            backtrace = unsafeBitCast(symbol, to: UnwBacktrace.self)
            swalloc_atomic_store_i32(&state, 1)
        } else {
            swalloc_atomic_store_i32(&state, 2)
        }
    }
}
