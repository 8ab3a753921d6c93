import Foundation
@testable import SwallocReport
import XCTest

/// Regression tests for the crash sites found by feeding hostile (but valid
/// JSON) profiles to every renderer: each trapped before ProfileValidation
/// and the capped arithmetic. Each test names the site it covers.
final class ProfileHardeningTests: XCTestCase {
    let limit = ProfileFixture.limit

    // TextReport: the histogram's total overflowed (sum of counts).
    func testHistogramCountsThatOverflowTheirSum() throws {
        let profile = try ProfileFixture.profile {
            $0["histogram"] = [["min": 0, "max": 0, "count": UInt64.max], ["min": 1, "max": 1, "count": UInt64.max]]
        }
        XCTAssertEqual(profile.histogram.map(\.count), [limit, limit], "clamped")
        XCTAssertTrue(TextReport.render(profile).contains("50.0%"), "shares of the sum, in floating point")
        try ProfileFixture.renderEverything(profile)
    }

    // TextReport and ProfileComparison: a bucket's `max + 1` overflowed.
    func testBucketReachingTheHighestSize() throws {
        let profile = try ProfileFixture.profile { $0["histogram"] = [["min": 0, "max": UInt64.max, "count": 1]] }
        XCTAssertEqual(profile.histogram[0].max, limit)
        try ProfileFixture.renderEverything(profile)
    }

    // TextReport: every count 0 made the bar's length NaN, then Int(NaN).
    func testEmptyBucketsAreDropped() throws {
        let profile = try ProfileFixture.profile {
            $0["histogram"] = [["min": 0, "max": 0, "count": 0], ["min": 1, "max": 1, "count": 0]]
        }
        XCTAssertEqual(profile.histogram, [])
        try ProfileFixture.renderEverything(profile)
    }

    func testBucketWithMinAboveMaxIsRejected() {
        XCTAssertThrowsError(try ProfileFixture.profile { $0["histogram"] = [["min": 9, "max": 1, "count": 1]] }) {
            XCTAssertEqual($0 as? ProfileError,
                           .malformed(path: "p.json", reason: "invalid value at histogram[0]: min is above max"))
        }
    }

    // SiteReport.render: UInt64(sampling.meanBytes) of a negative mean.
    func testSamplingMeanBelowOneIsRejected() {
        for mean in [-5, 0] {
            XCTAssertThrowsError(try ProfileFixture.profile { $0.set("sampling", "mean_bytes", mean) }) {
                guard case .malformed(_, let reason)? = $0 as? ProfileError else { return XCTFail("\($0)") }
                XCTAssertTrue(reason.hasPrefix("invalid value at sampling.mean_bytes"), reason)
            }
        }
    }

    // HTMLReport (node.value +=) and ProfileComparison.merged (entry.calls +=):
    // two sites with one stack and the largest counts.
    func testDuplicateStacksWithTheLargestCounts() throws {
        let profile = try ProfileFixture.profile {
            let huge = ProfileFixture.site(["leaf", "main"], bytes: UInt64.max, calls: UInt64.max, live: UInt64.max)
            $0["sites"] = [huge, huge, huge]
        }
        XCTAssertEqual(ProfileComparison.merged(profile).values.first?.bytes, limit, "the sum stops at the limit")
        XCTAssertTrue(SiteReport.folded(profile).contains("main;leaf \(limit)\n"))
        try ProfileFixture.renderEverything(profile)
    }

    // PprofWriter: Int64(site.calls) of a count above Int64.max.
    func testSiteCountsAboveInt64InPprof() throws {
        let profile = try ProfileFixture.profile { $0.editSite { $0["calls"] = UInt64.max; $0["bytes"] = UInt64(1) << 63 } }
        XCTAssertEqual(profile.sites?[0].calls, limit)
        XCTAssertFalse(try PprofWriter.data(profile).isEmpty)
    }

    // PprofWriter.mapping: `frame.address + 1` at the highest address.
    func testFrameAtTheHighestAddressInPprof() throws {
        let profile = try ProfileFixture.profile {
            $0.editSite { $0["frames"] = [ProfileFixture.frame("top", address: UInt64.max, offset: 0)] }
        }
        XCTAssertFalse(try PprofWriter.data(profile).isEmpty)
    }

    // ProfileComparison.percent: Int(factor) of a factor of 2^63.
    func testChangeByTheLargestFactor() throws {
        let base = try ProfileFixture.profile { $0.set("totals", "malloc_calls", 1) }
        let new = try ProfileFixture.profile { $0.set("totals", "malloc_calls", UInt64.max) }
        let text = ProfileComparison.render(base: base, new: new, baseName: "a", newName: "b")
        XCTAssertTrue(text.contains("(×9223372036854775808)"), text)
        XCTAssertEqual(ProfileComparison.percent(1, UInt64.max), "(×18446744073709551616)")
    }

    // ProfileComparison.json: abs(Int64.min) when sorting changes of 2^63.
    func testChangesOfTheLargestSizeAreSorted() throws {
        let base = try ProfileFixture.profile { $0.editSite { $0["bytes"] = 0 }; $0.editSite(1) { $0["bytes"] = 0 } }
        let new = try ProfileFixture.profile {
            $0.editSite { $0["bytes"] = UInt64(1) << 63 }
            $0.editSite(1) { $0["bytes"] = UInt64.max }
        }
        let json = ProfileComparison.json(base: base, new: new, baseName: "a", newName: "b")
        XCTAssertTrue(json.contains("\"change\" : \(Int64.max)"), json)
        try ProfileFixture.renderEverything(new)
    }

    // HTMLReport: quadratic memory (a copy of the rest of the stack per
    // frame) and recursion as deep as the stack (10,000 frames: 813 MB,
    // then a stack overflow in the encoder).
    func testDeepStackIsCutAndRendersInLinearSpace() throws {
        let names = (0..<10_000).map { "f\($0)" }
        let profile = try ProfileFixture.profile { $0.editSite { $0["frames"] = names.map { ProfileFixture.frame($0) } } }
        XCTAssertEqual(profile.sites?[0].frames.count, ProfileValidation.frameLimit)
        XCTAssertEqual(profile.sites?[0].frames.first?.function, "f0", "the innermost frames are kept")
        let html = HTMLReport.render(profile)
        XCTAssertLessThan(html.utf8.count, 100_000)
        try ProfileFixture.renderEverything(profile)
        // The tree itself is linear whatever the depth.
        var deep = profile
        deep.sites![0].frames = names.map { Profile.Frame(function: $0, module: nil, offset: 0, address: 0) }
        let tree = FlameGraphData(deep, metric: .bytes)
        // The root, 10,000 frames, and the other site's three.
        XCTAssertEqual(tree.names.count, 10_004)
        XCTAssertEqual(tree.json().components(separatedBy: "\"name\"").count - 1, 10_004)
    }

    // pprof of a profile with sites but no sampling failed with a stack of
    // ArgumentParser's "Error:" rather than a swalloc: line.
    func testSitesWithoutSamplingAreRejected() {
        XCTAssertThrowsError(try ProfileFixture.profile { $0["sampling"] = nil }) {
            XCTAssertEqual($0 as? ProfileError, .malformed(path: "p.json", reason: "sites without sampling"))
        }
    }

    /// pid and threads are kept to a process's numbers.
    func testProcessNumbersAreClamped() throws {
        let profile = try ProfileFixture.profile { $0["pid"] = -7; $0["threads"] = Int.max }
        XCTAssertEqual(profile.pid, 0)
        XCTAssertEqual(profile.threads, Int(Int32.max))
    }

    /// Negative, fractional or too large numbers, and wrong types, are one
    /// line (Foundation does not say where a number out of range is).
    func testWrongNumbersAndTypesNameTheKey() {
        let cases: [(Any, String)] = [
            (-1, "a number out of range (negative, fractional or too large)"),
            (1.5, "a number out of range (negative, fractional or too large)"),
            (1e30, "a number out of range (negative, fractional or too large)"),
            ("NaN", "wrong type at totals.bytes_freed"), ([Any](), "wrong type at totals.bytes_freed"),
        ]
        for (value, expected) in cases {
            XCTAssertThrowsError(try ProfileFixture.profile { $0.set("totals", "bytes_freed", value) }) {
                XCTAssertEqual($0 as? ProfileError, .malformed(path: "p.json", reason: expected))
            }
        }
        XCTAssertThrowsError(try ProfileFixture.profile { $0["version"] = 1e30 }) {
            XCTAssertEqual($0 as? ProfileError, .malformed(path: "p.json", reason: "a number out of range (negative, fractional or too large)"))
        }
        XCTAssertThrowsError(try ProfileFixture.profile { $0.editSite { $0["frames"] = [["offset": 1]] } }) {
            XCTAssertEqual($0 as? ProfileError, .malformed(path: "p.json", reason: "missing key sites[0].frames[0].address"))
        }
    }

    /// /dev/zero, or a FIFO that never ends, is read up to the limit only.
    func testReadingIsBounded() {
        XCTAssertThrowsError(try ProfileFile.contents(of: "/dev/zero", limit: 1 << 20)) {
            XCTAssertEqual($0 as? ProfileError, .unreadable(path: "/dev/zero", reason: "larger than 1 MiB"))
        }
        XCTAssertThrowsError(try Profile.parse(Data(count: ProfileFile.sizeLimit + 1), path: "big.json")) {
            XCTAssertEqual($0 as? ProfileError, .unreadable(path: "big.json", reason: "larger than 256 MiB"))
        }
        XCTAssertThrowsError(try Profile.load(path: "/")) {
            XCTAssertEqual($0 as? ProfileError, .unreadable(path: "/", reason: "is a directory"))
        }
        XCTAssertThrowsError(try Profile.load(path: "/nonexistent/p.json")) {
            XCTAssertEqual($0 as? ProfileError, .unreadable(path: "/nonexistent/p.json", reason: "no such file"))
        }
    }
}
