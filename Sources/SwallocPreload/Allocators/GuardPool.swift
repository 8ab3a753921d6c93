import CSwallocPreload

/// The sampled guard's slots (GWP-ASan's design): one region reserved at
/// start-up, inaccessible, cut into ``slotCount`` slots of ``dataPages``
/// pages followed by a guard page that is never made accessible. A guarded
/// allocation opens the pages its block needs (one `mprotect`), its free
/// closes them again (another): no mapping is made or unmapped, and the
/// process's mapping count stays bounded. Freed slots wait in a FIFO (the
/// quarantine) and are reused oldest first, so a use after free faults
/// for as long as possible. The slots' side table says which block each
/// holds, for the fault handler. Under `SWALLOC_LOCK_GUARD`.
///
/// A slot's pages stay resident once touched (closing them does not give
/// the memory back): 256 slots, each block 16 KiB at most, keep it small.
enum GuardPool {
    static let slotCount = 256
    /// Data pages per slot: a block of up to 16 KiB and its 16-byte header.
    static let dataPages = 5
    static var pageSize: Int { MallocFamily.pageSize }
    static var slotBytes: Int { (dataPages &+ 1) &* pageSize }
    /// The largest block (header included) a slot holds.
    static var largestBlock: Int { dataPages &* pageSize }

    struct Slot {
        var blockStart: UInt = 0
        var size: Int = 0
        var live = false
        /// The sampled site of the block freed last (+1; 0: none).
        var site: Int32 = 0
        /// The next free slot in the FIFO (-1: none).
        var next: Int32 = -1
        /// Where the block freed last was freed.
        var freed = GuardFreeStack()
    }

    nonisolated(unsafe) static var region: UInt = 0
    nonisolated(unsafe) static var slots: UnsafeMutablePointer<Slot>? = nil
    nonisolated(unsafe) static var freeHead: Int32 = -1
    nonisolated(unsafe) static var freeTail: Int32 = -1

    /// Reserves the region (no memory until a slot is used). Once, by the
    /// constructor, when the sampled guard is on.
    static func start() {
        guard region == 0, let reserved = swalloc_map_anonymous(slotCount &* slotBytes),
              let table = swalloc_map_anonymous(slotCount &* MemoryLayout<Slot>.stride) else { return }
        // Unsafe: the reservation just made, ours alone.
        _ = swalloc_protect_none(reserved, slotCount &* slotBytes)
        region = UInt(bitPattern: reserved)
        // Unsafe: a fresh mapping of slotCount entries.
        slots = table.assumingMemoryBound(to: Slot.self)
        for index in 0..<slotCount {
            slots![index] = Slot(next: index &+ 1 < slotCount ? Int32(index &+ 1) : -1)
        }
        freeHead = 0
        freeTail = Int32(slotCount &- 1)
    }

    @inline(__always)
    static func contains(_ address: UInt) -> Bool {
        region != 0 && address &- region < UInt(slotCount &* slotBytes)
    }

    static func guardPage(_ slot: Int) -> UInt { region &+ UInt(slot &* slotBytes &+ dataPages &* pageSize) }

    /// A block of `size` bytes (16-aligned, or byte-exact with
    /// `SWALLOC_GUARD=exact`) ending at a slot's guard page; nil when every
    /// slot is taken, the block is too large, or the kernel refuses.
    static func allocate(_ size: Int) -> UnsafeMutableRawPointer? {
        guard size <= largestBlock, let slots else { return nil }
        swalloc_lock_acquire(SWALLOC_LOCK_GUARD)
        let slot = Int(freeHead)
        if slot >= 0 {
            freeHead = slots[slot].next
            if freeHead < 0 { freeTail = -1 }
        }
        swalloc_lock_release(SWALLOC_LOCK_GUARD)
        guard slot >= 0 else { return nil }
        let guardPage = guardPage(slot)
        let start = (guardPage &- UInt(size)) & ~UInt(GuardBuiltin.exactPlacement ? 0 : 15)
        let firstPage = start & ~UInt(pageSize &- 1)
        // Unsafe: [firstPage, guardPage) lies in this slot's data pages.
        guard swalloc_protect_read_write(UnsafeMutableRawPointer(bitPattern: firstPage)!, Int(guardPage &- firstPage)) == 0
        else {
            give(slot)
            return nil
        }
        // Unsafe: the slack lies between the block's end and the guard page.
        _ = memset(UnsafeMutableRawPointer(bitPattern: start &+ UInt(size))!, Int32(GuardBuiltin.slackByte),
                   Int(guardPage &- start &- UInt(size)))
        slots[slot].blockStart = start
        slots[slot].size = size
        slots[slot].live = true
        slots[slot].site = 0
        return UnsafeMutableRawPointer(bitPattern: start)
    }

    /// Frees a block of a slot: the slack checked (as ``GuardBuiltin``'s),
    /// the pages closed, the slot to the back of the FIFO.
    static func free(_ block: UnsafeMutableRawPointer, _ size: Int, alignment: Int) {
        guard let slots else { return }
        let address = UInt(bitPattern: block)
        let slot = Int((address &- region) / UInt(slotBytes))
        let guardPage = guardPage(slot)
        // Unsafe: the block's pages are open until below.
        GuardBuiltin.stopIfSlackWritten(block, size, guardPage: guardPage, alignment: alignment)
        let firstPage = address & ~UInt(pageSize &- 1)
        _ = swalloc_protect_none(UnsafeMutableRawPointer(bitPattern: firstPage)!, Int(guardPage &- firstPage))
        slots[slot].live = false
        slots[slot].site = swalloc_current_thread().pointee.freeing_site
        slots[slot].freed = GuardFreeStack.capture()
        give(slot)
    }

    /// The slot back at the FIFO's tail.
    static func give(_ slot: Int) {
        guard let slots else { return }
        swalloc_lock_acquire(SWALLOC_LOCK_GUARD)
        slots[slot].next = -1
        if freeTail >= 0 { slots[Int(freeTail)].next = Int32(slot) } else { freeHead = Int32(slot) }
        freeTail = Int32(slot)
        swalloc_lock_release(SWALLOC_LOCK_GUARD)
    }

    /// The fault handler's view of an address in the region: which slot,
    /// and what the slot held. Reads only (async-signal-safe).
    static func fault(at address: UInt, instruction: UInt = 0) -> Bool {
        guard contains(address), let slots else { return false }
        let slot = Int((address &- region) / UInt(slotBytes))
        let entry = slots[slot]
        guard entry.blockStart != 0 else { return false }
        if entry.live {
            GuardBuiltin.report(address, blockStart: entry.blockStart, size: entry.size, useAfterFree: false,
                                instruction: instruction)
        } else {
            GuardBuiltin.report(address, blockStart: entry.blockStart, size: entry.size, useAfterFree: true,
                                freedSite: entry.site > 0 ? entry.site &- 1 : nil, freedAt: entry.freed,
                                instruction: instruction)
            if GuardBuiltin.isDoubleFree(address, blockStart: entry.blockStart, alignment: 16) {
                // A double free ends as glibc ends it, and as the guard
                // allocator's own: SIGABRT, not the fault that found it.
                swalloc_reset_fault_handler()
                abort()
            }
        }
        return true
    }
}
