import Foundation
import XCTest

/// A separate package that depends on Swalloc, used as docs/allocator-api.md
/// shows: the arena-backed parse tree.
final class ClientPackageTests: XCTestCase {
    func testParseTreeExampleBuildsAndRuns() {
        let package = Harness.root.appendingPathComponent("docs/examples/parse-tree").path
        let scratch = Harness.root.appendingPathComponent(".build/examples/parse-tree").path
        // What an earlier resolution left (before the tools left the
        // client's graph) would hide what this one fetches.
        for stale in [scratch + "/checkouts", scratch + "/repositories", scratch + "/workspace-state.json",
                      package + "/Package.resolved"] {
            try? FileManager.default.removeItem(atPath: stale)
        }
        let result = Harness.run(["swift", "run", "-c", "release", "--package-path", package, "--scratch-path", scratch],
                                 preload: false, timeout: 900)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.hasSuffix("""
            first batch: 4000 results, first four [7.0, 9.0, 2.0, 56.0]
            total 7400000.0
            allocations 2400100, deallocations 100, grows 1000
            arena chunks kept after reset: 1

            """), result.stdout)
        // A client resolves Swalloc alone: the tools' dependencies are not
        // part of the package it sees (Package.swift, SWALLOC_TOOLS unset:
        // the harness passes no SWALLOC_* variable on).
        let checkouts = (try? FileManager.default.contentsOfDirectory(atPath: scratch + "/checkouts")) ?? []
        XCTAssertEqual(checkouts, [], "a client of Swalloc checked out \(checkouts)")
    }
}
