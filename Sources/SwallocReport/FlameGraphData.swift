/// The flame graphs' data for the HTML page: the sites' stacks merged into
/// a tree (outermost frame at the root), as JSON safe to embed in a
/// `<script>` element.
///
/// Built without recursion and without copying stacks, so time and memory
/// are linear in the number of frames however deep a stack is; the JSON
/// escapes `<`, `>` and `&` inside strings (as `\u003c`…), so no name can
/// close the element or open a comment in it.
struct FlameGraphData {
    struct Key: Hashable {
        var parent: Int
        var name: String
    }

    /// Node 0 is the root, "all".
    private(set) var names = ["all"]
    /// Each node's source line (`file:line`, the first one seen), "" when
    /// its frames have none: the page's tooltips.
    private(set) var locations = [""]
    private(set) var values: [UInt64] = [0]
    private(set) var children: [[Int]] = [[]]
    private var index: [Key: Int] = [:]

    init(_ profile: Profile, metric: SiteReport.Metric) {
        for site in profile.sites ?? [] {
            let value = metric.value(site)
            guard value > 0 else { continue }
            values[0] = values[0].cappedAdding(value)
            var node = 0
            for frame in site.frames.reversed() {
                node = child(of: node, named: SiteReport.name(frame))
                if locations[node].isEmpty, let file = frame.file, let line = frame.line {
                    locations[node] = "\(file.split(separator: "/").last.map(String.init) ?? file):\(line)"
                }
                values[node] = values[node].cappedAdding(value)
            }
        }
        for node in children.indices {
            // Largest first; equal values by name.
            children[node].sort { values[$0] != values[$1] ? values[$0] > values[$1] : names[$0] < names[$1] }
        }
    }

    private mutating func child(of parent: Int, named name: String) -> Int {
        let key = Key(parent: parent, name: name)
        if let existing = index[key] { return existing }
        let node = names.count
        names.append(name)
        locations.append("")
        values.append(0)
        children.append([])
        children[parent].append(node)
        index[key] = node
        return node
    }

    /// `{"name":…,"value":…,"children":[…]}`, nested, written depth-first
    /// with a stack of its own.
    func json() -> String {
        var out = ""
        var stack: [(node: Int, next: Int)] = [(0, 0)]
        out += open(0)
        while let top = stack.last {
            let kids = children[top.node]
            if top.next < kids.count {
                stack[stack.count - 1].next += 1
                if top.next > 0 { out += "," }
                out += open(kids[top.next])
                stack.append((kids[top.next], 0))
            } else {
                out += "]}"
                stack.removeLast()
            }
        }
        return out
    }

    private func open(_ node: Int) -> String {
        "{\"name\":" + Self.quoted(names[node]) + (locations[node].isEmpty ? "" : ",\"at\":" + Self.quoted(locations[node]))
            + ",\"value\":\(values[node]),\"children\":["
    }

    /// A JSON string literal with every character that matters to HTML or
    /// to JavaScript source escaped.
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                out += "\\u" + TerminalText.hex(scalar.value, digits: 4).lowercased()
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    out += "\\u" + TerminalText.hex(scalar.value, digits: 4).lowercased()
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
