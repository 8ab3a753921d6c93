import Foundation
import XCTest

/// A program's allocation errors end as they do under glibc alone, in
/// glibc's abort with its message, never in a fault inside the library.
/// (bump and guard answer double frees themselves: issue #14.)
final class MisuseTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireBuilt() }

    let glibcModes = ServingModes.all.filter { ["off", "default", "sample1", "limit"].contains($0.name) }

    func testDoubleFreesEndInGlibcsAbort() {
        for misuse in ["double_large", "double_first"] {
            let plain = Harness.run([Harness.host("misuse"), misuse], preload: false)
            XCTAssertTrue(plain.signaled && plain.status == SIGABRT, "\(misuse) without the library: \(plain.status)")
            for mode in glibcModes {
                let result = Harness.run([Harness.host("misuse"), misuse], environment: mode.environment, timeout: 30)
                XCTAssertTrue(result.signaled, "\(misuse), \(mode.name): not killed: \(result.status)")
                XCTAssertEqual(result.status, SIGABRT, "\(misuse), \(mode.name): \(result.stderr.prefix(500))")
                // glibc's messages read "function(): reason", or name the double free.
                XCTAssertTrue(result.programStderr.contains("(): ") || result.programStderr.contains("double free"),
                              "\(misuse), \(mode.name): no glibc message: \(result.stderr.prefix(500))")
            }
        }
    }

    /// Calls refused before any allocator is asked count as failed calls,
    /// and keep glibc's errors.
    func testRejectedCallsAreFailedCalls() throws {
        let plain = Harness.run([Harness.host("misuse"), "rejected"], preload: false)
        XCTAssertEqual(plain.stdout, "12 22 22 12\n")
        let path = Harness.temporaryDirectory(self).appendingPathComponent("p.json").path
        for mode in ServingModes.all {
            var environment = mode.environment
            if mode.name != "off" { environment["SWALLOC_OUT"] = path }
            let result = Harness.run([Harness.host("misuse"), "rejected"], environment: environment, timeout: 30)
            XCTAssertEqual(result.stdout, plain.stdout, mode.name)
            guard mode.name != "off" else { continue }
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
            let totals = (json as? [String: Any])?["totals"] as? [String: Any]
            XCTAssertEqual(totals?["failed_calls"] as? Int, 4, mode.name)
        }
    }

    /// Not under guard, whose point is to report this as a use after free.
    func testUsableSizeOfAFreedBlockDoesNotFault() {
        for mode in ServingModes.all where mode.name != "guard" {
            let result = Harness.run([Harness.host("misuse"), "usable_freed"], environment: mode.environment, timeout: 30)
            XCTAssertEqual(result.status, 0, "\(mode.name): \(result.stderr.prefix(500))")
            XCTAssertFalse(result.signaled, mode.name)
            XCTAssertEqual(result.stdout, "usable asked\n", mode.name)
        }
    }
}

/// A library loaded with RTLD_DEEPBIND (as PHP loads its extensions) shares
/// blocks with the program in every mode, and its allocations are counted.
final class DeepBindTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireBuilt() }

    func testDeepBoundLibrarySharesBlocksInEveryMode() throws {
        let arguments = [Harness.host("deepbind"), Harness.host("libdeepbind_lib.so")]
        for mode in ServingModes.all {
            let result = Harness.run(arguments, environment: mode.environment, timeout: 30)
            XCTAssertEqual(result.status, 0, "\(mode.name): \(result.stderr.prefix(500))")
            XCTAssertEqual(result.stdout, "deepbind ok\n", mode.name)
        }
        let directory = Harness.temporaryDirectory(self)
        let path = directory.appendingPathComponent("p.json").path
        _ = Harness.run(arguments, environment: ["SWALLOC_OUT": path, "SWALLOC_SAMPLE": "0"], timeout: 30)
        let profile = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any]
        let totals = profile?["totals"] as? [String: Any]
        XCTAssertGreaterThanOrEqual(totals?["malloc_calls"] as? Int ?? 0, 2000, "the library's mallocs are counted")
        XCTAssertGreaterThanOrEqual(totals?["free_calls"] as? Int ?? 0, 2000, "and its frees")
    }
}

/// glibc's malloc debugging (libc_malloc_debug.so with MALLOC_CHECK_=3),
/// preloaded after the library, is the allocator under `system` and catches
/// what it catches without the library.
final class MallocDebugTests: XCTestCase {
    let debugLibrary = "/lib/x86_64-linux-gnu/libc_malloc_debug.so.0"

    override func setUpWithError() throws {
        try Harness.requireBuilt()
        guard FileManager.default.fileExists(atPath: debugLibrary) else { throw XCTSkip("no \(debugLibrary)") }
    }

    /// glibc's old hooks (in libc_malloc_debug.so since 2.34) run under
    /// every allocator as under glibc's own: each hook counts the calls
    /// glibc sends it (compat_hooks prints the counts), the program's
    /// __malloc_initialize_hook runs at the first malloc, and the debug
    /// library's first block, which its set-up serves from glibc's
    /// allocator with MALLOC_CHECK_'s exact usable size, is resized and
    /// freed by the debug library under an allocator that does not know it.
    /// Under bump, guard and the plug-ins the hooks never ran (glibc's
    /// tst-compathooks-on, tst-mallocstate), and jemalloc's free of that
    /// first block crashed.
    func testCompatibilityHooksRunUnderEveryAllocator() {
        let host = Harness.host("compat_hooks")
        let plainHooks = Harness.run([host, "hooks"], preload: false, environment: ["LD_PRELOAD": debugLibrary])
        XCTAssertEqual(plainHooks.stdout, "malloc 2 free 6 realloc 1 memalign 4, cleared 1, posix_memalign 0\n",
                       plainHooks.stderr)
        let plainFirst = Harness.run([host, "first"], preload: false,
                                     environment: ["LD_PRELOAD": debugLibrary, "MALLOC_CHECK_": "3"])
        XCTAssertEqual(plainFirst.stdout, "usable 7\nkept 1\n", plainFirst.stderr)
        let plainInit = Harness.run([host, "init"], preload: false, environment: ["LD_PRELOAD": debugLibrary])
        XCTAssertEqual(plainInit.stdout, "init 1, malloc hook 2, usable 1\n", plainInit.stderr)
        var modes = ServingModes.all
        modes.append(("size-classes", ["SWALLOC_ALLOCATOR": Harness.host("libsize_classes.so"), "SWALLOC_STATS": "off"]))
        modes.append(("tcmalloc", ["SWALLOC_ALLOCATOR": "tcmalloc"]))
        for mode in modes {
            var environment = mode.environment
            environment["LD_PRELOAD"] = "\(Harness.library) \(debugLibrary)"
            let hooks = Harness.run([host, "hooks"], environment: environment, timeout: 30)
            XCTAssertEqual(hooks.stdout, plainHooks.stdout, "\(mode.name): \(hooks.stderr)")
            // The set-up's answer is the block the program's hook returned,
            // not the second one it allocated: taken for glibc's, it went to
            // glibc's free and the program died.
            let initialized = Harness.run([host, "init"], environment: environment, timeout: 30)
            XCTAssertEqual(initialized.stdout, plainInit.stdout, "\(mode.name): \(initialized.stderr)")
            environment["MALLOC_CHECK_"] = "3"
            let first = Harness.run([host, "first"], environment: environment, timeout: 30)
            XCTAssertEqual(first.stdout, plainFirst.stdout, "\(mode.name): \(first.stderr)")
            XCTAssertEqual(first.status, 0, "\(mode.name): \(first.stderr)")
        }
    }

    /// With address randomisation off (setarch -R): MALLOC_CHECK_'s check
    /// depends on where the block is, and misses about 1 one-byte overflow
    /// in 150 with or without the library (2 of 300 runs of glibc alone).
    func testMallocCheckCatchesAnOverflowUnderTheLibrary() {
        let fixed = ["setarch", "x86_64", "-R"]
        let plain = Harness.run(fixed + [Harness.host("misuse"), "overflow_one"], preload: false,
                                environment: ["MALLOC_CHECK_": "3", "LD_PRELOAD": debugLibrary])
        XCTAssertEqual(plain.status, SIGABRT, plain.stderr)
        for stats in ["off", "summary"] {
            let result = Harness.run(fixed + [Harness.host("misuse"), "overflow_one"],
                                     environment: ["MALLOC_CHECK_": "3", "SWALLOC_STATS": stats,
                                                   "LD_PRELOAD": "\(Harness.library) \(debugLibrary)"], timeout: 30)
            XCTAssertTrue(result.signaled, "\(stats): \(result.stderr)")
            XCTAssertEqual(result.status, SIGABRT, "\(stats): \(result.stderr)")
            XCTAssertEqual(result.programStderr, plain.stderr, stats)
        }
        let named = Harness.run([Harness.host("exit_status")],
                                environment: ["LD_PRELOAD": "\(Harness.library) \(debugLibrary)"], timeout: 30)
        XCTAssertTrue(named.stderr.contains("allocator libc_malloc_debug.so.0"), named.stderr)
    }
}

/// The checked build (`scripts/build --checked`, run by CI as a second
/// pass) stops at a broken invariant with a line that names it.
final class InvariantTests: XCTestCase {
    override func setUpWithError() throws {
        try Harness.requireBuilt()
        guard Harness.libraryIsChecked else {
            throw XCTSkip("needs the checked library: scripts/test --checked (CI's second pass)")
        }
    }

    func testCorruptedHeaderTripsAnInvariant() {
        let result = Harness.run([Harness.host("misuse"), "corrupt_header"], timeout: 30)
        XCTAssertTrue(result.signaled, result.stderr)
        XCTAssertEqual(result.status, SIGABRT, result.stderr)
        XCTAssertTrue(result.stderr.contains("swalloc: invariant failed: a header's alignment is a power of two"),
                      result.stderr)
    }
}
