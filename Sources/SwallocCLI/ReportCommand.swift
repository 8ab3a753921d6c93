import ArgumentParser
import Foundation
import SwallocReport

struct ReportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Render a saved JSON profile.")

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, folded, pprof, html
    }

    @Argument(help: "The profile (SWALLOC_OUT of a run), or the directory of a swalloc run.")
    var file: String

    @Option(parsing: .unconditional, help: "In a run's directory: the process to render (default: the whole run, as text).")
    var pid: Int?

    @Option(help: "text (default), json (the profile re-emitted, normalized), folded (stacks for flame graphs), pprof (gzipped protobuf, needs -o), html (a page with flame graphs, needs -o).")
    var format: Format = .text

    @Option(name: [.short, .customLong("output")], help: "Write to this file instead of standard output (required for pprof and html); /dev/stdout, /dev/stderr and /dev/fd/N mean the descriptor.")
    var output: String?

    @Option(help: "For folded: bytes (default), calls, live-bytes or live-allocations.")
    var value: String = "bytes"

    @Flag(help: "For folded: each frame with its source line, as `function file:line`.")
    var lines = false

    func validate() throws {
        if (format == .pprof || format == .html) && output == nil {
            throw ValidationError("--format \(format.rawValue) writes a file: give it with -o FILE")
        }
        _ = try ProfileInput.metric(value)
        if output?.isEmpty == true { throw ValidationError("-o needs a file name") }
        if lines && format != .folded { throw ValidationError("--lines is for --format folded") }
        if let pid, pid <= 0 { throw ValidationError("--pid \(pid): a process id is a positive number") }
    }

    func run() throws {
        StandardStreams.prepare()
        let destination = try OutputDestination.resolveForCommand(output)
        let profile: Profile
        if RunDirectory.isRunDirectory(file) {
            let run: RunDirectory
            do {
                run = try RunDirectory.load(path: file)
            } catch {
                throw ProfileInput.failure(error.description)
            }
            guard let pid else {
                guard format == .text else {
                    throw ProfileInput.failure("\(file) is a run of \(run.profiles.count) processes: --format \(format.rawValue) renders one, chosen with --pid")
                }
                // The main program's sites are shown: with their source lines.
                var annotated = run
                if let main = run.main, let index = run.profiles.firstIndex(where: { $0.pid == main.pid }) {
                    annotated.profiles[index] = ProfileInput.annotated(main)
                }
                return try destination.deliver(Data(RunSummary.render(annotated).utf8))
            }
            guard let chosen = run.profiles.first(where: { $0.pid == pid }) else {
                throw ProfileInput.failure("\(file) has no profile of pid \(pid)")
            }
            profile = ProfileInput.annotated(chosen)
        } else {
            if pid != nil { throw ProfileInput.failure("--pid chooses a process in a run's directory; \(file) is one profile") }
            profile = try ProfileInput.load(file)
        }
        try destination.deliver(try Self.render(profile, format: format, value: value, file: file, lines: lines))
    }

    /// One profile in `format` (shared with `swalloc dump`).
    static func render(_ profile: Profile, format: Format, value: String, file: String, lines: Bool = false) throws -> Data {
        switch format {
        case .text: return Data(TextReport.render(profile).utf8)
        case .json: return profile.jsonData() + Data("\n".utf8)
        case .html: return Data(HTMLReport.render(profile).utf8)
        case .folded, .pprof:
            try ProfileInput.requireSites(profile, path: file)
            if format == .folded {
                return Data(SiteReport.folded(profile, metric: try ProfileInput.metric(value), sourceLines: lines).utf8)
            }
            do {
                return try PprofWriter.data(profile)
            } catch {
                throw ProfileInput.failure("\(file): \(error)")
            }
        }
    }
}
