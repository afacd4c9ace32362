import Foundation
import Testing

/// Real jobs through the built `swiftmpirun`: start-up, failure propagation, output and stdin.
/// Serialized: each job may use both CPUs, and 8 ranks already oversubscribe them.
@Suite("swiftmpirun runs jobs on one host", .serialized)
struct LauncherJobTests {
    @Test("every rank starts, joins the wire-up and finalizes", arguments: [1, 2, 4, 8])
    func ranksStartAndFinalize(n: Int) throws {
        let result = try JobRunner.ranks(n, ["ranks"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.sortedLines == (0..<n).map { "rank \($0) of \(n)" }.sorted())
    }

    @Test("the README's hello example prints every rank")
    func helloExample() throws {
        let result = try JobRunner.run(["-n", "4", "swiftmpi-hello"])
        #expect(result.status == 0)
        #expect(result.sortedLines.count == 4)
        for rank in 0..<4 { #expect(result.stdout.contains("Hello from rank \(rank) of 4")) }
    }

    @Test("a rank exiting with status 3 ends the job with status 3 and one clear line")
    func nonzeroExitPropagates() throws {
        let mark = "SWIFTMPI_TEST_MARK=\(UUID().uuidString)"
        let result = try JobRunner.ranks(4, ["exit", "3", "2"], environment: ["SWIFTMPI_TEST_MARK": String(mark.dropFirst(19))])
        #expect(result.status == 3)
        let lines = result.stderr.split(separator: "\n")
        #expect(lines.count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.range(of: #"^swiftmpirun: rank 2 \(pid \d+\) exited with status 3; job aborted\n$"#, options: .regularExpression) != nil)
        // The other ranks were sleeping for 60 s: they were ended, not waited for.
        #expect(result.seconds < 20)
        #expect(JobRunner.livePIDs(withEnvironment: mark).isEmpty)
    }

    @Test("a rank killed by SIGSEGV ends the job with 128+11 and names the signal")
    func segfaultPropagates() throws {
        let result = try JobRunner.ranks(4, ["segv", "3"])
        #expect(result.status == 139)
        #expect(
            result.stderr.range(
                of: #"swiftmpirun: rank 3 \(pid \d+\) was killed by signal 11 \(Segmentation fault\); job aborted"#, options: .regularExpression) != nil,
            "stderr: \(result.stderr)")
        #expect(result.seconds < 20)
    }

    @Test("MPI.abort(code) in one rank ends the job with that code")
    func abortPropagates() throws {
        let result = try JobRunner.ranks(4, ["abort", "9", "1"])
        #expect(result.status == 9)
        #expect(
            result.stderr.range(of: #"swiftmpirun: rank 1 \(pid \d+\) called MPI.abort\(9\): test abort; job aborted"#, options: .regularExpression) != nil,
            "stderr: \(result.stderr)")
        #expect(result.seconds < 20)
    }

    @Test("a communicator whose error handler is .fatal ends the job on its first error, with the error as the job's line")
    func fatalErrorHandler() throws {
        let result = try JobRunner.run(["--timeout", "60", "-n", "3", "swiftmpi-testrank", "fatal-handler"])
        #expect(result.status == 1, "stderr: \(result.stderr)")
        #expect(
            result.stderr.range(
                of: #"swiftmpirun: rank 1 \(pid \d+\) called MPI.abort\(1\): fatal error handler: rank 1: invalidRank: .*send.*; job aborted"#,
                options: .regularExpression) != nil,
            "stderr: \(result.stderr)")
        #expect(result.seconds < 20)
    }

    @Test("SIGTERM to the launcher is forwarded to every rank and the job ends with 128+15")
    func sigtermForwarded() throws {
        let mark = "SWIFTMPI_TEST_MARK=\(UUID().uuidString)"
        let launcher = try startLauncher(["-n", "3", "swiftmpi-testrank", "sleep", "60"], mark: mark)
        #expect(JobRunner.eventually(within: 10) { JobRunner.livePIDs(withEnvironment: mark).count == 4 })
        kill(launcher.pid, SIGTERM)
        #expect(launcher.wait() == 128 + SIGTERM)
        #expect(JobRunner.eventually(within: 5) { JobRunner.livePIDs(withEnvironment: mark).isEmpty })
    }

    @Test(
        "the first SIGINT or SIGTERM to the launcher makes every rank say what it waits for, keeps what they printed, then ends them",
        arguments: [SIGINT, SIGTERM])
    func interruptExplainsHang(signal: Int32) throws {
        let mark = "SWIFTMPI_TEST_MARK=\(UUID().uuidString)"
        let stderrPath = TestRun.scratchDirectory.appendingPathComponent("signal-\(UUID().uuidString).err").path
        let stdoutPath = TestRun.scratchDirectory.appendingPathComponent("signal-\(UUID().uuidString).out").path
        defer { unlink(stderrPath); unlink(stdoutPath) }
        let launcher = try ChildProcess(
            JobRunner.launcher, ["-n", "2", "swiftmpi-testrank", "print-then-hang"],
            environment: ProcessInfo.processInfo.environment.merging(["SWIFTMPI_TEST_MARK": String(mark.dropFirst(19))]) { $1 },
            stdoutPath: stdoutPath, stderrPath: stderrPath)
        #expect(JobRunner.eventually(within: 10) { JobRunner.livePIDs(withEnvironment: mark).count == 3 })
        usleep(1_000_000)  // both ranks in their receives (published after 0.25 s idle)
        kill(launcher.pid, signal)
        #expect(launcher.wait() == 128 + signal)
        let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        let stdout = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
        for rank in 0..<2 {
            #expect(stderr.contains("swiftmpirun: rank \(rank): waiting "), "stderr: \(stderr)")
            #expect(stderr.contains(" s in recv(from: \(1 - rank), tag: 7, 8 bytes) on world\n"), "stderr: \(stderr)")
            // What the ranks printed before they blocked is kept (stdout is line-buffered).
            #expect(stdout.contains("rank \(rank) receiving from \(1 - rank)\n"), "stdout: \(stdout)")
        }
        #expect(JobRunner.eventually(within: 5) { JobRunner.livePIDs(withEnvironment: mark).isEmpty })
    }

    @Test("SIGUSR1 to the launcher prints what every rank waits for, and the job goes on")
    func statusOnRequest() throws {
        let stderrPath = TestRun.scratchDirectory.appendingPathComponent("usr1-\(UUID().uuidString).err").path
        let stdoutPath = TestRun.scratchDirectory.appendingPathComponent("usr1-\(UUID().uuidString).out").path
        defer { unlink(stderrPath); unlink(stdoutPath) }
        let launcher = try ChildProcess(JobRunner.launcher, ["-n", "2", "swiftmpi-testrank", "idle-cpu", "3"], stdoutPath: stdoutPath, stderrPath: stderrPath)
        usleep(1_500_000)  // rank 0 waits in recv for rank 1, which sleeps
        kill(launcher.pid, SIGUSR1)
        #expect(launcher.wait() == 0)
        let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        let stdout = (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? ""
        #expect(stderr.contains(#/swiftmpirun: rank 0: waiting \d+\.\d s in recv\(from: 1, tag: 3, 8 bytes\) on world/#), "stderr: \(stderr)")
        #expect(stderr.contains("swiftmpirun: rank 1: not waiting in SwiftMPI"), "stderr: \(stderr)")
        #expect(stdout.contains("blocked "), "stdout: \(stdout)")
    }

    @Test("ranks die with their launcher (kill -9 of swiftmpirun leaves no rank behind)")
    func launcherDeathEndsRanks() throws {
        let mark = "SWIFTMPI_TEST_MARK=\(UUID().uuidString)"
        let launcher = try startLauncher(["-n", "3", "swiftmpi-testrank", "sleep", "60"], mark: mark)
        #expect(JobRunner.eventually(within: 10) { JobRunner.livePIDs(withEnvironment: mark).count == 4 })
        kill(launcher.pid, SIGKILL)
        launcher.wait()
        #expect(JobRunner.eventually(within: 5) { JobRunner.livePIDs(withEnvironment: mark).isEmpty })
    }

    @Test("the key-value socket is abstract and closed once every rank has said hello; kill -9 of swiftmpirun after wire-up leaves no file")
    func launcherDeathLeavesNoFiles() throws {
        let mark = "SWIFTMPI_TEST_MARK=\(UUID().uuidString)"
        let scratch = TestRun.scratchDirectory.appendingPathComponent("tmp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let launcher = try ChildProcess(
            JobRunner.launcher, ["-n", "3", "swiftmpi-testrank", "sleep", "60"],
            environment: ProcessInfo.processInfo.environment.merging(
                ["SWIFTMPI_TEST_MARK": String(mark.dropFirst(19)), "TMPDIR": scratch.path]) { $1 })
        #expect(JobRunner.eventually(within: 10) { JobRunner.livePIDs(withEnvironment: mark).count == 4 })
        let jobID = JobRunner.jobID(ofRanksWith: mark)
        #expect(jobID != nil)
        let address = try #require(JobRunner.environmentValue("SWIFTMPI_KVS", ofRanksWith: mark))
        #expect(address.hasPrefix("@swiftmpi-kvs-"), "SWIFTMPI_KVS=\(address)")
        // Every rank has said hello (they sleep after MPI.initialize): the launcher stops listening at
        // once, while it runs; the segment names go when the ranks have attached (the end of wire-up).
        #expect(JobRunner.eventually(within: 10) { !JobRunner.listeningAbstractSockets().contains(address) })
        #expect(JobRunner.eventually(within: 10) { JobRunner.segments(ofJob: jobID).isEmpty })
        kill(launcher.pid, SIGKILL)
        launcher.wait()
        #expect(JobRunner.eventually(within: 5) { JobRunner.livePIDs(withEnvironment: mark).isEmpty })
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
        #expect(JobRunner.segments(ofJob: jobID).isEmpty)
    }

    @Test("kill -9 of swiftmpirun during wire-up, with segments created and named, leaves no segment behind")
    func launcherDeathDuringWireup() throws {
        let mark = "SWIFTMPI_TEST_MARK=\(UUID().uuidString)"
        let launcher = try startLauncher(["-n", "3", "swiftmpi-testrank", "late-init"], mark: mark)
        #expect(JobRunner.eventually(within: 10) { JobRunner.livePIDs(withEnvironment: mark).count == 4 })
        let jobID = JobRunner.jobID(ofRanksWith: mark)
        #expect(jobID != nil)
        // Ranks 0 and 1 have created their segments and wait in the fence for rank 2, which sleeps.
        #expect(
            JobRunner.eventually(within: 10) { JobRunner.segments(ofJob: jobID).count == 2 },
            "segments: \(JobRunner.segments(ofJob: jobID))")
        kill(launcher.pid, SIGKILL)
        launcher.wait()
        #expect(JobRunner.eventually(within: 5) { JobRunner.livePIDs(withEnvironment: mark).isEmpty })
        #expect(
            JobRunner.eventually(within: 5) { JobRunner.segments(ofJob: jobID).isEmpty },
            "left behind: \(JobRunner.segments(ofJob: jobID))")
        for name in JobRunner.segments(ofJob: jobID) { unlink("/dev/shm/\(name)") }
    }

    private func startLauncher(_ arguments: [String], mark: String) throws -> ChildProcess {
        try ChildProcess(
            JobRunner.launcher, arguments,
            environment: ProcessInfo.processInfo.environment.merging(["SWIFTMPI_TEST_MARK": String(mark.dropFirst(19))]) { $1 })
    }

    @Test(
        "kill -9 of a random rank at a random moment of mixed traffic ends the job within a second, with one line",
        arguments: [0, 1, 2, 3])
    func rankKilledDuringTraffic(trial: Int) throws {
        var random = SystemRandomNumberGenerator()
        let mark = "SWIFTMPI_TEST_MARK=\(UUID().uuidString)"
        let scratch = TestRun.scratchDirectory.appendingPathComponent("kill-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let stderrPath = scratch.appendingPathComponent("err").path
        let launcher = try ChildProcess(
            JobRunner.launcher, ["--timeout", "120", "-n", "4", "swiftmpi-p2p-check", "soak"],
            environment: ProcessInfo.processInfo.environment.merging(
                ["SWIFTMPI_TEST_MARK": String(mark.dropFirst(19)), "SWIFTMPI_SOAK_SECONDS": "60"]) { $1 },
            stderrPath: stderrPath)
        #expect(JobRunner.eventually(within: 20) { JobRunner.livePIDs(withEnvironment: mark).count == 5 })
        usleep(UInt32.random(in: 300_000...2_000_000, using: &random))
        let ranks = JobRunner.livePIDs(withEnvironment: mark).filter { $0 != launcher.pid }
        let victim = try #require(ranks.randomElement(using: &random))
        let killed = Date()
        kill(victim, SIGKILL)
        let status = launcher.wait()
        let seconds = Date().timeIntervalSince(killed)
        let stderr = (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? ""
        print("rank pid \(victim) killed; the job ended \(String(format: "%.3f", seconds)) s later with status \(status)")
        #expect(status == 137, "stderr: \(stderr)")
        #expect(
            stderr.range(
                of: #"swiftmpirun: rank \d \(pid \#(victim)\) was killed by signal 9 \(Killed\); job aborted"#,
                options: .regularExpression) != nil, "stderr: \(stderr)")
        #expect(stderr.split(separator: "\n").count == 1, "stderr: \(stderr)")
        #expect(seconds <= 1.0, "the job took \(seconds) s to end")
        #expect(JobRunner.eventually(within: 5) { JobRunner.livePIDs(withEnvironment: mark).isEmpty })
    }

    @Test("a rank that exits 0 without MPI.finalize still aborts the job, and the others' earlier output is kept")
    func exitWithoutFinalize() throws {
        let result = try JobRunner.ranks(3, ["no-finalize"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("exited without calling MPI.finalize(); job aborted"))
        // The other ranks are killed, but what they printed before is kept (line-buffered stdout).
        for rank in 0..<3 { #expect(result.stdout.contains("rank \(rank) was here\n"), "stdout: \(result.stdout)") }
    }

    @Test("--timeout ends the job, names the ranks still running, and exits 124")
    func timeout() throws {
        let result = try JobRunner.ranks(3, ["sleep", "60"], launcherOptions: ["--timeout", "1"])
        #expect(result.status == 124)
        #expect(result.stderr.contains("timed out after 1.0 s; ranks still running: 0, 1, 2; job aborted"), "stderr: \(result.stderr)")
        #expect(result.seconds < 20)
    }

    @Test("a rank that throws an uncaught MPIError is named with its error in one line; its stderr stays short (no backtrace)")
    func uncaughtError() throws {
        let result = try JobRunner.ranks(3, ["uncaught", "1"])
        #expect(result.status == 128 + SIGILL || result.status == 128 + SIGTRAP)
        let verdict = result.stderr.matches(of: /rank 1 \(pid \d+\) stopped on an uncaught error: rank 1: invalidRank: send: [^\n]*; job aborted/)
        #expect(verdict.count == 1, "stderr: \(result.stderr)")
        #expect(!result.stderr.contains("Backtrac") && !result.stderr.contains("Thread 0"), "stderr: \(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count <= 5, "stderr: \(result.stderr)")
        // With --backtrace the Swift runtime's report is back; the verdict is the same.
        let traced = try JobRunner.ranks(2, ["uncaught", "1"], launcherOptions: ["--backtrace"])
        #expect(traced.stderr.contains("stopped on an uncaught error: rank 1: invalidRank: send:"), "stderr: \(traced.stderr)")
        #expect(traced.stderr.contains("Backtrac") || traced.stderr.contains("Thread 0"), "stderr: \(traced.stderr)")
    }

    @Test("on --timeout every rank says what it waits for, and the lines printed before the hang reach the terminal and --output-dir files")
    func outputBeforeHang() throws {
        let result = try JobRunner.ranks(2, ["print-then-hang"], launcherOptions: ["--timeout", "2"])
        #expect(result.status == 124)
        for rank in 0..<2 { #expect(result.stdout.contains("rank \(rank) receiving from \(1 - rank)\n"), "stdout: \(result.stdout)") }
        // Each rank says what it is blocked in, before the launcher's verdict.
        for rank in 0..<2 {
            let line = result.stderr.matches(of: /swiftmpirun: rank (\d): waiting (\d+\.\d) s in recv\(from: (\d), tag: 7, 8 bytes\) on world\n/)
                .first { $0.1 == "\(rank)" }
            #expect(line?.3 == "\(1 - rank)" && (Double(line?.2 ?? "0") ?? 0) >= 1, "stderr: \(result.stderr)")
        }
        let directory = TestRun.scratchDirectory.appendingPathComponent("hang-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let saved = try JobRunner.ranks(2, ["print-then-hang"], launcherOptions: ["--timeout", "2", "--output-dir", directory.path])
        #expect(saved.status == 124)
        for rank in 0..<2 {
            let text = try String(contentsOf: directory.appendingPathComponent("rank.\(rank).out"), encoding: .utf8)
            #expect(text == "rank \(rank) receiving from \(1 - rank)\n")
            // The launcher still says what each rank waited for when the ranks' output goes to files.
            #expect(saved.stderr.contains("swiftmpirun: rank \(rank): waiting "), "stderr: \(saved.stderr)")
        }
    }

    @Test("a hang report says which rank waits in MPI.finalize for the others and which one returned from it")
    func finalizeInHangReports() throws {
        let waiting = try JobRunner.ranks(2, ["finalize-while-peer-waits"], launcherOptions: ["--timeout", "2"])
        #expect(waiting.status == 124)
        #expect(
            waiting.stderr.contains(#/swiftmpirun: rank 1: waiting \d+\.\d s in MPI.finalize\(\), for every rank to call it/#), "stderr: \(waiting.stderr)")
        #expect(waiting.stderr.contains(#/swiftmpirun: rank 0: waiting \d+\.\d s in recv\(from: 1, tag: 9, 8 bytes\) on world/#), "stderr: \(waiting.stderr)")
        let finished = try JobRunner.ranks(2, ["finished-then-hang"], launcherOptions: ["--timeout", "2"])
        #expect(finished.status == 124)
        #expect(finished.stderr.contains("swiftmpirun: rank 1: finished (MPI.finalize() returned)"), "stderr: \(finished.stderr)")
    }

    @Test("a rank hung in a rooted collective names the root it waits for, on shared memory and over TCP")
    func rootedCollectiveHangReport() throws {
        for options in [[String](), ["--transport", "tcp"]] {
            let result = try JobRunner.ranks(2, ["bcast-hang"], launcherOptions: ["--timeout", "2"] + options)
            #expect(result.status == 124)
            #expect(
                result.stderr.contains(#/swiftmpirun: rank 0: waiting \d+\.\d s in bcast\(2 ranks, root 1\) on world, (shared-memory )?collective #\d+\n/#),
                "\(options): stderr: \(result.stderr)")
        }
    }

    @Test("a rank hung in a collective reports the collective's number on its communicator, not an internal tag")
    func collectiveHangReport() throws {
        let shared = try JobRunner.ranks(2, ["collective-hang"], launcherOptions: ["--timeout", "2"])
        #expect(shared.status == 124)
        #expect(
            shared.stderr.contains(#/swiftmpirun: rank 0: waiting \d+\.\d s in barrier\(2 ranks\) on world, shared-memory collective #\d+\n/#),
            "stderr: \(shared.stderr)")
        let tcp = try JobRunner.ranks(2, ["collective-hang"], launcherOptions: ["--timeout", "2", "--transport", "tcp"])
        #expect(tcp.status == 124)
        #expect(
            tcp.stderr.contains(#/swiftmpirun: rank 0: waiting \d+\.\d s in barrier\(from: 1, 0 bytes\) on world, inside collective #\d+\n/#),
            "stderr: \(tcp.stderr)")
        #expect(!tcp.stderr.contains("tag:"), "stderr: \(tcp.stderr)")
    }

    @Test("a rank blocked in recv for 3 s sleeps instead of spinning (its CPU time is measured and printed)")
    func idleRankSleeps() throws {
        let result = try JobRunner.ranks(2, ["idle-cpu", "3"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let match = result.stdout.firstMatch(of: /blocked ([0-9.]+) s in recv, cpu ([0-9.e-]+) s/)
        let blocked = Double(match?.1 ?? "0") ?? 0, cpu = Double(match?.2 ?? "9") ?? 9
        print("[idle-cpu] blocked \(blocked) s in recv, CPU \(cpu) s (spinning would take about \(blocked) s)")
        // Spinning costs about the blocked time; sleeping on the doorbell costs the 50 ms spin and a
        // few wake-ups (0.09-0.10 s measured for 5 s). A loose bound: noise cannot fail it, spinning does.
        #expect(blocked >= 2.9 && cpu < blocked / 3, "stdout: \(result.stdout)")
    }

    @Test(
        "a rank blocked in recv for 3 s naps instead of spinning where it has no doorbell: at thread level .multiple over TCP",
        arguments: [["--transport", "tcp"], [String]()])
    func idleRankNapsAtMultiple(options: [String]) throws {
        let result = try JobRunner.ranks(2, ["idle-cpu-multiple", "3"], launcherOptions: options)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let match = result.stdout.firstMatch(of: /blocked ([0-9.]+) s in recv, cpu ([0-9.e-]+) s/)
        let blocked = Double(match?.1 ?? "0") ?? 0, cpu = Double(match?.2 ?? "9") ?? 9
        print("[idle-cpu .multiple \(options)] blocked \(blocked) s in recv, CPU \(cpu) s")
        #expect(blocked >= 2.9 && cpu < blocked / 3, "stdout: \(result.stdout)")
    }

    @Test("--tag-output prefixes every line and lines of different ranks never interleave")
    func taggedOutputStaysWhole() throws {
        let result = try JobRunner.ranks(4, ["lines", "300"], launcherOptions: ["--tag-output"])
        #expect(result.status == 0)
        let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 4 * 300)
        for line in lines {
            let match = line.wholeMatch(of: /\[(\d)\] rank (\d) line (\d+) ([a-z]+) end/)
            #expect(match != nil, "broken line: \(line)")
            if let match {
                #expect(match.1 == match.2)
                #expect(match.4.count == 100 && Set(match.4).count == 1)
            }
        }
    }

    @Test("--output-dir writes rank.N.out and rank.N.err")
    func outputDirectory() throws {
        let directory = TestRun.scratchDirectory.appendingPathComponent("out-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let result = try JobRunner.ranks(2, ["ranks"], launcherOptions: ["--output-dir", directory.path])
        #expect(result.status == 0)
        #expect(result.stdout.isEmpty)
        for rank in 0..<2 {
            let text = try String(contentsOf: directory.appendingPathComponent("rank.\(rank).out"), encoding: .utf8)
            #expect(text == "rank \(rank) of 2\n")
            #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("rank.\(rank).err").path))
        }
    }

    @Test("stdin goes to rank 0")
    func stdinReachesRankZero() throws {
        let result = try JobRunner.ranks(2, ["stdin"], input: "alpha\nbeta\n")
        #expect(result.status == 0)
        #expect(result.stdout == "got: alpha\ngot: beta\n")
    }

    @Test("-x exports variables and the launcher's environment passes through")
    func exports() throws {
        let passed = try JobRunner.ranks(2, ["env", "SWIFTMPI_TEST_PASSED"], environment: ["SWIFTMPI_TEST_PASSED": "yes"])
        #expect(passed.sortedLines == ["rank 0 SWIFTMPI_TEST_PASSED=yes", "rank 1 SWIFTMPI_TEST_PASSED=yes"])
        let exported = try JobRunner.ranks(2, ["env", "SWIFTMPI_TEST_X"], launcherOptions: ["-x", "SWIFTMPI_TEST_X=a=b"])
        #expect(exported.sortedLines == ["rank 0 SWIFTMPI_TEST_X=a=b", "rank 1 SWIFTMPI_TEST_X=a=b"])
    }

    @Test("ranks are bound to separate CPUs when they fit, unbound and yielding when oversubscribed")
    func binding() throws {
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        let fitting = try JobRunner.ranks(min(2, cpus), ["binding"])
        #expect(fitting.status == 0)
        #expect(fitting.stdout.contains("rank 0 bound to 0 oversubscribed 0") || cpus == 1)
        let crowded = try JobRunner.ranks(cpus + 2, ["binding"])
        #expect(crowded.status == 0)
        #expect(crowded.sortedLines.allSatisfy { $0.hasSuffix("bound to none oversubscribed 1") })
        let forced = try JobRunner.ranks(cpus + 1, ["binding"], launcherOptions: ["--bind-to", "core"])
        #expect(forced.stdout.contains("rank \(cpus) bound to 0 oversubscribed 1"))
    }

    @Test("--map-by, --bind-to and PE=n give ranks the CPUs they promise (read back from each rank's affinity), under taskset too")
    func placement() throws {
        let allowed = try String(contentsOfFile: "/proc/self/status", encoding: .utf8).split(separator: "\n")
            .first { $0.hasPrefix("Cpus_allowed_list:") }.map { String($0.dropFirst(18).filter { !$0.isWhitespace }) }
        let cpus = ProcessInfo.processInfo.activeProcessorCount
        // One rank with every core: bound to all of them, OMP_NUM_THREADS set to match.
        let wide = try JobRunner.ranks(1, ["affinity"], launcherOptions: ["--map-by", "core:PE=\(cpus)"])
        #expect(wide.status == 0 && wide.stdout == "rank 0 cpus \(allowed ?? "?") env \(allowed ?? "?") omp \(cpus)\n", "\(wide.stdout)\(wide.stderr)")
        // ppr:1:core without -n: one rank per core, each bound to its own, reported as Open MPI does.
        let perCore = try JobRunner.run(["--map-by", "ppr:1:core", "--report-bindings", "swiftmpi-testrank", "affinity"])
        #expect(perCore.status == 0 && perCore.sortedLines.count == cpus, "\(perCore.stdout)\(perCore.stderr)")
        let boundTo = perCore.sortedLines.compactMap { $0.split(separator: " ").dropFirst(3).first.map(String.init) }
        #expect(Set(boundTo).count == cpus, "every rank on a CPU of its own: \(perCore.stdout)")
        #expect(perCore.stderr.contains("MCW rank 0 bound to socket 0[core 0[hwt 0]]: [B"), "\(perCore.stderr)")
        #expect(perCore.stderr.matches(of: /MCW rank \d+ bound to/).count == cpus)
        // More ranks than CPUs: unbound, each with the launcher's whole CPU list (not the one CPU the
        // launcher holds while it starts them), and the user's OMP_NUM_THREADS is kept.
        let crowded = try JobRunner.ranks(cpus + 1, ["affinity"], launcherOptions: ["-x", "OMP_NUM_THREADS=3", "--display-map"])
        #expect(crowded.status == 0 && crowded.sortedLines.count == cpus + 1)
        #expect(crowded.sortedLines.allSatisfy { $0.hasSuffix("cpus \(allowed ?? "?") env none omp 3") }, "\(crowded.stdout)")
        #expect(crowded.stderr.contains("JOB MAP") && crowded.stderr.matches(of: /Process rank: \d+\tBound: N\/A/).count == cpus + 1, "\(crowded.stderr)")
        // Under taskset the launcher places ranks on the CPUs it was given.
        let last = "\(cpus - 1)"
        let pinned = try JobRunner.run(
            ["-n", "1", "--report-bindings", "swiftmpi-testrank", "affinity"], wrapper: ["/usr/bin/taskset", "-c", last])
        #expect(pinned.status == 0 && pinned.stdout == "rank 0 cpus \(last) env \(last) omp unset\n", "\(pinned.stdout)\(pinned.stderr)")
        #expect(pinned.stderr.contains("MCW rank 0 bound to socket 0[core 0[hwt 0]]: [B]"), "\(pinned.stderr)")
        // Asking for more cores than there are is refused before any rank starts.
        let greedy = try JobRunner.ranks(2, ["affinity"], launcherOptions: ["--map-by", "core:PE=\(cpus)"])
        #expect(greedy.status == 2 && greedy.stdout.isEmpty)
        #expect(greedy.stderr.contains("swiftmpirun: PE=\(cpus): 2 ranks × \(cpus) cores need \(2 * cpus); this host has \(cpus) usable"), "\(greedy.stderr)")
    }

    @Test("a multi-program job (-n 1 a : -n 2 b) is one world; each program has its app number, -x and --wdir")
    func multiProgram() throws {
        // The second program: the test rank program copied under another name.
        let scratch = try TestRun.makeScratch("mpmd")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let worker = scratch.appendingPathComponent("swiftmpi-worker").path
        try FileManager.default.copyItem(atPath: JobRunner.binaryDirectory.appendingPathComponent("swiftmpi-testrank").path, toPath: worker)
        let result = try JobRunner.run([
            "-x", "ROLE=lead", "-n", "1", "swiftmpi-testrank", "mpmd", "first", ":", "-n", "2", "-x", "ROLE=work", "--wdir", scratch.path, worker, "mpmd",
            "second"
        ])
        #expect(result.status == 0, "\(result.stderr)")
        let here = FileManager.default.currentDirectoryPath
        #expect(
            result.sortedLines == [
                "rank 0: app 0 swiftmpi-testrank first role lead cwd \(here)", "rank 1: app 1 swiftmpi-worker second role work cwd \(scratch.path)",
                "rank 2: app 1 swiftmpi-worker second role work cwd \(scratch.path)"
            ], "\(result.stdout)")
        // The mistakes: a program without -n, a job-wide option after ':', a missing directory.
        let noCount = try JobRunner.run(["-n", "1", "swiftmpi-testrank", "mpmd", ":", worker, "mpmd"])
        #expect(
            noCount.status == 2 && noCount.stderr.hasPrefix("swiftmpirun: every program after ':' needs its own -n (missing for '\(worker)')"),
            "\(noCount.stderr)")
        let misplaced = try JobRunner.run(["-n", "1", "swiftmpi-testrank", ":", "-n", "1", "--tag-output", worker])
        #expect(misplaced.status == 2 && misplaced.stderr.contains("'--tag-output' applies to the whole job: give it before the first program"))
        let nowhere = try JobRunner.run(["--wdir", "/nonexistent-swiftmpi", "-n", "1", "swiftmpi-testrank", "mpmd"])
        #expect(nowhere.status == 2 && nowhere.stderr.hasPrefix("swiftmpirun: --wdir /nonexistent-swiftmpi: No such file or directory"), "\(nowhere.stderr)")
    }

    @Test("key-value requests without the job secret are refused and logged; the job goes on")
    func forgedRequestsRefused() throws {
        let result = try JobRunner.ranks(2, ["forge"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("unsigned request: refused"))
        #expect(result.stdout.contains("forged request: refused"))
        #expect(result.stderr.contains("refused key-value connection from pid"))
        #expect(result.stderr.contains("malformed key-value message: bad magic"))
        #expect(result.stderr.contains("key-value request without the job secret"))
    }

    @Test("the key-value socket has an abstract address (no file), listens while ranks may still say hello, and is gone when the job ends")
    func keyValueSocketIsAbstract() throws {
        let scratch = TestRun.scratchDirectory.appendingPathComponent("tmp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        // Ranks that never say hello: the socket listens for the whole job.
        let listening = "grep -q \" $SWIFTMPI_KVS\\$\" /proc/net/unix && echo listening"
        let result = try JobRunner.run(["-n", "2", "sh", "-c", "echo $SWIFTMPI_KVS; \(listening)"], environment: ["TMPDIR": scratch.path])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let addresses = Set(result.stdout.split(separator: "\n").filter { $0 != "listening" }.map(String.init))
        #expect(
            addresses.count == 1 && addresses.first!.range(of: #"^@swiftmpi-kvs-[0-9a-f]{16}$"#, options: .regularExpression) != nil,
            "addresses: \(addresses)")
        #expect(result.sortedLines.filter { $0 == "listening" }.count == 2)
        #expect(!JobRunner.listeningAbstractSockets().contains(addresses.first ?? "?"))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
        let failed = try JobRunner.run(["-n", "2", "sh", "-c", "exit 4"], environment: ["TMPDIR": scratch.path])
        #expect(failed.status == 4)
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path).isEmpty)
    }

    @Test("ranks start with default dispositions for the signals the launcher ignores or forwards, even when the launcher inherited them ignored")
    func ranksStartWithDefaultSignals() throws {
        // A shell that ignores SIGINT, SIGQUIT and SIGHUP starts the launcher (as a non-interactive
        // shell starts background jobs), and the launcher itself ignores SIGPIPE; each rank prints its
        // ignored set and exits.
        let result = try JobRunner.run(
            ["-n", "2", "grep", "SigIgn", "/proc/self/status"],
            wrapper: ["/bin/sh", "-c", "trap '' INT QUIT HUP USR1; exec \"$0\" \"$@\""])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        let masks = result.stdout.split(separator: "\n").compactMap { UInt64($0.split(separator: "\t").last ?? "", radix: 16) }
        #expect(masks.count == 2, "output: \(result.stdout)")
        for mask in masks {
            for signal in [SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTERM] {
                #expect(mask & (1 << UInt64(signal - 1)) == 0, "signal \(signal) ignored in a rank: mask \(String(mask, radix: 16))")
            }
            // What the launcher neither ignores nor forwards passes through, as execve passes it.
            #expect(mask & (1 << UInt64(SIGUSR1 - 1)) != 0, "SIGUSR1 should stay ignored: mask \(String(mask, radix: 16))")
        }
    }
}

/// Command-line errors: one line, exit status 2, and no rank started.
@Suite("swiftmpirun rejects bad command lines")
struct LauncherCommandLineTests {
    @Test(
        "bad input gives one line and status 2",
        arguments: [
            (["-n", "0", "true"], "-n must be at least 1"),
            (["-n", "2", "no-such-program-swiftmpi"], "program 'no-such-program-swiftmpi' not found"),
            (["--bogus", "-n", "2", "true"], "unknown option '--bogus'"),
            (["true"], "missing -n N"),
            (["-n", "two", "true"], "two"),
            (["-n", "2", "--bind-to", "board", "true"], "board"),
            (["-n", "2", "--timeout", "-1", "true"], "--timeout"),
            (["-n", "2", "-x", "=v", "true"], "expected NAME or NAME=VALUE"),
            (["-n", "2", "./Package.swift"], "is not executable")
        ])
    func badInput(arguments: [String], expected: String) throws {
        let result = try JobRunner.run(arguments)
        #expect(result.status == 2)
        #expect(result.stderr.split(separator: "\n").count == 1, "stderr: \(result.stderr)")
        #expect(result.stderr.hasPrefix("swiftmpirun: "))
        #expect(result.stderr.contains(expected), "stderr: \(result.stderr)")
    }

    @Test("--help and -h print the usage and exit 0", arguments: [["--help"], ["-h"], ["-n", "2", "--help"]])
    func help(arguments: [String]) throws {
        let result = try JobRunner.run(arguments)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("USAGE: swiftmpirun"), "stdout: \(result.stdout)")
        #expect(result.stdout.contains("--transport"))
    }

    @Test("-np is accepted as in Open MPI")
    func singleDashNP() throws {
        let result = try JobRunner.run(["-np", "2", "swiftmpi-testrank", "ranks"])
        #expect(result.status == 0)
        #expect(result.sortedLines == ["rank 0 of 2", "rank 1 of 2"])
    }

    @Test("--info reports the version, transports and runtime variables without any rank")
    func info() throws {
        let result = try JobRunner.run(["--info"])
        #expect(result.status == 0)
        for expected in ["SwiftMPI ", "shared memory:", "cross memory attach:", "verbs:", "numa:", "SWIFTMPI_RANK"] {
            #expect(result.stdout.contains(expected), "missing \(expected) in \(result.stdout)")
        }
        #expect(!result.stdout.contains(ProcessInfo.processInfo.environment["SWIFTMPI_JOB_SECRET"] ?? "\u{0}"))
    }

    @Test("a program without the launcher runs as a singleton job")
    func singleton() throws {
        let outPath = TestRun.scratchDirectory.appendingPathComponent("singleton-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: outPath) }
        let child = try ChildProcess(
            JobRunner.binaryDirectory.appendingPathComponent("swiftmpi-testrank").path, ["ranks"],
            environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SWIFTMPI_") },
            stdoutPath: outPath)
        #expect(child.wait() == 0)
        #expect((try? String(contentsOfFile: outPath, encoding: .utf8)) == "rank 0 of 1\n")
    }
}
