import CSwallocPreload

/// Chooses the global allocator at start-up, while the bootstrap arena
/// serves every call (so loading a plug-in cannot recurse):
///
/// 1. `SWALLOC_ALLOCATOR=NAME`: a built-in (`system`, `bump`, `guard`), or
///    an established allocator from its Debian library (`jemalloc`,
///    `mimalloc`, `tcmalloc`: established_allocators.c);
/// 2. `SWALLOC_ALLOCATOR=/path/lib.so` (any value with a `/`): a plug-in,
///    `dlopen`ed with RTLD_NOW | RTLD_LOCAL, whose `swalloc_register` is
///    called; not in setuid programs;
/// 3. otherwise the program's own `swalloc_register`, if the process
///    exports one (as Rust's `#[global_allocator]` in the program itself);
/// 4. otherwise `system`.
///
/// A failure of 1 or 2 gets one `swalloc:` line and leaves `system`.
enum AllocatorChoice {
    typealias Register = @convention(c) () -> Void

    static func install(_ name: UnsafePointer<CChar>?) {
        installChoice(name)
        if !GlobalAllocatorRegistry.isSystem { followTheProgramsAllocator() }
    }

    /// With an allocator chosen, a program that links one of its own
    /// (redis-server's jemalloc) may still hand out blocks through that
    /// one's entry points (mallocx): blocks without a header, which free,
    /// realloc and malloc_usable_size then give to it, as under `system`.
    /// Such an allocator may also reuse a block the chosen one freed, so
    /// the freed tag proves nothing.
    static func followTheProgramsAllocator() {
        var table = swalloc_global_allocator()
        guard swalloc_next_allocator(&table) else { return }
        GlobalAllocatorRegistry.reachableWithoutTheLibrary = true
    }

    static func installChoice(_ name: UnsafePointer<CChar>?) {
        guard let name else {
            registerProgramsOwn()
            if GlobalAllocatorRegistry.isSystem { installNextIfForeign() }
            return
        }
        if CString.equals(name, "system") {
            installNextIfForeign()
            return
        }
        if CString.equals(name, "bump") {
            var table = BumpBuiltin.install()
            _ = GlobalAllocatorRegistry.install(&table)
            return
        }
        if CString.equals(name, "guard") {
            if GuardBelow.requested && !AllocationPolicy.isActive {
                var table = GuardBelow.install()
                _ = GlobalAllocatorRegistry.install(&table)
                return
            }
            if GuardBelow.requested {
                Diagnostics.line { out in
                    out.text("SWALLOC_GUARD=below: not with SWALLOC_LIMIT or SWALLOC_FAIL (they need the library's header); guarding above")
                }
            }
            var table = GuardBuiltin.install()
            _ = GlobalAllocatorRegistry.install(&table)
            return
        }
        if CString.contains(name, UInt8(ascii: "/")) {
            loadPlugin(name)
            return
        }
        var table = swalloc_global_allocator_v2()
        var problem: UnsafePointer<CChar>? = nil
        if swalloc_established_allocator(name, &table, &problem) {
            _ = GlobalAllocatorRegistry.install(&table)
            // jemalloc is in the global scope (preloaded): its mallocx too.
            GlobalAllocatorRegistry.reachableWithoutTheLibrary = CString.equals(name, "jemalloc")
            return
        }
        if let problem {
            Diagnostics.line { out in
                out.text("SWALLOC_ALLOCATOR=")
                out.escapedText(cString: name, limit: 100)
                out.text(": cannot use it (")
                out.escapedText(cString: problem, limit: 300)
                out.text("): Debian's libjemalloc2, libmimalloc2.0 and libtcmalloc-minimal4 provide them, ")
                out.text("and jemalloc must be in LD_PRELOAD after libswalloc.so and libstdc++.so.6, as swalloc run puts it; ")
                out.text("using system")
            }
            return
        }
        Diagnostics.badSetting(SettingsTable.allocator, value: name)
    }

    static func loadPlugin(_ path: UnsafePointer<CChar>) {
        if Startup.isSecure {
            Diagnostics.badSetting("SWALLOC_ALLOCATOR", value: path,
                                   problem: "plug-ins are not loaded by setuid or setgid programs", fallback: "system")
            return
        }
        // Its fork handlers, registered by its constructors or by
        // swalloc_register, run after every other prepare handler.
        swalloc_fork_handlers_of_plugin(path)
        defer { swalloc_fork_handlers_of_plugin(nil) }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror()
            Diagnostics.line { out in
                out.text("SWALLOC_ALLOCATOR=")
                out.escapedText(cString: path, limit: 300)
                out.text(": cannot load: ")
                out.text(cString: reason, limit: 300)
                out.text("; using system")
            }
            return
        }
        guard let symbol = dlsym(handle, "swalloc_register") else {
            Diagnostics.badSetting("SWALLOC_ALLOCATOR", value: path,
                                   problem: "the plug-in exports no swalloc_register", fallback: "system")
            _ = dlclose(handle)
            return
        }
        unsafeBitCast(symbol, to: Register.self)()
        if GlobalAllocatorRegistry.isSystem {
            Diagnostics.badSetting("SWALLOC_ALLOCATOR", value: path,
                                   problem: "swalloc_register installed no allocator", fallback: "system")
        }
        // The plug-in stays loaded for the life of the process.
    }

    /// `system` is the allocator the program would have had without the
    /// library: glibc's, or the next `malloc` in the lookup order when that
    /// is another's (redis-server links jemalloc). Every function then
    /// reaches that one (next_allocator.c), never glibc's for some.
    static func installNextIfForeign() {
        var table = swalloc_global_allocator()
        guard swalloc_next_allocator(&table) else { return }
        _ = GlobalAllocatorRegistry.install(&table)
        GlobalAllocatorRegistry.reachableWithoutTheLibrary = true
    }

    /// The program's own `swalloc_register`, found in the global scope: the
    /// executable exports it when it links libswalloc.so (which refers to
    /// the name weakly) or is linked with -rdynamic.
    static func registerProgramsOwn() {
        guard let symbol = dlsym(swalloc_rtld_default(), "swalloc_register") else { return }
        unsafeBitCast(symbol, to: Register.self)()
    }
}
