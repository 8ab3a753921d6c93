/// The elements as `Span` and `MutableSpan`: iteration and indexing with
/// bounds checks and no closure, for copyable and non-copyable elements
/// alike, checked by the compiler not to outlive the vector's access.
@available(macOS 26.0, iOS 26.0, watchOS 26.0, tvOS 26.0, visionOS 26.0, *)
extension AllocVec where Element: ~Copyable {
    /// The elements, borrowed: valid while the vector is not mutated.
    ///
    /// ```swift
    /// let elements = vector.span
    /// for index in elements.indices { total += elements[index] }
    /// ```
    public var span: Span<Element> {
        @_lifetime(borrow self)
        @inlinable
        borrowing get {
            // Unsafe: storage holds _count initialized elements for as long
            // as self is borrowed (only mutation moves or frees them).
            let elements = Span(_unsafeStart: storage, count: _count)
            return _overrideLifetime(elements, borrowing: self)
        }
    }

    /// The elements, for in-place mutation; the count stays the vector's.
    public var mutableSpan: MutableSpan<Element> {
        @_lifetime(&self)
        @inlinable
        mutating get {
            // Unsafe: as for `span`, with self exclusively accessed.
            let elements = MutableSpan(_unsafeStart: storage, count: _count)
            return _overrideLifetime(elements, mutating: &self)
        }
    }
}
