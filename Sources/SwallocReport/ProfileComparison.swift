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
        lines.append("base  \(baseName): \(describe(base))")
        lines.append("new   \(newName): \(describe(new))")
        lines.append("")
        lines.append("".padding(22) + "base".leftPadding(14) + "new".leftPadding(14) + "change".leftPadding(14))
        let b = base.totals, n = new.totals
        let counts: [(String, UInt64, UInt64)] = [
            ("malloc calls", b.mallocCalls, n.mallocCalls), ("calloc calls", b.callocCalls, n.callocCalls),
            ("realloc calls", b.reallocCalls, n.reallocCalls), ("aligned calls", b.alignedCalls, n.alignedCalls),
            ("free calls", b.freeCalls, n.freeCalls), ("failed calls", b.failedCalls, n.failedCalls),
            ("allocations", b.allocations, n.allocations),
            ("live blocks at exit", b.liveAllocationsAtExit, n.liveAllocationsAtExit),
        ]
        for (label, old, now) in counts {
            lines.append(row(label, TextReport.grouped(old), TextReport.grouped(now),
                             signedCount(old, now), percent(old, now)))
        }
        let sizes: [(String, UInt64, UInt64)] = [
            ("bytes allocated", b.bytesAllocated, n.bytesAllocated), ("bytes freed", b.bytesFreed, n.bytesFreed),
            ("peak live", b.peakLiveBytes, n.peakLiveBytes), ("live at exit", b.liveBytesAtExit, n.liveBytesAtExit),
        ]
        for (label, old, now) in sizes {
            lines.append(row(label, TextReport.bytes(old), TextReport.bytes(now), signedBytes(old, now), percent(old, now)))
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
        func change(_ old: UInt64, _ now: UInt64) -> Diff.Change {
            Diff.Change(base: old, new: now, change: Int64(bitPattern: now &- old))
        }
        let b = base.totals, n = new.totals
        let totals: [String: Diff.Change] = [
            "malloc_calls": change(b.mallocCalls, n.mallocCalls), "calloc_calls": change(b.callocCalls, n.callocCalls),
            "realloc_calls": change(b.reallocCalls, n.reallocCalls), "aligned_calls": change(b.alignedCalls, n.alignedCalls),
            "free_calls": change(b.freeCalls, n.freeCalls), "failed_calls": change(b.failedCalls, n.failedCalls),
            "allocations": change(b.allocations, n.allocations), "deallocations": change(b.deallocations, n.deallocations),
            "bytes_allocated": change(b.bytesAllocated, n.bytesAllocated), "bytes_freed": change(b.bytesFreed, n.bytesFreed),
            "peak_live_bytes": change(b.peakLiveBytes, n.peakLiveBytes),
            "live_bytes_at_exit": change(b.liveBytesAtExit, n.liveBytesAtExit),
            "live_allocations_at_exit": change(b.liveAllocationsAtExit, n.liveAllocationsAtExit),
        ]
        var old: [UInt64: Profile.Bucket] = [:], now: [UInt64: Profile.Bucket] = [:]
        for bucket in base.histogram { old[bucket.min] = bucket }
        for bucket in new.histogram { now[bucket.min] = bucket }
        let histogram = Set(old.keys).union(now.keys).sorted().map { start in
            let bucket = old[start] ?? now[start]!
            return Diff.Bucket(min: bucket.min, max: bucket.max,
                               count: change(old[start]?.count ?? 0, now[start]?.count ?? 0))
        }
        var sites: [Diff.Site]? = nil
        if base.sites != nil || new.sites != nil {
            let before = merged(base), after = merged(new)
            sites = Set(before.keys).union(after.keys).compactMap { key -> Diff.Site? in
                let a = before[key] ?? SiteTotals(), z = after[key] ?? SiteTotals()
                guard a.bytes != z.bytes || a.calls != z.calls || a.liveBytes != z.liveBytes else { return nil }
                return Diff.Site(frames: (after[key] ?? a).frames.map(SiteReport.name),
                                 calls: change(a.calls, z.calls), bytes: change(a.bytes, z.bytes),
                                 liveBytes: change(a.liveBytes, z.liveBytes))
            }.sorted { (abs($0.bytes.change), $0.frames.joined()) > (abs($1.bytes.change), $1.frames.joined()) }
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
        let old = foldedValues(base, metric), now = foldedValues(new, metric)
        let stacks = Set(old.keys).union(now.keys).sorted()
        return stacks.map { "\($0) \(old[$0] ?? 0) \(now[$0] ?? 0)\n" }.joined()
    }

    // MARK: Pieces

    static func describe(_ profile: Profile) -> String {
        "\(profile.program ?? "(unknown program)") [pid \(profile.pid)], allocator \(profile.allocator)"
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
            return factor >= 100 ? "(×\(Int(factor.rounded())))" : "(×\((factor * 10).rounded() / 10))"
        }
        let change = (Double(now) - Double(old)) / Double(old) * 100
        let tenths = (abs(change) * 10).rounded() / 10
        return "(\(change >= 0 ? "+" : "−")\(tenths)%)"
    }

    static func histogram(_ base: Profile, _ new: Profile) -> [String] {
        var old: [UInt64: Profile.Bucket] = [:], now: [UInt64: Profile.Bucket] = [:]
        for bucket in base.histogram { old[bucket.min] = bucket }
        for bucket in new.histogram { now[bucket.min] = bucket }
        let starts = Set(old.keys).union(now.keys).sorted()
        guard !starts.isEmpty else { return [] }
        var lines = ["", "request sizes (allocations)"]
        for start in starts {
            let bucket = old[start] ?? now[start]!
            let label = bucket.min == bucket.max ? TextReport.bytes(bucket.min)
                : "\(TextReport.bytes(bucket.min)) – \(TextReport.bytes(bucket.max + 1))"
            let a = old[start]?.count ?? 0, b = now[start]?.count ?? 0
            lines.append(row(label, TextReport.grouped(a), TextReport.grouped(b), signedCount(a, b), percent(a, b)))
        }
        return lines
    }

    /// One entry per distinct stack (sites with the same frame names merged).
    struct SiteTotals {
        var calls: UInt64 = 0
        var bytes: UInt64 = 0
        var liveBytes: UInt64 = 0
        var frames: [Profile.Frame] = []
    }

    static func stackKey(_ site: Profile.Site) -> String {
        site.frames.reversed().map { SiteReport.name($0).replacingSemicolons() }.joined(separator: ";")
    }

    static func merged(_ profile: Profile) -> [String: SiteTotals] {
        var sites: [String: SiteTotals] = [:]
        for site in profile.sites ?? [] {
            var entry = sites[stackKey(site), default: SiteTotals(frames: site.frames)]
            entry.calls += site.calls
            entry.bytes += site.bytes
            entry.liveBytes += site.liveBytes
            sites[stackKey(site)] = entry
        }
        return sites
    }

    static func foldedValues(_ profile: Profile, _ metric: SiteReport.Metric) -> [String: UInt64] {
        var values: [String: UInt64] = [:]
        for site in profile.sites ?? [] { values[stackKey(site), default: 0] += metric.value(site) }
        return values
    }

    static func sites(_ base: Profile, _ new: Profile, top: Int) -> [String] {
        guard base.sites != nil || new.sites != nil else { return [] }
        guard base.sites != nil, new.sites != nil else {
            return ["", "call sites: only the \(base.sites == nil ? "new" : "base") profile has them (sampling was off in the other)"]
        }
        let old = merged(base), now = merged(new)
        let keys = Set(old.keys).union(now.keys)
        func magnitude(_ key: String) -> UInt64 {
            let a = old[key]?.bytes ?? 0, b = now[key]?.bytes ?? 0
            return a > b ? a - b : b - a
        }
        let changed = keys.filter { magnitude($0) > 0 }.sorted { (magnitude($0), $0) > (magnitude($1), $1) }
        var lines = ["", "call sites whose bytes changed most (\(changed.count) of \(keys.count) stacks changed)"]
        if changed.isEmpty { lines.append("  none") }
        for key in changed.prefix(top) {
            let a = old[key] ?? SiteTotals(), b = now[key] ?? SiteTotals()
            let status = old[key] == nil ? "  only in new" : now[key] == nil ? "  only in base" : ""
            lines.append("  " + signedBytes(a.bytes, b.bytes).leftPadding(12) + " bytes, calls "
                + signedCount(a.calls, b.calls) + ", live at exit " + signedBytes(a.liveBytes, b.liveBytes) + status)
            let frames = (now[key] ?? a).frames
            lines.append("       " + frames.prefix(6).map(SiteReport.name).joined(separator: " ← ")
                + (frames.count > 6 ? " ← …" : ""))
        }
        return lines
    }
}
