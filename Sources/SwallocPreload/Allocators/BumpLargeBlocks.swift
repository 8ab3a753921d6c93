import CSwallocPreload

/// The bump built-in's large blocks (``BumpBuiltin/largeBytes`` and more,
/// or aligned above a page): a mapping each, exactly the block's size in
/// whole pages.
///
/// - Freed mappings wait in a small cache (at most ``cacheEntries`` of
///   them, ``cacheBytesLimit`` bytes in all, the oldest unmapped first) and
///   serve the next large blocks: a program that allocates and frees large
///   blocks in turn (jq building a string by copies: 14 GB allocated for a
///   4.6 MB peak) reuses pages that are already there, where a fresh
///   mapping each time faulted every page in again (25 times glibc's time;
///   glibc keeps such blocks in its heap once it has seen one freed, its
///   dynamic mmap threshold, which stops at 32 MiB too).
/// - A cached mapping that is too large loses its tail (`munmap`); one too
///   small is grown by `mremap`, which keeps its pages. So the mapping
///   under a block always spans `pages(size)`, and `free` knows it from
///   the size alone.
/// - A reused mapping is made readable and writable again first: a
///   program that protected part of its block (a coroutine stack's guard
///   page) and freed it without undoing that must not hand the next
///   malloc a page that faults. (Other advice it gave, `MADV_DONTFORK`
///   say, stays with the pages, as it does with glibc's heap.)
/// - `realloc` of a large block to a large size is one `mremap` (the pages
///   move with the mapping; nothing is copied), as glibc does for its
///   mapped chunks.
/// - Blocks aligned above a page are neither cached nor taken from the
///   cache (their mapping was cut to the alignment).
///
/// The cache is under `SWALLOC_LOCK_BUMP`, as the recycled chunks are.
enum BumpLargeBlocks {
    static let cacheEntries = 8
    static let cacheBytesLimit = 32 << 20

    struct Entry {
        var base: UnsafeMutableRawPointer?
        var bytes: Int
    }

    /// ``cacheEntries`` entries, oldest first; `cached` of them in use.
    nonisolated(unsafe) static var cache: UnsafeMutablePointer<Entry>? = nil
    nonisolated(unsafe) static var cached = 0
    nonisolated(unsafe) static var cachedBytes = 0

    /// The cache's table (one page, mapped: no malloc). Once, by
    /// ``BumpBuiltin/install()``; without it, every large block is mapped
    /// and unmapped.
    static func start() {
        guard cache == nil else { return }
        Invariant.check(cacheEntries &* MemoryLayout<Entry>.stride <= MallocFamily.pageSize,
                        "bump's cache of large mappings fits in one page")
        // Unsafe: a fresh zeroed mapping, ours alone, a page (checked above
        // to hold the table).
        cache = swalloc_map_anonymous(MallocFamily.pageSize)?.assumingMemoryBound(to: Entry.self)
    }

    /// A large block occupies exactly its size in whole pages.
    @inline(__always)
    static func pages(_ size: Int) -> Int {
        let page = MallocFamily.pageSize
        return (size &+ page &- 1) & ~(page &- 1)
    }

    static func allocate(_ size: Int, _ alignment: Int) -> UnsafeMutableRawPointer? {
        guard size <= Int.max / 4, alignment <= Int.max / 4 else { return nil }
        let bytes = pages(size)
        let page = MallocFamily.pageSize
        guard alignment <= page else { return AlignedMapping.map(bytes, alignment: alignment) }
        if let entry = takeCached(fitting: bytes), let base = entry.base {
            // Unsafe: [base, base + entry.bytes) is a mapping of ours that no
            // block uses (it left the cache under the lock).
            var block: UnsafeMutableRawPointer? = base
            var mapped = entry.bytes
            if mapped > bytes {
                _ = swalloc_unmap(base + bytes, mapped &- bytes)
                mapped = bytes
            } else if mapped < bytes {
                block = swalloc_remap(base, mapped, bytes)
                if block != nil { mapped = bytes }
            }
            if let block, swalloc_protect_read_write(block, mapped) == 0 { return block }
            _ = swalloc_unmap(block ?? base, mapped)
        }
        return swalloc_map_anonymous(bytes)
    }

    static func free(_ block: UnsafeMutableRawPointer, _ size: Int, _ alignment: Int) {
        let bytes = pages(size)
        guard alignment <= MallocFamily.pageSize, bytes <= cacheBytesLimit, let cache else {
            _ = swalloc_unmap(block, bytes)
            return
        }
        while true {
            var evicted: Entry? = nil
            swalloc_lock_acquire(SWALLOC_LOCK_BUMP)
            if cached < cacheEntries && cachedBytes &+ bytes <= cacheBytesLimit {
                // Unsafe: cached < cacheEntries, and the table's page holds
                // cacheEntries entries (see start()).
                cache[cached] = Entry(base: block, bytes: bytes)
                cached &+= 1
                cachedBytes &+= bytes
            } else {
                evicted = remove(at: 0)
            }
            swalloc_lock_release(SWALLOC_LOCK_BUMP)
            // Unmapped outside the lock; then try again with the room it made.
            guard let old = evicted, let base = old.base else { return }
            _ = swalloc_unmap(base, old.bytes)
        }
    }

    /// `realloc` from `size` to `newSize`, both large, alignment at most a
    /// page: the mapping resized in place or moved with its pages; nil when
    /// the kernel refuses (the block is then untouched).
    static func resize(_ block: UnsafeMutableRawPointer, _ size: Int, to newSize: Int) -> UnsafeMutableRawPointer? {
        guard newSize <= Int.max / 4 else { return nil }
        let bytes = pages(size)
        let newBytes = pages(newSize)
        if bytes == newBytes { return block }
        // Unsafe: the block's mapping spans exactly pages(size) (see the
        // type's comment); the kernel moves it whole or refuses.
        return swalloc_remap(block, bytes, newBytes)
    }

    /// The cached mapping for a block of `bytes`: the smallest that holds
    /// it, else the largest (to be grown); nil when the cache is empty.
    static func takeCached(fitting bytes: Int) -> Entry? {
        guard let cache else { return nil }
        swalloc_lock_acquire(SWALLOC_LOCK_BUMP)
        var chosen = -1
        for index in 0..<cached {
            let candidate = cache[index].bytes
            guard chosen >= 0 else { chosen = index; continue }
            let best = cache[chosen].bytes
            if candidate >= bytes ? (best < bytes || candidate < best) : (best < bytes && candidate > best) {
                chosen = index
            }
        }
        let entry = chosen >= 0 ? remove(at: chosen) : nil
        swalloc_lock_release(SWALLOC_LOCK_BUMP)
        return entry
    }

    /// Takes entry `index` out, keeping the others in order. Called with
    /// the lock held and `index < cached`.
    static func remove(at index: Int) -> Entry {
        let cache = cache!
        // Unsafe: index < cached <= cacheEntries, entries the table holds.
        let entry = cache[index]
        for later in index &+ 1 ..< cached { cache[later &- 1] = cache[later] }
        cached &-= 1
        cachedBytes &-= entry.bytes
        return entry
    }
}
