import Foundation

/// The one summary of a whole `swalloc run`: every profiled process as a
/// row of a table in tree order (pid, parent, program, allocations, peak,
/// live at exit), the totals, then the main program in detail (the text
/// report). swalloc run prints it at the end of the run; `swalloc report
/// RUN-DIR` prints it again.
public enum RunSummary {
    /// How much the summary shows: all of it (`swalloc report RUN-DIR`), or
    /// what fits the end of a run (at most `rowLimit` processes, the largest
    /// by bytes allocated, and the main program without its call sites).
    public enum Extent: Sendable {
        case whole
        case endOfRun(rowLimit: Int)
    }

    public static func render(_ run: RunDirectory, extent: Extent = .whole) -> String {
        var lines: [String] = []
        let count = run.profiles.count
        var heading = "\(count) process\(count == 1 ? "" : "es") profiled"
        if let command = run.run?.command, !command.isEmpty {
            heading += " in the run of " + TerminalText.escaped(command.joined(separator: " "))
        }
        lines.append(heading + ": " + TerminalText.escaped(run.path))
        for problem in run.unreadable { lines.append("  (left out: \(TerminalText.escaped(problem)))") }
        guard count > 0 else {
            lines.append("  (no process wrote a profile or a live profile here)")
            return lines.joined(separator: "\n") + "\n"
        }
        lines.append("")
        lines.append("  " + "pid".padding(9) + "parent".padding(9) + "program".padding(24)
                     + "allocations".leftPadding(14) + "peak".leftPadding(12) + "live at exit".leftPadding(14))
        var rows = treeOrder(run.profiles)
        var hidden = 0
        if case let .endOfRun(limit) = extent, rows.count > limit {
            // The largest, largest first: a tree cut to its largest members
            // would not read as a tree.
            rows = rows.sorted { $0.0.totals.bytesAllocated > $1.0.totals.bytesAllocated }.prefix(limit).map { ($0.0, 0) }
            hidden = run.profiles.count - limit
        }
        for (profile, depth) in rows {
            let t = profile.totals
            // * : ended without its exit report; the counts are its live
            // profile's, as of its last checkpoints.
            let name = String(repeating: "  ", count: min(depth, 8)) + programName(profile) + (profile.complete ? "" : " *")
            lines.append("  " + String(profile.pid).padding(9) + (profile.ppid.map(String.init) ?? "?").padding(9)
                         + name.padding(24) + TextReport.grouped(t.allocations).leftPadding(14)
                         + TextReport.bytes(t.peakLiveBytes).leftPadding(12)
                         + TextReport.bytes(t.liveBytesAtExit).leftPadding(14))
        }
        if hidden > 0 {
            lines.append("  … \(hidden) more, with less allocated (swalloc report \(TerminalText.escaped(run.path)) lists all)")
        }
        let allocations = run.profiles.reduce(UInt64(0)) { $0.cappedAdding($1.totals.allocations) }
        let bytes = run.profiles.reduce(UInt64(0)) { $0.cappedAdding($1.totals.bytesAllocated) }
        let live = run.profiles.reduce(UInt64(0)) { $0.cappedAdding($1.totals.liveBytesAtExit) }
        let largestPeak = run.profiles.map(\.totals.peakLiveBytes).max() ?? 0
        lines.append("  " + "all".padding(42) + TextReport.grouped(allocations).leftPadding(14)
                     + TextReport.bytes(largestPeak).leftPadding(12) + TextReport.bytes(live).leftPadding(14))
        lines.append("  (\(TextReport.bytes(bytes)) allocated in all; the peak column's total is the largest peak, "
                     + "since the processes' peaks need not coincide)")
        if run.profiles.contains(where: { !$0.complete }) {
            lines.append("  (* ended without its exit report, by a signal, abort or _exit: counts as of its last checkpoints)")
        }
        let withSites: Bool
        if case .whole = extent { withSites = true } else { withSites = false }
        if let main = run.main {
            lines.append("")
            lines.append("the main program:")
            lines.append(TextReport.render(main, withSites: withSites).trimmingCharacters(in: .newlines))
        } else if let largest = run.profiles.max(by: { $0.totals.bytesAllocated < $1.totals.bytesAllocated }) {
            lines.append("")
            lines.append("the main program left no profile; the process that allocated most:")
            lines.append(TextReport.render(largest, withSites: withSites).trimmingCharacters(in: .newlines))
        }
        if !withSites, let shown = run.main ?? run.profiles.max(by: { $0.totals.bytesAllocated < $1.totals.bytesAllocated }),
           shown.sites != nil {
            lines.append("(its call sites: swalloc report \(TerminalText.escaped(run.path)) --pid \(shown.pid))")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The last part of the program's path, escaped for the terminal.
    static func programName(_ profile: Profile) -> String {
        guard let program = profile.program else { return "(unknown)" }
        return TerminalText.escaped((program as NSString).lastPathComponent)
    }

    /// Parents before their children, children by pid; a process whose
    /// parent has no profile starts a tree of its own.
    static func treeOrder(_ profiles: [Profile]) -> [(Profile, Int)] {
        let pids = Set(profiles.map(\.pid))
        var children: [Int: [Profile]] = [:]
        var roots: [Profile] = []
        for profile in profiles.sorted(by: { $0.pid < $1.pid }) {
            if let parent = profile.ppid, parent != profile.pid, pids.contains(parent) {
                children[parent, default: []].append(profile)
            } else {
                roots.append(profile)
            }
        }
        var order: [(Profile, Int)] = []
        var visited = Set<Int>()
        var stack: [(Profile, Int)] = roots.reversed().map { ($0, 0) }
        while let (profile, depth) = stack.popLast() {
            guard visited.insert(profile.pid).inserted else { continue }
            order.append((profile, depth))
            for child in (children[profile.pid] ?? []).reversed() { stack.append((child, depth + 1)) }
        }
        // A cycle of parents (a hand-made directory) leaves some unvisited.
        for profile in profiles where !visited.contains(profile.pid) { order.append((profile, 0)) }
        return order
    }
}
