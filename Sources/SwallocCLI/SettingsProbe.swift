import ArgumentParser
import Foundation

/// Checks `swalloc run`'s settings before the program runs, with the
/// library's own parser (one definition of what each setting accepts): the
/// library is preloaded into `true` with the same SWALLOC_* variables, and
/// each `swalloc: SWALLOC_…` line it prints is a bad setting. Without this,
/// a typo (`--limit 64X`) got one library line per process and the program
/// ran unrestricted.
enum SettingsProbe {
    /// The library's lines about bad settings in `environment` (none: all good).
    static func complaints(environment: [String: String]) throws -> [String] {
        var probe = environment
        probe.removeValue(forKey: "SWALLOC_OUT") // the probe writes no profile
        probe["SWALLOC_STATS"] = probe["SWALLOC_STATS"] ?? "off"
        let program = FileManager.default.isExecutableFile(atPath: "/bin/true") ? "/bin/true" : "/usr/bin/true"
        let data = try ChildProcess.standardError(of: [program], environment: probe)
        return String(decoding: data, as: UTF8.self).split(separator: "\n")
            .filter { $0.hasPrefix("swalloc: SWALLOC_") }.map(String.init)
    }

    /// A usage error (64) when the library complains about `environment`
    /// (only of lines that `counts` keeps): its own lines, already escaped
    /// by it, on stderr.
    static func requireAccepted(environment: [String: String], counts: (String) -> Bool = { _ in true }) throws {
        let complaints = try complaints(environment: environment).filter(counts)
        guard complaints.isEmpty else {
            for line in complaints { _ = try? DescriptorWriter.write(Array((line + "\n").utf8), to: 2) }
            throw ExitCode(64)
        }
    }

    /// A usage error when the arguments captured for the program start
    /// with an option: one swalloc does not know, given before `--`
    /// (`--` itself starts the program's).
    static func rejectUnknownOption(_ first: String?) throws {
        if let first, first.hasPrefix("-"), first != "--" {
            throw ValidationError("unknown option \(first) (swalloc's options come before --, the program after it)")
        }
    }
}
