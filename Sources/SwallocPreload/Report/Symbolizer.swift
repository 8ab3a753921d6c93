import CSwallocPreload

/// Turns return addresses into (function, module, offset) at exit, never
/// on the hot path.
///
/// - `dladdr` names the module and its base, and the nearest dynamic symbol.
/// - The module's ELF `.symtab`, read from its file (mapped read-only, no
///   malloc), names static functions and the functions of programs built
///   without `-rdynamic`, which export nothing: a symbol there wins when it
///   contains the address. The main program's file is /proc/self/exe.
/// - C++ names go through the host's `__cxa_demangle` and Swift names
///   through its `swift_demangle`, when the process had them at start-up
///   (found with `dlsym` then; they allocate, which is the library's own
///   work here).
///
/// A frame's `offset` is its address minus the module's load base, what
/// `addr2line -e MODULE` takes.
enum Symbolizer {
    struct Module {
        var base: UInt
        var mapping: UnsafeMutableRawPointer?
        var mappingBytes: Int
        /// The module's function symbols, sorted by start address.
        var functions: UnsafeMutablePointer<FunctionSymbol>?
        var functionCount: Int
        var strings: UnsafePointer<CChar>?
        var isExecutable: Bool
    }

    struct FunctionSymbol {
        var start: UInt
        var end: UInt
        var name: UInt32
    }

    static let moduleCapacity = 128
    nonisolated(unsafe) static var modules: UnsafeMutablePointer<Module>? = nil
    nonisolated(unsafe) static var moduleCount = 0
    nonisolated(unsafe) static var mainBase: UInt = 0
    nonisolated(unsafe) static var cxaDemangle: UnsafeMutableRawPointer? = nil
    nonisolated(unsafe) static var swiftDemangle: UnsafeMutableRawPointer? = nil

    /// Call once before symbolizing (inside the reentrancy guard).
    static func prepare() {
        prepareModuleTable()
        var info = Dl_info()
        if let entry = UnsafeRawPointer(bitPattern: UInt(getauxval(UInt(AT_ENTRY)))),
           dladdr(entry, &info) != 0 {
            mainBase = UInt(bitPattern: info.dli_fbase)
        }
    }

    /// The table of modules read so far, mapped once: by ``prepare()`` at
    /// exit, or by a guard fault's line (``FaultFrames``), which must not
    /// call `dladdr`.
    static func prepareModuleTable() {
        guard modules == nil else { return }
        modules = swalloc_map_anonymous(moduleCapacity &* MemoryLayout<Module>.stride)?
            .assumingMemoryBound(to: Module.self)
    }

    /// Finds the process's demanglers, at start-up: a failed `dlsym`
    /// allocates its error message, and the exit report must not allocate
    /// where it can help it (it may run in a child forked by a signal
    /// handler that interrupted glibc's malloc).
    static func findDemanglers() {
        cxaDemangle = dlsym(swalloc_rtld_default(), "__cxa_demangle")
        swiftDemangle = dlsym(swalloc_rtld_default(), "swift_demangle")
    }

    /// Unmaps the modules' files.
    static func finish() {
        AddressCache.release()
        guard let modules else { return }
        for index in 0..<moduleCount {
            if let mapping = modules[index].mapping { _ = swalloc_unmap(mapping, modules[index].mappingBytes) }
            if let functions = modules[index].functions {
                _ = swalloc_unmap(UnsafeMutableRawPointer(functions), max(modules[index].functionCount, 1) &* MemoryLayout<FunctionSymbol>.stride)
            }
        }
        _ = swalloc_unmap(UnsafeMutableRawPointer(modules), moduleCapacity &* MemoryLayout<Module>.stride)
        self.modules = nil
        moduleCount = 0
    }

    struct Frame {
        var function: UnsafePointer<CChar>?
        var module: UnsafePointer<CChar>?
        var offset: UInt
        /// The module is the main program (its name: /proc/self/exe).
        var isMain: Bool
    }

    /// `symbolize`, once per address, demangled: what the sites print.
    static func describe(_ address: UnsafeMutableRawPointer) -> AddressCache.Entry {
        if let cached = AddressCache.find(address) { return cached }
        let frame = symbolize(address)
        var name = frame.function
        var owned = false
        if let function = frame.function, let demangled = demangle(function) {
            name = UnsafePointer(demangled)
            owned = true
        }
        let entry = AddressCache.Entry(address: UInt(bitPattern: address), name: name, module: frame.module,
                                       offset: frame.offset, isMain: frame.isMain, ownsName: owned)
        // Beyond the cache's 49,152 addresses an entry is not kept, and its
        // demangled name is not freed: the process is exiting.
        _ = AddressCache.insert(entry)
        return entry
    }

    static func symbolize(_ address: UnsafeMutableRawPointer) -> Frame {
        // A return address points after the call: look up the call itself.
        let lookup = address - 1
        var info = Dl_info()
        guard dladdr(lookup, &info) != 0, let base = info.dli_fbase else {
            return Frame(function: nil, module: nil, offset: UInt(bitPattern: address), isMain: false)
        }
        let baseAddress = UInt(bitPattern: base)
        let isMain = baseAddress == mainBase
        var function: UnsafePointer<CChar>? = nil
        if let module = module(base: baseAddress, path: isMain ? nil : info.dli_fname) {
            function = lookupSymbol(module, UInt(bitPattern: lookup))
        }
        if function == nil, let name = info.dli_sname { function = name }
        return Frame(function: function, module: info.dli_fname, offset: UInt(bitPattern: address) &- baseAddress,
                     isMain: isMain)
    }

    /// The module loaded at `base`, its symbol table read on first use.
    static func module(base: UInt, path: UnsafePointer<CChar>?) -> UnsafeMutablePointer<Module>? {
        guard let modules else { return nil }
        for index in 0..<moduleCount where modules[index].base == base { return modules + index }
        guard moduleCount < moduleCapacity else { return nil }
        var module = Module(base: base, mapping: nil, mappingBytes: 0, functions: nil, functionCount: 0,
                            strings: nil, isExecutable: false)
        load(&module, path: path ?? CString.pointer("/proc/self/exe"))
        modules[moduleCount] = module
        moduleCount &+= 1
        return modules + (moduleCount &- 1)
    }

    /// Reads the module's `.symtab`. Every offset, size and index in the
    /// file is checked against the file's size before it is used (a module
    /// with malformed section headers, which the loader never reads, is
    /// given up on, not trusted), and a string table is used only if it
    /// ends with a NUL, so that every name inside it ends inside it too.
    static func load(_ module: inout Module, path: UnsafePointer<CChar>) {
        let fd = swalloc_open_read(path)
        guard fd >= 0 else { return }
        defer { _ = close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, status.st_size > Int(MemoryLayout<Elf64_Ehdr>.size) else { return }
        let bytes = Int(status.st_size)
        let raw = mmap(nil, bytes, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let mapping = raw, mapping != UnsafeMutableRawPointer(bitPattern: -1) else { return }
        module.mapping = mapping
        module.mappingBytes = bytes
        let file = ELFFile(base: UnsafeRawPointer(mapping), bytes: UInt64(bytes))
        // SAFETY: the file is longer than an ELF header (checked above).
        let header = mapping.load(as: Elf64_Ehdr.self)
        // "\x7fELF", 64-bit, little-endian.
        guard header.e_ident.0 == 0x7F, header.e_ident.1 == 0x45, header.e_ident.2 == 0x4C, header.e_ident.3 == 0x46,
              header.e_ident.4 == 2, header.e_shentsize == UInt16(MemoryLayout<Elf64_Shdr>.size),
              let sections = file.array(of: Elf64_Shdr.self, at: header.e_shoff, count: UInt64(header.e_shnum))
        else { return }
        module.isExecutable = header.e_type == UInt16(ET_EXEC)
        // The full table, or for a stripped file (Debian's libc) its
        // dynamic one: dladdr has it at exit, a fault line has only this.
        let kind = (0..<Int(header.e_shnum)).contains { sections[$0].sh_type == UInt32(SHT_SYMTAB) }
            ? UInt32(SHT_SYMTAB) : UInt32(SHT_DYNSYM)
        for index in 0..<Int(header.e_shnum) where sections[index].sh_type == kind {
            let table = sections[index]
            guard table.sh_link < UInt32(header.e_shnum) else { return }
            let stringTable = sections[Int(table.sh_link)]
            let symbolCount = table.sh_size / UInt64(MemoryLayout<Elf64_Sym>.size)
            guard let symbols = file.array(of: Elf64_Sym.self, at: table.sh_offset, count: symbolCount),
                  stringTable.sh_size > 0,
                  let strings = file.array(of: CChar.self, at: stringTable.sh_offset, count: stringTable.sh_size),
                  strings[Int(stringTable.sh_size) &- 1] == 0 else { return }
            module.strings = strings
            indexFunctions(&module, symbols, Int(symbolCount), stringBytes: stringTable.sh_size)
            return
        }
    }

    /// Collects the function symbols and sorts them by address, once per
    /// module, for binary search. A symbol whose name lies outside the
    /// string table is left out.
    static func indexFunctions(_ module: inout Module, _ symbols: UnsafePointer<Elf64_Sym>, _ count: Int,
                               stringBytes: UInt64) {
        guard let memory = swalloc_map_anonymous(max(count, 1) &* MemoryLayout<FunctionSymbol>.stride) else { return }
        let functions = memory.assumingMemoryBound(to: FunctionSymbol.self)
        var found = 0
        for index in 0..<count {
            let symbol = symbols[index]
            guard symbol.st_info & 0xF == UInt8(STT_FUNC), symbol.st_size > 0,
                  UInt64(symbol.st_name) < stringBytes else { continue }
            functions[found] = FunctionSymbol(start: UInt(symbol.st_value), end: UInt(symbol.st_value) &+ UInt(symbol.st_size),
                                              name: symbol.st_name)
            found &+= 1
        }
        HeapSort.sort(functions, count: found) { $0.start < $1.start }
        module.functions = functions
        module.functionCount = found
    }

    /// The function symbol of the module's .symtab that contains `address`:
    /// the last one starting at or below it, if it reaches that far (and
    /// the few before it, for nested or aliased symbols).
    static func lookupSymbol(_ module: UnsafeMutablePointer<Module>, _ address: UInt) -> UnsafePointer<CChar>? {
        guard let functions = module.pointee.functions, let strings = module.pointee.strings else { return nil }
        let target = module.pointee.isExecutable ? address : address &- module.pointee.base
        var low = 0
        var high = module.pointee.functionCount
        while low < high {
            let middle = (low &+ high) / 2
            if functions[middle].start <= target { low = middle &+ 1 } else { high = middle }
        }
        var index = low &- 1
        var checked = 0
        while index >= 0 && checked < 8 {
            if target < functions[index].end { return strings + Int(functions[index].name) }
            index &-= 1
            checked &+= 1
        }
        return nil
    }

    typealias CxaDemangle = @convention(c) (UnsafePointer<CChar>?, UnsafeMutablePointer<CChar>?,
                                            UnsafeMutablePointer<Int>?, UnsafeMutablePointer<Int32>?) -> UnsafeMutablePointer<CChar>?
    typealias SwiftDemangle = @convention(c) (UnsafePointer<CChar>?, Int, UnsafeMutablePointer<CChar>?,
                                              UnsafeMutablePointer<Int>?, UInt32) -> UnsafeMutablePointer<CChar>?

    /// A demangled copy of a C++ or Swift name (free it with free()), or nil.
    static func demangle(_ name: UnsafePointer<CChar>) -> UnsafeMutablePointer<CChar>? {
        if name[0] == 0x5F, name[1] == 0x5A, let function = cxaDemangle { // _Z
            var status: Int32 = 0
            return unsafeBitCast(function, to: CxaDemangle.self)(name, nil, nil, &status)
        }
        let isSwift = (name[0] == 0x24 && (name[1] == 0x73 || name[1] == 0x53))          // $s $S
            || (name[0] == 0x5F && name[1] == 0x24 && (name[2] == 0x73 || name[2] == 0x53)) // _$s
        if isSwift, let function = swiftDemangle {
            return unsafeBitCast(function, to: SwiftDemangle.self)(name, CString.length(name), nil, nil, 0)
        }
        return nil
    }
}
