import CSwallocPreload

/// How the exported functions serve a call.
///
/// Fixed once by the constructor, before the program's own code runs, and
/// never changed afterwards (a forked child inherits it; `exec` starts over).
/// Every block ever handed out was shaped by the mode in force, so `free`
/// can trust it: in `direct` mode no block has a header, in `framed` mode
/// every block outside the bootstrap arena has one.
enum ServingMode: UInt8 {
    /// Before the constructor ran: the bootstrap arena serves every call.
    case starting = 0
    /// The system allocator with nothing to count: a tail call to glibc.
    case direct = 1
    /// A ``BlockHeader`` in front of every block: layout, owner, statistics.
    case framed = 2
}

/// The mode in force. A global with a constant initialiser is static data:
/// reading it is one instruction, with no lazy initialisation.
nonisolated(unsafe) var servingMode: ServingMode = .starting

/// Whether allocation statistics are kept (decided with the mode).
nonisolated(unsafe) var statisticsEnabled: Bool = false
