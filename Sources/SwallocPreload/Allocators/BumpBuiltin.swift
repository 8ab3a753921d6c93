import CSwallocPreload

/// The `bump` built-in: hands out memory by moving a pointer through large
/// mapped chunks and never reuses a single block; `free` only updates the
/// accounting. For short-lived batch programs that allocate much and free
/// late.
///
/// - Each thread bumps through its own 1 MiB chunk (no lock, no atomic on
///   allocation). A chunk is aligned to its size, so a block's chunk is its
///   address rounded down.
/// - A chunk is recycled whole once it is retired (its thread moved on to a
///   new one) and every block in it was freed; that keeps a long-running
///   program's memory bounded by what it keeps live, in chunk granularity.
///   A chunk its own thread recycles stays with that thread (one spare, in
///   TLS), so that its cache lines do not migrate between cores; the others
///   go to a shared list.
/// - When a thread ends, a pthread key's destructor retires its chunk and
///   hands its spare to the shared list, so that a program that runs many
///   short-lived threads reuses a few chunks rather than mapping one per
///   thread. A thread that allocates again after that (another key's
///   destructor) takes a chunk and sets the key again; glibc runs the
///   destructors up to 4 rounds, and a chunk taken after the last round
///   stays mapped.
/// - The newest block of a thread's chunk can be given back (`free` right
///   after `malloc`) and grown in place (`realloc`).
/// - Blocks of 256 KiB and more get a mapping of their own
///   (``BumpLargeBlocks``: freed ones wait in a small cache for the next).
///
/// Frees from the owning thread are counted without atomics; frees from other
/// threads and the owner's final tally meet in one atomic `balance`: the
/// owner adds the blocks it allocated and did not free itself when it retires
/// the chunk, other threads subtract one each. Whoever brings it to zero
/// after the retirement recycles the chunk.
enum BumpBuiltin {
    static let chunkBytes = 1 << 20
    static let largeBytes = 256 << 10

    /// The header at the start of every chunk.
    struct Chunk {
        var owner: UnsafeMutableRawPointer? // the owning thread's state
        var top: Int                        // offset of the next free byte
        var newest: Int                     // offset of the newest block (for in-place free/grow)
        var allocated: Int64                // blocks handed out (owner only)
        var localFreed: Int64               // blocks the owner freed (owner only)
        var balance: Int64                  // atomic: see the type's comment
        var retired: Bool
        var next: UnsafeMutablePointer<Chunk>? // in the recycled list
    }

    /// Recycled chunks, under `SWALLOC_LOCK_BUMP`.
    nonisolated(unsafe) static var recycled: UnsafeMutablePointer<Chunk>? = nil

    /// The key whose destructor retires an ending thread's chunks; its
    /// value is the thread's state. Created by ``install()``.
    nonisolated(unsafe) static var threadEndKey = pthread_key_t()
    nonisolated(unsafe) static var threadEndKeyCreated = false

    static let headerBytes = (MemoryLayout<Chunk>.size + 63) & ~63

    static func install() -> swalloc_global_allocator {
        BumpLargeBlocks.start()
        threadEndKeyCreated = pthread_key_create(&threadEndKey, { value in
            if let value { BumpBuiltin.threadEnded(value.assumingMemoryBound(to: swalloc_thread_state.self)) }
        }) == 0
        return swalloc_global_allocator(
            context: nil,
            alloc: { _, size, alignment in BumpBuiltin.alloc(size, alignment) },
            dealloc: { _, block, size, alignment in BumpBuiltin.dealloc(block!, size, alignment) },
            alloc_zeroed: nil,
            realloc: { _, block, size, alignment, newSize in
                BumpBuiltin.realloc(block!, size, alignment, newSize)
            },
            name: CString.pointer("bump"))
    }

    @inline(__always)
    static func alloc(_ size: Int, _ alignment: Int) -> UnsafeMutableRawPointer? {
        // The common case: it fits in this thread's chunk.
        if let raw = swalloc_current_thread().pointee.bump_chunk, size < largeBytes, alignment <= 4096 {
            let chunk = raw.assumingMemoryBound(to: Chunk.self)
            let start = (chunk.pointee.top &+ alignment &- 1) & ~(alignment &- 1)
            if _fastPath(start &+ size <= chunkBytes) {
                chunk.pointee.top = start &+ size
                chunk.pointee.newest = start
                chunk.pointee.allocated &+= 1
                return raw + start
            }
        }
        return allocSlowly(size, alignment)
    }

    /// A large block, or a new chunk for this thread.
    @inline(never)
    static func allocSlowly(_ size: Int, _ alignment: Int) -> UnsafeMutableRawPointer? {
        if size >= largeBytes || alignment > 4096 { return BumpLargeBlocks.allocate(size, alignment) }
        let thread = swalloc_current_thread()
        if let raw = thread.pointee.bump_chunk {
            retire(raw.assumingMemoryBound(to: Chunk.self))
        } else if threadEndKeyCreated {
            // The thread's first chunk (or its first since the destructor
            // ran): have the destructor retire it. pthread_setspecific may
            // allocate (keys past the first 32): that call is the library's.
            Reentrancy.enter()
            _ = pthread_setspecific(threadEndKey, UnsafeMutableRawPointer(thread))
            Reentrancy.leave()
        }
        thread.pointee.bump_chunk = nil
        guard let fresh = takeChunk(owner: UnsafeMutableRawPointer(thread)) else { return nil }
        thread.pointee.bump_chunk = UnsafeMutableRawPointer(fresh)
        let start = (headerBytes &+ alignment &- 1) & ~(alignment &- 1)
        guard start &+ size <= chunkBytes else { return nil }
        fresh.pointee.top = start &+ size
        fresh.pointee.newest = start
        fresh.pointee.allocated = 1
        return UnsafeMutableRawPointer(fresh) + start
    }

    static func dealloc(_ block: UnsafeMutableRawPointer, _ size: Int, _ alignment: Int) {
        if size >= largeBytes || alignment > 4096 {
            BumpLargeBlocks.free(block, size, alignment)
            return
        }
        let chunk = chunkOf(block)
        let offset = block - UnsafeMutableRawPointer(chunk)
        if chunk.pointee.owner == UnsafeMutableRawPointer(swalloc_current_thread()) && !chunk.pointee.retired {
            // The newest block: give its bytes back.
            if offset == chunk.pointee.newest && offset &+ size == chunk.pointee.top {
                chunk.pointee.top = offset
            }
            chunk.pointee.localFreed &+= 1
            return
        }
        if swalloc_atomic_add_i64(&chunk.pointee.balance, -1) == 0 { recycle(chunk) }
    }

    static func realloc(_ block: UnsafeMutableRawPointer, _ size: Int, _ alignment: Int,
                        _ newSize: Int) -> UnsafeMutableRawPointer? {
        if size < largeBytes, newSize < largeBytes, alignment <= 4096 {
            let chunk = chunkOf(block)
            let offset = block - UnsafeMutableRawPointer(chunk)
            // The newest block of our own chunk grows (or shrinks) in place.
            if chunk.pointee.owner == UnsafeMutableRawPointer(swalloc_current_thread()), !chunk.pointee.retired,
               offset == chunk.pointee.newest, offset &+ size == chunk.pointee.top,
               offset &+ newSize <= chunkBytes {
                chunk.pointee.top = offset &+ newSize
                return block
            }
        }
        // A large block staying large: its mapping resized, no copy.
        if size >= largeBytes, newSize >= largeBytes, alignment <= MallocFamily.pageSize,
           let resized = BumpLargeBlocks.resize(block, size, to: newSize) {
            return resized
        }
        guard let moved = alloc(newSize, alignment) else { return nil }
        _ = memcpy(moved, block, min(size, newSize))
        dealloc(block, size, alignment)
        return moved
    }

    @inline(__always)
    static func chunkOf(_ block: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Chunk> {
        UnsafeMutableRawPointer(bitPattern: UInt(bitPattern: block) & ~UInt(chunkBytes &- 1))!
            .assumingMemoryBound(to: Chunk.self)
    }

    /// The owner moves on: hand the chunk's outstanding count to `balance`.
    static func retire(_ chunk: UnsafeMutablePointer<Chunk>) {
        chunk.pointee.retired = true
        let outstanding = chunk.pointee.allocated &- chunk.pointee.localFreed
        if swalloc_atomic_add_i64(&chunk.pointee.balance, outstanding) == 0 { recycle(chunk) }
    }

    /// The key destructor: the thread is ending. Its chunk is retired (and
    /// recycled now if every block in it was freed); its spare, and the
    /// chunk if it landed there, go to the shared list.
    static func threadEnded(_ thread: UnsafeMutablePointer<swalloc_thread_state>) {
        if let raw = thread.pointee.bump_chunk {
            thread.pointee.bump_chunk = nil
            retire(raw.assumingMemoryBound(to: Chunk.self))
        }
        if let spare = thread.pointee.bump_spare {
            thread.pointee.bump_spare = nil
            pushRecycled(spare.assumingMemoryBound(to: Chunk.self))
        }
    }

    /// Out of line: inlined into dealloc, its lock made every free pay
    /// for a stack frame.
    @inline(never)
    static func recycle(_ chunk: UnsafeMutablePointer<Chunk>) {
        let thread = swalloc_current_thread()
        if chunk.pointee.owner == UnsafeMutableRawPointer(thread) && thread.pointee.bump_spare == nil {
            thread.pointee.bump_spare = UnsafeMutableRawPointer(chunk)
            return
        }
        pushRecycled(chunk)
    }

    static func pushRecycled(_ chunk: UnsafeMutablePointer<Chunk>) {
        swalloc_lock_acquire(SWALLOC_LOCK_BUMP)
        chunk.pointee.next = recycled
        recycled = chunk
        swalloc_lock_release(SWALLOC_LOCK_BUMP)
    }

    /// A recycled chunk, or a new 1 MiB-aligned mapping.
    static func takeChunk(owner: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Chunk>? {
        let thread = swalloc_current_thread()
        var chunk = thread.pointee.bump_spare?.assumingMemoryBound(to: Chunk.self)
        thread.pointee.bump_spare = nil
        if chunk == nil {
            swalloc_lock_acquire(SWALLOC_LOCK_BUMP)
            chunk = recycled
            if let taken = chunk { recycled = taken.pointee.next }
            swalloc_lock_release(SWALLOC_LOCK_BUMP)
        }
        if chunk == nil {
            // Aligned to its size: a block's chunk is its address rounded down.
            chunk = AlignedMapping.map(chunkBytes, alignment: chunkBytes)?.assumingMemoryBound(to: Chunk.self)
        }
        guard let chunk else { return nil }
        chunk.pointee = Chunk(owner: owner, top: headerBytes, newest: -1, allocated: 0, localFreed: 0,
                              balance: 0, retired: false, next: nil)
        return chunk
    }
}
