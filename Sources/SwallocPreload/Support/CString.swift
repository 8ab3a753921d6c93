import CSwallocPreload

/// C string helpers that allocate nothing.
enum CString {
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
