import CSwallocPreload

/// One-line messages to the user, each starting with `swalloc:`.
enum Diagnostics {
    /// Where messages go: stderr, or the copy of it the constructor made
    /// (a program may close fd 2 before the library's last words).
    nonisolated(unsafe) static var fd: Int32 = 2

    /// Writes `swalloc: <build the rest>\n` with one write(2), from the stack.
    static func line(_ build: (inout OutputBuffer) -> Void) {
        var storage = InlineArray<512, UInt8>(repeating: 0)
        var span = storage.mutableSpan
        span.withUnsafeMutableBytes { bytes in
            var out = OutputBuffer(storage: bytes.baseAddress!, capacity: bytes.count, fd: fd)
            out.text("swalloc: ")
            build(&out)
            if out.count == out.capacity { out.count &-= 1 }
            out.byte(UInt8(ascii: "\n"))
            out.flush()
        }
    }

    /// `swalloc: VARIABLE=value: problem; using default`.
    static func badSetting(_ variable: StaticString, value: UnsafePointer<CChar>?,
                           problem: StaticString, fallback: StaticString) {
        line { out in
            out.text(variable)
            out.text("=")
            out.text(cString: value, limit: 200)
            out.text(": ")
            out.text(problem)
            out.text("; using ")
            out.text(fallback)
        }
    }
}
