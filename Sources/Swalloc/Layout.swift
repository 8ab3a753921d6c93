/// The size and alignment of a block of memory, as Rust's `core::alloc::Layout`.
///
/// Invariants, checked by the throwing initializer: `alignment` is a power of
/// two, and `size` rounded up to a multiple of `alignment` does not overflow
/// `Int`. Zero-sized layouts are valid.
public struct Layout: Hashable, Sendable, CustomStringConvertible {
    public let size: Int
    public let alignment: Int

    public init(size: Int, alignment: Int) throws(LayoutError) {
        guard alignment > 0, alignment & (alignment - 1) == 0 else { throw .alignmentNotPowerOfTwo(alignment) }
        guard size >= 0, size <= Int.max - (alignment - 1) else { throw .sizeOverflow }
        self.size = size
        self.alignment = alignment
    }

    /// Unchecked: the caller guarantees the invariants.
    init(uncheckedSize size: Int, alignment: Int) {
        self.size = size
        self.alignment = alignment
    }

    /// The layout of one `T`.
    public static func of<T>(_: T.Type) -> Layout {
        Layout(uncheckedSize: MemoryLayout<T>.size, alignment: MemoryLayout<T>.alignment)
    }

    /// The layout of `count` contiguous `T`s (stride × count).
    public static func array<T>(of _: T.Type, count: Int) throws(LayoutError) -> Layout {
        guard count >= 0 else { throw .sizeOverflow }
        let (bytes, overflow) = MemoryLayout<T>.stride.multipliedReportingOverflow(by: count)
        guard !overflow else { throw .sizeOverflow }
        return try Layout(size: bytes, alignment: MemoryLayout<T>.alignment)
    }

    public var description: String { "Layout(size: \(size), alignment: \(alignment))" }
}

/// Why a ``Layout`` could not be made.
public enum LayoutError: Error, Hashable, Sendable {
    case alignmentNotPowerOfTwo(Int)
    case sizeOverflow
}
