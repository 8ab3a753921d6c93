import Foundation
import XCTest

/// Runs programs with and without the built libswalloc.so.
///
/// The library must have been built by scripts/build (scripts/test does
/// that first): without it every integration test fails, saying so. The
/// C, C++ and Swift host programs are built here, once, with make.
enum Harness {
    static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let library = root.appendingPathComponent("dist/lib/libswalloc.so").path
    static let tool = root.appendingPathComponent("dist/bin/swalloc").path
    /// dist/ holds the library built by `scripts/build --checked`.
    static var libraryIsChecked: Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent("dist/lib/libswalloc.checked").path)
    }
    static let hostsDirectory = root.appendingPathComponent(".build/hosts")

    struct Result {
        var status: Int32
        var signaled: Bool
        var stdout: String
        var stderr: String
        var timedOut: Bool

        /// stderr without the library's report lines.
        var programStderr: String { stderr(ignoring: []) }

        /// stderr without the library's lines and lines with these prefixes
        /// (a plug-in's own report).
        func stderr(ignoring prefixes: [String]) -> String {
            stderr.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { line in !line.hasPrefix("swalloc:") && !prefixes.contains { line.hasPrefix($0) } }
                .joined(separator: "\n")
        }
        var reportLines: [Substring] {
            stderr.split(separator: "\n").filter { $0.hasPrefix("swalloc:") }
        }
    }

    private static let prepared: Result? = {
        guard FileManager.default.fileExists(atPath: library) else { return nil }
        return run(["make", "-s", "-C", root.appendingPathComponent("interpose/hosts").path,
                    "OUT=\(hostsDirectory.path)"], preload: false, timeout: 600)
    }()

    /// Thrown by requireBuilt and requireTool after their XCTFail, to stop
    /// the test: setUpWithError's error keeps the test body from running.
    struct NotBuilt: Error, CustomStringConvertible {
        var description: String { "the test cannot run without the build (see the failure above)" }
    }

    /// Checks that the library and the hosts are there; call in setUp.
    /// A missing build fails the test, never skips it: a checkout that
    /// was not built must not pass by running no integration test at all.
    static func requireBuilt(file: StaticString = #filePath, line: UInt = #line) throws {
        TestProgressFlush.install()
        guard let prepared else {
            XCTFail("dist/lib/libswalloc.so is missing: run scripts/build (scripts/test does)", file: file, line: line)
            throw NotBuilt()
        }
        if prepared.status != 0 {
            XCTFail("building the test hosts failed:\n\(prepared.stderr)", file: file, line: line)
            throw NotBuilt()
        }
    }

    static func host(_ name: String) -> String { hostsDirectory.appendingPathComponent(name).path }

    /// requireBuilt, and the swalloc tool too; call in setUp of its tests.
    static func requireTool(file: StaticString = #filePath, line: UInt = #line) throws {
        try requireBuilt(file: file, line: line)
        guard FileManager.default.fileExists(atPath: tool) else {
            XCTFail("dist/bin/swalloc is missing: run scripts/build (scripts/test does)", file: file, line: line)
            throw NotBuilt()
        }
    }

    /// Runs the swalloc tool (not preloaded itself).
    static func swalloc(_ arguments: [String], environment: [String: String] = [:]) -> Result {
        run([tool] + arguments, preload: false, environment: environment)
    }

    /// Runs `arguments`, preloaded or not, with `environment` added to ours,
    /// killed after `timeout` seconds.
    @discardableResult
    static func run(_ arguments: [String], preload: Bool = true, environment: [String: String] = [:],
                    stdin: String? = nil, timeout: TimeInterval = 120) -> Result {
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "LD_PRELOAD")
        for key in env.keys where key.hasPrefix("SWALLOC_") { env.removeValue(forKey: key) }
        if preload { env["LD_PRELOAD"] = library }
        for (key, value) in environment { env[key] = value }
        // The program itself, not /usr/bin/env: a launcher would be one
        // more preloaded process, with its own start-up messages.
        let outcome = ProcessGroupRun.run(executable: resolve(arguments[0]), arguments: Array(arguments.dropFirst()),
                                          environment: env, stdin: Data((stdin ?? "").utf8), timeout: timeout)
        return Result(status: outcome.status, signaled: outcome.signaled,
                      stdout: String(decoding: outcome.stdout, as: UTF8.self),
                      stderr: String(decoding: outcome.stderr, as: UTF8.self),
                      timedOut: outcome.timedOut)
    }

    /// An executable's path, looked up in PATH like a shell would.
    static func resolve(_ program: String) -> String {
        if program.contains("/") { return program }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(program)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return program
    }

    /// A profile of the callsites host with every allocation sampled, and
    /// the temporary directory it is in.
    static func callSitesProfile(_ test: XCTestCase) -> (directory: URL, path: String) {
        let directory = temporaryDirectory(test)
        let path = directory.appendingPathComponent("p.json").path
        let run = run([host("callsites")], environment: ["SWALLOC_OUT": path, "SWALLOC_SAMPLE": "1"])
        XCTAssertEqual(run.status, 0, run.stderr)
        return (directory, path)
    }

    /// A Debian program's path; a failure (the test scripts install it)
    /// when it is missing.
    static func which(_ program: String) throws -> String {
        let result = run(["sh", "-c", "command -v \(program)"], preload: false)
        let path = result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        guard result.status == 0, !path.isEmpty else {
            XCTFail("\(program) is not installed (scripts/install-deps installs it)")
            throw XCTSkip("\(program) missing")
        }
        return path
    }

    /// A fresh temporary directory, removed at the end of the test.
    static func temporaryDirectory(_ test: XCTestCase) -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("swalloc-test-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }
}

/// Compares a program run without and with the library.
func assertSameBehaviour(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil,
                         stats: String = "off", timeout: TimeInterval = 120, ignoringStderr: [String] = [],
                         file: StaticString = #filePath, line: UInt = #line) -> Harness.Result {
    let plain = Harness.run(arguments, preload: false, environment: environment, stdin: stdin, timeout: timeout)
    var env = environment
    env["SWALLOC_STATS"] = stats
    let preloaded = Harness.run(arguments, preload: true, environment: env, stdin: stdin, timeout: timeout)
    let name = arguments.joined(separator: " ")
    XCTAssertFalse(plain.timedOut, "\(name) timed out without the library", file: file, line: line)
    XCTAssertFalse(preloaded.timedOut, "\(name) timed out under the library", file: file, line: line)
    XCTAssertEqual(preloaded.status, plain.status, "\(name): exit status differs; stderr: \(preloaded.stderr.prefix(2000))", file: file, line: line)
    XCTAssertEqual(preloaded.signaled, plain.signaled, "\(name): signal differs", file: file, line: line)
    XCTAssertEqual(preloaded.stdout, plain.stdout, "\(name): stdout differs", file: file, line: line)
    XCTAssertEqual(preloaded.stderr(ignoring: ignoringStderr), plain.stderr, "\(name): stderr differs", file: file, line: line)
    return preloaded
}

/// Every way the library can serve a program, as the settings that select
/// it: the host-program tests run under each (issue #11's list).
enum ServingModes {
    static let all: [(name: String, environment: [String: String])] = [
        ("off", ["SWALLOC_STATS": "off"]),
        ("default", [:]),
        ("sample1", ["SWALLOC_SAMPLE": "1"]),
        ("bump", ["SWALLOC_ALLOCATOR": "bump"]),
        ("guard", ["SWALLOC_ALLOCATOR": "guard"]),
        ("guard-below", ["SWALLOC_ALLOCATOR": "guard", "SWALLOC_GUARD": "below", "SWALLOC_STATS": "off"]),
        ("mimalloc-direct", ["SWALLOC_ALLOCATOR": "mimalloc", "SWALLOC_STATS": "off"]),
        ("plugin", ["SWALLOC_ALLOCATOR": Harness.host("liblayout_check.so")]),
        ("limit", ["SWALLOC_LIMIT": "1G"]),
    ]
}
