import Foundation
import XCTest

/// The bump built-in's soundness (issue #14): a thread's chunks go back when
/// it ends, and a double free of a registered allocator's block is stopped
/// before the allocator sees it twice.
final class BumpAllocatorTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireBuilt() }

    /// "maps=M rss_kb=R" of short_threads, as numbers.
    func mapsAndResidentKB(_ result: Harness.Result) -> (maps: Int, rss: Int)? {
        let fields = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: " ")
        guard fields.count == 2, let maps = Int(fields[0].dropFirst("maps=".count)),
              let rss = Int(fields[1].dropFirst("rss_kb=".count)) else { return nil }
        return (maps, rss)
    }

    /// 20,000 short-lived threads, one after another: with statistics off
    /// and on, mappings and resident memory stay within twice glibc's
    /// (before, every thread's 1 MiB chunk stayed mapped: 20 GiB of
    /// address space and about 20,000 mappings here).
    func testEndedThreadsGiveTheirChunksBack() throws {
        let arguments = [Harness.host("short_threads"), "20000"]
        let plain = Harness.run(arguments, preload: false)
        let glibc = try XCTUnwrap(mapsAndResidentKB(plain), plain.stdout + plain.stderr)
        for stats in ["off", "summary"] {
            let result = Harness.run(arguments, environment: ["SWALLOC_ALLOCATOR": "bump", "SWALLOC_STATS": stats])
            XCTAssertEqual(result.status, 0, "\(stats): \(result.stderr.prefix(500))")
            let bump = try XCTUnwrap(mapsAndResidentKB(result), "\(stats): \(result.stdout)")
            XCTAssertLessThanOrEqual(bump.maps, 2 * glibc.maps, "\(stats): mappings")
            XCTAssertLessThanOrEqual(bump.rss, 2 * glibc.rss, "\(stats): resident KiB")
        }
    }

    /// A second free of a block (small, large, a new thread's first, one
    /// that realloc moved) ends in a swalloc: line naming the double free
    /// and SIGABRT, as glibc ends it; the neighbour of a small block is
    /// never handed out again while live.
    func testDoubleFreeIsStoppedWithOneLine() {
        let plugin = Harness.host("liblayout_check.so")
        for allocator in ["bump", plugin] {
            for stats in ["off", "summary"] {
                for misuse in ["double_small", "double_moved", "double_first", "double_large"] {
                    let name = "\(misuse), \(allocator == plugin ? "plug-in" : allocator), stats \(stats)"
                    let result = Harness.run([Harness.host("misuse"), misuse],
                                             environment: ["SWALLOC_ALLOCATOR": allocator, "SWALLOC_STATS": stats],
                                             timeout: 30)
                    XCTAssertTrue(result.signaled && result.status == SIGABRT, "\(name): \(result.status) \(result.stdout)")
                    XCTAssertEqual(result.stdout, "", name)
                    // The plug-in's large blocks are glibc's, whose free
                    // writes over the freed header: glibc itself aborts.
                    if allocator == plugin && misuse == "double_large" { continue }
                    XCTAssertTrue(result.stderr.contains("swalloc: free(): double free of 0x"),
                                  "\(name): \(result.stderr.prefix(500))")
                }
            }
        }
    }
}
