import Foundation
import XCTest

/// glibc's allocator surface beyond the malloc family, under the library:
/// mallinfo and mallinfo2 (glibc's tst-mallinfo2), and the blocks a
/// program's own allocator hands out through entry points of its own.
final class GlibcSurfaceTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireBuilt() }

    /// 19 blocks raise mallinfo2's and mallinfo's bytes in use by at least
    /// their size under every serving mode, also when bump, guard or a
    /// plug-in serves them and glibc's heap never sees them.
    func testMallinfoSeesTheProgramsBlocksUnderEveryMode() {
        for mode in ServingModes.all {
            var environment = mode.environment
            environment["SWALLOC_STATS"] = environment["SWALLOC_STATS"] ?? "summary"
            let result = Harness.run([Harness.host("mallinfo")], environment: environment, timeout: 30)
            XCTAssertEqual(result.status, 0, "\(mode.name): \(result.stderr.prefix(1000))")
            XCTAssertEqual(result.stdout, "mallinfo2 grew\nmallinfo grew\n", mode.name)
        }
    }

    /// jemalloc preloaded after the library is `system`: a block from its
    /// own mallocx is resized, measured and freed by jemalloc through
    /// realloc, malloc_usable_size and free (before, realloc handed it to
    /// glibc, which aborted with "realloc(): invalid pointer"). The same
    /// holds when another allocator is chosen: mimalloc, tcmalloc, bump,
    /// guard or a plug-in (there realloc gave it to glibc until 2026-12-05).
    func testBlocksFromTheAllocatorsOwnEntryPointsReachIt() {
        for allocator in ["system", "mimalloc", "tcmalloc", "bump", "guard", Harness.host("liblayout_check.so")] {
            for stats in ["off", "summary"] {
                let result = Harness.run([Harness.host("foreign_blocks")],
                                         environment: ["LD_PRELOAD": Harness.library + ":libjemalloc.so.2",
                                                       "SWALLOC_ALLOCATOR": allocator, "SWALLOC_STATS": stats],
                                         timeout: 30)
                let name = "\((allocator as NSString).lastPathComponent) \(stats)"
                XCTAssertEqual(result.status, 0, "\(name): \(result.stderr.prefix(1000))")
                XCTAssertEqual(result.stdout, "ok\n", name)
            }
        }
    }
}
