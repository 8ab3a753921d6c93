import CSwallocPreload

/// Dispatch from the exported `malloc` and `free` to the mode's fast path,
/// out of line so that the direct path of the exported functions stays a
/// tail call with no prologue.
enum FastPaths {
    // Each mode's path is a function of its own, reached by a tail call:
    // inlined together, they spill each other's registers.
    @inline(never)
    static func malloc(_ size: Int) -> UnsafeMutableRawPointer? {
        if _fastPath(servingMode == .counting) { return countingMalloc(size) }
        if servingMode == .registered { return registeredMalloc(size) }
        return MallocFamily.malloc(size)
    }

    @inline(never)
    static func free(_ pointer: UnsafeMutableRawPointer?) {
        if _fastPath(servingMode == .counting) { return countingFree(pointer) }
        if servingMode == .registered { return registeredFree(pointer) }
        MallocFamily.free(pointer)
    }

    @inline(never) static func countingMalloc(_ size: Int) -> UnsafeMutableRawPointer? { CountingPath.malloc(size) }
    @inline(never) static func registeredMalloc(_ size: Int) -> UnsafeMutableRawPointer? { RegisteredPath.malloc(size) }
    @inline(never) static func countingFree(_ pointer: UnsafeMutableRawPointer?) { CountingPath.free(pointer) }
    @inline(never) static func registeredFree(_ pointer: UnsafeMutableRawPointer?) { RegisteredPath.free(pointer) }
}

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
        let table = swalloc_registered_ptr()
        thread.pointee.depth = 1
        let base = table.pointee.alloc!(table.pointee.context, size &+ BlockHeader.byteCount, BlockHeader.byteCount)
        thread.pointee.depth = 0
        guard let base else { return FramedAllocation.failure(counted: false) }
        // Unsafe: the allocator returned size + 16 writable bytes.
        base.storeBytes(of: size, as: Int.self)
        base.storeBytes(of: BlockHeader.registeredTag, toByteOffset: 8, as: UInt64.self)
        return base + BlockHeader.byteCount
    }

    @inline(__always)
    static func free(_ pointer: UnsafeMutableRawPointer?) {
        let thread = swalloc_current_thread()
        guard _fastPath(swalloc_thread_outside(thread)), let pointer,
              // Unsafe: as in CountingPath.free; arena blocks never match.
              _fastPath(pointer.load(fromByteOffset: -8, as: UInt64.self) == BlockHeader.registeredTag) else {
            MallocFamily.free(pointer)
            return
        }
        let size = pointer.load(fromByteOffset: -16, as: Int.self)
        let table = swalloc_registered_ptr()
        thread.pointee.depth = 1
        table.pointee.dealloc!(table.pointee.context, pointer - BlockHeader.byteCount,
                               size &+ BlockHeader.byteCount, BlockHeader.byteCount)
        thread.pointee.depth = 0
    }
}
