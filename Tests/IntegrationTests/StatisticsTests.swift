import Foundation
import SwallocReport
import XCTest

/// The profile's numbers against workloads whose allocations are known.
final class StatisticsTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireBuilt() }

    /// Runs a host with SWALLOC_OUT and returns its profile.
    func profile(_ arguments: [String], environment: [String: String] = [:]) throws -> Profile {
        let directory = Harness.temporaryDirectory(self)
        let path = directory.appendingPathComponent("profile.json").path
        var env = environment
        env["SWALLOC_OUT"] = path
        // Counting is tested on its own; sampling has its own tests.
        if env["SWALLOC_SAMPLE"] == nil { env["SWALLOC_SAMPLE"] = "0" }
        let result = Harness.run(arguments, environment: env)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "", "json to a file prints nothing on stderr")
        return try Profile.load(path: path)
    }

    /// workload N: the difference between N = 4000 and N = 2000 is exactly
    /// the calls and bytes the host's header comment lists for 2000.
    func testCountersMatchToTheCallAndTheByte() throws {
        let small = try profile([Harness.host("workload"), "2000"]).totals
        let large = try profile([Harness.host("workload"), "4000"]).totals
        let n: UInt64 = 2000
        XCTAssertEqual(large.mallocCalls - small.mallocCalls, 2 * n)
        XCTAssertEqual(large.callocCalls - small.callocCalls, n)
        XCTAssertEqual(large.reallocCalls - small.reallocCalls, n)
        XCTAssertEqual(large.alignedCalls - small.alignedCalls, n)
        XCTAssertEqual(large.freeCalls - small.freeCalls, 4 * n)
        XCTAssertEqual(large.allocations - small.allocations, 5 * n)
        XCTAssertEqual(large.deallocations - small.deallocations, 5 * n)
        XCTAssertEqual(large.bytesAllocated - small.bytesAllocated, 706 * n)
        XCTAssertEqual(large.bytesFreed - small.bytesFreed, 706 * n)
        XCTAssertEqual(large.liveAllocationsAtExit, small.liveAllocationsAtExit)
        XCTAssertEqual(large.liveBytesAtExit, small.liveBytesAtExit)
        XCTAssertEqual(large.failedCalls, 0)
    }

    /// With glibc's mmap threshold at 0 every chunk is mmapped, and no
    /// trailer fits its slack (TrailerBlock.mark): every small block then
    /// takes the header instead, and the counts stay exact.
    func testCountersStayExactWhenGlibcMapsEveryBlock() throws {
        let environment = ["MALLOC_MMAP_THRESHOLD_": "0"]
        let small = try profile([Harness.host("workload"), "500"], environment: environment).totals
        let large = try profile([Harness.host("workload"), "1000"], environment: environment).totals
        let n: UInt64 = 500
        XCTAssertEqual(large.mallocCalls - small.mallocCalls, 2 * n)
        XCTAssertEqual(large.reallocCalls - small.reallocCalls, n)
        XCTAssertEqual(large.freeCalls - small.freeCalls, 4 * n)
        XCTAssertEqual(large.bytesAllocated - small.bytesAllocated, 706 * n)
        XCTAssertEqual(large.bytesFreed - small.bytesFreed, 706 * n)
        XCTAssertEqual(large.liveBytesAtExit, small.liveBytesAtExit)
    }

    func testLeaksAreLiveAtExit() throws {
        let none = try profile([Harness.host("workload"), "10", "0"])
        let leaky = try profile([Harness.host("workload"), "10", "37"])
        XCTAssertEqual(leaky.totals.liveAllocationsAtExit - none.totals.liveAllocationsAtExit, 37)
        XCTAssertEqual(leaky.totals.liveBytesAtExit - none.totals.liveBytesAtExit, 37_000)
        XCTAssertEqual(leaky.totals.liveBytesAtExit,
                       leaky.totals.bytesAllocated - leaky.totals.bytesFreed)
    }

    func testPeakOfABuildUpAndTearDown() throws {
        let profile = try profile([Harness.host("workload"), "10", "0", "48"])
        let mib: UInt64 = 1 << 20
        // 48 MiB live at once, on top of a few KiB the C runtime holds; one
        // thread scans for the peak every 64 KiB: the documented bound.
        XCTAssertEqual(profile.peakErrorBoundBytes, 64 * 1024, "one thread")
        XCTAssertGreaterThanOrEqual(profile.totals.peakLiveBytes, 48 * mib - profile.peakErrorBoundBytes)
        XCTAssertLessThanOrEqual(profile.totals.peakLiveBytes, 48 * mib + 64 * 1024)
        XCTAssertLessThan(profile.totals.liveBytesAtExit, mib)
    }

    /// Live bytes split between threads, each counting in its own counters:
    /// two threads holding 16 MiB each make a 32 MiB peak; 64 MiB handed
    /// from a producer to a consumer at most 1 MiB at a time (every block
    /// freed by the thread that did not allocate it, whose own count of
    /// live bytes goes negative) make a peak near 1 MiB, not 64.
    func testPeakAcrossThreads() throws {
        let mib: UInt64 = 1 << 20
        let together = try profile([Harness.host("handoff"), "together", "32"])
        XCTAssertEqual(together.threads, 3)
        XCTAssertEqual(together.peakErrorBoundBytes, 3 * 64 * 1024, "three threads")
        XCTAssertGreaterThanOrEqual(together.totals.peakLiveBytes, 32 * mib - together.peakErrorBoundBytes)
        XCTAssertLessThanOrEqual(together.totals.peakLiveBytes, 33 * mib)
        let pipe = try profile([Harness.host("handoff"), "pipe", "64"])
        XCTAssertGreaterThanOrEqual(pipe.totals.bytesAllocated, 64 * mib)
        XCTAssertGreaterThanOrEqual(pipe.totals.peakLiveBytes, 1024)
        XCTAssertLessThanOrEqual(pipe.totals.peakLiveBytes, 2 * mib)
        XCTAssertLessThan(pipe.totals.liveBytesAtExit, mib)
    }

    /// Requests glibc refuses (malloc and realloc of 1 GiB under a 512 MiB
    /// address-space limit: the counting fast paths' size range) are failed
    /// calls and allocate nothing: what the fast path counted before calling
    /// glibc comes back off, histogram included, and the block realloc
    /// failed to grow is still there to free.
    func testFailedRequestsCountNoBytes() throws {
        func limited(_ fails: Int) throws -> Profile {
            try profile(["/bin/sh", "-c", "ulimit -v 524288 && exec \"$0\" 100 0 0 \(fails)",
                         Harness.host("workload")])
        }
        let none = try limited(0)
        let three = try limited(3)
        XCTAssertEqual(none.totals.failedCalls, 0)
        XCTAssertEqual(three.totals.failedCalls, 6)
        XCTAssertEqual(three.totals.mallocCalls - none.totals.mallocCalls, 6)
        XCTAssertEqual(three.totals.reallocCalls - none.totals.reallocCalls, 3)
        XCTAssertEqual(three.totals.freeCalls - none.totals.freeCalls, 3)
        XCTAssertEqual(three.totals.bytesAllocated - none.totals.bytesAllocated, 30)
        XCTAssertEqual(three.totals.bytesFreed - none.totals.bytesFreed, 30)
        XCTAssertEqual(three.totals.allocations - none.totals.allocations, 3)
        XCTAssertEqual(three.totals.liveBytesAtExit, none.totals.liveBytesAtExit)
        XCTAssertEqual(three.histogram.reduce(0) { $0 + $1.count }, three.totals.allocations)
    }

    /// Counting adds no header to small blocks (TrailerBlock): a request
    /// takes the glibc chunk it takes without the library, unless it fills
    /// its chunk exactly (sizes 8 mod 16: the trailer byte moves those up).
    /// With a 16-byte header every one of them moved up a size class.
    func testSmallBlocksKeepTheirChunkSize() throws {
        for (size, chunk) in [(20, 32), (100, 112), (1020, 1040), (40, 64)] {
            let bare = Harness.run([Harness.host("footprint"), String(size)], preload: false)
            let counted = Harness.run([Harness.host("footprint"), String(size)],
                                      environment: ["SWALLOC_STATS": "summary", "SWALLOC_SAMPLE": "0"])
            XCTAssertEqual(counted.status, 0, counted.stderr)
            let expectedBare = size == 40 ? "48" : String(chunk)
            XCTAssertEqual(bare.stdout, expectedBare + "\n", "glibc alone, \(size) bytes")
            XCTAssertEqual(counted.stdout, String(chunk) + "\n", "counting, \(size) bytes")
        }
    }

    /// A terminating zero written one past a 23-byte request (the classic
    /// C off-by-one, harmless in glibc's slack) lands on the trailer byte;
    /// the block is still counted as freed, with its size.
    func testOffByOneTerminatorKeepsTheCounts() throws {
        let none = try profile([Harness.host("workload"), "10", "0", "0", "0", "0"]).totals
        let buggy = try profile([Harness.host("workload"), "10", "0", "0", "0", "100"]).totals
        XCTAssertEqual(buggy.mallocCalls - none.mallocCalls, 100)
        XCTAssertEqual(buggy.freeCalls - none.freeCalls, 100)
        XCTAssertEqual(buggy.bytesFreed - none.bytesFreed, 2300)
        XCTAssertEqual(buggy.liveAllocationsAtExit, none.liveAllocationsAtExit)
        XCTAssertEqual(buggy.liveBytesAtExit, none.liveBytesAtExit)
    }

    func testHistogramCountsEveryRequest() throws {
        let profile = try profile([Harness.host("workload"), "1000"])
        let total = profile.histogram.reduce(0) { $0 + $1.count }
        XCTAssertEqual(total, profile.totals.allocations)
        // 100-byte requests (malloc and calloc): bucket 64...127.
        let bucket = try XCTUnwrap(profile.histogram.first { $0.min == 64 && $0.max == 127 })
        XCTAssertGreaterThanOrEqual(bucket.count, 2000)
    }

    /// Threads that ended before exit are folded in: stress with twice the
    /// rounds makes exactly threads × rounds more malloc + calloc calls.
    func testThreadTotalsIncludeEndedThreads() throws {
        let small = try profile([Harness.host("stress"), "4", "20000", "0"])
        let large = try profile([Harness.host("stress"), "4", "40000", "0"])
        XCTAssertEqual((large.totals.mallocCalls + large.totals.callocCalls)
                       - (small.totals.mallocCalls + small.totals.callocCalls), 4 * 20000)
        XCTAssertEqual(large.threads, 5)
        XCTAssertEqual(large.totals.liveAllocationsAtExit, small.totals.liveAllocationsAtExit)
    }

    /// exit() while 100 threads are alive: every thread's counts are in.
    func testExitWithManyLiveThreads() throws {
        let profile = try profile([Harness.host("many_threads"), "100"])
        XCTAssertEqual(profile.threads, 101)
        XCTAssertGreaterThanOrEqual(profile.totals.mallocCalls, 100 * 1000)
        XCTAssertGreaterThanOrEqual(profile.totals.freeCalls, 100 * 1000)
    }

    /// A forked child writes its own profile (%p) with its own counts.
    func testForkedChildrenWriteTheirOwnProfiles() throws {
        let directory = Harness.temporaryDirectory(self)
        let template = directory.appendingPathComponent("p.%p.json").path
        let result = Harness.run([Harness.host("stress"), "2", "5000", "3"],
                                 environment: ["SWALLOC_OUT": template])
        XCTAssertEqual(result.status, 0, result.stderr)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        XCTAssertEqual(files.count, 4, "\(files)")
        var children = 0
        for file in files {
            let profile = try Profile.load(path: directory.appendingPathComponent(file).path)
            XCTAssertEqual(file, "p.\(profile.pid).json")
            if profile.totals.inheritedLiveAllocations > 0 {
                children += 1
                // The child's own work: 1000 malloc + strdup.
                XCTAssertEqual(profile.totals.mallocCalls, 1001)
                XCTAssertEqual(profile.threads, 1)
            }
        }
        XCTAssertEqual(children, 3)
    }

    /// A symbolic link planted at SWALLOC_OUT is replaced, not followed.
    func testSymlinkAtOutputIsNotFollowed() throws {
        let directory = Harness.temporaryDirectory(self)
        let target = directory.appendingPathComponent("victim.txt")
        try "precious\n".write(to: target, atomically: true, encoding: .utf8)
        let out = directory.appendingPathComponent("profile.json")
        try FileManager.default.createSymbolicLink(at: out, withDestinationURL: target)
        let result = Harness.run([Harness.host("workload"), "10"], environment: ["SWALLOC_OUT": out.path])
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(try String(contentsOf: target, encoding: .utf8), "precious\n")
        let attributes = try FileManager.default.attributesOfItem(atPath: out.path)
        XCTAssertEqual(attributes[.type] as? FileAttributeType, .typeRegular)
        XCTAssertEqual((attributes[.posixPermissions] as? NSNumber)?.intValue, 0o600)
        XCTAssertNoThrow(try Profile.load(path: out.path))
    }

    /// An unwritable SWALLOC_OUT: one swalloc: line, the program unaffected.
    /// A FIFO at SWALLOC_OUT receives the profile and stays a FIFO (a
    /// rename over it, as for files, would have put a regular file there:
    /// with /dev/null, a regular /dev/null). With no reader, one line and no
    /// hang.
    func testFIFOAtOutputIsWrittenInPlace() throws {
        let directory = Harness.temporaryDirectory(self)
        let fifo = directory.appendingPathComponent("profile.fifo").path
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        // The reader: this process, open before the program runs (a small
        // profile, no call sites, fits in the pipe's buffer).
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        XCTAssertGreaterThanOrEqual(reader, 0)
        let result = Harness.run([Harness.host("workload"), "10"],
                                 environment: ["SWALLOC_OUT": fifo, "SWALLOC_SAMPLE": "0"], timeout: 30)
        var received = Data()
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(reader, &chunk, chunk.count)
            if count <= 0 { break }
            received.append(contentsOf: chunk[0..<count])
        }
        close(reader)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "")
        let copy = directory.appendingPathComponent("copy.json")
        try received.write(to: copy)
        XCTAssertGreaterThanOrEqual(try Profile.load(path: copy.path).totals.mallocCalls, 20)
        var status = stat()
        XCTAssertEqual(lstat(fifo, &status), 0)
        XCTAssertEqual(status.st_mode & S_IFMT, S_IFIFO, "the FIFO was replaced")

        let unread = Harness.run([Harness.host("workload"), "10"],
                                 environment: ["SWALLOC_OUT": fifo, "SWALLOC_SAMPLE": "0"], timeout: 30)
        XCTAssertEqual(unread.status, 0)
        XCTAssertEqual(unread.stderr, "swalloc: SWALLOC_OUT=\(fifo): No such device or address; no profile written\n")
    }

    func testUnwritableOutputIsReported() {
        let result = Harness.run([Harness.host("exit_status"), "0"],
                                 environment: ["SWALLOC_OUT": "/nonexistent-dir/p.json"])
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.stdout, "hello\n")
        XCTAssertEqual(result.reportLines.count, 1, result.stderr)
        XCTAssertEqual(result.stderr, "swalloc: SWALLOC_OUT=/nonexistent-dir/p.json: No such file or directory; no profile written\n")
    }

    /// SWALLOC_STATS=json with no SWALLOC_OUT: the profile on stderr.
    func testJSONOnStderr() throws {
        let result = Harness.run([Harness.host("workload"), "100"], environment: ["SWALLOC_STATS": "json"])
        XCTAssertEqual(result.status, 0)
        let profile = try Profile.parse(Data(result.stderr.utf8), path: "stderr")
        XCTAssertTrue(profile.program?.hasSuffix("/workload") ?? false)
        XCTAssertEqual(profile.allocator, "system")
    }
}
