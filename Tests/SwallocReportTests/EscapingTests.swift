import Foundation
@testable import SwallocReport
import XCTest

/// Strings from a profile reach a terminal and an HTML page escaped.
final class EscapingTests: XCTestCase {
    func testTerminalEscapes() {
        XCTAssertEqual(TerminalText.escaped("plain ü ←"), "plain ü ←")
        XCTAssertEqual(TerminalText.escaped("a\u{1B}[31mred\u{07}"), "a\\x1B[31mred\\x07")
        XCTAssertEqual(TerminalText.escaped("line\nforged\r\t"), "line\\x0Aforged\\x0D\\x09")
        XCTAssertEqual(TerminalText.escaped("\u{7F}\u{9B}\u{202E}x"), "\\x7F\\x9B\\u{202E}x")
        XCTAssertEqual(TerminalText.escaped("a\\x41"), "a\\\\x41", "a backslash is escaped too: no forged escapes")
    }

    /// Control characters in the program, the allocator and function names
    /// are printed as \xNN in the text reports, so the only control
    /// character in their output is the newline they put there.
    func testTextOutputsHaveNoControlCharacters() throws {
        let evil = "\u{1B}]0;owned\u{07}\u{1B}[2J\r\u{08}\u{9B}31m"
        let profile = try ProfileFixture.profile {
            $0["program"] = "/bin/" + evil
            $0["allocator"] = evil
            $0.editSite { $0["frames"] = [ProfileFixture.frame("fn" + evil + "\nforged line"), ProfileFixture.frame(nil)] }
            $0.editSite(1) {
                var frame = ProfileFixture.frame(nil)
                frame["module"] = "/lib/" + evil
                $0["frames"] = [frame]
            }
        }
        let outputs = [
            TextReport.render(profile), SiteReport.folded(profile),
            ProfileComparison.render(base: profile, new: profile, baseName: evil, newName: "b"),
            ProfileComparison.diffFolded(base: try ProfileFixture.profile(), new: profile),
        ]
        for output in outputs {
            let controls = output.unicodeScalars.filter { TerminalText.needsEscape($0) && $0 != "\n" && $0 != "\\" }
            XCTAssertTrue(controls.isEmpty, "\(controls.map(\.value)) in\n\(output)")
            XCTAssertFalse(output.contains("\nforged line"), output)
        }
        XCTAssertTrue(outputs[0].contains("fn\\x1B]0;owned\\x07\\x1B[2J\\x0D\\x08\\x9B31m\\x0Aforged line"), outputs[0])
    }

    /// A name holding </script> or <!--<script cannot end or stall the
    /// page's data script: no "<" appears raw inside it, and it parses as
    /// JSON with the names intact.
    func testHTMLDataScriptCannotBeBrokenOut() throws {
        let names = ["</script><script>alert(1)</script>", "<!--<script>", "a&b>c", "\u{2028}x\"q\\"]
        let profile = try ProfileFixture.profile {
            $0.editSite { $0["frames"] = names.map { ProfileFixture.frame($0) } }
            $0["program"] = "/bin/x<script>&\""
        }
        let html = HTMLReport.render(profile)
        let open = "<script id=\"data\" type=\"application/json\">"
        let start = try XCTUnwrap(html.range(of: open)).upperBound
        let end = try XCTUnwrap(html.range(of: "</script>", range: start..<html.endIndex)).lowerBound
        let script = html[start..<end]
        XCTAssertFalse(script.contains("<"), String(script))
        XCTAssertFalse(script.contains(">"))
        XCTAssertEqual(html.components(separatedBy: "<script").count - 1, 2, "only the page's two scripts")
        XCTAssertEqual(html.components(separatedBy: "</script>").count - 1, 2)
        XCTAssertFalse(html.contains("<!--"))
        let data = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(script.utf8)) as? [String: Any])
        var found: [String] = []
        var nodes = [data["allocated"] as? [String: Any] ?? [:]]
        while let node = nodes.popLast() {
            found.append(node["name"] as? String ?? "")
            nodes += node["children"] as? [[String: Any]] ?? []
        }
        // As everywhere, names are escaped for the terminal too (the backslash).
        for name in names.map(TerminalText.escaped) { XCTAssertTrue(found.contains(name), "\(name) in \(found)") }
        XCTAssertFalse(script.contains("\u{2028}"), "JavaScript's line separator escaped")
        XCTAssertTrue(html.contains("<title>swalloc: x&lt;script&gt;&amp;&quot; [pid 4242]</title>"), html)
    }

    /// The page is filled in one pass over its template: a program named
    /// after a placeholder does not pull the data (or summary) in again.
    func testPlaceholdersInProfileStringsStayText() throws {
        let profile = try ProfileFixture.profile { $0["program"] = String(repeating: "@DATA@@SUMMARY@", count: 2000) }
        let html = HTMLReport.render(profile)
        XCTAssertLessThan(html.utf8.count, 200_000)
        XCTAssertTrue(html.contains("@DATA@@SUMMARY@@DATA@"))
    }
}
