/// The size and alignment of a block of memory, as Rust's `core::alloc::Layout`.
///
/// Invariants, checked by the throwing initializer: `alignment` is a power of
/// two, and `size` rounded up to a multiple of `alignment` does not overflow
/// `Int`. Zero-sized layouts are valid (an ``Allocator`` serves them; a
/// ``GlobalAllocator`` is never asked for one).
///
/// Where Swift's `Int` differs from Rust's `usize`: the largest alignment
/// is 2^62, the largest power of two an `Int` holds, where Rust allows
/// 2^63 on 64-bit targets; no block that large can exist in either (sizes
/// stop at `Int.max`, as Rust's stop at `isize::MAX`).
public struct Layout: Hashable, Sendable, CustomStringConvertible {
    /// Bytes. At least 0.
    public let size: Int
    /// Bytes; a power of two.
    public let alignment: Int

    /// A layout of `size` bytes at `alignment` (Rust's
    /// `Layout::from_size_align`): throws when the alignment is not a
    /// power of two, or when the size rounded up to it overflows `Int`.
    @inlinable
    public init(size: Int, alignment: Int) throws(LayoutError) {
        guard alignment > 0, alignment & (alignment - 1) == 0 else { throw .alignmentNotPowerOfTwo(alignment) }
        guard size >= 0, size <= Int.max - (alignment - 1) else { throw .sizeOverflow }
        self.size = size
        self.alignment = alignment
    }

    /// Unchecked: the caller guarantees the invariants.
    @usableFromInline
    init(uncheckedSize size: Int, alignment: Int) {
        self.size = size
        self.alignment = alignment
    }

    /// A layout without the checks of ``init(size:alignment:)`` (Rust's
    /// `Layout::from_size_align_unchecked`): for a layout the caller
    /// already knows to be valid, such as one a global allocator's table
    /// brought back.
    ///
    /// - Precondition: `alignment` is a power of two, and `size` rounded up
    ///   to it does not overflow `Int`. Checked in debug builds only.
    @inlinable
    public init(unsafeUncheckedSize size: Int, alignment: Int) {
        assert(alignment > 0 && alignment & (alignment &- 1) == 0 && size >= 0 && size <= Int.max &- (alignment &- 1),
               "Layout(unsafeUncheckedSize:alignment:) with an invalid layout")
        self.init(uncheckedSize: size, alignment: alignment)
    }

    /// The layout of one `T` (its size, not its stride).
    @inlinable
    public static func of<T: ~Copyable>(_: T.Type) -> Layout {
        Layout(uncheckedSize: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment)
    }

    /// The layout of the value `value` (Rust's `Layout::for_value`). Swift
    /// has no dynamically sized values, so this is ``of(_:)`` of the
    /// value's static type; it spares naming that type.
    @inlinable
    public static func of<T: ~Copyable>(value: borrowing T) -> Layout {
        of(T.self)
    }

    /// The layout of `count` contiguous `T`s: `stride × count` bytes, and 0
    /// for a zero-sized `T` (Rust's `Layout::array`: its sizes are strides;
    /// Swift gives an empty type a stride of 1 but stores nothing).
    @inlinable
    public static func array<T: ~Copyable>(of _: T.Type, count: Int) throws(LayoutError) -> Layout {
        guard count >= 0 else { throw .sizeOverflow }
        if MemoryLayout<T>.size == 0 { return Layout(uncheckedSize: 0, alignment: MemoryLayout<T>.alignment) }
        let (bytes, overflow) = MemoryLayout<T>.stride.multipliedReportingOverflow(by: count)
        guard !overflow else { throw .sizeOverflow }
        return try Layout(size: bytes, alignment: MemoryLayout<T>.alignment)
    }

    /// The size rounded up to a multiple of the alignment (Rust's
    /// `pad_to_align`): the stride of an array of such blocks.
    @inlinable
    public var padded: Layout {
        // Cannot overflow: the initializer checked exactly this.
        Layout(uncheckedSize: (size + alignment - 1) & ~(alignment - 1), alignment: alignment)
    }

    /// This layout followed by `next`, as the fields of a C struct (Rust's
    /// `extend`): the combined layout (not padded at the end) and the offset
    /// at which `next` starts.
    @inlinable
    public func extended(by next: Layout) throws(LayoutError) -> (layout: Layout, offset: Int) {
        let alignment = max(self.alignment, next.alignment)
        let (padded, o1) = size.addingReportingOverflow(next.alignment - 1)
        guard !o1 else { throw .sizeOverflow }
        let offset = padded & ~(next.alignment - 1)
        let (end, o2) = offset.addingReportingOverflow(next.size)
        guard !o2 else { throw .sizeOverflow }
        return (try Layout(size: end, alignment: alignment), offset)
    }

    /// `count` copies of this layout, each padded to the alignment (Rust's
    /// `repeat`): the layout of the array and the stride between elements.
    @inlinable
    public func repeated(_ count: Int) throws(LayoutError) -> (layout: Layout, stride: Int) {
        guard count >= 0 else { throw .sizeOverflow }
        let stride = padded.size
        let (bytes, overflow) = stride.multipliedReportingOverflow(by: count)
        guard !overflow else { throw .sizeOverflow }
        return (try Layout(size: bytes, alignment: alignment), stride)
    }

    /// This layout followed by `next` with no padding between them (Rust's
    /// `extend_packed`): the combined size is the sum, and the alignment
    /// stays this layout's. The offset of `next` is this layout's `size`;
    /// `next` may land misaligned there, which the caller then reads with
    /// unaligned loads.
    @inlinable
    public func extendedPacked(by next: Layout) throws(LayoutError) -> Layout {
        let (end, overflow) = size.addingReportingOverflow(next.size)
        guard !overflow else { throw .sizeOverflow }
        return try Layout(size: end, alignment: alignment)
    }

    /// `count` copies of this layout with no padding between them (Rust's
    /// `repeat_packed`): `size × count` bytes at this layout's alignment.
    @inlinable
    public func repeatedPacked(_ count: Int) throws(LayoutError) -> Layout {
        guard count >= 0 else { throw .sizeOverflow }
        let (bytes, overflow) = size.multipliedReportingOverflow(by: count)
        guard !overflow else { throw .sizeOverflow }
        return try Layout(size: bytes, alignment: alignment)
    }

    /// The padding to insert after this layout so that a value aligned to
    /// `alignment` can follow it (Rust's `padding_needed_for`): the size
    /// rounded up to `alignment`, less the size. The result is only
    /// meaningful when `alignment` is not above this layout's own (a block
    /// placed at an address aligned to this layout's alignment only).
    ///
    /// - Precondition: `alignment` is a power of two.
    @inlinable
    public func paddingNeeded(for alignment: Int) -> Int {
        precondition(alignment > 0 && alignment & (alignment - 1) == 0,
                     "Layout.paddingNeeded(for:) with an alignment that is not a power of two")
        // Cannot overflow for alignment ≤ self.alignment (the initializer's
        // check); above it, it wraps as Rust's does, without trapping.
        let rounded = (size &+ (alignment &- 1)) & ~(alignment &- 1)
        return rounded &- size
    }

    /// The same size with a larger (or equal) alignment (Rust's
    /// `align_to`): `alignment` must be a power of two, even when it is
    /// below the current one.
    @inlinable
    public func aligned(to alignment: Int) throws(LayoutError) -> Layout {
        guard alignment > 0, alignment & (alignment - 1) == 0 else { throw .alignmentNotPowerOfTwo(alignment) }
        return try Layout(size: size, alignment: max(self.alignment, alignment))
    }

    /// A non-null pointer aligned to this layout, for zero-sized blocks
    /// (Rust's `dangling`): never to be read or written through.
    @inlinable
    public var danglingPointer: UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(bitPattern: alignment)!
    }

    /// `Layout(size: 24, alignment: 8)`.
    public var description: String { "Layout(size: \(size), alignment: \(alignment))" }
}

/// Why a ``Layout`` could not be made.
public enum LayoutError: Error, Hashable, Sendable {
    /// The alignment given (0, negative, or not a power of two).
    case alignmentNotPowerOfTwo(Int)
    /// The size, or the size rounded up to the alignment, does not fit in
    /// `Int` (or a count was negative).
    case sizeOverflow
}
