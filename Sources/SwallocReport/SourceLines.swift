import CLibdw
import Foundation

/// Source files, lines and inlined calls for a profile's frames, from each
/// module's DWARF (elfutils' libdwfl), at report time: the profile records
/// every frame's module and offset, and the exiting program does no more
/// than name functions (docs/profile-format.md). Separate debug
/// information is found as gdb finds it: by build-id under
/// /usr/lib/debug/.build-id, by .gnu_debuglink, in the standard paths.
///
/// A frame whose module has no line information (stripped, gone, another
/// machine's) stays as it was: function or module+offset.
public final class SourceLines {
    /// One module's DWARF session, or nil when it has none to offer.
    struct Module {
        let session: OpaquePointer        // Dwfl *
        let module: OpaquePointer         // Dwfl_Module *
        /// Where the profile's offsets start: the first loadable segment's
        /// page, moved by libdwfl's bias.
        let base: UInt64
    }

    /// What one return address stands for, innermost call first.
    struct Location {
        var function: String?
        var file: String?
        var line: Int?
    }

    var modules: [String: Module?] = [:]
    var cache: [String: [UInt64: [Location]]] = [:]
    /// The build-id each module had when the profile was written.
    var expectedBuildIDs: [String: String] = [:]
    /// Modules whose file is no longer the one that ran (its build-id
    /// differs): no lines are read from them.
    public private(set) var changedModules: Set<String> = []

    public init() {}

    deinit {
        for case let module? in modules.values { dwfl_end(module.session) }
    }

    /// The profile with every frame that DWARF can place given a file and
    /// line, and the calls inlined at it as frames of their own.
    public static func annotated(_ profile: Profile) -> Profile {
        annotatedReportingChanges(profile).profile
    }

    /// As ``annotated(_:)``, and the modules left without lines because
    /// their file changed since the run.
    public static func annotatedReportingChanges(_ profile: Profile) -> (profile: Profile, changed: [String]) {
        guard var sites = profile.sites else { return (profile, []) }
        let lines = SourceLines()
        for module in profile.modules ?? [] {
            if let buildID = module.buildId { lines.expectedBuildIDs[module.path] = buildID.lowercased() }
        }
        for index in sites.indices { sites[index].frames = lines.annotate(sites[index].frames) }
        var annotated = profile
        annotated.sites = sites
        return (annotated, lines.changedModules.sorted())
    }

    func annotate(_ frames: [Profile.Frame]) -> [Profile.Frame] {
        var result: [Profile.Frame] = []
        result.reserveCapacity(frames.count)
        for frame in frames {
            guard frame.file == nil, frame.inlined == nil, let path = frame.module, frame.offset > 0,
                  let locations = locate(path, offset: frame.offset), !locations.isEmpty else {
                var named = frame
                if named.function == nil, let path = frame.module, frame.offset > 0 {
                    named.function = symbol(path, offset: frame.offset)
                }
                result.append(named)
                continue
            }
            // Inlined calls first (innermost), then the real frame, which
            // keeps the name the library gave it (demangled, qualified).
            for location in locations.dropLast() {
                var inlined = frame
                inlined.function = location.function ?? frame.function
                inlined.file = location.file
                inlined.line = location.line
                inlined.inlined = true
                result.append(inlined)
            }
            var real = frame
            real.function = frame.function ?? locations.last!.function
            real.file = locations.last!.file
            real.line = locations.last!.line
            result.append(real)
        }
        return result
    }

    /// The locations of the call just before a return address at `offset`
    /// in `path`, innermost first; nil when the module has no lines there.
    func locate(_ path: String, offset: UInt64) -> [Location]? {
        if let cached = cache[path]?[offset] { return cached }
        guard let module = open(path) else { return nil }
        // The call instruction ends at the return address: look one byte
        // before it, inside the call.
        let address = module.base &+ offset &- 1
        let locations = Self.locations(module.module, address)
        cache[path, default: [:]][offset] = locations
        return locations
    }

    /// The symbol (from .symtab or the dynamic symbols) around the call
    /// before a return address: for frames the library did not name (a
    /// live profile's) in modules without line information.
    func symbol(_ path: String, offset: UInt64) -> String? {
        guard let module = open(path), let name = dwfl_module_addrname(module.module, module.base &+ offset &- 1) else {
            return nil
        }
        return String(cString: name)
    }

    func open(_ path: String) -> Module? {
        if let known = modules[path] { return known }
        var module: Module? = nil
        defer { modules[path] = module }
        // A regular file only: a profile names its modules, and one that
        // names a FIFO or a device must not make the report wait on it.
        guard FileManager.default.isReadableFile(atPath: path),
              (try? FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType) == .typeRegular,
              let session = dwfl_begin(swalloc_dwfl_offline_callbacks()) else { return nil }
        dwfl_report_begin(session)
        let reported = dwfl_report_offline(session, (path as NSString).lastPathComponent, path, -1)
        dwfl_report_end(session, nil, nil)
        // The file must be the one that ran, when the profile says which.
        if let reported, let expected = expectedBuildIDs[path] {
            var bits: UnsafePointer<UInt8>? = nil
            var address: GElf_Addr = 0
            let length = dwfl_module_build_id(reported, &bits, &address)
            let actual = length > 0 && bits != nil
                ? (0..<Int(length)).map { String(format: "%02x", bits![$0]) }.joined() : ""
            if actual != expected {
                changedModules.insert(path)
                dwfl_end(session)
                return nil
            }
        }
        var bias: Dwarf_Addr = 0
        guard let reported, let elf = dwfl_module_getelf(reported, &bias),
              let firstLoad = Self.firstLoadPage(elf) else {
            dwfl_end(session)
            return nil
        }
        module = Module(session: session, module: reported, base: firstLoad &+ bias)
        return module
    }

    /// The page of the first PT_LOAD segment's address: what the loader's
    /// base (dladdr's dli_fbase) corresponds to.
    static func firstLoadPage(_ elf: OpaquePointer) -> UInt64? {
        var count = 0
        guard elf_getphdrnum(elf, &count) == 0 else { return nil }
        for index in 0..<count {
            var header = GElf_Phdr()
            guard gelf_getphdr(elf, Int32(index), &header) != nil else { continue }
            if header.p_type == PT_LOAD { return header.p_vaddr & ~UInt64(4095) }
        }
        return nil
    }

    static func locations(_ module: OpaquePointer, _ address: Dwarf_Addr) -> [Location]? {
        guard let line = dwfl_module_getsrc(module, address) else { return nil }
        var lineNumber: Int32 = 0
        guard let file = dwfl_lineinfo(line, nil, &lineNumber, nil, nil, nil) else { return nil }
        var innermost = Location(function: nil, file: String(cString: file), line: Int(lineNumber))
        var result: [Location] = []
        // The scopes at the address, innermost first: inlined calls, then
        // the function they were inlined into.
        var bias: Dwarf_Addr = 0
        guard let unit = dwfl_module_addrdie(module, address, &bias) else { return [innermost] }
        var scopes: UnsafeMutablePointer<Dwarf_Die>? = nil
        let count = dwarf_getscopes(unit, address &- bias, &scopes)
        defer { free(scopes) }
        guard count > 0, let scopes else { return [innermost] }
        var files: OpaquePointer? = nil
        var fileCount = 0
        _ = dwarf_getsrcfiles(unit, &files, &fileCount)
        // Whether `innermost` is the call site of an inlined call, still to
        // be given to the function around it.
        var pendingCallSite = false
        for index in 0..<Int(count) {
            let tag = dwarf_tag(&scopes[index])
            guard tag == DW_TAG_inlined_subroutine || tag == DW_TAG_subprogram else { continue }
            innermost.function = name(&scopes[index])
            result.append(innermost)
            pendingCallSite = false
            guard tag == DW_TAG_inlined_subroutine else { break }
            pendingCallSite = true
            // The enclosing function called this one at DW_AT_call_file:line.
            innermost = Location(function: nil, file: nil, line: nil)
            var attribute = Dwarf_Attribute()
            var value: Dwarf_Word = 0
            if dwarf_attr(&scopes[index], UInt32(DW_AT_call_file), &attribute) != nil,
               dwarf_formudata(&attribute, &value) == 0, let files, value < fileCount,
               let name = dwarf_filesrc(files, Int(value), nil, nil) {
                innermost.file = String(cString: name)
            }
            if dwarf_attr(&scopes[index], UInt32(DW_AT_call_line), &attribute) != nil,
               dwarf_formudata(&attribute, &value) == 0 {
                innermost.line = Int(value)
            }
        }
        // The scopes may end at the unit without the function the last
        // inlined call sits in (a split or cloned function): that function
        // is the real frame's, at the call site.
        if pendingCallSite { result.append(innermost) }
        return result.isEmpty ? [innermost] : result
    }

    /// A function's name, through its abstract origin for an inlined copy.
    static func name(_ die: UnsafeMutablePointer<Dwarf_Die>) -> String? {
        var attribute = Dwarf_Attribute()
        guard dwarf_attr_integrate(die, UInt32(DW_AT_name), &attribute) != nil,
              let text = dwarf_formstring(&attribute) else { return nil }
        return String(cString: text)
    }
}
