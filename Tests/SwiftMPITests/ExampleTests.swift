import Foundation
import Testing

/// The scientific examples in Examples/, each checking itself against a serial run of the same
/// computation, run as real jobs; and a user's package that depends on SwiftMPI by path.
@Suite("scientific examples", .serialized)
struct ExampleTests {
    @Test(
        "heat diffusion, conjugate gradient, Monte-Carlo π, the pencil transform and the shared table match their serial runs",
        arguments: [
            ("swiftmpi-heat", [1, 4, 6]), ("swiftmpi-cg", [1, 3, 5]), ("swiftmpi-pi", [1, 2, 7]), ("swiftmpi-pencil", [1, 4, 6]),
            ("swiftmpi-table", [1, 3, 4]), ("swiftmpi-resilient-heat", [1, 3])
        ])
    func examples(program: String, rankCounts: [Int]) throws {
        for ranks in rankCounts {
            let result = try JobRunner.run(["-n", "\(ranks)", program])
            #expect(result.status == 0, "\(program) on \(ranks) ranks: \(result.stdout) \(result.stderr)")
            #expect(result.stdout.contains("matches the serial run"), "\(program) on \(ranks) ranks: \(result.stdout)")
        }
    }

    @Test(
        "resilient heat diffusion survives killed ranks (one, two, rank 0, at the first step) with buddy checkpoints and matches the serial run",
        arguments: [
            (["-n", "6"], ["--kill", "2@130"], 1), (["-n", "6"], ["--kill", "0@45", "--kill", "3@210"], 2),
            (["-n", "4"], ["--kill", "3@0"], 1), (["--transport", "tcp", "-n", "5"], ["--kill", "1@77", "--kill", "4@150"], 2)
        ])
    func resilientHeat(options: [String], kills: [String], recoveries: Int) throws {
        let result = try JobRunner.run(["--enable-recovery", "--timeout", "120"] + options + ["swiftmpi-resilient-heat", "64", "300", "20"] + kills)
        let ranks = Int(options.last!)!
        #expect(result.status == 137, "\(options) \(kills): \(result.stdout) \(result.stderr)")
        let recovered = "recover\(recoveries == 1 ? "y" : "ies")"
        #expect(
            result.stdout.contains("finished on \(ranks - recoveries) of \(ranks) ranks after \(recoveries) \(recovered); largest difference from serial 0.0"),
            "\(options) \(kills): \(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("matches the serial run"), "\(options) \(kills): \(result.stdout)")
        #expect(result.stderr.contains("recovery mode: the job goes on with \(ranks - 1) ranks"), "\(result.stderr)")
    }

    @Test("resilient heat diffusion survives kill -9 of a random rank at a random moment, from outside, and matches the serial run")
    func resilientHeatRandomKill() throws {
        let mark = UUID().uuidString
        let scratch = try TestRun.makeScratch("rheat")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out"), errURL = scratch.appendingPathComponent("err")
        let job = try ChildProcess(
            JobRunner.launcher, ["--enable-recovery", "--timeout", "120", "-n", "4", "swiftmpi-resilient-heat", "64", "30000", "50"],
            environment: ProcessInfo.processInfo.environment.merging(["SWIFTMPI_TEST_MARK": mark]) { $1 },
            stdoutPath: outURL.path, stderrPath: errURL.path)
        var ranks: [Int32] = []
        #expect(
            JobRunner.eventually(within: 30) {
                ranks = JobRunner.livePIDs(withEnvironment: mark).filter { pid in
                    ((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").contains("swiftmpi-resilient-heat")
                        && !((try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? "").contains("swiftmpirun")
                }
                return ranks.count == 4
            })
        // A random moment inside the run: the job takes ~2.9 s here (debug build), so a delay of up
        // to 2 s after the ranks were seen now and then came after the last step (0 recoveries).
        let delay = UInt32.random(in: 300_000...1_200_000)
        usleep(delay)
        let victim = ranks.randomElement()
        if let victim { kill(victim, SIGKILL) }
        let status = job.wait()
        let stdout = (try? String(contentsOf: outURL, encoding: .utf8)) ?? "", stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        let context = "pid \(victim ?? -1) killed after \(delay / 1000) ms: \(stdout) \(stderr)"
        #expect(status == 137, "\(context)")
        #expect(stderr.contains("(pid \(victim ?? -1)) was killed by signal 9 (Killed); recovery mode: the job goes on with 3 ranks"), "\(context)")
        #expect(stdout.contains("finished on 3 of 4 ranks after 1 recovery; largest difference from serial 0.0"), "\(context)")
        #expect(stdout.contains("matches the serial run"), "\(context)")
        print("resilient heat: killed pid \(victim ?? -1) after \(delay / 1000) ms; \(stdout.split(separator: "\n").first { $0.hasPrefix("recovered") } ?? "")")
    }

    @Test(
        "heat diffusion with a one-sided halo exchange (put + fence) matches the serial run, on shared memory and over TCP",
        arguments: [["-n", "4"], ["-n", "6"], ["--transport", "tcp", "-n", "4"]])
    func oneSidedHeat(options: [String]) throws {
        let result = try JobRunner.run(options + ["swiftmpi-heat", "--one-sided"])
        #expect(result.status == 0, "\(options): \(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("one-sided halo exchange"), "\(options): \(result.stdout)")
        #expect(result.stdout.contains("matches the serial run"), "\(options): \(result.stdout)")
    }

    @Test(
        "the shared table is held once per host: twice for 4 ranks on 2 simulated hosts",
        .enabled(if: SimulatedHosts.available, "needs root and ip(8) for network namespaces; CI runs it"))
    func sharedTableOncePerHost() throws {
        let result = try SimulatedHosts.run(["--host", "swmh1:2,swmh2:2", "-n", "4", "swiftmpi-table", "200000", "10000"])
        #expect(result.status == 0, "\(result.stdout) \(result.stderr)")
        #expect(result.stdout.contains("held 2 times for 4 ranks on 2 hosts"), "\(result.stdout)")
        #expect(result.stdout.contains("one copy per host: every rank's writes reached its host's rank 0"), "\(result.stdout)")
        #expect(result.stdout.contains("matches the serial run"), "\(result.stdout)")
    }

    @Test("a separate package that depends on SwiftMPI by path builds and runs under swiftmpirun")
    func consumerPackage() throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Scripts/consumer-package.sh").path
        let log = TestRun.scratchDirectory.appendingPathComponent("consumer-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        let child = try ChildProcess("/bin/bash", [script], stdoutPath: log, stderrPath: log)
        let status = child.wait()
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(output)")
        #expect(output.contains("consumer package: built against SwiftMPI by path and ran 2 ranks"))
    }
}
