import CSwallocPreload

/// The fast path of ``ServingMode/registered``: a registered allocator with
/// no statistics and no wrappers. malloc and free of ordinary blocks call the
/// allocator's table under the reentrancy guard and frame the block;
/// everything else (the library's own calls, aligned blocks, huge sizes,
/// blocks of glibc) takes the general path. Same header, same blocks.
enum RegisteredPath {
    @inline(__always)
    static func malloc(_ size: Int) -> UnsafeMutableRawPointer? {
        let thread = swalloc_current_thread()
        guard _fastPath(swalloc_thread_outside(thread)),
              _fastPath(UInt(bitPattern: size) <= UInt(CountingPath.largestFastSize)) else {
            return MallocFamily.malloc(size)
        }
        thread.pointee.depth = 1
        let base = swalloc_registered_alloc(size &+ BlockHeader.byteCount, BlockHeader.byteCount)
        thread.pointee.depth = 0
        guard let base else { return HeaderBlocks.failure(counted: false) }
        // Unsafe: the allocator returned size + 16 writable bytes.
        return BlockHeader.write(size: size, tag: BlockHeader.registeredTag, at: base)
    }

    @inline(__always)
    static func free(_ pointer: UnsafeMutableRawPointer?) {
        let thread = swalloc_current_thread()
        // Separate guards, as in CountingPath.free.
        guard _fastPath(swalloc_thread_outside(thread)) else { return MallocFamily.free(pointer) }
        guard let pointer else { return MallocFamily.free(nil) }
        // Unsafe: as in CountingPath.free; arena blocks never match.
        guard _fastPath(pointer.loadUnaligned(fromByteOffset: -8, as: UInt64.self) == BlockHeader.registeredTag) else {
            return MallocFamily.free(pointer)
        }
        let size = pointer.loadUnaligned(fromByteOffset: -16, as: Int.self)
        // Unsafe: the header is ours until the dealloc below.
        BlockHeader.markFreed(before: pointer)
        thread.pointee.depth = 1
        swalloc_registered_dealloc(pointer - BlockHeader.byteCount, size &+ BlockHeader.byteCount,
                                   BlockHeader.byteCount)
        thread.pointee.depth = 0
    }
}
