import ArgumentParser
import Foundation
import SwallocSettings

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

    @Option(help: help(SettingsTable.allocator))
    var allocator: String?

    @Option(help: help(SettingsTable.statistics))
    var stats: String?

    @Option(help: help(SettingsTable.output))
    var out: String?

    // The number-like options take their value whatever it looks like
    // (`--sample -5`): the library then says what is wrong with it, where
    // the parser said the value was missing.
    @Option(parsing: .unconditional, help: help(SettingsTable.sample))
    var sample: String?

    @Option(parsing: .unconditional, help: help(SettingsTable.sampleDepth))
    var sampleDepth: String?

    @Flag(help: "Every leaking site, exactly: samples every allocation (--sample 1), a stack walk each, at several times the run's time.")
    var leaks = false

    @Option(parsing: .unconditional, help: help(SettingsTable.limit))
    var limit: String?

    @Option(parsing: .unconditional, help: help(SettingsTable.fail))
    var fail: String?

    @Option(help: help(SettingsTable.guardPlacement))
    var `guard`: String?

    @Option(help: help(SettingsTable.children))
    var children: String?

    @Option(help: "A new or empty directory for the run's profiles (default: a new one in $TMPDIR or /tmp).")
    var runDir: String?

    @Option(help: "Every INTERVAL (10s, 500ms, 2m), a profile of each running process into the run directory's snapshots/PID.N.json.")
    var interval: String?

    /// Without --out, and with statistics as a summary: every process of
    /// the tree writes its profile into the run directory, and swalloc
    /// prints one summary of the run at the end.
    var collectsTheRun: Bool { out == nil && (stats == nil || stats == "summary") }

    /// An option's help, from the settings table the library parses by.
    static func help(_ setting: SettingDescription) -> ArgumentHelp {
        ArgumentHelp("\(setting.summary) (\(setting.variable); unset: \(setting.unset))")
    }

    @Argument(parsing: .captureForPassthrough, help: "The program and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        // The captured arguments swallow a help flag given where the
        // program would be.
        if ["-h", "--help"].contains(command.first) { throw CleanExit.helpRequest(self) }
        // They also swallow an option swalloc does not know: a usage
        // error, not a program to run.
        try SettingsProbe.rejectUnknownOption(command.first)
        if stats == "off", out != nil {
            throw ValidationError("--out writes nothing with --stats off")
        }
        if !collectsTheRun && (children != nil || runDir != nil) {
            throw ValidationError("--children and --run-dir are for a collected run: not with --out or --stats off/json")
        }
        if leaks && sample != nil { throw ValidationError("--leaks samples every allocation: not with --sample") }
        if leaks && stats == "off" { throw ValidationError("--leaks needs statistics: not with --stats off") }
        if let interval {
            guard Self.seconds(interval) != nil else {
                throw ValidationError("--interval \(interval): a duration such as 10s, 500ms or 2m (at least 10ms)")
            }
            guard collectsTheRun else { throw ValidationError("--interval is for a collected run: not with --out or --stats off/json") }
        }
        if children?.isEmpty == true || runDir?.isEmpty == true {
            throw ValidationError("--children and --run-dir need a value")
        }
    }

    /// A duration in seconds: a number with s, ms or m (a bare number is
    /// seconds); nil below 10 ms or when malformed.
    static func seconds(_ text: String) -> Double? {
        let units: [(String, Double)] = [("ms", 0.001), ("s", 1), ("m", 60)]
        var number = Substring(text), scale = 1.0
        for (suffix, value) in units where text.hasSuffix(suffix) {
            number = text.dropLast(suffix.count)
            scale = value
            break
        }
        guard let value = Double(number), value.isFinite, value * scale >= 0.01, value * scale <= 86_400 * 365 else {
            return nil
        }
        return value * scale
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
        let settings: [(SettingDescription, String?)] = [
            (SettingsTable.allocator, allocator), (SettingsTable.sample, sample),
            (SettingsTable.sampleDepth, sampleDepth), (SettingsTable.limit, limit), (SettingsTable.fail, fail),
            (SettingsTable.guardPlacement, `guard`), (SettingsTable.statistics, stats),
            (SettingsTable.output, out),
        ]
        for case let (setting, value?) in settings { environment["\(setting.variable)"] = value }
        if leaks { environment["\(SettingsTable.sample.variable)"] = "1" }
        environment = LibraryLocator.preloading(allocator, in: environment)
        if let out {
            // Relative to where swalloc was started, not to wherever the
            // program is when it exits (a daemon's chdir("/")).
            environment["\(SettingsTable.output.variable)"] = URL(fileURLWithPath: out).path
            if stats == nil { environment["\(SettingsTable.statistics.variable)"] = "json" }
        }
        // A bad value is a usage error before anything runs, found by the
        // library's own parser, with the statistics the run will have (a
        // collected run's are JSON: the sampled guard needs them on).
        var probed = environment
        if collectsTheRun { probed["\(SettingsTable.statistics.variable)"] = "json" }
        try SettingsProbe.requireAccepted(environment: probed)
        // Said before a run directory is made for a program that cannot run.
        if let problem = ChildProcess.startProblem(command[0]) {
            StandardStreams.diagnose("cannot run \(command[0]): \(problem.reason)")
            throw ExitCode(problem.status)
        }
        var collection: RunCollection? = nil
        if collectsTheRun {
            do {
                collection = try RunCollection.start(command: command, children: children ?? "all",
                                                     directory: runDir, environment: &environment)
            } catch let error as CLIError {
                StandardStreams.diagnose(error.description)
                throw ExitCode(64)
            }
        }
        let snapshots = interval.flatMap(Self.seconds).flatMap { seconds in collection?.startSnapshots(every: seconds) }
        let status: Int32
        do {
            status = try ChildProcess.run(command, environment: environment)
        } catch let error as CLIError {
            snapshots?.stop()
            StandardStreams.diagnose(error.description)
            collection?.discard()
            throw ExitCode(127)
        }
        snapshots?.stop()
        collection?.finish()
        throw ExitCode(status)
    }
}
