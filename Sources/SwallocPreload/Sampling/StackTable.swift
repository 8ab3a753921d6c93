import CSwallocPreload

/// Interned call stacks ("sites") and what was allocated at each.
///
/// Fixed capacity in mapped memory (taken at the first sample, touched as
/// used): up to 98,304 distinct stacks (three-quarters of 2^17 slots) whose
/// frames share a pool of 2^22 return addresses (32 MiB of address space).
/// Beyond that, samples with new stacks are dropped and counted, and the
/// profile says the table overflowed. Guarded by ``Sampler``'s lock.
enum StackTable {
    static let capacity = 1 << 17
    static let maximumDepth = 64
    static let framePoolCapacity = 1 << 22

    /// Per site; the estimates are sums of sample weights (exact counts
    /// when every allocation is sampled).
    struct Site {
        var hash: UInt64
        var firstFrame: Int32   // index into the frame pool
        var depth: Int32
        var used: Bool
        var samples: Int64
        var allocations: Double
        var bytes: Double
        var liveAllocations: Double
        var liveBytes: Double
        /// `liveBytes` at the peak (``PeakOwners``).
        var peakLiveBytes: Double
    }

    nonisolated(unsafe) static var sites: UnsafeMutablePointer<Site>? = nil
    nonisolated(unsafe) static var frames: UnsafeMutablePointer<UnsafeMutableRawPointer?>? = nil
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
        guard let siteMemory = swalloc_map_anonymous(capacity &* MemoryLayout<Site>.stride),
              let frameMemory = swalloc_map_anonymous(framePoolCapacity &* 8) else { return false }
        frames = frameMemory.assumingMemoryBound(to: UnsafeMutableRawPointer?.self)
        sites = siteMemory.assumingMemoryBound(to: Site.self)
        return true
    }

    static func hash(_ stack: UnsafeMutablePointer<UnsafeMutableRawPointer?>, _ depth: Int) -> UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for index in 0..<depth {
            h = (h ^ UInt64(UInt(bitPattern: stack[index]))) &* 0x0000_0100_0000_01B3
        }
        return h ^ (h &>> 29)
    }

    /// The site of this stack, added if new; nil when the table is full.
    static func intern(_ stack: UnsafeMutablePointer<UnsafeMutableRawPointer?>, depth: Int) -> Int? {
        Invariant.check(swalloc_lock_held_by_caller(SWALLOC_LOCK_SAMPLER), "stacks are interned under the sampler lock")
        guard let sites, let frames else { return nil }
        if lastSite >= 0, Int(sites[lastSite].depth) == depth,
           memcmp(frames + Int(sites[lastSite].firstFrame), stack, depth &* 8) == 0 {
            return lastSite
        }
        let h = hash(stack, depth)
        var slot = Int(truncatingIfNeeded: h) & (capacity &- 1)
        while sites[slot].used {
            if sites[slot].hash == h && Int(sites[slot].depth) == depth
                && memcmp(frames + Int(sites[slot].firstFrame), stack, depth &* 8) == 0 {
                lastSite = slot
                return slot
            }
            slot = (slot &+ 1) & (capacity &- 1)
        }
        guard count < capacity / 4 * 3, framesUsed &+ depth <= framePoolCapacity else {
            overflowed = true
            return nil
        }
        // Unsafe: checked above, the pool has room for `depth` more frames.
        _ = memcpy(frames + framesUsed, stack, depth &* 8)
        sites[slot] = Site(hash: h, firstFrame: Int32(framesUsed), depth: Int32(depth), used: true, samples: 0,
                           allocations: 0, bytes: 0, liveAllocations: 0, liveBytes: 0, peakLiveBytes: 0)
        framesUsed &+= depth
        count &+= 1
        lastSite = slot
        return slot
    }
}
