import CSwallocPreload

/// Executable invariants (swalloc_invariants.h): checked in a library built
/// by `scripts/build --checked`, compiled to nothing otherwise, so that
/// the hot paths of the normal build are unchanged.
enum Invariant {
    @inline(__always)
    static func check(_ condition: @autoclosure () -> Bool, _ what: StaticString,
                      file: StaticString = #fileID, line: UInt = #line) {
        #if SWALLOC_CHECKED
        if !condition() {
            // Unsafe: a StaticString literal is NUL-terminated UTF-8.
            swalloc_invariant_failed(UnsafeRawPointer(what.utf8Start).assumingMemoryBound(to: CChar.self),
                                     UnsafeRawPointer(file.utf8Start).assumingMemoryBound(to: CChar.self),
                                     Int32(truncatingIfNeeded: line))
        }
        #endif
    }
}
