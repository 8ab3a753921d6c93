import Foundation
import XCTest

/// The summary goes to the program's stderr as it was at start-up and
/// nowhere else, and writing it never changes what the program does: its
/// caller's pipes close when the program closes them, its exit status and
/// its descriptors are its own (docs/fork-and-signals.md).
final class ReportChannelTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireBuilt() }

    /// A daemon that detaches (setsid, /dev/null on 0-2) returns to a
    /// caller that captures its output (`x=$(daemon 2>&1)`) as fast as
    /// without the library: it used to wait the daemon's 3 s, for a hidden
    /// copy of stderr. Timed inside bash, around the substitution alone.
    func testDaemonReleasesItsCallersPipe() {
        func milliseconds(_ preload: String) -> Int? {
            let script = "s=$(date +%s%N); x=$(\(preload) '\(Harness.host("descriptors"))' daemon 2>&1); "
                + "e=$(date +%s%N); echo $(( (e - s) / 1000000 ))"
            return Int(Harness.run(["bash", "-c", script], preload: false, timeout: 30)
                .stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        XCTAssertLessThan(milliseconds("") ?? 9999, 1500, "without the library")
        for mode in ServingModes.all {
            let settings = mode.environment.map { "\($0.key)='\($0.value)' " }.joined()
            let elapsed = milliseconds("LD_PRELOAD='\(Harness.library)' \(settings)") ?? 9999
            XCTAssertLessThan(elapsed, 1500, "\(mode.name): the caller waited for the daemon (\(elapsed) ms)")
        }
    }

    /// The report's write to a pipe whose reader has gone neither kills the
    /// program with SIGPIPE nor changes its exit status (stderr alone goes
    /// to the pipe; the program's own output to /dev/null). Not the plug-in
    /// mode: the example plug-in prints its own tally with fprintf at exit,
    /// and that write is the plug-in's, as the program's would be.
    func testClosedPipeKeepsTheExitStatus() {
        for mode in ServingModes.all where mode.name != "off" && mode.name != "plugin" {
            let settings = mode.environment.map { "\($0.key)='\($0.value)' " }.joined()
            let script = "LD_PRELOAD='\(Harness.library)' \(settings)'\(Harness.host("descriptors"))' slow "
                + "2>&1 >/dev/null | true; echo \"status ${PIPESTATUS[0]}\""
            let result = Harness.run(["bash", "-c", script], preload: false, timeout: 30)
            XCTAssertEqual(result.stdout, "status 0\n", "\(mode.name): \(result.stderr)")
        }
    }

    /// A program started with fd 2 closed that then opens a file as fd 2
    /// finds only its own data in the file.
    func testReopenedDescriptorTwoGetsNoReport() throws {
        let directory = Harness.temporaryDirectory(self)
        let file = directory.appendingPathComponent("data").path
        let script = "exec 2>&-; LD_PRELOAD='\(Harness.library)' exec '\(Harness.host("descriptors"))' reopen '\(file)'"
        let result = Harness.run(["bash", "-c", script], preload: false, environment: [:], timeout: 30)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "data\n")
    }

    /// A program's own descriptor at 1000 keeps only its own data, and the
    /// summary still reaches stderr after the program's atexit handler
    /// closed fd 2.
    func testProgramsHighDescriptorIsLeftAlone() throws {
        let directory = Harness.temporaryDirectory(self)
        let file = directory.appendingPathComponent("log").path
        let result = Harness.run([Harness.host("descriptors"), "highlog", file], timeout: 30)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "log\n")
        XCTAssertTrue(result.stderr.contains("swalloc: descriptors [pid"), result.stderr)
    }

    /// Sampling holds no descriptor: libunwind's address test (made at the
    /// first sample, a pipe, kept for the life of the process) answers
    /// without one (unwinder_probe.c). The program's next open() gets the
    /// same descriptor as without the library, and it sees the same
    /// descriptors open, also under a limit of 64 (where a pipe moved high
    /// had to come back low).
    func testSamplingLeavesTheProgramsDescriptorsAlone() {
        for limit in ["", "ulimit -n 64; "] {
            let command = "\(limit)exec '\(Harness.host("descriptors"))' firstfd"
            let plain = Harness.run(["bash", "-c", command], preload: false)
            XCTAssertTrue(plain.stdout.hasPrefix("3\n"), plain.stdout)
            for sample in ["1", "1k"] {
                let preloaded = Harness.run(["bash", "-c", command],
                                            environment: ["SWALLOC_SAMPLE": sample, "SWALLOC_SAMPLE_SEED": "16"],
                                            timeout: 30)
                XCTAssertEqual(preloaded.stdout, plain.stdout, "\(limit)SWALLOC_SAMPLE=\(sample)")
            }
        }
    }

    /// A setting's value is shown escaped: a newline cannot forge another
    /// swalloc: line, an escape sequence cannot reach the terminal.
    func testBadSettingIsEscaped() {
        let result = Harness.run([Harness.host("exit_status")], environment: ["SWALLOC_STATS": "bo\ngus\u{1B}[31m"])
        let line = result.reportLines.first ?? ""
        XCTAssertEqual(String(line), "swalloc: SWALLOC_STATS=bo\\x0agus\\x1b[31m: not one of off, summary, json; using summary")
        XCTAssertFalse(result.stderr.contains("\u{1B}"))
    }
}

/// Setuid and setgid programs (AT_SECURE) ignore every setting an
/// unprivileged user could turn against them, and say so in one line.
final class SecureProgramTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireBuilt() }

    func testSetuidProgramIgnoresFaultInjectionAndLimits() throws {
        guard getuid() == 0 else { throw XCTSkip("making a setuid-root program needs root") }
        let directory = Harness.temporaryDirectory(self)
        let program = directory.appendingPathComponent("secure_host").path
        try FileManager.default.copyItem(atPath: Harness.host("secure_host"), toPath: program)
        XCTAssertEqual(chmod(directory.path, 0o755), 0)
        XCTAssertEqual(chmod(program, 0o4755), 0)
        let profile = directory.appendingPathComponent("p.json").path
        let result = Harness.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                                  "env", "SWALLOC_FAIL=nth:1", "SWALLOC_LIMIT=1", "SWALLOC_OUT=\(profile)",
                                  "SWALLOC_ALLOCATOR=bump", "SWALLOC_SAMPLE_SEED=7", program], preload: false, timeout: 30)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "allocated 100\n", result.stderr)
        XCTAssertEqual(result.reportLines.first.map(String.init),
                       "swalloc: setuid or setgid program: ignoring SWALLOC_ALLOCATOR SWALLOC_LIMIT SWALLOC_FAIL SWALLOC_OUT SWALLOC_SAMPLE_SEED")
        XCTAssertTrue(result.stderr.contains("allocator system"), "statistics stay: \(result.stderr)")
        XCTAssertFalse(FileManager.default.fileExists(atPath: profile), "no file is written")

        // Not setuid: the same settings are honoured (nth:1 fails every allocation).
        XCTAssertEqual(chmod(program, 0o755), 0)
        let plain = Harness.run([program], preload: false, environment: ["SWALLOC_FAIL": "nth:1"], timeout: 30)
        XCTAssertEqual(plain.stdout, "allocated 0\n", plain.stderr)
    }
}
