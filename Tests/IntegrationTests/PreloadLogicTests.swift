import Foundation
import XCTest

/// Runs the unit-test harness of the preload library's own logic
/// (Tests/PreloadUnitTests, built by scripts/build into
/// .build/preload/unit-tests): size parsing, header and trailer decoding,
/// the sampled-block table, sorting, the logarithm, output formatting, the
/// limit and failure injection, the guard allocator's placement. Each of
/// its lines is a case: `ok NAME` or `FAIL NAME (line N)`.
final class PreloadLogicTests: XCTestCase {
    func testPreloadLogic() throws {
        let harness = Harness.root.appendingPathComponent(".build/preload/unit-tests").path
        guard FileManager.default.isExecutableFile(atPath: harness) else {
            return XCTFail("\(harness) is missing: run scripts/build (scripts/test does)")
        }
        let result = Harness.run([harness], preload: false, timeout: 60)
        let lines = result.stdout.split(separator: "\n")
        for line in lines where line.hasPrefix("FAIL ") { XCTFail(String(line)) }
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertGreaterThanOrEqual(lines.filter { $0.hasPrefix("ok ") }.count, 56, result.stdout)
        XCTAssertTrue(lines.last?.hasSuffix(" passed, 0 failed") ?? false, result.stdout)
    }
}
