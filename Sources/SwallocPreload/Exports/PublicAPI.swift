import CSwallocPreload

/// `swalloc_set_global_allocator` (swalloc.h), exported by exports.c.
@c(swalloc_set_global_allocator_impl)
public func swallocSetGlobalAllocator(_ allocator: UnsafePointer<swalloc_global_allocator>?) -> Int32 {
    guard let allocator else {
        Diagnostics.line { $0.text("swalloc_set_global_allocator: NULL table; keeping the current allocator") }
        return -1
    }
    switch GlobalAllocatorRegistry.install(allocator) {
    case nil:
        return 0
    case .tooLate:
        Diagnostics.line { out in
            out.text("swalloc_set_global_allocator(")
            out.text(cString: allocator.pointee.name, limit: 100)
            out.text("): called after the first allocation was served; keeping the current allocator")
        }
        return -1
    case .incomplete:
        Diagnostics.line { out in
            out.text("swalloc_set_global_allocator(")
            out.text(cString: allocator.pointee.name, limit: 100)
            out.text("): alloc and dealloc are required; keeping the current allocator")
        }
        return -1
    }
}
