import XCTest

/// The project's own host programs: threads, fork, C++ unwinding, Swift,
/// unusual exits.
final class HostProgramTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireBuilt() }

    func testThreadedStressWithForkIsUnchanged() {
        for stats in ["off", "summary"] {
            let result = assertSameBehaviour([Harness.host("stress"), "4", "100000", "20"], stats: stats, timeout: 180)
            XCTAssertTrue(result.stdout.contains("children_ok=20/20"), result.stdout)
        }
    }

    /// Many more threads than cores, sampling often (every 4 KiB: the
    /// sampler's lock is taken thousands of times) and scanning for the
    /// peak: same checksum, no hang while the kernel preempts lock holders.
    func testOversubscribedThreadsWithFrequentSampling() {
        let result = assertSameBehaviour([Harness.host("stress"), "32", "5000", "2"],
                                         environment: ["SWALLOC_SAMPLE": "4k", "SWALLOC_SAMPLE_SEED": "16"],
                                         stats: "summary", timeout: 180)
        XCTAssertTrue(result.stdout.contains("children_ok=2/2"), result.stdout)
    }

    func testCxxExceptionsAndForcedUnwinding() {
        for stats in ["off", "summary"] {
            let result = assertSameBehaviour([Harness.host("cxx_threads")], stats: stats)
            XCTAssertEqual(result.stdout, "caught=1600 cancelled=1 destructors_ok=1\n")
        }
    }

    func testSwiftProgram() {
        for stats in ["off", "summary"] {
            let result = assertSameBehaviour([Harness.host("swift_host")], stats: stats)
            XCTAssertTrue(result.stdout.hasPrefix("words=997 nodes=3280"), result.stdout)
        }
    }

    /// exit() on a non-main thread while others allocate: the program's
    /// status, one report.
    func testExitFromAnotherThreadReportsOnce() {
        let result = assertSameBehaviour([Harness.host("exit_thread")], stats: "summary", timeout: 30)
        XCTAssertEqual(result.status, 3)
        XCTAssertEqual(result.reportLines.filter { $0.contains("[pid ") }.count, 1, result.stderr)
    }

    /// A program that closes stderr in its own atexit handler still gets
    /// its report on the original stderr.
    func testReportSurvivesClosedStderr() {
        let result = Harness.run([Harness.host("close_stderr")], environment: ["SWALLOC_STATS": "summary"])
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.stdout, "done\n")
        XCTAssertTrue(result.stderr.contains("swalloc: close_stderr [pid"), result.stderr)
        XCTAssertTrue(result.stderr.contains("4.1 KiB still live") || result.stderr.contains("1 blocks"), result.stderr)
    }
}
