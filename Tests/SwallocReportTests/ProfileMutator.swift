import Foundation

/// Makes hostile variants of a JSON profile for the fuzz test: numbers
/// negative, huge, fractional or not numbers at all; wrong types in known
/// keys; keys deleted; stacks of 10,000 frames; huge arrays; control
/// characters and HTML in names; truncated and flipped bytes. Deterministic
/// for a seed (scripts/fuzz-profiles does the same through the binary).
struct ProfileMutator {
    /// A JSON value whose numbers keep their literal text, so that a
    /// mutation can write one no parser would give back (`1e999`, `-0`).
    indirect enum Value {
        case null, bool(Bool), number(String), string(String), array([Value]), object([(String, Value)])
    }

    var rng: SplitMix64

    init(seed: UInt64) { rng = SplitMix64(seed: seed) }

    /// One variant of `seed`: 1 to 4 structural mutations, then sometimes
    /// damage to the text itself.
    mutating func mutate(_ seed: Value) -> Data {
        var value = seed
        for _ in 0..<Int.random(in: 1...4, using: &rng) { mutateOnce(&value) }
        var text = Array(Self.text(value).utf8)
        switch Int.random(in: 0..<20, using: &rng) {
        case 0 where !text.isEmpty: text.removeLast(Int.random(in: 1...text.count, using: &rng))
        case 1 where !text.isEmpty:
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                text[Int.random(in: 0..<text.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
            }
        default: break
        }
        return Data(text)
    }

    static let numbers = [
        "-1", "-9223372036854775808", "18446744073709551615", "18446744073709551616", "9223372036854775807",
        "9223372036854775808", "1e308", "1e999", "-1e999", "0.5", "-0", "1.0", "1E2", "4294967296", "0", "1",
        "2147483648", "-2147483649", "\"NaN\"", "\"Infinity\"", "\"-1\"", "\"12\"", "NaN", "0x10",
    ]
    static let strings = [
        "\u{1B}]0;owned\u{07}\u{1B}[2J", "</script><script>alert(1)</script>", "<!--<script>", "@DATA@@SUMMARY@@TITLE@",
        "line\nforged", "\u{202E}kcatta", "semi;colon;s", "", "\\", "\"", "\u{0}", "\u{9B}31m", "a&amp;<b>",
        // 20 KB (the script's is 80 KB: copied into thousands of sites it
        // makes cases of hundreds of MB, too slow for a debug build).
        String(repeating: "long", count: 5_000), "ü€𝄞", "/", "@",
    ]
    static let otherTypes: [Value] = [
        .null, .bool(true), .string("7"), .array([]), .object([]), .array([.number("1"), .number("2")]),
        .object([("a", .number("1"))]), .number("0"), .number("1.5"),
    ]

    mutating func mutateOnce(_ value: inout Value) {
        // The large ones (deep stacks, huge arrays) are one draw in ten.
        switch Int.random(in: 0..<20, using: &rng) {
        case 0, 1, 2, 3: edit(&value, where: { if case .number = $0 { return true }; return false }) { rng, node in
            node = .number(Bool.random(using: &rng) ? Self.numbers.randomElement(using: &rng)!
                           : String(UInt64.random(in: 0...UInt64.max, using: &rng)))
        }
        case 4, 5, 6, 7: edit(&value, where: { _ in true }) { rng, node in node = Self.otherTypes.randomElement(using: &rng)! }
        case 8, 9: edit(&value, where: { if case .object(let f) = $0 { return !f.isEmpty }; return false }) { rng, node in
            guard case .object(var fields) = node else { return }
            fields.remove(at: Int.random(in: 0..<fields.count, using: &rng))
            node = .object(fields)
        }
        case 10, 11, 12: edit(&value, where: { if case .string = $0 { return true }; return false }) { rng, node in
            node = .string(Self.strings.randomElement(using: &rng)!)
        }
        case 13: deepStack(&value)
        case 14: hugeArray(&value)
        case 15, 16: edit(&value, where: { if case .object = $0 { return true }; return false }) { rng, node in
            guard case .object(var fields) = node, !fields.isEmpty else { return }
            // A key twice, or an unknown one.
            let field = fields.randomElement(using: &rng)!
            fields.append(Bool.random(using: &rng) ? field : ("unknown_key", field.1))
            node = .object(fields)
        }
        default: edit(&value, where: { if case .array(let a) = $0 { return !a.isEmpty }; return false }) { rng, node in
            guard case .array(var items) = node else { return }
            // Duplicate an element (one stack twice: merged sums), or drop one.
            let index = Int.random(in: 0..<items.count, using: &rng)
            if Bool.random(using: &rng) { items.append(items[index]) } else { items.remove(at: index) }
            node = .array(items)
        }
        }
    }

    /// Gives one node chosen uniformly among those `matching` to `change`.
    mutating func edit(_ value: inout Value, where matching: (Value) -> Bool,
                       _ change: (inout SplitMix64, inout Value) -> Void) {
        let count = Self.count(value, matching)
        guard count > 0 else { return }
        var target = Int.random(in: 0..<count, using: &rng)
        Self.visit(&value, matching, &target) { change(&rng, &$0) }
    }

    static func count(_ value: Value, _ matching: (Value) -> Bool) -> Int {
        var total = matching(value) ? 1 : 0
        switch value {
        case .array(let items): for item in items { total += count(item, matching) }
        case .object(let fields): for (_, item) in fields { total += count(item, matching) }
        default: break
        }
        return total
    }

    /// Depth first, the same order as `count`; true once changed.
    @discardableResult
    static func visit(_ value: inout Value, _ matching: (Value) -> Bool, _ target: inout Int,
                      _ change: (inout Value) -> Void) -> Bool {
        if matching(value) {
            if target == 0 { change(&value); return true }
            target -= 1
        }
        switch value {
        case .array(var items):
            for index in items.indices where visit(&items[index], matching, &target, change) {
                value = .array(items)
                return true
            }
        case .object(var fields):
            for index in fields.indices where visit(&fields[index].1, matching, &target, change) {
                value = .object(fields)
                return true
            }
        default: break
        }
        return false
    }

    /// One site's stack made 10,000 frames deep.
    mutating func deepStack(_ value: inout Value) {
        let frames: [Value] = (0..<10_000).map { index in
            .object([("function", index % 7 == 0 ? .null : .string("f\(index % 100)")), ("module", .string("/m")),
                     ("offset", .number(String(index))), ("address", .number(String(index * 16)))])
        }
        let site = Value.object([("calls", .number("3")), ("bytes", .number("300")), ("live_allocations", .number("1")),
                                 ("live_bytes", .number("100")), ("samples", .number("3")), ("frames", .array(frames))])
        append(&value, key: "sites", [site])
    }

    /// Thousands of sites (copies of one, its stack cut to two frames: one
    /// stack many times) or buckets.
    mutating func hugeArray(_ value: inout Value) {
        let copies = Int.random(in: 1_000...10_000, using: &rng)
        guard case .object(let fields) = value else { return }
        let key = Bool.random(using: &rng) ? "sites" : "histogram"
        guard let existing = fields.first(where: { $0.0 == key }), case .array(let items) = existing.1,
              var first = items.first else { return }
        if case .object(var siteFields) = first, let frames = siteFields.firstIndex(where: { $0.0 == "frames" }),
           case .array(let stack) = siteFields[frames].1 {
            siteFields[frames].1 = .array(Array(stack.prefix(2)))
            first = .object(siteFields)
        }
        append(&value, key: key, Array(repeating: first, count: copies))
    }

    func append(_ value: inout Value, key: String, _ extra: [Value]) {
        guard case .object(var fields) = value else { return }
        guard let index = fields.firstIndex(where: { $0.0 == key }), case .array(let items) = fields[index].1 else {
            fields.append((key, .array(extra)))
            value = .object(fields)
            return
        }
        fields[index].1 = .array(items + extra)
        value = .object(fields)
    }

    // MARK: JSON text

    /// Parses a seed (valid JSON).
    static func parse(_ data: Data) throws -> Value {
        try JSONDecoder().decode(Value.self, from: data)
    }

    static func text(_ value: Value) -> String {
        var out = ""
        write(value, to: &out)
        return out
    }

    static func write(_ value: Value, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let flag): out += flag ? "true" : "false"
        case .number(let literal): out += literal
        case .string(let string): quote(string, to: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                write(item, to: &out)
            }
            out += "]"
        case .object(let fields):
            out += "{"
            for (index, (key, item)) in fields.enumerated() {
                if index > 0 { out += "," }
                quote(key, to: &out)
                out += ":"
                write(item, to: &out)
            }
            out += "}"
        }
    }

    static func quote(_ string: String, to out: inout String) {
        out += "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        out += "\""
    }
}

/// A small, fast, seedable generator (Steele, Lea and Flood's SplitMix64).
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension ProfileMutator.Value: Decodable {
    init(from decoder: Decoder) throws {
        let single = try decoder.singleValueContainer()
        if single.decodeNil() {
            self = .null
        } else if let flag = try? single.decode(Bool.self) {
            self = .bool(flag)
        } else if let string = try? single.decode(String.self) {
            self = .string(string)
        } else if let number = try? single.decode(UInt64.self) {
            self = .number(String(number))
        } else if let number = try? single.decode(Int64.self) {
            self = .number(String(number))
        } else if let number = try? single.decode(Double.self) {
            self = .number(String(number))
        } else if let items = try? single.decode([Self].self) {
            self = .array(items)
        } else {
            // Sorted: a dictionary's order changes from run to run.
            let fields = try single.decode([String: Self].self)
            self = .object(fields.keys.sorted().map { ($0, fields[$0]!) })
        }
    }
}
