import ArgumentParser
import Foundation

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a program with libswalloc.so preloaded; exit with its status.",
        discussion: """
            The program's exit status is swalloc's; a program killed by signal N \
            makes swalloc exit with 128+N. Signals sent to swalloc are passed on \
            to the program, except SIGINT and SIGQUIT, which a terminal already \
            sends to both.
            """)

    @Option(help: "The global allocator: a built-in's name or a plug-in .so (SWALLOC_ALLOCATOR).")
    var allocator: String?

    @Option(help: "Statistics: off, summary or json (SWALLOC_STATS).")
    var stats: String?

    @Option(help: "Write the JSON profile to this path; %p becomes the pid (SWALLOC_OUT).")
    var out: String?

    @Option(help: "Mean bytes between sampled call sites: 0 off, 1 every allocation, like 512k (SWALLOC_SAMPLE).")
    var sample: String?

    @Option(help: "Frames kept per sampled stack, 1 to 64 (SWALLOC_SAMPLE_DEPTH).")
    var sampleDepth: String?

    @Option(help: "Cap the program's live bytes, like 64M: past it allocations fail with ENOMEM (SWALLOC_LIMIT).")
    var limit: String?

    @Option(help: "Inject allocation failures, like nth:100 or random:5,seed:7 (SWALLOC_FAIL).")
    var fail: String?

    @Option(help: "With --allocator guard: 'exact' ends blocks right at the guard page, not 16-aligned (SWALLOC_GUARD).")
    var guardPlacement: String?

    @Argument(parsing: .captureForPassthrough, help: "The program and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        // The captured arguments swallow a help flag given where the
        // program would be.
        if ["-h", "--help"].contains(command.first) { throw CleanExit.helpRequest(self) }
        if let stats, !["off", "summary", "json"].contains(stats) {
            throw ValidationError("--stats must be off, summary or json, not '\(stats)'")
        }
        if stats == "off", out != nil {
            throw ValidationError("--out writes nothing with --stats off")
        }
    }

    func run() throws {
        var command = self.command
        if command.first == "--" { command.removeFirst() }
        guard !command.isEmpty else {
            throw ValidationError("no program given: swalloc run [options] -- PROGRAM [ARGS]")
        }
        var environment = try LibraryLocator.preloadingEnvironment()
        // Each option sets its variable; the library checks the value and
        // answers a bad one with a swalloc: line, as for the variable.
        let settings: [(String, String?)] = [
            ("SWALLOC_ALLOCATOR", allocator), ("SWALLOC_SAMPLE", sample), ("SWALLOC_SAMPLE_DEPTH", sampleDepth),
            ("SWALLOC_LIMIT", limit), ("SWALLOC_FAIL", fail), ("SWALLOC_GUARD", guardPlacement),
        ]
        for case let (name, value?) in settings { environment[name] = value }
        if let stats { environment["SWALLOC_STATS"] = stats }
        if let out {
            environment["SWALLOC_OUT"] = out
            if stats == nil { environment["SWALLOC_STATS"] = "json" }
        }
        // A bad value is a usage error before anything runs, found by the
        // library's own parser.
        let complaints = try SettingsProbe.complaints(environment: environment)
        if !complaints.isEmpty {
            // The library's own lines, already escaped by it.
            for line in complaints { _ = try? DescriptorWriter.write(Array((line + "\n").utf8), to: 2) }
            throw ExitCode(64)
        }
        let status: Int32
        do {
            status = try ChildProcess.run(command, environment: environment)
        } catch let error as CLIError {
            StandardStreams.diagnose(error.description)
            throw ExitCode(127)
        }
        throw ExitCode(status)
    }
}
