import Foundation
import XCTest

/// fork in threaded programs and from signal handlers, and errno across
/// free, under every serving mode (docs/fork-and-signals.md). The hosts do
/// what glibc's tst-malloc-fork-deadlock, tst-mallocfork, tst-mallocfork2
/// and tst-free-errno check; a hang is a failure after the timeout.
final class ForkSafetyTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireBuilt() }

    /// Profiles go to files, so that a child's report cannot be mistaken
    /// for the program's output; they are removed with the directory.
    func environment(_ mode: [String: String], _ directory: URL) -> [String: String] {
        var environment = mode
        if mode["SWALLOC_STATS"] == nil { environment["SWALLOC_OUT"] = directory.path + "/p.%p.json" }
        return environment
    }

    /// Forking threads, getline readers and an fflush(NULL) thread for two
    /// seconds: the cycle through the stdio list lock must not close.
    func testThreadsForkWhileOthersAllocateInStdio() {
        let directory = Harness.temporaryDirectory(self)
        for mode in ServingModes.all {
            let result = Harness.run([Harness.host("fork_threads"), "2", directory.path + "/line.txt"],
                                     environment: environment(mode.environment, directory), timeout: 60)
            XCTAssertFalse(result.timedOut, "\(mode.name): fork_threads hung")
            XCTAssertEqual(result.status, 0, "\(mode.name): \(result.stderr.prefix(2000))")
            XCTAssertEqual(result.stdout, "forks=some readers_ok=1\n", mode.name)
        }
    }

    /// fork from a signal handler that interrupts malloc and free; the
    /// child leaves with _exit, or with exit (its report then runs inside
    /// the handler, perhaps while the interrupted code holds a lock).
    func testForkFromSignalHandlerInterruptingAllocations() {
        let directory = Harness.temporaryDirectory(self)
        for mode in ServingModes.all {
            for arguments in [["300"], ["100", "exit"]] {
                let result = Harness.run([Harness.host("fork_signal")] + arguments,
                                         environment: environment(mode.environment, directory), timeout: 60)
                let name = "\(mode.name) \(arguments.joined(separator: " "))"
                XCTAssertFalse(result.timedOut, "\(name): fork_signal hung")
                XCTAssertEqual(result.status, 0, "\(name): \(result.stderr.prefix(2000))")
                XCTAssertTrue(result.stdout.hasPrefix("signals="), "\(name): \(result.stdout)")
            }
        }
    }

    /// jemalloc's and tcmalloc's fork handlers take their locks, and hung a
    /// fork from a signal handler that interrupted one of their
    /// allocations (also with either preloaded alone), and, loaded by the
    /// library after the program's libraries registered theirs, a prepare
    /// handler of those that allocates (atfork_alloc). The library gives
    /// them glibc's rules (allocator_fork.c): nothing taken in a
    /// single-threaded process, and in a threaded one taken after every
    /// other prepare handler ran, released before any other parent or
    /// child handler runs (fork_threads: a child that allocates needs
    /// them released).
    func testForkUnderJemallocAndTcmalloc() {
        let directory = Harness.temporaryDirectory(self)
        for allocator in ["jemalloc", "tcmalloc"] {
            for stats in ["off", "summary"] {
                var mode = ["SWALLOC_ALLOCATOR": allocator, "SWALLOC_STATS": stats]
                if allocator == "jemalloc" { mode["LD_PRELOAD"] = Harness.library + ":libstdc++.so.6:libjemalloc.so.2" }
                let name = "\(allocator) \(stats)"
                for arguments in [["300"], ["100", "exit"]] {
                    let result = Harness.run([Harness.host("fork_signal")] + arguments,
                                             environment: environment(mode, directory), timeout: 60)
                    XCTAssertFalse(result.timedOut, "\(name) \(arguments): fork_signal hung")
                    XCTAssertEqual(result.status, 0, "\(name) \(arguments): \(result.stderr.prefix(2000))")
                    XCTAssertTrue(result.stdout.hasPrefix("signals="), "\(name): \(result.stdout)")
                    XCTAssertFalse(result.stderr.contains("cannot use it"), result.stderr)
                }
                let late = Harness.run([Harness.host("atfork_alloc")], environment: environment(mode, directory), timeout: 30)
                XCTAssertFalse(late.timedOut, "\(name): atfork_alloc hung")
                XCTAssertEqual(late.stdout, "forked 5\n", "\(name): \(late.stderr.prefix(1000))")
                let threads = Harness.run([Harness.host("fork_threads"), "2", directory.path + "/line.txt"],
                                          environment: environment(mode, directory), timeout: 60)
                XCTAssertFalse(threads.timedOut, "\(name): fork_threads hung")
                XCTAssertEqual(threads.status, 0, "\(name): \(threads.stderr.prefix(2000))")
                XCTAssertEqual(threads.stdout, "forks=some readers_ok=1\n", name)
            }
        }
    }

    /// A prepare handler registered before the library's constructor ran
    /// (a dependency's) ran after the plug-in's own had taken its locks,
    /// and allocates a size its thread never had and frees a large block
    /// of the plug-in's. Under size_classes.c with the version 3 flags it
    /// hung (its entries skip the depth test that sends the allocation to
    /// glibc); without them the free went to glibc, which aborted. A
    /// plug-in's fork handlers now run after every other prepare handler
    /// (allocator_fork.c), and a free during a fork asks the allocator.
    func testPrepareHandlerThatAllocatesRunsLast() {
        let modes = ServingModes.all + [
            ("size_classes", ["SWALLOC_ALLOCATOR": Harness.host("libsize_classes.so"), "SWALLOC_STATS": "off"]),
            ("size_classes guarded", ["SWALLOC_ALLOCATOR": Harness.host("libsize_classes_guarded.so"), "SWALLOC_STATS": "off"]),
        ]
        let directory = Harness.temporaryDirectory(self)
        for mode in modes {
            let result = Harness.run([Harness.host("atfork_alloc")], environment: environment(mode.1, directory), timeout: 30)
            XCTAssertFalse(result.timedOut, "\(mode.0): atfork_alloc hung")
            XCTAssertEqual(result.status, 0, "\(mode.0): \(result.stderr.prefix(1000))")
            XCTAssertEqual(result.stdout, "forked 5\n", mode.0)
        }
    }

    /// The children's profiles are whole JSON documents, each its own
    /// account, also when the report ran inside the signal handler.
    func testChildrenForkedInSignalHandlersReport() throws {
        let directory = Harness.temporaryDirectory(self)
        let result = Harness.run([Harness.host("fork_signal"), "50", "exit"],
                                 environment: ["SWALLOC_OUT": directory.path + "/p.%p.json", "SWALLOC_SAMPLE": "1"],
                                 timeout: 60)
        XCTAssertEqual(result.status, 0, result.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }
        XCTAssertGreaterThanOrEqual(files.count, 50, "one profile per child, and the parent's")
        for file in files {
            let data = try Data(contentsOf: directory.appendingPathComponent(file))
            XCTAssertNoThrow(try JSONSerialization.jsonObject(with: data), "\(file) is not JSON")
        }
    }

    func testFreeKeepsErrno() {
        for mode in ServingModes.all {
            let result = Harness.run([Harness.host("free_errno")], environment: mode.environment, timeout: 60)
            XCTAssertEqual(result.status, 0, "\(mode.name): \(result.stdout) \(result.stderr.prefix(1000))")
            XCTAssertEqual(result.stdout, "free_errno ok\n", mode.name)
        }
    }
}
