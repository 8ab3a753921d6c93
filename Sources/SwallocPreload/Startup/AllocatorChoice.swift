import CSwallocPreload

/// Chooses the global allocator from `SWALLOC_ALLOCATOR`.
enum AllocatorChoice {
    static func install(_ name: UnsafePointer<CChar>?) {
        guard let name else { return }
        if CString.equals(name, "system") { return }
        Diagnostics.badSetting("SWALLOC_ALLOCATOR", value: name,
                               problem: "no such allocator (built-in: system)",
                               fallback: "system")
    }
}
