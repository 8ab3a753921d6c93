import CSwallocPreload

/// A module's file, mapped: typed views of its parts, each given only when
/// it lies wholly inside the file (no conversion or sum can overflow).
struct ELFFile {
    var base: UnsafeRawPointer
    var bytes: UInt64

    func array<T>(of type: T.Type, at offset: UInt64, count: UInt64) -> UnsafePointer<T>? {
        let stride = UInt64(MemoryLayout<T>.stride)
        guard offset <= bytes, count <= (bytes &- offset) / stride,
              offset % UInt64(MemoryLayout<T>.alignment) == 0 else { return nil }
        // SAFETY: [offset, offset + count * stride) is inside the mapping,
        // and the mapping is page-aligned, so the offset's alignment is the
        // address's.
        return (base + Int(offset)).assumingMemoryBound(to: T.self)
    }
}
