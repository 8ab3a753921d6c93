/// One value in memory from an ``Allocator`` of your choice, as Rust's
/// `Box<T, A>`: a tree node in an arena, a large struct in a pool.
///
/// Non-copyable, like ``AllocVec`` and for the same reason: the box owns
/// its block, deinitializes the value and returns the memory exactly once,
/// when the box goes away or ``take()`` moves the value out.
public struct AllocBox<T: ~Copyable, A: Allocator>: ~Copyable {
    @usableFromInline var pointer: UnsafeMutablePointer<T>?
    /// The allocator the block came from, and goes back to.
    public let allocator: A
    /// Always nil. A field that is not plain data, so that the runtime
    /// never takes an instantiation whose other fields all are (say
    /// `AllocVec<Int, SystemAllocator>`) for trivially destructible and
    /// skips `deinit`: Swift 6.3's runtime does that (swiftlang/swift#89686,
    /// fixed after 6.3.1), which would leak the storage in debug builds.
    @usableFromInline let deinitAnchor: AnyObject? = nil

    /// Allocates a block for `T` and moves `value` into it.
    @inlinable
    public init(_ value: consuming T, allocator: A) throws(AllocError) {
        let block = try allocator.allocate(Layout.of(T.self))
        let pointer = block.baseAddress!.assumingMemoryBound(to: T.self)
        pointer.initialize(to: value)
        self.pointer = pointer
        self.allocator = allocator
    }

    deinit {
        if let pointer {
            pointer.deinitialize(count: 1)
            allocator.deallocate(UnsafeMutableRawPointer(pointer), layout: Layout.of(T.self))
        }
    }

    /// The value, in place.
    @inlinable
    public var value: T {
        _read { yield pointer!.pointee }
        _modify { yield &pointer!.pointee }
    }

    /// The value's address, valid during `body`.
    @inlinable
    public func withUnsafePointer<R: ~Copyable, E: Error>(_ body: (UnsafePointer<T>) throws(E) -> R) throws(E) -> R {
        try body(pointer!)
    }

    /// The value's address and the allocator, without the box: the value
    /// stays initialized and the block allocated, and the caller owns both
    /// (Rust's `Box::into_raw_with_allocator`). Give them back to
    /// ``init(unsafeFromRaw:allocator:)`` to free them again as a box.
    @inlinable
    public consuming func intoRaw() -> (pointer: UnsafeMutablePointer<T>, allocator: A) {
        let pointer = self.pointer!
        let allocator = self.allocator
        self.pointer = nil
        return (pointer, allocator)
    }

    /// A box that owns `pointer` again (Rust's `Box::from_raw_in`).
    ///
    /// - Precondition: `pointer` holds an initialized `T` in a block that
    ///   `allocator` allocated with `Layout.of(T.self)` (as ``intoRaw()``
    ///   leaves it), and nothing else owns it.
    @inlinable
    public init(unsafeFromRaw pointer: UnsafeMutablePointer<T>, allocator: A) {
        self.pointer = pointer
        self.allocator = allocator
    }

    /// The value's address for the rest of the process: the value is never
    /// deinitialized and the block never given back (Rust's `Box::leak`).
    @inlinable
    public consuming func leak() -> UnsafeMutablePointer<T> {
        let pointer = self.pointer!
        self.pointer = nil
        return pointer
    }

    /// Moves the value out and gives the block back.
    @inlinable
    public consuming func take() -> T {
        let pointer = self.pointer!
        self.pointer = nil
        let value = pointer.move()
        allocator.deallocate(UnsafeMutableRawPointer(pointer), layout: Layout.of(T.self))
        return value
    }
}

/// A box owns its block alone (it is non-copyable), so it may move to
/// another thread when its value and its allocator may.
extension AllocBox: @unchecked Sendable where T: Sendable & ~Copyable, A: Sendable {}
