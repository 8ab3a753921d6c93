import Foundation
import SwallocReport
import XCTest

/// The swalloc tool: lib, run, report.
final class CLITests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireTool() }

    func swalloc(_ arguments: [String], environment: [String: String] = [:]) -> Harness.Result {
        Harness.swalloc(arguments, environment: environment)
    }

    func testLibPrintsTheLibraryPath() {
        let result = swalloc(["lib"])
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.stdout, Harness.library + "\n")
    }

    func testRunPassesTheExitStatus() {
        XCTAssertEqual(swalloc(["run", "--stats", "off", "--", "sh", "-c", "exit 7"]).status, 7)
        XCTAssertEqual(swalloc(["run", "--stats", "off", "--", "true"]).status, 0)
    }

    func testRunReportsDeathBySignalAs128PlusN() {
        let result = swalloc(["run", "--stats", "off", "--", "sh", "-c", "kill -KILL $$"])
        XCTAssertEqual(result.status, 128 + 9)
        XCTAssertFalse(result.signaled)
    }

    /// The child traps TERM and says so; swalloc forwards the TERM it gets,
    /// sent as soon as the child announces that the trap is set (no timing
    /// guesses), 20 times: swalloc once died of a TERM that reached one of
    /// its other threads before the handlers were installed, orphaning the
    /// child. The child's loop ends by itself after 30 s, so that an
    /// orphan cannot hold the pipe (and the test) forever.
    func testRunForwardsSignals() {
        let script = "trap 'echo got-term; exit 0' TERM; echo ready; i=0; "
            + "while [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; echo not-forwarded"
        for attempt in 1...20 {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Harness.tool)
            process.arguments = ["run", "--stats", "off", "--", "sh", "-c", script]
            let out = Pipe()
            process.standardOutput = out
            XCTAssertNoThrow(try process.run())
            var seen = Data()
            while !String(decoding: seen, as: UTF8.self).contains("ready\n") {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                seen.append(chunk)
            }
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            seen.append(out.fileHandleForReading.readDataToEndOfFile())
            XCTAssertEqual(process.terminationStatus, 0, "attempt \(attempt)")
            XCTAssertEqual(process.terminationReason, .exit, "attempt \(attempt): swalloc itself was killed")
            XCTAssertEqual(String(decoding: seen, as: UTF8.self), "ready\ngot-term\n", "attempt \(attempt)")
            if process.terminationStatus != 0 { break }
        }
    }

    /// The program starts with the signal dispositions it would have
    /// without swalloc: what the caller ignored (nohup, a shell's
    /// background job) stays ignored, the rest is at its default, glibc's
    /// own signals included. swalloc used to reset SIGINT and SIGHUP to
    /// their default (`nohup swalloc run -- prog` died of a SIGHUP) and
    /// left 32 and 33 ignored.
    func testRunKeepsTheCallersSignalDispositions() {
        // As the harness starts bash (its posix_spawn leaves glibc's 32
        // and 33 ignored), and from signal_defaults, with every signal at
        // its default, as a login shell has them.
        for launcher in [[], [Harness.host("signal_defaults")]] {
            for traps in ["", "trap '' INT HUP QUIT USR1; "] {
                let plain = Harness.run(launcher + ["bash", "-c", traps + "exec grep -E 'Sig(Ign|Cgt)' /proc/self/status"],
                                        preload: false)
                let run = Harness.run(launcher + ["bash", "-c", traps
                                        + "exec '\(Harness.tool)' run --stats off -- grep -E 'Sig(Ign|Cgt)' /proc/self/status"],
                                      preload: false)
                XCTAssertTrue(plain.stdout.contains("SigIgn:"), plain.stdout)
                XCTAssertEqual(run.stdout, plain.stdout, "\(launcher) \(traps)")
            }
        }
        // Ignored by the caller: a SIGHUP to swalloc and to the program
        // ends neither.
        let script = "trap '' HUP; '\(Harness.tool)' run --stats off -- sh -c 'kill -HUP $PPID; kill -HUP $$; echo alive'"
        let result = Harness.run(["bash", "-c", script], preload: false)
        XCTAssertEqual(result.stdout, "alive\n", result.stderr)
        XCTAssertEqual(result.status, 0)
    }

    /// Usage errors are one `swalloc:` line and status 64, before anything
    /// runs: an unknown option before `--` (it used to be run as the
    /// program, 127), the parser's own errors (they were three lines,
    /// `Error:` and the usage), a negative number (the parser said the
    /// value was missing; the library now says what is wrong with it).
    func testUsageErrorsAreOneLine() {
        let marker = Harness.temporaryDirectory(self).appendingPathComponent("ran").path
        let cases: [([String], String)] = [
            (["run", "--bogus", "--", "touch", marker], "unknown option --bogus"),
            (["run", "--interval", "5ms", "--", "touch", marker], "--interval 5ms"),
            (["run", "--sample", "-5", "--", "touch", marker], "SWALLOC_SAMPLE=-5"),
            (["run", "--limit", "-1M", "--", "touch", marker], "SWALLOC_LIMIT=-1M"),
            (["report", "--format", "pprof", marker], "-o FILE"),
            (["report", "--pid", "-3", marker], "--pid -3"),
            (["report", "--format", "svg", marker], "svg"),
            (["compare", marker], "give two profiles"),
            (["compare", "--allocator", "bump", "--bogus", "--", "touch", marker], "unknown option --bogus"),
        ]
        for (arguments, expected) in cases {
            let result = swalloc(arguments)
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.hasPrefix("swalloc: "), "\(arguments): \(result.stderr)")
            XCTAssertTrue(result.stderr.contains(expected), "\(arguments): \(result.stderr)")
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "a program ran")
    }

    /// A program that is there but cannot run: the shell's message and
    /// status (126), before a run directory is made; one that is not
    /// there: 127.
    func testRunProgramThatCannotRun() throws {
        let directory = Harness.temporaryDirectory(self)
        let plain = directory.appendingPathComponent("not-executable")
        try "echo hi\n".write(to: plain, atomically: true, encoding: .utf8)
        for (program, reason, status) in [(plain.path, "Permission denied", Int32(126)),
                                          (directory.path, "Is a directory", 126),
                                          (directory.appendingPathComponent("missing").path, "No such file or directory", 127)] {
            for options in [["--run-dir", directory.appendingPathComponent("run").path], ["--stats", "off"]] {
                let result = swalloc(["run"] + options + ["--", program])
                XCTAssertEqual(result.status, status, "\(program) \(options): \(result.stderr)")
                XCTAssertEqual(result.stderr, "swalloc: cannot run \(program): \(reason)\n", "\(program) \(options)")
            }
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("run").path))
    }

    func testRunUnknownProgram() {
        let result = swalloc(["run", "--", "/nonexistent/program"])
        XCTAssertEqual(result.status, 127)
        XCTAssertTrue(result.stderr.hasPrefix("swalloc: cannot run /nonexistent/program"), result.stderr)
    }

    func testRunWithoutProgramIsAUsageError() {
        let result = swalloc(["run"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("no program given"), result.stderr)
    }

    /// run --out, then report: the whole round trip.
    func testRunThenReport() throws {
        let directory = Harness.temporaryDirectory(self)
        let path = directory.appendingPathComponent("p.json").path
        // Every allocation sampled: sites always there (the default rate
        // sampled one in some runs and none in others).
        let run = swalloc(["run", "--out", path, "--sample", "1", "--", Harness.host("workload"), "100", "5"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let text = swalloc(["report", path])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("workload [pid"), text.stdout)
        XCTAssertTrue(text.stdout.contains("request sizes"), text.stdout)
        XCTAssertTrue(text.stdout.contains("█"), text.stdout)
        let json = swalloc(["report", "--format", "json", path])
        XCTAssertEqual(json.status, 0)
        // The profile, with the source lines the report adds.
        let original = try Profile.load(path: path)
        XCTAssertNotNil(original.sites)
        XCTAssertEqual(try Profile.parse(Data(json.stdout.utf8), path: "stdout"), SourceLines.annotated(original))
    }

    /// The tester's options: --limit and --fail set the wrappers (as
    /// SWALLOC_LIMIT and SWALLOC_FAIL do), --sample the sampling; a bad
    /// value gets the library's swalloc: line, and nothing runs (64).
    func testRunSetsLimitsFaultsAndSampling() throws {
        let limited = swalloc(["run", "--stats", "off", "--limit", "64M", "--", Harness.host("guard_faults"), "limit"])
        XCTAssertEqual(limited.status, 0, limited.stderr)
        let blocks = Int(limited.stdout.split(separator: " ").first?.dropFirst("blocks=".count) ?? "") ?? -1
        XCTAssertTrue((56...64).contains(blocks), limited.stdout)
        let failing = swalloc(["run", "--stats", "off", "--fail", "nth:100", "--", Harness.host("guard_faults"), "fail"])
        XCTAssertEqual(failing.stdout, "failed=10\n", failing.stderr)
        let path = Harness.temporaryDirectory(self).appendingPathComponent("p.json").path
        let sampled = swalloc(["run", "--sample", "1", "--sample-depth", "8", "--out", path, "--", Harness.host("callsites")])
        XCTAssertEqual(sampled.status, 0, sampled.stderr)
        let profile = try Profile.load(path: path)
        XCTAssertEqual(profile.sampling?.meanBytes, 1)
        XCTAssertEqual(profile.sampling?.depth, 8)
        let bad = swalloc(["run", "--stats", "off", "--fail", "sometimes", "--", Harness.host("guard_faults"), "fail"])
        XCTAssertEqual(bad.status, 64)
        XCTAssertEqual(bad.stdout, "")
        XCTAssertTrue(bad.stderr.hasPrefix("swalloc: SWALLOC_FAIL=sometimes: "), bad.stderr)
    }

    func testHelpIsHelpWhereTheProgramWouldBe() {
        for command in ["run", "compare"] {
            let result = swalloc([command, "--help"])
            XCTAssertEqual(result.status, 0, command)
            XCTAssertTrue(result.stdout.hasPrefix("OVERVIEW: "), result.stdout)
        }
    }

    func testReportRejectsBadFilesWithOneLine() throws {
        let directory = Harness.temporaryDirectory(self)
        func file(_ name: String, _ contents: String) throws -> String {
            let url = directory.appendingPathComponent(name)
            try contents.write(to: url, atomically: true, encoding: .utf8)
            return url.path
        }
        let valid = try String(contentsOfFile: try {
            let path = directory.appendingPathComponent("valid.json").path
            _ = swalloc(["run", "--out", path, "--", "true"])
            return path
        }(), encoding: .utf8)
        let cases: [(String, String)] = [
            (directory.appendingPathComponent("missing.json").path, "cannot read"),
            (try file("truncated.json", String(valid.prefix(valid.count / 2))), "invalid or truncated JSON"),
            (try file("future.json", valid.replacingOccurrences(of: "\"version\": 1", with: "\"version\": 99")), "version 99"),
            (try file("text.json", "hello"), "not a swalloc profile"),
            (try file("other.json", "{\"version\": 1, \"pid\": 3}"), "missing key"),
            (try file("empty.json", ""), "not a swalloc profile"),
            // A directory with neither run.json nor a profile: an error,
            // not "0 processes profiled".
            ({ let empty = directory.appendingPathComponent("empty-directory")
               try? FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
               return empty.path }(), "not a run directory"),
        ]
        for (path, expected) in cases {
            let result = swalloc(["report", path])
            XCTAssertEqual(result.status, 2, path)
            XCTAssertEqual(result.stdout, "", path)
            XCTAssertEqual(result.stderr.split(separator: "\n").count, 1, "\(path): \(result.stderr)")
            XCTAssertTrue(result.stderr.hasPrefix("swalloc: "), result.stderr)
            XCTAssertTrue(result.stderr.contains(expected), "\(path): \(result.stderr)")
        }
    }
}

/// A bad setting given to `swalloc run` is a usage error before the
/// program runs, with the library's own line (issue #12's typos).
final class RunSettingsTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireTool() }

    func testBadSettingsStopTheRunBeforeTheProgram() throws {
        let directory = Harness.temporaryDirectory(self)
        let marker = directory.appendingPathComponent("ran").path
        for (option, value, variable) in [("--limit", "64X", "SWALLOC_LIMIT"), ("--fail", "bogus", "SWALLOC_FAIL"),
                                          ("--allocator", "gaurd", "SWALLOC_ALLOCATOR"),
                                          ("--sample", "abc", "SWALLOC_SAMPLE")] {
            let result = Harness.swalloc(["run", option, value, "--", "touch", marker])
            XCTAssertEqual(result.status, 64, "\(option) \(value): \(result.stderr)")
            XCTAssertTrue(result.stderr.hasPrefix("swalloc: \(variable)=\(value): "), result.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "\(option) \(value): the program ran")
        }
        let off = Harness.swalloc(["run", "--stats", "off", "--out", directory.path + "/p.json", "--", "true"])
        XCTAssertEqual(off.status, 64, off.stderr)
        let good = Harness.swalloc(["run", "--limit", "64M", "--sample", "0", "--", "touch", marker])
        XCTAssertEqual(good.status, 0, good.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: marker))
    }
}
