import CSwallocPreload

/// Arithmetic on `swalloc_counters`.
enum Counters {
    static func add(_ source: UnsafeMutablePointer<swalloc_counters>,
                    into target: UnsafeMutablePointer<swalloc_counters>) {
        target.pointee.malloc_calls &+= source.pointee.malloc_calls
        target.pointee.calloc_calls &+= source.pointee.calloc_calls
        target.pointee.realloc_calls &+= source.pointee.realloc_calls
        target.pointee.free_calls &+= source.pointee.free_calls
        target.pointee.aligned_calls &+= source.pointee.aligned_calls
        target.pointee.failed_calls &+= source.pointee.failed_calls
        target.pointee.blocks_freed &+= source.pointee.blocks_freed
        target.pointee.bytes_allocated &+= source.pointee.bytes_allocated
        target.pointee.bytes_freed &+= source.pointee.bytes_freed
        let from = swalloc_histogram(source)
        let to = swalloc_histogram(target)
        for bucket in 0..<Int(SWALLOC_HISTOGRAM_BUCKETS) {
            to[bucket] &+= from[bucket]
        }
    }

    /// Calls that ask for a block: malloc, calloc, realloc, the aligned family.
    static func allocationCalls(_ counters: swalloc_counters) -> UInt64 {
        counters.malloc_calls &+ counters.calloc_calls &+ counters.realloc_calls &+ counters.aligned_calls
    }

    /// Blocks allocated: every successful allocation is in the histogram.
    static func blocksAllocated(_ counters: UnsafeMutablePointer<swalloc_counters>) -> UInt64 {
        let histogram = swalloc_histogram(counters)
        var total: UInt64 = 0
        for bucket in 0..<Int(SWALLOC_HISTOGRAM_BUCKETS) { total &+= histogram[bucket] }
        return total
    }
}
