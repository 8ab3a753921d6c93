import CSwallocPreload

/// `swalloc_set_global_allocator` (swalloc.h), exported by exports.c.
@c(swalloc_set_global_allocator_impl)
public func swallocSetGlobalAllocator(_ allocator: UnsafePointer<swalloc_global_allocator>?) -> Int32 {
    guard let allocator else {
        Diagnostics.line { $0.text("swalloc_set_global_allocator: NULL table; keeping the current allocator") }
        return -1
    }
    return answer(GlobalAllocatorRegistry.install(allocator), name: allocator.pointee.name)
}

/// `swalloc_set_global_allocator_v2` (swalloc.h), exported by exports.c.
@c(swalloc_set_global_allocator_v2_impl)
public func swallocSetGlobalAllocatorV2(_ allocator: UnsafePointer<swalloc_global_allocator_v2>?) -> Int32 {
    guard let allocator else {
        Diagnostics.line { $0.text("swalloc_set_global_allocator_v2: NULL table; keeping the current allocator") }
        return -1
    }
    let refusal = GlobalAllocatorRegistry.install(allocator)
    // The name is read only from a table long enough to hold it.
    let name = refusal == .incomplete ? nil : allocator.pointee.base.name
    return answer(refusal, name: name)
}

/// `swalloc_free_foreign` (swalloc.h), exported by exports.c: an address
/// a ``SWALLOC_FREES_FOREIGN`` allocator's `free` says is not its own goes
/// where it came from, as `free` sends it when the allocator says no.
@c(swalloc_free_foreign_impl)
public func swallocFreeForeign(_ pointer: UnsafeMutableRawPointer?) { MallocFamily.free(pointer) }

/// 0, or a line saying why the table was refused and -1.
func answer(_ refusal: GlobalAllocatorRegistry.Refusal?, name: UnsafePointer<CChar>?) -> Int32 {
    switch refusal {
    case nil:
        return 0
    case .tooLate:
        Diagnostics.line { out in
            out.text("swalloc_set_global_allocator(")
            out.text(cString: name, limit: 100)
            out.text("): called after the first allocation was served; keeping the current allocator")
        }
        return -1
    case .incomplete:
        Diagnostics.line { out in
            out.text("swalloc_set_global_allocator(")
            out.text(cString: name, limit: 100)
            out.text("): alloc and dealloc are required (and a version 2 table's size must cover them); keeping the current allocator")
        }
        return -1
    }
}
