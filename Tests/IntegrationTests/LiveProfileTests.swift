import Foundation
import SwallocReport
import XCTest

/// The live profile (issue #12, items 2 and 3): a process that dies in any
/// way leaves its counts and sites; a running one can be dumped; a run can
/// take snapshots at an interval (docs/profile-format.md, "The live
/// profile").
final class LiveProfileTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireBuilt() }

    /// The host allocates 2,000 blocks of 1,000 bytes from leak_here():
    /// the counts may lag by one checkpoint (64 KiB a thread allocates).
    func assertCountsOfTheKeptBlocks(_ profile: Profile, _ name: String, file: StaticString = #filePath, line: UInt = #line) {
        let t = profile.totals
        XCTAssertFalse(profile.complete, name, file: file, line: line)
        XCTAssertNotNil(profile.incompleteReason, name, file: file, line: line)
        XCTAssertLessThanOrEqual(t.bytesAllocated, 2_000_000 + 100_000, name, file: file, line: line)
        XCTAssertGreaterThanOrEqual(t.bytesAllocated, 2_000_000 - 65_536, name, file: file, line: line)
        XCTAssertGreaterThanOrEqual(t.allocations, 2_000 - 66, name, file: file, line: line)
        let leakSite = profile.sites?.first { site in site.frames.contains { $0.function == "leak_here" } }
        XCTAssertNotNil(leakSite, "\(name): no site names leak_here", file: file, line: line)
        XCTAssertGreaterThanOrEqual(leakSite?.calls ?? 0, 2_000 - 66, name, file: file, line: line)
    }

    /// segv, abort, _exit(3), SIGTERM and SIGKILL: swalloc run exits as the
    /// program did, and the run directory holds its profile, incomplete.
    func testEveryDeathLeavesAProfileInTheRun() throws {
        let expected: [(String, Int32)] = [("segv", 128 + SIGSEGV), ("abort", 128 + SIGABRT), ("exit3", 3),
                                           ("term", 128 + SIGTERM), ("kill", 128 + SIGKILL)]
        for (way, status) in expected {
            let directory = Harness.temporaryDirectory(self).appendingPathComponent("run")
            let result = Harness.swalloc(["run", "--sample", "1", "--run-dir", directory.path, "--",
                                          Harness.host("ending"), way])
            XCTAssertEqual(result.status, status, "\(way): \(result.stderr.suffix(1500))")
            let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            XCTAssertFalse(names.contains { $0.hasSuffix(".live") }, "\(way): \(names)")
            guard let name = names.first(where: { $0 != "run.json" && $0.hasSuffix(".json") }) else {
                XCTFail("\(way): no profile in \(names)")
                continue
            }
            let profile = try Profile.load(path: directory.appendingPathComponent(name).path)
            assertCountsOfTheKeptBlocks(profile, way)
            // Private, as the profiles the library writes (it was 0644).
            let mode = try FileManager.default.attributesOfItem(atPath: directory.appendingPathComponent(name).path)[.posixPermissions] as? Int
            XCTAssertEqual(mode, 0o600, way)
            XCTAssertTrue(result.stderr.contains(" *"), "\(way): the summary marks it: \(result.stderr.prefix(600))")
            // swalloc report names the site with its source line.
            let report = Harness.swalloc(["report", directory.path, "--pid", String(profile.pid)])
            XCTAssertEqual(report.status, 0, report.stderr)
            XCTAssertTrue(report.stdout.contains("leak_here  ending.c:"), "\(way): \(report.stdout.suffix(1200))")
        }
    }

    /// A forked child that allocates one small block and leaves by _exit
    /// has its row and its profile, with its own counts: it makes its
    /// file, and publishes its totals, in _exit (it used to wait for its
    /// first 64 KiB step, and with the default sampling such a child had
    /// no row). Every allocation sampled, it made it at that allocation
    /// already, and one that aborts has its row too.
    func testForkedChildThatDiesEarlyHasItsRow() throws {
        for (way, samplings) in [("exit3", [[], ["--sample", "1"]]), ("abort", [["--sample", "1"]])] {
            for sampling in samplings {
                let name = "\(way) \(sampling)"
                let directory = Harness.temporaryDirectory(self).appendingPathComponent("run")
                let result = Harness.swalloc(["run"] + sampling + ["--run-dir", directory.path, "--",
                                              Harness.host("ending"), "forked", way])
                XCTAssertEqual(result.status, 0, "\(name): \(result.stderr.suffix(800))")
                XCTAssertTrue(result.stderr.contains("2 processes profiled"), "\(name): \(result.stderr.prefix(800))")
                let profiles = try FileManager.default.contentsOfDirectory(atPath: directory.path)
                    .filter { $0 != "run.json" && $0.hasSuffix(".json") }
                    .map { try Profile.load(path: directory.appendingPathComponent($0).path) }
                XCTAssertEqual(profiles.count, 2, name)
                let parent = profiles.first { $0.totals.bytesAllocated == 10_000 }
                let child = profiles.first { $0.ppid == parent?.pid }
                XCTAssertEqual(child?.totals.allocations, 1, name)
                XCTAssertEqual(child?.totals.bytesAllocated, 100, name)
                XCTAssertEqual(child?.totals.inheritedLiveBytes, 10_000, name)
            }
        }
    }

    /// Without swalloc run: SWALLOC_OUT's path with .live stays behind a
    /// killed process and `swalloc report` reads it; a normal exit writes
    /// the profile and removes the file.
    func testLiveFileBesideTheProfile() throws {
        let directory = Harness.temporaryDirectory(self)
        let killed = Harness.run([Harness.host("ending"), "kill"],
                                 environment: ["SWALLOC_OUT": directory.path + "/p.%p.json", "SWALLOC_SAMPLE": "1"])
        XCTAssertTrue(killed.signaled && killed.status == SIGKILL, "\(killed.status)")
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        XCTAssertEqual(left.count, 1, "\(left)")
        XCTAssertTrue(left.first?.hasSuffix(".json.live") == true, "\(left)")
        let live = directory.appendingPathComponent(left[0]).path
        assertCountsOfTheKeptBlocks(try Profile.load(path: live), "kill")
        let text = Harness.swalloc(["report", live])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("(incomplete)"), text.stdout)
        XCTAssertTrue(text.stdout.contains("incomplete: the process ended without its exit report"), text.stdout)

        let other = Harness.temporaryDirectory(self)
        let normal = Harness.run([Harness.host("ending"), "return"], environment: ["SWALLOC_OUT": other.path + "/p.%p.json"])
        XCTAssertEqual(normal.status, 0, normal.stderr)
        let written = try FileManager.default.contentsOfDirectory(atPath: other.path)
        XCTAssertEqual(written.count, 1, "\(written)")
        XCTAssertTrue(written.first?.hasSuffix(".json") == true, "\(written)")
        XCTAssertTrue(try Profile.load(path: other.appendingPathComponent(written[0]).path).complete)
    }

    /// `swalloc dump PID` reads a running process twice: each a valid
    /// profile, the second no smaller than the first, both between the
    /// start (the 2,000 kept blocks) and the end (the final profile).
    func testDumpReadsARunningProcess() throws {
        let directory = Harness.temporaryDirectory(self)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Harness.host("ending"))
        process.arguments = ["serve", "3"]
        var environment = ProcessInfo.processInfo.environment
        environment["LD_PRELOAD"] = Harness.library
        environment["SWALLOC_OUT"] = directory.path + "/p.%p.json"
        environment["SWALLOC_SAMPLE"] = "1"
        process.environment = environment
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        usleep(700_000)
        var dumps: [Profile] = []
        for _ in 0..<2 {
            let dump = Harness.swalloc(["dump", String(process.processIdentifier)])
            XCTAssertEqual(dump.status, 0, dump.stderr)
            dumps.append(try Profile.parse(Data(dump.stdout.utf8), path: "dump"))
            usleep(500_000)
        }
        let text = Harness.swalloc(["dump", String(process.processIdentifier), "--format", "text"])
        XCTAssertTrue(text.stdout.contains("a running process"), text.stdout.prefix(400).description)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        XCTAssertEqual(names, ["p.\(process.processIdentifier).json"])
        let final = try Profile.load(path: directory.appendingPathComponent(names[0]).path)
        for dump in dumps {
            XCTAssertFalse(dump.complete)
            XCTAssertGreaterThanOrEqual(dump.totals.allocations, 2_000 - 66)
            XCTAssertLessThanOrEqual(dump.totals.allocations, final.totals.allocations)
        }
        XCTAssertLessThanOrEqual(dumps[0].totals.allocations, dumps[1].totals.allocations)
        XCTAssertGreaterThan(dumps[1].totals.allocations, dumps[0].totals.allocations, "the server kept allocating")
    }

    /// dump of a process without a live profile, or of no process: one line, exit 2.
    func testDumpWithoutALiveProfile() {
        let none = Harness.swalloc(["dump", String(getpid())])
        XCTAssertEqual(none.status, 2)
        XCTAssertTrue(none.stderr.hasPrefix("swalloc: process \(getpid()) keeps no live profile"), none.stderr)
        let gone = Harness.swalloc(["dump", "999999999"])
        XCTAssertNotEqual(gone.status, 0)
        XCTAssertEqual(Harness.swalloc(["dump", "0"]).status, 64)
        XCTAssertEqual(Harness.swalloc(["run", "--interval", "fast", "--", "true"]).status, 64)
        XCTAssertEqual(Harness.swalloc(["run", "--interval", "1s", "--out", "x.json", "--", "true"]).status, 64)
    }

    /// --interval 250ms over a 2-second server: about 8 snapshots, each a
    /// valid profile of the running process.
    func testIntervalSnapshots() throws {
        let directory = Harness.temporaryDirectory(self).appendingPathComponent("run")
        let result = Harness.swalloc(["run", "--interval", "250ms", "--run-dir", directory.path, "--",
                                      Harness.host("ending"), "serve", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let snapshots = directory.appendingPathComponent("snapshots")
        let names = (try? FileManager.default.contentsOfDirectory(atPath: snapshots.path)) ?? []
        XCTAssertGreaterThanOrEqual(names.count, 4, "\(names)")
        XCTAssertLessThanOrEqual(names.count, 10, "\(names)")
        var previous: UInt64 = 0
        for number in 1...names.count {
            guard let name = names.first(where: { $0.hasSuffix(".\(number).json") }) else {
                XCTFail("snapshot \(number) missing: \(names)")
                continue
            }
            let profile = try Profile.load(path: snapshots.appendingPathComponent(name).path)
            XCTAssertFalse(profile.complete)
            XCTAssertGreaterThanOrEqual(profile.totals.allocations, previous)
            previous = profile.totals.allocations
        }
        // The run itself still reads as one process, complete.
        let run = try RunDirectory.load(path: directory.path)
        XCTAssertEqual(run.profiles.count, 1)
        XCTAssertTrue(run.profiles.first?.complete == true)
    }
}
