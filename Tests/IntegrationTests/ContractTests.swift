import XCTest

/// The malloc family's contract, checked in a C process against glibc.
final class ContractTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireBuilt() }

    /// Direct mode (system, statistics off): glibc's answers, fact by fact.
    func testContractDirectModeMatchesGlibc() {
        let result = assertSameBehaviour([Harness.host("contract")], stats: "off")
        XCTAssertTrue(result.stdout.hasSuffix("OK (0 failures)\n"), result.stdout)
        XCTAssertTrue(result.reportLines.isEmpty, "statistics off must print nothing")
    }

    /// Counting mode (statistics: trailer blocks up to 64 KiB, headers
    /// above, sampling on): still glibc's answers.
    func testContractCountingModeMatchesGlibc() {
        let result = assertSameBehaviour([Harness.host("contract")], stats: "summary")
        XCTAssertTrue(result.stdout.hasSuffix("OK (0 failures)\n"), result.stdout)
        XCTAssertFalse(result.reportLines.isEmpty, "the summary is missing")
    }

    /// The library exports the malloc family, its C API, the two places a
    /// program starts to exit, _exit and _Exit (a quick exit's live
    /// profile), pipe2 (for libunwind's pipe) and the few others
    /// docs/architecture.md names, nothing
    /// else (no swift_* runtime symbols that could take over a Swift host's).
    func testExportsOnlyTheFamilyAndTheCAPI() {
        let nm = Harness.run(["nm", "-D", "--defined-only", Harness.library], preload: false)
        XCTAssertEqual(nm.status, 0, nm.stderr)
        let exported = Set(nm.stdout.split(separator: "\n").compactMap { line -> String? in
            let fields = line.split(separator: " ")
            guard fields.count == 3, fields[1] == "T" || fields[1] == "W" else { return nil }
            return String(fields[2])
        })
        XCTAssertEqual(exported, [
            "malloc", "free", "calloc", "realloc", "reallocarray", "posix_memalign", "aligned_alloc",
            "memalign", "valloc", "pvalloc", "malloc_usable_size", "cfree", "free_sized",
            "free_aligned_sized", "swalloc_set_global_allocator", "swalloc_set_global_allocator_v2", "swalloc_free_foreign", "__libc_start_main", "exit", "_exit", "_Exit", "pipe2", "dlopen", "pthread_atfork", "__register_atfork", "mallinfo", "mallinfo2",
        ])
        let needed = Harness.run(["readelf", "-d", Harness.library], preload: false).stdout
            .split(separator: "\n").filter { $0.contains("(NEEDED)") }
        XCTAssertEqual(needed.count, 1, "only libc may be needed: \(needed)")
        XCTAssertTrue(needed.first?.contains("libc.so.6") ?? false)
    }

    /// malloc and free are one indirect jump to the mode's entry, and the
    /// entries make no call into the Swift runtime (swift_once,
    /// retain/release, allocation).
    func testHotPathCallsNoSwiftRuntime() {
        let disassembly = Harness.run(["objdump", "-d", "--no-show-raw-insn", Harness.library], preload: false).stdout
        let symbols = Harness.run(["nm", "-D", "--defined-only", Harness.library], preload: false).stdout
        for function in ["malloc", "free"] {
            // Aliases share an address (free, cfree, free_sized…): find the
            // function by address, whatever name objdump chose for it.
            guard let address = symbols.split(separator: "\n").first(where: { $0.hasSuffix(" " + function) })?
                    .split(separator: " ").first,
                  let start = disassembly.range(of: "\n" + address + " <") else {
                XCTFail("\(function) not found")
                continue
            }
            let body = disassembly[start.upperBound...]
            let text = String(body[..<(body.range(of: "\n\n")?.lowerBound ?? body.endIndex)])
            XCTAssertFalse(text.contains("swift_"), "\(function) calls the Swift runtime:\n\(text)")
            XCTAssertLessThan(text.split(separator: "\n").count, 12, "\(function) is not small:\n\(text)")
        }
        // What the exported malloc and free jump to (swalloc_install_entries):
        // straight-line paths with no call into the Swift runtime either.
        for (entry, limit) in [("swalloc_direct_free", 10), ("swalloc_counting_malloc", 80),
                               ("swalloc_counting_free", 40), ("swalloc_registered_malloc", 50),
                               ("swalloc_registered_free", 50)] {
            guard let start = disassembly.range(of: " <\(entry)>:\n") else {
                XCTFail("\(entry) not found")
                continue
            }
            let body = disassembly[start.upperBound...]
            let text = String(body[..<(body.range(of: "\n\n")?.lowerBound ?? body.endIndex)])
            XCTAssertFalse(text.contains("swift_"), "\(entry) calls the Swift runtime:\n\(text)")
            // The checked build adds its invariants' tests: its size is the
            // normal build's business (CI's first pass).
            guard !Harness.libraryIsChecked else { continue }
            XCTAssertLessThan(text.split(separator: "\n").count, limit, "\(entry) is not small:\n\(text)")
        }
    }
}
