import CSwallocPreload

/// How the exported functions serve a call.
///
/// Fixed once by the constructor, before the program's own code runs, and
/// never changed afterwards (a forked child inherits it; `exec` starts over).
/// Every block ever handed out was shaped by the mode in force, so `free`
/// can trust it: in `direct` and `establishedDirect` mode no block has a
/// header, in `general` mode
/// every block outside the bootstrap arena has one, in `counting` mode a
/// header or a trailer.
enum ServingMode: UInt8 {
    /// Before the constructor ran: the bootstrap arena serves every call.
    case starting = 0
    /// The system allocator with nothing to count: a tail call to glibc.
    case direct = 1
    /// The system allocator with statistics: every block carries its size,
    /// in a trailer in glibc's slack (``TrailerBlock``) or a header, and a
    /// straight-line fast path (``CountingPath``) serves the common calls.
    case counting = 2
    /// A ``BlockHeader`` in front of every block, through the general path:
    /// a registered allocator with statistics or wrappers, or glibc with
    /// wrappers.
    case general = 3
    /// A registered allocator, no statistics, no wrappers: a straight-line
    /// fast path (``RegisteredPath``) around the allocator's table.
    case registered = 4
    /// As ``registered``, for an allocator that knows its own blocks (the
    /// version 2 entries of swalloc.h): no header at all; ownership, size
    /// and free come from the allocator (``HeaderFreePath``).
    case headerFree = 5
    /// jemalloc, mimalloc or tcmalloc with nothing to count: as ``direct``,
    /// through that allocator's own malloc family
    /// (``EstablishedDirectMode``).
    case establishedDirect = 6

    /// Points the exported malloc and free at this mode's paths (one file
    /// per mode in Modes/ says where every call of the family goes).
    func installEntries() {
        switch self {
        case .starting, .general: GeneralMode.installEntries()
        case .direct: DirectMode.installEntries()
        case .counting: CountingMode.installEntries()
        case .registered: RegisteredMode.installEntries()
        case .headerFree: HeaderFreeMode.installEntries()
        case .establishedDirect: EstablishedDirectMode.installEntries()
        }
    }

    /// Every block outside the arena carries its size (a header, or in
    /// counting mode a trailer), or in header-free mode its allocator knows
    /// it; either way the general path (``HeaderBlocks``) answers for it.
    @inline(__always)
    var blocksCarrySize: Bool { rawValue >= ServingMode.counting.rawValue && self != .establishedDirect }
}

/// The mode in force. A global with a constant initialiser is static data:
/// reading it is one instruction, with no lazy initialisation.
nonisolated(unsafe) var servingMode: ServingMode = .starting

/// Whether allocation statistics are kept (decided with the mode).
nonisolated(unsafe) var statisticsEnabled: Bool = false
