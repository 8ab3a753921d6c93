/// An allocation failed: the allocator is exhausted, or it cannot serve the
/// layout (Rust's `AllocError`, with the reason kept).
public struct AllocError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Why an allocation failed.
    public enum Reason: Hashable, Sendable {
        /// Out of memory, or out of the allocator's capacity.
        case exhausted
        /// The allocator never serves this layout (too large for a pool's
        /// blocks, an alignment it does not support).
        case unsupportedLayout
    }

    /// Why it failed.
    public let reason: Reason
    /// The layout that was asked for; nil when none could be formed (a
    /// collection's capacity beyond what `Int` can count in bytes).
    public let layout: Layout?

    /// An error for a failed request of `layout` (nil: no layout could be
    /// formed).
    public init(_ reason: Reason, layout: Layout?) {
        self.reason = reason
        self.layout = layout
    }

    /// The layout and the reason, for messages: `allocation of
    /// Layout(size: 64, alignment: 8) failed: exhausted`.
    public var description: String {
        let what = layout.map { "allocation of \($0)" } ?? "allocation"
        switch reason {
        case .exhausted: return "\(what) failed: exhausted"
        case .unsupportedLayout: return "\(what) failed: layout not supported"
        }
    }
}
