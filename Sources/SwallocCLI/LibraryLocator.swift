import ArgumentParser
import Foundation

/// Finds the libswalloc.so that belongs with this swalloc: `../lib/` next to
/// the executable's real path (the dist/ layout), else `SWALLOC_LIB`.
enum LibraryLocator {
    static func locate() throws -> String {
        if let explicit = ProcessInfo.processInfo.environment["SWALLOC_LIB"], !explicit.isEmpty {
            guard FileManager.default.fileExists(atPath: explicit) else {
                throw CLIError("SWALLOC_LIB=\(explicit): no such file")
            }
            return URL(fileURLWithPath: explicit).standardizedFileURL.path
        }
        let executable = URL(fileURLWithPath: CommandLine.arguments[0].contains("/")
                              ? CommandLine.arguments[0] : "/proc/self/exe")
        let real = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            .map { URL(fileURLWithPath: $0) } ?? executable.resolvingSymlinksInPath()
        let binDirectory = real.deletingLastPathComponent()
        let candidates = [
            binDirectory.deletingLastPathComponent().appendingPathComponent("lib/libswalloc.so"),
            binDirectory.appendingPathComponent("libswalloc.so"),
        ]
        for candidate in candidates where FileManager.default.fileExists(atPath: candidate.path) {
            return candidate.standardizedFileURL.path
        }
        throw CLIError("cannot find libswalloc.so next to \(real.path) (looked in \(candidates.map(\.path).joined(separator: ", "))); run scripts/build or set SWALLOC_LIB")
    }

    /// Our environment with the library first in LD_PRELOAD (before
    /// whatever the caller preloads already); a usage error when there is
    /// no library to preload.
    static func preloadingEnvironment() throws -> [String: String] {
        let library: String
        do { library = try locate() } catch let error as CLIError {
            throw ValidationError(error.description)
        }
        var environment = ProcessInfo.processInfo.environment
        environment["LD_PRELOAD"] = environment["LD_PRELOAD"].map { $0.isEmpty ? library : "\(library):\($0)" } ?? library
        return environment
    }

    /// The libraries an established allocator needs loaded at start-up,
    /// right after libswalloc.so: jemalloc's initial-exec TLS cannot be
    /// dlopened later (established_allocators.c). libstdc++ goes before it:
    /// Debian's jemalloc also exports C++'s operator new and delete, which
    /// would otherwise allocate behind the library's back (and a block of
    /// theirs, freed through it, has no header): libstdc++'s own operators
    /// call malloc and free, which are the library's.
    static let loadedAtStart: [String: [String]] = ["jemalloc": ["libstdc++.so.6", "libjemalloc.so.2"]]

    /// `environment` with the libraries `allocator` needs at start-up, if
    /// any, in LD_PRELOAD after libswalloc.so.
    static func preloading(_ allocator: String?, in environment: [String: String]) -> [String: String] {
        guard let allocator, let libraries = loadedAtStart[allocator] else { return environment }
        var environment = environment
        var entries = (environment["LD_PRELOAD"] ?? "").split(separator: ":").map(String.init)
        entries.insert(contentsOf: libraries, at: min(1, entries.count))
        environment["LD_PRELOAD"] = entries.joined(separator: ":")
        return environment
    }
}

/// An error the user sees as one `swalloc: …` line.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
