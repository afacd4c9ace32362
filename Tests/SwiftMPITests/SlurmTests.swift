import Foundation
import Testing

/// A one-machine Slurm cluster (`Tests/Scripts/slurm-cluster.sh`): slurmctld, slurmd and munge.
enum SlurmCluster {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Scripts/slurm-cluster.sh").path
    static let configuration = (ProcessInfo.processInfo.environment["SWIFTMPI_SLURM_STATE"] ?? "/tmp/swiftmpi-slurm") + "/slurm.conf"

    /// Why the Slurm tests cannot run here, or nil when the cluster is up (started if needed).
    static let unavailableReason: String? = {
        guard getuid() == 0 else { return "needs root to run slurmctld, slurmd and munged (CI runs these as root)" }
        guard let process = try? ChildProcess("/bin/bash", [script, "up"]) else { return "could not run \(script)" }
        let status = process.wait()
        return status == 0 ? nil : "\(script) up failed with status \(status) (it installs slurm-wlm and munge with apt)"
    }()

    static var available: Bool {
        if let reason = unavailableReason {
            print("⚠️ SKIPPING Slurm tests: \(reason)")
            return false
        }
        return true
    }

    /// Runs `srun arguments...` (the package's binaries by absolute path) and captures everything.
    static func srun(_ arguments: [String], environment: [String: String] = [:]) throws -> JobResult {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("swiftmpi-srun-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("out").path, err = scratch.appendingPathComponent("err").path
        let start = Date()
        let child = try ChildProcess("/usr/bin/timeout", ["300", "srun", "--time=5"] + arguments,
                                     environment: ProcessInfo.processInfo.environment
                                        .filter { !$0.key.hasPrefix("SWIFTMPI_") || $0.key == "SWIFTMPI_SLURM_STATE" }
                                        .merging(["SLURM_CONF": configuration].merging(environment) { $1 }) { $1 },
                                     stdoutPath: out, stderrPath: err)
        let status = child.wait()
        return JobResult(status: status, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                         stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "", seconds: Date().timeIntervalSince(start))
    }

    static func program(_ name: String) -> String { JobRunner.binaryDirectory.appendingPathComponent(name).path }
}

/// Jobs started by Slurm's `srun`, wired up through the manager's PMI-2 server (no swiftmpirun).
@Suite("jobs under Slurm's srun (PMI-2)", .serialized,
       .enabled(if: SlurmCluster.available, "needs root to run a one-machine Slurm cluster; CI runs it"))
struct SlurmTests {
    @Test("every point-to-point scenario passes with srun --mpi=pmi2 -n 4")
    func pointToPoint() throws {
        let result = try SlurmCluster.srun(["--mpi=pmi2", "-n", "4", SlurmCluster.program("swiftmpi-p2p-check")] + PointToPointTests.scenarios,
                                           environment: ["SWIFTMPI_DEBUG": "1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        for scenario in PointToPointTests.scenarios {
            #expect(result.stdout.contains("passed \(scenario)\n"), "scenario \(scenario): \(result.stdout)")
        }
        // Rank, size and the node layout came from Slurm: all four ranks share one node, so shared memory.
        #expect(result.stderr.contains("rank 3 on node0: routes 0:shm 1:shm 2:shm 3:self"), "stderr: \(result.stderr)")
        print("srun --mpi=pmi2 -n 4: \(PointToPointTests.scenarios.count) scenarios passed in \(String(format: "%.1f", result.seconds)) s")
    }

    @Test("the collective checks pass with srun --mpi=pmi2 -n 4, over shared memory and over forced TCP")
    func collectives() throws {
        for transport in ["auto", "tcp"] {
            let result = try SlurmCluster.srun(["--mpi=pmi2", "-n", "4", SlurmCluster.program("swiftmpi-coll-check")],
                                               environment: ["SWIFTMPI_TRANSPORT": transport])
            #expect(result.status == 0, "\(transport): stderr: \(result.stderr)")
            #expect(result.stdout.contains("collectives passed on 4 ranks"), "\(transport): \(result.stdout)")
        }
    }

    @Test("MPI.abort in one rank ends the whole step through the PMI server")
    func abort() throws {
        let result = try SlurmCluster.srun(["--mpi=pmi2", "-n", "3", SlurmCluster.program("swiftmpi-testrank"), "abort", "5", "2"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("task 2: Exited with exit code 5"), "stderr: \(result.stderr)")
        #expect(result.seconds < 60)
    }

    @Test("srun without a PMI, or with PMIx, fails with the reason and the fix instead of running lone ranks",
          arguments: [("none", "srun started 2 tasks without a process-management interface"),
                      ("pmix", "started with PMIx (srun --mpi=pmix, or Open MPI's mpirun), which this build does not speak yet")])
    func unsupportedInterface(mpi: String, expected: String) throws {
        let result = try SlurmCluster.srun(["--mpi=\(mpi)", "-n", "2", SlurmCluster.program("swiftmpi-testrank"), "ranks"])
        #expect(result.status != 0)
        #expect(result.stderr.contains(expected), "stderr: \(result.stderr)")
        #expect(!result.stdout.contains("rank 0 of 1"))
    }
}
