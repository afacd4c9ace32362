import Foundation
import Testing

/// Groups, communicators and collectives, checked by real jobs against serial computations
/// (`swiftmpi-coll-check`): every collective, every built-in operation, non-commutative user
/// operators, in-place and zero-length forms, nonblocking collectives in flight together, group
/// algebra, split/create/dup with traffic isolation and overlapping communicators used in turn,
/// Cartesian topologies and attributes.
@Suite("groups, communicators and collectives", .serialized)
struct CollectiveTests {
    @Test("all collective checks pass for every rank count from 1 to 16", arguments: Array(1...16))
    func everyRankCount(ranks: Int) throws {
        let result = try JobRunner.run(["-n", "\(ranks)", "swiftmpi-coll-check"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("collectives passed on \(ranks) ranks"))
    }

    @Test(
        "collectives whose ranks disagree on the root or the call throw .collectiveMismatch on every rank (one host, 8 B to 8 MiB)",
        arguments: [2, 3])
    func mismatchesCaught(ranks: Int) throws {
        let result = try JobRunner.run(["-n", "\(ranks)", "swiftmpi-coll-check", "mismatches"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("mismatched collectives caught on \(ranks) ranks"))
    }

    @Test(
        "with SWIFTMPI_CHECK_COLLECTIVES=1 mismatches throw on every rank where collectives are messages only (TCP, no shm collectives)",
        arguments: [["--transport", "tcp", "-n", "3"], ["-n", "4"], ["--transport", "tcp", "-n", "2"]])
    func mismatchesCaughtWhenChecked(options: [String]) throws {
        var environment = ["SWIFTMPI_CHECK_COLLECTIVES": "1"]
        if !options.contains("tcp") { environment["SWIFTMPI_SHM_COLLECTIVES"] = "0" }
        let ranks = options.last!
        let result = try JobRunner.run(options + ["swiftmpi-coll-check", "mismatches"], environment: environment)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("mismatched collectives caught on \(ranks) ranks"))
        // The full collective checks still pass with the agreement in front of every collective.
        let all = try JobRunner.run(options + ["swiftmpi-coll-check"], environment: environment)
        #expect(all.status == 0, "stderr: \(all.stderr)")
        #expect(all.stdout.contains("collectives passed on \(ranks) ranks"))
        if SimulatedHosts.available, options == ["-n", "4"] {
            let hosts = try SimulatedHosts.run(
                ["--host", "swmh1:2,swmh2:2", "-n", "4", "swiftmpi-coll-check", "mismatches"], environment: ["SWIFTMPI_CHECK_COLLECTIVES": "1"])
            #expect(hosts.status == 0, "stderr: \(hosts.stderr)")
            #expect(hosts.stdout.contains("mismatched collectives caught on 4 ranks"))
        }
    }

    @Test(
        "free() releases context ids: create/free cycles reuse one pair, with no growth in resident memory; a pair still held by one rank is not handed out",
        arguments: [(["-n", "4"], 100_000), (["--transport", "tcp", "-n", "3"], 20_000)])
    func contextIdsReused(options: [String], cycles: Int) throws {
        let result = try JobRunner.run(options + ["swiftmpi-coll-check", "context-reuse", "\(cycles)"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("context ids reused on \(options.last!) ranks"))
    }

    @Test("Info follows MPI's key rules; dup(info:) can turn a communicator's shared-memory collectives off, for every member", arguments: [1, 2, 4])
    func infoAndHints(ranks: Int) throws {
        let result = try JobRunner.run(["-n", "\(ranks)", "swiftmpi-coll-check", "info"], environment: ["SWIFTMPI_DEBUG": "1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("info and hints checked on \(ranks) ranks"))
        if ranks > 1 {
            for rank in 0..<ranks {
                #expect(
                    result.stderr.range(
                        of: "rank \(rank): communicator of context \\d+ \\(\(ranks) ranks\\): small collectives by messages", options: .regularExpression)
                        != nil, "stderr: \(result.stderr)")
            }
        }
    }

    @Test(
        "MPI-4 sessions beside the world model: process sets, communicators from their groups, createGroup by a group's members only",
        arguments: [["-n", "1"], ["-n", "2"], ["-n", "4"], ["--transport", "tcp", "-n", "3"]])
    func sessions(options: [String]) throws {
        let result = try JobRunner.run(options + ["swiftmpi-coll-check", "sessions"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.components(separatedBy: "sessions checked").count - 1 == Int(options.last!)!, "stdout: \(result.stdout)")
        if SimulatedHosts.available, options == ["-n", "4"] {
            let hosts = try SimulatedHosts.run(["--host", "swmh1:1,swmh2:3", "-n", "4", "swiftmpi-coll-check", "sessions"])
            #expect(hosts.status == 0, "stderr: \(hosts.stderr)")
            #expect(hosts.stdout.components(separatedBy: "sessions checked").count - 1 == 4, "stdout: \(hosts.stdout)")
        }
    }

    @Test("small collectives of one host's communicators go through shared memory, over TCP by messages")
    func sharedMemoryFastPath() throws {
        let local = try JobRunner.run(["-n", "4", "swiftmpi-coll-check"], environment: ["SWIFTMPI_DEBUG": "1"])
        #expect(local.status == 0, "stderr: \(local.stderr)")
        for rank in 0..<4 {
            #expect(local.stderr.contains("rank \(rank): communicator of context 0 (4 ranks): small collectives through shared memory"))
        }
        #expect(!local.stderr.contains("(4 ranks): small collectives by messages"))
        let tcp = try JobRunner.run(["--transport", "tcp", "-n", "2", "swiftmpi-coll-check"], environment: ["SWIFTMPI_DEBUG": "1"])
        #expect(tcp.status == 0, "stderr: \(tcp.stderr)")
        #expect(tcp.stderr.contains("rank 1: communicator of context 0 (2 ranks): small collectives by messages"))
        #expect(!tcp.stderr.contains("through shared memory"))
    }

    @Test("collectives pass over TCP and across simulated hosts too")
    func otherTransports() throws {
        let tcp = try JobRunner.run(["--transport", "tcp", "-n", "5", "swiftmpi-coll-check"])
        #expect(tcp.status == 0, "stderr: \(tcp.stderr)")
        #expect(tcp.stdout.contains("collectives passed on 5 ranks"))
        if SimulatedHosts.available {
            let hosts = try SimulatedHosts.run(["--host", "swmh1:2,swmh2:2,swmh3:1", "-n", "5", "swiftmpi-coll-check"])
            #expect(hosts.status == 0, "stderr: \(hosts.stderr)")
            #expect(hosts.stdout.contains("collectives passed on 5 ranks"))
        }
    }
}
