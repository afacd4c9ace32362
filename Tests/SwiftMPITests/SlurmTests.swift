import Foundation
import Testing

/// A one-machine Slurm cluster (`Tests/Scripts/slurm-cluster.sh`): slurmctld, slurmd and munge.
///
/// The run starts its own, at the first test that needs it: a private state directory and free ports,
/// so it collides with no other run and no other Slurm; it is stopped (daemons reaped, directory
/// removed) when the test process exits, however it ends (see `TestRun`). A cluster already running
/// in `$SWIFTMPI_SLURM_STATE` (one started with `Tests/Scripts/slurm-cluster.sh up`) is used instead
/// and left running. Nothing is installed: `Tests/Scripts/prepare.sh` does that, once.
enum SlurmCluster {
    /// Why the Slurm tests cannot run here (not root, or Slurm or MUNGE not installed), or nil.
    static let unavailableReason: String? = {
        guard getuid() == 0 else { return "needs root to run slurmctld, slurmd and munged (CI runs these as root)" }
        let check = TestRun.runScript("slurm-cluster.sh", ["check"])
        return check.status == 0 ? nil : check.reason
    }()

    /// Whether the suite can run; when it cannot, says why once, loudly.
    static let available = TestRun.suiteRuns("Slurm tests", unavailableReason: unavailableReason)

    struct StartFailure: Error, CustomStringConvertible { let description: String }

    /// The cluster's slurm.conf, once it is up (started by the first test that asks).
    private static let started: Result<String, StartFailure> = {
        let up = TestRun.runScript("slurm-cluster.sh", ["up", "--owner", TestRun.owner])
        let exports = up.exports
        guard up.status == 0, let configuration = exports["SLURM_CONF"], let state = exports["SWIFTMPI_SLURM_STATE"] else {
            return .failure(StartFailure(description: "Tests/Scripts/slurm-cluster.sh up failed with status \(up.status): \(up.reason)"))
        }
        if exports["SWIFTMPI_SLURM_OWNER"] == TestRun.owner {
            TestRun.atExit("slurm-cluster.sh", ["down"], environment: ["SWIFTMPI_SLURM_STATE": state])
        }
        print(up.stderr.split(separator: "\n").last.map(String.init) ?? "slurm-cluster: up")
        return .success(configuration)
    }()

    /// The slurm.conf of the test cluster; starts it if needed, throws why it could not.
    static func configuration() throws -> String { try started.get() }

    /// Runs `srun arguments...` (the package's binaries by absolute path) and captures everything.
    static func srun(
        _ arguments: [String], environment: [String: String] = [:], whileRunning: ((String) -> Void)? = nil
    ) throws -> JobResult {
        try run("srun", arguments, environment: environment, whileRunning: whileRunning)
    }

    /// Runs `tool arguments...` (srun, salloc) against the test cluster and captures everything;
    /// `whileRunning` is called with the path of its stdout while it runs.
    static func run(
        _ tool: String, _ arguments: [String], environment: [String: String] = [:], whileRunning: ((String) -> Void)? = nil
    ) throws -> JobResult {
        let slurmConf = try configuration()
        let scratch = try TestRun.makeScratch("srun")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("out").path, err = scratch.appendingPathComponent("err").path
        let start = Date()
        // --foreground: srun stays in this process group, so a Ctrl-C of the run reaches it too.
        let child = try ChildProcess(
            "/usr/bin/timeout", ["--foreground", "300", tool, "--time=5"] + arguments,
            environment: ProcessInfo.processInfo.environment
                .filter { !$0.key.hasPrefix("SWIFTMPI_") || $0.key == "SWIFTMPI_SLURM_STATE" }
                .merging(["SLURM_CONF": slurmConf].merging(environment) { $1 }) { $1 },
            stdoutPath: out, stderrPath: err)
        whileRunning?(out)
        let status = child.wait()
        return JobResult(
            status: status, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "", seconds: Date().timeIntervalSince(start))
    }

    /// Runs `scancel arguments...` against the test cluster.
    static func scancel(_ arguments: [String]) throws {
        let child = try ChildProcess(
            "/usr/bin/scancel", arguments,
            environment: ProcessInfo.processInfo.environment.merging(["SLURM_CONF": try configuration()]) { $1 })
        #expect(child.wait() == 0, "scancel \(arguments)")
    }

    /// Waits (up to 60 s) until the file at `path` holds `count` lines, then 0.6 s more, so that
    /// ranks which printed them and then blocked have published their wait (after 0.25 s).
    static func waitForLines(_ count: Int, in path: String) {
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").count < count {
            usleep(50_000)
        }
        usleep(600_000)
    }

    static func program(_ name: String) -> String { JobRunner.binaryDirectory.appendingPathComponent(name).path }
}

/// Jobs started by Slurm's `srun`, wired up through the manager's PMI-2 or PMIx server (no swiftmpirun).
@Suite(
    "jobs under Slurm's srun (PMI-2 and PMIx)", .serialized,
    .enabled(if: SlurmCluster.available, "needs root to run a one-machine Slurm cluster; CI runs it"))
struct SlurmTests {
    @Test("every point-to-point scenario passes with srun --mpi=pmi2 -n 4 and srun --mpi=pmix -n 4", arguments: ["pmi2", "pmix"])
    func pointToPoint(mpi: String) throws {
        let result = try SlurmCluster.srun(
            ["--mpi=\(mpi)", "-n", "4", SlurmCluster.program("swiftmpi-p2p-check")] + PointToPointTests.scenarios,
            environment: ["SWIFTMPI_DEBUG": "1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        for scenario in PointToPointTests.scenarios {
            #expect(result.stdout.contains("passed \(scenario)\n"), "scenario \(scenario): \(result.stdout)")
        }
        // Rank, size and the node layout came from Slurm: all four ranks share one node, so shared memory.
        #expect(result.stderr.contains("rank 3 on node0: routes 0:shm 1:shm 2:shm 3:self"), "stderr: \(result.stderr)")
        print("srun --mpi=\(mpi) -n 4: \(PointToPointTests.scenarios.count) scenarios passed in \(String(format: "%.1f", result.seconds)) s")
    }

    @Test(
        "the collective checks pass with srun -n 4 (PMI-2 and PMIx), over shared memory and over forced TCP",
        arguments: ["pmi2", "pmix"])
    func collectives(mpi: String) throws {
        for transport in ["auto", "tcp"] {
            let result = try SlurmCluster.srun(
                ["--mpi=\(mpi)", "-n", "4", SlurmCluster.program("swiftmpi-coll-check")],
                environment: ["SWIFTMPI_TRANSPORT": transport])
            #expect(result.status == 0, "\(transport): stderr: \(result.stderr)")
            #expect(result.stdout.contains("collectives passed on 4 ranks"), "\(transport): \(result.stdout)")
        }
    }

    @Test(
        "C programs pass their checks under srun: built with swiftmpicc, and with MPICH's mpicc on SwiftMPI's libmpich.so.12",
        arguments: ["pmi2", "pmix"])
    func cPrograms(mpi: String) throws {
        if let program = try CInterfaceTests.swiftmpiccProgram() {
            let result = try SlurmCluster.srun(["--mpi=\(mpi)", "-n", "3", program])
            #expect(result.status == 0 && result.stdout.contains(" No Errors"), "swiftmpicc's program: \(result.stdout) \(result.stderr)")
        }
        // MPICH's binary finds SwiftMPI's library by LD_LIBRARY_PATH, as docs/C-ABI.md says for srun.
        guard let mpicc = CInterfaceTests.mpichCompiler("an MPICH-built C program under srun"),
            let program = try CInterfaceTests.build([mpicc], named: "c-interface-check-mpich")
        else { return }
        let library = JobRunner.binaryDirectory.appendingPathComponent("mpich-abi").path
        let result = try SlurmCluster.srun(["--mpi=\(mpi)", "-n", "3", program], environment: ["LD_LIBRARY_PATH": library, "SWIFTMPI_DEBUG": "1"])
        #expect(result.status == 0 && result.stdout.contains(" No Errors"), "MPICH's program: \(result.stdout) \(result.stderr)")
        // Only SwiftMPI describes its routes: the binary ran on SwiftMPI's library, not on MPICH's.
        #expect(result.stderr.contains("rank 2 on node0: routes"), "MPICH's program did not run on SwiftMPI: \(result.stderr)")
    }

    @Test("SWIFTMPI_TRACE and SWIFTMPI_PROFILE under srun: rank 0 merges the trace and prints the profile, no launcher of ours involved")
    func tracedStep() throws {
        let directory = try TestRun.makeScratch("srun-trace")
        chmod(directory.path, 0o777)  // whichever user the step's tasks run as
        let result = try SlurmCluster.srun(
            ["--mpi=pmix", "-n", "4", SlurmCluster.program("swiftmpi-testrank"), "traced"],
            environment: ["SWIFTMPI_TRACE": directory.path, "SWIFTMPI_PROFILE": "1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("SwiftMPI profile: 4 of 4 ranks traced"), "stdout: \(result.stdout)")
        let trace = try String(contentsOf: directory.appendingPathComponent("trace.json"), encoding: .utf8)
        #expect(trace.contains(#""messages":17,"unpaired_sends":0,"unpaired_receives":0"#), "\(trace.prefix(400))")
    }

    @Test(
        "SWIFTMPI_RECOVERY=1 srun --no-kill: a killed rank's peers end with .processFailed or .revoked, then agree and shrink among themselves",
        arguments: [("pmi2", "p2p", "auto"), ("pmix", "collective", "auto"), ("pmi2", "collective", "tcp"), ("pmix", "p2p", "tcp")])
    func recovery(mpi: String, phase: String, transport: String) throws {
        let victim = 2
        let result = try SlurmCluster.srun(
            ["--mpi=\(mpi)", "--no-kill", "--kill-on-bad-exit=0", "-n", "4", SlurmCluster.program("swiftmpi-testrank"), "recover", "\(victim)", phase],
            environment: ["SWIFTMPI_RECOVERY": "1", "SWIFTMPI_TRANSPORT": transport, "SWIFTMPI_DEBUG": "1"])
        let context = "stdout: \(result.stdout)\nstderr: \(result.stderr)"
        #expect(result.status != 0 && result.stderr.contains("task \(victim): Killed"), "\(context)")
        #expect(result.stderr.contains("rank 0: recovery mode; revokes and agreements among the ranks"), "\(context)")
        let outcomes = RecoveryTests.lines(result.stdout, containing: "\(phase) ended with")
        let summaries = RecoveryTests.lines(result.stdout, containing: "agreed")
        #expect(Set(outcomes.keys) == [0, 1, 3] && Set(summaries.keys) == [0, 1, 3], "\(context)")
        for survivor in [0, 1, 3] {
            let expected = phase == "p2p" && survivor != 3 ? "revoked" : "processFailed"  // as RecoveryTests.killedRank
            #expect(outcomes[survivor]?.hasSuffix("ended with \(expected)") == true, "rank \(survivor): \(context)")
            #expect(
                summaries[survivor]?.hasSuffix(
                    "agreed 0, shrunk to 3 ranks as rank \(survivor == 3 ? 2 : survivor), failed [\(victim)], revoked \(phase == "p2p"), sum of world ranks 4")
                    == true,
                "rank \(survivor): \(context)")
        }
        // MPI.finalize() returns on every survivor (it waited for the dead rank at the manager's fence before).
        #expect(Set(RecoveryTests.lines(result.stdout, containing: ": finalized").keys) == [0, 1, 3], "\(context)")
        #expect(result.seconds < 60, "\(context)")
        print("srun --mpi=\(mpi) --no-kill, \(phase) over \(transport): the survivors recovered in \(String(format: "%.1f", result.seconds)) s")
    }

    @Test("MPI.abort in one rank ends the whole step through the PMI-2 or PMIx server", arguments: ["pmi2", "pmix"])
    func abort(mpi: String) throws {
        let result = try SlurmCluster.srun(["--mpi=\(mpi)", "-n", "3", SlurmCluster.program("swiftmpi-testrank"), "abort", "5", "2"])
        #expect(result.status != 0)
        if mpi == "pmi2" {
            #expect(result.stderr.contains("task 2: Exited with exit code 5"), "stderr: \(result.stderr)")
        } else {
            // PMIx_Abort makes Slurm cancel the step (its tasks are reported killed, or the aborting
            // one with its code when it got there first); the reason is SwiftMPI's own line.
            #expect(result.stderr.contains("SwiftMPI: rank 2 aborted the job with code 5: test abort"), "stderr: \(result.stderr)")
            #expect(result.stderr.contains("CANCELLED") || result.stderr.contains("task 2: Exited with exit code 5"), "stderr: \(result.stderr)")
        }
        #expect(result.seconds < 60)
    }

    @Test("swiftmpirun inside an allocation (salloc -n 4) takes its slots and starts its daemon with srun")
    func launcherInsideAllocation() throws {
        let result = try SlurmCluster.run(
            "salloc",
            [
                "-n", "4", JobRunner.launcher, SlurmCluster.program("swiftmpi-p2p-check"),
                "pingpong", "wildcards", "non-overtaking"
            ],
            environment: ["SWIFTMPI_DEBUG": "1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("swiftmpirun: inside Slurm allocation "), "stderr: \(result.stderr)")
        #expect(result.stderr.contains(":4; daemons started with: srun --overlap"), "stderr: \(result.stderr)")
        for scenario in ["pingpong", "wildcards", "non-overtaking"] {
            #expect(result.stdout.contains("passed \(scenario)\n"), "\(scenario): \(result.stdout)")
        }
        // -n defaults to the allocation's slots, and the ranks run inside the daemon's srun step.
        let ranks = try SlurmCluster.run("salloc", ["-n", "3", JobRunner.launcher, SlurmCluster.program("swiftmpi-testrank"), "env", "SLURM_STEP_ID"])
        #expect(ranks.status == 0, "stderr: \(ranks.stderr)")
        let lines = ranks.stdout.split(separator: "\n").filter { $0.contains("SLURM_STEP_ID") }
        #expect(lines.count == 3, "stdout: \(ranks.stdout)")
        #expect(lines.allSatisfy { !$0.hasSuffix("=") && !$0.contains("unset") }, "stdout: \(ranks.stdout)")
    }

    @Test(
        "ranks started by srun explain a hang themselves: on scancel --signal=USR1, and on SIGTERM before they end",
        arguments: ["pmi2", "pmix"])
    func hangReport(mpi: String) throws {
        let name = "swiftmpi-hang-\(mpi)-\(getpid())"
        let result = try SlurmCluster.srun(
            ["--mpi=\(mpi)", "--job-name=\(name)", "-n", "2", SlurmCluster.program("swiftmpi-testrank"), "print-then-hang"]
        ) { stdout in
            SlurmCluster.waitForLines(2, in: stdout)
            try? SlurmCluster.scancel(["--signal=USR1", "--name=\(name)"])
            usleep(500_000)
            try? SlurmCluster.scancel(["--signal=TERM", "--name=\(name)"])
        }
        #expect(result.status != 0)
        for (rank, peer) in [(0, 1), (1, 0)] {
            let report = try Regex("SwiftMPI: rank \(rank): waiting \\d+\\.\\d s in recv\\(from: \(peer), tag: 7, 8 bytes\\) on world\n")
            #expect(result.stderr.matches(of: report).count == 2, "rank \(rank): stderr: \(result.stderr)")
        }
        #expect(result.stdout.contains("rank 0 receiving from 1") && result.stdout.contains("rank 1 receiving from 0"), "stdout: \(result.stdout)")
        #expect(result.stderr.contains("Terminated"), "the ranks still end by SIGTERM: \(result.stderr)")
    }

    @Test("srun without a PMI fails with the reason and the fix instead of running lone ranks")
    func withoutInterface() throws {
        let result = try SlurmCluster.srun(["--mpi=none", "-n", "2", SlurmCluster.program("swiftmpi-testrank"), "ranks"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("srun started 2 tasks without a process-management interface"), "stderr: \(result.stderr)")
        #expect(!result.stdout.contains("rank 0 of 1"))
    }
}

/// Jobs started by Open MPI's `mpirun` (Debian's openmpi-bin), which wires its processes up through PMIx.
enum OpenMPILauncher {
    static let path = ["/usr/bin/mpirun.openmpi"].first { FileManager.default.isExecutableFile(atPath: $0) }

    static let available = TestRun.suiteRuns(
        "jobs under Open MPI's mpirun",
        unavailableReason: path != nil
            ? nil : "/usr/bin/mpirun.openmpi is missing (openmpi-bin); install it once with: sudo Tests/Scripts/prepare.sh")

    /// Runs `mpirun.openmpi -n ranks program arguments...` and captures everything; `whileRunning`
    /// is called with mpirun's pid and the path of its stdout while it runs.
    static func run(
        _ ranks: Int, _ program: String, _ arguments: [String], environment: [String: String] = [:],
        whileRunning: ((pid_t, String) -> Void)? = nil
    ) throws -> JobResult {
        let scratch = try TestRun.makeScratch("mpirun")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("out").path, err = scratch.appendingPathComponent("err").path
        let start = Date()
        let child = try ChildProcess(
            "/usr/bin/timeout",
            [
                "--foreground", "300", path!, "--allow-run-as-root", "--oversubscribe", "-n", "\(ranks)",
                SlurmCluster.program(program)
            ] + arguments,
            // Open MPI's session directory (ompi.<host>.<uid>) goes into the scratch directory, removed
            // below: a job ended by abort or a signal leaves it behind otherwise, in /tmp.
            environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SWIFTMPI_") }
                .merging(["OMPI_MCA_orte_tmpdir_base": scratch.path]) { $1 }.merging(environment) { $1 },
            stdoutPath: out, stderrPath: err)
        if let whileRunning {
            // mpirun is the only child of timeout(1), once timeout has started it.
            var mpirun: pid_t?
            for _ in 0..<200 where mpirun == nil {
                let children = (try? String(contentsOfFile: "/proc/\(child.pid)/task/\(child.pid)/children", encoding: .utf8)) ?? ""
                mpirun = children.split(separator: " ").first.flatMap { pid_t($0) }
                if mpirun == nil { usleep(50_000) }
            }
            if let mpirun { whileRunning(mpirun, out) } else { kill(child.pid, SIGTERM) }
        }
        let status = child.wait()
        return JobResult(
            status: status, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "", seconds: Date().timeIntervalSince(start))
    }
}

@Suite("jobs under Open MPI's mpirun (PMIx)", .serialized, .enabled(if: OpenMPILauncher.available, "needs openmpi-bin; CI installs it"))
struct OpenMPILauncherTests {
    @Test("every point-to-point scenario and the collective checks pass under mpirun.openmpi -n 4")
    func scenarios() throws {
        let result = try OpenMPILauncher.run(4, "swiftmpi-p2p-check", PointToPointTests.scenarios, environment: ["SWIFTMPI_DEBUG": "1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        for scenario in PointToPointTests.scenarios {
            #expect(result.stdout.contains("passed \(scenario)\n"), "scenario \(scenario): \(result.stdout)")
        }
        // Rank, size and node came from mpirun's PMIx server: one node, so shared memory.
        #expect(result.stderr.contains("rank 3 on node0: routes 0:shm 1:shm 2:shm 3:self"), "stderr: \(result.stderr)")
        let collectives = try OpenMPILauncher.run(4, "swiftmpi-coll-check", [])
        #expect(collectives.status == 0, "stderr: \(collectives.stderr)")
        #expect(collectives.stdout.contains("collectives passed on 4 ranks"), "\(collectives.stdout)")
    }

    @Test("MPI.abort in one rank ends the whole mpirun job through PMIx")
    func abort() throws {
        let result = try OpenMPILauncher.run(3, "swiftmpi-testrank", ["abort", "5", "2"])
        #expect(result.status == 5, "status \(result.status), stderr: \(result.stderr)")
        #expect(result.seconds < 60)
    }

    // The SIGTERM report itself is checked under srun (scancel): mpirun may stop relaying the ranks'
    // stderr as soon as it starts ending the job (seen: 1 run in 4 kept only the SIGUSR1 lines).
    @Test("ranks started by mpirun explain a hang themselves: on SIGUSR1 (which mpirun forwards), and SIGTERM still ends them")
    func hangReport() throws {
        var signalled = false
        let result = try OpenMPILauncher.run(2, "swiftmpi-testrank", ["print-then-hang"]) { mpirun, stdout in
            SlurmCluster.waitForLines(2, in: stdout)
            kill(mpirun, SIGUSR1)
            usleep(500_000)
            kill(mpirun, SIGTERM)
            signalled = true
        }
        #expect(signalled, "mpirun's pid was not found")
        #expect(result.status != 0)
        for (rank, peer) in [(0, 1), (1, 0)] {
            let report = try Regex("SwiftMPI: rank \(rank): waiting \\d+\\.\\d s in recv\\(from: \(peer), tag: 7, 8 bytes\\) on world\n")
            #expect(result.stderr.matches(of: report).count >= 1, "rank \(rank): stderr: \(result.stderr)")
        }
    }
}
