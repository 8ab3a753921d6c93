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

    static func read() -> Settings {
        var settings = Settings()
        let stats = getenv("SWALLOC_STATS")
        let out = getenv("SWALLOC_OUT")
        if let out, out[0] != 0 { settings.outputPath = UnsafePointer(out) }
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
                Diagnostics.badSetting("SWALLOC_STATS", value: stats,
                                       problem: "not one of off, summary, json",
                                       fallback: "summary")
            }
        } else if settings.outputPath != nil {
            // SWALLOC_OUT alone means: write the profile there.
            settings.statistics = .json
        }
        if let name = getenv("SWALLOC_ALLOCATOR"), name[0] != 0 {
            settings.allocatorName = UnsafePointer(name)
        }
        AllocationPolicy.configure(limit: getenv("SWALLOC_LIMIT"), fail: getenv("SWALLOC_FAIL"))
        Sampler.configure(sample: getenv("SWALLOC_SAMPLE"), depth: getenv("SWALLOC_SAMPLE_DEPTH"))
        return settings
    }
}
