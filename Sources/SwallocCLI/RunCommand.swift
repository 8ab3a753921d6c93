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

    @Argument(parsing: .captureForPassthrough, help: "The program and its arguments, after --.")
    var command: [String] = []

    func validate() throws {
        // The captured arguments swallow a help flag given where the
        // program would be.
        if ["-h", "--help"].contains(command.first) { throw CleanExit.helpRequest(self) }
        if let stats, !["off", "summary", "json"].contains(stats) {
            throw ValidationError("--stats must be off, summary or json, not '\(stats)'")
        }
    }

    func run() throws {
        var command = self.command
        if command.first == "--" { command.removeFirst() }
        guard !command.isEmpty else {
            throw ValidationError("no program given: swalloc run [options] -- PROGRAM [ARGS]")
        }
        let library: String
        do { library = try LibraryLocator.locate() } catch let error as CLIError {
            throw ValidationError(error.description)
        }
        var environment = ProcessInfo.processInfo.environment
        let preload = environment["LD_PRELOAD"].map { $0.isEmpty ? library : "\(library):\($0)" } ?? library
        environment["LD_PRELOAD"] = preload
        if let allocator { environment["SWALLOC_ALLOCATOR"] = allocator }
        if let stats { environment["SWALLOC_STATS"] = stats }
        if let out {
            environment["SWALLOC_OUT"] = out
            if stats == nil { environment["SWALLOC_STATS"] = "json" }
        }
        let status: Int32
        do {
            status = try ChildProcess.run(command, environment: environment)
        } catch let error as CLIError {
            FileHandle.standardError.write(Data("swalloc: \(error.description)\n".utf8))
            throw ExitCode(127)
        }
        throw ExitCode(status)
    }
}
