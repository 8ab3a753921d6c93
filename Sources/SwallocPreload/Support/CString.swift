import CSwallocPreload

/// C string helpers that allocate nothing.
enum CString {
    /// A string literal as a C string. Unsafe only in name: a StaticString
    /// made from a literal is NUL-terminated static data.
    static func pointer(_ literal: StaticString) -> UnsafePointer<CChar> {
        UnsafeRawPointer(literal.utf8Start).assumingMemoryBound(to: CChar.self)
    }

    static func equals(_ cString: UnsafePointer<CChar>, _ literal: StaticString) -> Bool {
        let bytes = literal.utf8Start
        let length = literal.utf8CodeUnitCount
        for index in 0..<length where UInt8(bitPattern: cString[index]) != bytes[index] {
            return false
        }
        return cString[length] == 0
    }

    static func length(_ cString: UnsafePointer<CChar>) -> Int {
        var index = 0
        while cString[index] != 0 { index &+= 1 }
        return index
    }

    static func contains(_ cString: UnsafePointer<CChar>, _ character: UInt8) -> Bool {
        var index = 0
        while cString[index] != 0 {
            if UInt8(bitPattern: cString[index]) == character { return true }
            index &+= 1
        }
        return false
    }
}
