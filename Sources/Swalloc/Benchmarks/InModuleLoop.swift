// The loop of scripts/bench's cross-module benchmark, compiled inside this
// module: the baseline that allocator-generic code in a client's module
// (Sources/SwallocAPIBench/CrossModule.swift, the same body) must come
// within 1.15× of. Not API: reachable only with `@_spi(Benchmarks) import`.

/// Appends `count` Ints to an `AllocVec` on `allocator`, sums them, then
/// allocates, writes, reads and frees `count / 16` one-word blocks.
@inline(never)
func allocatorGenericLoop<A: Allocator>(count: Int, allocator: A) -> Int {
    var vec = AllocVec<Int, A>(allocator: allocator)
    for index in 0..<count { try! vec.append(index &* 3) }
    var total = 0
    for index in vec.indices { total &+= vec[index] }
    let word = Layout.of(Int.self)
    for index in 0..<count / 16 {
        let block = try! allocator.allocate(word)
        block.storeBytes(of: index, as: Int.self)
        total &+= block.load(as: Int.self)
        allocator.deallocate(block.baseAddress!, layout: word)
    }
    return total
}

@_spi(Benchmarks)
public enum InModuleBenchmarks {
    /// ``allocatorGenericLoop(count:allocator:)`` on a new `ArenaAllocator`,
    /// specialised here.
    @inline(never)
    public static func arenaLoop(count: Int) -> Int {
        allocatorGenericLoop(count: count, allocator: ArenaAllocator())
    }
}
