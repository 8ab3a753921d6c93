import Swalloc
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A global allocator in Swift: it takes its memory from glibc and writes
/// each block's layout in a prefix of its own, so that every `dealloc` and
/// `realloc` can check that the library brought back exactly the layout the
/// block was allocated with. It counts what it saw, and prints the counts
/// on stderr when the process exits.
///
/// Its prefix also lets it recognise its own blocks, so it is a
/// ``BlockOwningAllocator`` too: run with `SWALLOC_STATS=off`, the library
/// puts no header in front of its blocks and frees them through
/// ``free(_:)`` (counted as `frees`) instead of ``dealloc(_:layout:)``.
struct LayoutCheckingAllocator: BlockOwningAllocator {
    /// The prefix: the layout, and a check word. As large as the alignment,
    /// so that the block after it keeps its alignment.
    static func prefix(for layout: Layout) -> Int { prefix(alignment: layout.alignment) }
    static func prefix(alignment: Int) -> Int { max(alignment, 32) }

    func alloc(_ layout: Layout) -> UnsafeMutableRawPointer? {
        let prefix = Self.prefix(for: layout)
        var raw: UnsafeMutableRawPointer?
        // Calls made in here reach glibc: the library is inside its guard.
        guard posix_memalign(&raw, max(layout.alignment, 16), prefix + layout.size) == 0, let raw else {
            return nil
        }
        let block = raw + prefix
        block.storeBytes(of: layout.size, toByteOffset: -24, as: Int.self)
        block.storeBytes(of: layout.alignment, toByteOffset: -16, as: Int.self)
        block.storeBytes(of: UInt(bitPattern: block) ^ 0x5EED, toByteOffset: -8, as: UInt.self)
        tally.allocs.add(1, ordering: .relaxed)
        return block
    }

    func dealloc(_ pointer: UnsafeMutableRawPointer, layout: Layout) {
        tally.deallocs.add(1, ordering: .relaxed)
        guard pointer.load(fromByteOffset: -8, as: UInt.self) == UInt(bitPattern: pointer) ^ 0x5EED else {
            tally.foreign.add(1, ordering: .relaxed)
            return
        }
        if pointer.load(fromByteOffset: -24, as: Int.self) != layout.size
            || pointer.load(fromByteOffset: -16, as: Int.self) != layout.alignment {
            tally.mismatches.add(1, ordering: .relaxed)
        }
        pointer.storeBytes(of: 0, toByteOffset: -8, as: UInt.self)
        Glibc.free(pointer - Self.prefix(for: layout))
    }

    /// The check word of the prefix. Safe to read for any pointer this
    /// process frees: glibc's and the library's blocks have a header of
    /// their own in front too, and their 8 bytes never hold an address
    /// mixed with 0x5EED. (An allocator that cannot say as much keeps to
    /// ``GlobalAllocator``.)
    func owns(_ pointer: UnsafeRawPointer) -> Bool {
        pointer.load(fromByteOffset: -8, as: UInt.self) == UInt(bitPattern: pointer) ^ 0x5EED
    }

    func usableSize(of pointer: UnsafeRawPointer) -> Int {
        pointer.load(fromByteOffset: -24, as: Int.self)
    }

    func free(_ pointer: UnsafeMutableRawPointer) {
        tally.frees.add(1, ordering: .relaxed)
        let alignment = pointer.load(fromByteOffset: -16, as: Int.self)
        pointer.storeBytes(of: 0, toByteOffset: -8, as: UInt.self)
        Glibc.free(pointer - Self.prefix(alignment: alignment))
    }
}

/// What the allocator saw, shared by all threads.
final class Tally: Sendable {
    let allocs = Atomic<Int>(0)
    let deallocs = Atomic<Int>(0)
    let mismatches = Atomic<Int>(0)
    let foreign = Atomic<Int>(0)
    let frees = Atomic<Int>(0)
}

let tally = Tally()

/// The library calls this once at start-up.
@_cdecl("swalloc_register")
public func swallocRegister() {
    do {
        try GlobalAllocatorInstallation.install(LayoutCheckingAllocator(), name: "layout_check_swift")
        atexit {
            let line = "layout_check_swift: allocs=\(tally.allocs.load(ordering: .relaxed)) "
                + "deallocs=\(tally.deallocs.load(ordering: .relaxed)) "
                + "mismatches=\(tally.mismatches.load(ordering: .relaxed)) "
                + "foreign=\(tally.foreign.load(ordering: .relaxed)) "
                + "frees=\(tally.frees.load(ordering: .relaxed))\n"
            printToStderr(line)
        }
    } catch {
        printToStderr("layout_check_swift: not installed: \(error)\n")
    }
}

func printToStderr(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}
