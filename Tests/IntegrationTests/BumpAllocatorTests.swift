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

    /// Large blocks allocated and freed in turn (a string built by copies,
    /// blocks of other sizes between, realloc growing and shrinking them)
    /// keep their bytes through every move, and reuse freed mappings: the
    /// pages faulted in stay within 3 times glibc's (a fresh mapping per
    /// block faulted 7.9 times as many, and made jq 25 times slower), and
    /// the mappings within 30 of glibc's.
    func testLargeBlocksReuseFreedMappings() throws {
        func figures(_ result: Harness.Result) -> (mappings: Int, faults: Int)? {
            let lines = result.stdout.split(separator: "\n")
            guard lines.count == 3, lines[0] == "ok",
                  let mappings = Int(lines[1].dropFirst("mappings ".count)),
                  let faults = Int(lines[2].dropFirst("faults ".count)) else { return nil }
            return (mappings, faults)
        }
        let arguments = [Harness.host("large_blocks"), "2000"]
        let plain = Harness.run(arguments, preload: false)
        let glibc = try XCTUnwrap(figures(plain), plain.stdout + plain.stderr)
        for stats in ["off", "summary"] {
            let result = Harness.run(arguments, environment: ["SWALLOC_ALLOCATOR": "bump", "SWALLOC_STATS": stats])
            XCTAssertEqual(result.status, 0, "\(stats): \(result.stdout) \(result.stderr.prefix(500))")
            let bump = try XCTUnwrap(figures(result), "\(stats): \(result.stdout)")
            XCTAssertLessThanOrEqual(bump.faults, 3 * glibc.faults, "\(stats): page faults")
            XCTAssertLessThanOrEqual(bump.mappings, glibc.mappings + 30, "\(stats): mappings")
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
