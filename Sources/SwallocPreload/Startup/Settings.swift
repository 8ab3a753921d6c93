import CSwallocPreload

/// What `SWALLOC_STATS` asks for.
enum StatisticsMode: UInt8 {
    case off, summary, json
}

/// The `SWALLOC_*` settings, read once by the constructor with `getenv`
/// (which allocates nothing). A bad value gets one `swalloc:` line naming
/// the variable, and the default is used.
struct Settings {
    var statistics: StatisticsMode = .summary
    /// `SWALLOC_OUT`: where the JSON profile goes (`%p` → pid); nil: stderr.
    var outputPath: UnsafePointer<CChar>? = nil
    /// Also print the summary when the JSON profile goes to a file.
    var summaryWithProfile = false
    var allocatorName: UnsafePointer<CChar>? = nil

    /// What a setuid or setgid program (`AT_SECURE`) ignores, as glibc
    /// ignores its own `MALLOC_*` settings there: everything an
    /// unprivileged user could turn against the program (failures, limits,
    /// another allocator's code, files written with its privileges, and
    /// the profile's absolute addresses). Statistics stay: `summary` on
    /// stderr, which holds no address (`json` becomes `summary`).
    static let ignoredWhenSecure: [StaticString] = [
        "SWALLOC_ALLOCATOR", "SWALLOC_LIMIT", "SWALLOC_FAIL", "SWALLOC_OUT", "SWALLOC_SAMPLE", "SWALLOC_SAMPLE_DEPTH",
        "SWALLOC_SAMPLE_SEED", "SWALLOC_GUARD", "SWALLOC_CHILDREN", "SWALLOC_RUN_PARENT",
    ]

    static func read() -> Settings {
        if Startup.isSecure { return readSecure() }
        var settings = Settings()
        let stats = getenv("SWALLOC_STATS")
        let out = getenv("SWALLOC_OUT")
        if let out, out[0] != 0 {
            // A copy: the environment's string may be overwritten later.
            let copy = swalloc_path_buffer(SWALLOC_OUT_TEMPLATE)
            let length = CString.length(out)
            if length < Int(SWALLOC_PATH_BYTES) {
                // Unsafe: the buffer holds SWALLOC_PATH_BYTES > length + 1 bytes.
                _ = memcpy(copy, out, length &+ 1)
                settings.outputPath = UnsafePointer(copy)
            } else {
                Diagnostics.badSetting(SettingsTable.output, value: out)
            }
        }
        if let stats {
            if CString.equals(stats, "off") {
                settings.statistics = .off
            } else if CString.equals(stats, "summary") {
                settings.statistics = .summary
                // Explicitly asked for both: summary on stderr, profile in the file.
                settings.summaryWithProfile = settings.outputPath != nil
            } else if CString.equals(stats, "json") {
                settings.statistics = .json
            } else {
                Diagnostics.badSetting(SettingsTable.statistics, value: stats)
            }
        } else if settings.outputPath != nil {
            // SWALLOC_OUT alone means: write the profile there.
            settings.statistics = .json
        }
        // A process its swalloc run does not select writes nothing, not even
        // a line about its settings (the run's main process says those).
        let selected = RunSelection.selectsThisProcess()
        if !selected {
            settings.statistics = .off
            settings.outputPath = nil
            settings.summaryWithProfile = false
        }
        if let name = getenv("SWALLOC_ALLOCATOR"), name[0] != 0 {
            settings.allocatorName = UnsafePointer(name)
        }
        GuardSampling.configure(getenv("SWALLOC_GUARD"),
                                allocatorIsGuard: settings.allocatorName.map { CString.equals($0, "guard") } ?? false,
                                statistics: settings.statistics != .off, quiet: !selected)
        AllocationPolicy.configure(limit: getenv("SWALLOC_LIMIT"), fail: getenv("SWALLOC_FAIL"))
        Sampler.configure(sample: getenv("SWALLOC_SAMPLE"), depth: getenv("SWALLOC_SAMPLE_DEPTH"),
                          seed: getenv("SWALLOC_SAMPLE_SEED"))
        // Sampling rides on the statistics' checkpoint: asked for with them
        // off (guard's reports then have no "allocated at"), it is said, as
        // the sampled guard's setting is. A bad value had its own line.
        if settings.statistics == .off && selected, let sample = getenv("SWALLOC_SAMPLE"), sample[0] != 0,
           let bytes = SizeParser.parse(sample), bytes > 0 {
            Diagnostics.ignoredSetting(SettingsTable.sample.variable, value: sample,
                                       because: "sampling needs the statistics (SWALLOC_STATS summary or json)")
        }
        return settings
    }

    /// `AT_SECURE`: `SWALLOC_STATS` alone (off or summary), sampling off,
    /// and one line naming the settings that were given and ignored.
    static func readSecure() -> Settings {
        var settings = Settings()
        if let stats = getenv("SWALLOC_STATS"), CString.equals(stats, "off") { settings.statistics = .off }
        Sampler.configure(sample: CString.pointer("0"), depth: nil, seed: nil)
        let given = { (name: StaticString) in getenv(CString.pointer(name)) != nil }
        guard ignoredWhenSecure.contains(where: given) else { return settings }
        Diagnostics.line { out in
            out.text("setuid or setgid program: ignoring")
            for name in ignoredWhenSecure where given(name) {
                out.text(" ")
                out.text(name)
            }
        }
        return settings
    }
}
