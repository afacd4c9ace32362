import Testing

/// Awaiting requests: tasks suspend instead of blocking or polling, are resumed by the progress
/// thread, can be cancelled, and learn of a dead peer — over shared memory and TCP.
@Suite("async: suspended tasks, cancellation, dead peers", .serialized)
struct AsyncTests {
    @Test(
        "64 tasks per rank await wildcard receives: none lost or duplicated, no core burned while idle, a cancelled receive leaves its message",
        arguments: [([String](), 4), (["--transport", "tcp"], 3)])
    func manyTasks(options: [String], ranks: Int) throws {
        let result = try JobRunner.run(
            options + ["--timeout", "120", "-n", "\(ranks)", "swiftmpi-p2p-check", "multiple", "async-tasks", "async-cancel", "async-stream", "async"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        for scenario in ["async-tasks", "async-cancel", "async-stream", "async"] {
            #expect(result.stdout.contains("passed \(scenario)\n"), "\(scenario): \(result.stdout)\n\(result.stderr)")
        }
        // The CPU each rank used while its 64 tasks were suspended (the scenario fails above 35 %).
        print(result.stdout.split(separator: "\n").filter { $0.hasPrefix("async-tasks rank") }.joined(separator: "\n"))
    }

    @Test("a peer that dies ends an awaited receive with .processFailed", arguments: ["shm", "tcp"])
    func deadPeer(transport: String) throws {
        let result = try JobRunner.run(["--transport", transport, "-n", "2", "swiftmpi-testrank", "peer-dies-await"])
        #expect(result.status == 9)
        #expect(result.stdout.contains("rank 0 got processFailed through await: rank 1 failed"), "stdout: \(result.stdout)\nstderr: \(result.stderr)")
    }

    @Test("below .multiple, two threads inside SwiftMPI at once stop the rank with a line saying so (debug builds)")
    func twoThreadsBelowMultiple() throws {
        let result = try JobRunner.run(["--timeout", "60", "-n", "2", "swiftmpi-testrank", "two-threads"])
        #expect(result.status == 134, "stderr: \(result.stderr)")
        #expect(
            result.stderr.contains("two threads are inside SwiftMPI at once (recv) at thread level .serialized")
                && result.stderr.contains("MPI.initialize(threadLevel: .multiple)"), "stderr: \(result.stderr)")
    }
}
