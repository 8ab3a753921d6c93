import XCTest

/// A bad SWALLOC_* value: one clear `swalloc:` line naming the variable, and
/// the program runs on with the default, its output unchanged.
final class SettingsTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireBuilt() }

    func testBadStatisticsValue() {
        let result = Harness.run([Harness.host("exit_status"), "5"], environment: ["SWALLOC_STATS": "verbose"])
        XCTAssertEqual(result.status, 5)
        XCTAssertEqual(result.stdout, "hello\n")
        let complaint = result.reportLines.filter { $0.contains("SWALLOC_STATS") }
        XCTAssertEqual(complaint, ["swalloc: SWALLOC_STATS=verbose: not one of off, summary, json; using summary"])
        // The default (summary) is then in force.
        XCTAssertTrue(result.stderr.contains("swalloc: exit_status [pid"), result.stderr)
    }

    func testUnknownAllocator() {
        let result = Harness.run([Harness.host("exit_status"), "0"],
                                 environment: ["SWALLOC_ALLOCATOR": "tcmalloc", "SWALLOC_STATS": "off"])
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.stdout, "hello\n")
        XCTAssertEqual(result.reportLines, ["swalloc: SWALLOC_ALLOCATOR=tcmalloc: no such allocator (built-in: system, bump, guard; or a plug-in's path); using system"])
    }

    func testStatisticsOffPrintsNothing() {
        let result = Harness.run(["sh", "-c", "echo quiet >&2"], environment: ["SWALLOC_STATS": "off"])
        XCTAssertEqual(result.stderr, "quiet\n")
    }
}
