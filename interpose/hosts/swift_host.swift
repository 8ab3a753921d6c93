// swift_host — a Swift program (dynamic Swift runtime) under the interposer:
// arrays, dictionaries, strings, classes and tasks all allocate.
final class Node {
    let value: Int
    var children: [Node] = []
    init(_ value: Int) { self.value = value }
}

func build(_ depth: Int) -> Node {
    let node = Node(depth)
    if depth > 0 { node.children = (0..<3).map { _ in build(depth - 1) } }
    return node
}

func count(_ node: Node) -> Int { 1 + node.children.reduce(0) { $0 + count($1) } }

var words: [String: Int] = [:]
for i in 0..<20000 { words["word\(i % 997)", default: 0] += i }
let tree = build(7)
var joined = ""
for i in 0..<1000 { joined += String(i) }
let total = await withTaskGroup(of: Int.self) { group in
    for i in 0..<8 { group.addTask { (0..<1000).map { $0 * i }.reduce(0, +) } }
    return await group.reduce(0, +)
}
print("words=\(words.count) nodes=\(count(tree)) joined=\(joined.count) tasks=\(total)")
