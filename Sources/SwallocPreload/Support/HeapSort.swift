/// In-place heap sort over raw storage: n log n, no allocation (the
/// report sorts call sites and symbol tables with it).
enum HeapSort {
    /// Sorts `items[0..<count]` so that `precedes(a, b)` holds for every
    /// earlier `a` and later `b` it can decide.
    static func sort<T>(_ items: UnsafeMutablePointer<T>, count: Int, by precedes: (T, T) -> Bool) {
        // A heap whose root is the item that goes last.
        func sink(_ start: Int, _ end: Int) {
            var root = start
            while true {
                var child = 2 &* root &+ 1
                if child >= end { return }
                if child &+ 1 < end && precedes(items[child], items[child &+ 1]) { child &+= 1 }
                if !precedes(items[root], items[child]) { return }
                let swap = items[root]
                items[root] = items[child]
                items[child] = swap
                root = child
            }
        }
        var start = count / 2 &- 1
        while start >= 0 {
            sink(start, count)
            start &-= 1
        }
        var end = count &- 1
        while end > 0 {
            let swap = items[0]
            items[0] = items[end]
            items[end] = swap
            sink(0, end)
            end &-= 1
        }
    }
}
