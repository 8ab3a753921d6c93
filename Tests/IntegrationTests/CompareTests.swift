import Foundation
import SwallocReport
import XCTest

/// swalloc compare: two profiles side by side, and one program under
/// several allocators.
final class CompareTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireTool() }

    func swalloc(_ arguments: [String], environment: [String: String] = [:]) -> Harness.Result {
        Harness.swalloc(arguments, environment: environment)
    }

    /// A profile of `arguments` written by swalloc run.
    func profile(_ name: String, _ arguments: [String], sample: String = "0") throws -> String {
        let path = Harness.temporaryDirectory(self).appendingPathComponent(name).path
        let result = swalloc(["run", "--out", path, "--"] + arguments, environment: ["SWALLOC_SAMPLE": sample])
        XCTAssertEqual(result.status, 0, result.stderr)
        return path
    }

    /// The row of a label in compare's table, split into its cells.
    func row(_ output: String, _ label: String) -> [String] {
        guard let line = output.split(separator: "\n").first(where: { $0.hasPrefix("  \(label)  ") }) else { return [] }
        return line.dropFirst(2 + label.count).split(separator: " ").map(String.init)
    }

    /// workload 1000 against workload 2000 with 3 leaks and a 2 MiB peak:
    /// the changes are what the host's header comment says 1000 more
    /// iterations allocate.
    func testTwoProfilesSideBySide() throws {
        let base = try profile("base.json", [Harness.host("workload"), "1000"])
        let new = try profile("new.json", [Harness.host("workload"), "2000", "3", "2"])
        let result = swalloc(["compare", base, new])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "")
        let out = result.stdout
        XCTAssertTrue(out.hasPrefix("base  \(base): "), out)
        // 1000 × (2 malloc) + 3 leaks + 2 × 1 MiB.
        XCTAssertEqual(row(out, "malloc calls").dropFirst(2).first, "+2,005", out)
        XCTAssertEqual(row(out, "calloc calls").dropFirst(2).first, "+1,000", out)
        XCTAssertEqual(row(out, "free calls").dropFirst(2).first, "+4,002", out)
        XCTAssertEqual(row(out, "live blocks at exit").dropFirst(2).first, "+3", out)
        XCTAssertEqual(row(out, "failed calls"), ["0", "0", "0"], out)
        XCTAssertTrue(out.contains("  1 MiB – 2 MiB"), out)
        XCTAssertTrue(out.contains("(new)"), out)
    }

    /// --format json: the same changes for scripts, sites largest change first.
    func testTwoProfilesAsJSON() throws {
        let base = try profile("base.json", [Harness.host("callsites")], sample: "1")
        let new = try profile("new.json", [Harness.host("callsites"), "big"], sample: "1")
        let result = swalloc(["compare", "--format", "json", base, new])
        XCTAssertEqual(result.status, 0, result.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let totals = try XCTUnwrap(json["totals"] as? [String: [String: Int]])
        // big adds 200 × 1 MiB and 400,000 small mallocs.
        XCTAssertEqual(totals["malloc_calls"]?["change"], 400_200)
        XCTAssertEqual(totals["malloc_calls"].map { $0["new"]! - $0["base"]! }, 400_200)
        let sites = try XCTUnwrap(json["sites"] as? [[String: Any]])
        let first = try XCTUnwrap(sites.first)
        XCTAssertEqual((first["frames"] as? [String])?.first, "allocate_megabytes")
        XCTAssertEqual((first["bytes"] as? [String: Int])?["change"], 200 << 20)
        XCTAssertEqual((json["new"] as? [String: Any])?["file"] as? String, new)
    }

    /// Differential folded stacks: `stack base new`, a stack only in the
    /// new profile with 0 for the base.
    /// The same program twice, sampled (seeds 1 and 2: different samples):
    /// the changes the estimates show are marked as sampling noise, and the
    /// rates are named. Exact sampling has no noise to mark.
    func testSamplingNoiseIsMarked() throws {
        let arguments = [Harness.host("callsites"), "big"]
        var paths: [String] = []
        for seed in ["1", "2"] {
            let path = Harness.temporaryDirectory(self).appendingPathComponent("p\(seed).json").path
            let run = swalloc(["run", "--out", path, "--"] + arguments,
                              environment: ["SWALLOC_SAMPLE": "256k", "SWALLOC_SAMPLE_SEED": seed])
            XCTAssertEqual(run.status, 0, run.stderr)
            paths.append(path)
        }
        let sampled = swalloc(["compare"] + paths)
        XCTAssertEqual(sampled.status, 0, sampled.stderr)
        XCTAssertTrue(sampled.stdout.contains("call sites are sampled (base every 256 KiB, new every 256 KiB)"), sampled.stdout)
        XCTAssertTrue(sampled.stdout.contains(", 0 beyond sampling noise)") || sampled.stdout.contains("(0 of "), sampled.stdout)
        let exact = try [profile("e1.json", [Harness.host("callsites")], sample: "1"),
                         profile("e2.json", [Harness.host("callsites")], sample: "1")]
        let precise = swalloc(["compare"] + exact)
        XCTAssertFalse(precise.stdout.contains("sampling noise"), precise.stdout)
    }

    func testFoldedDifference() throws {
        let base = try profile("base.json", [Harness.host("callsites")], sample: "1")
        let new = try profile("new.json", [Harness.host("callsites"), "big"], sample: "1")
        let result = swalloc(["compare", "--format", "folded", base, new])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = result.stdout.split(separator: "\n")
        XCTAssertFalse(lines.isEmpty)
        for line in lines {
            let fields = line.split(separator: " ")
            XCTAssertGreaterThanOrEqual(fields.count, 3, String(line))
            XCTAssertNotNil(UInt64(fields[fields.count - 1]), String(line))
            XCTAssertNotNil(UInt64(fields[fields.count - 2]), String(line))
        }
        // 1000 × 1 KiB from churn_kilobytes in both; allocate_megabytes only in the new one.
        XCTAssertTrue(lines.contains { $0.hasSuffix(";churn_kilobytes 1024000 1024000") }, result.stdout)
        XCTAssertTrue(lines.contains { $0.contains(";allocate_megabytes ") && $0.hasSuffix(" 0 \(200 << 20)") },
                      result.stdout)
    }

    func testFoldedNeedsCallSites() throws {
        let base = try profile("base.json", [Harness.host("workload"), "10"])
        let result = swalloc(["compare", "--format", "folded", base, base])
        XCTAssertEqual(result.status, 2)
        XCTAssertEqual(result.stderr, "swalloc: \(base) has no call sites (sampling was off)\n")
    }

    func testBadProfilesGetOneLine() throws {
        let base = try profile("base.json", [Harness.host("workload"), "10"])
        let missing = swalloc(["compare", base, "/nonexistent/new.json"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertEqual(missing.stderr, "swalloc: cannot read /nonexistent/new.json: no such file\n")
        let one = swalloc(["compare", base])
        XCTAssertNotEqual(one.status, 0)
        XCTAssertTrue(one.stderr.contains("give two profiles"), one.stderr)
    }

    /// The workload under system and bump: a row each, the same exact
    /// counts, the same output, exit status 0.
    func testOneProgramUnderTwoAllocators() throws {
        let result = swalloc(["compare", "--runs", "2", "--allocator", "system", "--allocator", "bump", "--",
                              Harness.host("workload"), "1000", "0", "4"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        let system = lines.first { $0.hasPrefix("system ") }.map { $0.split(separator: " ").map(String.init) } ?? []
        let bump = lines.first { $0.hasPrefix("bump ") }.map { $0.split(separator: " ").map(String.init) } ?? []
        XCTAssertEqual(system.count, bump.count, result.stdout)
        XCTAssertEqual(system[1], "0", "exit status")
        XCTAssertEqual(bump[1], "0", "exit status")
        // allocations and failed calls: the last two cells, the same under both.
        XCTAssertEqual(system.suffix(2), bump.suffix(2), result.stdout)
        XCTAssertEqual(system.suffix(2).last, "0")
        XCTAssertTrue(lines.contains("output: the same in every run (0 B)"), result.stdout)
    }

    /// --format json for runs: one object per allocator, and what differed.
    func testRunsAsJSON() throws {
        let result = swalloc(["compare", "--format", "json", "--runs", "2", "--", Harness.host("workload"), "100"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let rows = try XCTUnwrap(json["allocators"] as? [[String: Any]])
        XCTAssertEqual(rows.map { $0["allocator"] as? String }, ["system", "bump"])
        XCTAssertEqual(rows.map { $0["ran_on"] as? String }, ["system", "bump"])
        XCTAssertEqual(rows.map { $0["exit_statuses"] as? [Int] }, [[0], [0]])
        XCTAssertEqual(rows[0]["allocations"] as? Int, rows[1]["allocations"] as? Int)
        XCTAssertEqual(json["runs"] as? Int, 2)
        // The program's own peak RSS (a few MiB), not the 20 MiB and more of
        // swalloc itself that wait4 counts for a child spawned from it.
        for row in rows {
            let resident = try XCTUnwrap(row["max_resident_bytes"] as? Int, "\(row)")
            XCTAssertLessThan(resident, 10 << 20, "\(row)")
        }
        XCTAssertEqual((json["differing_output"] as? [String])?.count, 0)
        XCTAssertEqual(json["same_exit_status"] as? Bool, true)
        let folded = swalloc(["compare", "--format", "folded", "--", Harness.host("workload"), "100"])
        XCTAssertNotEqual(folded.status, 0)
        XCTAssertTrue(folded.stderr.contains("--format folded compares two profiles"), folded.stderr)
    }

    /// Output that depends on the allocator: exit status 1, and which runs
    /// differed.
    func testDifferencesAreReported() throws {
        let result = swalloc(["compare", "--runs", "1", "--allocator", "system", "--allocator", "bump", "--",
                              "printenv", "SWALLOC_ALLOCATOR"])
        XCTAssertEqual(result.status, 1, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("output: differs from system run 1 in bump run 1"), result.stdout)
        XCTAssertFalse(result.stdout.contains("no profile"), result.stdout)
    }

    /// A name that is no allocator, or a plug-in that does not load: a
    /// usage error before anything runs, with the library's own line, as
    /// swalloc run --allocator gives (it used to run the program on system
    /// and say so in the table). A program that cannot be run: one line,
    /// status 2.
    func testBadAllocatorAndMissingProgram() throws {
        let marker = Harness.temporaryDirectory(self).appendingPathComponent("ran").path
        for allocator in ["nosuch", "/nonexistent/libmine.so"] {
            let result = swalloc(["compare", "--runs", "1", "--allocator", "system", "--allocator", allocator, "--",
                                  "touch", marker])
            XCTAssertEqual(result.status, 64, allocator + ": " + result.stdout + result.stderr)
            XCTAssertEqual(result.stdout, "", allocator)
            XCTAssertTrue(result.stderr.hasPrefix("swalloc: SWALLOC_ALLOCATOR="), allocator + ": " + result.stderr)
            XCTAssertFalse(FileManager.default.fileExists(atPath: marker), "\(allocator): the program ran")
        }
        // The caller's other settings are the runs' business: a sampled
        // guard, which needs the statistics the runs have, is no error.
        let guarded = swalloc(["compare", "--runs", "1", "--allocator", "bump", "--", "true"],
                              environment: ["SWALLOC_GUARD": "sample:1/1000"])
        XCTAssertEqual(guarded.status, 0, guarded.stdout + guarded.stderr)
        let missing = swalloc(["compare", "--", "/nonexistent/program"])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.hasPrefix("swalloc: cannot run /nonexistent/program"), missing.stderr)
    }

    /// dash leaves through _exit, which runs no exit handler: no profile,
    /// and the table says so rather than inventing numbers.
    func testRunsWithoutAProfileAreSaid() throws {
        let result = swalloc(["compare", "--runs", "1", "--allocator", "system", "--", "sh", "-c", "echo hi"])
        XCTAssertEqual(result.status, 0, result.stdout + result.stderr)
        XCTAssertTrue(result.stdout.contains("system: no profile from some runs"), result.stdout)
        XCTAssertTrue(result.stdout.contains("output: the same in every run (3 B)"), result.stdout)
    }
}
