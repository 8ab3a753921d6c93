import ArgumentParser
import Foundation
import SwallocReport

/// `swalloc compare [--allocator NAME]... -- PROGRAM`: one program, run
/// several times under each allocator, interleaved so that a machine's
/// drifting load falls on all of them alike.
///
/// Each run gets its input from /dev/null (there are several), its output
/// and error streams in files, `SWALLOC_STATS=json` with the profile in a
/// private directory, and `SWALLOC_SAMPLE=0` unless the caller set it
/// (sampling is the same cost under every allocator and only adds noise).
/// The table gives medians over the runs, and the first run's profile.
/// Exit status: 0 when every run exited alike and printed the same output,
/// 1 when they did not (the table says which), 2 when the program could not
/// be run or was interrupted.
struct AllocatorComparison {
    let command: [String]
    let allocators: [String]
    let runs: Int
    /// JSON instead of the table.
    let json: Bool
    /// Where the table or JSON goes.
    let destination: OutputDestination

    struct Trial {
        var outcome: ChildProcess.Outcome
        var profile: Profile?
        /// The size of its standard output, and whether it was byte for
        /// byte the first run's (compared as files, never held in memory).
        var outputBytes: UInt64
        var sameOutput: Bool
        /// The `swalloc:` lines the library printed (a bad setting, a
        /// plug-in that did not load).
        var diagnostics: [String]
    }

    func run() throws {
        let preloading = try LibraryLocator.preloadingEnvironment()
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("swalloc-compare-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: false,
                                                attributes: [.posixPermissions: 0o700])
        defer { try? FileManager.default.removeItem(at: directory) }

        var trials: [[Trial]] = allocators.map { _ in [] }
        let reference = directory.appendingPathComponent("0-0.out").path
        // Progress on a terminal only: one line rewritten in place.
        let showsProgress = isatty(2) == 1
        func clearProgress() { if showsProgress { _ = try? DescriptorWriter.write(Array("\r\u{1B}[K".utf8), to: 2) } }
        for round in 0..<runs {
            for (index, allocator) in allocators.enumerated() {
                if showsProgress {
                    let line = "\rswalloc: run \(round * allocators.count + index + 1) of \(runs * allocators.count): "
                        + TerminalText.escaped(allocator) + "\u{1B}[K"
                    _ = try? DescriptorWriter.write(Array(line.utf8), to: 2)
                }
                let trial = try runOnce(allocator: allocator, environment: preloading,
                                        files: directory.appendingPathComponent("\(index)-\(round)"),
                                        reference: reference)
                // Interrupted from the terminal (the program died of SIGINT
                // or SIGQUIT, which reach it too): stop here.
                if trial.outcome.status == 128 + SIGINT || trial.outcome.status == 128 + SIGQUIT {
                    clearProgress()
                    StandardStreams.diagnose("compare interrupted")
                    throw ExitCode(2)
                }
                trials[index].append(trial)
            }
        }
        clearProgress()
        let summary = summarize(trials)
        try destination.deliver(Data((json ? Self.json(summary) : Self.text(summary)).utf8))
        if !summary.alike { throw ExitCode(1) }
    }

    func runOnce(allocator: String, environment preloading: [String: String], files: URL,
                 reference: String) throws -> Trial {
        var environment = preloading
        environment["SWALLOC_ALLOCATOR"] = allocator
        environment = LibraryLocator.preloading(allocator, in: environment)
        environment["SWALLOC_STATS"] = "json"
        environment["SWALLOC_OUT"] = files.path + "-%p.json"
        if environment["SWALLOC_SAMPLE"] == nil { environment["SWALLOC_SAMPLE"] = "0" }
        let output = files.path + ".out", error = files.path + ".err"
        let outcome: ChildProcess.Outcome
        do {
            outcome = try ChildProcess.run(command, environment: environment,
                                           redirection: .init(input: "/dev/null", output: output, error: error))
        } catch let error as CLIError {
            StandardStreams.diagnose(error.description)
            throw ExitCode(2)
        }
        // The program's own process wrote this one (a child it forked
        // writes its own, under its pid).
        let profile = try? Profile.load(path: files.path + "-\(outcome.pid).json")
        // The library's lines come first (a bad setting is reported at
        // start-up): the first 1 MiB of the error stream is enough.
        let head = FileHandle(forReadingAtPath: error).flatMap { handle in
            defer { try? handle.close() }
            return try? handle.read(upToCount: 1 << 20)
        } ?? Data()
        let diagnostics = String(decoding: head, as: UTF8.self)
            .split(separator: "\n").filter { $0.hasPrefix("swalloc:") }.map(String.init)
        let size = ((try? FileManager.default.attributesOfItem(atPath: output))?[.size] as? NSNumber)?.uint64Value ?? 0
        let same = output == reference || Self.sameContents(output, reference)
        if output != reference { try? FileManager.default.removeItem(atPath: output) }
        try? FileManager.default.removeItem(atPath: error)
        return Trial(outcome: outcome, profile: profile, outputBytes: size, sameOutput: same,
                     diagnostics: diagnostics)
    }

    /// Whether two files hold the same bytes, read in chunks.
    static func sameContents(_ first: String, _ second: String) -> Bool {
        guard let a = FileHandle(forReadingAtPath: first), let b = FileHandle(forReadingAtPath: second) else {
            return false
        }
        defer { try? a.close(); try? b.close() }
        while true {
            let left = (try? a.read(upToCount: 1 << 16)) ?? Data()
            let right = (try? b.read(upToCount: 1 << 16)) ?? Data()
            if left != right { return false }
            if left.isEmpty { return true }
        }
    }

    /// What the runs came to: per allocator, and across them.
    struct Summary: Encodable {
        struct Row: Encodable {
            var allocator: String
            /// The allocator the profile names (nil: no profile).
            var ranOn: String?
            var fellBack: Bool
            var exitStatuses: [Int32]
            /// Medians over the runs.
            var wallSeconds: Double
            var wallRatio: Double?
            var userSeconds: Double
            var systemSeconds: Double
            var maxResidentBytes: UInt64
            /// From the first run's profile.
            var peakLiveBytes: UInt64?
            var allocations: UInt64?
            var failedCalls: UInt64?
            var runsWithoutProfile: Int
            var diagnostics: [String]
        }
        var program: [String]
        var runs: Int
        var allocators: [Row]
        var outputBytes: UInt64
        /// "ALLOCATOR run N" for every run whose output was not the first's.
        var differingOutput: [String]
        var sameExitStatus: Bool
        var alike: Bool { differingOutput.isEmpty && sameExitStatus }
    }

    func summarize(_ trials: [[Trial]]) -> Summary {
        let median = Self.median
        let baseline = median(trials[0].map(\.outcome.wallSeconds))
        let rows = allocators.enumerated().map { index, allocator in
            let runs = trials[index]
            let wall = median(runs.map(\.outcome.wallSeconds))
            let profile = runs.first?.profile
            return Summary.Row(
                allocator: allocator, ranOn: profile?.allocator,
                fellBack: profile.map { Self.fellBack(requested: allocator, ranOn: $0.allocator) } ?? false,
                exitStatuses: Set(runs.map(\.outcome.status)).sorted(),
                wallSeconds: wall, wallRatio: baseline > 0 ? wall / baseline : nil,
                userSeconds: median(runs.map(\.outcome.userSeconds)),
                systemSeconds: median(runs.map(\.outcome.systemSeconds)),
                // The program's own peak RSS, from its profile: wait4's
                // includes what the child shared with swalloc before exec.
                maxResidentBytes: UInt64(median(runs.map {
                    Double($0.profile?.totals.maxResidentBytes ?? $0.outcome.maxResidentBytes)
                })),
                peakLiveBytes: profile?.totals.peakLiveBytes, allocations: profile?.totals.allocations,
                failedCalls: profile?.totals.failedCalls,
                runsWithoutProfile: runs.filter { $0.profile == nil }.count,
                diagnostics: Set(runs.flatMap(\.diagnostics)).sorted())
        }
        let differing = allocators.indices.flatMap { index in
            trials[index].enumerated().compactMap { round, trial in
                trial.sameOutput ? nil : "\(allocators[index]) run \(round + 1)"
            }
        }
        return Summary(program: command, runs: runs, allocators: rows, outputBytes: trials[0][0].outputBytes,
                       differingOutput: differing,
                       sameExitStatus: Set(trials.joined().map(\.outcome.status)).count == 1)
    }

    /// The summary as JSON, for scripts.
    static func json(_ summary: Summary) -> String {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: (try? encoder.encode(summary)) ?? Data(), as: UTF8.self) + "\n"
    }

    /// The summary as a table and a few lines; the command, the allocators'
    /// names and the library's lines escaped for the terminal.
    static func text(_ summary: Summary) -> String {
        var summary = summary
        summary.program = summary.program.map(TerminalText.escaped)
        for index in summary.allocators.indices {
            summary.allocators[index].allocator = TerminalText.escaped(summary.allocators[index].allocator)
            summary.allocators[index].ranOn = summary.allocators[index].ranOn.map(TerminalText.escaped)
            summary.allocators[index].diagnostics = summary.allocators[index].diagnostics.map(TerminalText.escaped)
        }
        summary.differingOutput = summary.differingOutput.map(TerminalText.escaped)
        var lines: [String] = []
        let runs = summary.runs
        let under = summary.allocators.count == 1 ? "under one allocator" : "under each of \(summary.allocators.count) allocators"
        lines.append("\(summary.program.joined(separator: " ")): \(runs) run\(runs == 1 ? "" : "s") \(under) (medians; counts from the first run)")
        lines.append("")
        let header = ["allocator", "exit", "wall", "ratio", "user", "sys", "max RSS", "peak live", "allocations", "failed"]
        var rows: [[String]] = [header]
        for row in summary.allocators {
            rows.append([
                row.allocator, row.exitStatuses.map(String.init).joined(separator: "/"), duration(row.wallSeconds),
                row.wallRatio.map { String(format: "%.2f", $0) } ?? "-",
                duration(row.userSeconds), duration(row.systemSeconds), TextReport.bytes(row.maxResidentBytes),
                row.peakLiveBytes.map(TextReport.bytes) ?? "-", row.allocations.map(TextReport.grouped) ?? "-",
                row.failedCalls.map(TextReport.grouped) ?? "-",
            ])
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        for row in rows {
            lines.append(row.enumerated().map { column, cell in
                column == 0 ? cell.padding(toLength: widths[0], withPad: " ", startingAt: 0)
                    : String(repeating: " ", count: widths[column] - cell.count) + cell
            }.joined(separator: "  "))
        }
        lines.append("")
        if summary.differingOutput.isEmpty {
            lines.append("output: the same in every run (\(TextReport.bytes(summary.outputBytes)))")
        } else {
            lines.append("output: differs from \(summary.allocators[0].allocator) run 1 in "
                + summary.differingOutput.joined(separator: ", "))
        }
        if !summary.sameExitStatus { lines.append("exit status: not the same in every run") }
        for row in summary.allocators {
            if row.fellBack, let ranOn = row.ranOn {
                lines.append("\(row.allocator): the program ran on \(ranOn) instead")
            } else if row.runsWithoutProfile > 0 {
                lines.append("\(row.allocator): no profile from some runs (the program ended without its exit handlers: _exit, a signal, exec)")
            }
            for diagnostic in row.diagnostics { lines.append("\(row.allocator): \(diagnostic)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static let builtIns: Set<String> = ["system", "bump", "guard"]

    /// Whether a run asked for `requested` ran on another allocator: a
    /// built-in's name that is not the one asked for, or a built-in when a
    /// plug-in (a path) was asked for and did not load. A plug-in names
    /// itself, so any other name is taken as the plug-in's.
    static func fellBack(requested: String, ranOn: String) -> Bool {
        requested.contains("/") ? builtIns.contains(ranOn) : ranOn != requested
    }

    static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2]
            : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    /// "812 ms", "1.23 s", "45 µs".
    static func duration(_ seconds: Double) -> String {
        if seconds >= 10 { return String(format: "%.1f s", seconds) }
        if seconds >= 1 { return String(format: "%.2f s", seconds) }
        if seconds >= 0.001 { return String(format: "%.1f ms", seconds * 1000) }
        return String(format: "%.0f µs", seconds * 1_000_000)
    }
}
