import CSwallocPreload

/// Unit tests of the preload library's own logic, compiled with the
/// library's sources into one Embedded Swift program (scripts/build builds
/// it as .build/preload/unit-tests, without the constructor and without the
/// exported malloc family) and calling the code directly, as heaptrack links
/// its recorder into a unit test. Every integration test still runs whole
/// processes; these pin the pieces those processes rely on.
@main
struct PreloadUnitTests {
    static func main() {
        sizeParser()
        settingsDefaults()
        blockHeader()
        trailerBlock()
        sampledBlocks()
        stackTable()
        peakAndTimeline()
        heapSort()
        approximations()
        outputBuffer()
        failureInjection()
        guardPlacement()
        var storage = InlineArray<64, UInt8>(repeating: 0)
        var span = storage.mutableSpan
        span.withUnsafeMutableBytes { bytes in
            var out = OutputBuffer(storage: bytes.baseAddress!, capacity: bytes.count, fd: 1)
            out.decimal(UInt64(Check.passed))
            out.text(" passed, ")
            out.decimal(UInt64(Check.failures))
            out.text(" failed\n")
            out.flush()
        }
        exit(Check.failures == 0 ? 0 : 1)
    }

    static func parse(_ text: StaticString) -> Int? {
        SizeParser.parse(UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self),
                         length: text.utf8CodeUnitCount)
    }

    static func sizeParser() {
        Check.that(parse("64M") == 64 << 20, "size: 64M")
        Check.that(parse("2G") == 2 << 30, "size: 2G")
        Check.that(parse("512k") == 512 << 10, "size: 512k, lower case")
        Check.that(parse("1KiB") == 1024 && parse("1KB") == 1024, "size: KiB and KB")
        Check.that(parse("1048576") == 1 << 20, "size: plain bytes")
        Check.that(parse("0") == 0, "size: zero")
        Check.that(parse("") == nil && parse("M") == nil, "size: no digits")
        Check.that(parse("64X") == nil && parse("64MM") == nil && parse("1.5G") == nil, "size: bad suffixes")
        Check.that(parse("8388607T") == 8_388_607 << 40, "size: the largest terabytes")
        Check.that(parse("8388608T") == nil, "size: past Int.max is rejected")
        Check.that(parse("99999999999999999999") == nil, "size: decimal overflow is rejected")
    }

    static func settingsDefaults() {
        Check.that(Sampler.parsedDefault(SettingsTable.sample, SizeParser.parse) == 512 << 10,
                   "settings: the sampling default is 512 KiB")
        Check.that(Sampler.parsedDefault(SettingsTable.sampleDepth, SizeParser.parse) == 32,
                   "settings: the depth default is 32")
    }

    static func blockHeader() {
        var storage = InlineArray<32, UInt64>(repeating: 0)
        var span = storage.mutableSpan
        span.withUnsafeMutableBytes { bytes in
            let base = bytes.baseAddress!
            var allRoundTrip = true
            for shift in 4..<40 {
                for owner in [BlockOwner.system, .registered] {
                    for flags: UInt64 in [0, 1, 2, 4, 7] {
                        let user = base + 32
                        user.storeBytes(of: 12345, toByteOffset: -16, as: Int.self)
                        user.storeBytes(of: BlockHeader.tag(alignmentShift: shift, owner: owner, flags: flags),
                                        toByteOffset: -8, as: UInt64.self)
                        guard let read = BlockHeader.read(before: user) else { allRoundTrip = false; continue }
                        allRoundTrip = allRoundTrip && read.requestedSize == 12345 && read.alignmentShift == shift
                            && read.owner == owner && read.flags == flags
                    }
                }
            }
            // frame() puts the user pointer max(16, alignment) past the base.
            let framed = BlockHeader(requestedSize: 7, alignmentShift: 6, owner: .system, flags: 1).frame(base)
            Check.that(framed == base + 64 && BlockHeader.read(before: framed).map {
                $0.requestedSize == 7 && $0.alignment == 64 && $0.isCounted && $0.base(of: framed) == base
            } ?? false, "header: frame() and read() agree on a 64-aligned block")
            Check.that(allRoundTrip, "header: size, alignment, owner and flags round-trip")
            let user = base + 32
            user.storeBytes(of: BlockHeader.registeredTag, toByteOffset: -8, as: UInt64.self)
            Check.that(BlockHeader.read(before: user)?.owner == .registered
                       && BlockHeader.read(before: user)?.alignmentShift == 4, "header: the registered tag is a 16-byte block")
            Check.that(BlockHeader.read(before: user)?.flags == 0, "header: the registered tag has no flags")
            BlockHeader.markFreed(before: user)
            Check.that(BlockHeader.read(before: user) == nil && BlockHeader.isFreed(before: user),
                       "header: a freed block reads as no header, and as freed")
            user.storeBytes(of: UInt64(0x51), toByteOffset: -8, as: UInt64.self) // a glibc chunk word
            Check.that(BlockHeader.read(before: user) == nil && !BlockHeader.isFreed(before: user),
                       "header: a glibc chunk word is neither")
            Check.that(BlockHeader.countingTag != BlockHeader.registeredTag
                       && BlockHeader.freedTag & 0xFFFF_FFFF != BlockHeader.magic, "header: the tags differ")
            Check.that(BlockHeader.offset(alignmentShift: 4) == 16 && BlockHeader.offset(alignmentShift: 6) == 64,
                       "header: offset is max(16, alignment)")
        }
    }

    static func trailerBlock() {
        // glibc's word for a 48-byte chunk in use: usable 40 bytes.
        Check.that(TrailerBlock.usableSize(word: 0x31) == 40, "trailer: usable size of a chunk word")
        Check.that(TrailerBlock.usableSize(word: 0x1002) == 0x1000 - 16, "trailer: an mmapped chunk's usable size")
        // A 30-byte request in 40 usable bytes: slack 10, byte 18.
        Check.that(TrailerBlock.decode(usable: 40, byte: 18).map { $0.size == 30 && !$0.sampled } ?? false,
                   "trailer: decode a slack")
        Check.that(TrailerBlock.decode(usable: 40, byte: 18 | 0x80).map { $0.size == 30 && $0.sampled } ?? false,
                   "trailer: the sampled bit")
        Check.that(TrailerBlock.decode(usable: 40, byte: 0).map { $0.size == 39 } ?? false,
                   "trailer: byte 0 is a slack of 1")
        Check.that(TrailerBlock.decode(usable: 40, byte: 8) == nil && TrailerBlock.decode(usable: 40, byte: 49) == nil,
                   "trailer: slacks of 0 and beyond the block are invalid")
        var storage = InlineArray<8, UInt64>(repeating: 0)
        var span = storage.mutableSpan
        span.withUnsafeMutableBytes { bytes in
            let user = bytes.baseAddress! + 8
            user.storeBytes(of: UInt64(0x31), toByteOffset: -8, as: UInt64.self)
            user.storeBytes(of: UInt8(18), toByteOffset: 39, as: UInt8.self)
            Check.that(TrailerBlock.read(user).map { $0.size == 30 } ?? false, "trailer: read from a chunk")
            user.storeBytes(of: UInt64(0x5555_5555_0000), toByteOffset: -8, as: UInt64.self) // a list pointer
            Check.that(TrailerBlock.read(user) == nil, "trailer: a freed chunk's pointer word is not read further")
        }
    }

    static func sampledBlocks() {
        guard SampledBlocks.prepare() else { return Check.that(false, "sampled blocks: table mapped") }
        // Three pointers with the same home slot: a chain, then the middle
        // one removed (backward-shift deletion must keep the last findable).
        let first: UInt = 0x1000
        var colliding: [UInt] = [first]
        var candidate = first
        while colliding.count < 3 {
            candidate &+= 16
            if SampledBlocks.home(candidate) == SampledBlocks.home(first) { colliding.append(candidate) }
        }
        for (index, pointer) in colliding.enumerated() {
            _ = SampledBlocks.insert(pointer, site: Int(index) + 1, weight: Double(index) + 0.5)
        }
        Check.that(SampledBlocks.count == 3, "sampled blocks: three inserted")
        Check.that(SampledBlocks.find(colliding[2])?.site == 3, "sampled blocks: found past two collisions")
        Check.that(SampledBlocks.remove(colliding[1])?.weight == 1.5, "sampled blocks: removed from the middle")
        Check.that(SampledBlocks.find(colliding[2])?.site == 3 && SampledBlocks.find(colliding[0])?.site == 1,
                   "sampled blocks: the others still found after the shift")
        Check.that(SampledBlocks.find(colliding[1]) == nil && SampledBlocks.remove(colliding[1]) == nil,
                   "sampled blocks: the removed one is gone")
        _ = SampledBlocks.remove(colliding[0])
        _ = SampledBlocks.remove(colliding[2])
        Check.that(SampledBlocks.count == 0, "sampled blocks: empty again")
    }

    static func stackTable() {
        guard StackTable.prepare() else { return Check.that(false, "stack table: mapped") }
        var first: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(bitPattern: 0x1000), UnsafeMutableRawPointer(bitPattern: 0x2000)]
        var second: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(bitPattern: 0x1000), UnsafeMutableRawPointer(bitPattern: 0x3000)]
        var prefix: [UnsafeMutableRawPointer?] = [UnsafeMutableRawPointer(bitPattern: 0x1000)]
        swalloc_lock_acquire(SWALLOC_LOCK_SAMPLER)
        let a = first.withUnsafeMutableBufferPointer { StackTable.intern($0.baseAddress!, depth: 2) }
        let b = second.withUnsafeMutableBufferPointer { StackTable.intern($0.baseAddress!, depth: 2) }
        let c = prefix.withUnsafeMutableBufferPointer { StackTable.intern($0.baseAddress!, depth: 1) }
        let again = first.withUnsafeMutableBufferPointer { StackTable.intern($0.baseAddress!, depth: 2) }
        swalloc_lock_release(SWALLOC_LOCK_SAMPLER)
        Check.that(a != nil && b != nil && c != nil, "stack table: three stacks interned")
        Check.that(a != b && a != c && b != c, "stack table: different stacks (and a prefix) are different sites")
        Check.that(again == a && StackTable.count == 3, "stack table: the same stack is the same site")
        if let b {
            let frames = StackTable.frames(of: b)
            Check.that(Int(StackTable.sites![b].depth) == 2 && UInt(bitPattern: frames[1]) == 0x3000,
                       "stack table: a site's frames are its stack")
        }
    }

    static func peakAndTimeline() {
        swalloc_lock()
        Timeline.start()
        let first = ThreadRegistry.raisePeak(to: 1000)
        let lower = ThreadRegistry.raisePeak(to: 500)
        let higher = ThreadRegistry.raisePeak(to: 2000)
        Timeline.record(1000)
        Timeline.record(3000) // within the interval: the higher stays
        swalloc_unlock()
        Check.that(first && !lower && higher && swalloc_process_ptr().pointee.peak_live_bytes == 2000,
                   "peak: raised only by a higher total")
        Check.that(Timeline.count == 1 && Timeline.points![0].liveBytes == 3000,
                   "timeline: points within an interval keep the highest")
        // A full table halves, keeping the higher of each pair, and the
        // interval doubles.
        swalloc_lock()
        Timeline.start()
        Timeline.intervalNanoseconds = 0
        for index in 0..<Timeline.capacity { Timeline.record(Int64(index)) }
        Timeline.record(99_999)
        swalloc_unlock()
        Check.that(Timeline.count == Timeline.capacity / 2 + 1 && Timeline.points![0].liveBytes == 1
                   && Timeline.points![Timeline.count - 1].liveBytes == 99_999,
                   "timeline: a full table halves and goes on")
    }

    static func heapSort() {
        var values: [Int] = []
        var x: UInt64 = 12345
        for _ in 0..<1000 {
            x = AllocationPolicy.mix(x)
            values.append(Int(x % 500))
        }
        values.withUnsafeMutableBufferPointer { buffer in
            HeapSort.sort(buffer.baseAddress!, count: buffer.count, by: { $0 < $1 })
        }
        var sorted = true
        for index in 1..<values.count where values[index - 1] > values[index] { sorted = false }
        Check.that(sorted, "heap sort: 1,000 values in order")
    }

    static func approximations() {
        let cases: [(Double, Double)] = [(1, 0), (2, 0.693_147_180_559_945_3), (0.5, -0.693_147_180_559_945_3),
                                         (10, 2.302_585_092_994_046), (1e-9, -20.723_265_836_946_41)]
        var close = true
        for (x, expected) in cases {
            let got = Approximations.log(x)
            close = close && (got - expected < 1e-10 && expected - got < 1e-10)
        }
        Check.that(close, "log: within 1e-10 of the reference values")
        let e1 = Approximations.expNegative(-1)
        Check.that(e1 - 0.367_879_441_171_442_3 < 1e-10 && 0.367_879_441_171_442_3 - e1 < 1e-10, "exp: e^-1")
        Check.that(Approximations.expNegative(-800) == 0 && Approximations.expNegative(0) == 1, "exp: the ends")
    }

    static func outputBuffer() {
        Check.output("0 18446744073709551615 -42", "output: decimals") { out in
            out.decimal(UInt64(0)); out.byte(32); out.decimal(UInt64.max); out.byte(32); out.decimal(Int64(-42))
        }
        Check.output("999 1,000 1,234,567", "output: grouped thousands") { out in
            out.grouped(999); out.byte(32); out.grouped(1000); out.byte(32); out.grouped(1_234_567)
        }
        Check.output("512 B 1.5 KiB 3.0 GiB", "output: byte units") { out in
            out.bytes(512); out.byte(32); out.bytes(1536); out.byte(32); out.bytes(3 << 30)
        }
        Check.output("0x0 0xdeadbeef", "output: hex") { out in
            out.hex(0); out.byte(32); out.hex(0xDEAD_BEEF)
        }
        Check.output("a\\x0ab\\x5c\\x1b", "output: escaped setting values") { out in
            let text: StaticString = "a\nb\\\u{1B}"
            out.escapedText(cString: UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self))
        }
        Check.output("\"q\\\"\\n\"", "output: JSON strings") { out in
            let text: StaticString = "q\"\n"
            out.jsonString(cString: UnsafeRawPointer(text.utf8Start).assumingMemoryBound(to: CChar.self))
        }
    }

    static func failureInjection() {
        let setting: StaticString = "nth:3"
        AllocationPolicy.configure(limit: nil,
                                   fail: UnsafeRawPointer(setting.utf8Start).assumingMemoryBound(to: CChar.self))
        var pattern: [Bool] = []
        for _ in 0..<6 { pattern.append(AllocationPolicy.admit(16)) }
        Check.that(pattern == [true, true, false, true, true, false], "fail: nth:3 refuses every third call")
        let sized: StaticString = "size:4k"
        AllocationPolicy.eligibleCalls = 0
        AllocationPolicy.configure(limit: nil, fail: UnsafeRawPointer(sized.utf8Start).assumingMemoryBound(to: CChar.self))
        Check.that(AllocationPolicy.admit(4095) && !AllocationPolicy.admit(4096), "fail: size: alone refuses the large ones")
        let limit: StaticString = "1k"
        AllocationPolicy.configure(limit: UnsafeRawPointer(limit.utf8Start).assumingMemoryBound(to: CChar.self), fail: nil)
        let first = AllocationPolicy.admit(600), second = AllocationPolicy.admit(600)
        let toTheLimit = AllocationPolicy.admit(424), past = AllocationPolicy.admit(1)
        AllocationPolicy.release(600)
        Check.that(first && !second && toTheLimit && !past && AllocationPolicy.admit(600),
                   "limit: live bytes are capped at the limit, and freed bytes come back")
    }

    static func guardPlacement() {
        // alloc's layout, recomputed by dealloc from the block alone.
        var agree = true
        var x: UInt64 = 7
        let page = 4096
        for _ in 0..<2000 {
            x = AllocationPolicy.mix(x)
            let size = 1 + Int(x % 70_000)
            let alignment = 1 << (4 + Int((x >> 20) % 17)) // 16 bytes to 1 MiB
            let mapping: UInt = 0x7000_0000_0000
            if alignment <= page {
                let data = GuardBuiltin.dataBytes(size, alignment)
                let guardPage = mapping + UInt(data)
                let block = (guardPage - UInt(size)) & ~UInt(alignment - 1)
                let placement = GuardBuiltin.Placement(block: block, size: size, alignment: alignment)
                agree = agree && placement.mapping == mapping && placement.guardPage == guardPage
                    && block >= mapping + UInt(GuardBuiltin.Metadata.reservedBytes)
            } else {
                let block = mapping + UInt(page)
                let placement = GuardBuiltin.Placement(block: block, size: size, alignment: alignment)
                agree = agree && placement.mapping == mapping && placement.guardPage >= block + UInt(size)
                    && placement.guardPage - (block + UInt(size)) < UInt(page)
            }
        }
        Check.that(agree, "guard: dealloc finds the mapping alloc made, for 2,000 sizes and alignments")
    }
}
