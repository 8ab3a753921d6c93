import CSwallocPreload

/// Where a guarded block was freed: up to ``depth`` return addresses of the
/// program (the library's own frames left out), captured by the block's
/// free and kept with it in the quarantine or its pool slot, so that a use
/// after free or a second free names the first free, as AddressSanitizer's
/// "freed by" does. Empty without libunwind.
struct GuardFreeStack {
    static let depth = 6
    var count = 0
    var frames: (UInt, UInt, UInt, UInt, UInt, UInt) = (0, 0, 0, 0, 0, 0)

    /// The calling thread's stack, now: from a free, inside the reentrancy
    /// guard (the thread's frame buffer is not in use by a sample then).
    static func capture() -> GuardFreeStack {
        var stack = GuardFreeStack()
        let buffer = swalloc_frame_buffer()
        let captured = Backtrace.capture(buffer, capacity: min(Int(SWALLOC_FRAME_BUFFER), depth &+ 12))
        withUnsafeMutableBytes(of: &stack.frames) { raw in
            let list = raw.baseAddress!.assumingMemoryBound(to: UInt.self)
            for index in 0..<captured where stack.count < depth {
                guard let frame = buffer[index] else { continue }
                let address = UInt(bitPattern: frame)
                if Sampler.isLibraryCode(address) { continue }
                list[stack.count] = address
                stack.count &+= 1
            }
        }
        return stack
    }

    /// `, freed at function (file+0x…) …` when there is a stack.
    func write(to out: inout OutputBuffer) {
        guard count > 0 else { return }
        var copy = frames
        withUnsafeMutableBytes(of: &copy) { raw in
            out.text(", freed at")
            FaultFrames.write(raw.baseAddress!.assumingMemoryBound(to: UInt.self), count: count,
                              returnAddresses: true, to: &out)
        }
    }
}
