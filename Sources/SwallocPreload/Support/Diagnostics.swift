import CSwallocPreload

/// One-line messages to the user, each starting with `swalloc:`.
enum Diagnostics {
    /// Where messages go: the program's stderr while it still is the file
    /// it was at start-up, else nowhere (swalloc_stderr.h).
    static var fd: Int32 { swalloc_stderr_descriptor() }

    /// Writes `swalloc: <build the rest>\n` with one write(2), from the
    /// stack, without SIGPIPE, to the program's original stderr.
    static func line(_ build: (inout OutputBuffer) -> Void) {
        write(to: fd, build)
    }

    /// A line about the error that ends the program (a guard fault, a
    /// double free): to fd 2 as it is now, where glibc writes its own
    /// abort messages, so that a program that moved its stderr to a log or
    /// a pipe finds the reason there (glibc's tst-safe-linking reads it
    /// from a pipe). The summary keeps to the original
    /// file: it is written into a program that goes on.
    static func fatalLine(_ build: (inout OutputBuffer) -> Void) {
        write(to: swalloc_fatal_descriptor(), build)
    }

    private static func write(to fd: Int32, _ build: (inout OutputBuffer) -> Void) {
        guard fd >= 0 else { return }
        var pipeGuard = swalloc_sigpipe_guard()
        swalloc_sigpipe_block(&pipeGuard)
        defer { swalloc_sigpipe_restore(&pipeGuard) }
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

    /// `swalloc: FUNCTION(): double free of 0x…`, then abort, as glibc
    /// ends a program that frees a block twice. The line is written before
    /// anything of the block is touched again.
    static func doubleFree(_ function: StaticString, _ pointer: UnsafeMutableRawPointer) -> Never {
        fatalLine { out in
            out.text(function)
            out.text("(): double free of ")
            out.hex(UInt64(UInt(bitPattern: pointer)))
            out.text(" (the block was already freed)")
        }
        abort()
    }

    /// `swalloc: VARIABLE=value: complaint; using unset`, from the
    /// setting's entry in ``SettingsTable``.
    static func badSetting(_ setting: SettingDescription, value: UnsafePointer<CChar>?) {
        badSetting(setting.variable, value: value, problem: setting.complaint, fallback: setting.unset)
    }

    /// `swalloc: VARIABLE=value: reason; ignored`: a well-formed setting
    /// that the other settings leave nothing to do.
    static func ignoredSetting(_ variable: StaticString, value: UnsafePointer<CChar>, because reason: StaticString) {
        line { out in
            out.text(variable)
            out.text("=")
            out.escapedText(cString: value, limit: 200)
            out.text(": ")
            out.text(reason)
            out.text("; ignored")
        }
    }

    /// `swalloc: VARIABLE=value: problem; using default`: for the problems
    /// that are not about the value's form (a plug-in that cannot load).
    static func badSetting(_ variable: StaticString, value: UnsafePointer<CChar>?,
                           problem: StaticString, fallback: StaticString) {
        line { out in
            out.text(variable)
            out.text("=")
            out.escapedText(cString: value, limit: 200)
            out.text(": ")
            out.text(problem)
            out.text("; using ")
            out.text(fallback)
        }
    }
}
