import CSwallocPreload

/// Who held the memory at the peak: each site's sampled live bytes when
/// the process's live total last reached a new high (heaptrack's "peak
/// contributions", massif's peak snapshot), for the profile's
/// `sites[].peak_live_bytes`. A copy is taken when a new peak is at least
/// 1/64 above the one of the last copy, so copies stay few (about 45 per
/// doubling of the peak) and the sites stand for a live total within 1.6 %
/// of the peak (`sampling.peak_owners_at_bytes` says which).
enum PeakOwners {
    /// The live total the last copy stands for. Under the sampler lock.
    nonisolated(unsafe) static var copiedAt: Int64 = 0

    /// The peak scan found a new peak, `live` bytes (outside the process
    /// lock). Never waits for the sampler lock: a thread that holds it may
    /// be this one, interrupted in a sample by a signal handler that
    /// allocates; the next new peak copies instead.
    static func peakReached(_ live: Int64) {
        guard Sampler.enabled, live > copiedAt &+ copiedAt / 64,
              swalloc_lock_try(SWALLOC_LOCK_SAMPLER) else { return }
        defer { swalloc_lock_release(SWALLOC_LOCK_SAMPLER) }
        guard live > copiedAt &+ copiedAt / 64, let sites = StackTable.sites else { return }
        for site in 0..<StackTable.count {
            sites[site].peakLiveBytes = sites[site].liveBytes
        }
        copiedAt = live
    }
}
