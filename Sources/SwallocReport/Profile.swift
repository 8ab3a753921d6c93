import Foundation

/// A JSON profile as the preload library writes it (docs/profile-format.md).
public struct Profile: Codable, Equatable, Sendable {
    public static let supportedVersion = 1

    public var version: Int
    public var pid: Int
    /// The parent when the process started (or forked); absent in profiles
    /// written before it was recorded.
    public var ppid: Int?
    public var program: String?
    public var allocator: String
    public var complete: Bool
    /// Why `complete` is false, for a profile made from a live profile
    /// file (``LiveProfile``); absent otherwise.
    public var incompleteReason: String?
    public var threads: Int
    public var totals: Totals
    public var peakErrorBoundBytes: UInt64
    public var bootstrap: Bootstrap
    public var histogram: [Bucket]
    /// Present when call-site sampling was on.
    public var sampling: Sampling?
    /// Call sites, largest bytes first (with `sampling`).
    public var sites: [Site]?
    /// Live bytes over time (absent in older profiles).
    public var timeline: Timeline?
    /// The modules loaded at exit, with their build-ids (with sampling;
    /// absent in older profiles).
    public var modules: [Module]?

    public struct Module: Codable, Equatable, Sendable {
        public var path: String
        public var base: UInt64
        /// The GNU build-id, hex; absent when the module has none.
        public var buildId: String?
    }

    public struct Timeline: Codable, Equatable, Sendable {
        public var intervalNs: UInt64
        /// [nanoseconds since start, live bytes], the last one at exit.
        public var points: [[UInt64]]
    }

    public struct Sampling: Codable, Equatable, Sendable {
        public var meanBytes: Int64
        public var depth: Int
        public var samples: UInt64
        /// The live total the sites' `peakLiveBytes` stand for (within 1.6 %
        /// of the peak; absent in older profiles).
        public var peakOwnersAtBytes: UInt64?
        public var dropped: UInt64
        public var untrackedBlocks: UInt64
        public var stackTableOverflowed: Bool
        public var unwinder: String
    }

    /// What was allocated from one call stack (estimates when sampled,
    /// exact with SWALLOC_SAMPLE=1).
    public struct Site: Codable, Equatable, Sendable {
        public var calls: UInt64
        public var bytes: UInt64
        public var liveAllocations: UInt64
        public var liveBytes: UInt64
        /// What the site held when the peak was reached (absent in older profiles).
        public var peakLiveBytes: UInt64?
        public var samples: UInt64
        /// From the allocating function outwards.
        public var frames: [Frame]
    }

    public struct Frame: Codable, Equatable, Sendable {
        public var function: String?
        public var module: String?
        /// Address minus the module's load base.
        public var offset: UInt64
        public var address: UInt64
        /// The source file and line of the call, from the module's DWARF
        /// (``SourceLines``, at report time; the library writes neither).
        public var file: String?
        public var line: Int?
        /// A call the compiler inlined: a frame of its own, with the
        /// address of the real frame it is part of.
        public var inlined: Bool?
    }

    public struct Totals: Codable, Equatable, Sendable {
        public var mallocCalls: UInt64
        public var callocCalls: UInt64
        public var reallocCalls: UInt64
        public var freeCalls: UInt64
        public var alignedCalls: UInt64
        public var failedCalls: UInt64
        public var allocations: UInt64
        public var deallocations: UInt64
        public var bytesAllocated: UInt64
        public var bytesFreed: UInt64
        public var peakLiveBytes: UInt64
        public var liveBytesAtExit: UInt64
        public var liveAllocationsAtExit: UInt64
        public var inheritedLiveBytes: UInt64
        public var inheritedLiveAllocations: UInt64
        /// The process's peak resident set (VmHWM), its own since exec;
        /// absent in older profiles.
        public var maxResidentBytes: UInt64?
    }

    public struct Bootstrap: Codable, Equatable, Sendable {
        public var allocations: UInt64
        public var bytes: UInt64
    }

    /// Requests whose size lies in `min...max`.
    public struct Bucket: Codable, Equatable, Sendable {
        public var min: UInt64
        public var max: UInt64
        public var count: UInt64
    }
}

/// Why a profile could not be read.
public enum ProfileError: Error, CustomStringConvertible, Equatable {
    case unreadable(path: String, reason: String)
    case malformed(path: String, reason: String)
    case unsupportedVersion(path: String, version: Int)

    public var description: String {
        switch self {
        case let .unreadable(path, reason):
            return "cannot read \(path): \(reason)"
        case let .malformed(path, reason):
            return "\(path) is not a swalloc profile: \(reason)"
        case let .unsupportedVersion(path, version):
            return "\(path) is a version \(version) profile; this swalloc reads version \(Profile.supportedVersion)"
        }
    }
}

extension Profile {
    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    /// Parses a profile, checking its version before anything else so that
    /// a newer profile gets a version error rather than a missing-key one,
    /// then its values (ProfileValidation).
    public static func parse(_ data: Data, path: String) throws(ProfileError) -> Profile {
        guard data.count <= ProfileFile.sizeLimit else {
            throw .unreadable(path: path, reason: "larger than \(ProfileFile.sizeLimit >> 20) MiB")
        }
        struct Versioned: Decodable { var version: Int }
        let version: Int
        do {
            version = try decoder().decode(Versioned.self, from: data).version
        } catch {
            throw .malformed(path: path, reason: Self.explain(error, in: data))
        }
        guard version == supportedVersion else {
            throw .unsupportedVersion(path: path, version: version)
        }
        let profile: Profile
        do {
            profile = try decoder().decode(Profile.self, from: data)
        } catch {
            throw .malformed(path: path, reason: Self.explain(error, in: data))
        }
        return try ProfileValidation.validated(profile, path: path)
    }

    /// Reads and parses the profile at `path` (at most
    /// `ProfileFile.sizeLimit` bytes of it).
    /// A JSON profile, or a live profile file (made into one).
    public static func load(path: String) throws(ProfileError) -> Profile {
        let data = try ProfileFile.contents(of: path)
        if LiveProfile.isLiveProfile(data) { return try LiveProfile.load(path: path) }
        return try parse(data, path: path)
    }

    /// The profile as normalized JSON (sorted keys, snake_case).
    public func json() -> String {
        String(decoding: jsonData(), as: UTF8.self)
    }

    /// The same as UTF-8 bytes, without the copies a String costs.
    public func jsonData() -> Data {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return (try? encoder.encode(self)) ?? Data()
    }

    /// One line from a decoding error: what is wrong, and where.
    static func explain(_ error: Error, in data: Data? = nil) -> String {
        switch error {
        case DecodingError.dataCorrupted(let context):
            guard context.codingPath.isEmpty else { return "invalid value at " + path(context.codingPath) }
            // Foundation reports a number that does not fit its key's type
            // (negative, fractional, too large) as invalid JSON, at no key.
            if let data, (try? JSONSerialization.jsonObject(with: data, options: .fragmentsAllowed)) != nil {
                return "a number out of range (negative, fractional or too large)"
            }
            // The text itself is not JSON (or is cut short).
            return "invalid or truncated JSON"
        case DecodingError.keyNotFound(let key, let context):
            return "missing key \(path(context.codingPath + [key]))"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            return "wrong type at \(path(context.codingPath))"
        default:
            return "invalid JSON"
        }
    }

    /// `totals.bytes_freed`, `sites[3].frames`: the keys as the file spells them.
    static func path(_ keys: [CodingKey]) -> String {
        var text = ""
        for key in keys {
            if let index = key.intValue {
                text += "[\(index)]"
                continue
            }
            if !text.isEmpty { text += "." }
            for character in key.stringValue {
                text += character.isUppercase ? "_" + character.lowercased() : String(character)
            }
        }
        return text
    }
}
