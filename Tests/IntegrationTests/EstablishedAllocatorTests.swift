import Foundation
import XCTest

/// jemalloc, mimalloc and tcmalloc as built-ins (issue #14, item 4), from
/// Debian's libraries (scripts/install-deps installs them), through their
/// own sized, aligned APIs.
final class EstablishedAllocatorTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireTool() }

    /// What swalloc run sets for each: jemalloc also preloaded after us.
    func environment(_ allocator: String, stats: String) -> [String: String] {
        var environment = ["SWALLOC_ALLOCATOR": allocator, "SWALLOC_STATS": stats]
        if allocator == "jemalloc" { environment["LD_PRELOAD"] = Harness.library + ":libstdc++.so.6:libjemalloc.so.2" }
        return environment
    }

    /// glibc's contract (alignments up to 64 KiB, realloc of aligned
    /// blocks, usable sizes) and the threaded stress host, as without the
    /// library, statistics off and on; the profile names the allocator.
    func testEachKeepsTheContract() throws {
        for allocator in ["jemalloc", "mimalloc", "tcmalloc"] {
            for stats in ["off", "summary"] {
                for host in ["contract", "stress", "cxx_threads"] {
                    let result = Harness.run([Harness.host(host)], environment: environment(allocator, stats: stats), timeout: 120)
                    let plain = Harness.run([Harness.host(host)], preload: false)
                    XCTAssertEqual(result.status, plain.status, "\(allocator) \(stats) \(host): \(result.stderr.prefix(800))")
                    if host == "contract" {
                        // Its log differs where allocators may (mimalloc reserves
                        // 64 TiB lazily where glibc refuses); its checks hold.
                        XCTAssertTrue(result.stdout.hasSuffix("OK (0 failures)\n"), "\(allocator) \(stats): \(result.stdout)")
                    } else {
                        XCTAssertEqual(result.stdout, plain.stdout, "\(allocator) \(stats) \(host)")
                    }
                    XCTAssertFalse(result.stderr.contains("cannot use it"), result.stderr)
                }
            }
            let directory = Harness.temporaryDirectory(self)
            let path = directory.appendingPathComponent("p.json").path
            var env = environment(allocator, stats: "json")
            env["SWALLOC_OUT"] = path
            _ = Harness.run([Harness.host("workload"), "100", "3"], environment: env)
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
            XCTAssertEqual(json?["allocator"] as? String, allocator)
        }
    }

    /// jemalloc cannot be dlopened into a running process (its static TLS):
    /// without it in LD_PRELOAD, one line says how, and system serves.
    func testJemallocNotPreloadedSaysHow() {
        let result = Harness.run([Harness.host("workload"), "10", "1"],
                                 environment: ["SWALLOC_ALLOCATOR": "jemalloc", "SWALLOC_STATS": "off"])
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.reportLines.count, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("swalloc: SWALLOC_ALLOCATOR=jemalloc: cannot use it ("), result.stderr)
        XCTAssertTrue(result.stderr.contains("as swalloc run puts it; using system"), result.stderr)
    }

    /// swalloc run puts libstdc++ before jemalloc: Debian's jemalloc exports
    /// operator new and delete too, whose blocks have no header (a C++
    /// program died at its first delete).
    func testRunWithJemallocRunsCxxPrograms() {
        for stats in ["off", "summary"] {
            let result = Harness.swalloc(["run", "--stats", stats, "--allocator", "jemalloc", "--", Harness.host("cxx_threads")])
            XCTAssertEqual(result.status, 0, "\(stats): \(result.stderr.prefix(800))")
            XCTAssertFalse(result.stderr.contains("cannot use it"), result.stderr)
        }
    }

    /// One command answers "which allocator suits my program".
    func testCompareRunsTheProgramUnderEach() {
        let result = Harness.swalloc(["compare", "--allocator", "system", "--allocator", "jemalloc", "--allocator", "mimalloc",
                                      "--allocator", "tcmalloc", "--runs", "1", "--", Harness.host("workload"), "200", "3"])
        XCTAssertEqual(result.status, 0, result.stderr)
        for allocator in ["jemalloc", "mimalloc", "tcmalloc"] {
            XCTAssertTrue(result.stdout.contains("\n\(allocator) "), result.stdout)
        }
        XCTAssertTrue(result.stdout.contains("output: the same in every run"), result.stdout)
        XCTAssertFalse(result.stdout.contains("fell back"), result.stdout)
    }
}
