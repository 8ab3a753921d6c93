import CSwallocPreload

/// The sampled blocks still live: pointer → site and weight, so that a
/// free is attributed to its site (the leak report). Open addressing with
/// backward-shift deletion in mapped memory, guarded by ``Sampler``'s lock.
///
/// The table starts at 2^12 slots (96 KiB) and doubles when three quarters
/// are used, up to 2^20 (24 MiB); a block that does not fit then is counted
/// as untracked. It started at its largest once: each insert then landed
/// on a page never touched, whose probe mapped the zero page and whose
/// write replaced it, and with two threads every such write flushed the
/// other CPU's TLB (an interprocessor interrupt): 11 % of a two-thread
/// malloc loop's time, and a page of resident memory per sample.
enum SampledBlocks {
    static let initialCapacity = 1 << 12
    static let largestCapacity = 1 << 20

    struct Entry {
        var pointer: UInt
        var site: Int32
        var weight: Double
    }

    nonisolated(unsafe) static var entries: UnsafeMutablePointer<Entry>? = nil
    /// Slots in ``entries``, a power of two.
    nonisolated(unsafe) static var capacity = 0
    nonisolated(unsafe) static var count = 0
    nonisolated(unsafe) static var untracked: UInt64 = 0

    static func prepare() -> Bool {
        if entries != nil { return true }
        guard let memory = swalloc_map_anonymous(initialCapacity &* MemoryLayout<Entry>.stride) else { return false }
        // The capacity first: find reads it, then the table.
        capacity = initialCapacity
        swalloc_fence_release()
        entries = memory.assumingMemoryBound(to: Entry.self)
        return true
    }

    /// The home slot of `pointer` in a table of `capacity` slots.
    static func home(_ pointer: UInt, capacity: Int) -> Int {
        // The top bits of a multiplicative hash; parenthesised: in Swift,
        // shifts bind tighter than multiplication.
        let bits = UInt64(capacity.trailingZeroBitCount)
        return Int(truncatingIfNeeded: ((UInt64(pointer) &>> 4) &* 0x9E37_79B9_7F4A_7C15) &>> (64 &- bits))
    }

    static func home(_ pointer: UInt) -> Int { home(pointer, capacity: capacity) }

    static func insert(_ pointer: UInt, site: Int, weight: Double) -> Bool {
        guard entries != nil, count < capacity / 4 * 3 || grow(), let entries else {
            untracked &+= 1
            return false
        }
        var slot = home(pointer)
        while entries[slot].pointer != 0 { slot = (slot &+ 1) & (capacity &- 1) }
        entries[slot] = Entry(pointer: pointer, site: Int32(site), weight: weight)
        count &+= 1
        return true
    }

    /// Twice the slots, every entry moved; false at the largest size or
    /// when the kernel refuses the mapping. The old table's pages go back,
    /// its mapping stays: ``find(_:)`` reads without the lock.
    static func grow() -> Bool {
        guard let old = entries, capacity < largestCapacity else { return false }
        let grown = capacity &* 2
        guard let memory = swalloc_map_anonymous(grown &* MemoryLayout<Entry>.stride) else { return false }
        let table = memory.assumingMemoryBound(to: Entry.self)
        for index in 0..<capacity where old[index].pointer != 0 {
            var slot = home(old[index].pointer, capacity: grown)
            while table[slot].pointer != 0 { slot = (slot &+ 1) & (grown &- 1) }
            table[slot] = old[index]
        }
        let oldBytes = capacity &* MemoryLayout<Entry>.stride
        // The new table is whole before find can see it, and it sees the
        // larger capacity only with it (find reads the capacity first).
        swalloc_fence_release()
        entries = table
        swalloc_fence_release()
        capacity = grown
        swalloc_give_back_pages(UnsafeMutableRawPointer(old), oldBytes)
        return true
    }

    /// The entry of a live sampled block, without the lock: for the guard
    /// allocator's fault handler, in a process that is about to die.
    static func find(_ pointer: UInt) -> Entry? {
        let capacity = self.capacity
        swalloc_fence_acquire()
        guard capacity > 0, let entries else { return nil }
        var slot = home(pointer, capacity: capacity)
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
