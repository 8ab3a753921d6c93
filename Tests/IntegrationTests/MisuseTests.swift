import Foundation
import XCTest

/// A program's allocation errors end as they do under glibc alone, in
/// glibc's abort with its message, never in a fault inside the library.
/// (bump and guard answer double frees themselves: issue #14.)
final class MisuseTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireBuilt() }

    let glibcModes = ServingModes.all.filter { ["off", "default", "sample1", "limit"].contains($0.name) }

    func testDoubleFreesEndInGlibcsAbort() {
        for misuse in ["double_large", "double_first"] {
            let plain = Harness.run([Harness.host("misuse"), misuse], preload: false)
            XCTAssertTrue(plain.signaled && plain.status == SIGABRT, "\(misuse) without the library: \(plain.status)")
            for mode in glibcModes {
                let result = Harness.run([Harness.host("misuse"), misuse], environment: mode.environment, timeout: 30)
                XCTAssertTrue(result.signaled, "\(misuse), \(mode.name): not killed: \(result.status)")
                XCTAssertEqual(result.status, SIGABRT, "\(misuse), \(mode.name): \(result.stderr.prefix(500))")
                // glibc's messages read "function(): reason", or name the double free.
                XCTAssertTrue(result.programStderr.contains("(): ") || result.programStderr.contains("double free"),
                              "\(misuse), \(mode.name): no glibc message: \(result.stderr.prefix(500))")
            }
        }
    }

    /// Not under guard, whose point is to report this as a use after free.
    func testUsableSizeOfAFreedBlockDoesNotFault() {
        for mode in ServingModes.all where mode.name != "guard" {
            let result = Harness.run([Harness.host("misuse"), "usable_freed"], environment: mode.environment, timeout: 30)
            XCTAssertEqual(result.status, 0, "\(mode.name): \(result.stderr.prefix(500))")
            XCTAssertFalse(result.signaled, mode.name)
            XCTAssertEqual(result.stdout, "usable asked\n", mode.name)
        }
    }
}
