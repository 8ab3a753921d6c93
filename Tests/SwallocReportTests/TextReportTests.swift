import Foundation
@testable import SwallocReport
import XCTest

final class TextReportTests: XCTestCase {
    func testByteUnits() {
        XCTAssertEqual(TextReport.bytes(0), "0 B")
        XCTAssertEqual(TextReport.bytes(1023), "1023 B")
        XCTAssertEqual(TextReport.bytes(1024), "1 KiB")
        XCTAssertEqual(TextReport.bytes(1536), "1.5 KiB")
        XCTAssertEqual(TextReport.bytes(3 << 30), "3 GiB")
    }

    func testGrouping() {
        XCTAssertEqual(TextReport.grouped(0), "0")
        XCTAssertEqual(TextReport.grouped(999), "999")
        XCTAssertEqual(TextReport.grouped(1000), "1,000")
        XCTAssertEqual(TextReport.grouped(1234567), "1,234,567")
    }

    func testParseErrors() {
        XCTAssertThrowsError(try Profile.parse(Data("{".utf8), path: "x")) { error in
            XCTAssertEqual(error as? ProfileError, .malformed(path: "x", reason: "invalid or truncated JSON"))
        }
        XCTAssertThrowsError(try Profile.parse(Data("{\"version\": 2}".utf8), path: "x")) { error in
            XCTAssertEqual(error as? ProfileError, .unsupportedVersion(path: "x", version: 2))
        }
        XCTAssertThrowsError(try Profile.parse(Data("{\"version\": 1}".utf8), path: "x")) { error in
            guard case .malformed(_, let reason)? = error as? ProfileError else { return XCTFail("\(error)") }
            XCTAssertTrue(reason.hasPrefix("missing key"), reason)
        }
    }
}

/// C++ and Swift names shortened for the text report (heaptrack's way):
/// template arguments and parameters left out.
final class NameShorteningTests: XCTestCase {
    func testTemplatesAndParametersAreLeftOut() {
        let cases: [(String, String)] = [
            ("main", "main"),
            ("foo()", "foo()"),
            ("operator new(unsigned long)", "operator new(…)"),
            ("std::vector<int, std::allocator<int> >::_M_realloc_insert<int const&>(__gnu_cxx::__normal_iterator<int*, std::vector<int, std::allocator<int> > >, int const&)",
             "std::vector<…>::_M_realloc_insert<…>(…)"),
            ("std::operator<<(std::ostream&, char const*)", "std::operator<<(…)"),
            ("Swift.Array<Swift.Int>.append(Swift.Int) -> ()", "Swift.Array<…>.append(…) -> ()"),
            ("std::map<std::string, std::vector<std::pair<int, int> > >::operator[](std::string const&)",
             "std::map<…>::operator[](…)"),
        ]
        for (full, short) in cases {
            XCTAssertEqual(SiteReport.shortened(full), short, full)
        }
    }
}
