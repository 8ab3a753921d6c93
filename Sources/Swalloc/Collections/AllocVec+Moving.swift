/// Moving elements out of a vector in bulk (issue #15): Rust's `drain` and
/// `split_off`, shaped for Swift. Each leaves the vector whole and every
/// element deinitialized exactly once, whatever the caller's closure does.
extension AllocVec where Element: ~Copyable {
    /// Removes the elements in `range`, handing each to `body` in order,
    /// and moves the later elements down (Rust's `drain`, with a closure
    /// where Rust has an iterator, so that non-copyable elements move out).
    ///
    /// If `body` throws, the elements of `range` it has not received are
    /// deinitialized, as dropping Rust's `Drain` drops them, and the vector
    /// keeps the elements outside `range`. The capacity does not change.
    @inlinable
    public mutating func drain<E: Error>(_ range: Range<Int>, _ body: (consuming Element) throws(E) -> Void) throws(E) {
        precondition(range.lowerBound >= 0 && range.upperBound <= _count, "AllocVec: range \(range) out of 0..<\(_count)")
        var next = range.lowerBound
        defer {
            // [next, upperBound) was not handed out: dropped.
            (storage + next).deinitialize(count: range.upperBound - next)
            Self.moveElements(from: storage + range.upperBound, to: storage + range.lowerBound,
                              count: _count - range.upperBound)
            _count -= range.count
        }
        while next < range.upperBound {
            // `next` advances before `body` runs: the moved element is
            // never deinitialized again by the cleanup above.
            let element = (storage + next).move()
            next += 1
            try body(element)
        }
    }

    /// Moves the elements from `index` on into a new vector with the same
    /// allocator, and returns it; this vector keeps `0..<index` and its
    /// capacity (Rust's `split_off`).
    ///
    /// Throws when the new vector's storage cannot be allocated; both
    /// vectors are then as they were.
    @inlinable
    public mutating func splitOff(at index: Int) throws(AllocError) -> AllocVec<Element, A> {
        precondition(index >= 0 && index <= _count, "AllocVec: index \(index) out of range 0...\(_count)")
        let moved = _count - index
        var tail = try AllocVec(capacity: moved, allocator: allocator)
        Self.moveElements(from: storage + index, to: tail.storage, count: moved)
        tail._count = moved
        _count = index
        return tail
    }
}
