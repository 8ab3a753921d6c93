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
        if swalloc_atomic_load_i32(&state) != 1 {
            // One thread loads; the others drop their sample meanwhile
            // rather than wait: waiting could deadlock against a thread
            // that holds the loader's lock and allocates.
            guard swalloc_atomic_cas_i32(&state, 0, 3) else { return 0 }
            load()
            if swalloc_atomic_load_i32(&state) != 1 { return 0 }
        }
        return Int(backtrace!(frames, Int32(capacity)))
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
