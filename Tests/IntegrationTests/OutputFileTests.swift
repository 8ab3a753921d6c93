import Foundation
import XCTest

/// swalloc report -o and compare -o never replace a device, a symbolic link
/// or anything in /dev, and a write error is an error (docs/command-line.md).
final class OutputFileTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireTool() }

    func makeProfile() -> (directory: URL, path: String) { Harness.callSitesProfile(self) }

    func sh(_ script: String, _ arguments: [String] = []) -> Harness.Result {
        Harness.run(["/bin/sh", "-c", script, "sh"] + arguments, preload: false)
    }

    /// In a private mount namespace with a scratch /dev (a tmpfs holding
    /// null, full and urandom made with mknod): -o /dev/null leaves a
    /// character device, -o /dev/full fails, -o /dev/stdout is standard
    /// output; nothing is created in /dev; a FIFO of another user is
    /// refused, root's is written; a full file system leaves the old file
    /// and no temporary file.
    func testDevicesInAPrivateDev() throws {
        guard sh("unshare -m true").status == 0 else {
            throw XCTSkip("unshare -m is not available here (not root, or no mount namespaces): cannot make a private /dev")
        }
        let (directory, profile) = makeProfile()
        let expected = Harness.swalloc(["report", profile])
        XCTAssertEqual(expected.status, 0, expected.stderr)
        let script = """
            set -u
            tool=$1 profile=$2 scratch=$3
            mount --make-rprivate / && mount -t tmpfs -o mode=755 swalloc-dev /dev || exit 99
            mknod -m 666 /dev/null c 1 3 && mknod -m 666 /dev/full c 1 7 && mknod -m 666 /dev/urandom c 1 9
            ln -s /proc/self/fd/1 /dev/stdout && ln -s /proc/self/fd/2 /dev/stderr && ln -s /proc/self/fd /dev/fd
            mkfifo /dev/mine /dev/theirs && chown 4321 /dev/theirs
            "$tool" report -o /dev/null "$profile"; echo "null status $?" >&2
            echo "null is $(stat -c %F /dev/null)" >&2
            "$tool" report -o /dev/full "$profile" 2>"$scratch/full.err"; echo "full status $?" >&2
            "$tool" compare -o /dev/full "$profile" "$profile" 2>>"$scratch/full.err"; echo "compare full status $?" >&2
            "$tool" report -o /dev/stdout "$profile" >"$scratch/stdout.txt"; echo "stdout status $?" >&2
            echo "stdout is $(stat -c %F /dev/stdout)" >&2
            "$tool" report -o /dev/fd/7 "$profile" 7>"$scratch/fd7.txt"; echo "fd7 status $?" >&2
            "$tool" report -o /dev/new.txt "$profile" 2>>"$scratch/full.err"; echo "new status $?" >&2
            test -e /dev/new.txt && echo "new.txt exists" >&2
            "$tool" report -o /dev/theirs "$profile" 2>>"$scratch/full.err"; echo "theirs status $?" >&2
            cat /dev/mine >"$scratch/mine.txt" & reader=$!
            "$tool" report -o /dev/mine "$profile"; echo "mine status $?" >&2
            wait $reader
            echo "mine is $(stat -c %F /dev/mine)" >&2
            mkdir "$scratch/small" && mount -t tmpfs -o size=8k swalloc-small "$scratch/small" || exit 98
            echo old >"$scratch/small/p.html"
            "$tool" report --format html -o "$scratch/small/p.html" "$profile" 2>>"$scratch/full.err"; echo "small status $?" >&2
            echo "small holds $(ls -A "$scratch/small" | tr '\\n' ' ')and $(cat "$scratch/small/p.html")" >&2
            umount "$scratch/small"
            """
        let result = Harness.run(["unshare", "-m", "/bin/sh", "-c", script, "sh", Harness.tool, profile, directory.path],
                                 preload: false)
        let log = result.stderr
        XCTAssertEqual(result.status, 0, log)
        XCTAssertTrue(log.contains("null status 0\nnull is character special file\n"), log)
        XCTAssertTrue(log.contains("full status 74\n"), log)
        XCTAssertTrue(log.contains("compare full status 74\n"), log)
        XCTAssertTrue(log.contains("stdout status 0\nstdout is symbolic link\n"), log)
        XCTAssertTrue(log.contains("fd7 status 0\n"), log)
        XCTAssertTrue(log.contains("new status 74\n") && !log.contains("new.txt exists"), log)
        XCTAssertTrue(log.contains("theirs status 74\n"), log)
        XCTAssertTrue(log.contains("mine status 0\nmine is fifo\n"), log)
        XCTAssertTrue(log.contains("small status 74\nsmall holds p.html and old\n"), log)
        let errors = try String(contentsOfFile: directory.appendingPathComponent("full.err").path, encoding: .utf8)
        XCTAssertEqual(errors.split(separator: "\n"), [
            "swalloc: cannot write /dev/full: no space left on device",
            "swalloc: cannot write /dev/full: no space left on device",
            "swalloc: cannot write /dev/new.txt: swalloc creates no files in /dev",
            "swalloc: cannot write /dev/theirs: a device or FIFO of another user (uid 4321)",
            "swalloc: cannot write \(directory.path)/small/p.html: no space left on device",
        ])
        for name in ["stdout.txt", "fd7.txt", "mine.txt"] {
            let written = try String(contentsOfFile: directory.appendingPathComponent(name).path, encoding: .utf8)
            XCTAssertEqual(written, expected.stdout, name)
        }
    }

    /// `swalloc report > /dev/full`, or with standard output closed: one
    /// swalloc: line and status 74, not a trap with a stack dump.
    func testStandardOutputErrors() {
        let (_, profile) = makeProfile()
        let full = sh("\"$1\" report \"$2\" >/dev/full", [Harness.tool, profile])
        XCTAssertEqual(full.status, 74, full.stderr)
        XCTAssertEqual(full.stderr, "swalloc: cannot write standard output: no space left on device\n")
        let closed = sh("\"$1\" report \"$2\" >&-", [Harness.tool, profile])
        XCTAssertEqual(closed.status, 74, closed.stderr)
        XCTAssertEqual(closed.stderr, "swalloc: cannot write standard output: the descriptor is closed\n")
        let compare = sh("\"$1\" compare --format json \"$2\" \"$2\" >/dev/full", [Harness.tool, profile])
        XCTAssertEqual(compare.status, 74, compare.stderr)
        // Standard error full too: the status still says it.
        let both = sh("\"$1\" report \"$2\" >/dev/full 2>/dev/full", [Harness.tool, profile])
        XCTAssertEqual(both.status, 74)
    }

    /// Regular files: replaced whole with their permissions kept, no
    /// temporary file left; symbolic links and directories refused and left
    /// alone.
    func testRegularFilesLinksAndDirectories() throws {
        let (directory, profile) = makeProfile()
        let target = directory.appendingPathComponent("out.txt").path
        try "old".write(toFile: target, atomically: false, encoding: .utf8)
        chmod(target, 0o640)
        let write = Harness.swalloc(["report", "-o", target, profile])
        XCTAssertEqual(write.status, 0, write.stderr)
        XCTAssertTrue(try String(contentsOfFile: target, encoding: .utf8).contains("top sites by bytes"))
        let mode = (try FileManager.default.attributesOfItem(atPath: target)[.posixPermissions] as? NSNumber)?.intValue
        XCTAssertEqual(mode, 0o640)
        let link = directory.appendingPathComponent("link.txt").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let refused = Harness.swalloc(["report", "--format", "json", "-o", link, profile])
        XCTAssertEqual(refused.status, 74)
        XCTAssertEqual(refused.stderr, "swalloc: cannot write \(link): a symbolic link (give the path of the file it points to)\n")
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: link), target)
        let compare = Harness.swalloc(["compare", "-o", directory.path, profile, profile])
        XCTAssertEqual(compare.status, 74)
        XCTAssertEqual(compare.stderr, "swalloc: cannot write \(directory.path): a directory\n")
        let left = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        XCTAssertEqual(left, ["link.txt", "out.txt", "p.json"], "no temporary file left")
        let empty = Harness.swalloc(["report", "-o", "", profile])
        XCTAssertEqual(empty.status, 64, "a usage error")
    }
}
