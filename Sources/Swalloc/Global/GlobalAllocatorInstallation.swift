import CSwalloc
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Installs a Swift ``GlobalAllocator`` as the process's global allocator,
/// through the C ABI of libswalloc.so (`swalloc_set_global_allocator`).
///
/// Call it from `swalloc_register`, which the library calls once at
/// start-up, before it serves the program's allocations:
///
/// ```swift
/// @_cdecl("swalloc_register")
/// public func swallocRegister() {
///     try? GlobalAllocatorInstallation.install(MyAllocator(), name: "mine")
/// }
/// ```
///
/// The allocator is retained for the life of the process. The library is
/// found at run time (`dlsym`), so neither the plug-in nor the program has
/// to link against it.
public enum GlobalAllocatorInstallation {
    /// Why ``install(_:name:)`` did not install the allocator.
    public enum Failure: Error, Equatable, Sendable {
        /// No libswalloc.so in the process.
        case libraryNotLoaded
        /// The library refused: called after it started serving (it says
        /// why on stderr).
        case refused
    }

    /// A ``BlockOwningAllocator`` goes in as swalloc.h's version 2 table,
    /// so that its blocks need no header; any other as version 1.
    public static func install(_ allocator: some GlobalAllocator, name: String) throws(Failure) {
        if let owning = allocator as? any BlockOwningAllocator {
            var table = makeOwningTable(owning, name: name)
            try register(&table, through: "swalloc_set_global_allocator_v2", context: table.base.context)
        } else {
            var table = makeTable(allocator, name: name)
            try register(&table, through: "swalloc_set_global_allocator", context: table.context)
        }
    }

    /// Hands `table` to the library's `entry` (found with dlsym); on any
    /// failure the table's box (`context`) is released.
    static func register<Table>(_ table: inout Table, through entry: String,
                                context: UnsafeMutableRawPointer?) throws(Failure) {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), entry) else {
            Unmanaged<AllocatorBox>.fromOpaque(context!).release()
            throw .libraryNotLoaded
        }
        // Both entries take a pointer to their table: one C signature.
        typealias SetGlobalAllocator = @convention(c) (UnsafeRawPointer?) -> Int32
        let setGlobalAllocator = unsafeBitCast(symbol, to: SetGlobalAllocator.self)
        guard withUnsafePointer(to: &table, { setGlobalAllocator(UnsafeRawPointer($0)) }) == 0 else {
            Unmanaged<AllocatorBox>.fromOpaque(context!).release()
            throw .refused
        }
    }

    static func makeOwningTable(_ allocator: any BlockOwningAllocator, name: String) -> swalloc_global_allocator_v2 {
        swalloc_global_allocator_v2(
            size: MemoryLayout<swalloc_global_allocator_v2>.size,
            base: makeTable(allocator, name: name),
            owns: { context, pointer in
                guard let pointer else { return 0 }
                return AllocatorBox.withOwning(context) { $0.owns(pointer) ? 1 : 0 }
            },
            usable_size: { context, pointer in
                guard let pointer else { return 0 }
                return AllocatorBox.withOwning(context) { $0.usableSize(of: pointer) }
            },
            free: { context, pointer in
                guard let pointer else { return 0 }
                return AllocatorBox.withOwning(context) { owning in
                    guard owning.owns(pointer) else { return 0 }
                    owning.free(pointer)
                    return 1
                }
            },
            // No SWALLOC_NEVER_REENTERS: the Swift runtime may allocate
            // under any call (the first use of generic metadata, for one),
            // and reentered while it holds its own lock, it would wait on it.
            flags: 0)
    }

    /// The C table for an allocator: `context` is a retained box, the
    /// function pointers are thunks into it. (Public for tests and for
    /// callers that register by other means.)
    public static func makeTable(_ allocator: some GlobalAllocator, name: String) -> swalloc_global_allocator {
        let box = Unmanaged.passRetained(AllocatorBox(allocator))
        return swalloc_global_allocator(
            context: box.toOpaque(),
            alloc: { context, size, alignment in
                AllocatorBox.with(context) { $0.alloc(Layout(uncheckedSize: size, alignment: alignment)) }
            },
            dealloc: { context, pointer, size, alignment in
                guard let pointer else { return }
                AllocatorBox.with(context) { $0.dealloc(pointer, layout: Layout(uncheckedSize: size, alignment: alignment)) }
            },
            alloc_zeroed: { context, size, alignment in
                AllocatorBox.with(context) { $0.allocZeroed(Layout(uncheckedSize: size, alignment: alignment)) }
            },
            realloc: { context, pointer, size, alignment, newSize in
                guard let pointer else { return nil }
                return AllocatorBox.with(context) {
                    $0.realloc(pointer, layout: Layout(uncheckedSize: size, alignment: alignment), newSize: newSize)
                }
            },
            // Kept for the life of the process, as the table is.
            name: UnsafePointer(strdup(name)))
    }
}

/// Holds the allocator behind the table's `context`.
final class AllocatorBox: @unchecked Sendable {
    let allocator: any GlobalAllocator
    /// The same allocator as a ``BlockOwningAllocator``, when it is one:
    /// cast once here, not on every call.
    let owning: (any BlockOwningAllocator)?

    init(_ allocator: any GlobalAllocator) {
        self.allocator = allocator
        self.owning = allocator as? any BlockOwningAllocator
    }

    /// For the version 2 entries, which only an owning allocator's table has.
    @inline(__always)
    static func withOwning<R>(_ context: UnsafeMutableRawPointer?, _ body: (any BlockOwningAllocator) -> R) -> R {
        Unmanaged<AllocatorBox>.fromOpaque(context!)._withUnsafeGuaranteedRef { body($0.owning!) }
    }

    /// Runs `body` on the boxed allocator without retain/release traffic
    /// (`_withUnsafeGuaranteedRef` adds none: docs/measurements.md, "The hot
    /// path"). The box is retained by the table for the life of the process.
    @inline(__always)
    static func with<R>(_ context: UnsafeMutableRawPointer?, _ body: (any GlobalAllocator) -> R) -> R {
        Unmanaged<AllocatorBox>.fromOpaque(context!)._withUnsafeGuaranteedRef { body($0.allocator) }
    }
}
