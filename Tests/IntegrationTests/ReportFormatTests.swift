import Foundation
import SwallocReport
import XCTest

/// swalloc report's formats for call sites: text, folded, pprof, html.
final class ReportFormatTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireTool() }

    func makeProfile() -> (directory: URL, path: String) { Harness.callSitesProfile(self) }

    func swalloc(_ arguments: [String], environment: [String: String] = [:]) -> Harness.Result {
        Harness.swalloc(arguments, environment: environment)
    }

    func testTextReportHasSitesAndLeaks() {
        let (_, path) = makeProfile()
        let text = swalloc(["report", path])
        XCTAssertEqual(text.status, 0, text.stderr)
        let out = text.stdout
        XCTAssertTrue(out.contains("call sites (every allocation;"), out)
        // Each frame with its source line (SourceLinesTests checks the numbers).
        XCTAssertTrue(out.contains("top sites by bytes\n  1. 1000 KiB in 1,000 calls\n       churn_kilobytes  callsites.c:"), out)
        XCTAssertTrue(out.contains("top sites by calls\n  1. 1,000 calls, 1000 KiB\n       churn_kilobytes"), out)
        XCTAssertTrue(out.contains("still live at exit, by site\n  1. 40 KiB in 10 blocks\n       leak_pages  callsites.c:"), out)
    }

    func testFoldedStacks() {
        let (_, path) = makeProfile()
        let folded = swalloc(["report", "--format", "folded", path])
        XCTAssertEqual(folded.status, 0, folded.stderr)
        let lines = folded.stdout.split(separator: "\n")
        XCTAssertTrue(lines.contains { $0.hasSuffix(";main;churn_kilobytes 1024000") }, folded.stdout)
        XCTAssertTrue(lines.allSatisfy { $0.hasPrefix("_start;") && UInt64($0.split(separator: " ").last!) != nil })
        let live = swalloc(["report", "--format", "folded", "--value", "live-bytes", path])
        XCTAssertTrue(live.stdout.contains(";main;leak_pages 40960\n"), live.stdout)
        XCTAssertFalse(live.stdout.contains("churn_kilobytes"))
    }

    /// `go tool pprof` reads the file and lists the same top sites.
    func testPprofOpensInGoToolPprof() throws {
        let (directory, path) = makeProfile()
        let pprof = directory.appendingPathComponent("p.pb.gz").path
        let write = swalloc(["report", "--format", "pprof", "-o", pprof, path])
        XCTAssertEqual(write.status, 0, write.stderr)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: pprof))
        XCTAssertEqual(Array(bytes.prefix(2)), [0x1F, 0x8B], "gzip")
        let top = Harness.run(["go", "tool", "pprof", "-top", "-sample_index=alloc_space", pprof], preload: false,
                              environment: ["HOME": directory.path, "PPROF_TMPDIR": directory.path], timeout: 300)
        XCTAssertEqual(top.status, 0, "go tool pprof: \(top.stderr)")
        // The table's rows: "  flat flat% sum% cum cum% name", flat non-zero.
        let rows = top.stdout.split(separator: "\n").filter {
            let fields = $0.split(separator: " ")
            return fields.count >= 6 && fields[0].hasSuffix("kB") && fields[1].hasSuffix("%")
        }
        XCTAssertTrue(rows.first?.hasSuffix("churn_kilobytes") ?? false, top.stdout)
        XCTAssertTrue(rows.count > 2 && rows[1].hasSuffix("leak_pages") && rows[2].hasSuffix("zero_records"), top.stdout)
        let live = Harness.run(["go", "tool", "pprof", "-top", "-sample_index=inuse_objects", pprof], preload: false,
                               environment: ["HOME": directory.path, "PPROF_TMPDIR": directory.path], timeout: 300)
        XCTAssertTrue(live.stdout.contains("leak_pages"), live.stdout)
        XCTAssertFalse(live.stdout.split(separator: "\n").contains { $0.hasSuffix(" churn_kilobytes") && !$0.hasPrefix("         0") },
                       "nothing of churn_kilobytes is live")
        // Source lines reach pprof: -lines names the file and line.
        let lines = Harness.run(["go", "tool", "pprof", "-top", "-lines", "-sample_index=alloc_space", pprof],
                                preload: false, environment: ["HOME": directory.path, "PPROF_TMPDIR": directory.path],
                                timeout: 300)
        XCTAssertTrue(lines.stdout.contains("churn_kilobytes \(Harness.root.path)/interpose/hosts/callsites.c:"), lines.stdout)
        // Mappings carry the modules' build-ids (pprof's -raw lists them).
        let profile = try Profile.load(path: path)
        let program = try XCTUnwrap(profile.modules?.first { $0.path.hasSuffix("/callsites") })
        let buildID = try XCTUnwrap(program.buildId)
        let raw = Harness.run(["go", "tool", "pprof", "-raw", pprof], preload: false,
                              environment: ["HOME": directory.path, "PPROF_TMPDIR": directory.path], timeout: 300)
        XCTAssertTrue(raw.stdout.split(separator: "\n").contains { $0.contains(program.path) && $0.contains(buildID) },
                      raw.stdout.suffix(1500).description)
    }

    /// --lines: folded frames read `function file:line`.
    func testFoldedWithSourceLines() {
        let (_, path) = makeProfile()
        let folded = swalloc(["report", "--format", "folded", "--lines", path])
        XCTAssertEqual(folded.status, 0, folded.stderr)
        XCTAssertTrue(folded.stdout.contains("churn_kilobytes callsites.c:"), folded.stdout.prefix(1500).description)
        XCTAssertFalse(swalloc(["report", "--format", "folded", path]).stdout.contains("callsites.c:"))
        XCTAssertEqual(swalloc(["report", "--lines", path]).status, 64)
    }

    /// swalloc run --leaks samples every allocation: the leaking site with
    /// exact counts; with --sample it is a usage error.
    func testRunLeaksSamplesEveryAllocation() throws {
        let directory = Harness.temporaryDirectory(self).appendingPathComponent("run")
        let run = swalloc(["run", "--leaks", "--run-dir", directory.path, "--", Harness.host("callsites")])
        XCTAssertEqual(run.status, 0, run.stderr)
        let profiles = try RunDirectory.load(path: directory.path).profiles
        XCTAssertEqual(profiles.first?.sampling?.meanBytes, 1)
        XCTAssertEqual(swalloc(["run", "--leaks", "--sample", "4k", "--", "true"]).status, 64)
    }

    /// The HTML page renders in headless Chromium with a visible flame graph.
    func testHTMLFlameGraphRendersInChromium() throws {
        let (directory, path) = makeProfile()
        let html = directory.appendingPathComponent("p.html").path
        let write = swalloc(["report", "--format", "html", "-o", html, path])
        XCTAssertEqual(write.status, 0, write.stderr)
        let page = try String(contentsOfFile: html, encoding: .utf8)
        XCTAssertFalse(page.contains("src=\"http"), "self-contained")
        let chromium = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                        "--window-size=1100,700", "--virtual-time-budget=2000",
                        "--user-data-dir=\(directory.path)/chromium"]
        let dom = Harness.run(chromium + ["--dump-dom", "file://\(html)"], preload: false, timeout: 120)
        XCTAssertEqual(dom.status, 0, dom.stderr)
        // The script drew the frames: one element per frame of the graph.
        XCTAssertGreaterThan(dom.stdout.components(separatedBy: "class=\"frame\"").count - 1, 5, dom.stdout.prefix(2000).description)
        XCTAssertTrue(dom.stdout.contains(">churn_kilobytes</div>"))
        // The table of sites with source lines, and the search box.
        XCTAssertTrue(dom.stdout.contains("<table id=\"sites\">"), "no table of sites")
        XCTAssertTrue(dom.stdout.contains("churn_kilobytes  callsites.c:") || dom.stdout.contains("churn_kilobytes callsites.c:"),
                      "the table's stacks have source lines")
        XCTAssertTrue(dom.stdout.contains("id=\"search\""), "no search box")
        // Frames' tooltips name their source line.
        XCTAssertTrue(dom.stdout.contains("title=\"churn_kilobytes (callsites.c:"), "tooltips with file:line")
        // The page's linked state, as a click would leave it: sorted by
        // calls, searched, zoomed with the frames above kept.
        func visibleCalls(_ page: String) -> [Int] {
            page.components(separatedBy: "<tr").dropFirst().compactMap { row -> Int? in
                guard !row.hasPrefix(" style=\"display: none;\""), row.contains("<td data-v=") else { return nil }
                let cells = row.components(separatedBy: "data-v=\"")
                return cells.count > 2 ? Int(cells[2].prefix { $0.isNumber }) : nil
            }
        }
        let sorted = Harness.run(chromium + ["--dump-dom", "file://\(html)#sort=calls"], preload: false, timeout: 120).stdout
        let calls = visibleCalls(sorted)
        XCTAssertGreaterThan(calls.count, 2, sorted.prefix(1500).description)
        XCTAssertEqual(calls, calls.sorted(by: >), "the table sorts by calls")
        let searched = Harness.run(chromium + ["--dump-dom", "file://\(html)#search=leak_pages"], preload: false, timeout: 120).stdout
        XCTAssertEqual(visibleCalls(searched).count, 1, "search keeps the one site of leak_pages")
        XCTAssertTrue(searched.contains("frame match"), "search outlines the matching frames")
        let zoomed = Harness.run(chromium + ["--dump-dom", "file://\(html)#zoom=churn_kilobytes"], preload: false, timeout: 120).stdout
        XCTAssertGreaterThan(zoomed.components(separatedBy: "class=\"frame ancestor\"").count - 1, 1, "zoom keeps the parents")
        let png = directory.appendingPathComponent("p.png").path
        let shot = Harness.run(chromium + ["--screenshot=\(png)", "file://\(html)"], preload: false, timeout: 120)
        XCTAssertEqual(shot.status, 0, shot.stderr)
        let image = try Data(contentsOf: URL(fileURLWithPath: png))
        XCTAssertEqual(Array(image.prefix(4)), [0x89, 0x50, 0x4E, 0x47], "a PNG")
        XCTAssertGreaterThan(image.count, 10_000, "a page with a graph, not a blank one")
    }

    func testFormatsThatNeedSitesOrAFile() throws {
        let directory = Harness.temporaryDirectory(self)
        let path = directory.appendingPathComponent("nosites.json").path
        _ = Harness.run([Harness.host("exit_status"), "0"], environment: ["SWALLOC_OUT": path, "SWALLOC_SAMPLE": "0"])
        let folded = swalloc(["report", "--format", "folded", path])
        XCTAssertEqual(folded.status, 2)
        XCTAssertTrue(folded.stderr.hasPrefix("swalloc: ") && folded.stderr.contains("has no call sites"), folded.stderr)
        let pprof = swalloc(["report", "--format", "pprof", path])
        XCTAssertNotEqual(pprof.status, 0)
        XCTAssertTrue(pprof.stderr.contains("-o FILE"), pprof.stderr)
    }
}
