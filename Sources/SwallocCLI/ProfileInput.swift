import ArgumentParser
import Foundation
import SwallocReport

/// What `swalloc report` and `swalloc compare` share in reading profiles
/// and their options: every failure is one `swalloc:` line and exit status 2
/// (FailureStatus.input).
enum ProfileInput {
    /// The profile at `path`.
    static func load(_ path: String) throws -> Profile {
        do {
            return annotated(try Profile.load(path: path))
        } catch {
            throw failure(error.description)
        }
    }

    /// The profile with source lines; a module whose file changed since the
    /// run (its build-id differs) gets none, and one line says so.
    static func annotated(_ profile: Profile) -> Profile {
        let (annotated, changed) = SourceLines.annotatedReportingChanges(profile)
        for module in changed {
            StandardStreams.diagnose("no source lines for \(module): the file changed since the run (its build-id differs)")
        }
        return annotated
    }

    /// Call sites are in the profile (sampling was on when it was written).
    static func requireSites(_ profile: Profile, path: String) throws {
        if profile.sites == nil { throw failure("\(path) has no call sites (sampling was off)") }
    }

    /// The `--value` option, checked in `validate()`.
    static func metric(_ value: String) throws -> SiteReport.Metric {
        guard let metric = SiteReport.Metric(rawValue: value) else {
            throw ValidationError("--value must be one of \(SiteReport.Metric.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return metric
    }

    /// Prints the line; the caller throws what this returns.
    static func failure(_ message: String) -> ExitCode {
        StandardStreams.diagnose(message)
        return FailureStatus.input
    }
}
