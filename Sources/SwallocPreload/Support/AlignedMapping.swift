import CSwallocPreload

/// Anonymous mappings placed at an alignment above a page: over-mapped by
/// the alignment, then the front and the tail trimmed. The one place that
/// does it, for bump's chunks and large blocks and guard's over-aligned
/// blocks (whose block starts a page into the mapping).
enum AlignedMapping {
    /// A mapping of `bytes` bytes whose address plus `offset` is a multiple
    /// of `alignment` (a power of two, at least a page; `offset` a multiple
    /// of a page); nil when the kernel refuses.
    static func map(_ bytes: Int, alignment: Int, alignedAt offset: Int = 0) -> UnsafeMutableRawPointer? {
        guard let raw = swalloc_map_anonymous(bytes &+ alignment) else { return nil }
        let address = UInt(bitPattern: raw)
        let start = ((address &+ UInt(offset) &+ UInt(alignment) &- 1) & ~UInt(alignment &- 1)) &- UInt(offset)
        let front = Int(start &- address)
        // Unsafe: both pieces lie in the mapping just made, outside
        // [start, start + bytes): front < alignment, front + tail = alignment.
        if front > 0 { _ = swalloc_unmap(raw, front) }
        let tail = alignment &- front
        if tail > 0 { _ = swalloc_unmap(UnsafeMutableRawPointer(bitPattern: start &+ UInt(bytes))!, tail) }
        return UnsafeMutableRawPointer(bitPattern: start)
    }
}
