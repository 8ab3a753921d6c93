import Swalloc
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `handleAllocError`, `setAllocErrorHook` and `takeAllocErrorHook`
/// (Rust's `handle_alloc_error` and its hooks). The abort is observed in a
/// forked child, which only calls the handler, writes and aborts.
final class AllocErrorHandlingTests: XCTestCase {
    /// Forks; the child runs `body` with its stderr on a pipe. Returns the
    /// child's wait status and what it wrote.
    func inChild(_ body: () -> Void) -> (status: Int32, output: String) {
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        let pid = fork()
        if pid == 0 {
            dup2(fds[1], 2)
            // The Swift runtime's backtracer would print on the abort.
            signal(SIGABRT, SIG_DFL)
            body()
            _exit(0)
        }
        close(fds[1])
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 256)
        while true {
            let n = read(fds[0], &chunk, chunk.count)
            if n <= 0 { break }
            bytes += chunk[0..<n]
        }
        close(fds[0])
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return (status, String(decoding: bytes, as: UTF8.self))
    }

    func testDefaultMessageThenAbort() throws {
        let layout = try Layout(size: 123_456_789, alignment: 8)
        let (status, output) = inChild { handleAllocError(AllocError(.exhausted, layout: layout)) }
        XCTAssertEqual(status & 0x7f, SIGABRT, "killed by SIGABRT")
        XCTAssertEqual(output, "memory allocation of 123456789 bytes failed\n")
        let (_, overflow) = inChild { handleAllocError(AllocError(.exhausted, layout: nil)) }
        XCTAssertEqual(overflow, "memory allocation failed: capacity overflow\n")
    }

    func testHookRunsBeforeTheAbortAndCanBeTaken() throws {
        let layout = try Layout(size: 64, alignment: 16)
        setAllocErrorHook { error in
            let line = "hook: \(error)\n"
            _ = line.withCString { write(2, $0, strlen($0)) }
        }
        let (status, output) = inChild { handleAllocError(AllocError(.unsupportedLayout, layout: layout)) }
        XCTAssertEqual(status & 0x7f, SIGABRT)
        XCTAssertEqual(output, "hook: allocation of Layout(size: 64, alignment: 16) failed: layout not supported\n")
        XCTAssertNotNil(takeAllocErrorHook())
        XCTAssertNil(takeAllocErrorHook(), "taking the hook removes it")
        let (_, after) = inChild { handleAllocError(AllocError(.exhausted, layout: layout)) }
        XCTAssertEqual(after, "memory allocation of 64 bytes failed\n")
    }

    /// A bump region the C library cannot provide ends through the handler.
    func testBumpAllocatorThatCannotGetItsRegionUsesTheHandler() {
        let (status, output) = inChild { _ = BumpAllocator(capacity: Int.max / 2) }
        XCTAssertEqual(status & 0x7f, SIGABRT)
        XCTAssertEqual(output, "memory allocation of \(Int.max / 2) bytes failed\n")
    }
}

/// The debug checks of `ArenaAllocator` and `BumpAllocator` (issue #15):
/// a collection that outlived `reset()` traps at its next grow or free
/// where its block can be told from the new ones. Debug builds only, as
/// Rust's debug assertions; each case runs in a forked child.
final class ResetUnderLiveBlocksTests: XCTestCase {
    func trapsInChild(_ body: () -> Void) -> Bool {
        let pid = fork()
        if pid == 0 {
            let null = open("/dev/null", O_WRONLY)
            dup2(null, 2)
            signal(SIGILL, SIG_DFL)
            signal(SIGTRAP, SIG_DFL)
            body()
            _exit(0)
        }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        return status & 0x7f == SIGILL || status & 0x7f == SIGTRAP
    }

    func testArenaResetUnderALiveVectorIsCaught() throws {
        #if !DEBUG
        throw XCTSkip("the check is a debug assertion")
        #else
        XCTAssertTrue(trapsInChild {
            let arena = ArenaAllocator()
            var vec = AllocVec<Int, ArenaAllocator>(allocator: arena)
            for value in 0..<100 { try! vec.append(value) }
            arena.reset()
            for value in 0..<1000 { try! vec.append(value) }  // grows a block the arena gave back
        })
        // The same without the reset runs to the end.
        XCTAssertFalse(trapsInChild {
            let arena = ArenaAllocator()
            var vec = AllocVec<Int, ArenaAllocator>(allocator: arena)
            for value in 0..<1100 { try! vec.append(value) }
        })
        #endif
    }

    func testBumpResetUnderALiveBoxIsCaught() throws {
        #if !DEBUG
        throw XCTSkip("the check is a debug assertion")
        #else
        XCTAssertTrue(trapsInChild {
            let bump = BumpAllocator(capacity: 4096)
            let box = try! AllocBox(42, allocator: bump)
            bump.reset()
            _ = consume box  // frees a block above the new top
        })
        XCTAssertFalse(trapsInChild {
            let bump = BumpAllocator(capacity: 4096)
            let box = try! AllocBox(42, allocator: bump)
            _ = consume box
            bump.reset()
        })
        #endif
    }
}
