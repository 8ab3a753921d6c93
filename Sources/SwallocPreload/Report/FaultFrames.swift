import CSwallocPreload

/// Names code addresses in the guard allocator's fault lines: ` function
/// (file+0xoffset)`, as `addr2line -f -e file offset` would, from a signal
/// handler.
///
/// The exit report's way (``Symbolizer/symbolize(_:)``) starts with
/// `dladdr`, which takes the loader's lock: a fault inside `dlopen` would
/// hang there. Here the files come from /proc/self/maps (`swalloc_locate`:
/// open, read, close), and the names from each file's `.symtab`, read by
/// ``Symbolizer`` with mmap and no allocation. Names are printed as the
/// file has them (not demangled: the demanglers allocate) and escaped.
enum FaultFrames {
    /// The faulting instruction and up to 7 allocation frames.
    static let capacity = 8
    static let bufferBytes = 4096
    nonisolated(unsafe) static var locations: UnsafeMutablePointer<swalloc_location>? = nil
    nonisolated(unsafe) static var buffer: UnsafeMutablePointer<CChar>? = nil

    /// Maps the scratch space, once, by the constructor (``GuardBuiltin/prepare()``).
    static func prepare() {
        guard locations == nil else { return }
        // Unsafe: fresh mappings, ours alone, of capacity locations and bufferBytes.
        locations = swalloc_map_anonymous(capacity &* MemoryLayout<swalloc_location>.stride)?
            .assumingMemoryBound(to: swalloc_location.self)
        buffer = swalloc_map_anonymous(bufferBytes)?.assumingMemoryBound(to: CChar.self)
    }

    /// Writes ` name (file+0xoffset)` for each of `count` addresses (at most
    /// ``capacity``); ` file+0xoffset` without a symbol, ` 0xaddress` outside
    /// any file. `returnAddresses`: the addresses follow calls (an
    /// allocation's frames), so the call is looked up one byte before;
    /// false for a faulting instruction itself.
    static func write(_ addresses: UnsafePointer<UInt>, count: Int, returnAddresses: Bool, to out: inout OutputBuffer) {
        let count = min(count, capacity)
        guard count > 0, let locations, let buffer else {
            for index in 0..<count { out.byte(0x20); out.hex(UInt64(addresses[index])) }
            return
        }
        // swalloc_locate looks up address - 1: give it the call's return address.
        var lookups = (UInt(0), UInt(0), UInt(0), UInt(0), UInt(0), UInt(0), UInt(0), UInt(0))
        withUnsafeMutableBytes(of: &lookups) { raw in
            let adjusted = raw.baseAddress!.assumingMemoryBound(to: UInt.self)
            for index in 0..<count { adjusted[index] = returnAddresses ? addresses[index] : addresses[index] &+ 1 }
            _ = swalloc_locate(adjusted, count, locations, buffer, bufferBytes)
        }
        Symbolizer.prepareModuleTable()
        for index in 0..<count {
            let address = addresses[index]
            let lookup = returnAddresses ? address &- 1 : address
            out.byte(0x20)
            let location = locations + index
            let path = UnsafeRawPointer(location).advanced(by: MemoryLayout<swalloc_location>.offset(of: \.path)!)
                .assumingMemoryBound(to: CChar.self)
            guard path[0] != 0 else {
                out.hex(UInt64(address))
                continue
            }
            let base = location.pointee.base
            if let module = Symbolizer.module(base: base, path: path),
               let name = Symbolizer.lookupSymbol(module, lookup) {
                out.escapedText(cString: name, limit: 160)
                out.text(" (")
                writeFile(path, offset: address &- base, to: &out)
                out.byte(0x29)
            } else {
                writeFile(path, offset: address &- base, to: &out)
            }
        }
    }

    /// `file+0xoffset`: the path's last component.
    static func writeFile(_ path: UnsafePointer<CChar>, offset: UInt, to out: inout OutputBuffer) {
        var last = 0
        var index = 0
        while path[index] != 0 {
            if path[index] == 0x2F { last = index &+ 1 }
            index &+= 1
        }
        out.escapedText(cString: path + last, limit: 120)
        out.text("+")
        out.hex(UInt64(offset))
    }
}
