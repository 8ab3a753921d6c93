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

    @Option(help: help(SettingsTable.sample))
    var sample: String?

    @Option(help: help(SettingsTable.sampleDepth))
    var sampleDepth: String?

    @Option(help: help(SettingsTable.limit))
    var limit: String?

    @Option(help: help(SettingsTable.fail))
    var fail: String?

    @Option(help: help(SettingsTable.guardPlacement))
    var guardPlacement: String?

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
        let settings: [(SettingDescription, String?)] = [
            (SettingsTable.allocator, allocator), (SettingsTable.sample, sample),
            (SettingsTable.sampleDepth, sampleDepth), (SettingsTable.limit, limit), (SettingsTable.fail, fail),
            (SettingsTable.guardPlacement, guardPlacement), (SettingsTable.statistics, stats),
            (SettingsTable.output, out),
        ]
        for case let (setting, value?) in settings { environment["\(setting.variable)"] = value }
        if out != nil, stats == nil { environment["\(SettingsTable.statistics.variable)"] = "json" }
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
