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
                                 environment: ["SWALLOC_ALLOCATOR": "hoard", "SWALLOC_STATS": "off"])
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.stdout, "hello\n")
        XCTAssertEqual(result.reportLines, ["swalloc: SWALLOC_ALLOCATOR=hoard: no such allocator (built-in: system, bump, guard, jemalloc, mimalloc, tcmalloc; or a plug-in's path); using system"])
    }

    /// exit_status reports whenever statistics are on (it leaves through
    /// exit()), so its silence under `off` is the setting's doing. (The
    /// previous version ran `sh`, dash, which leaves through _exit and
    /// reports nothing either way: it passed whatever the library did.)
    func testStatisticsOffPrintsNothing() {
        let on = Harness.run([Harness.host("exit_status"), "0"], environment: ["SWALLOC_STATS": "summary"])
        XCTAssertEqual(on.status, 0)
        XCTAssertEqual(on.stdout, "hello\n")
        XCTAssertTrue(on.stderr.contains("swalloc: exit_status [pid"), "statistics on: a report, \(on.stderr)")
        let off = Harness.run([Harness.host("exit_status"), "0"], environment: ["SWALLOC_STATS": "off"])
        XCTAssertEqual(off.status, 0)
        XCTAssertEqual(off.stdout, "hello\n")
        XCTAssertEqual(off.stderr, "", "statistics off: nothing on stderr")
    }
}
