import Foundation
import XCTest

/// Programs that bring an allocator of their own or load libraries with
/// RTLD_DEEPBIND, from Debian's packages: redis-server (linked with
/// jemalloc) and php (extensions loaded with RTLD_DEEPBIND).
final class RealServerTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireBuilt() }

    func which(_ program: String) throws -> String { try Harness.which(program) }

    /// php with its extensions prints the same under every mode.
    func testPHPWithExtensionsUnderEveryMode() throws {
        let php = try which("php")
        let plain = Harness.run([php, "-r", "echo strlen(json_encode(range(1, 1000))), PHP_EOL;"], preload: false)
        XCTAssertEqual(plain.status, 0, plain.stderr)
        for mode in ServingModes.all {
            let result = Harness.run([php, "-r", "echo strlen(json_encode(range(1, 1000))), PHP_EOL;"],
                                     environment: mode.environment, timeout: 60)
            XCTAssertEqual(result.status, 0, "\(mode.name): \(result.stderr.prefix(500))")
            XCTAssertEqual(result.stdout, plain.stdout, mode.name)
        }
    }

    /// redis-server (jemalloc inside) serves redis-benchmark on loopback
    /// with statistics off and on, stops cleanly, keeps jemalloc as its
    /// allocator, and its allocations are counted. The server runs from a shell script (in the background, as
    /// a user starts it), which prints what the test checks.
    func testRedisServesUnderTheLibrary() throws {
        for program in ["redis-server", "redis-benchmark", "redis-cli"] { _ = try which(program) }
        let directory = Harness.temporaryDirectory(self)
        for (index, stats) in ["off", "json"].enumerated() {
            let port = 16390 + index
            let profile = directory.appendingPathComponent("redis.json").path
            let script = """
                SWALLOC_STATS=\(stats) SWALLOC_OUT='\(stats == "off" ? "" : profile)' LD_PRELOAD='\(Harness.library)' \
                    redis-server --port \(port) --bind 127.0.0.1 --save '' --appendonly no --dir '\(directory.path)' \
                    >'\(directory.path)/server.log' 2>&1 &
                server=$!
                for i in $(seq 50); do [ "$(redis-cli -p \(port) ping 2>/dev/null)" = PONG ] && break; sleep 0.1; done
                redis-benchmark -p \(port) -n 2000 -q -t set,get,lpush </dev/null 2>&1 | tr '\\r' '\\n' | grep -c 'requests per second'
                redis-cli -p \(port) shutdown nosave >/dev/null 2>&1
                wait $server
                echo "server $?"
                """
            let result = Harness.run(["bash", "-c", script], preload: false, timeout: 120)
            let log = (try? String(contentsOfFile: directory.path + "/server.log", encoding: .utf8)) ?? ""
            XCTAssertEqual(result.stdout, "3\nserver 0\n", "\(stats): \(result.stderr) \(log.suffix(1500))")
            if stats != "off" {
                let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: profile)))
                let totals = (json as? [String: Any])?["totals"] as? [String: Any]
                XCTAssertGreaterThan(totals?["malloc_calls"] as? Int ?? 0, 6000, "the server's allocations are counted")
                XCTAssertEqual((json as? [String: Any])?["allocator"] as? String, "libjemalloc.so.2",
                               "system is the allocator the program links")
            }
        }
    }
}
