import CSwallocPreload

/// Mappings that left the guard allocator's quarantine, kept for the next
/// block of the same mapping size instead of being unmapped.
///
/// A guarded block made from scratch costs `mmap` and `mprotect` (its
/// guard page), a page fault per page it touches, and at the end of its
/// quarantine a `munmap`; glibc's tst-malloc-too-large, 2.3 million small
/// malloc/free pairs, took 37 s under guard against its 20 s timeout. A
/// retired mapping is still mapped, PROT_NONE and kept from children
/// (`MADV_DONTFORK`) as in the quarantine, its guard page in place and its
/// pages resident: reusing it is one `mprotect` to open the data part and
/// one `madvise` to let children inherit it again.
///
/// At most ``capacity`` mappings of at most ``largestBytes`` each wait
/// here (4 MiB in all), last in first out. They still count in the
/// guard's mapping budget. Under `SWALLOC_LOCK_GUARD`.
enum GuardRetired {
    static let capacity = 256
    static let largestBytes = 16 << 10

    struct Entry {
        var mapping: UInt
        var bytes: Int
    }

    nonisolated(unsafe) static var entries: UnsafeMutablePointer<Entry>? = nil
    nonisolated(unsafe) static var count = 0

    /// Once, by ``GuardBuiltin/prepare()``.
    static func start() {
        // Unsafe: a fresh mapping of capacity entries, ours alone.
        entries = swalloc_map_anonymous(capacity &* MemoryLayout<Entry>.stride)?
            .assumingMemoryBound(to: Entry.self)
    }

    /// Keeps a mapping that left the quarantine; false when it is too large
    /// or there is no room (the caller unmaps it). The caller holds the lock.
    static func keep(_ mapping: UInt, bytes: Int) -> Bool {
        guard let entries, bytes <= largestBytes, count < capacity else { return false }
        entries[count] = Entry(mapping: mapping, bytes: bytes)
        count &+= 1
        return true
    }

    /// A retired mapping of exactly `bytes` (PROT_NONE, kept from children),
    /// now the caller's, or nil.
    static func take(bytes: Int) -> UInt? {
        guard bytes <= largestBytes, let entries else { return nil }
        swalloc_lock_acquire(SWALLOC_LOCK_GUARD)
        defer { swalloc_lock_release(SWALLOC_LOCK_GUARD) }
        var index = count
        while index > 0 {
            index &-= 1
            if entries[index].bytes == bytes {
                let mapping = entries[index].mapping
                count &-= 1
                entries[index] = entries[count]
                return mapping
            }
        }
        return nil
    }

    /// In a forked child: the retired mappings were kept from it. Returns
    /// how many it forgot. Called with the guard lock free.
    static func afterForkInChild() -> Int {
        let forgotten = count
        count = 0
        return forgotten
    }
}
