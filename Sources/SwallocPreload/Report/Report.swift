import CSwallocPreload

/// The exit report: a summary on stderr and/or the JSON profile.
///
/// Written once per process (claimed atomically, so an `exit` racing on two
/// threads writes one), from static storage with `write(2)`: the report
/// allocates nothing through the interposer. Not written on `_exit`,
/// `abort` or a fatal signal: see docs/architecture.md.
enum Report {
    /// Where the summary goes, and why not a copy of stderr made at
    /// start-up: swalloc_stderr.h. A program that exits without main
    /// returning or calling exit (glibc's own exit calls, `exit` from a
    /// library's internal call) is seen only at the report: its summary
    /// still reaches fd 2 if fd 2 is still the original stderr.
    static func atExit() {
        guard statisticsEnabled, swalloc_claim_report() else { return }
        // Everything the report does is the library's own work.
        Reentrancy.enter()
        defer { Reentrancy.leave() }
        swalloc_stderr_keep_for_exit()
        var pipeGuard = swalloc_sigpipe_guard()
        swalloc_sigpipe_block(&pipeGuard)
        defer { swalloc_sigpipe_restore(&pipeGuard) }
        let profile = ReportSnapshot.collect()
        let settings = Startup.settings
        let stderr = Diagnostics.fd
        if settings.statistics == .summary && stderr >= 0 {
            SummaryWriter.write(profile, to: stderr)
        }
        if settings.statistics == .json || settings.summaryWithProfile {
            if let path = settings.outputPath {
                LiveProfile.finish(profileWritten: ProfileFile.write(profile, to: path))
            } else if stderr >= 0 {
                var out = ReportSnapshot.buffer(fd: stderr)
                JSONProfileWriter.write(profile, to: &out)
                out.flush()
            }
        }
    }
}
