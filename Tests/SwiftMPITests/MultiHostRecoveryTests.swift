import Foundation
import Testing

/// Recovery mode across simulated hosts (network namespaces): a killed rank, a killed daemon (its
/// host's ranks die with it), and a host cut off the network, found by heartbeats. The survivors
/// recover (revoke, agree, shrink) and finish; the cut-off host's daemon ends its own ranks.
@Suite(
    "recovery across simulated hosts (network namespaces)", .serialized,
    .enabled(if: SimulatedHosts.available, "needs root and ip(8) for network namespaces; CI runs it"))
struct MultiHostRecoveryTests {
    @Test(
        "a rank killed on another host: receives end with .processFailed or .revoked, collectives with .processFailed; then agree, shrink",
        arguments: ["p2p", "collective"])
    func killedRank(phase: String) throws {
        let result = try SimulatedHosts.run(
            ["--enable-recovery", "--timeout", "120", "--host", "swmh1:2,swmh2:2", "-n", "4", "swiftmpi-testrank", "recover", "2", phase])
        let context = "stdout: \(result.stdout)\nstderr: \(result.stderr)"
        #expect(result.status == 137, "\(context)")
        #expect(result.stderr.contains(") was killed by signal 9 (Killed); recovery mode: the job goes on with 3 ranks"), "\(context)")
        let summaries = RecoveryTests.lines(result.stdout, containing: "agreed 0, shrunk to 3 ranks")
        #expect(Set(summaries.keys) == [0, 1, 3], "\(context)")
        #expect(summaries.values.allSatisfy { $0.hasSuffix("failed [2], revoked \(phase == "p2p"), sum of world ranks 4") }, "\(context)")
    }

    @Test("soak over TCP across three hosts: two of six ranks killed between and during operations; the other four recover alike and finish")
    func soakAcrossHosts() throws {
        let result = try SimulatedHosts.run(
            ["--enable-recovery", "--timeout", "150", "--host", "swmh1:2,swmh2:2,swmh3:2", "-n", "6", "swiftmpi-testrank", "recover-soak", "21", "1", "4"],
            environment: ["SOAK_ITERATIONS": "300"])
        let context = "stdout: \(result.stdout)\nstderr: \(result.stderr)"
        #expect(result.status == 137, "\(context)")
        let finished = RecoveryTests.lines(result.stdout, containing: "finished 300 iterations on 4 ranks")
        #expect(Set(finished.keys) == [0, 2, 3, 5], "\(context)")
        #expect(Set(finished.values.map { $0.drop { $0 != ":" } }).count == 1, "the survivors recovered differently: \(context)")
    }

    /// Runs a 6-rank soak over this suite's three private simulated hosts (2 ranks each) in the
    /// background, does `strike` to the third (given the job's environment mark) after two seconds,
    /// and returns the job's status, output and the seconds from the strike to the launcher's line
    /// about the lost host.
    func soakWithLostHost(
        environment: [String: String] = [:], _ strike: (_ host: String, _ mark: String) throws -> Void
    ) throws -> (status: Int32, stdout: String, stderr: String, detection: Double?, struck: Date) {
        // Hosts of this suite's own: the third is broken on purpose, and other suites run meanwhile.
        let first = SimulatedHosts.firstPrivate
        let (h1, h2, h3) = (try SimulatedHosts.host(first), try SimulatedHosts.host(first + 1), try SimulatedHosts.host(first + 2))
        let mark = UUID().uuidString
        let scratch = try TestRun.makeScratch("mhr")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out"), errURL = scratch.appendingPathComponent("err")
        for url in [outURL, errURL] { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        let process = try ChildProcess(
            SimulatedHosts.ip!,
            [
                "netns", "exec", h1, JobRunner.launcher, "--launch-agent", "\(SimulatedHosts.ip!) netns exec %h", "--enable-recovery", "--timeout", "150",
                "--host", "\(h1):2,\(h2):2,\(h3):2", "-n", "6", "swiftmpi-testrank", "recover-soak", "1"
            ],
            environment: ProcessInfo.processInfo.environment.merging(environment.merging(["SWIFTMPI_TEST_MARK": mark, "SOAK_ITERATIONS": "500"]) { $1 }) { $1 },
            stdoutPath: outURL.path, stderrPath: errURL.path)
        #expect(JobRunner.eventually(within: 30) { JobRunner.livePIDs(withEnvironment: mark).count >= 10 })  // launcher, 3 daemons, 6 ranks
        usleep(2_000_000)
        try strike(h3, mark)
        let struck = Date()
        var detection: Double?
        _ = JobRunner.eventually(within: 30) {
            let found = ((try? String(contentsOf: errURL, encoding: .utf8)) ?? "").contains("lost the daemon on host \(h3)")
            if found && detection == nil { detection = Date().timeIntervalSince(struck) }
            return found
        }
        let status = process.wait()
        #expect(JobRunner.eventually(within: 10) { JobRunner.livePIDs(withEnvironment: mark).isEmpty }, "a process of the job outlived it")
        return (
            status, (try? String(contentsOf: outURL, encoding: .utf8)) ?? "", (try? String(contentsOf: errURL, encoding: .utf8)) ?? "", detection, struck
        )
    }

    @Test("a host whose daemon is killed mid-run: its ranks count as failed, and the other four finish the soak")
    func daemonKilled() throws {
        let result = try soakWithLostHost { host, mark in
            let daemon = JobRunner.livePIDs(withEnvironment: mark).first { pid in
                ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").contains("--daemon-host\u{0}2")
            }
            #expect(daemon != nil, "no daemon of host \(host)")
            if let daemon { kill(daemon, SIGKILL) }
        }
        let context = "stdout: \(result.stdout)\nstderr: \(result.stderr)"
        #expect(result.status == 1, "\(context)")
        #expect(result.stderr.contains("ranks 4, 5 lost; recovery mode: the job goes on with 4 ranks"), "\(context)")
        let finished = Set(RecoveryTests.lines(result.stdout, containing: "finished 500 iterations on 4 ranks").keys)
        #expect(finished == [0, 1, 2, 3], "\(context)")
        print("daemon killed: the launcher said so after \(result.detection.map { String(format: "%.2f", $0) } ?? "?") s")
    }

    @Test("a host cut off the network mid-run is found by heartbeats (2 s), its daemon ends its ranks, the others finish")
    func hostCutOff() throws {
        var cut: String?
        defer {  // the simulated host's link comes back for the tests after this one
            if let cut { _ = try? ChildProcess(SimulatedHosts.ip!, ["-n", cut, "link", "set", "eth0", "up"]).wait() }
        }
        let result = try soakWithLostHost { host, _ in
            cut = host
            let down = try ChildProcess(SimulatedHosts.ip!, ["-n", host, "link", "set", "eth0", "down"]).wait()
            #expect(down == 0)
        }
        let context = "stdout: \(result.stdout)\nstderr: \(result.stderr)"
        #expect(result.status == 1, "\(context)")
        #expect(result.stderr.contains("(no heartbeat for 2.0 s): ranks 4, 5 lost; recovery mode: the job goes on with 4 ranks"), "\(context)")
        #expect(result.stderr.contains("no heartbeat from the launcher for 2.0 s: ending this host's ranks"), "\(context)")
        let finished = Set(RecoveryTests.lines(result.stdout, containing: "finished 500 iterations on 4 ranks").keys)
        #expect(finished == [0, 1, 2, 3], "\(context)")
        print("host cut off: found by heartbeats after \(result.detection.map { String(format: "%.2f", $0) } ?? "?") s (timeout 2 s, period 0.5 s)")
    }

    @Test("among the ranks (as under srun, no launcher's word): a host cut off mid-run is found by TCP within ~3 s; the others finish")
    func hostCutOffAmongRanks() throws {
        var cut: String?
        defer {  // the simulated host's link comes back for the tests after this one
            if let cut { _ = try? ChildProcess(SimulatedHosts.ip!, ["-n", cut, "link", "set", "eth0", "up"]).wait() }
        }
        // The ranks ignore the launcher's notices (SWIFTMPI_RECOVERY_AGREEMENT=peers): they must find
        // the lost host through their TCP connections (keepalive, unacknowledged data, connects).
        let result = try soakWithLostHost(environment: ["SWIFTMPI_RECOVERY_AGREEMENT": "peers", "SOAK_REPORT": "1"]) { host, _ in
            cut = host
            let down = try ChildProcess(SimulatedHosts.ip!, ["-n", host, "link", "set", "eth0", "down"]).wait()
            #expect(down == 0)
        }
        let context = "stdout: \(result.stdout)\nstderr: \(result.stderr)"
        let finished = Set(RecoveryTests.lines(result.stdout, containing: "finished 500 iterations on 4 ranks").keys)
        #expect(finished == [0, 1, 2, 3], "\(context)")
        RecoveryTests.expectNoneTakenForFailed(result.stderr, context)
        // When the survivors' first rounds ended, and why: a host found lost by TCP.
        let endings = result.stdout.split(separator: "\n").compactMap { line -> (Int, Double, String)? in
            guard let match = line.firstMatch(of: /^rank (\d+): at (\d+\.\d+) a round ended with (.*)$/), let rank = Int(match.1),
                let time = Double(match.2), rank < 4
            else { return nil }
            return (rank, time, String(match.3))
        }
        #expect(
            endings.contains { $0.2.contains("answered nothing") || $0.2.contains("ETIMEDOUT") || $0.2.contains("not connected within") },
            "no failed round was ended by TCP finding the lost host: \(context)")
        let detection = endings.map(\.1).min().map { $0 - result.struck.timeIntervalSince1970 }
        // Keepalive fails an idle connection after 3 s, unanswered retransmissions after 2 s.
        #expect(detection.map { $0 < 3.5 } == true, "TCP found the lost host only after \(detection ?? -1) s: \(context)")
        print("host cut off, among the ranks: TCP found it after \(detection.map { String(format: "%.2f", $0) } ?? "?") s (timeout 2 s)")
    }
}
