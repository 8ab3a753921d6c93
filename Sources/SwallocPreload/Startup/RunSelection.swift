import CSwallocPreload

/// Which processes of a `swalloc run` write a profile. swalloc run sets
/// `SWALLOC_RUN_PARENT` to its own pid, so that the program it started
/// knows it is the run's main process (its parent is swalloc), and
/// `SWALLOC_CHILDREN` to `all`, `none` or a program's name: the other
/// processes of the tree profile themselves only if they are selected. A
/// process that is not selected runs with statistics off, writes nothing,
/// and costs what direct mode costs. Without both variables (plain
/// LD_PRELOAD) every process is selected.
enum RunSelection {
    /// Whether a child forked from this process (the same program, not the
    /// run's main process) reports; read by the fork handler in the child.
    nonisolated(unsafe) static var forkedChildrenReport = true

    /// Decided once by the constructor.
    static func selectsThisProcess() -> Bool {
        guard let children = getenv(CString.pointer(SettingsTable.children.variable)), children[0] != 0,
              let parentText = getenv(CString.pointer(SettingsTable.runParent.variable)),
              let parent = SizeParser.decimal(parentText, length: CString.length(parentText)) else { return true }
        if CString.equals(children, "all") { return true }
        let isMain = UInt64(getppid()) == parent
        let byName = !CString.equals(children, "none") && runsProgram(named: children)
        forkedChildrenReport = byName
        return isMain || byName
    }

    /// The name as invoked (argv[0]'s last part, `python3`) or as the
    /// executable file is called (`python3.11`).
    static func runsProgram(named name: UnsafePointer<CChar>) -> Bool {
        if strcmp(name, program_invocation_short_name) == 0 { return true }
        var path = InlineArray<4096, CChar>(repeating: 0)
        var span = path.mutableSpan
        return span.withUnsafeMutableBufferPointer { buffer in
            let length = readlink("/proc/self/exe", buffer.baseAddress!, buffer.count - 1)
            guard length > 0 else { return false }
            buffer[length] = 0
            var start = 0
            for index in 0..<length where buffer[index] == 0x2F { start = index + 1 } // after the last "/"
            return strcmp(name, buffer.baseAddress! + start) == 0
        }
    }
}
