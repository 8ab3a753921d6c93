// Parses arithmetic expressions into trees whose nodes live in an arena,
// evaluates them, and drops each batch of trees in one step with reset().
import Swalloc

/// A node of the tree. Children are pointers into the same arena: they
/// live exactly as long as the arena's current batch.
struct Node {
    enum Kind { case number, add, subtract, multiply, divide }
    var kind: Kind
    var value: Double
    var left: UnsafeMutablePointer<Node>?
    var right: UnsafeMutablePointer<Node>?
}

enum ParseError: Error {
    case unexpected(Character?)
    case outOfMemory(AllocError)
}

/// A recursive-descent parser for + - * / ( ) and numbers, allocating
/// every node from `allocator`.
struct Parser<A: Allocator> {
    let allocator: A
    var characters: [Character]
    var position = 0

    init(_ text: String, allocator: A) {
        self.allocator = allocator
        self.characters = Array(text.filter { $0 != " " })
    }

    func node(_ kind: Node.Kind, _ value: Double = 0,
              _ left: UnsafeMutablePointer<Node>? = nil, _ right: UnsafeMutablePointer<Node>? = nil)
        throws(ParseError) -> UnsafeMutablePointer<Node> {
        let block: UnsafeMutableRawBufferPointer
        do {
            block = try allocator.allocate(Layout.of(Node.self))
        } catch {
            throw .outOfMemory(error)
        }
        let pointer = block.baseAddress!.bindMemory(to: Node.self, capacity: 1)
        pointer.initialize(to: Node(kind: kind, value: value, left: left, right: right))
        return pointer
    }

    var current: Character? { position < characters.count ? characters[position] : nil }

    mutating func expression() throws(ParseError) -> UnsafeMutablePointer<Node> {
        var left = try term()
        while let c = current, c == "+" || c == "-" {
            position += 1
            left = try node(c == "+" ? .add : .subtract, 0, left, try term())
        }
        return left
    }

    mutating func term() throws(ParseError) -> UnsafeMutablePointer<Node> {
        var left = try factor()
        while let c = current, c == "*" || c == "/" {
            position += 1
            left = try node(c == "*" ? .multiply : .divide, 0, left, try factor())
        }
        return left
    }

    mutating func factor() throws(ParseError) -> UnsafeMutablePointer<Node> {
        if current == "(" {
            position += 1
            let inner = try expression()
            guard current == ")" else { throw .unexpected(current) }
            position += 1
            return inner
        }
        var digits = ""
        while let c = current, c.isNumber || c == "." {
            digits.append(c)
            position += 1
        }
        guard let value = Double(digits) else { throw .unexpected(current) }
        return try node(.number, value)
    }
}

func evaluate(_ node: UnsafePointer<Node>) -> Double {
    switch node.pointee.kind {
    case .number: return node.pointee.value
    case .add: return evaluate(node.pointee.left!) + evaluate(node.pointee.right!)
    case .subtract: return evaluate(node.pointee.left!) - evaluate(node.pointee.right!)
    case .multiply: return evaluate(node.pointee.left!) * evaluate(node.pointee.right!)
    case .divide: return evaluate(node.pointee.left!) / evaluate(node.pointee.right!)
    }
}

// One arena for every batch; a counting wrapper shows what the parser asked for.
let arena = ArenaAllocator()
let counting = CountingAllocator(arena)
let expressions = ["1 + 2 * 3", "(1 + 2) * 3", "10 / 4 - 0.5", "2 * (3 + 4) * (5 - 1)"]
var total = 0.0
for batch in 0..<100 {
    // The results of a batch go in an AllocVec from the same arena.
    var results = AllocVec<Double, CountingAllocator<ArenaAllocator>>(allocator: counting)
    for _ in 0..<1000 {
        for text in expressions {
            var parser = Parser(text, allocator: counting)
            do {
                try results.append(evaluate(try parser.expression()))
            } catch {
                print("error: \(error)")
            }
        }
    }
    if batch == 0 {
        print("first batch: \(results.count) results, first four \(Array(results.array.prefix(4)))")
    }
    results.forEach { total += $0 }
    _ = consume results
    // Every tree of the batch goes at once.
    arena.reset()
}
let counts = counting.counts
print("total \(total)")
print("allocations \(counts.allocations), deallocations \(counts.deallocations), grows \(counts.grows)")
print("arena chunks kept after reset: \(arena.chunkCount)")
