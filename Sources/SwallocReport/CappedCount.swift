/// Arithmetic on a profile's counts that cannot trap.
///
/// The reader clamps every count to `Profile.countLimit` (2^63 − 1, so that
/// each also fits an Int64, as pprof and the signed changes of `swalloc
/// compare` need); sums of counts (sites merged by name, a flame graph's
/// nodes, the histogram's total) stop at that limit too.
extension Profile {
    public static let countLimit = UInt64(Int64.max)
}

extension UInt64 {
    /// `self + other`, no higher than `Profile.countLimit`.
    func cappedAdding(_ other: UInt64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? Profile.countLimit : Swift.min(sum, Profile.countLimit)
    }

    /// The count as an Int64 (the limit for anything above it).
    var cappedInt64: Int64 { Int64(clamping: self) }
}
