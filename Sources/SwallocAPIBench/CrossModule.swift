import Swalloc

/// The body of Swalloc's `allocatorGenericLoop` (Sources/Swalloc/Benchmarks/
/// InModuleLoop.swift), written again in this module, as a client writes
/// allocator-generic code: it runs at full speed only if every API it
/// touches can be specialised here.
@inline(never)
func clientGenericLoop<A: Allocator>(count: Int, allocator: A) -> Int {
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
