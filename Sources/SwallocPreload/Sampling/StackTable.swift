import CSwallocPreload

/// Interned call stacks ("sites") and what was allocated at each.
///
/// Sites are records numbered in the order they were first seen (dense:
/// `sites[0..<count]`), found through a hash index of 2^17 slots; their
/// frames share a pool of 2^22 return addresses. At most 98,304 sites
/// (three-quarters of the index); beyond that, or when the pool is full,
/// samples with new stacks are dropped and counted, and the profile says
/// the table overflowed. Guarded by ``Sampler``'s lock.
///
/// Records and frames live in the live profile file when there is one
/// (``LiveProfile``: on disk as they change, so that a process that dies
/// leaves them), else in anonymous mapped memory; both only grow, so a
/// reader of the file takes `count` records and the frames they name.
/// The index is the process's own.
enum StackTable {
    static let indexCapacity = 1 << 17
    static let capacity = indexCapacity / 4 * 3
    static let maximumDepth = 64
    static let framePoolCapacity = 1 << 22

    typealias Site = swalloc_site

    nonisolated(unsafe) static var sites: UnsafeMutablePointer<Site>? = nil
    nonisolated(unsafe) static var frames: UnsafeMutablePointer<UnsafeMutableRawPointer?>? = nil
    /// Hash slot → site number + 1 (0: empty).
    nonisolated(unsafe) static var index: UnsafeMutablePointer<Int32>? = nil
    nonisolated(unsafe) static var count = 0
    nonisolated(unsafe) static var framesUsed = 0
    nonisolated(unsafe) static var overflowed = false
    /// The site the last sample went to (-1: none): a loop that allocates
    /// samples the same stack again and again, and one compare of the
    /// frames then replaces hashing and probing.
    nonisolated(unsafe) static var lastSite = -1

    /// The frames of a site, innermost first.
    static func frames(of site: Int) -> UnsafeMutablePointer<UnsafeMutableRawPointer?> {
        frames! + Int(sites![site].firstFrame)
    }

    static func prepare() -> Bool {
        if sites != nil { return true }
        guard let indexMemory = swalloc_map_anonymous(indexCapacity &* 4) else { return false }
        if let live = LiveProfile.siteStorage() {
            sites = live.sites
            frames = live.frames
        } else {
            guard let siteMemory = swalloc_map_anonymous(capacity &* MemoryLayout<Site>.stride),
                  let frameMemory = swalloc_map_anonymous(framePoolCapacity &* 8) else { return false }
            sites = siteMemory.assumingMemoryBound(to: Site.self)
            frames = frameMemory.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        }
        index = indexMemory.assumingMemoryBound(to: Int32.self)
        return true
    }

    static func hash(_ stack: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ depth: Int) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for index in 0..<depth {
            h = (h ^ UInt64(UInt(bitPattern: stack[index]))) &* 0x0000_0100_0000_01B3
        }
        return h ^ (h &>> 29)
    }

    static func matches(_ site: Int, _ stack: UnsafeMutablePointer<UnsafeMutableRawPointer?>, depth: Int) -> Bool {
        Int(sites![site].depth) == depth && memcmp(frames! + Int(sites![site].firstFrame), stack, depth &* 8) == 0
    }

    /// The site of this stack, added if new; nil when the table is full.
    static func intern(_ stack: UnsafeMutablePointer<UnsafeMutableRawPointer?>, depth: Int) -> Int? {
        Invariant.check(swalloc_lock_held_by_caller(SWALLOC_LOCK_SAMPLER), "stacks are interned under the sampler lock")
        guard let sites, let frames, let index else { return nil }
        if lastSite >= 0, matches(lastSite, stack, depth: depth) { return lastSite }
        let h = hash(stack, depth)
        var slot = Int(truncatingIfNeeded: h) & (indexCapacity &- 1)
        while index[slot] != 0 {
            let site = Int(index[slot]) &- 1
            if sites[site].hash == h && matches(site, stack, depth: depth) {
                lastSite = site
                return site
            }
            slot = (slot &+ 1) & (indexCapacity &- 1)
        }
        guard count < capacity, framesUsed &+ depth <= framePoolCapacity,
              LiveProfile.reserve(sites: count &+ 1, frames: framesUsed &+ depth) else {
            overflowed = true
            return nil
        }
        // Unsafe: checked above, the pool has room for `depth` more frames
        // and the records for one more. The record is whole before `count`
        // (and the live file's site count) covers it.
        _ = memcpy(frames + framesUsed, stack, depth &* 8)
        sites[count] = Site(hash: h, firstFrame: Int32(framesUsed), depth: Int32(depth), samples: 0,
                            allocations: 0, bytes: 0, liveAllocations: 0, liveBytes: 0, peakLiveBytes: 0)
        index[slot] = Int32(count &+ 1)
        framesUsed &+= depth
        lastSite = count
        count &+= 1
        return lastSite
    }
}
