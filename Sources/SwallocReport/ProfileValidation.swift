/// The one place where a decoded profile's values are checked, so that the
/// renderers can trust them: what the decoder's types cannot say (a count
/// above what sums and Int64 conversions can carry, a stack deeper than any
/// the library writes, a sampling mean of zero) is clamped or rejected
/// here. docs/profile-format.md lists the rules.
///
/// The decoder before it has already rejected wrong types, missing keys,
/// negative or fractional counts and numbers out of their type's range.
enum ProfileValidation {
    /// Frames kept per site, the innermost (allocating) ones: four times
    /// the library's deepest (SWALLOC_SAMPLE_DEPTH is at most 64). Deeper
    /// stacks are cut, as the library cuts them.
    static let frameLimit = 256
    /// pid and threads are a process's numbers: 0 to 2^31 − 1.
    static let processNumberLimit = Int(Int32.max)

    static func validated(_ profile: Profile, path: String) throws(ProfileError) -> Profile {
        var p = profile
        p.pid = clampProcessNumber(p.pid)
        p.ppid = p.ppid.map(clampProcessNumber)
        p.threads = clampProcessNumber(p.threads)
        p.totals = clamped(p.totals)
        p.peakErrorBoundBytes = clamp(p.peakErrorBoundBytes)
        p.bootstrap = .init(allocations: clamp(p.bootstrap.allocations), bytes: clamp(p.bootstrap.bytes))
        p.histogram = try histogram(p.histogram, path: path)
        if let sampling = p.sampling {
            p.sampling = try validated(sampling, path: path)
        } else if p.sites != nil {
            throw .malformed(path: path, reason: "sites without sampling")
        }
        p.sites = p.sites?.map(clamped)
        p.timeline = p.timeline.map(validated)
        return p
    }

    static func clamp(_ count: UInt64) -> UInt64 { min(count, Profile.countLimit) }

    static func clampProcessNumber(_ value: Int) -> Int { min(max(value, 0), processNumberLimit) }

    static func clamped(_ t: Profile.Totals) -> Profile.Totals {
        Profile.Totals(
            mallocCalls: clamp(t.mallocCalls), callocCalls: clamp(t.callocCalls),
            reallocCalls: clamp(t.reallocCalls), freeCalls: clamp(t.freeCalls),
            alignedCalls: clamp(t.alignedCalls), failedCalls: clamp(t.failedCalls),
            allocations: clamp(t.allocations), deallocations: clamp(t.deallocations),
            bytesAllocated: clamp(t.bytesAllocated), bytesFreed: clamp(t.bytesFreed),
            peakLiveBytes: clamp(t.peakLiveBytes), liveBytesAtExit: clamp(t.liveBytesAtExit),
            liveAllocationsAtExit: clamp(t.liveAllocationsAtExit),
            inheritedLiveBytes: clamp(t.inheritedLiveBytes),
            inheritedLiveAllocations: clamp(t.inheritedLiveAllocations),
            maxResidentBytes: t.maxResidentBytes.map(clamp))
    }

    /// Buckets must have `min <= max`; empty ones are dropped (the library
    /// writes only non-empty buckets).
    static func histogram(_ buckets: [Profile.Bucket], path: String) throws(ProfileError) -> [Profile.Bucket] {
        var kept: [Profile.Bucket] = []
        kept.reserveCapacity(buckets.count)
        for (index, bucket) in buckets.enumerated() {
            guard bucket.min <= bucket.max else {
                throw .malformed(path: path, reason: "invalid value at histogram[\(index)]: min is above max")
            }
            guard bucket.count > 0 else { continue }
            kept.append(.init(min: clamp(bucket.min), max: clamp(bucket.max), count: clamp(bucket.count)))
        }
        return kept
    }

    static func validated(_ s: Profile.Sampling, path: String) throws(ProfileError) -> Profile.Sampling {
        guard s.meanBytes >= 1 else {
            throw .malformed(path: path, reason: "invalid value at sampling.mean_bytes: \(s.meanBytes) is below 1")
        }
        var s = s
        s.depth = min(max(s.depth, 0), frameLimit)
        s.samples = clamp(s.samples)
        s.dropped = clamp(s.dropped)
        s.untrackedBlocks = clamp(s.untrackedBlocks)
        return s
    }

    /// The library writes at most 513 points; more are cut, and a point
    /// that is not [time, bytes] is left out.
    static let timelineLimit = 4096

    static func validated(_ timeline: Profile.Timeline) -> Profile.Timeline {
        Profile.Timeline(intervalNs: timeline.intervalNs,
                         points: timeline.points.filter { $0.count == 2 }.prefix(timelineLimit).map { [$0[0], clamp($0[1])] })
    }

    static func clamped(_ site: Profile.Site) -> Profile.Site {
        Profile.Site(calls: clamp(site.calls), bytes: clamp(site.bytes),
                     liveAllocations: clamp(site.liveAllocations), liveBytes: clamp(site.liveBytes),
                     peakLiveBytes: site.peakLiveBytes.map(clamp), samples: clamp(site.samples),
                     frames: site.frames.count > frameLimit ? Array(site.frames.prefix(frameLimit)) : site.frames)
    }
}
