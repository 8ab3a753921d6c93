import Foundation
import SwallocReport
import SwallocSettings
#if canImport(Glibc)
import Glibc
#endif

/// One account for a whole `swalloc run` (issue #12): every process of the
/// tree writes its JSON profile into the run's directory instead of a
/// summary into its own stderr, and swalloc prints one summary of the run
/// when the program ends (RunSummary), with the command that reads it
/// again. The directory's path is printed when the run starts.
struct RunCollection {
    var directory: String

    /// Makes the directory, records the run in it, and points the
    /// library's settings at it.
    static func start(command: [String], children: String, directory requested: String?,
                      environment: inout [String: String]) throws -> RunCollection {
        let directory = try makeDirectory(requested, program: command[0])
        let parent = Int(getpid())
        do {
            try RunDirectory.writeRunFile(.init(parent: parent, command: command), in: directory)
        } catch {
            throw CLIError("cannot write to the run directory \(directory): \(error.localizedDescription)")
        }
        environment["\(SettingsTable.statistics.variable)"] = "json"
        environment["\(SettingsTable.output.variable)"] = (directory as NSString).appendingPathComponent("%p.json")
        environment["\(SettingsTable.children.variable)"] = children
        environment["\(SettingsTable.runParent.variable)"] = String(parent)
        StandardStreams.diagnose("profiling into \(directory)")
        return RunCollection(directory: directory)
    }

    /// The run's summary on stderr, each line marked as swalloc's.
    func finish() {
        let text: String
        do {
            text = RunSummary.render(try RunDirectory.load(path: directory), extent: .endOfRun(rowLimit: 15))
        } catch {
            StandardStreams.diagnose(error.description)
            return
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { "swalloc: " + $0 }
        if lines.last == "swalloc: " { lines.removeLast() }
        lines.append("swalloc: read it again: swalloc report \(directory)")
        _ = try? DescriptorWriter.write(Array((lines.joined(separator: "\n") + "\n").utf8), to: 2)
    }

    /// Whether `program` names an executable, as posix_spawnp looks it up
    /// (a name with a slash as it is, else along PATH).
    static func canFind(_ program: String) -> Bool {
        if program.contains("/") { return access(program, X_OK) == 0 }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        return path.split(separator: ":", omittingEmptySubsequences: false).contains { directory in
            access((directory.isEmpty ? "." : String(directory)) + "/" + program, X_OK) == 0
        }
    }

    /// The program could not be started: the directory holds nothing worth
    /// keeping.
    func discard() {
        try? FileManager.default.removeItem(atPath: (directory as NSString).appendingPathComponent(RunDirectory.runFileName))
        _ = rmdir(directory)
    }

    /// A new directory: the one asked for (created, or empty), else
    /// swalloc.PROGRAM.XXXXXX in $TMPDIR or /tmp.
    static func makeDirectory(_ requested: String?, program: String) throws -> String {
        if let requested {
            let path = URL(fileURLWithPath: requested).path
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
                let contents = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? ["?"]
                guard isDirectory.boolValue, contents.isEmpty else {
                    throw CLIError("--run-dir \(path): not an empty directory")
                }
                return path
            }
            guard mkdir(path, 0o700) == 0 else {
                throw CLIError("--run-dir \(path): \(String(cString: strerror(errno)))")
            }
            return path
        }
        let base = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        let name = (program as NSString).lastPathComponent.filter { $0.isLetter || $0.isNumber || $0 == "." || $0 == "_" || $0 == "-" }
        var template = Array("\(base)/swalloc.\(name.isEmpty ? "run" : String(name.prefix(40))).XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else {
            throw CLIError("cannot make a run directory in \(base): \(String(cString: strerror(errno)))")
        }
        return String(cString: made)
    }
}
