import Foundation

/// Two profiles side by side, as `swalloc compare BASE NEW` prints them:
/// the totals with their change, the request sizes, and the call sites
/// whose allocations changed most; and the differential folded stacks of
/// its `--format folded` (Brendan Gregg's difffolded.pl format, which
/// flamegraph.pl draws as a differential flame graph).
///
/// Sites are matched by their stacks' frame names (function, or module and
/// offset), not addresses: two runs of one program load it at different
/// addresses.
public enum ProfileComparison {
    public static func render(base: Profile, new: Profile, baseName: String, newName: String,
                              top: Int = 10) -> String {
        var lines: [String] = []
        lines.append("base  \(TerminalText.escaped(baseName)): \(describe(base))")
        lines.append("new   \(TerminalText.escaped(newName)): \(describe(new))")
        lines.append("")
        lines.append("".padding(22) + "base".leftPadding(14) + "new".leftPadding(14) + "change".leftPadding(14))
        for total in totals(base, new) where total.label != nil {
            let (old, now) = (total.base, total.new)
            lines.append(total.bytes
                ? row(total.label!, TextReport.bytes(old), TextReport.bytes(now), signedBytes(old, now), percent(old, now))
                : row(total.label!, TextReport.grouped(old), TextReport.grouped(now), signedCount(old, now), percent(old, now)))
        }
        lines.append(contentsOf: histogram(base, new))
        lines.append(contentsOf: sites(base, new, top: top))
        return lines.joined(separator: "\n") + "\n"
    }

    /// The comparison as JSON, for scripts: both sides, every total and
    /// histogram bucket with its change, and every stack whose bytes
    /// changed, largest change first.
    public static func json(base: Profile, new: Profile, baseName: String, newName: String) -> String {
        func side(_ profile: Profile, _ file: String) -> Diff.Side {
            Diff.Side(file: file, program: profile.program, pid: profile.pid, allocator: profile.allocator,
                      complete: profile.complete)
        }
        // Counts are at most Int64.max (ProfileValidation), so the change fits.
        func change(_ old: UInt64, _ now: UInt64) -> Diff.Change {
            Diff.Change(base: old, new: now, change: now.cappedInt64 - old.cappedInt64)
        }
        var totals: [String: Diff.Change] = [:]
        for total in self.totals(base, new) { totals[total.key] = change(total.base, total.new) }
        let histogram = bucketPairs(base, new).map {
            Diff.Bucket(min: $0.bucket.min, max: $0.bucket.max, count: change($0.base, $0.new))
        }
        var sites: [Diff.Site]? = nil
        if base.sites != nil || new.sites != nil {
            sites = stackPairs(base, new).compactMap { pair -> Diff.Site? in
                let a = pair.base, z = pair.new
                guard a.bytes != z.bytes || a.calls != z.calls || a.liveBytes != z.liveBytes else { return nil }
                return Diff.Site(frames: pair.frames.map(SiteReport.name),
                                 calls: change(a.calls, z.calls), bytes: change(a.bytes, z.bytes),
                                 liveBytes: change(a.liveBytes, z.liveBytes))
            }.sorted { ($0.bytes.change.magnitude, $0.frames.joined()) > ($1.bytes.change.magnitude, $1.frames.joined()) }
        }
        let diff = Diff(base: side(base, baseName), new: side(new, newName), totals: totals,
                        histogram: histogram, sites: sites)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(diff)) ?? Data(), as: UTF8.self) + "\n"
    }

    /// What ``json(base:new:baseName:newName:)`` writes.
    struct Diff: Encodable {
        struct Side: Encodable {
            var file: String
            var program: String?
            var pid: Int
            var allocator: String
            var complete: Bool
        }
        struct Change: Encodable {
            var base: UInt64
            var new: UInt64
            var change: Int64
        }
        struct Bucket: Encodable {
            var min: UInt64
            var max: UInt64
            var count: Change
        }
        /// Frames from the allocating function outwards, by name.
        struct Site: Encodable {
            var frames: [String]
            var calls: Change
            var bytes: Change
            var liveBytes: Change
        }
        var base: Side
        var new: Side
        var totals: [String: Change]
        var histogram: [Bucket]
        /// Absent when neither profile has call sites.
        var sites: [Site]?
    }

    /// `stack base-value new-value` for every stack in either profile.
    public static func diffFolded(base: Profile, new: Profile, metric: SiteReport.Metric = .bytes) -> String {
        stackPairs(base, new).map { "\($0.key) \(metric.value($0.base)) \(metric.value($0.new))\n" }.joined()
    }

    // MARK: Pieces

    static func describe(_ profile: Profile) -> String {
        "\(profile.program.map(TerminalText.escaped) ?? "(unknown program)") [pid \(profile.pid)], "
            + "allocator \(TerminalText.escaped(profile.allocator))"
            + (profile.complete ? "" : " (incomplete)")
    }

    static func row(_ label: String, _ old: String, _ now: String, _ change: String, _ share: String) -> String {
        "  " + label.padding(20) + old.leftPadding(14) + now.leftPadding(14) + change.leftPadding(14)
            + (share.isEmpty ? "" : "  " + share)
    }

    static func signedCount(_ old: UInt64, _ now: UInt64) -> String {
        now >= old ? (now == old ? "0" : "+" + TextReport.grouped(now - old)) : "−" + TextReport.grouped(old - now)
    }

    static func signedBytes(_ old: UInt64, _ now: UInt64) -> String {
        now >= old ? (now == old ? "0" : "+" + TextReport.bytes(now - old)) : "−" + TextReport.bytes(old - now)
    }

    /// The relative change; empty when nothing changed, "new" from zero, a
    /// factor from ten times up.
    static func percent(_ old: UInt64, _ now: UInt64) -> String {
        if old == now { return "" }
        if old == 0 { return "(new)" }
        if now / 10 >= old {
            let factor = Double(now) / Double(old)
            // Printed without an integer conversion, which a factor of 2^64 would trap.
            return factor >= 100 ? "(×\(String(format: "%.0f", factor.rounded())))" : "(×\((factor * 10).rounded() / 10))"
        }
        let change = (Double(now) - Double(old)) / Double(old) * 100
        let tenths = (abs(change) * 10).rounded() / 10
        return "(\(change >= 0 ? "+" : "−")\(tenths)%)"
    }

    static func histogram(_ base: Profile, _ new: Profile) -> [String] {
        let pairs = bucketPairs(base, new)
        guard !pairs.isEmpty else { return [] }
        var lines = ["", "request sizes (allocations)"]
        for (bucket, a, b) in pairs {
            let label = bucket.min == bucket.max ? TextReport.bytes(bucket.min)
                : "\(TextReport.bytes(bucket.min)) – \(TextReport.bytes(bucket.max.cappedAdding(1)))"
            lines.append(row(label, TextReport.grouped(a), TextReport.grouped(b), signedCount(a, b), percent(a, b)))
        }
        return lines
    }

    /// Every total with its profile key; `label` for those the text shows.
    static func totals(_ base: Profile, _ new: Profile)
        -> [(label: String?, key: String, bytes: Bool, base: UInt64, new: UInt64)] {
        let b = base.totals, n = new.totals
        return [
            ("malloc calls", "malloc_calls", false, b.mallocCalls, n.mallocCalls),
            ("calloc calls", "calloc_calls", false, b.callocCalls, n.callocCalls),
            ("realloc calls", "realloc_calls", false, b.reallocCalls, n.reallocCalls),
            ("aligned calls", "aligned_calls", false, b.alignedCalls, n.alignedCalls),
            ("free calls", "free_calls", false, b.freeCalls, n.freeCalls),
            ("failed calls", "failed_calls", false, b.failedCalls, n.failedCalls),
            ("allocations", "allocations", false, b.allocations, n.allocations),
            (nil, "deallocations", false, b.deallocations, n.deallocations),
            ("live blocks at exit", "live_allocations_at_exit", false, b.liveAllocationsAtExit, n.liveAllocationsAtExit),
            ("bytes allocated", "bytes_allocated", true, b.bytesAllocated, n.bytesAllocated),
            ("bytes freed", "bytes_freed", true, b.bytesFreed, n.bytesFreed),
            ("peak live", "peak_live_bytes", true, b.peakLiveBytes, n.peakLiveBytes),
            ("live at exit", "live_bytes_at_exit", true, b.liveBytesAtExit, n.liveBytesAtExit),
        ]
    }

    /// The histogram buckets of either profile, smallest first, with each
    /// side's count (0 where it has none).
    static func bucketPairs(_ base: Profile, _ new: Profile) -> [(bucket: Profile.Bucket, base: UInt64, new: UInt64)] {
        var old: [UInt64: Profile.Bucket] = [:], now: [UInt64: Profile.Bucket] = [:]
        for bucket in base.histogram { old[bucket.min] = bucket }
        for bucket in new.histogram { now[bucket.min] = bucket }
        return Set(old.keys).union(now.keys).sorted().map { start in
            (old[start] ?? now[start]!, old[start]?.count ?? 0, now[start]?.count ?? 0)
        }
    }

    /// One site per distinct stack of frame names (sites that differ only
    /// in addresses merged), keyed by the folded stack.
    static func merged(_ profile: Profile) -> [String: Profile.Site] {
        var sites: [String: Profile.Site] = [:]
        for site in profile.sites ?? [] {
            let key = site.frames.reversed().map { SiteReport.name($0).replacingSemicolons() }.joined(separator: ";")
            guard var entry = sites[key] else {
                sites[key] = site
                continue
            }
            entry.calls = entry.calls.cappedAdding(site.calls)
            entry.bytes = entry.bytes.cappedAdding(site.bytes)
            entry.liveAllocations = entry.liveAllocations.cappedAdding(site.liveAllocations)
            entry.liveBytes = entry.liveBytes.cappedAdding(site.liveBytes)
            entry.samples = entry.samples.cappedAdding(site.samples)
            sites[key] = entry
        }
        return sites
    }

    /// Every stack of either profile, in key order, with each side's totals
    /// (zero where it has none) and its frames (the new side's if it has them).
    static func stackPairs(_ base: Profile, _ new: Profile)
        -> [(key: String, base: Profile.Site, new: Profile.Site, frames: [Profile.Frame], inBase: Bool, inNew: Bool)] {
        let old = merged(base), now = merged(new)
        let none = Profile.Site(calls: 0, bytes: 0, liveAllocations: 0, liveBytes: 0, samples: 0, frames: [])
        return Set(old.keys).union(now.keys).sorted().map { key in
            (key, old[key] ?? none, now[key] ?? none, (now[key] ?? old[key]!).frames, old[key] != nil, now[key] != nil)
        }
    }

    /// Whether the change of a site's bytes is within two standard
    /// deviations of the two estimates (sampling every `m` bytes on
    /// average, a site's estimate `B` varies by about sqrt(B·m); exact
    /// sampling, m = 1, has no such noise).
    static func withinSamplingNoise(_ a: Profile.Site, _ baseMean: Int64, _ b: Profile.Site, _ newMean: Int64) -> Bool {
        guard baseMean > 1 || newMean > 1 else { return false }
        let variance = Double(a.bytes) * Double(max(baseMean, 1)) * (baseMean > 1 ? 1 : 0)
            + Double(b.bytes) * Double(max(newMean, 1)) * (newMean > 1 ? 1 : 0)
        let difference = abs(Double(a.bytes) - Double(b.bytes))
        return difference <= 2 * variance.squareRoot()
    }

    static func sites(_ base: Profile, _ new: Profile, top: Int) -> [String] {
        guard base.sites != nil || new.sites != nil else { return [] }
        guard base.sites != nil, new.sites != nil else {
            return ["", "call sites: only the \(base.sites == nil ? "new" : "base") profile has them (sampling was off in the other)"]
        }
        let pairs = stackPairs(base, new)
        func magnitude(_ a: Profile.Site, _ b: Profile.Site) -> UInt64 { a.bytes > b.bytes ? a.bytes - b.bytes : b.bytes - a.bytes }
        let changed = pairs.filter { magnitude($0.base, $0.new) > 0 }
            .sorted { (magnitude($0.base, $0.new), $0.key) > (magnitude($1.base, $1.new), $1.key) }
        let baseMean = base.sampling?.meanBytes ?? 1, newMean = new.sampling?.meanBytes ?? 1
        let significant = changed.filter { !withinSamplingNoise($0.base, baseMean, $0.new, newMean) }
        var lines = [""]
        if baseMean > 1 || newMean > 1 {
            // A sampled site's bytes are an estimate: about B/M samples of M
            // bytes each, so its spread is about sqrt(B·M).
            lines.append("call sites are sampled (base every \(TextReport.bytes(UInt64(max(baseMean, 1)))), new every "
                         + "\(TextReport.bytes(UInt64(max(newMean, 1))))): estimates; a change within two standard "
                         + "deviations of both estimates is marked as sampling noise"
                         + (baseMean != newMean ? "; the rates differ, so small sites differ the most" : ""))
        }
        lines.append("call sites whose bytes changed most (\(changed.count) of \(pairs.count) stacks changed"
                     + (significant.count != changed.count ? ", \(significant.count) beyond sampling noise)" : ")"))
        if changed.isEmpty { lines.append("  none") }
        for pair in changed.prefix(top) {
            let a = pair.base, b = pair.new
            var status = !pair.inBase ? "  only in new" : !pair.inNew ? "  only in base" : ""
            if withinSamplingNoise(a, baseMean, b, newMean) { status += "  (within sampling noise)" }
            lines.append("  " + signedBytes(a.bytes, b.bytes).leftPadding(12) + " bytes, calls "
                + signedCount(a.calls, b.calls) + ", live at exit " + signedBytes(a.liveBytes, b.liveBytes) + status)
            lines.append("       " + pair.frames.prefix(6).map(SiteReport.name).joined(separator: " ← ")
                + (pair.frames.count > 6 ? " ← …" : ""))
        }
        return lines
    }
}
