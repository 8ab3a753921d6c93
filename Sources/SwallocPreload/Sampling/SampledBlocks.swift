import CSwallocPreload

/// The sampled blocks still live: pointer → site and weight, so that a
/// free is attributed to its site (the leak report). Open addressing with
/// backward-shift deletion, 2^20 slots of mapped memory (24 MiB of address
/// space, touched as used); a block that does not fit is counted as
/// untracked. Guarded by ``Sampler``'s lock.
enum SampledBlocks {
    static let capacity = 1 << 20

    struct Entry {
        var pointer: UInt
        var site: Int32
        var weight: Double
    }

    nonisolated(unsafe) static var entries: UnsafeMutablePointer<Entry>? = nil
    nonisolated(unsafe) static var count = 0
    nonisolated(unsafe) static var untracked: UInt64 = 0

    static func prepare() -> Bool {
        if entries != nil { return true }
        guard let memory = swalloc_map_anonymous(capacity &* MemoryLayout<Entry>.stride) else { return false }
        entries = memory.assumingMemoryBound(to: Entry.self)
        return true
    }

    static func home(_ pointer: UInt) -> Int {
        // Parenthesised: in Swift, shifts bind tighter than multiplication.
        Int(truncatingIfNeeded: ((UInt64(pointer) &>> 4) &* 0x9E37_79B9_7F4A_7C15) &>> 44)
    }

    static func insert(_ pointer: UInt, site: Int, weight: Double) -> Bool {
        guard let entries, count < capacity / 4 * 3 else {
            untracked &+= 1
            return false
        }
        var slot = home(pointer)
        while entries[slot].pointer != 0 { slot = (slot &+ 1) & (capacity &- 1) }
        entries[slot] = Entry(pointer: pointer, site: Int32(site), weight: weight)
        count &+= 1
        return true
    }

    /// The entry of a live sampled block, without the lock: for the guard
    /// allocator's fault handler, in a process that is about to die.
    static func find(_ pointer: UInt) -> Entry? {
        guard let entries else { return nil }
        var slot = home(pointer)
        var probes = 0
        while entries[slot].pointer != 0 && probes < capacity {
            if entries[slot].pointer == pointer { return entries[slot] }
            slot = (slot &+ 1) & (capacity &- 1)
            probes &+= 1
        }
        return nil
    }

    static func remove(_ pointer: UInt) -> Entry? {
        guard let entries else { return nil }
        var slot = home(pointer)
        while entries[slot].pointer != 0 && entries[slot].pointer != pointer {
            slot = (slot &+ 1) & (capacity &- 1)
        }
        guard entries[slot].pointer == pointer else { return nil }
        let found = entries[slot]
        var hole = slot
        var next = slot
        while true {
            next = (next &+ 1) & (capacity &- 1)
            if entries[next].pointer == 0 { break }
            let wanted = home(entries[next].pointer)
            let inBetween = hole <= next ? (hole < wanted && wanted <= next) : (hole < wanted || wanted <= next)
            if inBetween { continue }
            entries[hole] = entries[next]
            hole = next
        }
        entries[hole].pointer = 0
        count &-= 1
        return found
    }
}
