import CSwallocPreload

/// Symbolized frames by address, for the report: many sites share frames.
/// Open addressing in mapped memory; demangled names are freed at the end.
enum AddressCache {
    struct Entry {
        var address: UInt
        var name: UnsafePointer<CChar>?
        var module: UnsafePointer<CChar>?
        var offset: UInt
        var isMain: Bool
        var ownsName: Bool
    }

    static let capacity = 1 << 16
    nonisolated(unsafe) static var entries: UnsafeMutablePointer<Entry>? = nil
    nonisolated(unsafe) static var count = 0

    static func slot(_ address: UInt) -> Int {
        Int(truncatingIfNeeded: (UInt64(address) &* 0x9E37_79B9_7F4A_7C15) &>> 48)
    }

    static func find(_ address: UnsafeMutableRawPointer) -> Entry? {
        guard let entries else { return nil }
        let key = UInt(bitPattern: address)
        var index = slot(key)
        while entries[index].address != 0 {
            if entries[index].address == key { return entries[index] }
            index = (index &+ 1) & (capacity &- 1)
        }
        return nil
    }

    static func insert(_ entry: Entry) -> Bool {
        if entries == nil {
            // Unsafe: a fresh, zeroed mapping of capacity entries (address 0: empty).
            entries = swalloc_map_anonymous(capacity &* MemoryLayout<Entry>.stride)?.assumingMemoryBound(to: Entry.self)
        }
        guard let entries, count < capacity / 4 * 3 else { return false }
        var index = slot(entry.address)
        while entries[index].address != 0 { index = (index &+ 1) & (capacity &- 1) }
        entries[index] = entry
        count &+= 1
        return true
    }

    static func release() {
        guard let entries else { return }
        for index in 0..<capacity where entries[index].address != 0 && entries[index].ownsName {
            free(UnsafeMutableRawPointer(mutating: entries[index].name))
        }
        _ = swalloc_unmap(UnsafeMutableRawPointer(entries), capacity &* MemoryLayout<Entry>.stride)
        self.entries = nil
        count = 0
    }
}
