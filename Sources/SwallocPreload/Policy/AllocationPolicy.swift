import CSwallocPreload

/// The wrappers that apply on top of any global allocator:
/// `SWALLOC_LIMIT` (a cap on live bytes) and `SWALLOC_FAIL` (fault injection).
///
/// Both judge the program's allocation calls only (malloc, calloc, realloc
/// to a larger or new block, the aligned family), never the library's own.
/// A refused call returns NULL with errno ENOMEM, as a real failure would,
/// and is counted in `failed_calls`.
enum AllocationPolicy {
    /// Any wrapper in force (the constructor then chooses general mode).
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
    static func admit(_ size: Int) -> Bool { admitResize(from: 0, to: size) }

    /// Gives back the limit's share of a freed block.
    static func release(_ size: Int) {
        if limitBytes > 0 { _ = swalloc_atomic_add_i64(&limitedLive, -Int64(size)) }
    }

    /// Takes a share again without judging it: the undo of a `release`
    /// made ahead of a move that failed.
    static func charge(_ size: Int) {
        if limitBytes > 0 { _ = swalloc_atomic_add_i64(&limitedLive, Int64(size)) }
    }

    /// realloc of a block whose share of the limit is `oldShare` (0 when it
    /// had none) to `newSize`: fault injection as for an allocation of
    /// `newSize`; the limit judges the live bytes after the call, the
    /// difference charged now (a shrink never fails on the limit).
    static func admitResize(from oldShare: Int, to newSize: Int) -> Bool {
        if failInjection && shouldInject(newSize) { return false }
        if limitBytes > 0 {
            let difference = Int64(newSize) &- Int64(oldShare)
            let live = swalloc_atomic_add_i64(&limitedLive, difference)
            if difference >= 0 && live > limitBytes {
                _ = swalloc_atomic_add_i64(&limitedLive, -difference)
                return false
            }
        }
        return true
    }

    /// The undo of an admitted resize whose realloc then failed.
    static func undoResize(from oldShare: Int, to newSize: Int) { release(newSize &- oldShare) }

    static func shouldInject(_ size: Int) -> Bool {
        guard size >= failMinimumSize else { return false }
        let index = swalloc_atomic_add_u64(&eligibleCalls, 1) // 1-based
        if failOnlyBySize { return true }
        if failEvery > 0 && index % failEvery == 0 { return true }
        if failAfterSet && index > failAfter { return true }
        // The seed is mixed before the index is added: with seed + index,
        // seed S + k drew seed S's failures shifted by k calls.
        if failChance > 0 && mix(mix(failSeed) &+ index) < failChance { return true }
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
                Diagnostics.badSetting(SettingsTable.limit, value: limit)
            }
        }
        if let fail, fail[0] != 0 {
            if parseFail(fail) {
                failInjection = true
                isActive = true
            } else {
                failEvery = 0; failAfterSet = false; failChance = 0; failMinimumSize = 0; failOnlyBySize = false
                Diagnostics.badSetting(SettingsTable.fail, value: fail)
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
