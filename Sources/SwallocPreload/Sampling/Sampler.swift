import CSwallocPreload

/// Call-site sampling (`SWALLOC_SAMPLE`, `SWALLOC_SAMPLE_DEPTH`,
/// `SWALLOC_SAMPLE_SEED`).
///
/// Each thread counts down the bytes it allocates towards its next sample
/// (``Checkpoint`` keeps the count); the allocation that takes it to zero
/// or below is sampled, and the next gap is drawn
/// from an exponential distribution with the mean `SWALLOC_SAMPLE` bytes
/// (tcmalloc's and jemalloc's scheme). An allocation of `s` bytes is then
/// sampled with probability `p = 1 - e^(-s/mean)`, and a sample counts
/// `1/p` allocations and `s/p` bytes: unbiased estimates per site.
/// `SWALLOC_SAMPLE=1` samples every allocation with weight 1 (exact
/// counts); `0` turns sampling off. The default is 512 KiB (jemalloc's):
/// on, and cheap — a subtract and a branch on each allocation.
///
/// Each thread draws its gaps from its own generator, seeded at its first
/// checkpoint from its address (runs differ), or with `SWALLOC_SAMPLE_SEED`
/// from that seed and the thread's index of admission: the order in which
/// threads reached their first checkpoint (1 for the first). A thread's
/// samples then depend only on the seed, its index and the sizes it
/// allocates, in order: a single-threaded program that allocates the same
/// sizes samples the same allocations in every run.
///
/// A sample captures the stack (``Backtrace``), cuts the library's own
/// frames off the top, interns it (``StackTable``), and remembers the block
/// (``SampledBlocks``, a flag in its header or trailer) so that its free is attributed
/// to the site. All of it runs inside the reentrancy guard, under one lock,
/// `SWALLOC_LOCK_SAMPLER` (docs/fork-and-signals.md).
enum Sampler {
    /// Set by ``configure(sample:depth:seed:)``: the settings, or the
    /// defaults of ``SettingsTable``.
    nonisolated(unsafe) static var meanBytes: Int64 = 0
    nonisolated(unsafe) static var depth = 1
    nonisolated(unsafe) static var enabled = false
    /// `SWALLOC_SAMPLE_SEED`, when it was given.
    nonisolated(unsafe) static var fixedSeed: UInt64 = 0
    nonisolated(unsafe) static var seedGiven = false
    /// Threads seeded from `fixedSeed` so far (atomic): the next one's index.
    nonisolated(unsafe) static var threadsSeeded: UInt64 = 0
    nonisolated(unsafe) static var samples: UInt64 = 0
    nonisolated(unsafe) static var dropped: UInt64 = 0
    /// The library's own code lies in [libraryStart, libraryEnd).
    nonisolated(unsafe) static var libraryStart: UInt = 0
    nonisolated(unsafe) static var libraryEnd: UInt = 0

    static func configure(sample: UnsafePointer<CChar>?, depth depthText: UnsafePointer<CChar>?,
                          seed seedText: UnsafePointer<CChar>?) {
        // The defaults, parsed as the settings would be.
        meanBytes = Int64(parsedDefault(SettingsTable.sample, SizeParser.parse))
        depth = parsedDefault(SettingsTable.sampleDepth, SizeParser.parse)
        if let sample, sample[0] != 0 {
            if let bytes = SizeParser.parse(sample) {
                meanBytes = Int64(bytes)
            } else {
                Diagnostics.badSetting(SettingsTable.sample, value: sample)
            }
        }
        if let depthText, depthText[0] != 0 {
            if let value = SizeParser.decimal(depthText, length: CString.length(depthText)), value >= 1,
               value <= UInt64(StackTable.maximumDepth) {
                depth = Int(value)
            } else {
                Diagnostics.badSetting(SettingsTable.sampleDepth, value: depthText)
            }
        }
        if let seedText, seedText[0] != 0 {
            if let value = SizeParser.decimal(seedText, length: CString.length(seedText)) {
                fixedSeed = value
                seedGiven = true
            } else {
                Diagnostics.badSetting(SettingsTable.sampleSeed, value: seedText)
            }
        }
    }

    /// A setting's default from the table, through the setting's parser.
    static func parsedDefault(_ setting: SettingDescription,
                              _ parse: (UnsafePointer<CChar>, Int?) -> Int?) -> Int {
        let text = setting.unset
        let value = parse(UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self), text.utf8CodeUnitCount)
        Invariant.check(value != nil, "a setting's default parses")
        return value ?? 0
    }

    /// At start-up, with statistics on.
    static func start() {
        enabled = meanBytes > 0
        guard enabled else { return }
        prepareStacks()
        Symbolizer.findDemanglers()
    }

    /// Finds the library's own code and loads libunwind: for samples, and
    /// for the guard allocator's free stacks (``GuardFreeStack``). By the
    /// constructor, before any code of the program ran: never inside the
    /// malloc family (see Backtrace).
    static func prepareStacks() {
        if libraryStart == 0 {
            var info = Dl_info()
            if dladdr(UnsafeRawPointer(swalloc_bootstrap_base()), &info) != 0, let base = info.dli_fbase {
                libraryStart = UInt(bitPattern: base)
                libraryEnd = UInt(bitPattern: swalloc_bootstrap_base())
            }
        }
        Backtrace.loadNow()
    }

    /// Whether `address` lies in the library's own code.
    @inline(__always)
    static func isLibraryCode(_ address: UInt) -> Bool {
        address >= libraryStart && address < libraryEnd
    }

    /// Seeds a thread's generator (at its first checkpoint) and starts its
    /// first gap: from `SWALLOC_SAMPLE_SEED` and the thread's index of
    /// admission when the seed was given, else from the thread's address.
    /// Off the fast paths: the checkpoint calls it once per thread.
    static func seed(_ thread: UnsafeMutablePointer<swalloc_thread_state>) {
        let start: UInt64
        if seedGiven {
            let index = swalloc_atomic_add_u64(&threadsSeeded, 1)
            start = AllocationPolicy.mix(AllocationPolicy.mix(fixedSeed) ^ index)
        } else {
            start = UInt64(UInt(bitPattern: thread)) ^ 0x9E37_79B9_7F4A_7C15
        }
        // Never 0: xorshift stays at 0, and 0 means "not seeded".
        thread.pointee.sample_random = start | 1
        thread.pointee.sample_left = nextGap(thread)
    }

    /// The bytes until the next sample: exponential with the mean.
    static func nextGap(_ thread: UnsafeMutablePointer<swalloc_thread_state>) -> Int64 {
        gap(thread, mean: meanBytes)
    }

    /// An exponential draw with mean `mean` bytes from the thread's
    /// generator (0 for a mean of 1: every allocation).
    static func gap(_ thread: UnsafeMutablePointer<swalloc_thread_state>, mean: Int64) -> Int64 {
        if mean == 1 { return 0 }
        // xorshift64*, then a uniform in (0, 1].
        var x = thread.pointee.sample_random
        x ^= x &>> 12
        x ^= x &<< 25
        x ^= x &>> 27
        thread.pointee.sample_random = x
        let uniform = (Double((x &* 0x2545_F491_4F6C_DD1D) &>> 11) + 1) / 9_007_199_254_740_992.0
        let gap = -Approximations.log(uniform) * Double(mean)
        return gap >= 9.0e18 ? Int64.max : Int64(gap) &+ 1
    }

    /// How many allocations a sample of `size` bytes stands for.
    static func weight(_ size: Int) -> Double {
        if meanBytes == 1 { return 1 }
        let probability = 1 - Approximations.expNegative(-Double(max(size, 1)) / Double(meanBytes))
        return probability > 0 ? 1 / probability : 1
    }

    /// Samples the allocation of `size` bytes at `user` (a counted block).
    /// Returns `user`, so that callers can tail-call it.
    @inline(never) @discardableResult
    static func record(_ user: UnsafeMutableRawPointer, size: Int) -> UnsafeMutableRawPointer {
        Reentrancy.enter()
        defer { Reentrancy.leave() }
        // The thread's frame buffer: unw_backtrace writes the frames it
        // returns, and only those are read.
        let stack = swalloc_frame_buffer()
        // Unwind no deeper than needed: the library's own frames (a
        // handful) plus the depth kept. Unwinding costs per frame.
        let captured = Backtrace.capture(stack, capacity: min(Int(SWALLOC_FRAME_BUFFER), Sampler.depth &+ 12))
        // Leave the library's frames out: those on top (the malloc family)
        // and the one under main (__libc_start_main's wrapper, exports.c).
        var kept = 0
        for index in 0..<captured {
            guard let frame = stack[index] else { continue }
            let address = UInt(bitPattern: frame)
            if isLibraryCode(address) { continue }
            stack[kept] = frame
            kept &+= 1
        }
        let depth = min(kept, Sampler.depth)
        swalloc_lock_acquire(SWALLOC_LOCK_SAMPLER)
        defer { swalloc_lock_release(SWALLOC_LOCK_SAMPLER) }
        guard depth > 0, StackTable.prepare(), SampledBlocks.prepare(),
              let site = StackTable.intern(stack, depth: depth) else {
            dropped &+= 1
            return user
        }
        samples &+= 1
        let weight = weight(size)
        let sites = StackTable.sites!
        sites[site].samples &+= 1
        sites[site].allocations += weight
        sites[site].bytes += weight * Double(size)
        if SampledBlocks.insert(UInt(bitPattern: user), site: site, weight: weight) {
            sites[site].liveAllocations += weight
            sites[site].liveBytes += weight * Double(size)
            if TrailerBlock.hasHeader(user) {
                BlockHeader.setFlag(BlockHeader.sampledFlag, true, before: user)
            } else {
                TrailerBlock.markSampled(user)
            }
        }
        LiveProfile.publishSampling()
        return user
    }

    /// A sampled block of `size` bytes at `user` is being freed; returns
    /// its site, if it was tracked.
    @inline(never) @discardableResult
    static func released(_ user: UnsafeMutableRawPointer, size: Int) -> Int32? {
        swalloc_lock_acquire(SWALLOC_LOCK_SAMPLER)
        defer { swalloc_lock_release(SWALLOC_LOCK_SAMPLER) }
        guard let entry = SampledBlocks.remove(UInt(bitPattern: user)), let sites = StackTable.sites else { return nil }
        sites[Int(entry.site)].liveAllocations -= entry.weight
        sites[Int(entry.site)].liveBytes -= entry.weight * Double(size)
        return entry.site
    }
}
