import CSwallocPreload

/// `SWALLOC_GUARD=below`: the guard allocator with the inaccessible page
/// before each block instead of after it (Electric Fence's
/// `EF_PROTECT_BELOW`), so that a read or write of even one byte before
/// the block faults at once.
///
/// ```
/// mapping:  | guard page (PROT_NONE) | block (starts at the page) … slack |
/// ```
///
/// The library's 16-byte header would sit between the guard page and the
/// block, so these blocks carry none: the guard allocator registers as a
/// version 2 allocator that knows its own blocks (swalloc.h's `owns`,
/// `usable_size`, `free`), which the library serves header-free, and that
/// is the mode without statistics (`SWALLOC_STATS=off`; with statistics
/// the setting is refused with a line, and the usual placement stays).
///
/// What the header would have said lives in a table keyed by the block's
/// address: its size and alignment, and whether it is live or
/// quarantined. `owns` is a lookup there, so a pointer of any other
/// allocator is never read. Freed blocks go to ``GuardBuiltin``'s
/// quarantine (PROT_NONE, kept from children); a second free of one is
/// found in the table and named. The bytes after the block up to its
/// page's end (no guard there) hold ``GuardBuiltin/slackByte``, checked at
/// free. Past the mapping budget, or when the table is half full, a block
/// comes from glibc, unguarded: its size and ``GuardBuiltin/unguardedMagic``
/// in the 16 bytes before it say it is guard's (``unguardedFreedMagic``
/// once freed, so that a second free is named too). Headerless, such a
/// block got 0 from the library's malloc_usable_size, and V8 (node),
/// which takes a zone segment's size from it (`AllocateAtLeast`), wrote
/// past the block into glibc's heap.
///
/// Under `SWALLOC_LOCK_GUARD`, except the fault handler's lookups, which
/// only read.
enum GuardBelow {
    /// `SWALLOC_GUARD=below` was given (``GuardSampling/configure``).
    nonisolated(unsafe) static var requested = false
    /// The guard allocator serves this way (installed by ``install()``).
    nonisolated(unsafe) static var active = false

    struct Entry {
        /// The block's address; 0: an empty slot.
        var start: UInt = 0
        var size: Int = 0
        var alignment: Int = 0
        var freed = false
    }

    static let capacity = 1 << 17
    nonisolated(unsafe) static var table: UnsafeMutablePointer<Entry>? = nil
    nonisolated(unsafe) static var count = 0
    /// Bytes asked for in live guarded blocks (atomic): mallinfo2's view
    /// without statistics.
    nonisolated(unsafe) static var liveBytes: Int64 = 0

    static func install() -> swalloc_global_allocator_v2 {
        GuardBuiltin.prepare()
        // Unsafe: a fresh mapping of capacity entries, all empty (zero).
        table = swalloc_map_anonymous(capacity &* MemoryLayout<Entry>.stride)?.assumingMemoryBound(to: Entry.self)
        active = table != nil
        var allocator = swalloc_global_allocator_v2()
        allocator.size = MemoryLayout<swalloc_global_allocator_v2>.size
        allocator.base = swalloc_global_allocator(
            context: nil,
            alloc: { _, size, alignment in GuardBelow.alloc(size, alignment) },
            dealloc: { _, block, _, _ in _ = GuardBelow.free(block!) },
            alloc_zeroed: { _, size, alignment in GuardBelow.alloc(size, alignment, zeroed: true) },
            realloc: nil,
            name: CString.pointer("guard"))
        allocator.owns = { _, block in GuardBelow.owns(UnsafeMutableRawPointer(mutating: block!)) ? 1 : 0 }
        allocator.usable_size = { _, block in GuardBelow.usableSize(UnsafeMutableRawPointer(mutating: block!)) }
        allocator.free = { _, block in GuardBelow.free(block!) ? 1 : 0 }
        return allocator
    }

    // MARK: The table (open addressing, linear probing, backward-shift deletion)

    @inline(__always)
    static func slot(_ start: UInt) -> Int {
        Int(truncatingIfNeeded: ((start &>> 12) &* 0x9E37_79B9_7F4A_7C15) &>> 47) & (capacity &- 1)
    }

    /// The entry of the block at `start`: under the lock when `locked`
    /// (the fault handler reads without it).
    static func lookup(_ start: UInt, locked: Bool) -> Entry? {
        guard let table, start != 0, start & UInt(MallocFamily.pageSize &- 1) == 0 else { return nil }
        if locked { swalloc_lock_acquire(SWALLOC_LOCK_GUARD) }
        defer { if locked { swalloc_lock_release(SWALLOC_LOCK_GUARD) } }
        var index = slot(start)
        while table[index].start != 0 {
            if table[index].start == start { return table[index] }
            index = (index &+ 1) & (capacity &- 1)
        }
        return nil
    }

    /// Adds a live block; false when the table is half full. Under the lock.
    ///
    /// An entry already there for the same address is stale, since the
    /// kernel just gave that address to a fresh mapping: a forked child
    /// keeps the entry of a block some thread of its parent had marked freed
    /// but not yet quarantined (its mapping kept from the child). The new
    /// block takes its place.
    static func remember(_ entry: Entry) -> Bool {
        guard let table else { return false }
        var index = slot(entry.start)
        while table[index].start != 0 {
            if table[index].start == entry.start {
                table[index] = entry
                return true
            }
            index = (index &+ 1) & (capacity &- 1)
        }
        guard count < capacity / 2 else { return false }
        table[index] = entry
        count &+= 1
        return true
    }

    /// Removes the block at `start` (it leaves the quarantine, or a forked
    /// child does not have it). Under the lock, or in a forked child.
    static func forget(_ start: UInt) {
        guard let table else { return }
        var index = slot(start)
        while table[index].start != start {
            if table[index].start == 0 { return }
            index = (index &+ 1) & (capacity &- 1)
        }
        table[index] = Entry()
        count &-= 1
        // Backward shift: move up each later entry of the run that the
        // hole now separates from its home slot.
        var hole = index
        var next = (index &+ 1) & (capacity &- 1)
        while table[next].start != 0 {
            let home = slot(table[next].start)
            // `next` may move to `hole` if its home is not in (hole, next].
            let distanceToNext = (next &- home) & (capacity &- 1)
            let distanceToHole = (next &- hole) & (capacity &- 1)
            if distanceToNext >= distanceToHole {
                table[hole] = table[next]
                table[next] = Entry()
                hole = next
            }
            next = (next &+ 1) & (capacity &- 1)
        }
    }

    /// Marks the block at `start` freed; returns its entry as it was.
    static func markFreed(_ start: UInt) -> Entry? {
        guard let table else { return nil }
        var index = slot(start)
        while table[index].start != 0 {
            if table[index].start == start {
                let entry = table[index]
                table[index].freed = true
                return entry
            }
            index = (index &+ 1) & (capacity &- 1)
        }
        return nil
    }

    // MARK: Blocks

    static func alloc(_ size: Int, _ alignment: Int, zeroed: Bool = false) -> UnsafeMutableRawPointer? {
        guard size <= Int.max / 4, alignment <= Int.max / 4 else { return nil }
        if let block = GuardBuiltin.withinMappingBudget({ map(size, alignment) }) { return block }
        let prefix = max(16, alignment)
        guard size <= sizeMask, let base = __libc_memalign(prefix, size &+ prefix) else { return nil }
        let block = base + prefix
        // Unsafe: the prefix is at least the 16 bytes before the block, glibc's chunk.
        // The size, and log2 of the prefix in the top byte (freeUnguarded).
        block.storeBytes(of: size | prefix.trailingZeroBitCount &<< prefixShift, toByteOffset: -16, as: Int.self)
        block.storeBytes(of: GuardBuiltin.unguardedMagic, toByteOffset: -8, as: UInt64.self)
        if zeroed { _ = memset(block, 0, size) }
        _ = swalloc_atomic_add_i64(&liveBytes, Int64(size))
        GuardBuiltin.noteUnguarded(reason: "its mapping budget is spent")
        return block
    }

    /// Written over ``GuardBuiltin/unguardedMagic`` when an unguarded
    /// block is freed: glibc leaves its chunk's first 16 bytes before the
    /// block alone (they are in the prefix).
    static let unguardedFreedMagic: UInt64 = 0x5357_4655_4E47_5244 // "SWFUNGRD"

    /// The word before an unguarded block's tag: its size, and log2 of its
    /// prefix from this bit on.
    static let prefixShift = 56
    static let sizeMask = 1 &<< prefixShift &- 1

    /// The data pages of a block of `size` bytes.
    static func dataBytes(_ size: Int) -> Int {
        let page = MallocFamily.pageSize
        return (max(size, 1) &+ page &- 1) & ~(page &- 1)
    }

    /// The 8 bytes before `block`, if they can be read without faulting:
    /// in the same page as the block, or (a page-aligned block, never one
    /// of the table's) read with a system call.
    static func tagBefore(_ block: UnsafeMutableRawPointer) -> UInt64? {
        let address = UInt(bitPattern: block)
        guard address & 7 == 0 else { return nil }
        if address & UInt(MallocFamily.pageSize &- 1) >= 16 {
            return block.load(fromByteOffset: -8, as: UInt64.self)
        }
        var tag: UInt64 = 0
        return swalloc_safe_read(&tag, UnsafeRawPointer(block - 8), 8) ? tag : nil
    }

    /// Whether guard handed `block` out (live, or freed and quarantined):
    /// the version 2 `owns`.
    static func owns(_ block: UnsafeMutableRawPointer) -> Bool {
        lookup(UInt(bitPattern: block), locked: true) != nil || isUnguarded(block)
    }

    /// An unguarded block of guard's, live or freed.
    static func isUnguarded(_ block: UnsafeMutableRawPointer) -> Bool {
        let tag = tagBefore(block)
        return tag == GuardBuiltin.unguardedMagic || tag == unguardedFreedMagic
    }

    /// The size asked for (the version 2 `usable_size`).
    static func usableSize(_ block: UnsafeMutableRawPointer) -> Int {
        if let entry = lookup(UInt(bitPattern: block), locked: true) { return entry.size }
        guard isUnguarded(block) else { return 0 }
        return block.load(fromByteOffset: -16, as: Int.self) & sizeMask
    }

    /// Frees an unguarded block; false when `block` is none of guard's.
    static func freeUnguarded(_ block: UnsafeMutableRawPointer) -> Bool {
        let tag = tagBefore(block)
        if tag == unguardedFreedMagic {
            Diagnostics.doubleFree("free", block)
        }
        guard tag == GuardBuiltin.unguardedMagic else { return false }
        let word = block.load(fromByteOffset: -16, as: Int.self)
        _ = swalloc_atomic_add_i64(&liveBytes, -Int64(word & sizeMask))
        block.storeBytes(of: unguardedFreedMagic, toByteOffset: -8, as: UInt64.self)
        // glibc's free wants what memalign returned: the block less its prefix.
        swalloc_libc_free(block - (1 &<< (word &>> prefixShift)))
        return true
    }

    /// `| guard page | data pages |`, the block at the first data page (an
    /// alignment above a page: the mapping over-made and trimmed so that
    /// it is); nil when the kernel refuses or the table is full.
    static func map(_ size: Int, _ alignment: Int) -> UnsafeMutableRawPointer? {
        let page = MallocFamily.pageSize
        let data = dataBytes(size)
        guard let raw = alignment > page ? AlignedMapping.map(page &+ data, alignment: alignment, alignedAt: page)
                                         : swalloc_map_anonymous(page &+ data) else { return nil }
        let mapping = UInt(bitPattern: raw)
        let start = mapping &+ UInt(page)
        guard swalloc_protect_none(UnsafeMutableRawPointer(bitPattern: mapping)!, page) == 0 else {
            _ = swalloc_unmap(UnsafeMutableRawPointer(bitPattern: mapping)!, page &+ data)
            return nil
        }
        swalloc_lock_acquire(SWALLOC_LOCK_GUARD)
        let kept = remember(Entry(start: start, size: size, alignment: alignment))
        swalloc_lock_release(SWALLOC_LOCK_GUARD)
        guard kept else {
            _ = swalloc_unmap(UnsafeMutableRawPointer(bitPattern: mapping)!, page &+ data)
            return nil
        }
        // Unsafe: the slack lies between the block's end and the end of its
        // last data page, inside the mapping. A fresh mapping is zero, so
        // the block needs no clearing for calloc.
        _ = memset(UnsafeMutableRawPointer(bitPattern: start &+ UInt(size))!, Int32(GuardBuiltin.slackByte),
                   data &- size)
        _ = swalloc_atomic_add_i64(&liveBytes, Int64(size))
        return UnsafeMutableRawPointer(bitPattern: start)
    }

    /// Frees a block of the table: false for any other address (the
    /// version 2 `free`). A second free is named, then SIGABRT.
    static func free(_ block: UnsafeMutableRawPointer) -> Bool {
        let start = UInt(bitPattern: block)
        guard start & UInt(MallocFamily.pageSize &- 1) == 0 else { return freeUnguarded(block) }
        swalloc_lock_acquire(SWALLOC_LOCK_GUARD)
        let entry = markFreed(start)
        swalloc_lock_release(SWALLOC_LOCK_GUARD)
        guard let entry else { return freeUnguarded(block) }
        let page = MallocFamily.pageSize
        let data = dataBytes(entry.size)
        if entry.freed {
            swalloc_lock_acquire(SWALLOC_LOCK_GUARD)
            let quarantined = GuardBuiltin.quarantined(containing: start)
            swalloc_lock_release(SWALLOC_LOCK_GUARD)
            Diagnostics.fatalLine { out in
                out.text("guard: free(): double free of block ")
                out.hex(UInt64(start))
                out.text("-")
                out.hex(UInt64(start &+ UInt(entry.size)))
                out.text(" (")
                out.decimal(UInt64(entry.size))
                out.text(" bytes)")
                quarantined?.freed.write(to: &out)
            }
            abort()
        }
        // Unsafe: the block is live and its pages open until the protection.
        GuardBuiltin.stopIfSlackWritten(block, entry.size, guardPage: start &+ UInt(data), alignment: entry.alignment)
        let mapping = start &- UInt(page)
        _ = swalloc_atomic_add_i64(&liveBytes, -Int64(entry.size))
        _ = swalloc_protect_none(block, data)
        _ = swalloc_keep_from_children(UnsafeMutableRawPointer(bitPattern: mapping)!, page &+ data)
        GuardBuiltin.enqueue(GuardBuiltin.QuarantineEntry(
            mapping: mapping, bytes: page &+ data, blockStart: start, size: entry.size, alignment: entry.alignment,
            freed: GuardFreeStack.capture()))
        return true
    }

    /// For the fault handler: the live block whose guard page holds
    /// `address` (it starts a page above it).
    static func block(aboveGuardPageOf address: UInt) -> Entry? {
        let page = UInt(MallocFamily.pageSize)
        let start = (address & ~(page &- 1)) &+ page
        guard let entry = lookup(start, locked: false), !entry.freed else { return nil }
        return entry
    }
}
