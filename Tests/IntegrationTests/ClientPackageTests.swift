import Foundation
import XCTest

/// A separate package that depends on Swalloc, used as docs/allocator-api.md
/// shows: the arena-backed parse tree.
final class ClientPackageTests: XCTestCase {
    func testParseTreeExampleBuildsAndRuns() {
        let package = Harness.root.appendingPathComponent("docs/examples/parse-tree").path
        let scratch = Harness.root.appendingPathComponent(".build/examples/parse-tree").path
        let result = Harness.run(["swift", "run", "-c", "release", "--package-path", package, "--scratch-path", scratch],
                                 preload: false, timeout: 900)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.hasSuffix("""
            first batch: 4000 results, first four [7.0, 9.0, 2.0, 56.0]
            total 7400000.0
            allocations 2400100, deallocations 100, grows 1000
            arena chunks kept after reset: 1

            """), result.stdout)
    }
}
