import CSwallocPreload

/// The `guard` built-in: every block gets a mapping of its own that ends at
/// an inaccessible page, and freed blocks become inaccessible and stay out of
/// reuse for a while, so that an overflow or a use after free faults at the
/// faulting instruction (Electric Fence's idea).
///
/// ```
/// mapping:  | metadata … padding | block (ends at the page end*) | guard page (PROT_NONE) |
/// ```
/// (*) alignment permitting: the block starts at `guard - size` rounded down
/// to its alignment, so it ends exactly at the guard page when its size is
/// a multiple of the alignment (a 128-byte malloc: 128 + 16 header = 144).
/// Alignments above a page cannot be placed that way: their block starts
/// one page into the mapping, right after the metadata page, and the guard
/// page follows the block's last page. ``Placement`` is the one definition
/// of both layouts, used by alloc and dealloc alike.
///
/// Mappings are a budget: the kernel allows `vm.max_map_count` per process
/// (65530 by default), and each guarded block takes two (its data and its
/// guard page), quarantined ones included. The guard allocator uses at most
/// half the limit; past that, or when the kernel refuses a mapping or a
/// protection, a block comes from glibc unguarded (marked by
/// ``unguardedMagic`` in the 8 bytes before it), and one `swalloc:` line
/// says so the first time. The program's own mmap never fails because of
/// guard.
///
/// `SWALLOC_GUARD=exact` places blocks of alignment 16 or less byte-exact
/// against the guard page (Electric Fence's `EF_ALIGNMENT=1`): a read or
/// write of one byte past the request faults at once, at the price of
/// malloc's pointers no longer being 16-aligned, which some programs
/// assume (SSE loads of their structures). Opt-in for that reason.
///
/// The bytes between the block's end and the guard page (the slack the
/// alignment leaves: up to 15 bytes for a malloc) hold ``slackByte``; free
/// checks them, so that a write of even one byte past the request is
/// reported when the block is freed (as GWP-ASan and Electric Fence do)
/// when it did not fault at once.
///
/// A freed block's mapping is made PROT_NONE and kept in a quarantine of at
/// most 4096 blocks and 64 MiB; when it is full the oldest leaves it, to be
/// reused for a block of the same mapping size (``GuardRetired``) or
/// unmapped.
///
/// On SIGSEGV the handler names the block: for an address in a guard page
/// it reads the metadata at the start of that block's mapping (found by
/// walking back page by page from the guard page, over pages of the same
/// mapping); for an address in a quarantined block, the quarantine entry.
/// It prints one `swalloc:` line, restores the default action and returns,
/// so the program dies of SIGSEGV as it would have.
///
/// Each block costs at least two pages and two memory mappings: a debugging
/// allocator, not a fast one.
enum GuardBuiltin {
    static let metadataMagic: UInt64 = 0x5357_4755_4152_4421 // "SWGUARD!"

    /// At the start of every mapping.
    struct Metadata {
        var magic: UInt64
        var blockStart: UInt
        var size: Int
        var alignment: Int
        var check: UInt64
        static let reservedBytes = 64
        var isValid: Bool {
            magic == metadataMagic && check == (UInt64(blockStart) ^ UInt64(bitPattern: Int64(size)) ^ metadataMagic)
        }
    }

    struct QuarantineEntry {
        var mapping: UInt
        var bytes: Int
        var blockStart: UInt
        var size: Int
        var alignment: Int = 16
        /// The sampled site the block was allocated at (+1; 0: not sampled).
        var site: Int32 = 0
        /// Where it was freed.
        var freed = GuardFreeStack()
    }

    static let quarantineCapacity = 4096
    static let quarantineByteLimit = 64 << 20
    nonisolated(unsafe) static var quarantine: UnsafeMutablePointer<QuarantineEntry>? = nil
    nonisolated(unsafe) static var quarantineHead = 0   // oldest
    nonisolated(unsafe) static var quarantineCount = 0
    nonisolated(unsafe) static var quarantineBytes = 0

    /// Where a block's mapping starts and how long its data part is (the
    /// guard page follows it), from the block, its size and alignment: the
    /// same answer when the block is made and when it is freed.
    struct Placement {
        var mapping: UInt
        var dataBytes: Int
        var guardPage: UInt { mapping &+ UInt(dataBytes) }
        var mappingBytes: Int { dataBytes &+ MallocFamily.pageSize }

        /// Alignment up to a page: the block ends within its alignment of
        /// the guard page, so its end rounded up to a page is the guard.
        /// Above a page: the block starts one page (the metadata's) into
        /// the mapping.
        init(block: UInt, size: Int, alignment: Int) {
            let page = MallocFamily.pageSize
            if alignment <= page {
                dataBytes = GuardBuiltin.dataBytes(size, alignment)
                let guardPage = (block &+ UInt(size) &+ UInt(page) &- 1) & ~UInt(page &- 1)
                mapping = guardPage &- UInt(dataBytes)
            } else {
                dataBytes = page &+ ((size &+ page &- 1) & ~(page &- 1))
                mapping = block &- UInt(page)
            }
        }
    }

    /// What the slack after a block holds until it is freed.
    static let slackByte: UInt8 = 0xCB

    /// Written in the 8 bytes before a block that glibc served because the
    /// mapping budget was spent. A guarded block has zeros there (the
    /// metadata's unused tail, or padding of a fresh mapping).
    static let unguardedMagic: UInt64 = 0x5357_554E_4755_4152 // "SWUNGUAR"

    /// Mappings the guard allocator may hold: half of the kernel's limit.
    nonisolated(unsafe) static var mappingBudget: Int64 = 32765
    /// Mappings held now by live and quarantined blocks (atomic).
    nonisolated(unsafe) static var mappingsInUse: Int64 = 0
    /// Blocks served unguarded so far (atomic); the first says so.
    nonisolated(unsafe) static var unguardedBlocks: Int64 = 0

    /// `SWALLOC_GUARD=exact`: no slack after blocks of small alignment.
    nonisolated(unsafe) static var exactPlacement = false

    static func install() -> swalloc_global_allocator {
        prepare()
        return swalloc_global_allocator(
            context: nil,
            alloc: { _, size, alignment in GuardBuiltin.alloc(size, alignment) },
            dealloc: { _, block, size, alignment in GuardBuiltin.dealloc(block!, size, alignment) },
            alloc_zeroed: { _, size, alignment in GuardBuiltin.allocZeroed(size, alignment) },
            realloc: nil,
            name: CString.pointer("guard"))
    }

    nonisolated(unsafe) static var prepared = false

    /// The budget, the quarantine, the fault handler and the placement
    /// option: for the guard allocator, and for the sampled guard
    /// (``GuardSampling``) in front of any other. Once, by the constructor.
    static func prepare() {
        guard !prepared else { return }
        prepared = true
        GuardRetired.start()
        FaultFrames.prepare()
        // The free stacks need libunwind, loaded now (never inside free).
        Sampler.prepareStacks()
        mappingBudget = Int64(swalloc_max_map_count(65530) / 2)
        // Unsafe: a fresh mapping of capacity entries, zero (no entry), ours alone.
        quarantine = swalloc_map_anonymous(quarantineCapacity &* MemoryLayout<QuarantineEntry>.stride)?
            .assumingMemoryBound(to: QuarantineEntry.self)
        _ = swalloc_install_fault_handler { _, info, context in
            guard swalloc_signal_is_fault(info) else { return swalloc_take_sent_signal() }
            GuardBuiltin.fault(at: swalloc_fault_address(info), instruction: swalloc_fault_instruction(context))
        }
    }

    /// The mapping's data part: metadata, padding for the alignment, the block.
    static func dataBytes(_ size: Int, _ alignment: Int) -> Int {
        let page = MallocFamily.pageSize
        return (Metadata.reservedBytes &+ size &+ alignment &- 1 &+ page &- 1) & ~(page &- 1)
    }

    static func alloc(_ size: Int, _ alignment: Int, zeroed: Bool = false) -> UnsafeMutableRawPointer? {
        guard size <= Int.max / 4, alignment <= Int.max / 4 else { return nil }
        if let block = mapGuardedCounted(size, alignment, zeroed: zeroed) { return block }
        // Which of the two refused (the count may have moved since: only
        // the first line's wording depends on it).
        let spent = swalloc_atomic_add_i64(&mappingsInUse, 0) &+ 2 > mappingBudget
        return unguarded(size, alignment, reason: spent ? "its mapping budget is spent" : "the kernel refused a mapping")
    }

    /// A guarded block within the mapping budget, or nil (no unguarded
    /// fall-back): what the sampled guard asks for.
    static func mapGuardedCounted(_ size: Int, _ alignment: Int, zeroed: Bool = false) -> UnsafeMutableRawPointer? {
        withinMappingBudget { mapGuarded(size, alignment, zeroed: zeroed) }
    }

    /// `map`'s block, its two mappings counted in the budget; nil, and
    /// nothing counted, when the budget is spent or `map` fails.
    static func withinMappingBudget(_ map: () -> UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer? {
        if swalloc_atomic_add_i64(&mappingsInUse, 2) <= mappingBudget, let block = map() { return block }
        _ = swalloc_atomic_add_i64(&mappingsInUse, -2)
        return nil
    }

    static func allocZeroed(_ size: Int, _ alignment: Int) -> UnsafeMutableRawPointer? {
        guard let block = alloc(size, alignment, zeroed: true) else { return nil }
        // A guarded block is zero (mapGuarded); an unguarded one from glibc is not.
        if isUnguarded(block) { _ = memset(block, 0, size) }
        return block
    }

    /// A block in a mapping of its own, followed by a guard page; nil when
    /// the kernel refuses the mapping or the protection. Zero-filled when
    /// `zeroed` (a fresh mapping is; a retired one is cleared).
    static func mapGuarded(_ size: Int, _ alignment: Int, zeroed: Bool = false) -> UnsafeMutableRawPointer? {
        let page = MallocFamily.pageSize
        let start: UInt
        let placement: Placement
        if alignment <= page {
            // The data part has room for any alignment's padding (dataBytes).
            let data = dataBytes(size, alignment)
            if let block = reuseRetired(size, alignment, dataBytes: data, zeroed: zeroed) { return block }
            guard let mapping = swalloc_map_anonymous(data &+ page) else { return nil }
            start = blockStart(guardPage: UInt(bitPattern: mapping) &+ UInt(data), size: size, alignment: alignment)
            placement = Placement(block: start, size: size, alignment: alignment)
            Invariant.check(placement.mapping == UInt(bitPattern: mapping), "guard: dealloc finds the mapping alloc made")
        } else {
            // [metadata page | block pages | guard page], the block aligned.
            let bytes = page &+ ((size &+ page &- 1) & ~(page &- 1)) &+ page
            guard let mapping = AlignedMapping.map(bytes, alignment: alignment, alignedAt: page) else { return nil }
            start = UInt(bitPattern: mapping) &+ UInt(page)
            placement = Placement(block: start, size: size, alignment: alignment)
            Invariant.check(placement.mapping == UInt(bitPattern: mapping) && placement.mappingBytes == bytes,
                            "guard: dealloc finds the mapping alloc made")
        }
        let mapping = UnsafeMutableRawPointer(bitPattern: placement.mapping)!
        guard swalloc_protect_none(UnsafeMutableRawPointer(bitPattern: placement.guardPage)!, page) == 0 else {
            _ = swalloc_unmap(mapping, placement.mappingBytes)
            return nil
        }
        return frame(start, size: size, alignment: alignment, placement: placement)
    }

    /// Where a block of alignment up to a page starts so that it ends at
    /// `guardPage`, or within its alignment of it (byte-exact for 16 or
    /// less under `SWALLOC_GUARD=exact`).
    static func blockStart(guardPage: UInt, size: Int, alignment: Int) -> UInt {
        let placementAlignment = exactPlacement && alignment <= 16 ? 1 : alignment
        return (guardPage &- UInt(size)) & ~UInt(placementAlignment &- 1)
    }

    /// A block in a retired mapping of the right size (``GuardRetired``):
    /// its data part opened again and inherited by children again; nil when
    /// there is none, or the kernel refuses (the mapping is then unmapped).
    static func reuseRetired(_ size: Int, _ alignment: Int, dataBytes data: Int, zeroed: Bool) -> UnsafeMutableRawPointer? {
        let page = MallocFamily.pageSize
        guard let base = GuardRetired.take(bytes: data &+ page) else { return nil }
        let mapping = UnsafeMutableRawPointer(bitPattern: base)!
        // Unsafe: the retired mapping is ours alone, data part and guard page.
        guard swalloc_protect_read_write(mapping, data) == 0,
              swalloc_share_with_children(mapping, data &+ page) == 0 else {
            unmapGuarded(base, data &+ page)
            return nil
        }
        // The caller counted two mappings for this block; the retired
        // mapping brought its own two.
        _ = swalloc_atomic_add_i64(&mappingsInUse, -2)
        let start = blockStart(guardPage: base &+ UInt(data), size: size, alignment: alignment)
        let placement = Placement(block: start, size: size, alignment: alignment)
        Invariant.check(placement.mapping == base, "guard: dealloc finds the mapping a retired one serves")
        // Unsafe: the block lies in the data part just opened. It holds a
        // former block's bytes, and the 8 bytes before it may too: clear
        // them, so that isUnguarded cannot misread them.
        if zeroed { _ = memset(UnsafeMutableRawPointer(bitPattern: start)!, 0, size) }
        UnsafeMutableRawPointer(bitPattern: start &- 8)!.storeBytes(of: 0, as: UInt64.self)
        return frame(start, size: size, alignment: alignment, placement: placement)
    }

    /// Writes a new block's metadata and slack bytes; returns the block.
    static func frame(_ start: UInt, size: Int, alignment: Int, placement: Placement) -> UnsafeMutableRawPointer? {
        let mapping = UnsafeMutableRawPointer(bitPattern: placement.mapping)!
        let check = UInt64(start) ^ UInt64(bitPattern: Int64(size)) ^ metadataMagic
        // Unsafe: the mapping starts with at least Metadata.reservedBytes
        // (or a whole page) of its own before the block.
        mapping.storeBytes(of: Metadata(magic: metadataMagic, blockStart: start, size: size,
                                        alignment: alignment, check: check), as: Metadata.self)
        // Unsafe: the slack lies between the block's end and the guard
        // page, inside the data part.
        _ = memset(UnsafeMutableRawPointer(bitPattern: start &+ UInt(size))!, Int32(slackByte),
                   Int(placement.guardPage &- start &- UInt(size)))
        return UnsafeMutableRawPointer(bitPattern: start)
    }

    /// Stops the program, naming the byte, if the slack between a block's
    /// end and `guardPage` is no longer ``slackByte``: a write past the
    /// block that did not fault. Called by every guarded free (here and
    /// ``GuardPool``). Unsafe: the block is live and its pages are open.
    static func stopIfSlackWritten(_ block: UnsafeMutableRawPointer, _ size: Int, guardPage: UInt, alignment: Int) {
        var address = UInt(bitPattern: block) &+ UInt(size)
        while address < guardPage {
            if UnsafePointer<UInt8>(bitPattern: address)!.pointee != slackByte {
                // The block's site, when it was sampled, came along with the free.
                let site = swalloc_current_thread().pointee.freeing_site
                report(address, blockStart: UInt(bitPattern: block), size: size, useAfterFree: false,
                       alignment: alignment, freedSite: site > 0 ? site &- 1 : nil, foundAtFree: true)
                abort()
            }
            address &+= 1
        }
    }

    /// A block from glibc, unguarded, with ``unguardedMagic`` before it.
    static func unguarded(_ size: Int, _ alignment: Int, reason: StaticString) -> UnsafeMutableRawPointer? {
        let prefix = max(16, alignment)
        guard size <= Int.max &- prefix, let base = __libc_memalign(prefix, size &+ prefix) else { return nil }
        let block = base + prefix
        // Unsafe: the prefix is at least 16 bytes of the block glibc gave.
        block.storeBytes(of: unguardedMagic, toByteOffset: -8, as: UInt64.self)
        noteUnguarded(reason: reason)
        return block
    }

    /// Counts a block served unguarded; the first says so, once.
    static func noteUnguarded(reason: StaticString) {
        guard swalloc_atomic_add_i64(&unguardedBlocks, 1) == 1 else { return }
        Diagnostics.line { out in
            out.text("guard: ")
            out.text(reason)
            out.text(" (")
            out.decimal(mappingBudget)
            out.text(" mappings, half of vm.max_map_count): from now on a block may come from glibc, unguarded")
        }
    }

    /// Unsafe: `block` is a block this allocator handed out.
    @inline(__always)
    static func isUnguarded(_ block: UnsafeMutableRawPointer) -> Bool {
        block.loadUnaligned(fromByteOffset: -8, as: UInt64.self) == unguardedMagic
    }

    static func dealloc(_ block: UnsafeMutableRawPointer, _ size: Int, _ alignment: Int) {
        if GuardPool.contains(UInt(bitPattern: block)) {
            GuardPool.free(block, size, alignment: alignment)
            return
        }
        if isUnguarded(block) {
            swalloc_libc_free(block - max(16, alignment))
            return
        }
        let placement = Placement(block: UInt(bitPattern: block), size: size, alignment: alignment)
        stopIfSlackWritten(block, size, guardPage: placement.guardPage, alignment: alignment)
        let mapping = placement.mapping
        let bytes = placement.mappingBytes
        _ = swalloc_protect_none(UnsafeMutableRawPointer(bitPattern: mapping)!, placement.dataBytes)
        // A child never sees the quarantine (it forgets it: afterForkInChild).
        _ = swalloc_keep_from_children(UnsafeMutableRawPointer(bitPattern: mapping)!, bytes)
        enqueue(QuarantineEntry(mapping: mapping, bytes: bytes, blockStart: UInt(bitPattern: block), size: size,
                                alignment: alignment, site: swalloc_current_thread().pointee.freeing_site,
                                freed: GuardFreeStack.capture()))
    }

    /// Puts a freed block's mapping (PROT_NONE, kept from children) in the
    /// quarantine. What leaves it to make room is kept for reuse
    /// (``GuardRetired``) or unmapped, after the lock is released: munmap
    /// is slow, the lock is shared. Under ``GuardBelow`` a block that leaves
    /// is also forgotten by its table, under the lock, before its mapping
    /// can go.
    static func enqueue(_ entry: QuarantineEntry) {
        let mapping = entry.mapping
        let bytes = entry.bytes
        guard let quarantine else {
            if GuardBelow.active { GuardBelow.forget(entry.blockStart) }
            unmapGuarded(mapping, bytes)
            return
        }
        var evicted = (QuarantineEntry(mapping: 0, bytes: 0, blockStart: 0, size: 0),
                       QuarantineEntry(mapping: 0, bytes: 0, blockStart: 0, size: 0))
        var evictedCount = 0
        swalloc_lock_acquire(SWALLOC_LOCK_GUARD)
        while evictedCount < 2 && (quarantineCount == quarantineCapacity
            || (quarantineCount > 0 && quarantineBytes &+ bytes > quarantineByteLimit)) {
            let oldest = quarantine[quarantineHead]
            if evictedCount == 0 { evicted.0 = oldest } else { evicted.1 = oldest }
            evictedCount &+= 1
            quarantineBytes &-= oldest.bytes
            quarantineHead = (quarantineHead &+ 1) % quarantineCapacity
            quarantineCount &-= 1
        }
        let admitted = quarantineCount < quarantineCapacity
        if admitted {
            quarantine[(quarantineHead &+ quarantineCount) % quarantineCapacity] = entry
            quarantineCount &+= 1
            quarantineBytes &+= bytes
        }
        // What left the quarantine is kept for reuse when it can be (the
        // above placement only: GuardBelow's mappings start with the guard).
        let below = GuardBelow.active
        if below {
            if evictedCount > 0 { GuardBelow.forget(evicted.0.blockStart) }
            if evictedCount > 1 { GuardBelow.forget(evicted.1.blockStart) }
            if !admitted { GuardBelow.forget(entry.blockStart) }
        }
        let retired0 = evictedCount > 0 && !below && GuardRetired.keep(evicted.0.mapping, bytes: evicted.0.bytes)
        let retired1 = evictedCount > 1 && !below && GuardRetired.keep(evicted.1.mapping, bytes: evicted.1.bytes)
        swalloc_lock_release(SWALLOC_LOCK_GUARD)
        if evictedCount > 0 && !retired0 { unmapGuarded(evicted.0.mapping, evicted.0.bytes) }
        if evictedCount > 1 && !retired1 { unmapGuarded(evicted.1.mapping, evicted.1.bytes) }
        if !admitted { unmapGuarded(mapping, bytes) }
    }

    /// In a forked child: the quarantined blocks are not mapped here (they
    /// were kept from children), so the quarantine starts empty; unmapping
    /// their addresses later could take a mapping the child made since.
    /// Called by the fork handler in the child while its guard lock is
    /// free (not held by code a signal handler interrupted).
    static func afterForkInChild() {
        guard let quarantine else { return }
        // GuardBelow's table forgets the blocks the child does not have.
        if GuardBelow.active {
            for index in 0..<quarantineCount {
                GuardBelow.forget(quarantine[(quarantineHead &+ index) % quarantineCapacity].blockStart)
            }
        }
        let retired = GuardRetired.afterForkInChild()
        _ = swalloc_atomic_add_i64(&mappingsInUse, -2 &* Int64(quarantineCount &+ retired))
        quarantineHead = 0
        quarantineCount = 0
        quarantineBytes = 0
    }

    /// Unmaps a guarded block's whole mapping and gives its two mappings
    /// back to the budget.
    static func unmapGuarded(_ mapping: UInt, _ bytes: Int) {
        _ = swalloc_unmap(UnsafeMutableRawPointer(bitPattern: mapping)!, bytes)
        _ = swalloc_atomic_add_i64(&mappingsInUse, -2)
    }

    // MARK: The fault handler (async-signal-safe: reads, write(2), sigaction)

    nonisolated(unsafe) static var handlingFault = false

    static func fault(at address: UnsafeMutableRawPointer?, instruction: UInt = 0) {
        // A fault inside the handler itself: give up, die of it.
        if handlingFault {
            swalloc_reset_fault_handler()
            return
        }
        handlingFault = true
        let faulting = UInt(bitPattern: address)
        if GuardPool.fault(at: faulting, instruction: instruction) {
            // Reported: a slot of the sampled guard.
        } else if let entry = quarantined(containing: faulting) {
            report(faulting, blockStart: entry.blockStart, size: entry.size, useAfterFree: true,
                   alignment: entry.alignment, freedSite: entry.site > 0 ? entry.site &- 1 : nil,
                   freedAt: entry.freed, instruction: instruction)
            if !GuardBelow.active && isDoubleFree(faulting, blockStart: entry.blockStart, alignment: entry.alignment) {
                // A double free ends as glibc ends it: SIGABRT, not the
                // fault that found it.
                swalloc_reset_fault_handler()
                abort()
            }
        } else if GuardBelow.active, let block = GuardBelow.block(aboveGuardPageOf: faulting) {
            report(faulting, blockStart: block.start, size: block.size, useAfterFree: false,
                   alignment: block.alignment, instruction: instruction)
        } else if let metadata = metadataBefore(guardPageOf: faulting) {
            report(faulting, blockStart: metadata.blockStart, size: metadata.size, useAfterFree: false,
                   alignment: metadata.alignment, instruction: instruction)
        }
        swalloc_reset_fault_handler()
    }

    static func quarantined(containing address: UInt) -> QuarantineEntry? {
        guard let quarantine else { return nil }
        for index in 0..<quarantineCount {
            let entry = quarantine[(quarantineHead &+ index) % quarantineCapacity]
            if address >= entry.mapping && address < entry.mapping &+ UInt(entry.bytes) { return entry }
        }
        return nil
    }

    /// If `address` is in a guard page, the metadata of the block before it.
    static func metadataBefore(guardPageOf address: UInt) -> Metadata? {
        let page = UInt(MallocFamily.pageSize)
        let guardPage = address & ~(page &- 1)
        guard guardPage >= page else { return nil }
        // Walk back over the data pages of this mapping (readable: the
        // block is live) to the one that starts with valid metadata. A block
        // is at most 2^62 bytes, and the walk stops at the first match.
        var candidate = guardPage &- page
        var steps = 0
        while candidate >= page && steps < (1 << 20) {
            var metadata = Metadata(magic: 0, blockStart: 0, size: 0, alignment: 0, check: 0)
            // Any page on the way may be unmapped when the fault was not ours.
            guard swalloc_safe_read(&metadata, UnsafeRawPointer(bitPattern: candidate)!,
                                    MemoryLayout<Metadata>.size) else { return nil }
            if metadata.isValid {
                let end = metadata.blockStart &+ UInt(metadata.size)
                return (end &+ page &- 1) & ~(page &- 1) == guardPage ? metadata : nil
            }
            candidate &-= page
            steps &+= 1
        }
        return nil
    }

    /// free reads the 16 bytes before a block: a fault there, in a freed
    /// block, is a second free (or the program's own read of them).
    static func isDoubleFree(_ address: UInt, blockStart: UInt, alignment: Int) -> Bool {
        let userStart = blockStart &+ UInt(max(BlockHeader.byteCount, alignment))
        return address < userStart && address &+ UInt(BlockHeader.byteCount) >= userStart
    }

    static func report(_ address: UInt, blockStart: UInt, size: Int, useAfterFree: Bool, alignment: Int = 16,
                       freedSite: Int32? = nil, freedAt: GuardFreeStack? = nil, foundAtFree: Bool = false,
                       instruction: UInt = 0) {
        // The program's view of the block: the library's header (and the
        // alignment's padding) comes first; GuardBelow's blocks have none.
        let header = GuardBelow.active ? 0 : UInt(max(BlockHeader.byteCount, alignment))
        let userStart = blockStart &+ header
        let userEnd = blockStart &+ UInt(size)
        Diagnostics.fatalLine { out in
            out.text(foundAtFree ? "guard: written at " : "guard: invalid access at ")
            out.hex(UInt64(address))
            if useAfterFree && !GuardBelow.active && isDoubleFree(address, blockStart: blockStart, alignment: alignment) {
                out.text(": double free of block ")
            } else if useAfterFree {
                out.text(": use after free of block ")
            } else if address < userStart {
                out.text(": ")
                out.decimal(UInt64(userStart &- address))
                out.text(" bytes before the start of block ")
            } else if address >= userEnd {
                out.text(": ")
                out.decimal(UInt64(address &- userEnd))
                out.text(" bytes past the end of block ")
            } else {
                out.text(": in block ")
            }
            out.hex(UInt64(userStart))
            out.text("-")
            out.hex(UInt64(userEnd))
            out.text(" (")
            out.decimal(UInt64(userEnd &- userStart))
            out.text(" bytes)")
            if foundAtFree { out.text(", found when the block was freed") }
            // A sampled live block: where it was allocated, named without
            // the loader's lock (FaultFrames). A live block is still in the
            // sampled-block table; a freed one brought its site along into
            // the quarantine.
            let site = freedSite ?? SampledBlocks.find(userStart).map { $0.site }
            if let site, let sites = StackTable.sites {
                let depth = min(Int(sites[Int(site)].depth), 6)
                let frames = StackTable.frames(of: Int(site))
                var addresses = (UInt(0), UInt(0), UInt(0), UInt(0), UInt(0), UInt(0))
                withUnsafeMutableBytes(of: &addresses) { raw in
                    let list = raw.baseAddress!.assumingMemoryBound(to: UInt.self)
                    for index in 0..<depth { list[index] = UInt(bitPattern: frames[index]) }
                    out.text(", allocated at")
                    FaultFrames.write(list, count: depth, returnAddresses: true, to: &out)
                }
            }
            freedAt?.write(to: &out)
        }
        // Where the program made the bad access: the faulting instruction
        // (not when it is the library's own: the second of two frees).
        if instruction != 0 && !Sampler.isLibraryCode(instruction) {
            Diagnostics.fatalLine { out in
                out.text("guard: the access was made by")
                var at = instruction
                FaultFrames.write(&at, count: 1, returnAddresses: false, to: &out)
            }
        }
    }
}

@c(swalloc_guard_after_fork_in_child)
func swallocGuardAfterForkInChild() { GuardBuiltin.afterForkInChild() }
