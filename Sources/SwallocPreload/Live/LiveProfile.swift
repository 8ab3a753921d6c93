import CSwallocPreload

/// The live profile: a file beside the profile (`SWALLOC_OUT`'s path and
/// `.live`) that the library keeps mapped shared while the process runs,
/// so that what it counted is on disk whatever ends the process (a crash,
/// `abort`, `_exit`, SIGKILL), and a running process can be read without
/// stopping it (`swalloc dump PID`). The layout is swalloc_live.h's; the
/// CLI turns the file into a profile marked incomplete.
///
/// What is in it, and how current:
/// - the totals and the histogram, the peak, the timeline: copied at every
///   peak scan (``ThreadRegistry/scanPeak()``), that is every 64 KiB a
///   thread allocates; frees since a thread's last scan are not in them;
/// - the sampled sites and their frames: the table itself
///   (``StackTable``) lives in the file, so each sample is there at once;
/// - the loaded modules (path, load address, build-id): rewritten at a
///   sample when the loader's list changed since the last.
///
/// Nothing here runs on malloc's or free's fast path, and nothing in a
/// signal handler but the fork child's remapping (system calls only).
///
/// The file exists only when the profile goes to a file (`SWALLOC_OUT`,
/// which `swalloc run` always sets), never under AT_SECURE, and is removed
/// once the exit report wrote the profile. Its disk blocks are allocated
/// before the mapping's pages are written (posix_fallocate, as the tables
/// grow), so that a full disk ends the growth, never the program (a write
/// to a shared page without a block raises SIGBUS).
enum LiveProfile {
    nonisolated(unsafe) static var header: UnsafeMutablePointer<swalloc_live_header>? = nil
    nonisolated(unsafe) static var mappingBytes = 0
    /// Site records and frames with disk blocks behind them.
    nonisolated(unsafe) static var sitesAllocated = 0
    nonisolated(unsafe) static var framesAllocated = 0
    nonisolated(unsafe) static var identity = swalloc_live_identity()
    /// A forked child whose mapping is a private copy of its parent's file
    /// until it makes its own (``adoptOwnFile()``).
    nonisolated(unsafe) static var privateCopy = false
    /// The loader's module list generation last written, and when it was
    /// last asked (at most every 100 ms: asking takes the loader's lock,
    /// and a signal handler that forks while this thread holds it leaves a
    /// child that must not need it).
    nonisolated(unsafe) static var modulesGeneration: UInt64 = 0
    nonisolated(unsafe) static var modulesCheckedAt: UInt64 = 0

    static let timelineOffset = Int(SWALLOC_LIVE_HEADER_BYTES)
    static let modulesOffset = timelineOffset &+ Int(SWALLOC_LIVE_TIMELINE_POINTS) &* MemoryLayout<swalloc_live_point>.stride
    static let sitesOffset = pageRounded(modulesOffset &+ Int(SWALLOC_LIVE_MODULES) &* MemoryLayout<swalloc_live_module>.stride)
    static let framesOffset = sitesOffset &+ StackTable.capacity &* MemoryLayout<swalloc_site>.stride
    static let sitesChunk = 16384   // records: 1 MiB of disk at a time
    static let framesChunk = 131072 // frames: 1 MiB

    static func pageRounded(_ bytes: Int) -> Int { (bytes &+ 4095) & ~4095 }

    /// `count` rounded up to whole chunks, at most `capacity`: how far the
    /// file's blocks reach for a table holding `count` entries.
    static func chunked(_ count: Int, _ chunk: Int, capacity: Int) -> Int {
        min((count &+ chunk &- 1) / chunk &* chunk, capacity)
    }

    static var path: UnsafeMutablePointer<CChar> { swalloc_path_buffer(SWALLOC_LIVE_PATH) }

    /// Makes the file, at start-up, when the profile goes to `template`.
    static func open(template: UnsafePointer<CChar>, sampling: Bool) {
        guard livePath(template: template, pid: getpid()) else { return }
        let bytes = sampling ? framesOffset &+ StackTable.framePoolCapacity &* 8 : sitesOffset
        // Without it the process runs as before: the profile at exit is
        // still written (or its failure said, once, then), only a death
        // leaves nothing. Said nowhere: the usual cause, a directory that
        // cannot be written, gets its line at exit.
        guard let mapping = swalloc_live_create(path, bytes, sitesOffset, &identity) else { return }
        mappingBytes = bytes
        // Unsafe: a fresh shared mapping of `bytes` (≥ one page), zero-filled.
        let live = mapping.assumingMemoryBound(to: swalloc_live_header.self)
        live.pointee.version = SWALLOC_LIVE_VERSION
        live.pointee.state = UInt32(SWALLOC_LIVE_RUNNING)
        live.pointee.timeline_offset = UInt64(timelineOffset)
        live.pointee.modules_offset = UInt64(modulesOffset)
        live.pointee.sites_offset = UInt64(sitesOffset)
        live.pointee.frames_offset = UInt64(framesOffset)
        live.pointee.sites_capacity = sampling ? UInt64(StackTable.capacity) : 0
        live.pointee.frames_capacity = sampling ? UInt64(StackTable.framePoolCapacity) : 0
        live.pointee.sample_mean_bytes = sampling ? Sampler.meanBytes : 0
        live.pointee.sample_depth = Int32(Sampler.depth)
        describeProcess(live)
        header = live
        // The timeline's points are the file's (the mapping Timeline.start
        // made, still empty, goes).
        if let old = Timeline.points {
            _ = swalloc_unmap(UnsafeMutableRawPointer(old), Timeline.capacity &* MemoryLayout<Timeline.Point>.stride)
        }
        Timeline.points = UnsafeMutableRawPointer(live).advanced(by: timelineOffset)
            .assumingMemoryBound(to: Timeline.Point.self)
        // Last: a reader takes the file as a live profile only from here.
        swalloc_atomic_store_u64(&live.pointee.magic, SWALLOC_LIVE_MAGIC)
    }

    /// pid, parent, start time, program and allocator: at start-up, and
    /// again in a forked child.
    static func describeProcess(_ live: UnsafeMutablePointer<swalloc_live_header>) {
        live.pointee.pid = getpid()
        live.pointee.ppid = swalloc_process_ptr().pointee.parent_pid
        live.pointee.started_unix_ns = swalloc_unix_nanoseconds()
        withUnsafeMutableBytes(of: &live.pointee.program) { storage in
            let length = readlink("/proc/self/exe", storage.baseAddress!.assumingMemoryBound(to: CChar.self),
                                  storage.count &- 1)
            storage[max(length, 0)] = 0
        }
        withUnsafeMutableBytes(of: &live.pointee.allocator) { storage in
            let name = GlobalAllocatorRegistry.name ?? CString.pointer("system")
            let length = min(CString.length(name), storage.count &- 1)
            // Unsafe: length bytes fit the field with its terminator.
            _ = memcpy(storage.baseAddress!, name, length)
            storage[length] = 0
        }
    }

    /// `SWALLOC_OUT`'s path for this pid, and `.live`; with no `%p` in the
    /// template, the pid too, since every process writes the same path.
    /// Nothing for a descriptor or device path.
    static func livePath(template: UnsafePointer<CChar>, pid: Int32) -> Bool {
        guard ProfileFile.expand(template, pid: pid, into: path), strncmp(path, "/dev/", 5) != 0 else { return false }
        var length = CString.length(UnsafePointer(path))
        if strstr(template, "%p") == nil {
            path[length] = 0x2E // "."
            length = ProfileFile.appendDecimal(UInt64(pid), to: path, at: length &+ 1)
        }
        _ = memcpy(path + length, ".live", 6)
        return true
    }

    // MARK: What the tables live in

    /// The site records and frames, in the file when it has room for them.
    static func siteStorage() -> (sites: UnsafeMutablePointer<swalloc_site>,
                                  frames: UnsafeMutablePointer<UnsafeMutableRawPointer?>)? {
        guard let header, header.pointee.sites_capacity > 0 else { return nil }
        let base = UnsafeMutableRawPointer(header)
        return (base.advanced(by: sitesOffset).assumingMemoryBound(to: swalloc_site.self),
                base.advanced(by: framesOffset).assumingMemoryBound(to: UnsafeMutableRawPointer?.self))
    }

    /// Whether `sites` records and `frames` frames may be written: true
    /// without a file, or once the file has disk blocks for them.
    /// Under the sampler lock.
    static func reserve(sites: Int, frames: Int) -> Bool {
        guard header != nil, !privateCopy else { return true }
        if sites > sitesAllocated {
            let wanted = chunked(sites, sitesChunk, capacity: StackTable.capacity)
            let stride = MemoryLayout<swalloc_site>.stride
            guard swalloc_live_allocate(path, &identity, sitesOffset &+ sitesAllocated &* stride,
                                        (wanted &- sitesAllocated) &* stride) else { return false }
            sitesAllocated = wanted
        }
        if frames > framesAllocated {
            let wanted = chunked(frames, framesChunk, capacity: StackTable.framePoolCapacity)
            guard swalloc_live_allocate(path, &identity, framesOffset &+ framesAllocated &* 8,
                                        (wanted &- framesAllocated) &* 8) else { return false }
            framesAllocated = wanted
        }
        return true
    }

    // MARK: Publishing

    /// The totals, peak and timeline, under the header's sequence counter.
    /// At each peak scan, under the process lock. (The peak is the scan's
    /// or, at exit, the live total these totals give, if higher.)
    static func publishTotals() {
        guard let header else { return }
        Invariant.check(swalloc_lock_held_by_caller(SWALLOC_LOCK_PROCESS), "the totals are published under the process lock")
        let process = swalloc_process_ptr()
        let totals = ThreadRegistry.sum()
        let live = Int64(bitPattern: process.pointee.inherited_bytes &+ totals.bytes_allocated &- totals.bytes_freed)
        let sequence = header.pointee.sequence
        swalloc_atomic_store_u64(&header.pointee.sequence, sequence &+ 1) // odd: writing
        swalloc_fence_release()
        header.pointee.totals = totals
        header.pointee.updated_ns = Timeline.now() &- Timeline.startNanoseconds
        header.pointee.peak_live_bytes = max(process.pointee.peak_live_bytes, live)
        header.pointee.inherited_blocks = process.pointee.inherited_blocks
        header.pointee.inherited_bytes = process.pointee.inherited_bytes
        header.pointee.threads_seen = process.pointee.threads_seen
        header.pointee.arena_blocks = process.pointee.arena_served
        header.pointee.arena_bytes = process.pointee.arena_next
        header.pointee.timeline_count = UInt64(Timeline.count)
        header.pointee.timeline_interval_ns = Timeline.intervalNanoseconds
        swalloc_atomic_store_u64(&header.pointee.sequence, sequence &+ 2)
    }

    /// The sampler's counts, the site count and (when the loader's list
    /// changed) the modules. After each sample, under the sampler lock.
    static func publishSampling() {
        guard let header else { return }
        header.pointee.samples = Sampler.samples
        header.pointee.dropped = Sampler.dropped
        header.pointee.untracked_blocks = SampledBlocks.untracked
        header.pointee.stack_table_overflowed = StackTable.overflowed ? 1 : 0
        header.pointee.unwinder = UInt32(Backtrace.state)
        header.pointee.peak_owners_at_bytes = PeakOwners.copiedAt
        header.pointee.guard_mean_bytes = GuardSampling.enabled ? UInt64(GuardSampling.meanBytes) : 0
        header.pointee.guarded_blocks = swalloc_atomic_add_u64(&GuardSampling.guarded, 0)
        let now = Timeline.now()
        if modulesGeneration == 0 || now &- modulesCheckedAt >= 100_000_000 {
            modulesCheckedAt = now
            let generation = swalloc_loader_generation()
            if generation != modulesGeneration {
                modulesGeneration = generation
                writeModules(header)
            }
        }
        // Last: the records below the count are whole.
        swalloc_atomic_store_u64(&header.pointee.site_count, UInt64(StackTable.count))
    }

    static func writeModules(_ header: UnsafeMutablePointer<swalloc_live_header>) {
        struct State {
            var table: UnsafeMutablePointer<swalloc_live_module>
            var count: Int
        }
        var state = State(table: UnsafeMutableRawPointer(header).advanced(by: modulesOffset)
            .assumingMemoryBound(to: swalloc_live_module.self), count: 0)
        withUnsafeMutablePointer(to: &state) { statePointer in
            swalloc_visit_modules({ context, path, base, end, buildID, length in
                // Unsafe: the context is the State above, alive for the call.
                let state = context!.assumingMemoryBound(to: State.self)
                guard state.pointee.count < Int(SWALLOC_LIVE_MODULES) else { return }
                let entry = state.pointee.table + state.pointee.count
                entry.pointee.base = UInt64(base)
                entry.pointee.end = UInt64(end)
                entry.pointee.build_id_length = 0
                if let buildID, length > 0, length <= 20 {
                    withUnsafeMutableBytes(of: &entry.pointee.build_id) { _ = memcpy($0.baseAddress!, buildID, length) }
                    entry.pointee.build_id_length = UInt32(length)
                }
                withUnsafeMutableBytes(of: &entry.pointee.path) { storage in
                    let copied = min(CString.length(path), storage.count &- 1)
                    // Unsafe: `copied` bytes and the terminator fit the field.
                    _ = memcpy(storage.baseAddress!, path, copied)
                    storage[copied] = 0
                }
                state.pointee.count &+= 1
            }, statePointer)
        }
        swalloc_atomic_store_u64(&header.pointee.module_count, UInt64(state.count))
    }

    // MARK: Fork and exit

    /// In a forked child, before it writes anything: its writes must not
    /// reach the parent's file. The mapping becomes a private copy of that
    /// file; the child makes its own at its next checkpoint
    /// (``adoptOwnFile()``). Called by the fork handler (system calls only).
    static func afterForkInChild() {
        guard let header else { return }
        if swalloc_live_privatize(header, mappingBytes, path) {
            privateCopy = true
            return
        }
        let detached = withUsedRanges { swalloc_live_detach(header, mappingBytes, $0, $1) }
        if !detached {
            // Nothing else keeps the parent's file safe from the child.
            _ = swalloc_unmap(UnsafeMutableRawPointer(header), mappingBytes)
            StackTable.sites = nil
            Timeline.points = nil
        }
        self.header = nil
    }

    /// A forked child's own file, made at its first checkpoint after the
    /// fork: the used parts of its private copy, written to PATH-of-its-pid,
    /// then that file mapped in the copy's place. On failure the copy stays
    /// private (counted, not live). Outside the process lock.
    static func adoptOwnFile() {
        guard privateCopy, let header, let template = Startup.settings.outputPath else { return }
        // A child its run does not select never reports: it stays private.
        guard swalloc_process_ptr().pointee.report_done == 0 else { return }
        let sampler = swalloc_lock_acquire_unless_held(SWALLOC_LOCK_SAMPLER)
        defer { if sampler { swalloc_lock_release(SWALLOC_LOCK_SAMPLER) } }
        guard privateCopy else { return }
        privateCopy = false
        guard livePath(template: template, pid: getpid()) else {
            self.header = nil
            return
        }
        header.pointee.state = UInt32(SWALLOC_LIVE_RUNNING)
        describeProcess(header)
        sitesAllocated = chunked(StackTable.count, sitesChunk, capacity: Int(header.pointee.sites_capacity))
        framesAllocated = chunked(StackTable.framesUsed, framesChunk, capacity: Int(header.pointee.frames_capacity))
        // Disk blocks for the prefix; the tables' chunks follow as they grow.
        let moved = withUsedRanges { swalloc_live_move(header, mappingBytes, path, $0, $1, sitesOffset, &identity) }
        let allocated = moved
            && (sitesAllocated == 0
                || swalloc_live_allocate(path, &identity, sitesOffset, sitesAllocated &* MemoryLayout<swalloc_site>.stride))
            && (framesAllocated == 0 || swalloc_live_allocate(path, &identity, framesOffset, framesAllocated &* 8))
        if !allocated {
            sitesAllocated = 0
            framesAllocated = 0
            // Still the private copy, or the new file without its blocks
            // (which goes): keep counting, off the disk.
            if moved { _ = unlink(path) }
            self.header = nil
            return
        }
        // The child's own totals at once: until its next peak scan the
        // file held its parent's, as of the parent's last scan.
        publishTotalsLocking()
    }

    /// ``publishTotals()`` from outside the process lock, or from a signal
    /// handler that interrupted this thread holding it.
    static func publishTotalsLocking() {
        let locked = swalloc_lock_acquire_unless_held(SWALLOC_LOCK_PROCESS)
        publishTotals()
        if locked { swalloc_unlock() }
    }

    /// `body` with the used parts of the file as (offset, length) pairs and
    /// their count: the header with the timeline and modules, the site
    /// records and the frames in use (the C calls' `ranges`).
    static func withUsedRanges(_ body: (UnsafePointer<UInt64>, Int) -> Bool) -> Bool {
        let sitesUsed = header.map { $0.pointee.sites_capacity > 0 } == true ? StackTable.count : 0
        let framesUsed = header.map { $0.pointee.frames_capacity > 0 } == true ? StackTable.framesUsed : 0
        var ranges = (UInt64(0), UInt64(sitesOffset),
                      UInt64(sitesOffset), UInt64(sitesUsed &* MemoryLayout<swalloc_site>.stride),
                      UInt64(framesOffset), UInt64(framesUsed &* 8))
        return withUnsafePointer(to: &ranges) { $0.withMemoryRebound(to: UInt64.self, capacity: 6) { body($0, 3) } }
    }

    /// At the exit report: the final totals; the file goes once the profile
    /// was written, and stays (marked exited) when it could not be.
    static func finish(profileWritten: Bool) {
        guard let header, !privateCopy else { return }
        publishTotalsLocking()
        swalloc_atomic_store_u32(&header.pointee.state, UInt32(SWALLOC_LIVE_EXITED))
        if profileWritten { _ = unlink(path) }
    }
}

@c(swalloc_live_after_fork_in_child)
func swallocLiveAfterForkInChild() { LiveProfile.afterForkInChild() }

/// `_exit`: the live file gets the process's final totals (it has them
/// only as of the last peak scan, every 64 KiB), and a forked child that
/// has not made its own file yet (it makes it at its first checkpoint)
/// makes it now, so that it has its row (`os._exit` of Python's forked
/// workers, dash). Not at the fork itself: a child that execs a program
/// without the library (a static binary, a setuid one) would leave a row
/// of the shell it was before.
/// System calls and the library's own locks only (`_exit` may be called
/// from a signal handler). Only in the process the state belongs to: a
/// vfork child (which runs no fork handler and shares its parent's
/// memory) calling `_exit` after a failed exec has another parent than
/// the one recorded, and must not touch its parent's file.
@c(swalloc_live_before_quick_exit)
func swallocLiveBeforeQuickExit() {
    guard statisticsEnabled, getppid() == swalloc_process_ptr().pointee.parent_pid else { return }
    if LiveProfile.privateCopy {
        // A child that never allocated is not worth a file.
        guard Counters.allocationCalls(swalloc_current_thread().pointee.counters) > 0 else { return }
        LiveProfile.adoptOwnFile()
    }
    guard LiveProfile.header != nil, !LiveProfile.privateCopy,
          swalloc_process_ptr().pointee.report_done == 0 else { return }
    LiveProfile.publishTotalsLocking()
}
