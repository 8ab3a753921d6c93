import Foundation
import XCTest

/// Hostile profiles through the real swalloc binary: names that try to
/// break out of the HTML page's script or drive the terminal, a stack of
/// 10,000 frames, values out of range. (The crash sites themselves are
/// unit-tested in ProfileHardeningTests; scripts/fuzz-profiles does many.)
final class HostileProfileTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireTool() }

    /// A real profile (every allocation sampled), as a JSON object.
    func realProfile(_ directory: URL) throws -> [String: Any] {
        let path = directory.appendingPathComponent("real.json").path
        let run = Harness.run([Harness.host("callsites")], environment: ["SWALLOC_OUT": path, "SWALLOC_SAMPLE": "1"])
        XCTAssertEqual(run.status, 0, run.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as? [String: Any])
    }

    func save(_ object: [String: Any], _ name: String, in directory: URL) throws -> String {
        let url = directory.appendingPathComponent(name)
        try JSONSerialization.data(withJSONObject: object).write(to: url)
        return url.path
    }

    /// Every site's innermost function renamed.
    func renamed(_ object: [String: Any], _ name: (Int) -> String) -> [String: Any] {
        var object = object
        object["sites"] = (object["sites"] as! [[String: Any]]).enumerated().map { index, site in
            var site = site
            var frames = site["frames"] as! [[String: Any]]
            frames[0]["function"] = name(index)
            site["frames"] = frames
            return site
        }
        return object
    }

    /// The page with </script> and <!--<script in names still runs its
    /// script in Chromium: the flame graph is drawn, the names shown as text.
    func testHTMLWithScriptTagsInNamesStillDraws() throws {
        let directory = Harness.temporaryDirectory(self)
        let names = ["</script><h1 id=injected>x</h1>", "<!--<script>", "<script>alert(1)</script>"]
        let profile = try save(renamed(try realProfile(directory)) { names[$0 % names.count] }, "evil.json", in: directory)
        let html = directory.appendingPathComponent("evil.html").path
        let write = Harness.swalloc(["report", "--format", "html", "-o", html, profile])
        XCTAssertEqual(write.status, 0, write.stderr)
        guard FileManager.default.isExecutableFile(atPath: Harness.resolve("chromium")) else {
            throw XCTSkip("chromium is not installed: the page is checked by EscapingTests only")
        }
        let dom = Harness.run(["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=2000",
                               "--user-data-dir=\(directory.path)/chromium", "--dump-dom", "file://\(html)"],
                              preload: false, timeout: 120)
        XCTAssertEqual(dom.status, 0, dom.stderr)
        XCTAssertGreaterThan(dom.stdout.components(separatedBy: "class=\"frame\"").count - 1, 5, "the script drew the graph")
        XCTAssertFalse(dom.stdout.contains("id=\"injected\""), "no element injected")
        XCTAssertTrue(dom.stdout.contains("&lt;!--&lt;script&gt;</div>"), "the name shown as text")
    }

    /// Control characters in names and the program reach the terminal as
    /// \xNN: the text outputs hold no control character but the newline.
    func testTerminalEscapesInTextOutputs() throws {
        let directory = Harness.temporaryDirectory(self)
        var object = renamed(try realProfile(directory)) { _ in "evil\u{1B}]0:owned\u{07}\u{1B}[2J\r" }
        object["program"] = "/bin/\u{1B}[31mred"
        let profile = try save(object, "evil.json", in: directory)
        let name = "evil\\x1B]0:owned\\x07\\x1B[2J\\x0D", program = "/bin/\\x1B[31mred"
        for (arguments, expected) in [(["report", profile], [name, program]), (["report", "--format", "folded", profile], [name]),
                                      (["compare", profile, profile], [program]),
                                      (["compare", "--format", "folded", profile, profile], [name])] {
            let result = Harness.swalloc(arguments)
            XCTAssertEqual(result.status, 0, result.stderr)
            let controls = result.stdout.unicodeScalars.filter { $0.value < 0x20 && $0 != "\n" || $0.value == 0x7F }
            XCTAssertTrue(controls.isEmpty, "\(arguments): \(controls.map(\.value))")
            for text in expected {
                XCTAssertTrue(result.stdout.contains(text), "\(arguments): \(text) in \(result.stdout.prefix(500))")
            }
        }
        // A setting: ArgumentParser's messages quote it, escaped too.
        let setting = Harness.swalloc(["report", "--format", "\u{1B}[2Jtext", profile])
        XCTAssertEqual(setting.status, 64)
        XCTAssertTrue(setting.stderr.contains("'\\x1B[2Jtext'") && !setting.stderr.contains("\u{1B}"), setting.stderr)
        let missing = Harness.swalloc(["report", directory.appendingPathComponent("\u{1B}[2J.json").path])
        XCTAssertEqual(missing.status, 2)
        XCTAssertTrue(missing.stderr.contains("\\x1B[2J.json: no such file") && !missing.stderr.contains("\u{1B}"), missing.stderr)
    }

    /// A 10,000-frame stack: every format finishes in little memory (the
    /// HTML page took 813 MB and then crashed).
    func testDeepStackInEveryFormat() throws {
        let directory = Harness.temporaryDirectory(self)
        var object = try realProfile(directory)
        var sites = object["sites"] as! [[String: Any]]
        let frame = (sites[0]["frames"] as! [[String: Any]])[0]
        sites[0]["frames"] = (0..<10_000).map { index -> [String: Any] in
            var copy = frame
            copy["function"] = "f\(index)"
            return copy
        }
        object["sites"] = sites
        let profile = try save(object, "deep.json", in: directory)
        for format in ["text", "json", "folded", "pprof", "html"] {
            let out = directory.appendingPathComponent("out.\(format)").path
            let result = Harness.run(["/usr/bin/time", "-f", "rss %M", Harness.tool, "report", "--format", format, "-o", out, profile],
                                     preload: false)
            XCTAssertEqual(result.status, 0, "\(format): \(result.stderr)")
            let rss = result.stderr.split(separator: "\n").last.flatMap { Int($0.dropFirst(4)) } ?? .max
            XCTAssertLessThan(rss, 200_000, "\(format): \(rss) KB")
        }
        for format in ["text", "json", "folded"] {
            let result = Harness.swalloc(["compare", "--format", format, profile, profile])
            XCTAssertEqual(result.status, 0, "\(format): \(result.stderr)")
        }
    }

    /// Found by scripts/fuzz-profiles: a 647 MB profile (thousands of sites
    /// sharing an 80 KB name) was read, then its decoding asked for 3.8 GB
    /// and aborted. Files are read up to 256 MiB; /dev/zero stops there.
    func testOversizedInputIsOneLine() {
        let result = Harness.run(["/usr/bin/time", "-f", "rss %M", Harness.tool, "report", "/dev/zero"], preload: false)
        XCTAssertEqual(result.status, 2)
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.first, "swalloc: cannot read /dev/zero: larger than 256 MiB")
        let rss = lines.last.flatMap { Int($0.dropFirst(4)) } ?? .max
        XCTAssertLessThan(rss, 400_000, "KB")
    }

    /// Values the reader rejects are one swalloc: line and status 2.
    func testRejectedValuesAreOneLine() throws {
        let directory = Harness.temporaryDirectory(self)
        var object = try realProfile(directory)
        var sampling = object["sampling"] as! [String: Any]
        sampling["mean_bytes"] = -5
        object["sampling"] = sampling
        let negative = try save(object, "negative.json", in: directory)
        object["sampling"] = nil
        let noSampling = try save(object, "nosampling.json", in: directory)
        for (path, expected) in [(negative, "invalid value at sampling.mean_bytes: -5 is below 1"),
                                 (noSampling, "sites without sampling")] {
            for format in ["text", "pprof"] {
                let result = Harness.swalloc(["report", "--format", format, "-o", directory.appendingPathComponent("x").path, path])
                XCTAssertEqual(result.status, 2)
                XCTAssertEqual(result.stderr, "swalloc: \(path) is not a swalloc profile: \(expected)\n")
            }
        }
    }
}
