import Swalloc
import XCTest

/// The Allocator contract, checked on every allocator and adapter.
final class AllocatorContractTests: XCTestCase {
    /// Every promise of the protocol that a general-purpose allocator keeps.
    func checkContract<A: Allocator>(_ allocator: A, maximumSize: Int = 4096, maximumAlignment: Int = 4096,
                                     file: StaticString = #filePath, line: UInt = #line) throws {
        // Zero-sized layouts: an aligned pointer, count 0, nothing to free.
        for alignment in [1, 8, 64, 4096] where alignment <= maximumAlignment {
            let layout = try Layout(size: 0, alignment: alignment)
            let block = try allocator.allocate(layout)
            XCTAssertEqual(block.count, 0, file: file, line: line)
            XCTAssertEqual(Int(bitPattern: block.baseAddress) % alignment, 0, file: file, line: line)
            // Grow from zero, then shrink to zero.
            let grown = try allocator.grow(block.baseAddress!, from: layout, to: try Layout(size: 24, alignment: alignment))
            XCTAssertGreaterThanOrEqual(grown.count, 24, file: file, line: line)
            let shrunk = try allocator.shrink(grown.baseAddress!, from: try Layout(size: 24, alignment: alignment), to: layout)
            XCTAssertEqual(shrunk.count, 0, file: file, line: line)
            allocator.deallocate(shrunk.baseAddress!, layout: layout)
        }
        // Alignments up to the maximum; contents survive grow and shrink.
        var alignment = 1
        while alignment <= maximumAlignment {
            let size = min(100, maximumSize)
            let layout = try Layout(size: size, alignment: alignment)
            let block = try allocator.allocate(layout)
            XCTAssertGreaterThanOrEqual(block.count, size, file: file, line: line)
            XCTAssertEqual(Int(bitPattern: block.baseAddress) % alignment, 0, "alignment \(alignment)", file: file, line: line)
            for i in 0..<size { block[i] = UInt8(truncatingIfNeeded: i &* 7) }
            let bigger = try Layout(size: maximumSize, alignment: alignment)
            let grown = try allocator.grow(block.baseAddress!, from: layout, to: bigger)
            XCTAssertEqual(Int(bitPattern: grown.baseAddress) % alignment, 0, file: file, line: line)
            for i in 0..<size where grown[i] != UInt8(truncatingIfNeeded: i &* 7) {
                XCTFail("grow lost byte \(i) at alignment \(alignment)", file: file, line: line)
                break
            }
            let smaller = try Layout(size: 10, alignment: alignment)
            let shrunk = try allocator.shrink(grown.baseAddress!, from: bigger, to: smaller)
            for i in 0..<10 where shrunk[i] != UInt8(truncatingIfNeeded: i &* 7) {
                XCTFail("shrink lost byte \(i)", file: file, line: line)
                break
            }
            allocator.deallocate(shrunk.baseAddress!, layout: smaller)
            alignment *= 2
        }
        // Zeroed allocation and growth, on memory that was dirty before.
        let layout = try Layout(size: min(256, maximumSize), alignment: 16)
        let dirty = try allocator.allocate(layout)
        dirty.baseAddress!.initializeMemory(as: UInt8.self, repeating: 0xAB, count: dirty.count)
        allocator.deallocate(dirty.baseAddress!, layout: layout)
        let zeroed = try allocator.allocateZeroed(layout)
        XCTAssertTrue(zeroed.prefix(layout.size).allSatisfy { $0 == 0 }, "allocateZeroed", file: file, line: line)
        zeroed[0] = 9
        let bigger = try Layout(size: maximumSize, alignment: 16)
        let grown = try allocator.growZeroed(zeroed.baseAddress!, from: layout, to: bigger)
        XCTAssertEqual(grown[0], 9, file: file, line: line)
        XCTAssertTrue(grown[layout.size..<bigger.size].allSatisfy { $0 == 0 }, "growZeroed", file: file, line: line)
        // Memory fitting: the block goes back with the size it was given.
        let fitted = try allocator.allocate(try Layout(size: 10, alignment: 8))
        allocator.deallocate(grown.baseAddress!, layout: Layout.init(uncheckedOrTrapping: grown.count, 16))
        allocator.deallocate(fitted.baseAddress!, layout: Layout.init(uncheckedOrTrapping: fitted.count, 8))
    }

    func testSystemAllocator() throws { try checkContract(SystemAllocator()) }
    func testBumpAllocator() throws { try checkContract(BumpAllocator(capacity: 1 << 20)) }
    func testArenaAllocator() throws { try checkContract(ArenaAllocator(chunkSize: 1024)) }
    func testPoolAllocator() throws {
        try checkContract(PoolAllocator(blockSize: 4096, alignment: 4096, blocksPerChunk: 8))
    }
    func testCountingAllocator() throws { try checkContract(CountingAllocator(SystemAllocator())) }
    func testFallbackAllocator() throws {
        // A small primary: most of the work overflows into the secondary.
        try checkContract(FallbackAllocator(primary: BumpAllocator(capacity: 300), secondary: SystemAllocator()))
    }
    func testGlobalAllocatorBridgesBothWays() throws {
        try checkContract(GlobalAsAllocator(AllocatorAsGlobal(SystemAllocator())))
    }
}

extension Layout {
    /// For tests: a layout that is known to be valid.
    init(uncheckedOrTrapping size: Int, _ alignment: Int) {
        self = try! Layout(size: size, alignment: alignment)
    }
}

/// The error paths: exhaustion, unsupported layouts, failed growth.
final class AllocatorErrorTests: XCTestCase {
    func testBumpExhaustionAndReset() throws {
        let bump = BumpAllocator(capacity: 1024)
        _ = try bump.allocate(try Layout(size: 1000, alignment: 8))
        XCTAssertThrowsError(try bump.allocate(try Layout(size: 100, alignment: 8))) { error in
            XCTAssertEqual((error as? AllocError)?.reason, .exhausted)
        }
        bump.reset()
        XCTAssertEqual(bump.bytesUsed, 0)
        XCTAssertNoThrow(try bump.allocate(try Layout(size: 1024, alignment: 8)))
    }

    /// A grow that fails leaves the old block valid and untouched.
    func testFailedGrowLeavesTheBlockIntact() throws {
        let bump = BumpAllocator(capacity: 4096)
        let old = try Layout(size: 64, alignment: 8)
        let block = try bump.allocate(old)
        for i in 0..<64 { block[i] = UInt8(i) }
        _ = try bump.allocate(try Layout(size: 8, alignment: 8)) // block is no longer the newest
        XCTAssertThrowsError(try bump.grow(block.baseAddress!, from: old, to: try Layout(size: 8000, alignment: 8)))
        XCTAssertEqual(Array(block), (0..<64).map(UInt8.init))
        // The newest block cannot grow past the region either.
        let newest = try bump.allocate(old)
        for i in 0..<64 { newest[i] = 0xEE }
        XCTAssertThrowsError(try bump.grow(newest.baseAddress!, from: old, to: try Layout(size: 5000, alignment: 8)))
        XCTAssertTrue(newest.allSatisfy { $0 == 0xEE })
        let system = SystemAllocator()
        let big = try system.allocate(old)
        big.copyMemory(from: UnsafeRawBufferPointer(block))
        XCTAssertThrowsError(try system.grow(big.baseAddress!, from: old, to: try Layout(size: Int.max / 2, alignment: 8)))
        XCTAssertEqual(Array(big.prefix(64)), (0..<64).map(UInt8.init))
        system.deallocate(big.baseAddress!, layout: old)
    }

    func testSystemReportsExhaustion() throws {
        let huge = try Layout(size: Int.max / 2, alignment: 16)
        XCTAssertThrowsError(try SystemAllocator().allocate(huge)) { error in
            XCTAssertEqual(error as? AllocError, AllocError(.exhausted, layout: huge))
        }
        XCTAssertThrowsError(try ArenaAllocator().allocate(huge))
        XCTAssertThrowsError(try SystemAllocator().allocate(try Layout(size: Int.max / 2, alignment: 4096)))
    }

    func testPoolRejectsLayoutsThatDoNotFit() throws {
        let pool = PoolAllocator(blockSize: 64, alignment: 16)
        XCTAssertEqual(pool.blockSize, 64)
        XCTAssertThrowsError(try pool.allocate(try Layout(size: 65, alignment: 8))) { error in
            XCTAssertEqual((error as? AllocError)?.reason, .unsupportedLayout)
        }
        XCTAssertThrowsError(try pool.allocate(try Layout(size: 8, alignment: 64)))
        let block = try pool.allocate(try Layout(size: 40, alignment: 8))
        XCTAssertEqual(block.count, 64, "a pool block is the pool's size")
        XCTAssertThrowsError(try pool.grow(block.baseAddress!, from: try Layout(size: 40, alignment: 8),
                                           to: try Layout(size: 128, alignment: 8)))
    }

    func testPoolRecyclesBlocks() throws {
        let pool = PoolAllocator(blockSize: 32, blocksPerChunk: 4)
        let layout = try Layout(size: 32, alignment: 16)
        let a = try pool.allocate(layout).baseAddress!
        pool.deallocate(a, layout: layout)
        XCTAssertEqual(try pool.allocate(layout).baseAddress, a, "the freed block comes back first")
        let more = try (0..<10).map { _ in try pool.allocate(layout).baseAddress! }
        XCTAssertEqual(Set(more).count, 10)
        XCTAssertTrue(more.allSatisfy { pool.owns($0) })
        XCTAssertFalse(pool.owns(UnsafeRawPointer(bitPattern: 0x1000)!))
    }

    func testArenaResetKeepsOneChunk() throws {
        let arena = ArenaAllocator(chunkSize: 256)
        for _ in 0..<100 { _ = try arena.allocate(try Layout(size: 100, alignment: 8)) }
        XCTAssertGreaterThan(arena.chunkCount, 1)
        let block = try arena.allocate(try Layout(size: 8, alignment: 8))
        XCTAssertTrue(arena.owns(block.baseAddress!))
        arena.reset()
        XCTAssertEqual(arena.chunkCount, 1)
        XCTAssertNoThrow(try arena.allocate(try Layout(size: 100, alignment: 8)))
    }

    /// The newest block grows in place in a bump region and in an arena.
    func testNewestBlockGrowsInPlace() throws {
        for allocator in [BumpAllocator(capacity: 4096) as any Allocator, ArenaAllocator(chunkSize: 4096)] {
            let small = try Layout(size: 16, alignment: 8)
            let block = try allocator.allocate(small)
            let grown = try allocator.grow(block.baseAddress!, from: small, to: try Layout(size: 1000, alignment: 8))
            XCTAssertEqual(grown.baseAddress, block.baseAddress)
        }
    }

    func testFallbackRoutesFreesToTheOwner() throws {
        let primary = BumpAllocator(capacity: 128)
        let counting = CountingAllocator(SystemAllocator())
        let fallback = FallbackAllocator(primary: primary, secondary: counting)
        let layout = try Layout(size: 100, alignment: 8)
        let first = try fallback.allocate(layout)
        let second = try fallback.allocate(layout) // does not fit: secondary
        XCTAssertTrue(primary.owns(first.baseAddress!))
        XCTAssertFalse(primary.owns(second.baseAddress!))
        fallback.deallocate(second.baseAddress!, layout: layout)
        fallback.deallocate(first.baseAddress!, layout: layout)
        XCTAssertEqual(counting.counts.allocations, 1)
        XCTAssertEqual(counting.counts.deallocations, 1)
        // A primary block that outgrows the primary moves to the secondary.
        let moved = try fallback.allocate(layout)
        for i in 0..<100 { moved[i] = 7 }
        let grown = try fallback.grow(moved.baseAddress!, from: layout, to: try Layout(size: 1000, alignment: 8))
        XCTAssertFalse(primary.owns(grown.baseAddress!))
        XCTAssertTrue(grown.prefix(100).allSatisfy { $0 == 7 })
        fallback.deallocate(grown.baseAddress!, layout: try Layout(size: 1000, alignment: 8))
        XCTAssertEqual(counting.counts.liveBytes, 0)
    }
}
