import ArgumentParser
import SwallocSettings
import Foundation
import SwallocReport

struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two saved profiles, or one program run under several allocators.",
        discussion: """
            swalloc compare BASE.json NEW.json: the totals of two profiles side by \
            side with their change, the request sizes, and the call sites whose \
            bytes changed most (matched by function names). --format folded writes \
            "stack base new" lines, which flamegraph.pl draws as a differential \
            flame graph.

            swalloc compare [--allocator NAME]... [--runs N] -- PROGRAM [ARGS]: runs \
            PROGRAM N times under each allocator (default: system and bump), \
            interleaved, with its input from /dev/null and its output kept, and \
            prints the median wall time, CPU time, largest resident set, the \
            profile's peak and counts, and whether the output was the same in \
            every run.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, folded
    }

    @Option(name: .customLong("allocator"),
            help: "An allocator to run the program under (repeatable; a built-in's name or a plug-in .so).")
    var allocators: [String] = []

    @Option(help: "Runs of the program per allocator.")
    var runs: Int = 3

    @Option(help: "text (default), json, or for two profiles folded (differential folded stacks).")
    var format: Format = .text

    @Option(help: "For folded: bytes (default), calls, live-bytes or live-allocations.")
    var value: String = "bytes"

    @Option(name: [.short, .customLong("output")], help: "Write to this file instead of standard output; /dev/stdout, /dev/stderr and /dev/fd/N mean the descriptor.")
    var output: String?

    @Argument(parsing: .captureForPassthrough,
              help: "BASE.json NEW.json, or -- PROGRAM [ARGS].")
    var arguments: [String] = []

    func validate() throws {
        // As in swalloc run: a help flag where the arguments start.
        if ["-h", "--help"].contains(arguments.first) { throw CleanExit.helpRequest(self) }
        // As in swalloc run: an option it does not know, before `--`.
        try SettingsProbe.rejectUnknownOption(arguments.first)
        _ = try ProfileInput.metric(value)
        guard runs >= 1, runs <= 1000 else { throw ValidationError("--runs must be from 1 to 1000, not \(runs)") }
        if output?.isEmpty == true { throw ValidationError("-o needs a file name") }
    }

    func run() throws {
        StandardStreams.prepare()
        if arguments.first == "--" || !allocators.isEmpty {
            let command = arguments.first == "--" ? Array(arguments.dropFirst()) : arguments
            guard !command.isEmpty else {
                throw ValidationError("no program given: swalloc compare [--allocator NAME]... -- PROGRAM [ARGS]")
            }
            guard format != .folded else {
                throw ValidationError("--format folded compares two profiles' call sites, not runs")
            }
            // An allocator the library refuses (a typo, a plug-in that does
            // not load, an established allocator not installed) is a usage
            // error before anything runs, as for swalloc run --allocator:
            // the library's own line.
            // Probed with the statistics the runs have (JSON), and only the
            // allocator's line counts: the caller's other settings are the
            // runs' business (the table shows their lines).
            let preloading = try LibraryLocator.preloadingEnvironment()
            for allocator in allocators {
                var environment = preloading
                environment["\(SettingsTable.allocator.variable)"] = allocator
                environment["\(SettingsTable.statistics.variable)"] = "json"
                try SettingsProbe.requireAccepted(environment: LibraryLocator.preloading(allocator, in: environment)) {
                    $0.hasPrefix("swalloc: \(SettingsTable.allocator.variable)=")
                }
            }
            let destination = try OutputDestination.resolveForCommand(output)
            try AllocatorComparison(command: command, allocators: allocators.isEmpty ? ["system", "bump"] : allocators,
                                    runs: runs, json: format == .json, destination: destination).run()
            return
        }
        guard arguments.count == 2 else {
            throw ValidationError("give two profiles (swalloc compare BASE.json NEW.json) or a program after --")
        }
        let destination = try OutputDestination.resolveForCommand(output)
        let profiles = try arguments.map(ProfileInput.load)
        let rendered: String
        switch format {
        case .text:
            rendered = ProfileComparison.render(base: profiles[0], new: profiles[1],
                                                baseName: arguments[0], newName: arguments[1])
        case .json:
            rendered = ProfileComparison.json(base: profiles[0], new: profiles[1],
                                              baseName: arguments[0], newName: arguments[1])
        case .folded:
            for (profile, path) in zip(profiles, arguments) { try ProfileInput.requireSites(profile, path: path) }
            rendered = ProfileComparison.diffFolded(base: profiles[0], new: profiles[1],
                                                    metric: try ProfileInput.metric(value))
        }
        try destination.deliver(Data(rendered.utf8))
    }
}
