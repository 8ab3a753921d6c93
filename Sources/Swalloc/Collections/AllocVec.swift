/// A growable array whose storage comes from an ``Allocator`` of your
/// choice, as Rust's `Vec<T, A>` (and `allocator-api2`'s): put its elements
/// in an arena, a pool, a bump region, a counting wrapper.
///
/// `AllocVec` is non-copyable: it owns its storage, moves rather than
/// copies, and deinitializes its elements and returns its memory exactly
/// once, when it goes away. No reference count, no copy-on-write: what an
/// allocator-aware collection needs, where a copy would need an allocator
/// decision of its own. (Copy one explicitly with ``copy(using:)``.) Being
/// non-copyable it is not a `Sequence`; iterate with ``forEach(_:)``,
/// ``indices`` or ``withUnsafeBufferPointer(_:)``.
///
/// Operations that may allocate throw ``AllocError``, as allocator-aware
/// code should see a failure (Zig's `try list.append(x)`): nothing is lost
/// when they do.
///
/// Growth doubles the capacity through the allocator's `grow`, so an arena
/// grows the newest block in place.
public struct AllocVec<Element: ~Copyable, A: Allocator>: ~Copyable {
    @usableFromInline var storage: UnsafeMutablePointer<Element>
    @usableFromInline var _count: Int
    @usableFromInline var _capacity: Int
    /// The allocator the storage comes from and goes back to.
    public let allocator: A
    /// Always nil. A field that is not plain data, so that the runtime
    /// never takes an instantiation whose other fields all are (say
    /// `AllocVec<Int, SystemAllocator>`) for trivially destructible and
    /// skips `deinit`: Swift 6.3's runtime does that (swiftlang/swift#89686,
    /// fixed after 6.3.1), which would leak the storage in debug builds.
    @usableFromInline let deinitAnchor: AnyObject? = nil

    /// An empty vector; allocates nothing until the first element (and
    /// nothing ever for an empty `Element`, whose capacity is `Int.max`).
    @inlinable
    public init(allocator: A) {
        self.allocator = allocator
        self.storage = UnsafeMutableRawPointer(Layout.of(Element.self).danglingPointer)
            .assumingMemoryBound(to: Element.self)
        self._count = 0
        self._capacity = Self.emptyCapacity
    }

    /// An `Element` with no bytes (`Void`, an empty struct) needs no
    /// storage: Rust's `Vec` of a zero-sized type never allocates either.
    @inlinable static var elementIsEmpty: Bool { MemoryLayout<Element>.size == 0 }
    @inlinable static var emptyCapacity: Int { elementIsEmpty ? Int.max : 0 }
    /// Whether there is a block to give back.
    @inlinable var ownsStorage: Bool { _capacity > 0 && !Self.elementIsEmpty }

    /// An empty vector with room for `capacity` elements.
    @inlinable
    public init(capacity: Int, allocator: A) throws(AllocError) {
        self.init(allocator: allocator)
        try reserveCapacity(capacity)
    }

    deinit {
        storage.deinitialize(count: _count)
        if ownsStorage {
            allocator.deallocate(UnsafeMutableRawPointer(storage), layout: Self.layout(_capacity))
        }
    }

    /// The number of elements.
    @inlinable public var count: Int { _count }
    /// The number of elements the storage holds before it must grow.
    @inlinable public var capacity: Int { _capacity }
    /// Whether there are no elements.
    @inlinable public var isEmpty: Bool { _count == 0 }
    /// The valid indices, `0..<count`: iterate with `for i in vec.indices`.
    @inlinable public var indices: Range<Int> { 0..<_count }

    /// The element at `index`, in place (read, or modified without a
    /// copy). Traps when `index` is not in ``indices``.
    @inlinable
    public subscript(index: Int) -> Element {
        _read {
            precondition(index >= 0 && index < _count, "AllocVec: index \(index) out of range 0..<\(_count)")
            yield storage[index]
        }
        _modify {
            precondition(index >= 0 && index < _count, "AllocVec: index \(index) out of range 0..<\(_count)")
            yield &storage[index]
        }
    }

    /// Adds an element at the end; grows (doubling) when full.
    @inlinable
    public mutating func append(_ element: consuming Element) throws(AllocError) {
        if _slowPath(_count == _capacity) { try grow(toAtLeast: _count + 1) }
        (storage + _count).initialize(to: element)
        _count += 1
    }

    /// Removes and returns the last element.
    @inlinable
    public mutating func removeLast() -> Element {
        precondition(_count > 0, "AllocVec: removeLast on an empty vector")
        _count -= 1
        return (storage + _count).move()
    }

    /// Removes and returns the last element, or nil when empty.
    @inlinable
    public mutating func popLast() -> Element? {
        _count == 0 ? nil : removeLast()
    }

    /// Inserts at `index` (0...count), moving the later elements up.
    @inlinable
    public mutating func insert(_ element: consuming Element, at index: Int) throws(AllocError) {
        precondition(index >= 0 && index <= _count, "AllocVec: insertion index \(index) out of range 0...\(_count)")
        if _count == _capacity { try grow(toAtLeast: _count + 1) }
        Self.moveElements(from: storage + index, to: storage + index + 1, count: _count - index)
        (storage + index).initialize(to: element)
        _count += 1
    }

    /// Removes and returns the element at `index`, moving the later ones down.
    @inlinable
    public mutating func remove(at index: Int) -> Element {
        precondition(index >= 0 && index < _count, "AllocVec: index \(index) out of range 0..<\(_count)")
        let element = (storage + index).move()
        Self.moveElements(from: storage + index + 1, to: storage + index, count: _count - index - 1)
        _count -= 1
        return element
    }

    /// Removes every element; keeps the storage if asked to.
    @inlinable
    public mutating func removeAll(keepingCapacity: Bool = false) {
        storage.deinitialize(count: _count)
        _count = 0
        if !keepingCapacity && ownsStorage {
            allocator.deallocate(UnsafeMutableRawPointer(storage), layout: Self.layout(_capacity))
            storage = UnsafeMutableRawPointer(Layout.of(Element.self).danglingPointer).assumingMemoryBound(to: Element.self)
            _capacity = 0
        }
    }

    /// Makes room for at least `minimumCapacity` elements in all.
    @inlinable
    public mutating func reserveCapacity(_ minimumCapacity: Int) throws(AllocError) {
        if minimumCapacity > _capacity { try resize(to: minimumCapacity) }
    }

    /// Gives back unused capacity (through the allocator's `shrink`).
    @inlinable
    public mutating func shrinkToFit() throws(AllocError) {
        guard _count < _capacity, !Self.elementIsEmpty else { return }
        if _count == 0 {
            removeAll()
            return
        }
        let block = try allocator.shrink(UnsafeMutableRawPointer(storage), from: Self.layout(_capacity),
                                         to: Self.layout(_count))
        adopt(block)
    }

    /// Calls `body` on each element in order.
    @inlinable
    public func forEach<E: Error>(_ body: (borrowing Element) throws(E) -> Void) throws(E) {
        for index in 0..<_count { try body(storage[index]) }
    }

    /// The elements as a buffer, valid during `body`.
    @inlinable
    public func withUnsafeBufferPointer<R: ~Copyable, E: Error>(
        _ body: (UnsafeBufferPointer<Element>) throws(E) -> R
    ) throws(E) -> R {
        try body(UnsafeBufferPointer(start: storage, count: _count))
    }

    /// The elements as a mutable buffer, valid during `body`; its count
    /// stays the vector's.
    @inlinable
    public mutating func withUnsafeMutableBufferPointer<R: ~Copyable, E: Error>(
        _ body: (UnsafeMutableBufferPointer<Element>) throws(E) -> R
    ) throws(E) -> R {
        try body(UnsafeMutableBufferPointer(start: storage, count: _count))
    }

    // MARK: Storage

    /// Moves `count` elements from `source` to `target` (the ranges may
    /// overlap). Nothing for an empty `Element`: its pointers are dangling
    /// and `moveInitialize` would still copy a stride of 1 byte each.
    @inlinable
    static func moveElements(from source: UnsafeMutablePointer<Element>, to target: UnsafeMutablePointer<Element>,
                             count: Int) {
        guard !elementIsEmpty else { return }
        // Unsafe: the caller's ranges lie in the storage; the source's
        // elements are initialized, the target's are not (or are the source's).
        target.moveInitialize(from: source, count: count)
    }


    @inlinable
    static func layout(_ capacity: Int) -> Layout {
        // Only called for capacities whose layout was formed before.
        Layout(uncheckedSize: elementIsEmpty ? 0 : MemoryLayout<Element>.stride * capacity,
               alignment: MemoryLayout<Element>.alignment)
    }

    @inlinable
    mutating func grow(toAtLeast minimum: Int) throws(AllocError) {
        try resize(to: Swift.max(minimum, _capacity * 2, 4))
    }

    @usableFromInline
    mutating func resize(to newCapacity: Int) throws(AllocError) {
        let new: Layout
        do {
            new = try Layout.array(of: Element.self, count: newCapacity)
        } catch {
            throw AllocError(.exhausted, layout: nil)
        }
        let block = _capacity == 0
            ? try allocator.allocate(new)
            : try allocator.grow(UnsafeMutableRawPointer(storage), from: Self.layout(_capacity), to: new)
        adopt(block)
    }

    /// Takes a block the allocator returned: whatever room it has beyond
    /// what was asked for becomes capacity (memory fitting lets it go back
    /// with that size).
    @usableFromInline
    mutating func adopt(_ block: UnsafeMutableRawBufferPointer) {
        storage = block.baseAddress!.assumingMemoryBound(to: Element.self)
        _capacity = Self.elementIsEmpty ? Int.max : block.count / MemoryLayout<Element>.stride
    }
}

extension AllocVec where Element: Copyable {
    /// A copy of the elements in a new vector from `allocator`.
    @inlinable
    public func copy<B: Allocator>(using allocator: B) throws(AllocError) -> AllocVec<Element, B> {
        var copy = try AllocVec<Element, B>(capacity: _count, allocator: allocator)
        for index in 0..<_count { try copy.append(storage[index]) }
        return copy
    }

    /// The elements as an Array (allocated as Arrays are).
    @inlinable
    public var array: [Element] { Array(UnsafeBufferPointer(start: storage, count: _count)) }
}

/// A vector owns its storage alone (it is non-copyable), so it may move to
/// another thread when its elements and its allocator may.
extension AllocVec: @unchecked Sendable where Element: Sendable & ~Copyable, A: Sendable {}
