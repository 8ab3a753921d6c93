import CSwallocPreload

/// Text written into fixed storage and flushed to a file descriptor with
/// `write(2)`: the library's only way to print, because nothing it prints
/// may allocate (`write` from a stack buffer makes no malloc:
/// docs/measurements.md, "Writing the report").
///
/// Unsafe: `storage` must stay valid and exclusively ours while the buffer
/// is in use.
struct OutputBuffer {
    let storage: UnsafeMutableRawPointer
    let capacity: Int
    var count = 0
    let fd: Int32
    /// False once a write failed; later output is dropped.
    var healthy = true

    init(storage: UnsafeMutableRawPointer, capacity: Int, fd: Int32) {
        self.storage = storage
        self.capacity = capacity
        self.fd = fd
    }

    mutating func byte(_ value: UInt8) {
        if count == capacity { flush() }
        storage.storeBytes(of: value, toByteOffset: count, as: UInt8.self)
        count &+= 1
    }

    mutating func text(_ string: StaticString) {
        let start = string.utf8Start
        for index in 0..<string.utf8CodeUnitCount { byte(start[index]) }
    }

    /// A NUL-terminated C string, at most `limit` bytes of it.
    mutating func text(cString: UnsafePointer<CChar>?, limit: Int = 4096) {
        guard let cString else { return }
        var index = 0
        while index < limit {
            let value = UInt8(bitPattern: cString[index])
            if value == 0 { break }
            byte(value)
            index &+= 1
        }
    }

    /// A C string from the user (a setting's value) for the terminal:
    /// printable ASCII as it is, every other byte as `\xNN`, so that a
    /// newline cannot forge another `swalloc:` line and no escape sequence
    /// reaches the terminal.
    mutating func escapedText(cString: UnsafePointer<CChar>?, limit: Int = 4096) {
        guard let cString else { return }
        var index = 0
        while index < limit {
            let value = UInt8(bitPattern: cString[index])
            if value == 0 { break }
            if value >= 0x20 && value < 0x7F && value != UInt8(ascii: "\\") {
                byte(value)
            } else {
                text("\\x")
                hexDigit(value >> 4)
                hexDigit(value & 0xF)
            }
            index &+= 1
        }
    }

    /// A C string as a JSON string literal (quotes included).
    mutating func jsonString(cString: UnsafePointer<CChar>?, limit: Int = 4096) {
        byte(UInt8(ascii: "\""))
        if let cString {
            var index = 0
            while index < limit {
                let value = UInt8(bitPattern: cString[index])
                if value == 0 { break }
                switch value {
                case UInt8(ascii: "\""): text("\\\"")
                case UInt8(ascii: "\\"): text("\\\\")
                case 0x0A: text("\\n")
                case 0x09: text("\\t")
                case 0..<0x20:
                    text("\\u00")
                    hexDigit(value >> 4)
                    hexDigit(value & 0xF)
                default: byte(value)
                }
                index &+= 1
            }
        }
        byte(UInt8(ascii: "\""))
    }

    mutating func decimal(_ value: UInt64) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0) // 24 bytes: enough for 20 digits
        var count = 0
        var rest = value
        withUnsafeMutableBytes(of: &digits) { scratch in
            repeat {
                scratch[count] = UInt8(truncatingIfNeeded: rest % 10) &+ 48
                rest /= 10
                count &+= 1
            } while rest != 0
        }
        withUnsafeBytes(of: &digits) { scratch in
            while count > 0 {
                count &-= 1
                byte(scratch[count])
            }
        }
    }

    mutating func decimal(_ value: Int64) {
        if value < 0 {
            byte(UInt8(ascii: "-"))
            decimal(UInt64(bitPattern: 0 &- value))
        } else {
            decimal(UInt64(value))
        }
    }

    mutating func decimal(_ value: Int) { decimal(Int64(value)) }

    /// 1234567 → "1,234,567".
    mutating func grouped(_ value: UInt64) {
        if value < 1000 { decimal(value); return }
        grouped(value / 1000)
        byte(UInt8(ascii: ","))
        let rest = value % 1000
        if rest < 100 { byte(UInt8(ascii: "0")) }
        if rest < 10 { byte(UInt8(ascii: "0")) }
        decimal(rest)
    }

    /// Bytes with a binary unit and one decimal: "512 B", "1.5 KiB", "3.0 GiB".
    mutating func bytes(_ value: UInt64) {
        if value < 1024 {
            decimal(value)
            text(" B")
            return
        }
        var divisor: Double = 1024
        var unit = 0
        while unit < 3 && Double(value) >= divisor * 1024 {
            divisor *= 1024
            unit &+= 1
        }
        let tenths = UInt64(Double(value) / divisor * 10 + 0.5) // rounded, without libm
        decimal(tenths / 10)
        byte(UInt8(ascii: "."))
        decimal(tenths % 10)
        switch unit {
        case 0: text(" KiB")
        case 1: text(" MiB")
        case 2: text(" GiB")
        default: text(" TiB")
        }
    }

    mutating func hexDigit(_ value: UInt8) {
        byte(value < 10 ? 48 &+ value : 87 &+ value)
    }

    mutating func hex(_ value: UInt64) {
        text("0x")
        var shift = 60
        var started = false
        while shift >= 0 {
            let digit = UInt8(truncatingIfNeeded: (value >> UInt64(shift)) & 0xF)
            if digit != 0 || started || shift == 0 {
                hexDigit(digit)
                started = true
            }
            shift &-= 4
        }
    }

    mutating func padding(to column: Int, from start: Int) {
        while count &- start < column { byte(UInt8(ascii: " ")) }
    }

    mutating func flush() {
        var offset = 0
        while offset < count && healthy {
            let written = write(fd, storage + offset, count &- offset)
            if written < 0 {
                if swalloc_errno() == EINTR { continue }
                healthy = false
            } else {
                offset &+= written
            }
        }
        count = 0
    }
}
