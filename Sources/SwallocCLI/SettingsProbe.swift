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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: FileManager.default.isExecutableFile(atPath: "/bin/true")
            ? "/bin/true" : "/usr/bin/true")
        process.environment = probe
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let data = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n")
            .filter { $0.hasPrefix("swalloc: SWALLOC_") }.map(String.init)
    }
}
