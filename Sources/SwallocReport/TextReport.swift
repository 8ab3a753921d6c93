/// Renders a profile as the text report of `swalloc report`.
public enum TextReport {
    /// The whole report, or (`withSites: false`) its counts and sizes alone.
    public static func render(_ profile: Profile, withSites: Bool = true) -> String {
        var lines: [String] = []
        let t = profile.totals
        let program = profile.program.map(TerminalText.escaped) ?? "(unknown program)"
        lines.append("\(program) [pid \(profile.pid)], allocator \(TerminalText.escaped(profile.allocator)), \(profile.threads) thread\(profile.threads == 1 ? "" : "s")\(profile.complete ? "" : " (incomplete)")")
        if let reason = profile.incompleteReason { lines.append("  incomplete: " + TerminalText.escaped(reason)) }
        lines.append("")
        lines.append("calls")
        let calls: [(String, UInt64)] = [
            ("malloc", t.mallocCalls), ("calloc", t.callocCalls), ("realloc", t.reallocCalls),
            ("aligned", t.alignedCalls), ("free", t.freeCalls), ("failed", t.failedCalls),
        ]
        for (name, count) in calls {
            lines.append("  " + name.padding(10) + grouped(count).leftPadding(14))
        }
        lines.append("")
        lines.append("memory")
        lines.append("  allocated " + grouped(t.allocations).leftPadding(14) + " blocks " + bytes(t.bytesAllocated).leftPadding(11))
        lines.append("  freed     " + grouped(t.deallocations).leftPadding(14) + " blocks " + bytes(t.bytesFreed).leftPadding(11))
        lines.append("  live      " + grouped(t.liveAllocationsAtExit).leftPadding(14) + " blocks " + bytes(t.liveBytesAtExit).leftPadding(11) + "  at exit")
        var peak = "  peak                            " + bytes(t.peakLiveBytes).leftPadding(11)
        if profile.peakErrorBoundBytes > 0 {
            peak += "  (within \(bytes(profile.peakErrorBoundBytes)))"
        }
        lines.append(peak)
        if let timeline = profile.timeline {
            let chart = TimelineChart.render(timeline)
            if !chart.isEmpty {
                lines.append("")
                lines += chart
            }
        }
        if t.inheritedLiveAllocations > 0 {
            lines.append("  inherited " + grouped(t.inheritedLiveAllocations).leftPadding(14) + " blocks " + bytes(t.inheritedLiveBytes).leftPadding(11) + "  at fork")
        }
        if !profile.histogram.isEmpty {
            lines.append("")
            lines.append("request sizes")
            let largest = max(profile.histogram.map(\.count).max() ?? 1, 1)
            let total = profile.histogram.reduce(0.0) { $0 + Double($1.count) }
            for bucket in profile.histogram {
                let label = bucket.min == bucket.max ? bytes(bucket.min) : "\(bytes(bucket.min)) – \(bytes(bucket.max.cappedAdding(1)))"
                let share = Double(bucket.count) / max(total, 1) * 100
                let cells = Int((Double(bucket.count) / Double(largest) * 40).rounded(.up))
                lines.append("  " + label.padding(22) + grouped(bucket.count).leftPadding(12) + " " + formatPercent(share).leftPadding(6) + " " + String(repeating: "█", count: cells))
            }
        }
        return lines.joined(separator: "\n") + "\n" + (withSites ? SiteReport.render(profile) : "")
    }

    /// 1234567 → "1,234,567".
    public static func grouped(_ value: UInt64) -> String {
        let digits = String(value)
        var out = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return out
    }

    /// Bytes with binary units: "512 B", "1.5 KiB"; exact powers without decimals.
    public static func bytes(_ value: UInt64) -> String {
        if value < 1024 { return "\(value) B" }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var scaled = Double(value) / 1024
        var unit = 0
        while scaled >= 1024 && unit < units.count - 1 {
            scaled /= 1024
            unit += 1
        }
        if scaled == scaled.rounded() { return "\(Int(scaled)) \(units[unit])" }
        let tenths = (scaled * 10).rounded() / 10
        return "\(tenths) \(units[unit])"
    }

    static func formatPercent(_ value: Double) -> String {
        let tenths = (value * 10).rounded() / 10
        return "\(tenths)%"
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }

    func leftPadding(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
