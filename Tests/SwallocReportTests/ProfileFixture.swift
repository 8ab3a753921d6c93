import Foundation
@testable import SwallocReport
import XCTest

/// A small valid profile as a JSON object, for tests to bend.
enum ProfileFixture {
    static let limit = UInt64(Int64.max)

    static func frame(_ function: String?, address: UInt64 = 0x401000, offset: UInt64 = 0x1000) -> [String: Any] {
        ["function": function ?? NSNull(), "module": "/usr/bin/host", "offset": offset, "address": address]
    }

    static func site(_ functions: [String], bytes: UInt64 = 4096, calls: UInt64 = 4, live: UInt64 = 0) -> [String: Any] {
        ["calls": calls, "bytes": bytes, "live_allocations": live > 0 ? 1 : 0, "live_bytes": live, "samples": calls,
         "frames": functions.map { frame($0) }]
    }

    static var object: [String: Any] {
        [
            "version": 1, "pid": 4242, "program": "/usr/bin/host", "allocator": "system", "complete": true,
            "threads": 1,
            "totals": [
                "malloc_calls": 10, "calloc_calls": 0, "realloc_calls": 0, "free_calls": 6, "aligned_calls": 0,
                "failed_calls": 0, "allocations": 10, "deallocations": 6, "bytes_allocated": 8192,
                "bytes_freed": 4096, "peak_live_bytes": 8192, "live_bytes_at_exit": 4096,
                "live_allocations_at_exit": 4, "inherited_live_bytes": 0, "inherited_live_allocations": 0,
            ] as [String: Any],
            "peak_error_bound_bytes": 65536,
            "bootstrap": ["allocations": 1, "bytes": 72],
            "histogram": [["min": 512, "max": 1023, "count": 10] as [String: Any]],
            "sampling": ["mean_bytes": 1, "depth": 32, "samples": 10, "dropped": 0, "untracked_blocks": 0,
                         "stack_table_overflowed": false, "unwinder": "libunwind"] as [String: Any],
            "sites": [site(["leaf", "main", "_start"], live: 4096), site(["other", "main", "_start"])],
        ]
    }

    static func data(_ object: [String: Any]) -> Data {
        try! JSONSerialization.data(withJSONObject: object)
    }

    /// The object, changed by `edit`, parsed.
    static func profile(_ edit: (inout [String: Any]) -> Void = { _ in }) throws -> Profile {
        var object = self.object
        edit(&object)
        return try Profile.parse(data(object), path: "p.json")
    }

    /// Every report and compare format of the profile (against itself and
    /// the fixture), so that a test can show none traps.
    static func renderEverything(_ profile: Profile) throws {
        let plain = try self.profile()
        _ = TextReport.render(profile)
        _ = profile.json()
        for metric in SiteReport.Metric.allCases { _ = SiteReport.folded(profile, metric: metric) }
        if profile.sites != nil { _ = try PprofWriter.data(profile) }
        _ = HTMLReport.render(profile)
        for (base, new) in [(plain, profile), (profile, plain), (profile, profile)] {
            _ = ProfileComparison.render(base: base, new: new, baseName: "a", newName: "b")
            _ = ProfileComparison.json(base: base, new: new, baseName: "a", newName: "b")
            _ = ProfileComparison.diffFolded(base: base, new: new)
        }
    }
}

extension Dictionary where Key == String, Value == Any {
    /// `self[outer][inner] = value` for a nested object.
    mutating func set(_ outer: String, _ inner: String, _ value: Any) {
        var nested = self[outer] as! [String: Any]
        nested[inner] = value
        self[outer] = nested
    }

    /// Changes the first site.
    mutating func editSite(_ index: Int = 0, _ edit: (inout [String: Any]) -> Void) {
        var sites = self["sites"] as! [[String: Any]]
        edit(&sites[index])
        self["sites"] = sites
    }
}
