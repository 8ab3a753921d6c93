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
}
