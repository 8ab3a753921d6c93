import Foundation
import SwallocReport
import XCTest

/// swalloc run as a collector (issue #12): one run directory for the whole
/// process tree, one summary at the end, nothing from the library in the
/// children's stderr, `swalloc report RUN-DIR` for the same numbers.
final class RunCollectionTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireTool() }

    /// bash (which writes its profile at exit, unlike dash) runs two
    /// workloads and ls.
    func script() -> [String] {
        let workload = Harness.host("workload")
        return ["bash", "-c", "\(workload) 50 2; \(workload) 60 2; ls / >/dev/null; true"]
    }

    /// The table's rows: "pid parent program …" lines of the summary.
    func rows(_ text: String) -> [[Substring]] {
        text.split(separator: "\n").map { $0.hasPrefix("swalloc: ") ? $0.dropFirst("swalloc: ".count) : $0 }
            .map { $0.split(separator: " ") }
            .filter { $0.count >= 4 && Int($0[0]) != nil && (Int($0[1]) != nil || $0[1] == "?") }
    }

    func testOneSummaryForTheWholeTree() throws {
        let directory = Harness.temporaryDirectory(self).appendingPathComponent("run").path
        let result = Harness.swalloc(["run", "--run-dir", directory, "--"] + script())
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr.components(separatedBy: "processes profiled").count - 1, 1, result.stderr)
        XCTAssertTrue(result.stderr.hasPrefix("swalloc: profiling into \(directory)\n"), result.stderr)
        XCTAssertTrue(result.stderr.contains("swalloc: read it again: swalloc report \(directory)"), result.stderr)
        // No process printed the library's own summary into its stderr.
        XCTAssertFalse(result.stderr.contains("swalloc: calls      malloc"), result.stderr)
        let table = rows(result.stderr)
        let programs = table.map { String($0[2]) }.sorted()
        XCTAssertEqual(programs, ["bash", "ls", "workload", "workload"], result.stderr)
        // The workloads and ls are bash's children; bash is swalloc's.
        let bash = try XCTUnwrap(table.first { $0[2] == "bash" })
        for row in table where row[2] != "bash" { XCTAssertEqual(row[1], bash[0], "\(row)") }
        XCTAssertTrue(result.stderr.contains("the main program:\nswalloc: /usr/bin/bash [pid \(bash[0])]"), result.stderr)
        // swalloc report RUN-DIR: the same rows.
        let report = Harness.swalloc(["report", directory])
        XCTAssertEqual(report.status, 0, report.stderr)
        XCTAssertEqual(rows(report.stdout).map { $0.joined(separator: " ") }.sorted(),
                       table.map { $0.joined(separator: " ") }.sorted())
        // One process of it, in any format.
        let workloadPid = String(try XCTUnwrap(table.first { $0[2] == "workload" })[0])
        let one = Harness.swalloc(["report", directory, "--pid", workloadPid, "--format", "json"])
        XCTAssertEqual(one.status, 0, one.stderr)
        let profile = try Profile.parse(Data(one.stdout.utf8), path: "stdout")
        XCTAssertEqual(profile.pid, Int(workloadPid))
        XCTAssertEqual(profile.ppid, Int(bash[0]))
        XCTAssertEqual(Harness.swalloc(["report", directory, "--format", "json"]).status, 2, "a run needs --pid")
        XCTAssertEqual(Harness.swalloc(["report", directory, "--pid", "1"]).status, 2, "no such process")
    }

    func testChildrenChoosesTheProcesses() {
        for (children, expected) in [("none", ["bash"]), ("workload", ["bash", "workload", "workload"]),
                                     ("ls", ["bash", "ls"])] {
            let directory = Harness.temporaryDirectory(self).appendingPathComponent("run").path
            let result = Harness.swalloc(["run", "--children", children, "--run-dir", directory, "--"] + script())
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(rows(result.stderr).map { String($0[2]) }.sorted(), expected, "\(children): \(result.stderr)")
        }
    }

    func testRunDirectoryOptionsAreCheckedFirst() throws {
        let directory = Harness.temporaryDirectory(self)
        let marker = directory.appendingPathComponent("ran").path
        let full = directory.appendingPathComponent("full")
        try FileManager.default.createDirectory(at: full, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: full.appendingPathComponent("x").path, contents: Data())
        for arguments in [["--run-dir", full.path], ["--children", "none", "--stats", "off"],
                          ["--run-dir", directory.path + "/r", "--out", directory.path + "/p.json"]] {
            let result = Harness.swalloc(["run"] + arguments + ["--", "touch", marker])
            XCTAssertEqual(result.status, 64, "\(arguments): \(result.stderr)")
            XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "\(arguments): the program ran")
        }
        // A program that cannot start leaves no run directory behind.
        let never = directory.appendingPathComponent("never").path
        XCTAssertEqual(Harness.swalloc(["run", "--run-dir", never, "--", "/nonexistent/program"]).status, 127)
        XCTAssertFalse(FileManager.default.fileExists(atPath: never))
    }

    /// --out relative to where swalloc was started, wherever the program
    /// is when it exits.
    func testRelativeOutIsTheStartingDirectorys() throws {
        let directory = Harness.temporaryDirectory(self)
        let result = Harness.run(["sh", "-c", "cd '\(directory.path)' && '\(Harness.tool)' run --out rel.json -- "
                                  + "bash -c 'cd / && \(Harness.host("workload")) 10 1'"], preload: false)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("rel.json").path),
                      result.stderr)
    }
}
