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
