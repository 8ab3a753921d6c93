import Foundation
import SwallocReport
import XCTest

/// Where SWALLOC_OUT may write (docs/fork-and-signals.md, "Files"): the
/// descriptor for /dev/stdout and its kind, in place for a FIFO or device
/// of the user's or root's, never anything else in /dev, and other paths
/// whole or not at all through an unpredictable temporary name.
final class ProfileFileSafetyTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireBuilt() }

    /// Runs `script` in a private mount namespace whose /dev is a scratch
    /// tmpfs with null, full, and the stdout/stderr/fd links, as root sees
    /// them (so that a mistake cannot break this machine's /dev).
    func inScratchDev(_ script: String) throws -> Harness.Result {
        let setup = "mount -t tmpfs none /dev && mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/full c 1 7 "
            + "&& ln -s /proc/self/fd/1 /dev/stdout && ln -s /proc/self/fd/2 /dev/stderr && ln -s /proc/self/fd /dev/fd"
        let probe = Harness.run(["unshare", "-m", "true"], preload: false, timeout: 30)
        guard probe.status == 0 else { throw XCTSkip("unshare -m is not permitted here: \(probe.stderr)") }
        return Harness.run(["unshare", "-m", "bash", "-c", setup + " && " + script], preload: false, timeout: 60)
    }

    func preloaded(_ out: String, _ rest: String = "") -> String {
        "SWALLOC_OUT='\(out)' SWALLOC_SAMPLE=0 LD_PRELOAD='\(Harness.library)' '\(Harness.host("exit_status"))' 0\(rest)"
    }

    func testDescriptorNamesMeanTheDescriptor() throws {
        for name in ["/dev/stdout", "/dev/fd/1"] {
            let result = try inScratchDev(preloaded(name, " 2>/dev/null; stat -c %F /dev/stdout"))
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertTrue(result.stdout.contains("\"version\": 1"), "\(name): \(result.stdout)")
            XCTAssertTrue(result.stdout.hasSuffix("symbolic link\n"), "\(name) was replaced: \(result.stdout)")
        }
        let stderr = try inScratchDev(preloaded("/dev/stderr", " 2>&1 >/dev/null"))
        XCTAssertTrue(stderr.stdout.contains("\"version\": 1"), stderr.stdout)
    }

    func testDevicesAreWrittenInPlaceAndNeverReplaced() throws {
        let null = try inScratchDev(preloaded("/dev/null", "; stat -c %F /dev/null"))
        XCTAssertEqual(null.stdout, "hello\ncharacter special file\n")
        XCTAssertEqual(null.stderr, "")
        let full = try inScratchDev(preloaded("/dev/full", "; stat -c %F /dev/full"))
        XCTAssertEqual(full.stdout, "hello\ncharacter special file\n")
        XCTAssertEqual(full.stderr,
                       "swalloc: SWALLOC_OUT: writing /dev/full failed (No space left on device); no profile written\n")
        let new = try inScratchDev(preloaded("/dev/profile.json", "; ls /dev"))
        XCTAssertEqual(new.stdout, "hello\nfd\nfull\nnull\nstderr\nstdout\n", "nothing new in /dev")
        XCTAssertTrue(new.stderr.contains("nothing but a device or FIFO is written in /dev"), new.stderr)
        // Other spellings of a path in /dev, and /dev as the working directory.
        for out in ["//dev/stdout", "/./dev/stdout"] {
            let spelled = try inScratchDev(preloaded(out, " >/dev/null; stat -c %F /dev/stdout"))
            XCTAssertEqual(spelled.stdout, "symbolic link\n", "\(out) replaced /dev/stdout")
        }
        let relative = try inScratchDev("cd /dev && " + preloaded("stdout", " >/dev/null; stat -c %F /dev/stdout"))
        XCTAssertEqual(relative.stdout, "symbolic link\n", "a relative name in /dev replaced /dev/stdout")
    }

    /// A FIFO another user owns receives nothing from root's process.
    func testForeignFIFOIsRefused() throws {
        let directory = Harness.temporaryDirectory(self)
        let fifo = directory.appendingPathComponent("planted").path
        XCTAssertEqual(mkfifo(fifo, 0o666), 0)
        XCTAssertEqual(chown(fifo, 65534, 65534), 0)
        let reader = open(fifo, O_RDONLY | O_NONBLOCK)
        defer { close(reader) }
        let result = Harness.run([Harness.host("exit_status")], environment: ["SWALLOC_OUT": fifo, "SWALLOC_SAMPLE": "0"])
        XCTAssertEqual(result.status, 0)
        XCTAssertEqual(result.stderr,
                       "swalloc: SWALLOC_OUT=\(fifo): a FIFO or device that belongs to another user; no profile written\n")
        var byte: UInt8 = 0
        XCTAssertLessThanOrEqual(read(reader, &byte, 1), 0, "the FIFO received data")
    }

    /// The old predictable temporary name, taken in advance, blocks
    /// nothing; no temporary file is left behind.
    func testTemporaryNameIsUnpredictable() throws {
        let directory = Harness.temporaryDirectory(self)
        let path = directory.appendingPathComponent("p.json").path
        for pid in 1...64 {
            FileManager.default.createFile(atPath: "\(path).swalloc-tmp.\(pid)", contents: Data())
        }
        let before = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
        let result = Harness.run([Harness.host("exit_status")], environment: ["SWALLOC_OUT": path, "SWALLOC_SAMPLE": "0"])
        XCTAssertEqual(result.stderr, "")
        XCTAssertNoThrow(try Profile.load(path: path))
        let after = Set(try FileManager.default.contentsOfDirectory(atPath: directory.path))
        XCTAssertEqual(after.subtracting(before), ["p.json"])
    }
}
