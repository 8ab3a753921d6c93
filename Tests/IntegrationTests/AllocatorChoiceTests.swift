import Foundation
import XCTest

/// Choosing the global allocator: built-ins, plug-ins in C and Swift, the
/// program's own, and the wrappers on top of any of them.
final class AllocatorChoiceTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireBuilt() }

    var cPlugin: String { Harness.host("liblayout_check.so") }

    /// The tally line a layout-checking plug-in prints at exit.
    func tally(_ stderr: String, prefix: String) -> [String: Int] {
        guard let line = stderr.split(separator: "\n").last(where: { $0.hasPrefix(prefix + ":") }) else { return [:] }
        var fields: [String: Int] = [:]
        for pair in line.split(separator: " ").dropFirst() {
            let parts = pair.split(separator: "=")
            if parts.count == 2, let value = Int(parts[1]) { fields[String(parts[0])] = value }
        }
        return fields
    }

    // MARK: Plug-ins

    func testCPluginGetsTheExactLayoutBackUnderTheContractHost() {
        for stats in ["off", "summary"] {
            let result = assertSameBehaviour([Harness.host("contract")],
                                             environment: ["SWALLOC_ALLOCATOR": cPlugin], stats: stats,
                                             ignoringStderr: ["layout_check:"])
            XCTAssertTrue(result.stdout.hasSuffix("OK (0 failures)\n"))
            let counts = tally(result.stderr, prefix: "layout_check")
            XCTAssertGreaterThan(counts["allocs"] ?? 0, 100, result.stderr)
            XCTAssertEqual(counts["mismatches"], 0)
            XCTAssertEqual(counts["foreign"], 0)
        }
    }

    func testCPluginUnderPython() {
        let result = assertSameBehaviour(["python3", "-c", "import json; print(len(json.dumps({str(i): [i] * 5 for i in range(30000)})))"],
                                         environment: ["SWALLOC_ALLOCATOR": cPlugin, "PYTHONMALLOC": "malloc"],
                                         ignoringStderr: ["layout_check:"])
        let counts = tally(result.stderr, prefix: "layout_check")
        XCTAssertGreaterThan(counts["allocs"] ?? 0, 10_000, result.stderr)
        XCTAssertGreaterThan(counts["deallocs"] ?? 0, 10_000)
        XCTAssertEqual(counts["mismatches"], 0)
        XCTAssertEqual(counts["foreign"], 0)
    }

    /// The Swift example plug-in, built as docs/writing-an-allocator.md says.
    func testSwiftPluginFromTheDocumentedExample() throws {
        let scratch = Harness.root.appendingPathComponent(".build/examples/swift-plugin").path
        let build = Harness.run(["swift", "build", "-c", "release",
                                 "--package-path", Harness.root.appendingPathComponent("docs/examples/swift-plugin").path,
                                 "--scratch-path", scratch], preload: false, timeout: 900)
        XCTAssertEqual(build.status, 0, build.stdout + build.stderr)
        let plugin = scratch + "/release/libLayoutCheckingAllocator.so"
        let contract = assertSameBehaviour([Harness.host("contract")], environment: ["SWALLOC_ALLOCATOR": plugin],
                                           stats: "summary", ignoringStderr: ["layout_check_swift:"])
        XCTAssertTrue(contract.stdout.hasSuffix("OK (0 failures)\n"))
        XCTAssertTrue(contract.stderr.contains("allocator layout_check_swift"), contract.stderr)
        let counts = tally(contract.stderr, prefix: "layout_check_swift")
        XCTAssertGreaterThan(counts["allocs"] ?? 0, 100, contract.stderr)
        XCTAssertEqual(counts["mismatches"], 0)
        XCTAssertEqual(counts["foreign"], 0)
        XCTAssertEqual(counts["frees"], 0, "with statistics, blocks have a header and come back through dealloc")
        // Statistics off: a BlockOwningAllocator gets no header, and its
        // blocks come back through free(_:), never dealloc.
        let headerFree = assertSameBehaviour([Harness.host("contract")], environment: ["SWALLOC_ALLOCATOR": plugin],
                                             stats: "off", ignoringStderr: ["layout_check_swift:"])
        XCTAssertTrue(headerFree.stdout.hasSuffix("OK (0 failures)\n"))
        let owning = tally(headerFree.stderr, prefix: "layout_check_swift")
        XCTAssertEqual(owning["deallocs"], 0, headerFree.stderr)
        XCTAssertGreaterThan(owning["frees"] ?? 0, 100, headerFree.stderr)
        let python = Harness.run(["python3", "-c", "print(sum(len(str(i)) for i in range(200000)))"],
                                 environment: ["SWALLOC_ALLOCATOR": plugin, "SWALLOC_STATS": "off", "PYTHONMALLOC": "malloc"])
        XCTAssertEqual(python.stdout, "1088890\n", python.stderr)
        XCTAssertEqual(tally(python.stderr, prefix: "layout_check_swift")["mismatches"], 0, python.stderr)
    }

    func testPluginErrorsFallBackToSystem() throws {
        let directory = Harness.temporaryDirectory(self)
        let noSymbol = directory.appendingPathComponent("libempty.so").path
        let source = directory.appendingPathComponent("empty.c")
        try "int nothing_here(void) { return 0; }\n".write(to: source, atomically: true, encoding: .utf8)
        let cc = Harness.run(["cc", "-shared", "-fPIC", source.path, "-o", noSymbol], preload: false)
        XCTAssertEqual(cc.status, 0, cc.stderr)
        let cases: [(String, String)] = [
            ("/nonexistent/libnothing.so", "SWALLOC_ALLOCATOR=/nonexistent/libnothing.so: cannot load: "),
            (noSymbol, "SWALLOC_ALLOCATOR=\(noSymbol): the plug-in exports no swalloc_register; using system"),
        ]
        for (value, expected) in cases {
            let result = Harness.run([Harness.host("exit_status"), "4"],
                                     environment: ["SWALLOC_ALLOCATOR": value, "SWALLOC_STATS": "summary"])
            XCTAssertEqual(result.status, 4)
            XCTAssertEqual(result.stdout, "hello\n")
            XCTAssertTrue(result.reportLines.first?.hasPrefix("swalloc: " + expected) ?? false, result.stderr)
            XCTAssertTrue(result.stderr.contains("allocator system"), result.stderr)
        }
    }

    /// A C program linked against libswalloc.so runs on the allocator it
    /// declares, without LD_PRELOAD; a registration after start-up is refused.
    func testProgramsOwnAllocator() {
        let result = Harness.run([Harness.host("own_allocator")], preload: false, environment: ["SWALLOC_STATS": "summary"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stdout, "ok; served by it: yes; blocks served: 2 or more\nlate registration: -1\n")
        XCTAssertTrue(result.stderr.contains("swalloc: swalloc_set_global_allocator(own_arena): called after the first allocation was served"), result.stderr)
        XCTAssertTrue(result.stderr.contains("allocator own_arena"), result.stderr)
    }

    // MARK: Built-ins

    func testBumpAndGuardPassTheContract() {
        for allocator in ["bump", "guard"] {
            for stats in ["off", "summary"] {
                let result = assertSameBehaviour([Harness.host("contract")],
                                                 environment: ["SWALLOC_ALLOCATOR": allocator], stats: stats)
                XCTAssertTrue(result.stdout.hasSuffix("OK (0 failures)\n"), "\(allocator): \(result.stdout)")
            }
        }
    }

    func testBumpAndGuardUnderStressAndForks() {
        let rounds = ["bump": "100000", "guard": "5000"]
        for (allocator, count) in rounds {
            let result = assertSameBehaviour([Harness.host("stress"), "4", count, "10"],
                                             environment: ["SWALLOC_ALLOCATOR": allocator], stats: "off", timeout: 300)
            XCTAssertTrue(result.stdout.contains("children_ok=10/10"), "\(allocator): \(result.stdout)")
        }
    }

    func testBumpAndGuardRunPython() {
        for allocator in ["bump", "guard"] {
            _ = assertSameBehaviour(["python3", "-c", "import json; d = {str(i): list(range(i % 30)) for i in range(20000)}; print(len(json.dumps(d)))"],
                                    environment: ["SWALLOC_ALLOCATOR": allocator], stats: "summary")
        }
    }

    func testGuardCatchesAOneByteOverflow() {
        let result = Harness.run([Harness.host("guard_faults"), "overflow"],
                                 environment: ["SWALLOC_ALLOCATOR": "guard", "SWALLOC_STATS": "off"])
        XCTAssertTrue(result.signaled, "should die of SIGSEGV: \(result.status) \(result.stderr)")
        XCTAssertEqual(result.status, SIGSEGV)
        XCTAssertEqual(result.stdout, "in bounds ok\n")
        let line = String(result.reportLines.first ?? "")
        XCTAssertTrue(line.hasPrefix("swalloc: guard: invalid access at 0x"), result.stderr)
        XCTAssertTrue(line.contains(": 0 bytes past the end of block 0x"), line)
        XCTAssertTrue(line.hasSuffix("(128 bytes)"), line)
    }

    /// With every allocation sampled, the fault names where the block came
    /// from, and every fault where the bad access was made: functions,
    /// with the file and offset addr2line takes (read from /proc/self/maps
    /// and the files' symbol tables, never through the loader's lock).
    func testGuardNamesTheAllocationSiteOfASampledBlock() {
        let result = Harness.run([Harness.host("guard_faults"), "overflow"],
                                 environment: ["SWALLOC_ALLOCATOR": "guard", "SWALLOC_STATS": "summary", "SWALLOC_SAMPLE": "1"])
        XCTAssertEqual(result.status, SIGSEGV)
        let lines = result.reportLines.map(String.init)
        XCTAssertTrue(lines.first?.contains("(128 bytes), allocated at main (guard_faults+0x") ?? false, result.stderr)
        // libc's frames are named from its dynamic symbols (Debian strips .symtab).
        XCTAssertTrue(lines.first?.contains("__libc_start_main (libc.so.6+0x") ?? false, result.stderr)
        XCTAssertTrue(lines.contains { $0.hasPrefix("swalloc: guard: the access was made by main (guard_faults+0x") },
                      result.stderr)
        let freed = Harness.run([Harness.host("guard_faults"), "use-after-free"],
                                environment: ["SWALLOC_ALLOCATOR": "guard", "SWALLOC_STATS": "summary", "SWALLOC_SAMPLE": "1"])
        XCTAssertEqual(freed.status, SIGSEGV)
        let freedLine = String(freed.reportLines.first ?? "")
        XCTAssertTrue(freedLine.contains("use after free of block 0x")
                      && freedLine.contains("(64 bytes), allocated at main (guard_faults+0x"), freed.stderr)
        XCTAssertTrue(freed.reportLines.contains { $0.hasPrefix("swalloc: guard: the access was made by main (") },
                      freed.stderr)
    }

    /// The offsets in a fault line are the ones addr2line reads: the
    /// faulting instruction's maps to the host's source line of the write.
    func testGuardFaultOffsetsMatchTheSource() throws {
        let result = Harness.run([Harness.host("guard_faults"), "overflow"],
                                 environment: ["SWALLOC_ALLOCATOR": "guard", "SWALLOC_STATS": "off"])
        XCTAssertEqual(result.status, SIGSEGV)
        let line = try XCTUnwrap(result.reportLines.map(String.init).first { $0.contains("the access was made by") },
                                 result.stderr)
        let offset = try XCTUnwrap(line.range(of: "guard_faults+").map { String(line[$0.upperBound...].prefix { $0 != ")" }) })
        let resolved = Harness.run(["addr2line", "-e", Harness.host("guard_faults"), offset], preload: false)
        let source = try String(contentsOfFile: Harness.root.appendingPathComponent("interpose/hosts/guard_faults.c").path,
                                encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let number = try XCTUnwrap(Int(resolved.stdout.split(separator: ":").last?.prefix { $0.isNumber } ?? ""),
                                   resolved.stdout)
        XCTAssertTrue(source[number - 1].contains("p[128] = 1;"), "\(offset) -> line \(number): \(source[number - 1])")
    }

    func testGuardCatchesAWriteAfterFree() {
        let result = Harness.run([Harness.host("guard_faults"), "use-after-free"],
                                 environment: ["SWALLOC_ALLOCATOR": "guard", "SWALLOC_STATS": "off"])
        XCTAssertTrue(result.signaled)
        XCTAssertEqual(result.status, SIGSEGV)
        XCTAssertEqual(result.stdout, "freed\n")
        let line = String(result.reportLines.first ?? "")
        XCTAssertTrue(line.contains(": use after free of block 0x"), result.stderr)
        // Where it was freed, and where the freed block was written.
        XCTAssertTrue(line.contains("(64 bytes), freed at main (guard_faults+0x"), result.stderr)
        XCTAssertTrue(result.reportLines.contains { $0.hasPrefix("swalloc: guard: the access was made by main (") },
                      result.stderr)
    }

    // MARK: Wrappers

    func testLimitStopsAt64MiB() {
        for allocator in ["system", "bump"] {
            let result = Harness.run([Harness.host("guard_faults"), "limit"],
                                     environment: ["SWALLOC_LIMIT": "64M", "SWALLOC_ALLOCATOR": allocator, "SWALLOC_STATS": "off"])
            XCTAssertEqual(result.status, 0)
            let blocks = Int(result.stdout.split(separator: " ").first?.dropFirst("blocks=".count) ?? "") ?? -1
            XCTAssertTrue((56...64).contains(blocks), "\(allocator): \(result.stdout)")
            XCTAssertTrue(result.stdout.hasSuffix("errno=ENOMEM\n"), result.stdout)
        }
    }

    func testFailEveryHundredth() {
        let result = Harness.run([Harness.host("guard_faults"), "fail"],
                                 environment: ["SWALLOC_FAIL": "nth:100", "SWALLOC_STATS": "summary"])
        XCTAssertEqual(result.stdout, "failed=10\n")
        XCTAssertTrue(result.stderr.contains("failed 10"), result.stderr)
    }

    /// The limit judges a realloc by what is live after it: a shrink near
    /// the cap succeeds, and so does a growth that stays under it; only a
    /// growth past it fails, with ENOMEM, the old block kept. (Old and new
    /// sizes were counted together: a 600 KB block could not shrink under
    /// a 1M limit.) In every mode that frames blocks.
    func testLimitJudgesReallocByWhatIsLiveAfter() {
        for allocator in ["system", "bump", "guard"] {
            let result = Harness.run([Harness.host("guard_faults"), "limit-realloc"],
                                     environment: ["SWALLOC_LIMIT": "1M", "SWALLOC_ALLOCATOR": allocator, "SWALLOC_STATS": "off"])
            XCTAssertEqual(result.stdout, "shrink ok\ngrow ok\npast failed errno=ENOMEM kept=yes\n", allocator)
        }
    }

    func testFailRandomIsRepeatableAndSizeFiltered() {
        func failed(_ setting: String) -> String {
            Harness.run([Harness.host("guard_faults"), "fail"],
                        environment: ["SWALLOC_FAIL": setting, "SWALLOC_STATS": "off"]).stdout
        }
        let first = failed("random:10,seed:42")
        XCTAssertEqual(first, failed("random:10,seed:42"), "the same seed fails the same calls")
        let count = Int(first.dropFirst("failed=".count).dropLast()) ?? -1
        XCTAssertTrue((50...150).contains(count), first)
        XCTAssertEqual(failed("size:64"), "failed=0\n", "32-byte requests are below the filter")
        XCTAssertEqual(failed("size:32"), "failed=1000\n")
        XCTAssertEqual(failed("after:990"), "failed=10\n")
        // Neighbouring seeds draw unrelated failures: seed 2's were seed
        // 1's shifted by one call.
        func failedCalls(_ seed: Int) -> Set<Int> {
            Set(Harness.run([Harness.host("guard_faults"), "fail-list"],
                            environment: ["SWALLOC_FAIL": "random:10,seed:\(seed)", "SWALLOC_STATS": "off"])
                .stdout.split(separator: "\n").compactMap { Int($0) })
        }
        let one = failedCalls(1), two = failedCalls(2)
        XCTAssertGreaterThan(one.count, 50)
        XCTAssertLessThan(one.intersection(Set(two.map { $0 + 1 })).count, one.count / 2, "seed 2 is seed 1 shifted")
        XCTAssertLessThan(one.intersection(two).count, one.count / 2, "seed 2 is seed 1")
    }

    func testBadWrapperSettings() {
        let result = Harness.run([Harness.host("guard_faults"), "fail"],
                                 environment: ["SWALLOC_FAIL": "sometimes", "SWALLOC_LIMIT": "lots", "SWALLOC_STATS": "off"])
        XCTAssertEqual(result.stdout, "failed=0\n")
        XCTAssertEqual(result.reportLines, [
            "swalloc: SWALLOC_LIMIT=lots: not a size (like 64M, 2G or 1048576); using no limit",
            "swalloc: SWALLOC_FAIL=sometimes: expected nth:N, after:N, random:PERCENT, seed:S, size:BYTES (comma-separated); using no fault injection",
        ])
    }
}
