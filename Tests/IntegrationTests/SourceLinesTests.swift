import Foundation
import SwallocReport
import XCTest

/// Source files, lines and inlined frames at report time, from DWARF
/// (issue #13, item 1): the library records modules and offsets, the CLI
/// names the lines.
final class SourceLinesTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireTool() }

    /// The line of the source file of a host that holds `marker`.
    func line(of marker: String, in host: String) throws -> Int {
        let source = Harness.root.appendingPathComponent("interpose/hosts/\(host)").path
        let lines = try String(contentsOfFile: source, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        return try XCTUnwrap(lines.firstIndex { $0.contains(marker) }) + 1
    }

    func testFramesGetFilesAndLines() throws {
        let (_, path) = Harness.callSitesProfile(self)
        let text = Harness.swalloc(["report", path])
        XCTAssertEqual(text.status, 0, text.stderr)
        let churn = try line(of: "sink = malloc(1024);", in: "callsites.c")
        let leak = try line(of: "sink = malloc(4096);", in: "callsites.c")
        XCTAssertTrue(text.stdout.contains("churn_kilobytes  callsites.c:\(churn)\n"), text.stdout)
        XCTAssertTrue(text.stdout.contains("leak_pages  callsites.c:\(leak)\n"), text.stdout)
        // The JSON re-emitted keeps the full path, the line, and the rest.
        let json = Harness.swalloc(["report", "--format", "json", path])
        let profile = try Profile.parse(Data(json.stdout.utf8), path: "stdout")
        let frame = try XCTUnwrap(profile.sites?.flatMap(\.frames).first { $0.function == "leak_pages" })
        XCTAssertEqual(frame.file, Harness.root.appendingPathComponent("interpose/hosts/callsites.c").path)
        XCTAssertEqual(frame.line, leak)
    }

    /// A stripped program whose debug information is a separate file named
    /// by .gnu_debuglink (as Debian's -dbgsym packages arrange, by build-id)
    /// gets the same functions and lines as the unstripped one.
    func testStrippedProgramWithSeparateDebugInfo() throws {
        let directory = Harness.temporaryDirectory(self)
        let program = directory.appendingPathComponent("callsites").path
        let source = Harness.root.appendingPathComponent("interpose/hosts/callsites.c").path
        for step in [["cc", "-O1", "-g", source, "-o", program],
                     ["objcopy", "--only-keep-debug", program, program + ".debug"],
                     ["strip", "--strip-debug", "--strip-unneeded", program],
                     ["objcopy", "--add-gnu-debuglink=" + program + ".debug", program]] {
            let result = Harness.run(step, preload: false)
            XCTAssertEqual(result.status, 0, "\(step[0]): \(result.stderr)")
        }
        let path = directory.appendingPathComponent("p.json").path
        let run = Harness.run([program], environment: ["SWALLOC_OUT": path, "SWALLOC_SAMPLE": "1"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let text = Harness.swalloc(["report", path])
        XCTAssertEqual(text.status, 0, text.stderr)
        let leak = try line(of: "sink = malloc(4096);", in: "callsites.c")
        XCTAssertTrue(text.stdout.contains("leak_pages  callsites.c:\(leak)\n"), text.stdout)
    }

    func testInlinedCallsAreFramesOfTheirOwn() throws {
        let directory = Harness.temporaryDirectory(self)
        let path = directory.appendingPathComponent("p.json").path
        let run = Harness.run([Harness.host("inlined")], environment: ["SWALLOC_OUT": path, "SWALLOC_SAMPLE": "1"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let text = Harness.swalloc(["report", path])
        let inner = try line(of: "MAKE_RECORD_LINE", in: "inlined.c")
        let outer = try line(of: "BUILD_RECORDS_LINE", in: "inlined.c")
        XCTAssertTrue(text.stdout.contains("make_record  inlined.c:\(inner)  (inlined)\n       build_records  inlined.c:\(outer)\n"),
                      text.stdout)
    }

    /// The profile records each module's build-id: a file replaced since the
    /// run gives no lines (wrong ones would look right), and one line says so.
    func testChangedModulesGiveNoLines() throws {
        let directory = Harness.temporaryDirectory(self)
        let program = directory.appendingPathComponent("callsites").path
        try FileManager.default.copyItem(atPath: Harness.host("callsites"), toPath: program)
        let path = directory.appendingPathComponent("p.json").path
        let run = Harness.run([program], environment: ["SWALLOC_OUT": path, "SWALLOC_SAMPLE": "1"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let profile = try Profile.load(path: path)
        let module = try XCTUnwrap(profile.modules?.first { $0.path == program })
        XCTAssertEqual(module.buildId?.count, 40, "a GNU build-id: 20 bytes in hex")
        XCTAssertTrue(Harness.swalloc(["report", path]).stdout.contains("churn_kilobytes  callsites.c:"))
        // Another program in its place.
        try FileManager.default.removeItem(atPath: program)
        try FileManager.default.copyItem(atPath: Harness.host("inlined"), toPath: program)
        let text = Harness.swalloc(["report", path])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("       churn_kilobytes\n"), text.stdout)
        XCTAssertEqual(text.stderr, "swalloc: no source lines for \(program): the file changed since the run (its build-id differs)\n")
    }

    /// swalloc report RUN-DIR shows the main program's sites with lines.
    func testRunDirectoryReportHasLines() throws {
        let directory = Harness.temporaryDirectory(self).appendingPathComponent("run").path
        let run = Harness.swalloc(["run", "--run-dir", directory, "--sample", "1", "--", Harness.host("callsites")])
        XCTAssertEqual(run.status, 0, run.stderr)
        let report = Harness.swalloc(["report", directory])
        XCTAssertTrue(report.stdout.contains("churn_kilobytes  callsites.c:"), report.stdout)
    }

    /// A module that is gone keeps the library's names and offsets.
    func testMissingModulesStayAsTheyWere() throws {
        let (directory, path) = Harness.callSitesProfile(self)
        var json = try String(contentsOfFile: path, encoding: .utf8)
        json = json.replacingOccurrences(of: Harness.host("callsites"), with: "/nonexistent/callsites")
        let moved = directory.appendingPathComponent("moved.json").path
        try json.write(toFile: moved, atomically: true, encoding: .utf8)
        let text = Harness.swalloc(["report", moved])
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertTrue(text.stdout.contains("       churn_kilobytes\n"), text.stdout)
    }
}

/// The summary's histogram and the text report's leak section say what
/// they do not show (issue #13).
final class ReportCompletenessTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireTool() }

    /// 200 blocks of 1 MiB among 200,000 small ones: the summary lists
    /// their size class too, labelled as the text report labels it.
    func testSummaryListsEverySizeClass() {
        let result = Harness.run([Harness.host("callsites"), "big"], environment: ["SWALLOC_SAMPLE": "0"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("swalloc:            1 MiB – 2 MiB       200 "), result.stderr)
    }

    /// Sampling too sparse to see the leaked blocks: the report says how
    /// much was live and how to find it, not "nothing".
    func testUnsampledLeaksAreNamedAsSuch() throws {
        let directory = Harness.temporaryDirectory(self)
        let path = directory.appendingPathComponent("p.json").path
        let run = Harness.run([Harness.host("callsites")],
                              environment: ["SWALLOC_OUT": path, "SWALLOC_SAMPLE": "1G", "SWALLOC_SAMPLE_SEED": "3"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let text = Harness.swalloc(["report", path])
        // callsites leaks 10 pages; stdio's buffer is live too.
        XCTAssertTrue(text.stdout.contains("still live at exit, by site: none sampled, though "), text.stdout)
        XCTAssertTrue(text.stdout.contains("was still live; swalloc run --leaks (SWALLOC_SAMPLE=1)"), text.stdout)
        // Sampled at 64 KiB (a fixed seed): the sites found are named as
        // estimates, beside the exact live total, with the same hint.
        let sampled = directory.appendingPathComponent("q.json").path
        let again = Harness.run([Harness.host("callsites")],
                                environment: ["SWALLOC_OUT": sampled, "SWALLOC_SAMPLE": "64k", "SWALLOC_SAMPLE_SEED": "3"])
        XCTAssertEqual(again.status, 0, again.stderr)
        let report = Harness.swalloc(["report", sampled]).stdout
        XCTAssertTrue(report.contains("  (estimates from samples: "), report)
        XCTAssertTrue(report.contains(" live at exit in all; swalloc run --leaks (SWALLOC_SAMPLE=1)"), report)
    }
}
