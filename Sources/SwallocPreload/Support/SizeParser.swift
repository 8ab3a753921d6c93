import CSwallocPreload

/// Parses sizes (`64M`, `2G`, `512k`, `1048576`, `1.5G`? no: whole numbers
/// only) and decimals, without allocating. Units are binary: K = 1024.
enum SizeParser {
    static func parse(_ text: UnsafePointer<CChar>, length: Int? = nil) -> Int? {
        let count = length ?? CString.length(text)
        var value: UInt64 = 0
        var position = 0
        while position < count, text[position] >= 0x30, text[position] <= 0x39 {
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(text[position] &- 0x30))
            guard !o1, !o2 else { return nil }
            value = sum
            position &+= 1
        }
        guard position > 0 else { return nil }
        var shift: UInt64 = 0
        if position < count {
            switch text[position] | 0x20 { // lower case
            case 0x6B: shift = 10 // k
            case 0x6D: shift = 20 // m
            case 0x67: shift = 30 // g
            case 0x74: shift = 40 // t
            case 0x62: shift = 0  // b
            default: return nil
            }
            position &+= 1
            // Optional "iB" / "B" after the unit.
            if position < count, text[position] | 0x20 == 0x69 { position &+= 1 }
            if position < count, text[position] | 0x20 == 0x62 { position &+= 1 }
        }
        guard position == count, value <= (UInt64(Int.max) >> shift) else { return nil }
        return Int(value << shift)
    }

    static func decimal(_ text: UnsafePointer<CChar>, length: Int) -> UInt64? {
        guard length > 0 else { return nil }
        var value: UInt64 = 0
        for position in 0..<length {
            guard text[position] >= 0x30, text[position] <= 0x39 else { return nil }
            let (times, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times.addingReportingOverflow(UInt64(text[position] &- 0x30))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return value
    }

    /// "0.5" or "12" (percent) as a fraction of 2^64; nil above 100.
    static func percent(_ text: UnsafePointer<CChar>, length: Int) -> UInt64? {
        var whole: UInt64 = 0
        var fraction: UInt64 = 0
        var scale: UInt64 = 1
        var position = 0
        var seenDigit = false
        while position < length, text[position] >= 0x30, text[position] <= 0x39 {
            whole = whole &* 10 &+ UInt64(text[position] &- 0x30)
            seenDigit = true
            position &+= 1
            guard whole <= 100 else { return nil }
        }
        if position < length, text[position] == 0x2E { // '.'
            position &+= 1
            while position < length, text[position] >= 0x30, text[position] <= 0x39, scale < 1_000_000 {
                fraction = fraction &* 10 &+ UInt64(text[position] &- 0x30)
                scale &*= 10
                seenDigit = true
                position &+= 1
            }
        }
        guard seenDigit, position == length else { return nil }
        let millionths = whole &* 1_000_000 &+ fraction &* (1_000_000 / scale)
        guard millionths <= 100_000_000 else { return nil }
        if millionths == 100_000_000 { return UInt64.max }
        // millionths of a percent → fraction of 2^64
        return UInt64(Double(millionths) / 100_000_000 * 18_446_744_073_709_551_616.0)
    }
}
