import CZlib
import Foundation
import SwiftProtobuf

/// A profile's call sites as a pprof profile: gzip-compressed protobuf
/// (perftools.profiles.Profile), read by `go tool pprof`, Pyroscope, Parca.
///
/// Sample types are Go's heap-profile names, so `-sample_index` works as
/// pprof users expect: `alloc_objects` and `alloc_space` (what each site
/// allocated), `inuse_objects` and `inuse_space` (what was still live at
/// exit, the default).
public enum PprofWriter {
    public enum Failure: Error, CustomStringConvertible {
        case noSites
        case compression(Int32)
        case tooLarge

        public var description: String {
            switch self {
            case .noSites: return "the profile has no call sites (sampling was off)"
            case .compression(let code): return "gzip compression failed (zlib \(code))"
            case .tooLarge: return "the pprof profile would be larger than 4 GiB"
            }
        }
    }

    public static func data(_ profile: Profile) throws -> Data {
        guard let sites = profile.sites, let sampling = profile.sampling else { throw Failure.noSites }
        var builder = Builder()
        for module in profile.modules ?? [] {
            if let buildID = module.buildId { builder.buildIDs[module.path] = buildID }
        }
        var message = Perftools_Profiles_Profile()
        message.sampleType = [
            builder.valueType("alloc_objects", "count"),
            builder.valueType("alloc_space", "bytes"),
            builder.valueType("inuse_objects", "count"),
            builder.valueType("inuse_space", "bytes"),
        ]
        message.defaultSampleType = builder.string("inuse_space")
        message.periodType = builder.valueType("space", "bytes")
        message.period = sampling.meanBytes
        message.comment = [builder.string("swalloc profile of \(profile.program.map(TerminalText.escaped) ?? "?") [pid \(profile.pid)]")]
        for site in sites {
            var sample = Perftools_Profiles_Sample()
            sample.locationID = Builder.locationGroups(site.frames).map { builder.location($0) }
            sample.value = [site.calls, site.bytes, site.liveAllocations, site.liveBytes].map(\.cappedInt64)
            message.sample.append(sample)
        }
        message.mapping = builder.mappings
        message.location = builder.locations
        message.function = builder.functions
        message.stringTable = builder.strings
        return try gzip(message.serializedData())
    }

    /// Interns strings, functions, locations and mappings.
    struct Builder {
        var strings: [String] = [""]
        var stringIndex: [String: Int64] = ["": 0]
        var functions: [Perftools_Profiles_Function] = []
        var functionIndex: [String: UInt64] = [:]
        var locations: [Perftools_Profiles_Location] = []
        var locationIndex: [UInt64: UInt64] = [:]
        var mappings: [Perftools_Profiles_Mapping] = []
        var mappingIndex: [String: Int] = [:]
        /// Module path → GNU build-id (hex), from the profile's modules.
        var buildIDs: [String: String] = [:]

        mutating func string(_ value: String) -> Int64 {
            if let index = stringIndex[value] { return index }
            strings.append(value)
            stringIndex[value] = Int64(strings.count - 1)
            return Int64(strings.count - 1)
        }

        mutating func valueType(_ type: String, _ unit: String) -> Perftools_Profiles_ValueType {
            var value = Perftools_Profiles_ValueType()
            value.type = string(type)
            value.unit = string(unit)
            return value
        }

        /// The frames of one return address: the calls inlined there
        /// (``Profile/Frame/inlined``), then the real frame. pprof keeps them
        /// as one location with a line each, innermost first.
        static func locationGroups(_ frames: [Profile.Frame]) -> [[Profile.Frame]] {
            var groups: [[Profile.Frame]] = []
            var current: [Profile.Frame] = []
            for frame in frames {
                current.append(frame)
                if frame.inlined != true {
                    groups.append(current)
                    current = []
                }
            }
            if !current.isEmpty { groups.append(current) }
            return groups
        }

        mutating func location(_ group: [Profile.Frame]) -> UInt64 {
            let frame = group.last!
            if let id = locationIndex[frame.address] { return id }
            var location = Perftools_Profiles_Location()
            location.id = UInt64(locations.count + 1)
            location.address = frame.address
            location.mappingID = mapping(frame)
            location.line = group.map { member in
                var line = Perftools_Profiles_Line()
                line.functionID = function(SiteReport.name(member), file: member.file ?? member.module ?? "")
                line.line = Int64(member.line ?? 0)
                return line
            }
            locations.append(location)
            locationIndex[frame.address] = location.id
            return location.id
        }

        /// One function per name and source file (the module, without
        /// source lines).
        mutating func function(_ name: String, file: String) -> UInt64 {
            let key = name + "\u{0}" + file
            if let id = functionIndex[key] { return id }
            var function = Perftools_Profiles_Function()
            function.id = UInt64(functions.count + 1)
            function.name = string(name)
            function.systemName = function.name
            function.filename = string(TerminalText.escaped(file))
            functions.append(function)
            functionIndex[key] = function.id
            return function.id
        }

        /// The end of a mapping that holds `address` (the highest address
        /// has no end past it).
        func limit(_ address: UInt64) -> UInt64 { address == .max ? .max : address + 1 }

        /// One mapping per module: from its load base to the highest
        /// address seen in it.
        mutating func mapping(_ frame: Profile.Frame) -> UInt64 {
            let module = frame.module ?? "?"
            let base = frame.address &- frame.offset
            if let index = mappingIndex[module] {
                mappings[index].memoryLimit = max(mappings[index].memoryLimit, limit(frame.address))
                return mappings[index].id
            }
            var mapping = Perftools_Profiles_Mapping()
            mapping.id = UInt64(mappings.count + 1)
            mapping.memoryStart = base
            mapping.memoryLimit = limit(frame.address)
            mapping.filename = string(TerminalText.escaped(module))
            if let buildID = buildIDs[module] { mapping.buildID = string(TerminalText.escaped(buildID)) }
            mapping.hasFunctions_p = true
            mappings.append(mapping)
            mappingIndex[module] = mappings.count - 1
            return mapping.id
        }
    }

    /// gzip (RFC 1952) with zlib: windowBits 15 + 16 selects the gzip wrapper.
    static func gzip(_ input: Data) throws -> Data {
        // zlib counts in 32 bits.
        guard input.count < Int(UInt32.max) - 1024 else { throw Failure.tooLarge }
        var stream = z_stream()
        var status = deflateInit2_(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY,
                                   ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard status == Z_OK else { throw Failure.compression(status) }
        defer { deflateEnd(&stream) }
        var output = Data(count: Int(deflateBound(&stream, UInt(input.count))) + 64)
        let written: Int = input.withUnsafeBytes { source in
            output.withUnsafeMutableBytes { target in
                stream.next_in = UnsafeMutablePointer(mutating: source.bindMemory(to: Bytef.self).baseAddress)
                stream.avail_in = uInt(source.count)
                stream.next_out = target.bindMemory(to: Bytef.self).baseAddress
                stream.avail_out = uInt(target.count)
                status = deflate(&stream, Z_FINISH)
                return target.count - Int(stream.avail_out)
            }
        }
        guard status == Z_STREAM_END else { throw Failure.compression(status) }
        return output.prefix(written)
    }
}
