import Foundation
@testable import SwallocReport
import XCTest

/// Mutated profiles through every report and compare format, in process:
/// none may trap, hang or take memory out of proportion. The seeds are the
/// fixture and, when scripts/build has made dist/lib/libswalloc.so, real
/// profiles of python3 run under it. scripts/fuzz-profiles does the same
/// through the swalloc binary, with more cases.
///
/// SWALLOC_FUZZ_SEED and SWALLOC_FUZZ_CASES change the seed and the count.
final class ProfileFuzzTests: XCTestCase {
    static let defaultSeed: UInt64 = 0x5A11_0C_F022
    static let defaultCases = 1_000

    func testMutatedProfilesThroughEveryFormat() throws {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment["SWALLOC_FUZZ_SEED"].flatMap { UInt64($0) } ?? Self.defaultSeed
        let cases = environment["SWALLOC_FUZZ_CASES"].flatMap { Int($0) } ?? Self.defaultCases
        let seeds = try seedProfiles()
        let current = FileManager.default.temporaryDirectory.appendingPathComponent("swalloc-fuzz-current.json")
        print("fuzz: seed \(seed), \(cases) cases from \(seeds.count) seed profiles; a crash leaves its input in \(current.path)")
        let reference = try ProfileFixture.profile()
        var slowest = 0.0, rejected = 0
        let started = Date()
        for index in 0..<cases {
            // Each case from its own generator: case N alone is (seed, N).
            var mutator = ProfileMutator(seed: seed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
            let data = mutator.mutate(seeds[index % seeds.count])
            try data.write(to: current)
            let caseStart = Date()
            do {
                let profile = try Profile.parse(data, path: "case.json")
                try render(profile, against: reference)
            } catch let error as ProfileError {
                rejected += 1
                let line = error.description
                XCTAssertFalse(line.contains("\n"), "seed \(seed) case \(index): a two-line error: \(line)")
            } catch {
                XCTFail("seed \(seed) case \(index): \(error)")
            }
            let seconds = Date().timeIntervalSince(caseStart)
            slowest = max(slowest, seconds)
            if seconds > 10 {
                let saved = FileManager.default.temporaryDirectory.appendingPathComponent("swalloc-fuzz-slow-\(seed)-\(index).json")
                try? data.write(to: saved)
                XCTFail("seed \(seed) case \(index) took \(seconds) s; its input: \(saved.path)")
            }
        }
        try? FileManager.default.removeItem(at: current)
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let megabytes = usage.ru_maxrss / 1024
        print("fuzz: \(cases) cases (\(rejected) rejected with one line) in \(Int(Date().timeIntervalSince(started))) s, slowest \(String(format: "%.2f", slowest)) s, max RSS \(megabytes) MB")
        XCTAssertLessThan(megabytes, 1536, "seed \(seed): memory out of proportion to the inputs")
    }

    /// Every format: report's text, json, folded (each value), pprof, html;
    /// compare's text, json and folded, both ways against the fixture.
    func render(_ profile: Profile, against reference: Profile) throws {
        _ = TextReport.render(profile)
        _ = profile.json()
        if profile.sites != nil {
            for metric in SiteReport.Metric.allCases { _ = SiteReport.folded(profile, metric: metric) }
            _ = try PprofWriter.data(profile)
        }
        _ = HTMLReport.render(profile)
        for (base, new) in [(reference, profile), (profile, reference)] {
            _ = ProfileComparison.render(base: base, new: new, baseName: "base.json", newName: "new.json")
            _ = ProfileComparison.json(base: base, new: new, baseName: "base.json", newName: "new.json")
            _ = ProfileComparison.diffFolded(base: base, new: new)
        }
    }

    /// The fixture, and python3's profiles (every allocation sampled, cut to
    /// 16 sites to keep cases small; and the default sampling) when the
    /// library is built.
    func seedProfiles() throws -> [ProfileMutator.Value] {
        var seeds = [try ProfileMutator.parse(ProfileFixture.data(ProfileFixture.object))]
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let library = root.appendingPathComponent("dist/lib/libswalloc.so").path
        guard FileManager.default.fileExists(atPath: library) else {
            print("fuzz: \(library) is missing (run scripts/build): the fixture is the only seed")
            return seeds
        }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("swalloc-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for sample in ["1", "64k"] {
            let path = directory.appendingPathComponent("python-\(sample).json").path
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-c", "print(1)"]
            var environment = ProcessInfo.processInfo.environment
            environment["LD_PRELOAD"] = library
            environment["SWALLOC_OUT"] = path
            environment["SWALLOC_SAMPLE"] = sample
            // A fixed seed: the 64k profile's sample varies only as python3's requests do.
            environment["SWALLOC_SAMPLE_SEED"] = "16"
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard let data = FileManager.default.contents(atPath: path) else {
                XCTFail("python3 under the library wrote no profile at \(path)")
                continue
            }
            var value = try ProfileMutator.parse(data)
            if case .object(var fields) = value, let index = fields.firstIndex(where: { $0.0 == "sites" }),
               case .array(let sites) = fields[index].1 {
                fields[index].1 = .array(Array(sites.prefix(16)))
                value = .object(fields)
            }
            seeds.append(value)
        }
        return seeds
    }
}
