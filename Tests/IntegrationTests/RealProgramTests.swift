import XCTest

/// Programs from Debian's packages behave exactly as without the library:
/// same stdout, same stderr (less the report), same exit status.
final class RealProgramTests: XCTestCase {
    override func setUpWithError() throws { try Harness.requireBuilt() }

    /// Both serving modes: direct (statistics off) and counting (summary).
    let modes = ["off", "summary"]

    func testPython3WithThreads() throws {
        let python = try which("python3")
        let script = """
            import threading, json, hashlib
            results = {}
            def work(n):
                d = {str(i): [i] * (i % 7) for i in range(20000)}
                results[n] = hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()
            threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
            for t in threads: t.start()
            for t in threads: t.join()
            print(sorted(set(results.values())))
            """
        for stats in modes {
            let result = assertSameBehaviour([python, "-c", script], environment: ["PYTHONMALLOC": "malloc"], stats: stats)
            XCTAssertTrue(result.stdout.hasPrefix("['"), result.stdout)
        }
    }

    /// node (V8, libstdc++) under the guard allocator, the guard page after
    /// each block and before it: the same output and status as without the
    /// library, past guard's mapping budget (V8 keeps more blocks live than
    /// guard may map, so the rest come from glibc unguarded, with one line).
    func testNodeUnderGuard() throws {
        let node = try which("node")
        let script = "let s = 0; const m = new Map(); for (let i = 0; i < 100000; i++) { s += JSON.stringify({a: i, b: [i, i + 1]}).length; if (i % 10 == 0) m.set(i, 'v' + i); } console.log(s, m.size)"
        for placement in ["", "below"] {
            let result = assertSameBehaviour([node, "-e", script],
                                             environment: ["SWALLOC_ALLOCATOR": "guard", "SWALLOC_GUARD": placement])
            XCTAssertEqual(result.stdout, "2866675 10000\n", placement)
        }
    }

    /// gcc and g++ compile the same object, and print nothing more: cc1 is
    /// a non-PIE executable that takes free's address, for which glibc's
    /// loader warned about the library's protected free when Swift exported
    /// it (see CSwallocPreload/exports.c).
    func testGccAndGxxCompileTheSame() throws {
        let gcc = try which("gcc")
        let gxx = try which("g++")
        let directory = Harness.temporaryDirectory(self)
        for stats in modes {
            let out = directory.appendingPathComponent("stress-\(stats).o").path
            _ = assertSameBehaviour([gcc, "-O2", "-c", Harness.root.appendingPathComponent("interpose/hosts/stress.c").path, "-o", out],
                                    stats: stats)
            _ = assertSameBehaviour([gxx, "-O1", "-fsyntax-only", Harness.root.appendingPathComponent("interpose/hosts/cxx_threads.cpp").path],
                                    stats: stats)
            let bare = directory.appendingPathComponent("bare.o").path
            let built = Harness.run([gcc, "-O2", "-c", Harness.root.appendingPathComponent("interpose/hosts/stress.c").path, "-o", bare],
                                    preload: false)
            XCTAssertEqual(built.status, 0, built.stderr)
            XCTAssertEqual(FileManager.default.contents(atPath: out), FileManager.default.contents(atPath: bare),
                           "the object files differ (\(stats))")
        }
    }

    func testPerl() throws {
        let perl = try which("perl")
        for stats in modes {
            let result = assertSameBehaviour(
                [perl, "-e", "my %h; $h{$_ % 1000} .= 'x' x ($_ % 13) for 1..200000; my @k = sort { $a <=> $b } keys %h; print scalar(@k), ' ', length($h{7}), qq{\\n}"],
                stats: stats)
            XCTAssertEqual(result.stdout, "1000 1195\n")
        }
    }

    func testGit() throws {
        let git = try which("git")
        let directory = Harness.temporaryDirectory(self)
        let setup = Harness.run(["sh", "-c", """
            cd \(directory.path) && git init -q repo && cd repo && \
            for i in $(seq 1 30); do echo "line $i" > f$i.txt; done && \
            git add . && git -c user.name=t -c user.email=t@t commit -qm one && \
            echo more >> f1.txt && git -c user.name=t -c user.email=t@t commit -qam two
            """], preload: false)
        XCTAssertEqual(setup.status, 0, setup.stderr)
        let repo = directory.appendingPathComponent("repo").path
        for stats in modes {
            _ = assertSameBehaviour([git, "-C", repo, "log", "--stat", "--format=%s"], stats: stats)
            _ = assertSameBehaviour([git, "-C", repo, "status", "--porcelain"], stats: stats)
            _ = assertSameBehaviour([git, "-C", repo, "rev-parse", "--verify", "nonexistent"], stats: stats)
        }
    }

    func testSqlite3() throws {
        let sqlite = try which("sqlite3")
        let sql = """
            create table t(a integer primary key, b text);
            with recursive c(x) as (select 1 union all select x + 1 from c where x < 20000)
            insert into t select x, hex(randomblob(16)) || x from c;
            create index tb on t(b);
            select count(*), sum(length(b)) from t;
            select a from t where a % 5000 = 0 order by a;
            """
        for stats in modes {
            let result = assertSameBehaviour([sqlite, ":memory:"], stdin: sql, stats: stats)
            XCTAssertTrue(result.stdout.hasPrefix("20000|"), result.stdout)
        }
    }

    func testSortAndXzWithThreads() throws {
        let directory = Harness.temporaryDirectory(self)
        let input = directory.appendingPathComponent("input.txt")
        let lines = (0..<50000).map { "\(($0 * 7919) % 50000) line \($0)" }.joined(separator: "\n") + "\n"
        try lines.write(to: input, atomically: true, encoding: .utf8)
        for stats in modes {
            _ = assertSameBehaviour([try which("sort"), "-n", input.path], stats: stats)
            let xz = assertSameBehaviour(["sh", "-c", "xz -T2 -3 -c < \(input.path) | xz -d | md5sum"], stats: stats)
            XCTAssertEqual(xz.status, 0)
        }
    }

    func testBash() throws {
        let bash = try which("bash")
        let script = "declare -A m; for i in $(seq 1 3000); do m[$i]=$((i*i)); done; s=0; for v in \"${m[@]}\"; do s=$((s+v)); done; echo $s; (echo sub; exit 4); echo $?"
        for stats in modes {
            let result = assertSameBehaviour([bash, "-c", script], stats: stats)
            XCTAssertEqual(result.stdout, "9004500500\nsub\n4\n")
        }
    }

    func which(_ program: String) throws -> String { try Harness.which(program) }
}
