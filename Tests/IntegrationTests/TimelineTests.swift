import Foundation
import SwallocReport
import XCTest

/// Memory over time and who held the peak (issue #12, item 4).
final class TimelineTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireTool() }

    /// The allocation that makes the peak is among the peak's owners: one
    /// 8 MiB block on top of 20 small ones, with every allocation sampled
    /// and with the default sampling. The owners were copied before that
    /// allocation's own sample was recorded, so the report said "8.0 MiB
    /// live; these sites held 19.5 KiB" and named only the small ones.
    func testTheAllocationThatMakesThePeakOwnsIt() throws {
        let directory = Harness.temporaryDirectory(self)
        for sample in ["1", "512k"] {
            let path = directory.appendingPathComponent("single-\(sample).json").path
            let run = Harness.run([Harness.host("spike"), "single"],
                                  environment: ["SWALLOC_OUT": path, "SWALLOC_SAMPLE": sample, "SWALLOC_SAMPLE_SEED": "5"])
            XCTAssertEqual(run.status, 0, run.stderr)
            let profile = try Profile.load(path: path)
            let sites = try XCTUnwrap(profile.sites)
            let owner = try XCTUnwrap(sites.max { ($0.peakLiveBytes ?? 0) < ($1.peakLiveBytes ?? 0) })
            XCTAssertEqual(owner.frames.first?.function, "one_block", "SWALLOC_SAMPLE=\(sample)")
            XCTAssertGreaterThanOrEqual(owner.peakLiveBytes ?? 0, 8 << 20, "SWALLOC_SAMPLE=\(sample)")
            XCTAssertGreaterThanOrEqual(profile.sampling?.peakOwnersAtBytes ?? 0, 8 << 20, "SWALLOC_SAMPLE=\(sample)")
        }
    }

    /// 32 MiB from one site for 200 ms between stretches of small work: the
    /// timeline rises to the spike and falls back, and the peak's owners
    /// name that site with at least 90 % of the peak (the default sampling:
    /// 1 MiB blocks are sampled all but surely).
    func testSpikeAndItsOwner() throws {
        let directory = Harness.temporaryDirectory(self)
        let path = directory.appendingPathComponent("p.json").path
        let run = Harness.run([Harness.host("spike")], environment: ["SWALLOC_OUT": path, "SWALLOC_SAMPLE_SEED": "5"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let profile = try Profile.load(path: path)
        let timeline = try XCTUnwrap(profile.timeline)
        let live = timeline.points.map { $0[1] }
        let highest = try XCTUnwrap(live.max())
        XCTAssertGreaterThanOrEqual(highest, 32 << 20)
        XCTAssertLessThan(live.first ?? .max, 1 << 20, "before the spike")
        XCTAssertLessThan(live.last ?? .max, 1 << 20, "after it")
        let times = timeline.points.map { $0[0] }
        XCTAssertEqual(times, times.sorted(), "points in time order")
        XCTAssertGreaterThan(times.last ?? 0, 200_000_000, "the run lasts past the 200 ms hold")
        // The owners: hold_spike first, with ≥ 90 % of the peak.
        let sites = try XCTUnwrap(profile.sites)
        let owner = try XCTUnwrap(sites.max { ($0.peakLiveBytes ?? 0) < ($1.peakLiveBytes ?? 0) })
        XCTAssertEqual(owner.frames.first?.function, "hold_spike")
        XCTAssertGreaterThanOrEqual(Double(owner.peakLiveBytes ?? 0), 0.9 * Double(profile.totals.peakLiveBytes))
        // The text report draws it and names the owner.
        let text = Harness.swalloc(["report", path])
        XCTAssertTrue(text.stdout.contains("memory over time (live bytes, "), text.stdout)
        XCTAssertTrue(text.stdout.contains("who held the peak ("), text.stdout)
        let afterOwners = text.stdout.components(separatedBy: "who held the peak").last ?? ""
        XCTAssertTrue(afterOwners.contains("live at the peak\n       hold_spike  spike.c:"), text.stdout)
        // The page charts it, and flames what was held at the peak.
        let page = directory.appendingPathComponent("p.html").path
        XCTAssertEqual(Harness.swalloc(["report", "--format", "html", "-o", page, path]).status, 0)
        let html = try String(contentsOfFile: page, encoding: .utf8)
        XCTAssertTrue(html.contains("<svg id=\"timeline\""), "no chart")
        XCTAssertTrue(html.contains("held at the peak"))
        let folded = Harness.swalloc(["report", "--format", "folded", "--value", "peak-live-bytes", path])
        XCTAssertTrue(folded.stdout.split(separator: "\n").first?.contains(";main;hold_spike ") ?? false, folded.stdout)
    }
}
