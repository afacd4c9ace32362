import Foundation
import Testing

/// The TCP transport, forced between ranks of one host (`--transport tcp`): the engine is unchanged,
/// so the whole point-to-point suite must pass over it.
@Suite("point-to-point over TCP (forced, loopback)", .serialized)
struct TCPTransportTests {
    private func check(_ ranks: Int, _ scenarios: [String], options: [String] = []) throws {
        let result = try JobRunner.run(
            ["--transport", "tcp", "--timeout", "240", "-n", "\(ranks)"] + options
                + ["swiftmpi-p2p-check"] + scenarios)
        #expect(result.status == 0, "stderr: \(result.stderr)")
        for scenario in scenarios where scenario != "multiple" {
            #expect(result.stdout.contains("passed \(scenario)\n"), "scenario \(scenario): \(result.stdout)\n\(result.stderr)")
        }
    }

    @Test("every scenario passes over TCP with 2, 4 and 8 ranks", arguments: [2, 4, 8])
    func everyScenario(ranks: Int) throws {
        try check(ranks, PointToPointTests.scenarios)
    }

    @Test("thread level .multiple over TCP")
    func multipleThreads() throws {
        try check(2, ["multiple", "threads", "requests"])
    }

    @Test("every peer gets the TCP route, on the interface asked for")
    func routesReported() throws {
        let result = try JobRunner.run(
            ["--transport", "tcp", "--tcp-if", "lo", "-n", "3", "swiftmpi-testrank", "ranks"],
            environment: ["SWIFTMPI_DEBUG": "1"])
        #expect(result.status == 0)
        #expect(result.stderr.contains("rank 0 on") && result.stderr.contains("routes 0:self 1:tcp 2:tcp"), "stderr: \(result.stderr)")
        #expect(result.stderr.contains("tcp 127.0.0.1:"))
        let shm = try JobRunner.run(["-n", "2", "swiftmpi-testrank", "ranks"], environment: ["SWIFTMPI_DEBUG": "1"])
        #expect(shm.stderr.contains("routes 0:self 1:shm"), "stderr: \(shm.stderr)")
    }

    @Test("a bad --tcp-if fails the start-up with a clear message")
    func badInterface() throws {
        let result = try JobRunner.run(["--transport", "tcp", "--tcp-if", "nosuch0", "-n", "2", "swiftmpi-testrank", "ranks"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("SWIFTMPI_TCP_IF=nosuch0 names no IPv4 interface"), "stderr: \(result.stderr)")
    }

    @Test("a foreign connection to a rank's port without the secret is rejected; the job goes on")
    func foreignConnectionRejected() throws {
        let scratch = TestRun.scratchDirectory.appendingPathComponent("tcp-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let errURL = scratch.appendingPathComponent("err"), outURL = scratch.appendingPathComponent("out")
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        let process = try ChildProcess(
            JobRunner.launcher, ["--transport", "tcp", "-n", "2", "swiftmpi-testrank", "keep-talking", "3"],
            environment: ProcessInfo.processInfo.environment.merging(["SWIFTMPI_DEBUG": "1"]) { $1 },
            stdoutPath: outURL.path, stderrPath: errURL.path)
        var port: UInt16?
        #expect(
            JobRunner.eventually(within: 10) {
                let text = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
                port = text.firstMatch(of: /rank 1 on .* tcp 127\.0\.0\.1:(\d+)/).flatMap { UInt16($0.1) }
                return port != nil
            })
        if let port {
            for payload in ["GET / HTTP/1.0\r\n\r\n", "SMTC"] {  // garbage, and a truncated handshake
                let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                var address = sockaddr_in()
                address.sin_family = sa_family_t(AF_INET)
                address.sin_port = port.bigEndian
                address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
                let connected = withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                #expect(connected == 0)
                _ = payload.withCString { send(fd, $0, strlen($0), Int32(MSG_NOSIGNAL)) }
                var byte: UInt8 = 0
                var timeout = timeval(tv_sec: 5, tv_usec: 0)
                setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                #expect(recv(fd, &byte, 1, 0) <= 0, "a rank answered a connection without the secret")
                close(fd)
            }
        }
        let status = process.wait()
        let stdout = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        let stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        #expect(status == 0, "stderr: \(stderr)")
        #expect(stdout.contains("rank 0 exchanged") && stdout.contains("rank 1 exchanged"))
        #expect(stderr.contains("rank 1: rejected a TCP connection from 127.0.0.1"), "stderr: \(stderr)")
    }

    @Test(
        "a peer that dies turns a pending receive into .processFailed, not a hang (also where ranks are renumbered)",
        arguments: ["peer-dies", "peer-dies-split"])
    func peerFailure(mode: String) throws {
        let result = try JobRunner.run(["--transport", "tcp", "-n", "2", "swiftmpi-testrank", mode])
        #expect(result.status == 9)
        // Connections are made on demand: with "-split" the split connected the two ranks, and rank 1's
        // death closes that connection; without, rank 0's receive started one, which rank 1's death
        // reset, and connecting again was refused.
        #expect(
            result.stdout.contains(
                /rank 0 got processFailed: rank 1 failed: (connection closed by rank 1|cannot connect to rank 1 at [\d.:]+: connect: Connection refused)/
            ),
            "stdout: \(result.stdout)")
        #expect(result.stderr.contains("rank 1 (pid"))
    }

    @Test(
        "connections on demand: neighbour-only ranks hold 2 connections each; the launcher serves 2 puts and 2 gets per rank",
        arguments: [8, 16])
    func connectionsOnDemand(ranks: Int) throws {
        let result = try JobRunner.run(["--transport", "tcp", "-n", "\(ranks)", "swiftmpi-testrank", "neighbours"], environment: ["SWIFTMPI_DEBUG": "1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.split(separator: "\n").filter { $0.contains("neighbours ok") }.count == ranks, "stdout: \(result.stdout)")
        // "SwiftMPI: rank R: tcp: N connections (O opened, A accepted)", one per rank at finalize.
        let counts = result.stderr.matches(of: /rank (\d+): tcp: (\d+) connections \((\d+) opened, (\d+) accepted\)/).map {
            (rank: Int($0.1)!, held: Int($0.2)!, opened: Int($0.3)!, accepted: Int($0.4)!)
        }
        #expect(Set(counts.map(\.rank)) == Set(0..<ranks), "stderr: \(result.stderr)")
        #expect(counts.allSatisfy { $0.held == 2 }, "a neighbour-only rank holds one connection per neighbour: \(counts)")
        #expect(counts.map(\.opened).reduce(0, +) == ranks && counts.map(\.accepted).reduce(0, +) == ranks, "\(counts)")
        let served = result.stderr.firstMatch(of: /key-value exchange: (\d+) puts, (\d+) gets, (\d+) fences from (\d+) ranks/)
        #expect(served.map { Int($0.1)! == 2 * ranks && Int($0.2)! == 2 * ranks && Int($0.4)! == ranks } == true, "stderr: \(result.stderr)")
    }

    @Test("a rank outside SwiftMPI for longer than the handshake timeout after starting a connection still gets its message through")
    func lateHandshake() throws {
        // Rank 1 closes rank 0's connection after 10 s without a hello; rank 0, back after 12 s,
        // connects again (and the two ranks' connections to each other resolve to one).
        let result = try JobRunner.run(["--transport", "tcp", "-n", "2", "swiftmpi-testrank", "late-handshake"], environment: ["SWIFTMPI_DEBUG": "1"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("rank 1 got 42") && result.stdout.contains("rank 0 got 43"), "stdout: \(result.stdout)")
        #expect(result.stderr.contains("rank 0: tcp: 1 connections") && result.stderr.contains("rank 1: tcp: 1 connections"), "stderr: \(result.stderr)")
    }

    @Test("a connection that breaks in the middle of a 256 MiB message turns the receive into .processFailed")
    func peerFailureMidMessage() throws {
        let result = try JobRunner.run(["--transport", "tcp", "-n", "2", "swiftmpi-testrank", "peer-dies-mid-message"])
        #expect(result.status == 137)
        #expect(result.stdout.contains("rank 0 got processFailed: rank 1 failed:"), "stdout: \(result.stdout)")
    }

    @Test("a receive matching a rendezvous offer queued from a rank that has died since fails at once instead of waiting")
    func offerFromFailedPeer() throws {
        let result = try JobRunner.run(["--transport", "tcp", "-n", "2", "swiftmpi-testrank", "offer-then-peer-dies"])
        #expect(result.status == 137)
        #expect(result.stdout.contains("rank 0 first receive got processFailed: rank 1 failed:"), "stdout: \(result.stdout)")
        #expect(
            result.stdout.contains("rank 0 second receive got processFailed: rank 1 failed before its 1048576-byte message could be received"),
            "stdout: \(result.stdout)")
    }
}
