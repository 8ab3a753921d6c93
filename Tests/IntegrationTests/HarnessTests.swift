import Foundation
import XCTest

/// The harness's deadline: a hang anywhere in a program's process group
/// ends in a failure, never in a test run that waits forever.
final class HarnessTests: XCTestCase {
    func testDeadlineKillsTheWholeGroup() {
        // The background sleep holds the output pipes after sh is killed,
        // as a hung forked child would.
        var clock = timespec()
        clock_gettime(CLOCK_MONOTONIC, &clock)
        let started = Double(clock.tv_sec)
        let result = Harness.run(["sh", "-c", "sleep 300 & echo started; wait"], preload: false, timeout: 1)
        clock_gettime(CLOCK_MONOTONIC, &clock)
        XCTAssertTrue(result.timedOut)
        XCTAssertEqual(result.stdout, "started\n")
        XCTAssertLessThan(Double(clock.tv_sec) - started, 30, "the reader waited for the orphan")
    }

    func testOutputInputAndStatus() {
        let input = String(repeating: "x", count: 200_000) + "\n"
        let result = Harness.run(["sh", "-c", "cat; echo err >&2; exit 3"], preload: false, stdin: input)
        XCTAssertFalse(result.timedOut)
        XCTAssertEqual(result.status, 3)
        XCTAssertFalse(result.signaled)
        XCTAssertEqual(result.stdout, input)
        XCTAssertEqual(result.stderr, "err\n")
        let killed = Harness.run(["sh", "-c", "kill -SEGV $$"], preload: false)
        XCTAssertTrue(killed.signaled)
        XCTAssertEqual(killed.status, SIGSEGV)
    }
}
