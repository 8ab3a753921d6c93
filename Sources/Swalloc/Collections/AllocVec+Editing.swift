/// The editing methods people reach for, named after Swift's `Array` and
/// with the semantics of Rust's `Vec` (issue #15). Each keeps the vector
/// whole when it fails: an element is never lost or deinitialized twice.
extension AllocVec where Element: ~Copyable {
    /// Removes the last `k` elements (Rust's `truncate(count - k)`).
    @inlinable
    public mutating func removeLast(_ k: Int) {
        precondition(k >= 0 && k <= _count, "AllocVec: cannot remove \(k) of \(_count) elements")
        _count -= k
        (storage + _count).deinitialize(count: k)
    }

    /// Removes the elements in `range`, moving the later ones down.
    @inlinable
    public mutating func removeSubrange(_ range: Range<Int>) {
        precondition(range.lowerBound >= 0 && range.upperBound <= _count, "AllocVec: range \(range) out of 0..<\(_count)")
        (storage + range.lowerBound).deinitialize(count: range.count)
        Self.moveElements(from: storage + range.upperBound, to: storage + range.lowerBound, count: _count - range.upperBound)
        _count -= range.count
    }

    /// Removes every element for which `shouldBeRemoved` is true, keeping
    /// the others in order (Rust's `retain` with the test negated). If the
    /// test throws, the elements not yet tested stay, after those kept.
    @inlinable
    public mutating func removeAll<E: Error>(where shouldBeRemoved: (borrowing Element) throws(E) -> Bool) throws(E) {
        var kept = 0
        var index = 0
        defer {
            // Elements from `index` on were not tested: they stay.
            Self.moveElements(from: storage + index, to: storage + kept, count: _count - index)
            _count = kept + (_count - index)
        }
        while index < _count {
            let remove = try shouldBeRemoved(storage[index])
            if remove {
                (storage + index).deinitialize(count: 1)
            } else {
                if kept != index { Self.moveElements(from: storage + index, to: storage + kept, count: 1) }
                kept += 1
            }
            index += 1
        }
    }

    /// Exchanges the elements at `i` and `j`.
    @inlinable
    public mutating func swapAt(_ i: Int, _ j: Int) {
        precondition(i >= 0 && i < _count && j >= 0 && j < _count, "AllocVec: index out of range 0..<\(_count)")
        guard i != j else { return }
        let first = (storage + i).move()
        Self.moveElements(from: storage + j, to: storage + i, count: 1)
        (storage + j).initialize(to: first)
    }

    /// Removes the element at `index` and puts the last one in its place:
    /// constant time, the order not kept (Rust's `swap_remove`).
    @inlinable
    public mutating func swapRemove(at index: Int) -> Element {
        precondition(index >= 0 && index < _count, "AllocVec: index \(index) out of range 0..<\(_count)")
        let element = (storage + index).move()
        _count -= 1
        if index != _count { Self.moveElements(from: storage + _count, to: storage + index, count: 1) }
        return element
    }
}

extension AllocVec where Element: Copyable {
    /// Appends the elements of `elements`, reserving room for them first
    /// when the sequence knows its count. On a failure the elements
    /// appended so far stay.
    @inlinable
    public mutating func append<S: Sequence>(contentsOf elements: S) throws(AllocError) where S.Element == Element {
        let expected = elements.underestimatedCount
        if expected > _capacity - _count { try reserveCapacity(_count + expected) }
        for element in elements { try append(element) }
    }

    /// Makes the count `newCount`: removes from the end, or appends copies
    /// of `value` (Rust's `resize`).
    @inlinable
    public mutating func resize(to newCount: Int, with value: Element) throws(AllocError) {
        precondition(newCount >= 0, "AllocVec: negative count \(newCount)")
        if newCount < _count { return removeLast(_count - newCount) }
        try reserveCapacity(newCount)
        while _count < newCount { try append(value) }
    }
}
