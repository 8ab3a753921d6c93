import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// What happens when an allocation fails where no error can be returned
// (Rust's `handle_alloc_error` and its unstable `set_alloc_error_hook` /
// `take_alloc_error_hook`): a hook of the program's choosing runs, then the
// process aborts.

/// The hook ``handleAllocError(_:)`` runs; nil: the default message.
private let allocErrorHook = Mutex<(@Sendable (AllocError) -> Void)?>(nil)

/// Ends the process after an allocation failure that cannot be returned to
/// the caller: runs the hook set with ``setAllocErrorHook(_:)`` (by default,
/// one line on standard error: `memory allocation of 64 bytes failed`),
/// then aborts. Code that turns an ``AllocError`` into a trap calls this
/// rather than `fatalError`, so that a program can log, count or flush
/// first; Swalloc's own trapping initializers (`BumpAllocator(capacity:)`)
/// do.
///
/// A hook that returns leads to the abort; one that never returns (it
/// exits, or longjmps in C) replaces it.
public func handleAllocError(_ error: AllocError) -> Never {
    let hook = allocErrorHook.withLock { $0 }
    if let hook { hook(error) } else { writeDefaultAllocErrorMessage(error) }
    abort()
}

/// Sets the hook ``handleAllocError(_:)`` runs before it aborts, for the
/// whole process (nil: the default message).
public func setAllocErrorHook(_ hook: (@Sendable (AllocError) -> Void)?) {
    allocErrorHook.withLock { $0 = hook }
}

/// Removes the hook and returns it (nil when none was set): the default
/// message is back.
public func takeAllocErrorHook() -> (@Sendable (AllocError) -> Void)? {
    allocErrorHook.withLock { hook in
        defer { hook = nil }
        return hook
    }
}

/// `memory allocation of N bytes failed`, written with one `write(2)` from
/// a stack buffer: memory may be exactly what is missing.
private func writeDefaultAllocErrorMessage(_ error: AllocError) {
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 96) { buffer in
        var length = 0
        func put(_ text: StaticString) {
            text.withUTF8Buffer { bytes in
                for byte in bytes { buffer[length] = byte; length += 1 }
            }
        }
        if let layout = error.layout {
            put("memory allocation of ")
            var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                         UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
            var count = 0
            var value = UInt(layout.size)
            withUnsafeMutableBytes(of: &digits) { reversed in
                repeat {
                    reversed[count] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                    count += 1
                } while value > 0
                while count > 0 { count -= 1; buffer[length] = reversed[count]; length += 1 }
            }
            put(" bytes failed\n")
        } else {
            put("memory allocation failed: capacity overflow\n")
        }
        _ = write(2, buffer.baseAddress, length)
    }
}
