import CSwallocLive
import Foundation

/// A live profile file (swalloc_live.h), made into a ``Profile``: what a
/// process had counted at its last checkpoint, read while it runs (`swalloc
/// dump`) or after it died without its exit report (a crash, a signal,
/// `_exit`). The profile is marked incomplete, with the reason.
///
/// The file is another process's memory: every offset and count is checked
/// against the file's size before it is used, and anything that does not
/// fit makes the file "not a live profile" (ProfileError.malformed).
public enum LiveProfile {
    public static let suffix = ".live"

    /// Whether `data` starts as a live profile does.
    public static func isLiveProfile(_ data: Data) -> Bool {
        guard data.count >= 8 else { return false }
        return data.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) } == SWALLOC_LIVE_MAGIC
    }

    /// Reads `path`, retrying while the writer is inside an update.
    public static func load(path: String) throws(ProfileError) -> Profile {
        var attempts = 0
        while true {
            let data = try ProfileFile.contents(of: path)
            do throws(ProfileError) {
                return try profile(from: data, path: path)
            } catch .unreadable(_, let reason) where reason == Self.busy && attempts < 50 {
                attempts += 1
                usleep(2000)
            }
        }
    }

    static let busy = "being updated"

    public static func profile(from data: Data, path: String) throws(ProfileError) -> Profile {
        let headerBytes = MemoryLayout<swalloc_live_header>.size
        guard data.count >= Int(SWALLOC_LIVE_HEADER_BYTES), isLiveProfile(data) else {
            throw .malformed(path: path, reason: "not a live profile")
        }
        let header = data.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: 0, as: swalloc_live_header.self) }
        guard header.version == SWALLOC_LIVE_VERSION else {
            throw .unsupportedVersion(path: path, version: Int(header.version))
        }
        guard header.sequence & 1 == 0 else { throw .unreadable(path: path, reason: busy) }
        _ = headerBytes
        let reader = Reader(data: data, path: path)
        let modules = try reader.modules(header)
        let program = string(header.program)
        let sites = try reader.sites(header, modules: modules, program: program)

        let c = header.totals
        var histogramCounts = [UInt64](repeating: 0, count: Int(SWALLOC_HISTOGRAM_BUCKETS))
        withUnsafeBytes(of: c.histogram) { raw in
            for index in histogramCounts.indices { histogramCounts[index] = raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self) }
        }
        let allocations = histogramCounts.reduce(0, &+)
        let live = header.inherited_bytes &+ c.bytes_allocated &- c.bytes_freed
        let liveBlocks = header.inherited_blocks &+ allocations &- c.blocks_freed
        let threads = Int(clamping: header.threads_seen)
        var histogram: [Profile.Bucket] = []
        for (index, count) in histogramCounts.enumerated() where count > 0 {
            let low: UInt64 = index == 0 ? 0 : 1 << UInt64(index - 1)
            let high: UInt64 = index == 0 ? 0 : index == 64 ? UInt64.max : (1 << UInt64(index)) - 1
            histogram.append(Profile.Bucket(min: low, max: high, count: count))
        }
        let timeline = try reader.timeline(header, live: live)
        let sampling: Profile.Sampling? = header.sample_mean_bytes > 0 ? Profile.Sampling(
            meanBytes: header.sample_mean_bytes, depth: Int(header.sample_depth), samples: header.samples,
            peakOwnersAtBytes: UInt64(max(header.peak_owners_at_bytes, 0)), dropped: header.dropped,
            untrackedBlocks: header.untracked_blocks, stackTableOverflowed: header.stack_table_overflowed != 0,
            unwinder: header.unwinder == 1 ? "libunwind" : header.unwinder == 2 ? "unavailable" : "unused") : nil
        let profile = Profile(
            version: Profile.supportedVersion, pid: Int(header.pid), ppid: Int(header.ppid),
            program: program.isEmpty ? nil : program, allocator: string(header.allocator), complete: false,
            incompleteReason: reason(header),
            threads: threads,
            totals: Profile.Totals(
                mallocCalls: c.malloc_calls, callocCalls: c.calloc_calls, reallocCalls: c.realloc_calls,
                freeCalls: c.free_calls, alignedCalls: c.aligned_calls, failedCalls: c.failed_calls,
                allocations: allocations, deallocations: c.blocks_freed, bytesAllocated: c.bytes_allocated,
                bytesFreed: c.bytes_freed, peakLiveBytes: max(UInt64(max(header.peak_live_bytes, 0)), live),
                liveBytesAtExit: live, liveAllocationsAtExit: liveBlocks,
                inheritedLiveBytes: header.inherited_bytes, inheritedLiveAllocations: header.inherited_blocks,
                maxResidentBytes: nil),
            peakErrorBoundBytes: UInt64(max(threads, 1)) &* 65536,
            bootstrap: Profile.Bootstrap(allocations: header.arena_blocks, bytes: header.arena_bytes),
            histogram: histogram, sampling: sampling, sites: sampling == nil ? nil : sites,
            timeline: timeline,
            modules: sampling == nil ? nil : modules.map { Profile.Module(path: $0.path.isEmpty ? program : $0.path,
                                                                             base: $0.base, buildId: $0.buildID) })
        return named(try ProfileValidation.validated(profile, path: path))
    }

    /// Frames get the names of their symbols (.symtab, else the dynamic
    /// symbols), as the library gives them at exit; mangled names stay
    /// mangled. Modules whose build-id changed since the run get none.
    static func named(_ profile: Profile) -> Profile {
        guard var sites = profile.sites else { return profile }
        let symbols = SourceLines()
        for module in profile.modules ?? [] {
            if let buildID = module.buildId { symbols.expectedBuildIDs[module.path] = buildID }
        }
        for site in sites.indices {
            for frame in sites[site].frames.indices where sites[site].frames[frame].function == nil {
                let entry = sites[site].frames[frame]
                guard let module = entry.module, entry.offset > 0 else { continue }
                sites[site].frames[frame].function = symbols.symbol(module, offset: entry.offset)
            }
        }
        var result = profile
        result.sites = sites
        return result
    }

    static func reason(_ header: swalloc_live_header) -> String {
        if header.state == UInt32(SWALLOC_LIVE_EXITED) {
            return "the process exited, but its profile was not written; these are its final counts"
        }
        if kill(header.pid, 0) == 0 || errno == EPERM {
            return "a running process, as of its threads' last checkpoints"
        }
        return "the process ended without its exit report (a signal, abort, _exit, or exec of a program "
            + "without the library); counts as of its threads' last checkpoints"
    }

    static func string<T>(_ field: T) -> String {
        withUnsafeBytes(of: field) { raw in
            let bytes = raw.prefix { $0 != 0 }
            return String(decoding: bytes, as: UTF8.self)
        }
    }

    struct Module {
        var path: String
        var base: UInt64
        var end: UInt64
        var buildID: String?
    }

    /// Bounds-checked views of the file's parts.
    struct Reader {
        let data: Data
        let path: String

        func range(_ offset: UInt64, count: UInt64, stride: Int) throws(ProfileError) -> Range<Int> {
            let (bytes, overflow) = count.multipliedReportingOverflow(by: UInt64(stride))
            let (end, overflow2) = offset.addingReportingOverflow(bytes)
            guard !overflow, !overflow2, end <= UInt64(data.count) else {
                throw .malformed(path: path, reason: "a part of the live profile lies past its end")
            }
            return Int(offset)..<Int(end)
        }

        func modules(_ header: swalloc_live_header) throws(ProfileError) -> [Module] {
            let count = min(header.module_count, UInt64(SWALLOC_LIVE_MODULES))
            let stride = MemoryLayout<swalloc_live_module>.stride
            let bytes = try range(header.modules_offset, count: count, stride: stride)
            var modules: [Module] = []
            data.withUnsafeBytes { raw in
                for index in 0..<Int(count) {
                    let entry = raw.loadUnaligned(fromByteOffset: bytes.lowerBound + index * stride,
                                                  as: swalloc_live_module.self)
                    let length = min(Int(entry.build_id_length), 20)
                    let buildID = length == 0 ? nil : withUnsafeBytes(of: entry.build_id) { id in
                        id.prefix(length).map { String(format: "%02x", $0) }.joined()
                    }
                    modules.append(Module(path: LiveProfile.string(entry.path), base: entry.base, end: entry.end,
                                          buildID: buildID))
                }
            }
            return modules.sorted { $0.base < $1.base }
        }

        func sites(_ header: swalloc_live_header, modules: [Module], program: String) throws(ProfileError) -> [Profile.Site] {
            guard header.sites_capacity > 0 else { return [] }
            let count = min(header.site_count, header.sites_capacity)
            let stride = MemoryLayout<swalloc_site>.stride
            let records = try range(header.sites_offset, count: count, stride: stride)
            let pool = try range(header.frames_offset, count: header.frames_capacity, stride: 8)
            var sites: [Profile.Site] = []
            sites.reserveCapacity(Int(count))
            data.withUnsafeBytes { raw in
                for index in 0..<Int(count) {
                    let site = raw.loadUnaligned(fromByteOffset: records.lowerBound + index * stride, as: swalloc_site.self)
                    let first = Int(site.firstFrame), depth = Int(site.depth)
                    guard first >= 0, depth >= 0, depth <= 64, (first + depth) * 8 <= pool.count else { continue }
                    var frames: [Profile.Frame] = []
                    for frame in 0..<depth {
                        let address = raw.loadUnaligned(fromByteOffset: pool.lowerBound + (first + frame) * 8, as: UInt64.self)
                        guard address != 0 else { continue }
                        frames.append(Self.frame(address, modules: modules, program: program))
                    }
                    sites.append(Profile.Site(
                        calls: Self.rounded(site.allocations), bytes: Self.rounded(site.bytes),
                        liveAllocations: Self.rounded(site.liveAllocations), liveBytes: Self.rounded(site.liveBytes),
                        peakLiveBytes: Self.rounded(site.peakLiveBytes), samples: UInt64(max(site.samples, 0)),
                        frames: frames))
                }
            }
            return sites.sorted { $0.bytes > $1.bytes }
        }

        /// The module a return address lies in, and its offset there; the
        /// function is named later, from the module's symbols.
        static func frame(_ address: UInt64, modules: [Module], program: String) -> Profile.Frame {
            // The last module that starts at or below the address.
            var low = 0, high = modules.count
            while low < high {
                let middle = (low + high) / 2
                if modules[middle].base <= address { low = middle + 1 } else { high = middle }
            }
            if low > 0, address < modules[low - 1].end {
                let module = modules[low - 1]
                return Profile.Frame(function: nil, module: module.path.isEmpty ? program : module.path,
                                     offset: address - module.base, address: address)
            }
            return Profile.Frame(function: nil, module: nil, offset: 0, address: address)
        }

        static func rounded(_ value: Double) -> UInt64 {
            guard value.isFinite, value > 0 else { return 0 }
            return value >= 1.8e19 ? UInt64.max : UInt64(value + 0.5)
        }

        func timeline(_ header: swalloc_live_header, live: UInt64) throws(ProfileError) -> Profile.Timeline? {
            let count = min(header.timeline_count, UInt64(SWALLOC_LIVE_TIMELINE_POINTS))
            let points = try range(header.timeline_offset, count: count, stride: 16)
            var result: [[UInt64]] = []
            data.withUnsafeBytes { raw in
                for index in 0..<Int(count) {
                    let time = raw.loadUnaligned(fromByteOffset: points.lowerBound + index * 16, as: UInt64.self)
                    let bytes = raw.loadUnaligned(fromByteOffset: points.lowerBound + index * 16 + 8, as: Int64.self)
                    result.append([time, UInt64(max(bytes, 0))])
                }
            }
            result.append([max(header.updated_ns, result.last?[0] ?? 0), live])
            return Profile.Timeline(intervalNs: max(header.timeline_interval_ns, 1), points: result)
        }
    }
}
