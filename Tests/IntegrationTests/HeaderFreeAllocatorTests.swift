import Foundation
import XCTest

/// Allocators that know their own blocks (swalloc.h version 2; issue #14,
/// item 5): with statistics off, no header; with them, the version 1 frame.
/// The documented C example (docs/examples/c-plugin/size_classes.c) and the
/// built-ins that offer the entries (mimalloc, tcmalloc).
final class HeaderFreeAllocatorTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireBuilt() }

    var sizeClasses: String { Harness.host("libsize_classes.so") }
    /// The same without the version 3 flags: the library's guarded entries.
    var sizeClassesGuarded: String { Harness.host("libsize_classes_guarded.so") }

    /// glibc's contract, the threaded stress host and C++ threads behave as
    /// without the library, in both framings.
    func testSizeClassesKeepsTheContract() {
        for plugin in [sizeClasses, sizeClassesGuarded] {
            for stats in ["off", "summary"] {
                for host in ["contract", "stress", "cxx_threads"] {
                    let result = assertSameBehaviour([Harness.host(host)], environment: ["SWALLOC_ALLOCATOR": plugin],
                                                     stats: stats, ignoringStderr: ["swalloc"])
                    XCTAssertFalse(result.stderr.contains("using system"), "\(plugin) \(stats) \(host): \(result.stderr)")
                }
            }
        }
    }

    /// 0 bytes per block: 16-byte blocks sit 16 bytes apart without
    /// statistics, 32 with them (the 16-byte header, then the next class).
    /// mimalloc and tcmalloc too; bump keeps its header.
    func testNoHeaderWithoutStatistics() {
        let cases: [(String, String, String)] = [
            (sizeClasses, "off", "spacing 16 usable 16\n"),
            (sizeClasses, "summary", "spacing 32 usable 16\n"),
            ("mimalloc", "off", "spacing 16 usable 16\n"),
            ("tcmalloc", "off", "spacing 16 usable 16\n"),
            ("bump", "off", "spacing 32 usable 16\n"),
        ]
        for (allocator, stats, expected) in cases {
            let result = Harness.run([Harness.host("block_spacing")],
                                     environment: ["SWALLOC_ALLOCATOR": allocator, "SWALLOC_STATS": stats])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(result.stdout, expected, "\(allocator) \(stats)")
        }
    }

    /// The blocks the library serves itself (the bootstrap arena, glibc's
    /// for its own calls) are not the allocator's, which says so through
    /// owns: programs that free what was allocated before start-up, in
    /// threads, across fork and from signal handlers run as without it.
    func testForeignBlocksAndForksUnderAHeaderFreeAllocator() {
        for plugin in [sizeClasses, sizeClassesGuarded] {
            let directory = Harness.temporaryDirectory(self)
            let environment = ["SWALLOC_ALLOCATOR": plugin, "SWALLOC_STATS": "off"]
            let threads = Harness.run([Harness.host("fork_threads"), "1", directory.path + "/line.txt"],
                                      environment: environment, timeout: 60)
            XCTAssertEqual(threads.status, 0, plugin + threads.stderr)
            XCTAssertEqual(threads.stdout, "forks=some readers_ok=1\n", plugin)
            let signals = Harness.run([Harness.host("fork_signal"), "100"], environment: environment, timeout: 60)
            XCTAssertEqual(signals.status, 0, plugin + signals.stderr)
            XCTAssertTrue(signals.stdout.hasPrefix("signals="), plugin + signals.stdout)
            let errno = Harness.run([Harness.host("free_errno")], environment: environment)
            XCTAssertEqual(errno.status, 0, plugin + errno.stdout + errno.stderr)
            for program in [["python3", "-c", "print(sum(len(str(i)) for i in range(100000)))"], ["sort", "--version"]] {
                _ = assertSameBehaviour(program, environment: ["SWALLOC_ALLOCATOR": plugin])
            }
        }
    }

    /// Version 3's flags are read only from a table whose `size` covers
    /// them: a version 2 table, built before they existed, whose `alloc`
    /// calls malloc (allowed without SWALLOC_NEVER_REENTERS), keeps the
    /// reentrancy guard even with the flag's bit in the bytes after it.
    /// Read, the flag would make that malloc recurse until the stack ends.
    /// The same table with a `size` that covers the flag is the control.
    func testFlagsBeyondAVersion2TableAreNotRead() throws {
        let directory = Harness.temporaryDirectory(self)
        let include = Harness.root.appendingPathComponent("dist/include").path
        for (name, size) in [("v2", "offsetof(struct swalloc_global_allocator_v2, flags)"),
                             ("v3", "sizeof(struct swalloc_global_allocator_v2)")] {
            let source = directory.appendingPathComponent("\(name).c")
            try """
                #include "swalloc.h"
                #include <stddef.h>
                #include <stdlib.h>
                #include <malloc.h>
                /* glibc's own blocks, found through malloc: a reentering allocator. */
                static void *a(void *c, size_t s, size_t al) { (void)c; (void)al; return malloc(s); }
                static void d(void *c, void *p, size_t s, size_t al) { (void)c; (void)s; (void)al; free(p); }
                static int o(void *c, const void *p) { (void)c; (void)p; return 0; }
                static size_t u(void *c, const void *p) { (void)c; return malloc_usable_size((void *)p); }
                static int f(void *c, void *p) { (void)c; (void)p; return 0; }
                void swalloc_register(void) {
                    static const struct swalloc_global_allocator_v2 table = {
                        .size = \(size), .base = {.alloc = a, .dealloc = d, .name = "reentering"},
                        .owns = o, .usable_size = u, .free = f, .flags = SWALLOC_NEVER_REENTERS};
                    swalloc_set_global_allocator_v2(&table);
                }
                """.write(to: source, atomically: true, encoding: .utf8)
            let plugin = directory.appendingPathComponent("lib\(name).so").path
            let cc = Harness.run(["cc", "-shared", "-fPIC", "-I", include, source.path, "-o", plugin], preload: false)
            XCTAssertEqual(cc.status, 0, cc.stderr)
            let result = Harness.run(["/bin/echo", "ran"], environment: ["SWALLOC_ALLOCATOR": plugin, "SWALLOC_STATS": "off"],
                                     timeout: 30)
            if name == "v2" {
                XCTAssertEqual(result.status, 0, result.stderr)
                XCTAssertEqual(result.stdout, "ran\n")
            } else {
                XCTAssertNotEqual(result.status, 0, "the flag was not read: \(result.stderr)")
            }
        }
    }

    /// A version 2 table whose `size` does not cover its base table is
    /// refused with a line, and the process runs on glibc.
    func testShortVersion2TableIsRefused() throws {
        let directory = Harness.temporaryDirectory(self)
        let source = directory.appendingPathComponent("short.c")
        try """
            #include "swalloc.h"
            #include <stdlib.h>
            static void *a(void *c, size_t s, size_t al) { (void)c; (void)al; return malloc(s); }
            static void d(void *c, void *p, size_t s, size_t al) { (void)c; (void)s; (void)al; free(p); }
            void swalloc_register(void) {
                static const struct swalloc_global_allocator_v2 table = {
                    .size = sizeof(size_t), .base = {.alloc = a, .dealloc = d, .name = "short"}};
                swalloc_set_global_allocator_v2(&table);
            }
            """.write(to: source, atomically: true, encoding: .utf8)
        let plugin = directory.appendingPathComponent("libshort.so").path
        let include = Harness.root.appendingPathComponent("dist/include").path
        let cc = Harness.run(["cc", "-shared", "-fPIC", "-I", include, source.path, "-o", plugin], preload: false)
        XCTAssertEqual(cc.status, 0, cc.stderr)
        let result = Harness.run([Harness.host("contract")], environment: ["SWALLOC_ALLOCATOR": plugin, "SWALLOC_STATS": "off"])
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("alloc and dealloc are required"), result.stderr)
        XCTAssertTrue(result.stderr.contains("swalloc_register installed no allocator; using system"), result.stderr)
    }
}
