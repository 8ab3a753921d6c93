@testable import SwallocReport
import XCTest

final class ProfileComparisonTests: XCTestCase {
    func testChanges() {
        XCTAssertEqual(ProfileComparison.signedCount(5, 5), "0")
        XCTAssertEqual(ProfileComparison.signedCount(1000, 3500), "+2,500")
        XCTAssertEqual(ProfileComparison.signedCount(3500, 1000), "−2,500")
        XCTAssertEqual(ProfileComparison.signedBytes(1024, 3072), "+2 KiB")
        XCTAssertEqual(ProfileComparison.signedBytes(3072, 1024), "−2 KiB")
    }

    func testRelativeChanges() {
        XCTAssertEqual(ProfileComparison.percent(7, 7), "")
        XCTAssertEqual(ProfileComparison.percent(0, 7), "(new)")
        XCTAssertEqual(ProfileComparison.percent(200, 300), "(+50.0%)")
        XCTAssertEqual(ProfileComparison.percent(300, 0), "(−100.0%)")
        XCTAssertEqual(ProfileComparison.percent(10, 125), "(×12.5)")
        XCTAssertEqual(ProfileComparison.percent(3, 2517), "(×839)")
    }

    /// Sites are matched by frame names, not addresses, and merged when two
    /// stacks differ only in addresses.
    func testFoldedDifferenceMatchesByName() {
        func site(_ bytes: UInt64, _ names: [String], address: UInt64) -> Profile.Site {
            Profile.Site(calls: 1, bytes: bytes, liveAllocations: 0, liveBytes: 0, samples: 1,
                         frames: names.map { Profile.Frame(function: $0, module: "m", offset: 0, address: address) })
        }
        func profile(_ sites: [Profile.Site]) -> Profile {
            let totals = Profile.Totals(
                mallocCalls: 0, callocCalls: 0, reallocCalls: 0, freeCalls: 0, alignedCalls: 0, failedCalls: 0,
                allocations: 0, deallocations: 0, bytesAllocated: 0, bytesFreed: 0, peakLiveBytes: 0,
                liveBytesAtExit: 0, liveAllocationsAtExit: 0, inheritedLiveBytes: 0, inheritedLiveAllocations: 0)
            return Profile(version: 1, pid: 1, program: nil, allocator: "system", complete: true, threads: 1,
                           totals: totals, peakErrorBoundBytes: 0, bootstrap: .init(allocations: 0, bytes: 0),
                           histogram: [], sampling: nil, sites: sites)
        }
        let base = profile([site(100, ["leaf", "main"], address: 1), site(5, ["gone", "main"], address: 2)])
        let new = profile([site(60, ["leaf", "main"], address: 9), site(40, ["leaf", "main"], address: 8),
                           site(7, ["fresh", "main"], address: 3)])
        XCTAssertEqual(ProfileComparison.diffFolded(base: base, new: new),
                       "main;fresh 0 7\nmain;gone 5 0\nmain;leaf 100 100\n")
    }
}
