import CSwallocPreload

/// The profile's `modules`: every loaded module's path, load base and GNU
/// build-id, so that `swalloc report` reads source lines only from the
/// very file that ran (a rebuilt binary would give wrong lines).
enum ModulesWriter {
    struct State {
        var out: UnsafeMutablePointer<OutputBuffer>
        var first = true
    }

    static func write(_ out: inout OutputBuffer) {
        out.text(",\n  \"modules\": [")
        withUnsafeMutablePointer(to: &out) { buffer in
            var state = State(out: buffer)
            withUnsafeMutablePointer(to: &state) { statePointer in
                swalloc_visit_modules({ context, path, base, _, buildID, length in
                    // Unsafe: the context is the State above, alive for the call.
                    let state = context!.assumingMemoryBound(to: State.self)
                    ModulesWriter.entry(&state.pointee, path, base, buildID, length)
                }, statePointer)
            }
        }
        out.text("\n  ]")
    }

    static func entry(_ state: inout State, _ path: UnsafePointer<CChar>, _ base: UInt,
                      _ buildID: UnsafePointer<UInt8>?, _ length: Int) {
        let out = state.out
        out.pointee.text(state.first ? "\n    {\"path\": " : ",\n    {\"path\": ")
        state.first = false
        out.pointee.jsonString(cString: path[0] == 0 ? ReportSnapshot.programPath() : path)
        out.pointee.text(", \"base\": ")
        out.pointee.decimal(UInt64(base))
        if let buildID, length > 0 {
            out.pointee.text(", \"build_id\": \"")
            for index in 0..<min(length, 64) {
                out.pointee.hexDigit(buildID[index] >> 4)
                out.pointee.hexDigit(buildID[index] & 0xF)
            }
            out.pointee.byte(UInt8(ascii: "\""))
        }
        out.pointee.byte(UInt8(ascii: "}"))
    }
}
