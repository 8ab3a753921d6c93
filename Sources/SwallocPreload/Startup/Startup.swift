import CSwallocPreload

/// The library's constructor, run by the dynamic loader after libc's and
/// before the program's own. Until it fixes the serving mode, the
/// bootstrap arena serves every call, so nothing here can recurse.
/// (Left out of the unit-test harness, which calls the library's logic
/// directly and must not start it: scripts/build, Tests/PreloadUnitTests.)
#if !SWALLOC_UNIT_TESTS
@section(".init_array") @used
let swallocConstructor: @convention(c) () -> Void = { Startup.run() }
#endif

/// The exit report runs from `.fini_array`: after the program's `atexit`
/// handlers and C++ static destructors, and after the destructors of the
/// libraries initialised after this one, so that their frees are counted.
@section(".fini_array") @used
let swallocDestructor: @convention(c) () -> Void = { Report.atExit() }

enum Startup {
    /// glibc's malloc debugging (MALLOC_CHECK_, mtrace, mcheck, the old
    /// hooks) lives in libc_malloc_debug.so, which works by being the
    /// process's malloc. Preloaded after this library under `system`, it is
    /// the allocator (next_allocator.c) and sees every block. With another
    /// allocator chosen its checks see nothing, which is said once rather
    /// than leave the user believing they ran; its hooks are asked first
    /// by the library's own family (debug_hooks.c), once the mode's entries
    /// are in.
    /// It is loaded by LD_PRELOAD (as glibc documents): read there, since a
    /// failed dlopen(RTLD_NOLOAD) costs every exec a lookup and a dlerror
    /// message.
    static func adaptToMallocDebug() {
        guard let preload = getenv("LD_PRELOAD"), strstr(preload, "libc_malloc_debug") != nil else { return }
        if GlobalAllocatorRegistry.isSystem { return }
        if let name = GlobalAllocatorRegistry.name, strstr(name, "libc_malloc_debug") != nil { return }
        let hooked = swalloc_debug_hooks_install()
        Diagnostics.line { out in
            out.text("libc_malloc_debug.so is loaded, but its checks (MALLOC_CHECK_, mtrace, mcheck) ")
            out.text(hooked ? "see at most the first allocation" : "see no allocation")
            out.text(": libswalloc.so serves malloc in front of it")
            if hooked { out.text(" (its hooks are called)") }
        }
    }

    /// Settings in force, for the report.
    nonisolated(unsafe) static var settings = Settings()
    /// `AT_SECURE`: a setuid or setgid program. No plug-in is loaded and no
    /// file is written.
    nonisolated(unsafe) static var isSecure = false

    static func run() {
        guard servingMode == .starting else { return }
        isSecure = getauxval(UInt(AT_SECURE)) != 0
        swalloc_process_ptr().pointee.parent_pid = getppid()
        swalloc_stderr_remember()
        swalloc_resolve_exit()
        settings = Settings.read()
        GlibcMalloc.resolve()
        let page = Int(getauxval(UInt(AT_PAGESZ)))
        if page > 0 { MallocFamily.pageSize = page }

        GlobalAllocatorRegistry.isOpen = true
        AllocatorChoice.install(settings.allocatorName)
        GlobalAllocatorRegistry.isOpen = false

        statisticsEnabled = settings.statistics != .off
        swalloc_exit_report_expected = statisticsEnabled
        if statisticsEnabled {
            ThreadRegistry.start()
            Timeline.start()
            Sampler.start()
            GuardSampling.start()
            if settings.statistics == .json || settings.summaryWithProfile, let template = settings.outputPath,
               !isSecure {
                LiveProfile.open(template: template, sampling: Sampler.enabled)
            }
        }
        // From here on every new block gets the mode's shape.
        let mode: ServingMode
        if !GlobalAllocatorRegistry.isSystem && !statisticsEnabled && !AllocationPolicy.isActive {
            mode = EstablishedDirectMode.isAvailable && swalloc_direct_family_is_safe() ? .establishedDirect
                : GlobalAllocatorRegistry.knowsItsBlocks ? .headerFree : .registered
        } else if !GlobalAllocatorRegistry.isSystem || AllocationPolicy.isActive {
            mode = .general
        } else {
            mode = statisticsEnabled ? .counting : .direct
        }
        TrailerBlock.inUse = mode == .counting || (mode == .general && GlobalAllocatorRegistry.isSystem)
        swalloc_set_direct_free_range(mode == .direct || mode == .establishedDirect)
        mode.installEntries()
        servingMode = mode
        adaptToMallocDebug()
        // Direct mode takes no lock of the library's.
        if mode != .direct { swalloc_install_fork_handler() }
    }
}
