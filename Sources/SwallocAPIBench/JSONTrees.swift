import Swalloc

// One JSON parser, two homes for its tree: nodes in an arena (children in
// one block of the arena each, the whole tree dropped by `reset()`), or the
// same nodes with their children in Swift Arrays (the tree dropped by ARC).
// Everything else is shared: the scanner, the scratch stack on which an
// array's or object's children gather before they move into their block,
// and the walk that checks both trees hold the same values.

enum JSONKind: UInt8 { case null, bool, number, string, array, object }

/// Reads one JSON text: numbers as integers and decimals (no exponents),
/// strings as byte ranges (no unescaping). Bad input is a precondition
/// failure: the benchmark generates its input.
struct JSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    @inline(__always)
    mutating func skipSpace() {
        while position < bytes.count, bytes[position] == 0x20 || bytes[position] == 0x0A { position += 1 }
    }

    @inline(__always)
    var byte: UInt8 { bytes[position] }

    mutating func expect(_ expected: UInt8) {
        skipSpace()
        precondition(bytes[position] == expected, "JSON: unexpected byte at \(position)")
        position += 1
    }

    /// The string's contents as a byte range; `position` at the opening quote.
    mutating func string() -> (start: Int32, end: Int32) {
        position += 1
        let start = position
        while bytes[position] != 0x22 { position += bytes[position] == 0x5C ? 2 : 1 }
        position += 1
        return (Int32(start), Int32(position - 1))
    }

    mutating func number() -> Double {
        var negative = false
        if bytes[position] == 0x2D { negative = true; position += 1 }
        var integer = 0
        while position < bytes.count, bytes[position] &- 0x30 < 10 {
            integer = integer &* 10 &+ Int(bytes[position] &- 0x30)
            position += 1
        }
        var value = Double(integer)
        if position < bytes.count, bytes[position] == 0x2E {
            position += 1
            var scale = 0.1
            while position < bytes.count, bytes[position] &- 0x30 < 10 {
                value += Double(bytes[position] &- 0x30) * scale
                scale *= 0.1
                position += 1
            }
        }
        return negative ? -value : value
    }

    /// `true`, `false` or `null`: its kind and value.
    mutating func literal() -> (JSONKind, Double) {
        switch bytes[position] {
        case 0x74: position += 4; return (.bool, 1)
        case 0x66: position += 5; return (.bool, 0)
        default: position += 4; return (.null, 0)
        }
    }
}

// MARK: The tree in an arena

struct ArenaJSONNode {
    var kind: JSONKind
    /// The member's key in an object (-1: none).
    var keyStart: Int32 = -1, keyEnd: Int32 = -1
    /// A number, or a bool as 0 / 1.
    var number: Double = 0
    /// A string's byte range.
    var start: Int32 = 0, end: Int32 = 0
    /// An array's or object's children, in one block of the arena.
    var children: UnsafeMutablePointer<ArenaJSONNode>? = nil
    var count = 0
}

/// Parses into nodes from `allocator` (generic: the client's code, run with
/// an `ArenaAllocator`). `stack` gathers children; it keeps its capacity
/// from one parse to the next.
struct ArenaJSONParser<A: Allocator> {
    var scanner: JSONScanner
    let allocator: A

    mutating func parse(stack: inout AllocVec<ArenaJSONNode, SystemAllocator>) -> ArenaJSONNode {
        value(stack: &stack)
    }

    mutating func value(stack: inout AllocVec<ArenaJSONNode, SystemAllocator>) -> ArenaJSONNode {
        scanner.skipSpace()
        switch scanner.byte {
        case 0x7B, 0x5B:
            let isObject = scanner.byte == 0x7B
            let close: UInt8 = isObject ? 0x7D : 0x5D
            scanner.position += 1
            let base = stack.count
            scanner.skipSpace()
            if scanner.byte == close {
                scanner.position += 1
            } else {
                while true {
                    var key: (start: Int32, end: Int32) = (-1, -1)
                    if isObject {
                        scanner.skipSpace()
                        key = scanner.string()
                        scanner.expect(0x3A)
                    }
                    var child = value(stack: &stack)
                    child.keyStart = key.start
                    child.keyEnd = key.end
                    try! stack.append(child)
                    scanner.skipSpace()
                    let separator = scanner.byte
                    scanner.position += 1
                    if separator == close { break }
                    precondition(separator == 0x2C, "JSON: expected , at \(scanner.position - 1)")
                }
            }
            let count = stack.count - base
            let block = try! allocator.allocate(try! Layout.array(of: ArenaJSONNode.self, count: count))
            let children = block.baseAddress!.bindMemory(to: ArenaJSONNode.self, capacity: count)
            stack.withUnsafeBufferPointer { gathered in
                children.initialize(from: gathered.baseAddress! + base, count: count)
            }
            stack.removeLast(count)
            return ArenaJSONNode(kind: isObject ? .object : .array, children: children, count: count)
        case 0x22:
            let range = scanner.string()
            return ArenaJSONNode(kind: .string, start: range.start, end: range.end)
        case 0x74, 0x66, 0x6E:
            let (kind, number) = scanner.literal()
            return ArenaJSONNode(kind: kind, number: number)
        default:
            return ArenaJSONNode(kind: .number, number: scanner.number())
        }
    }
}

/// Nodes, the sum of numbers and string lengths: what both trees must agree on.
struct JSONTotals: Equatable {
    var nodes = 0
    var sum = 0.0
}

func walk(_ node: ArenaJSONNode, _ totals: inout JSONTotals) {
    totals.nodes += 1
    totals.sum += node.number + Double(node.end - node.start) + Double(node.keyEnd - node.keyStart)
    var index = 0
    while index < node.count {
        walk(node.children![index], &totals)
        index += 1
    }
}

// MARK: The same tree on Swift Arrays

struct ArrayJSONNode {
    var kind: JSONKind
    var keyStart: Int32 = -1, keyEnd: Int32 = -1
    var number: Double = 0
    var start: Int32 = 0, end: Int32 = 0
    var children: [ArrayJSONNode] = []
}

/// The parser above with `[ArrayJSONNode]` where it has arena blocks.
struct ArrayJSONParser {
    var scanner: JSONScanner

    mutating func parse(stack: inout [ArrayJSONNode]) -> ArrayJSONNode {
        value(stack: &stack)
    }

    mutating func value(stack: inout [ArrayJSONNode]) -> ArrayJSONNode {
        scanner.skipSpace()
        switch scanner.byte {
        case 0x7B, 0x5B:
            let isObject = scanner.byte == 0x7B
            let close: UInt8 = isObject ? 0x7D : 0x5D
            scanner.position += 1
            let base = stack.count
            scanner.skipSpace()
            if scanner.byte == close {
                scanner.position += 1
            } else {
                while true {
                    var key: (start: Int32, end: Int32) = (-1, -1)
                    if isObject {
                        scanner.skipSpace()
                        key = scanner.string()
                        scanner.expect(0x3A)
                    }
                    var child = value(stack: &stack)
                    child.keyStart = key.start
                    child.keyEnd = key.end
                    stack.append(child)
                    scanner.skipSpace()
                    let separator = scanner.byte
                    scanner.position += 1
                    if separator == close { break }
                    precondition(separator == 0x2C, "JSON: expected , at \(scanner.position - 1)")
                }
            }
            let children = Array(stack[base...])
            stack.removeLast(stack.count - base)
            return ArrayJSONNode(kind: isObject ? .object : .array, children: children)
        case 0x22:
            let range = scanner.string()
            return ArrayJSONNode(kind: .string, start: range.start, end: range.end)
        case 0x74, 0x66, 0x6E:
            let (kind, number) = scanner.literal()
            return ArrayJSONNode(kind: kind, number: number)
        default:
            return ArrayJSONNode(kind: .number, number: scanner.number())
        }
    }
}

func walk(_ node: ArrayJSONNode, _ totals: inout JSONTotals) {
    totals.nodes += 1
    totals.sum += node.number + Double(node.end - node.start) + Double(node.keyEnd - node.keyStart)
    for child in node.children { walk(child, &totals) }
}

// MARK: Input

/// A JSON text of `records` objects, the same for every run: ids, names,
/// prices, flags, tag lists, small nested objects.
func makeJSONDocument(records: Int) -> [UInt8] {
    var text = "[\n"
    for index in 0..<records {
        if index > 0 { text += ",\n" }
        text += "{\"id\": \(index), \"name\": \"item\(index)\", \"price\": \(index % 997).\(index % 10)5, "
        text += "\"active\": \(index % 3 == 0 ? "true" : "false"), \"tags\": [\"a\(index % 7)\", \"b\", \"c\(index % 5)\"], "
        text += "\"dims\": [\(index % 13), \(index % 17).5, -\(index % 19)], "
        text += "\"owner\": {\"uid\": \(index * 7 % 1000), \"groups\": [1, 2, 3, null], \"note\": \"\"}}"
    }
    text += "\n]\n"
    return Array(text.utf8)
}
