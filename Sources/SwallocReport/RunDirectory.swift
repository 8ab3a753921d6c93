import Foundation

/// The profiles of one `swalloc run`: every process of the tree wrote its
/// own (`PID.json`) into the run's directory, and swalloc run wrote
/// `run.json` (its own pid and the command). Read by the summary swalloc
/// run prints at the end and by `swalloc report RUN-DIR`.
public struct RunDirectory: Sendable {
    /// What swalloc run records about the run.
    public struct Run: Codable, Equatable, Sendable {
        /// swalloc run's pid: the parent of the run's main program.
        public var parent: Int
        public var command: [String]

        public init(parent: Int, command: [String]) {
            self.parent = parent
            self.command = command
        }
    }

    public static let runFileName = "run.json"

    public var path: String
    public var run: Run?
    /// The processes' profiles, by pid.
    public var profiles: [Profile]
    /// Files that are no profile (one line each, for the summary).
    public var unreadable: [String]

    /// The run's main program: the process whose parent was swalloc run (the
    /// first, by pid, if several); nil when it left no profile. Without
    /// `run.json` (a directory made by hand), the root of the tree with the
    /// lowest pid.
    public var main: Profile? {
        if let parent = run?.parent { return profiles.first { $0.ppid == parent } }
        let pids = Set(profiles.map(\.pid))
        return profiles.first { $0.ppid.map { !pids.contains($0) } ?? true } ?? profiles.first
    }

    public static func isRunDirectory(_ path: String) -> Bool {
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) && isDirectory.boolValue
    }

    /// Reads the directory: `run.json` if there, and every other `*.json`
    /// as a profile (temporary files of profiles still being written are
    /// left out).
    public static func load(path: String) throws(ProfileError) -> RunDirectory {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: path).sorted()
        } catch {
            throw .unreadable(path: path, reason: (error as NSError).localizedDescription)
        }
        var run: Run? = nil
        var profiles: [Profile] = []
        var unreadable: [String] = []
        // A process that died without its exit report left its live
        // profile (PID.json.live) instead of PID.json.
        let present = Set(names)
        let wanted = names.filter { name in
            if name.hasSuffix(".json") { return !name.contains(".swalloc-tmp.") }
            return name.hasSuffix(".json" + LiveProfile.suffix) && !present.contains(String(name.dropLast(LiveProfile.suffix.count)))
        }
        for name in wanted {
            let file = (path as NSString).appendingPathComponent(name)
            if name == runFileName {
                run = try? JSONDecoder().decode(Run.self, from: Data(contentsOf: URL(fileURLWithPath: file)))
                continue
            }
            do {
                profiles.append(try Profile.load(path: file))
            } catch {
                unreadable.append(error.description)
            }
        }
        // Neither a run (run.json) nor a directory of profiles: not one
        // swalloc can read, rather than a run of no processes.
        if run == nil && profiles.isEmpty && unreadable.isEmpty {
            throw .unreadable(path: path, reason: "not a run directory (no run.json, no profile in it)")
        }
        profiles.sort { $0.pid < $1.pid }
        return RunDirectory(path: path, run: run, profiles: profiles, unreadable: unreadable)
    }

    /// Records the run (swalloc run, before the program starts).
    public static func writeRunFile(_ run: Run, in path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(run).write(to: URL(fileURLWithPath: (path as NSString).appendingPathComponent(runFileName)))
    }
}
