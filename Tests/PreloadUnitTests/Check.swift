import CSwallocPreload

/// The harness's one assertion: prints `ok NAME` or `FAIL NAME (line N)`,
/// and a failure makes the run exit 1. Embedded Swift has no XCTest; the
/// integration test PreloadLogicTests runs this program and reads its lines.
enum Check {
    nonisolated(unsafe) static var failures = 0
    nonisolated(unsafe) static var passed = 0

    static func that(_ condition: Bool, _ name: StaticString, line: UInt = #line) {
        var storage = InlineArray<256, UInt8>(repeating: 0)
        var span = storage.mutableSpan
        span.withUnsafeMutableBytes { bytes in
            var out = OutputBuffer(storage: bytes.baseAddress!, capacity: bytes.count, fd: 1)
            out.text(condition ? "ok " : "FAIL ")
            out.text(name)
            if !condition {
                out.text(" (line ")
                out.decimal(UInt64(line))
                out.text(")")
            }
            out.byte(UInt8(ascii: "\n"))
            out.flush()
        }
        if condition { passed &+= 1 } else { failures &+= 1 }
    }

    /// What `build` writes into an OutputBuffer, compared with `expected`.
    static func output(_ expected: StaticString, _ name: StaticString, line: UInt = #line,
                       _ build: (inout OutputBuffer) -> Void) {
        var storage = InlineArray<512, UInt8>(repeating: 0)
        var span = storage.mutableSpan
        var same = false
        span.withUnsafeMutableBytes { bytes in
            var out = OutputBuffer(storage: bytes.baseAddress!, capacity: bytes.count, fd: -1)
            build(&out)
            same = out.count == expected.utf8CodeUnitCount
                && memcmp(bytes.baseAddress!, expected.utf8Start, out.count) == 0
        }
        that(same, name, line: line)
    }
}
