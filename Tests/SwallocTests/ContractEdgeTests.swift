@testable import Swalloc
import XCTest

/// The contract's edges that Rust's tests and bumpalo's property tests
/// probe (issue #15): shrink to a stricter alignment, Layout's checks,
/// zero-sized element types, counting the same quantity in and out.
final class ContractEdgeTests: XCTestCase {
    /// A (1024, 4) block at every residue mod 64 the allocator gives (a
    /// prefix allocation of 0–63 bytes shifts it), shrunk to (256, 64):
    /// the result is 64-aligned and keeps the first 256 bytes (Rust allows
    /// a new alignment in `shrink`; every allocator returned the old
    /// pointer, misaligned).
    func checkShrinkToStricterAlignment<A: Allocator>(_ allocator: A, _ name: String,
                                                      file: StaticString = #filePath, line: UInt = #line) throws {
        let old = try Layout(size: 1024, alignment: 4), new = try Layout(size: 256, alignment: 64)
        for prefix in 0..<64 {
            let prefixLayout = try Layout(size: prefix, alignment: 1)
            let before = try allocator.allocate(prefixLayout)
            let block = try allocator.allocate(old)
            let bytes = block.baseAddress!.assumingMemoryBound(to: UInt8.self)
            for index in 0..<1024 { bytes[index] = UInt8(truncatingIfNeeded: index &* 7 &+ prefix) }
            let shrunk = try allocator.shrink(block.baseAddress!, from: old, to: new)
            let address = UInt(bitPattern: shrunk.baseAddress!)
            XCTAssertEqual(address % 64, 0, "\(name), prefix \(prefix): misaligned", file: file, line: line)
            XCTAssertGreaterThanOrEqual(shrunk.count, 256, "\(name)", file: file, line: line)
            let moved = shrunk.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var same = true
            for index in 0..<256 where moved[index] != UInt8(truncatingIfNeeded: index &* 7 &+ prefix) { same = false }
            XCTAssertTrue(same, "\(name), prefix \(prefix): contents lost", file: file, line: line)
            allocator.deallocate(shrunk.baseAddress!, layout: new)
            if prefix > 0 { allocator.deallocate(before.baseAddress!, layout: prefixLayout) }
        }
    }

    func testShrinkToAStricterAlignmentInEveryAllocator() throws {
        try checkShrinkToStricterAlignment(SystemAllocator(), "System")
        try checkShrinkToStricterAlignment(CountingAllocator(SystemAllocator()), "Counting")
        try checkShrinkToStricterAlignment(ArenaAllocator(), "Arena")
        try checkShrinkToStricterAlignment(BumpAllocator(capacity: 1 << 20), "Bump")
        try checkShrinkToStricterAlignment(FallbackAllocator(primary: BumpAllocator(capacity: 1 << 20),
                                                             secondary: SystemAllocator()), "Fallback")
        try checkShrinkToStricterAlignment(GlobalAsAllocator(AllocatorAsGlobal(SystemAllocator())), "GlobalAsAllocator")
        // A pool's blocks have one alignment: a stricter one is refused, the
        // block left as it was.
        let pool = PoolAllocator(blockSize: 1024, alignment: 16)
        let block = try pool.allocate(try Layout(size: 1024, alignment: 4))
        XCTAssertThrowsError(try pool.shrink(block.baseAddress!, from: try Layout(size: 1024, alignment: 4),
                                             to: try Layout(size: 256, alignment: 64)))
        pool.deallocate(block.baseAddress!, layout: try Layout(size: 1024, alignment: 4))
    }

    func testAlignedToChecksTheAlignment() throws {
        let layout = try Layout(size: 10, alignment: 8)
        for bad in [3, 0, 6, -8] {
            XCTAssertThrowsError(try layout.aligned(to: bad), "\(bad)") { error in
                XCTAssertEqual(error as? LayoutError, .alignmentNotPowerOfTwo(bad))
            }
        }
        XCTAssertEqual(try layout.aligned(to: 4), layout, "a smaller power of two keeps the alignment")
        XCTAssertEqual(try layout.aligned(to: 64).alignment, 64)
    }

    func testZeroSizedElementsNeedNoMemory() throws {
        XCTAssertEqual(try Layout.array(of: Void.self, count: 1000).size, 0)
        XCTAssertEqual(try Layout.array(of: Void.self, count: Int.max).size, 0)
        let counting = CountingAllocator(SystemAllocator())
        do {
            var vec = AllocVec<Void, CountingAllocator<SystemAllocator>>(allocator: counting)
            for _ in 0..<1000 { try vec.append(()) }
            XCTAssertEqual(vec.count, 1000)
            XCTAssertEqual(vec.capacity, Int.max)
            vec.removeLast()
            try vec.shrinkToFit()
            vec.removeAll()
        }
        XCTAssertEqual(counting.counts.allocations, 0)
        XCTAssertEqual(counting.counts.bytesAllocated, 0)
    }

    /// One append on SystemAllocator (which hands out more than asked for)
    /// through the counting adapter: live bytes back at 0 when the vector goes.
    func testCountingCountsTheSameInAndOut() throws {
        let counting = CountingAllocator(SystemAllocator())
        do {
            var vec = AllocVec<Int, CountingAllocator<SystemAllocator>>(allocator: counting)
            try vec.append(1)
            for value in 2...100 { try vec.append(value) }
            try vec.shrinkToFit()
            XCTAssertEqual(vec.count, 100)
        }
        let counts = counting.counts
        XCTAssertEqual(counts.liveBytes, 0, "\(counts)")
        XCTAssertEqual(counts.allocations, counts.deallocations)
    }
}

final class AllocatorCreationTests: XCTestCase {
    func testBumpWithCapacityReportsExhaustion() throws {
        XCTAssertThrowsError(try BumpAllocator.withCapacity(Int.max)) { error in
            XCTAssertEqual((error as? AllocError)?.reason, .exhausted)
        }
        XCTAssertThrowsError(try BumpAllocator.withCapacity(-1))
        let bump = try BumpAllocator.withCapacity(4096)
        XCTAssertEqual(bump.capacity, 4096)
        XCTAssertNotNil(try bump.allocate(try Layout(size: 100, alignment: 8)).baseAddress)
    }

    func testPoolRecognisesItsOwnFreeBlocks() throws {
        let pool = PoolAllocator(blockSize: 64, blocksPerChunk: 8)
        let layout = try Layout(size: 64, alignment: 16)
        let block = try pool.allocate(layout)
        XCTAssertTrue(pool.isBlock(block.baseAddress!))
        XCTAssertFalse(pool.isBlock(block.baseAddress! + 8), "inside a block is no block")
        XCTAssertFalse(pool.isFree(block.baseAddress!))
        pool.deallocate(block.baseAddress!, layout: layout)
        XCTAssertTrue(pool.isFree(block.baseAddress!), "a second deallocate would trip the debug check")
        var local = 0
        XCTAssertFalse(pool.isBlock(&local), "a foreign pointer")
    }
}

final class AllocVecEditingTests: XCTestCase {
    typealias Vec = AllocVec<Int, CountingAllocator<SystemAllocator>>

    func make(_ values: [Int], _ counting: CountingAllocator<SystemAllocator>) throws -> Vec {
        var vec = Vec(allocator: counting)
        try vec.append(contentsOf: values)
        return vec
    }

    func testEditingMethodsMatchArray() throws {
        let counting = CountingAllocator(SystemAllocator())
        do {
            var vec = try make(Array(0..<20), counting)
            var array = Array(0..<20)
            vec.removeLast(3); array.removeLast(3)
            XCTAssertEqual(vec.array, array)
            vec.removeSubrange(2..<5); array.removeSubrange(2..<5)
            XCTAssertEqual(vec.array, array)
            vec.removeAll(where: { $0 % 3 == 0 }); array.removeAll(where: { $0 % 3 == 0 })
            XCTAssertEqual(vec.array, array)
            vec.swapAt(0, 3); array.swapAt(0, 3)
            XCTAssertEqual(vec.array, array)
            let removed = vec.swapRemove(at: 1)
            let last = array.removeLast()
            XCTAssertEqual(removed, array[1])
            array[1] = last
            XCTAssertEqual(vec.array, array)
            try vec.resize(to: 12, with: -1); array += Array(repeating: -1, count: 12 - array.count)
            XCTAssertEqual(vec.array, array)
            try vec.resize(to: 2, with: 0); array.removeLast(array.count - 2)
            XCTAssertEqual(vec.array, array)
        }
        XCTAssertEqual(counting.counts.liveBytes, 0)
    }

    /// A throwing test: the untested elements stay, none is lost or
    /// deinitialized twice (non-copyable elements count their deinits).
    func testRemoveAllWhereThatThrowsKeepsTheRest() throws {
        struct Stop: Error {}
        var vec = AllocVec<Tracked, SystemAllocator>(allocator: SystemAllocator())
        let deinits = DeinitCounter()
        for value in 0..<10 { try vec.append(Tracked(value, deinits)) }
        XCTAssertThrowsError(try vec.removeAll(where: { element throws(Stop) -> Bool in
            if element.value == 6 { throw Stop() }
            return element.value % 2 == 0
        }))
        var remaining: [Int] = []
        vec.forEach { remaining.append($0.value) }
        XCTAssertEqual(remaining, [1, 3, 5, 6, 7, 8, 9])
        XCTAssertEqual(deinits.count, 3, "0, 2 and 4 were removed")
    }
}
