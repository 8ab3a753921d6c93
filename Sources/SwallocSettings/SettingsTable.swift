/// One definition of each `SWALLOC_*` setting: the variable, the
/// `swalloc run` option that sets it, what it is for, what a bad value is
/// told, and what applies when it is unset or bad.
///
/// Compiled twice: into the preload library (scripts/build lists this file
/// with the library's sources; Embedded Swift, so only `StaticString`s and
/// computed properties, no global storage to initialise) and into the CLI
/// (the SwiftPM target `SwallocSettings`), whose `swalloc run --help` is
/// written from it. The library's complaint about a bad value reads
/// `swalloc: VARIABLE=value: <complaint>; using <unset>`.
public struct SettingDescription: Sendable {
    /// `SWALLOC_…`.
    public let variable: StaticString
    /// The `swalloc run` option without its dashes (`""`: none).
    public let option: StaticString
    /// What the setting is for, and the values it takes.
    public let summary: StaticString
    /// What the library says of a value it cannot use.
    public let complaint: StaticString
    /// What applies when the setting is unset or its value bad; for the
    /// settings with a default value, the value itself, which the library
    /// parses as it would the setting.
    public let unset: StaticString
}

public enum SettingsTable {
    public static var statistics: SettingDescription {
        SettingDescription(variable: "SWALLOC_STATS", option: "stats",
                           summary: "Statistics: off, summary (text on stderr at exit) or json.",
                           complaint: "not one of off, summary, json", unset: "summary")
    }
    public static var output: SettingDescription {
        SettingDescription(variable: "SWALLOC_OUT", option: "out",
                           summary: "Write the JSON profile to this path; %p becomes the pid.",
                           complaint: "path too long", unset: "no profile file")
    }
    public static var allocator: SettingDescription {
        SettingDescription(variable: "SWALLOC_ALLOCATOR", option: "allocator",
                           summary: "The global allocator: system, bump, guard, jemalloc, mimalloc, tcmalloc, or a plug-in .so's path.",
                           complaint: "no such allocator (built-in: system, bump, guard, jemalloc, mimalloc, tcmalloc; or a plug-in's path)",
                           unset: "system")
    }
    public static var guardPlacement: SettingDescription {
        SettingDescription(variable: "SWALLOC_GUARD", option: "guard",
                           summary: "Guard pages: sample:1/N moves about one allocation in N (sample:BYTES: one per BYTES allocated) to guard pages under any allocator; exact ends guarded blocks right at the guard page, not 16-aligned; below puts the guard page before each block instead, with SWALLOC_STATS=off (comma-separated).",
                           complaint: "expected exact, below, sample:BYTES or sample:1/N (comma-separated)",
                           unset: "no sampled guard, the aligned placement")
    }
    public static var limit: SettingDescription {
        SettingDescription(variable: "SWALLOC_LIMIT", option: "limit",
                           summary: "Cap the program's live bytes, like 64M: past it allocations fail with ENOMEM.",
                           complaint: "not a size (like 64M, 2G or 1048576)", unset: "no limit")
    }
    public static var fail: SettingDescription {
        SettingDescription(variable: "SWALLOC_FAIL", option: "fail",
                           summary: "Inject allocation failures, like nth:100 or random:5,seed:7.",
                           complaint: "expected nth:N, after:N, random:PERCENT, seed:S, size:BYTES (comma-separated)",
                           unset: "no fault injection")
    }
    public static var sample: SettingDescription {
        SettingDescription(variable: "SWALLOC_SAMPLE", option: "sample",
                           summary: "Mean bytes between sampled call sites: 0 off, 1 every allocation, like 512k.",
                           complaint: "not a number of bytes (0 off, 1 every allocation, like 512k)", unset: "512k")
    }
    public static var sampleDepth: SettingDescription {
        SettingDescription(variable: "SWALLOC_SAMPLE_DEPTH", option: "sample-depth",
                           summary: "Frames kept per sampled stack, 1 to 64.",
                           complaint: "not a depth from 1 to 64", unset: "32")
    }
    public static var children: SettingDescription {
        SettingDescription(variable: "SWALLOC_CHILDREN", option: "children",
                           summary: "Which processes besides the program are profiled: all, none, or those running the program NAME.",
                           complaint: "not all, none or a program's name", unset: "all")
    }
    /// Set by swalloc run to its pid: the process whose parent it is, is
    /// the run's main program. Not an option.
    public static var runParent: SettingDescription {
        SettingDescription(variable: "SWALLOC_RUN_PARENT", option: "",
                           summary: "Set by swalloc run: its own pid.",
                           complaint: "not a process id", unset: "no run")
    }
    public static var sampleSeed: SettingDescription {
        SettingDescription(variable: "SWALLOC_SAMPLE_SEED", option: "",
                           summary: "A seed that makes sampling draw the same gaps in every run.",
                           complaint: "not a decimal number from 0 to 18446744073709551615",
                           unset: "seeds that differ from run to run")
    }
}
