import Foundation
import XCTest

/// Flushes the test runner's output at each test's start and end. With
/// output to a pipe or file (as in CI), XCTest's lines sit in stdio's
/// buffer, and a run stopped from outside showed a test that had passed
/// minutes before as the last one; flushed, the log's last line names the
/// test that was running.
final class TestProgressFlush: NSObject, XCTestObservation {
    private static let installed: Void = {
        XCTestObservationCenter.shared.addTestObserver(TestProgressFlush())
    }()

    static func install() { _ = installed }

    func testCaseWillStart(_ testCase: XCTestCase) { fflush(nil) }
    func testCaseDidFinish(_ testCase: XCTestCase) { fflush(nil) }
}
