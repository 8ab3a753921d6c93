import Swalloc
import XCTest

/// A non-copyable element that counts its deinitializations.
struct Tracked: ~Copyable {
    let value: Int
    let deinits: DeinitCounter
    init(_ value: Int, _ deinits: DeinitCounter) {
        self.value = value
        self.deinits = deinits
    }
    deinit { deinits.count += 1 }
}

final class DeinitCounter { var count = 0 }

final class AllocVecTests: XCTestCase {
    func testAppendSubscriptAndRemoval() throws {
        var vec = AllocVec<Int, SystemAllocator>(allocator: SystemAllocator())
        XCTAssertTrue(vec.isEmpty)
        XCTAssertEqual(vec.capacity, 0, "no allocation before the first element")
        for i in 0..<100 { try vec.append(i) }
        XCTAssertEqual(vec.count, 100)
        XCTAssertGreaterThanOrEqual(vec.capacity, 100)
        vec[10] = -10
        XCTAssertEqual(vec[10], -10)
        XCTAssertEqual(vec.removeLast(), 99)
        try vec.insert(1000, at: 0)
        XCTAssertEqual(vec[0], 1000)
        XCTAssertEqual(vec[1], 0)
        XCTAssertEqual(vec.remove(at: 0), 1000)
        XCTAssertEqual(vec.count, 99)
        XCTAssertEqual(vec.array, [0] + Array(1..<10) + [-10] + Array(11..<99))
        var sum = 0
        vec.forEach { sum += $0 }
        XCTAssertEqual(sum, (0..<99).reduce(0, +) - 20)
        XCTAssertEqual(vec.withUnsafeBufferPointer { $0.count }, 99)
        vec.removeAll(keepingCapacity: true)
        XCTAssertEqual(vec.count, 0)
        XCTAssertGreaterThan(vec.capacity, 0)
        XCTAssertNil(vec.popLast())
    }

    /// Growth goes through `grow`, and the memory comes back exactly once.
    func testCountingAdapterSeesExactlyTheCollectionsCalls() throws {
        let counting = CountingAllocator(ArenaAllocator())
        do {
            var vec = AllocVec<Int64, CountingAllocator<ArenaAllocator>>(allocator: counting)
            for i in 0..<100 { try vec.append(Int64(i)) }
            // Capacity 4, then doubling: 8, 16, 32, 64, 128.
            XCTAssertEqual(vec.capacity, 128)
            XCTAssertEqual(counting.counts.allocations, 1)
            XCTAssertEqual(counting.counts.grows, 5)
            XCTAssertEqual(counting.counts.liveBytes, 128 * 8)
            XCTAssertEqual(counting.counts.peakLiveBytes, 128 * 8)
            XCTAssertEqual(counting.counts.deallocations, 0)
        }
        XCTAssertEqual(counting.counts.deallocations, 1, "returned once, when the vector went away")
        XCTAssertEqual(counting.counts.liveBytes, 0)
    }

    func testNonCopyableElementsAreDeinitializedExactlyOnce() throws {
        let deinits = DeinitCounter()
        do {
            var vec = AllocVec<Tracked, SystemAllocator>(allocator: SystemAllocator())
            for i in 0..<10 { try vec.append(Tracked(i, deinits)) }
            let last = vec.removeLast()
            XCTAssertEqual(last.value, 9)
            _ = consume last
            XCTAssertEqual(deinits.count, 1)
            let first = vec.remove(at: 0)
            XCTAssertEqual(first.value, 0)
            XCTAssertEqual(vec[0].value, 1)
        }
        XCTAssertEqual(deinits.count, 10)
    }

    func testAppendFailureKeepsTheElements() throws {
        var vec = AllocVec<Int, BumpAllocator>(allocator: BumpAllocator(capacity: 8 * 16))
        for i in 0..<16 { try vec.append(i) }
        XCTAssertThrowsError(try vec.append(16)) { error in
            XCTAssertEqual((error as? AllocError)?.reason, .exhausted)
        }
        XCTAssertEqual(vec.count, 16)
        XCTAssertEqual(vec.array, Array(0..<16))
    }

    func testCapacityOverflowIsAnError() {
        var vec = AllocVec<Int, SystemAllocator>(allocator: SystemAllocator())
        XCTAssertThrowsError(try vec.reserveCapacity(Int.max))
        XCTAssertEqual(vec.capacity, 0)
    }

    func testShrinkToFitAndCopy() throws {
        let counting = CountingAllocator(ArenaAllocator())
        var vec = try AllocVec<Int, CountingAllocator<ArenaAllocator>>(capacity: 64, allocator: counting)
        for i in 0..<10 { try vec.append(i) }
        try vec.shrinkToFit()
        XCTAssertEqual(vec.capacity, 10)
        XCTAssertEqual(counting.counts.shrinks, 1)
        let copy = try vec.copy(using: SystemAllocator())
        XCTAssertEqual(copy.array, Array(0..<10))
    }

    func testZeroSizedElements() throws {
        var vec = AllocVec<Void, SystemAllocator>(allocator: SystemAllocator())
        for _ in 0..<1000 { try vec.append(()) }
        XCTAssertEqual(vec.count, 1000)
    }
}

final class AllocBoxTests: XCTestCase {
    func testValueInPlaceAndTake() throws {
        let counting = CountingAllocator(SystemAllocator())
        var box = try AllocBox([1, 2, 3], allocator: counting)
        box.value.append(4)
        XCTAssertEqual(box.value, [1, 2, 3, 4])
        XCTAssertEqual(box.withUnsafePointer { $0.pointee.count }, 4)
        let value = box.take()
        XCTAssertEqual(value, [1, 2, 3, 4])
        XCTAssertEqual(counting.counts.allocations, 1)
        XCTAssertEqual(counting.counts.deallocations, 1)
    }

    func testDeinitOnceForNonCopyableValues() throws {
        let deinits = DeinitCounter()
        let counting = CountingAllocator(ArenaAllocator())
        do {
            let box = try AllocBox(Tracked(5, deinits), allocator: counting)
            XCTAssertEqual(box.value.value, 5)
        }
        XCTAssertEqual(deinits.count, 1)
        XCTAssertEqual(counting.counts.deallocations, 1)
        XCTAssertEqual(counting.counts.liveBytes, 0)
    }

    /// intoRaw hands over the value and the block; init(unsafeFromRaw:)
    /// takes them back, and the box frees them once; leak never does.
    func testRawRoundTripAndLeak() throws {
        let deinits = DeinitCounter()
        let counting = CountingAllocator(SystemAllocator())
        let box = try AllocBox(Tracked(7, deinits), allocator: counting)
        let (pointer, allocator) = box.intoRaw()
        XCTAssertEqual(pointer.pointee.value, 7)
        XCTAssertEqual(deinits.count, 0)
        XCTAssertEqual(counting.counts.deallocations, 0)
        do {
            let again = AllocBox(unsafeFromRaw: pointer, allocator: allocator)
            XCTAssertEqual(again.value.value, 7)
        }
        XCTAssertEqual(deinits.count, 1)
        XCTAssertEqual(counting.counts.deallocations, 1)

        let leaked = try AllocBox(Tracked(8, deinits), allocator: counting).leak()
        XCTAssertEqual(leaked.pointee.value, 8)
        XCTAssertEqual(deinits.count, 1, "a leaked value is never deinitialized")
        XCTAssertEqual(counting.counts.deallocations, 1)
        leaked.deinitialize(count: 1)
        counting.deallocate(UnsafeMutableRawPointer(leaked), layout: Layout.of(Tracked.self))
    }

    func testUncheckedLayoutIsTheCheckedOne() throws {
        XCTAssertEqual(Layout(unsafeUncheckedSize: 24, alignment: 8), try Layout(size: 24, alignment: 8))
        XCTAssertEqual(Layout(unsafeUncheckedSize: 0, alignment: 1 << 62), try Layout(size: 0, alignment: 1 << 62))
    }

    /// Vectors and boxes move to other threads when their contents and
    /// allocators may: the conformance is checked where this compiles.
    func testSendableWhereContentsAndAllocatorAre() throws {
        func sendable<T: Sendable & ~Copyable>(_ value: borrowing T) -> Bool { true }
        var vec = AllocVec<Int, SystemAllocator>(allocator: SystemAllocator())
        try vec.append(1)
        XCTAssertTrue(sendable(vec))
        let box = try AllocBox(7, allocator: SystemAllocator())
        XCTAssertTrue(sendable(box))
        XCTAssertEqual(box.value, 7)
    }

    func testBoxFailsCleanlyWhenExhausted() {
        do {
            _ = try AllocBox(Int64(1), allocator: BumpAllocator(capacity: 4))
            XCTFail("a box does not fit in 4 bytes")
        } catch {
            XCTAssertEqual(error.reason, .exhausted)
        }
    }
}

final class GlobalAllocatorAPITests: XCTestCase {
    /// Without libswalloc.so in the process, installing says so.
    func testInstallWithoutTheLibrary() {
        XCTAssertThrowsError(try GlobalAllocatorInstallation.install(AllocatorAsGlobal(SystemAllocator()), name: "x")) { error in
            XCTAssertEqual(error as? GlobalAllocatorInstallation.Failure, .libraryNotLoaded)
        }
    }

    /// The C table's thunks reach the Swift allocator with the exact layout.
    func testTableThunks() throws {
        let counting = CountingAllocator(SystemAllocator())
        let table = GlobalAllocatorInstallation.makeTable(AllocatorAsGlobal(counting), name: "counting")
        XCTAssertEqual(String(cString: table.name), "counting")
        let block = table.alloc(table.context, 100, 64)!
        XCTAssertEqual(Int(bitPattern: block) % 64, 0)
        let zeroed = table.alloc_zeroed(table.context, 50, 16)!
        XCTAssertTrue(UnsafeRawBufferPointer(start: zeroed, count: 50).allSatisfy { $0 == 0 })
        let moved = table.realloc(table.context, block, 100, 64, 5000)!
        XCTAssertEqual(Int(bitPattern: moved) % 64, 0)
        table.dealloc(table.context, moved, 5000, 64)
        table.dealloc(table.context, zeroed, 50, 16)
        XCTAssertEqual(counting.counts.allocations, 2)
        XCTAssertEqual(counting.counts.deallocations, 2)
        XCTAssertEqual(counting.counts.liveBytes, 0)
    }
}
