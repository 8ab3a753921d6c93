// Benchmarks of the Swift allocator API (run by scripts/bench):
//  1. appending 10 million Ints: AllocVec<Int, ArenaAllocator> (a new arena
//     each run) against Array<Int>, neither reserving capacity;
//  2. allocating and freeing a million 64-byte nodes: ArenaAllocator (freed by
//     reset()) against SystemAllocator (freed one by one);
//  3. an allocator-generic loop written in this module (CrossModule.swift)
//     against the same loop compiled inside Swalloc (target: within 1.15×);
//  4. one JSON parser building its tree in an arena against the same parser
//     on Swift Arrays (JSONTrees.swift; target: at least 2× faster).
// Each measurement is the median of several runs, interleaved.
@_spi(Benchmarks) import Swalloc
#if canImport(Glibc)
import Glibc
#endif

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

@inline(never)
func consume<T>(_ value: T) { withExtendedLifetime(value) {} }

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }

// Everything in functions: top-level variables would be globals, with lazy
// initialisation and exclusivity checks on every access.
@inline(never)
func appendArray(_ count: Int) -> Double {
    let start = now()
    var array: [Int] = []
    for i in 0..<count { array.append(i) }
    consume(array.count)
    return now() - start
}

/// A fresh arena each time, so that it pays for new memory as Array does.
@inline(never)
func appendAllocVec(_ count: Int) -> Double {
    let start = now()
    do {
        let arena = ArenaAllocator()
        var vec = AllocVec<Int, ArenaAllocator>(allocator: arena)
        for i in 0..<count { try! vec.append(i) }
        consume(vec.count)
    }
    return now() - start
}

@inline(never)
func nodesInArena(_ count: Int, _ arena: ArenaAllocator, _ pointers: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Double {
    let layout = try! Layout(size: 64, alignment: 16)
    let start = now()
    for i in 0..<count { pointers[i] = try! arena.allocate(layout).baseAddress }
    arena.reset()
    return now() - start
}

@inline(never)
func nodesInSystem(_ count: Int, _ pointers: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Double {
    let layout = try! Layout(size: 64, alignment: 16)
    let system = SystemAllocator()
    let start = now()
    for i in 0..<count { pointers[i] = try! system.allocate(layout).baseAddress }
    for i in 0..<count { system.deallocate(pointers[i]!, layout: layout) }
    return now() - start
}

/// The same appends through the counting adapter: generic code of the
/// Swalloc module (CountingAllocator<ArenaAllocator>) run from this one.
@inline(never)
func appendCounted(_ count: Int) -> Double {
    let start = now()
    do {
        let counting = CountingAllocator(ArenaAllocator())
        var vec = AllocVec<Int, CountingAllocator<ArenaAllocator>>(allocator: counting)
        for i in 0..<count { try! vec.append(i) }
        consume(vec.count)
        consume(counting.counts.allocations)
    }
    return now() - start
}

/// 1M nodes through a FallbackAllocator<BumpAllocator, SystemAllocator>,
/// across modules: allocate, then free.
@inline(never)
func nodesThroughFallback(_ count: Int, _ pointers: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> Double {
    let layout = try! Layout(size: 64, alignment: 16)
    let fallback = FallbackAllocator(primary: BumpAllocator(capacity: 16 << 20), secondary: SystemAllocator())
    let start = now()
    for i in 0..<count { pointers[i] = try! fallback.allocate(layout).baseAddress }
    for i in 0..<count { fallback.deallocate(pointers[i]!, layout: layout) }
    return now() - start
}

@inline(never)
func crossModuleLoop(_ count: Int) -> (Double, Int) {
    let start = now()
    let total = clientGenericLoop(count: count, allocator: ArenaAllocator())
    return (now() - start, total)
}

@inline(never)
func inModuleLoop(_ count: Int) -> (Double, Int) {
    let start = now()
    let total = InModuleBenchmarks.arenaLoop(count: count)
    return (now() - start, total)
}

/// Parses `document` `times` times into an arena, walks each tree, and
/// drops it with reset().
@inline(never)
func parseIntoArena(_ document: UnsafeBufferPointer<UInt8>, times: Int, _ arena: ArenaAllocator,
                    _ stack: inout AllocVec<ArenaJSONNode, SystemAllocator>) -> (Double, JSONTotals) {
    var totals = JSONTotals()
    let start = now()
    for _ in 0..<times {
        var parser = ArenaJSONParser(scanner: JSONScanner(document), allocator: arena)
        let root = parser.parse(stack: &stack)
        totals = JSONTotals()
        walk(root, &totals)
        arena.reset()
    }
    return (now() - start, totals)
}

/// The same on Swift Arrays; the tree goes when `root` does.
@inline(never)
func parseIntoArrays(_ document: UnsafeBufferPointer<UInt8>, times: Int,
                     _ stack: inout [ArrayJSONNode]) -> (Double, JSONTotals) {
    var totals = JSONTotals()
    let start = now()
    for _ in 0..<times {
        var parser = ArrayJSONParser(scanner: JSONScanner(document))
        let root = parser.parse(stack: &stack)
        totals = JSONTotals()
        walk(root, &totals)
    }
    return (now() - start, totals)
}

let runs = CommandLine.arguments.contains("--quick") ? 3 : 7
let appends = 10_000_000
let nodes = 1_000_000
var arrayTimes: [Double] = [], vecTimes: [Double] = []
var arenaTimes: [Double] = [], systemTimes: [Double] = []
var countedTimes: [Double] = [], fallbackTimes: [Double] = []
let arena = ArenaAllocator()
let pointers = UnsafeMutablePointer<UnsafeMutableRawPointer?>.allocate(capacity: nodes)
var crossTimes: [Double] = [], inModuleTimes: [Double] = [], crossRatios: [Double] = []
var arenaParseTimes: [Double] = [], arrayParseTimes: [Double] = []
let loopCount = 10_000_000
let document = makeJSONDocument(records: 2_000)
let parses = 20
let parseArena = ArenaAllocator()
var arenaStack = AllocVec<ArenaJSONNode, SystemAllocator>(allocator: SystemAllocator())
var arrayStack: [ArrayJSONNode] = []
var parsedNodes = 0
// One untimed run of each first: the first loop of a process pays for the
// heap's first growth, which would land on whichever loop ran first.
_ = crossModuleLoop(loopCount)
_ = inModuleLoop(loopCount)
for run in 0..<runs {
    // Alternating the order, and the ratio taken run by run (paired), so
    // that neither loop always meets the machine's load first.
    let ((crossTime, crossTotal), (inTime, inTotal)) = run % 2 == 0
        ? (crossModuleLoop(loopCount), inModuleLoop(loopCount))
        : { let inside = inModuleLoop(loopCount); return (crossModuleLoop(loopCount), inside) }()
    precondition(crossTotal == inTotal, "the two loops disagree")
    crossTimes.append(crossTime)
    inModuleTimes.append(inTime)
    crossRatios.append(crossTime / inTime)
    document.withUnsafeBufferPointer { bytes in
        let (arenaTime, arenaTotals) = parseIntoArena(bytes, times: parses, parseArena, &arenaStack)
        let (arrayTime, arrayTotals) = parseIntoArrays(bytes, times: parses, &arrayStack)
        precondition(arenaTotals == arrayTotals, "the two trees disagree")
        parsedNodes = arenaTotals.nodes
        arenaParseTimes.append(arenaTime)
        arrayParseTimes.append(arrayTime)
    }
}
for _ in 0..<runs {
    arrayTimes.append(appendArray(appends))
    vecTimes.append(appendAllocVec(appends))
    arenaTimes.append(nodesInArena(nodes, arena, pointers))
    systemTimes.append(nodesInSystem(nodes, pointers))
    countedTimes.append(appendCounted(appends))
    fallbackTimes.append(nodesThroughFallback(nodes, pointers))
}

func ns(_ seconds: Double, _ count: Int) -> String {
    let value = seconds / Double(count) * 1e9
    return String(Int(value * 100) / 100) + "." + String(Int(value * 100) % 100 / 10) + String(Int(value * 100) % 10)
}
print("## Swift API, median of \(runs) runs")
print("append 10M Int: Array \(ns(median(arrayTimes), appends)) ns, AllocVec<Int, ArenaAllocator> \(ns(median(vecTimes), appends)) ns, ratio \(ns(median(vecTimes) / median(arrayTimes), 1_000_000_000))")
print("1M × 64-byte nodes, allocate + free: SystemAllocator \(ns(median(systemTimes), nodes)) ns, ArenaAllocator + reset() \(ns(median(arenaTimes), nodes)) ns, speed-up \(ns(median(systemTimes) / median(arenaTimes), 1_000_000_000))×")
print("append 10M Int through CountingAllocator<ArenaAllocator> (generic code of another module): \(ns(median(countedTimes), appends)) ns, \(ns(median(countedTimes) / median(vecTimes), 1_000_000_000))× the arena alone")
print("1M × 64-byte nodes through FallbackAllocator<BumpAllocator, SystemAllocator>: \(ns(median(fallbackTimes), nodes)) ns")
print("allocator-generic loop (10M appends, sum, 625k one-word blocks) on ArenaAllocator: in this module \(ns(median(crossTimes), loopCount)) ns, inside Swalloc \(ns(median(inModuleTimes), loopCount)) ns, paired ratio \(ns(median(crossRatios), 1_000_000_000)) (target ≤ 1.15)")
print("JSON parse + walk + drop, \(document.count / 1024) KiB, \(parsedNodes) nodes, \(parses) times: arena \(ns(median(arenaParseTimes) / Double(parses), 1_000)) µs, Swift Arrays \(ns(median(arrayParseTimes) / Double(parses), 1_000)) µs, speed-up \(ns(median(arrayParseTimes) / median(arenaParseTimes), 1_000_000_000))× (target ≥ 2)")
