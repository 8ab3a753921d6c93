import CSwallocPreload

/// Stack capture with libunwind's `unw_backtrace` (docs/measurements.md,
/// "libunwind": no malloc after a thread's first call, ~155 ns for 16
/// frames, 13× faster than libgcc's unwinder).
///
/// libunwind is loaded with `dlopen(RTLD_LAZY | RTLD_LOCAL)`, never linked:
/// linked, its unversioned `_Unwind_*` symbols took over the host's and
/// crashed C++ forced unwinding (docs/measurements.md, "libunwind").
/// Without libunwind (libunwind8 not installed) samples are counted as
/// dropped.
///
/// It is loaded by the constructor whenever sampling is on, on the thread
/// that loads the program, before any of the program's code runs. Loading
/// it later, inside the malloc family, broke programs: every dl* call frees
/// its thread's pending dlerror() message, which bash's `enable -f` then read
/// (`dlerror_keep` tests this); and loading it on a helper thread while the
/// program ran made unw_backtrace read freed memory (caught by `guard`).
/// The cost is about 115k instructions per exec with sampling on (about
/// 160k with RTLD_NOW, which binds every symbol of libunwind and of its
/// liblzma up front: lazily, the few that unw_backtrace calls are bound at
/// the first sample, by the loader's resolver, which takes no lock and
/// calls no malloc).
enum Backtrace {
    typealias UnwBacktrace = @convention(c) (UnsafeMutablePointer<UnsafeMutableRawPointer?>?, Int32) -> Int32

    /// 0: not tried, 1: loaded, 2: unavailable.
    nonisolated(unsafe) static var state: Int32 = 0
    nonisolated(unsafe) static var backtrace: UnwBacktrace? = nil

    /// Fills `frames` with return addresses, innermost first; returns how
    /// many (0: no stack, the sample is dropped). Called inside the
    /// reentrancy guard.
    static func capture(_ frames: UnsafeMutablePointer<UnsafeMutableRawPointer?>, capacity: Int) -> Int {
        guard _fastPath(state == 1), let backtrace else { return 0 }
        // No fork makes a child while this thread is inside libunwind, whose
        // locks are not fork-safe (swalloc_locks.h).
        swalloc_unwinder_enter()
        // libunwind's address checks (mincore, msync) may set errno; the
        // malloc family keeps it (free always, malloc on success).
        let savedErrno = swalloc_errno()
        defer {
            swalloc_set_errno(savedErrno)
            swalloc_unwinder_leave()
        }
        return Int(backtrace(frames, Int32(capacity)))
    }

    /// Loads libunwind: the constructor, with sampling on.
    static func loadNow() {
        guard state == 0 else { return }
        if let handle = dlopen("libunwind.so.8", RTLD_LAZY | RTLD_LOCAL),
           let symbol = dlsym(handle, "unw_backtrace") {
            backtrace = unsafeBitCast(symbol, to: UnwBacktrace.self)
            // Before the first backtrace, which would open libunwind's pipe.
            _ = swalloc_unwinder_probe_install(handle)
            state = 1
        } else {
            state = 2
        }
    }
}
