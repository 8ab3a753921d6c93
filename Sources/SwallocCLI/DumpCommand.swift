import ArgumentParser
import Foundation
import SwallocReport
#if canImport(Glibc)
import Glibc
#endif

/// `swalloc dump PID`: the profile of a running process, now, without
/// stopping or signalling it. A process whose profile goes to a file (under
/// `swalloc run`, or with SWALLOC_OUT) keeps a live profile file mapped
/// (docs/profile-format.md); dump finds it among the process's mappings
/// and reads it.
struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Write the profile of a running process without stopping it.",
        discussion: """
            The process must run under `swalloc run`, or with SWALLOC_OUT set: it then \
            keeps a live profile file beside its profile (PROFILE.live), which dump \
            reads. Counts are as of each thread's last checkpoint (every 64 KiB it \
            allocates); the profile says it is incomplete.
            """)

    @Argument(help: "The process id.")
    var pid: Int32

    @Option(help: "json (default), text, folded, pprof (needs -o) or html (needs -o).")
    var format: ReportCommand.Format = .json

    @Option(name: [.short, .customLong("output")], help: "Write to this file instead of standard output; /dev/stdout, /dev/stderr and /dev/fd/N mean the descriptor.")
    var output: String?

    @Option(help: "For folded: bytes (default), calls, live-bytes or live-allocations.")
    var value: String = "bytes"

    func validate() throws {
        guard pid > 0 else { throw ValidationError("a process id is a positive number") }
        if (format == .pprof || format == .html) && output == nil {
            throw ValidationError("--format \(format.rawValue) writes a file: give it with -o FILE")
        }
        _ = try ProfileInput.metric(value)
        if output?.isEmpty == true { throw ValidationError("-o needs a file name") }
    }

    func run() throws {
        StandardStreams.prepare()
        let destination = try OutputDestination.resolveForCommand(output)
        let path = try Self.liveFile(of: pid)
        let profile: Profile
        do {
            profile = ProfileInput.annotated(try LiveProfile.load(path: path))
        } catch {
            throw ProfileInput.failure(error.description)
        }
        try destination.deliver(try ReportCommand.render(profile, format: format, value: value, file: path))
    }

    /// The live profile file among the process's shared file mappings.
    static func liveFile(of pid: Int32) throws -> String {
        let maps: String
        do {
            maps = try String(contentsOfFile: "/proc/\(pid)/maps", encoding: .utf8)
        } catch {
            if kill(pid, 0) != 0 && errno == ESRCH { throw ProfileInput.failure("no process \(pid)") }
            throw ProfileInput.failure("cannot read the mappings of process \(pid) (another user's?)")
        }
        var deleted = false
        for line in maps.split(separator: "\n") {
            // address perms offset device inode path
            let fields = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard fields.count == 6, fields[1].hasSuffix("s") else { continue }
            var path = fields[5].trimmingCharacters(in: .whitespaces)
            if path.hasSuffix(" (deleted)") {
                path = String(path.dropLast(" (deleted)".count))
                if path.hasSuffix(LiveProfile.suffix) { deleted = true }
                continue
            }
            guard path.hasSuffix(LiveProfile.suffix), let handle = FileHandle(forReadingAtPath: path) else { continue }
            let magic = (try? handle.read(upToCount: 8)) ?? Data()
            try? handle.close()
            if LiveProfile.isLiveProfile(magic) { return path }
        }
        if deleted { throw ProfileInput.failure("process \(pid)'s live profile file was deleted") }
        throw ProfileInput.failure("process \(pid) keeps no live profile: run it under swalloc run, or with SWALLOC_OUT set")
    }
}
