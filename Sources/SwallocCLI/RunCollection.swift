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
        let running = settleLiveProfiles()
        let text: String
        do {
            text = RunSummary.render(try RunDirectory.load(path: directory), extent: .endOfRun(rowLimit: 15))
        } catch {
            StandardStreams.diagnose(error.description)
            return
        }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { "swalloc: " + $0 }
        if lines.last == "swalloc: " { lines.removeLast() }
        for pid in running {
            lines.append("swalloc: pid \(pid) still runs: swalloc dump \(pid) reads it now; its profile comes at its exit")
        }
        lines.append("swalloc: read it again: swalloc report \(directory)")
        _ = try? DescriptorWriter.write(Array((lines.joined(separator: "\n") + "\n").utf8), to: 2)
    }

    /// The live profiles of processes that ended without their exit report
    /// (a crash, a signal, `_exit`) become their PID.json, marked
    /// incomplete; a live profile beside a finished PID.json (the report
    /// wrote it, then something stopped the removal) goes. Returns the
    /// pids still running, whose files stay.
    func settleLiveProfiles() -> [Int32] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        var running: [Int32] = []
        for name in names.sorted() where name.hasSuffix(".json" + LiveProfile.suffix) {
            let live = (directory as NSString).appendingPathComponent(name)
            let profilePath = String(live.dropLast(LiveProfile.suffix.count))
            if FileManager.default.fileExists(atPath: profilePath) {
                _ = unlink(live)
                continue
            }
            let profile: Profile
            do {
                profile = try LiveProfile.load(path: live)
            } catch {
                StandardStreams.diagnose(error.description)
                continue
            }
            if kill(Int32(profile.pid), 0) == 0 {
                running.append(Int32(profile.pid))
                continue
            }
            do {
                try Self.writeNew(profile.jsonData(), to: profilePath)
                _ = unlink(live)
            } catch {
                StandardStreams.diagnose("cannot write \(profilePath): \(error.reason)")
            }
        }
        return running
    }

    /// A new file of the run, whole or not at all, mode 0600 as the library
    /// makes its profiles (Data's atomic write made them 0644 under umask
    /// 022).
    static func writeNew(_ data: Data, to path: String) throws(OutputFailure) {
        try SafeFileReplacement.write(data, to: path, replacing: nil, mode: 0o600)
    }

    /// Every `interval` seconds until stopped: each live profile of the run
    /// copied to snapshots/PID.N.json (`swalloc run --interval`). On a
    /// thread of its own, which blocks every signal (swalloc run's
    /// forwarding handlers run on the main thread).
    func startSnapshots(every interval: Double) -> SnapshotTimer {
        let timer = SnapshotTimer(directory: directory, interval: interval)
        var all = sigset_t(), previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, &previous)
        let thread = Thread { timer.loop() }
        thread.start()
        pthread_sigmask(SIG_SETMASK, &previous, nil)
        return timer
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

/// The loop behind `swalloc run --interval`.
final class SnapshotTimer: @unchecked Sendable {
    let directory: String
    let interval: Double
    private let lock = NSLock()
    private var stopped = false
    private var taken: [Int: Int] = [:]

    init(directory: String, interval: Double) {
        self.directory = directory
        self.interval = interval
    }

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
    }

    var isStopped: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped
    }

    func loop() {
        var next = Date().addingTimeInterval(interval)
        while !isStopped {
            let wait = next.timeIntervalSinceNow
            if wait > 0 { usleep(UInt32(min(wait, 0.1) * 1_000_000)); continue }
            next = next.addingTimeInterval(interval)
            snapshot()
        }
    }

    /// One snapshot of every process of the run that still runs.
    func snapshot() {
        let snapshots = (directory as NSString).appendingPathComponent("snapshots")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for name in names.sorted() where name.hasSuffix(".json" + LiveProfile.suffix) {
            let live = (directory as NSString).appendingPathComponent(name)
            guard let profile = try? LiveProfile.load(path: live), kill(Int32(profile.pid), 0) == 0 else { continue }
            _ = mkdir(snapshots, 0o700)
            let number = (taken[profile.pid] ?? 0) + 1
            taken[profile.pid] = number
            let path = (snapshots as NSString).appendingPathComponent("\(profile.pid).\(number).json")
            try? RunCollection.writeNew(profile.jsonData(), to: path)
        }
    }
}
