import Swalloc
import XCTest

/// `drain`, `splitOff(at:)`, `span` and `mutableSpan`, against Rust's `Vec`
/// semantics: order kept, every element deinitialized exactly once, the
/// vector whole after a throwing closure.
final class AllocVecMovingTests: XCTestCase {
    struct Stop: Error {}

    func makeTracked(_ count: Int, _ deinits: DeinitCounter) throws -> AllocVec<Tracked, CountingAllocator<SystemAllocator>> {
        var vec = AllocVec<Tracked, CountingAllocator<SystemAllocator>>(allocator: CountingAllocator(SystemAllocator()))
        for value in 0..<count { try vec.append(Tracked(value, deinits)) }
        return vec
    }

    func values(_ vec: borrowing AllocVec<Tracked, CountingAllocator<SystemAllocator>>) -> [Int] {
        var result: [Int] = []
        vec.forEach { result.append($0.value) }
        return result
    }

    func testDrainHandsOutTheRangeInOrderAndClosesTheGap() throws {
        let deinits = DeinitCounter()
        var vec = try makeTracked(10, deinits)
        let capacity = vec.capacity
        var drained: [Int] = []
        vec.drain(2..<6) { element in drained.append(element.value) }
        XCTAssertEqual(drained, [2, 3, 4, 5])
        XCTAssertEqual(values(vec), [0, 1, 6, 7, 8, 9])
        XCTAssertEqual(deinits.count, 4, "each drained element deinitialized once, by the closure's end")
        XCTAssertEqual(vec.capacity, capacity)
        vec.drain(0..<0) { _ in XCTFail("empty range") }
        vec.drain(0..<vec.count) { _ in }
        XCTAssertTrue(vec.isEmpty)
        XCTAssertEqual(deinits.count, 10)
    }

    func testDrainThatThrowsDropsTheRestOfTheRange() throws {
        let deinits = DeinitCounter()
        var vec = try makeTracked(8, deinits)
        var received: [Int] = []
        XCTAssertThrowsError(try vec.drain(1..<6) { (element: consuming Tracked) throws(Stop) in
            received.append(element.value)
            if element.value == 2 { throw Stop() }
        })
        XCTAssertEqual(received, [1, 2])
        // 1 and 2 went through the closure; 3, 4, 5 were dropped.
        XCTAssertEqual(deinits.count, 5)
        XCTAssertEqual(values(vec), [0, 6, 7])
        _ = consume vec
        XCTAssertEqual(deinits.count, 8, "no element deinitialized twice or lost")
    }

    func testSplitOffMovesTheTailWithTheSameAllocator() throws {
        let deinits = DeinitCounter()
        var vec = try makeTracked(7, deinits)
        let capacity = vec.capacity
        var tail = try vec.splitOff(at: 4)
        XCTAssertEqual(values(vec), [0, 1, 2, 3])
        XCTAssertEqual(values(tail), [4, 5, 6])
        XCTAssertEqual(vec.capacity, capacity)
        XCTAssertEqual(deinits.count, 0)
        let empty = try tail.splitOff(at: 3)
        XCTAssertTrue(empty.isEmpty)
        let whole = try vec.splitOff(at: 0)
        XCTAssertTrue(vec.isEmpty)
        XCTAssertEqual(values(whole), [0, 1, 2, 3])
        _ = consume whole
        _ = consume tail
        XCTAssertEqual(deinits.count, 7)
    }

    func testSplitOffThatCannotAllocateChangesNothing() throws {
        let bump = BumpAllocator(capacity: 64)
        var vec = try AllocVec<Int, BumpAllocator>(capacity: 6, allocator: bump)
        for value in 0..<6 { try vec.append(value) }   // 48 of the 64 bytes
        do {
            _ = try vec.splitOff(at: 1)  // the tail needs 40 more
            XCTFail("splitOff allocated past the region")
        } catch {}
        XCTAssertEqual(vec.array, [0, 1, 2, 3, 4, 5])
    }

    func testEditingZeroSizedElementsTouchesNoMemory() throws {
        var vec = AllocVec<Void, SystemAllocator>(allocator: SystemAllocator())
        for _ in 0..<100 { try vec.append(()) }
        vec.removeSubrange(10..<20)
        var drained = 0
        vec.drain(0..<30) { _ in drained += 1 }
        let tail = try vec.splitOff(at: 10)
        vec.swapRemove(at: 0)
        vec.removeAll(where: { _ in false })
        XCTAssertEqual(drained, 30)
        XCTAssertEqual(vec.count, 9)
        XCTAssertEqual(tail.count, 50)
    }

    func testSpanReadsAndMutableSpanWrites() throws {
        var vec = AllocVec<Int, SystemAllocator>(allocator: SystemAllocator())
        for value in 1...5 { try vec.append(value) }
        var total = 0
        do {
            let elements = vec.span
            for index in elements.indices { total += elements[index] }
            XCTAssertEqual(elements.count, 5)
        }
        XCTAssertEqual(total, 15)
        do {
            var writable = vec.mutableSpan
            for index in writable.indices { writable[index] *= 10 }
        }
        XCTAssertEqual(vec.array, [10, 20, 30, 40, 50])
    }

    func testSpanOfNonCopyableElements() throws {
        let deinits = DeinitCounter()
        let vec = try makeTracked(4, deinits)
        let elements = vec.span
        var values: [Int] = []
        for index in elements.indices { values.append(elements[index].value) }
        XCTAssertEqual(values, [0, 1, 2, 3])
        XCTAssertEqual(deinits.count, 0)
    }
}
