import CSwallocPreload

/// The wrappers that apply on top of any global allocator:
/// `SWALLOC_LIMIT` (a cap on live bytes) and `SWALLOC_FAIL` (fault injection).
///
/// Both judge the program's allocation calls only (malloc, calloc, realloc
/// to a larger or new block, the aligned family), never the library's own.
/// A refused call returns NULL with errno ENOMEM, as a real failure would,
/// and is counted in `failed_calls`.
enum AllocationPolicy {
    /// Any wrapper in force (the constructor then chooses framed mode).
    nonisolated(unsafe) static var isActive = false

    // SWALLOC_LIMIT
    nonisolated(unsafe) static var limitBytes: Int64 = 0
    /// Requested bytes live in blocks flagged ``BlockHeader/limitFlag``.
    nonisolated(unsafe) static var limitedLive: Int64 = 0

    // SWALLOC_FAIL
    nonisolated(unsafe) static var failEvery: UInt64 = 0        // nth:N
    nonisolated(unsafe) static var failAfter: UInt64 = 0        // after:N (0: off)
    nonisolated(unsafe) static var failAfterSet = false
    nonisolated(unsafe) static var failChance: UInt64 = 0       // random:P, as a fraction of 2^64
    nonisolated(unsafe) static var failSeed: UInt64 = 1         // seed:S
    nonisolated(unsafe) static var failMinimumSize: Int = 0     // size:BYTES
    nonisolated(unsafe) static var failOnlyBySize = false       // size: alone
    nonisolated(unsafe) static var failInjection = false
    /// Calls eligible for injection so far (atomic).
    nonisolated(unsafe) static var eligibleCalls: UInt64 = 0

    /// Whether an allocation of `size` more live bytes may proceed. On yes
    /// with a limit, the bytes are already added to ``limitedLive``.
    static func admit(_ size: Int) -> Bool {
        if failInjection && shouldInject(size) { return false }
        if limitBytes > 0 {
            let live = swalloc_atomic_add_i64(&limitedLive, Int64(size))
            if live > limitBytes {
                _ = swalloc_atomic_add_i64(&limitedLive, -Int64(size))
                return false
            }
        }
        return true
    }

    /// Gives back the limit's share of a freed block.
    static func release(_ size: Int) {
        if limitBytes > 0 { _ = swalloc_atomic_add_i64(&limitedLive, -Int64(size)) }
    }

    static func shouldInject(_ size: Int) -> Bool {
        guard size >= failMinimumSize else { return false }
        let index = swalloc_atomic_add_u64(&eligibleCalls, 1) // 1-based
        if failOnlyBySize { return true }
        if failEvery > 0 && index % failEvery == 0 { return true }
        if failAfterSet && index > failAfter { return true }
        if failChance > 0 && mix(failSeed &+ index) < failChance { return true }
        return false
    }

    /// splitmix64: a deterministic draw per call index, so that a run with
    /// the same seed fails the same calls.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z &>> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z &>> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z &>> 31)
    }

    // MARK: Settings

    static func configure(limit: UnsafePointer<CChar>?, fail: UnsafePointer<CChar>?) {
        if let limit, limit[0] != 0 {
            if let bytes = SizeParser.parse(limit), bytes > 0 {
                limitBytes = Int64(bytes)
                isActive = true
            } else {
                Diagnostics.badSetting("SWALLOC_LIMIT", value: limit,
                                       problem: "not a size (like 64M, 2G or 1048576)", fallback: "no limit")
            }
        }
        if let fail, fail[0] != 0 {
            if parseFail(fail) {
                failInjection = true
                isActive = true
            } else {
                failEvery = 0; failAfterSet = false; failChance = 0; failMinimumSize = 0; failOnlyBySize = false
                Diagnostics.badSetting("SWALLOC_FAIL", value: fail,
                                       problem: "expected nth:N, after:N, random:PERCENT, seed:S, size:BYTES (comma-separated)",
                                       fallback: "no fault injection")
            }
        }
    }

    /// `nth:N`, `after:N`, `random:PERCENT`, `seed:S`, `size:BYTES`, joined by commas.
    static func parseFail(_ text: UnsafePointer<CChar>) -> Bool {
        var rest = text
        var sawTrigger = false
        var sawSize = false
        while rest[0] != 0 {
            var end = 0
            while rest[end] != 0 && rest[end] != 0x2C { end &+= 1 } // ','
            guard let colon = index(of: 0x3A, in: rest, before: end) else { return false }
            let value = rest + (colon &+ 1)
            let valueLength = end &- colon &- 1
            if keyIs(rest, colon, "nth") {
                guard let n = SizeParser.decimal(value, length: valueLength), n > 0 else { return false }
                failEvery = n
                sawTrigger = true
            } else if keyIs(rest, colon, "after") {
                guard let n = SizeParser.decimal(value, length: valueLength) else { return false }
                failAfter = n
                failAfterSet = true
                sawTrigger = true
            } else if keyIs(rest, colon, "random") {
                guard let chance = SizeParser.percent(value, length: valueLength) else { return false }
                failChance = chance
                sawTrigger = true
            } else if keyIs(rest, colon, "seed") {
                guard let seed = SizeParser.decimal(value, length: valueLength) else { return false }
                failSeed = seed
            } else if keyIs(rest, colon, "size") {
                guard let size = SizeParser.parse(value, length: valueLength) else { return false }
                failMinimumSize = size
                sawSize = true
            } else {
                return false
            }
            rest += end
            if rest[0] == 0x2C { rest += 1 }
        }
        guard sawTrigger || sawSize else { return false }
        failOnlyBySize = sawSize && !sawTrigger
        return true
    }

    static func index(of character: CChar, in text: UnsafePointer<CChar>, before end: Int) -> Int? {
        for position in 0..<end where text[position] == character { return position }
        return nil
    }

    static func keyIs(_ text: UnsafePointer<CChar>, _ length: Int, _ key: StaticString) -> Bool {
        guard length == key.utf8CodeUnitCount else { return false }
        for position in 0..<length where UInt8(bitPattern: text[position]) != key.utf8Start[position] { return false }
        return true
    }
}

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
