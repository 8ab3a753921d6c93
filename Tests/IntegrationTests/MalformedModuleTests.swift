import Foundation
import XCTest

/// The exit report reads each module's section headers and .symtab, which
/// the loader never reads: a program whose file has malformed ones runs
/// exactly as well as without the library, and its report still comes,
/// with the module's frames unnamed where the file cannot name them.
final class MalformedModuleTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireBuilt() }

    /// A copy of the callsites host with `patch` applied to its bytes.
    func patchedHost(_ name: String, _ patch: (inout [UInt8]) -> Void) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: Harness.host("callsites"))))
        patch(&bytes)
        let path = Harness.temporaryDirectory(self).appendingPathComponent(name).path
        FileManager.default.createFile(atPath: path, contents: Data(bytes), attributes: [.posixPermissions: 0o755])
        return path
    }

    func read64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }
    func write64(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt64) {
        for index in 0..<8 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(index))) }
    }
    func write32(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt32) {
        for index in 0..<4 { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(index))) }
    }

    /// The offsets of the section headers of .symtab and its string table.
    func symbolTable(_ bytes: [UInt8]) -> (symtab: Int, strtab: Int)? {
        let sectionHeaders = Int(read64(bytes, 0x28))
        let count = Int(bytes[0x3C]) | Int(bytes[0x3D]) << 8
        for index in 0..<count {
            let header = sectionHeaders + index * 64
            if bytes[header + 4] == 2 { // SHT_SYMTAB
                let link = Int(bytes[header + 40]) | Int(bytes[header + 41]) << 8
                return (header, sectionHeaders + link * 64)
            }
        }
        return nil
    }

    func assertRunsAndReports(_ program: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let directory = Harness.temporaryDirectory(self)
        let profilePath = directory.appendingPathComponent("p.json").path
        let result = Harness.run([program], environment: ["SWALLOC_SAMPLE": "1", "SWALLOC_OUT": profilePath,
                                                          "SWALLOC_STATS": "summary"], timeout: 60)
        XCTAssertEqual(result.status, 0, "\(program): \(result.stderr.prefix(2000))", file: file, line: line)
        XCTAssertFalse(result.signaled, file: file, line: line)
        XCTAssertTrue(result.stderr.contains("swalloc: "), "no summary: \(result.stderr)", file: file, line: line)
        let data = try Data(contentsOf: URL(fileURLWithPath: profilePath))
        let profile = try JSONSerialization.jsonObject(with: data) as? [String: Any]
        XCTAssertGreaterThan((profile?["sites"] as? [Any])?.count ?? 0, 0, "no sites", file: file, line: line)
    }

    func testSectionHeaderOffsetPastAnyFile() throws {
        try assertRunsAndReports(try patchedHost("far_sections") { write64(&$0, 0x28, 0xFFFF_FFFF_FFFF_FF00) })
    }

    func testSectionHeaderCountPastTheFile() throws {
        try assertRunsAndReports(try patchedHost("many_sections") { bytes in
            bytes[0x3C] = 0xFF
            bytes[0x3D] = 0xFF
        })
    }

    func testStringTablePastTheFile() throws {
        try assertRunsAndReports(try patchedHost("far_strings") { bytes in
            guard let tables = symbolTable(bytes) else { return XCTFail("no .symtab") }
            write64(&bytes, tables.strtab + 24, UInt64(bytes.count - 8)) // sh_offset
            write64(&bytes, tables.strtab + 32, 1 << 40)                  // sh_size
        })
    }

    func testSymbolNamesOutsideTheirStringTable() throws {
        try assertRunsAndReports(try patchedHost("far_names") { bytes in
            guard let tables = symbolTable(bytes) else { return XCTFail("no .symtab") }
            let offset = Int(read64(bytes, tables.symtab + 24))
            let count = Int(read64(bytes, tables.symtab + 32)) / 24
            for index in 0..<count { write32(&bytes, offset + index * 24, 0xFFFF_FF00) } // st_name
        })
    }
}
