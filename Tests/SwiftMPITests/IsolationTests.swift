import Foundation
import Testing

/// A throwaway local user (`Tests/Scripts/throwaway-user.sh`), created for the isolation tests with a
/// name of this run's own (swiftmpi-uXXXXXX) and removed when the test process exits, however it ends
/// (see `TestRun`).
enum Intruder {
    /// Why the tests cannot run here (not root, or useradd or runuser missing), or nil.
    static let unavailableReason: String? = {
        guard getuid() == 0 else { return "needs root to create a throwaway user (CI runs these as root)" }
        let check = TestRun.runScript("throwaway-user.sh", ["check"])
        return check.status == 0 ? nil : check.reason
    }()

    struct CreationFailure: Error, CustomStringConvertible { let description: String }

    /// The user's name, once created (by the first test that asks).
    static let created: Result<String, CreationFailure> = {
        let up = TestRun.runScript("throwaway-user.sh", ["up", "--owner", TestRun.owner])
        guard up.status == 0, let name = up.exports["SWIFTMPI_TEST_USER"] else {
            return .failure(CreationFailure(description: "Tests/Scripts/throwaway-user.sh up failed with status \(up.status): \(up.reason)"))
        }
        TestRun.atExit("throwaway-user.sh", ["down", name])
        return .success(name)
    }()

    static var name: String { (try? created.get()) ?? "nobody-created" }

    /// Whether the suite can run; when it cannot, says why once, loudly.
    static let available = TestRun.suiteRuns("isolation tests", unavailableReason: unavailableReason)

    /// Runs `command` with /bin/sh as the throwaway user; returns the exit status and its output.
    static func run(_ command: String) -> (status: Int32, output: String) {
        let path = TestRun.scratchDirectory.appendingPathComponent("intruder-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let status = shell("/usr/sbin/runuser -u \(name) -- /bin/bash -c '\(command)' > \(path) 2>&1")
        return (status, (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
    }

    @discardableResult
    static func shell(_ command: String) -> Int32 {
        (try? ChildProcess("/bin/sh", ["-c", command]).wait()) ?? -1
    }
}

/// A second local user can neither read, attach to, nor inject into another user's job: the
/// key-value socket closes its connections, the ranks' memory and environment (with the job secret) are closed to
/// it, shared-memory names are 0600 and unguessable, the secret appears in no command line or output,
/// and its connections to a rank's TCP port are refused without disturbing the job.
@Suite(
    "isolation from other local users", .serialized,
    .enabled(if: Intruder.available, "needs root to create a throwaway user; CI runs it"))
struct IsolationTests {
    @Test("another user cannot use a running job's key-value socket, nor read its memory, environment or secret")
    func privateJob() throws {
        _ = try Intruder.created.get()
        let scratch = try TestRun.makeScratch("isolation")
        defer { try? FileManager.default.removeItem(at: scratch) }
        var environment = ProcessInfo.processInfo.environment
        environment["TMPDIR"] = scratch.path
        let stdout = scratch.appendingPathComponent("job.out").path, stderr = scratch.appendingPathComponent("job.err").path
        let job = try ChildProcess(
            JobRunner.launcher,
            [
                "--timeout", "60", "--transport", "tcp", "-n", "2", "swiftmpi-testrank",
                "keep-talking", "6"
            ],
            environment: environment, stdoutPath: stdout, stderrPath: stderr)
        defer { kill(job.pid, SIGKILL); job.wait() }

        // Wait for both ranks to run (their TCP listeners are up once wire-up is done).
        var ranks: [String] = []
        for _ in 0..<100 where ranks.count < 2 {
            usleep(50_000)
            ranks = ((try? String(contentsOfFile: "/proc/\(job.pid)/task/\(job.pid)/children", encoding: .utf8)) ?? "")
                .split(separator: " ").map(String.init)
        }
        #expect(ranks.count == 2, "rank pids: \(ranks)")
        usleep(300_000)

        // A positive control: the intruder exists and can read what is world-readable.
        #expect(Intruder.run("id -un").output == "\(Intruder.name)\n")
        #expect(Intruder.run("head -c 10 /proc/\(ranks[0])/cmdline").status == 0)

        // The key-value socket stops listening once both ranks have said hello (nothing else may
        // connect) ...
        let jobAddress = try #require(
            (try? String(contentsOfFile: "/proc/\(ranks[0])/environ", encoding: .utf8))?
                .split(separator: "\0").first { $0.hasPrefix("SWIFTMPI_KVS=@") }?.dropFirst("SWIFTMPI_KVS=".count))
        #expect(
            JobRunner.eventually(within: 10) { !JobRunner.listeningAbstractSockets().contains(String(jobAddress)) },
            "the key-value socket listened after wire-up")
        let before = JobRunner.listeningAbstractSockets()
        let waiting = try ChildProcess(
            JobRunner.launcher, ["-n", "2", "sleep", "20"], environment: environment,
            stderrPath: scratch.appendingPathComponent("waiting.err").path)
        defer { kill(waiting.pid, SIGKILL); waiting.wait() }
        // ... and while it listens (here: ranks that never say hello), anyone can find its abstract
        // name in /proc/net/unix, but a connection from another user is closed at once, unread.
        var address: String?
        for _ in 0..<100 where address == nil {
            usleep(50_000)
            address = JobRunner.listeningAbstractSockets().subtracting(before).first { $0.hasPrefix("@swiftmpi-kvs-") }
        }
        let name = try #require(address).dropFirst()
        let probe = Intruder.run(
            "/usr/bin/python3 -c \"import socket; s = socket.socket(socket.AF_UNIX); s.connect(\\\"\\\\0\(name)\\\"); print(\\\"connected\\\"); "
                + "s.settimeout(5); print(\\\"closed\\\" if s.recv(1) == b\\\"\\\" else \\\"open\\\")\""
        )
        #expect(probe.output == "connected\nclosed\n", "intruder's connection: \(probe.output)")
        let refusal = (try? String(contentsOfFile: scratch.appendingPathComponent("waiting.err").path, encoding: .utf8)) ?? ""
        #expect(
            refusal.contains("refused key-value connection from pid") && refusal.contains("not as the job's user"),
            "launcher stderr: \(refusal)")

        // The ranks' environment (where the secret was), memory and maps.
        let secretLine = try #require(
            String(contentsOfFile: "/proc/\(ranks[0])/environ", encoding: .utf8)
                .split(separator: "\0").first { $0.hasPrefix("SWIFTMPI_JOB_SECRET=") })
        let secret = String(secretLine.dropFirst("SWIFTMPI_JOB_SECRET=".count))
        #expect(secret.count == 64)
        for rank in ranks {
            for file in ["environ", "mem", "maps"] {
                let attempt = Intruder.run("head -c 64 /proc/\(rank)/\(file)")
                #expect(
                    attempt.status != 0 && attempt.output.contains("Permission denied") && !attempt.output.contains(secret),
                    "/proc/\(rank)/\(file) readable: \(attempt.output)")
            }
            // Command lines are world-readable: the secret must not be in them.
            let commandLine = Intruder.run("tr \"\\\\0\" \" \" < /proc/\(rank)/cmdline")
            #expect(commandLine.status == 0 && commandLine.output.contains("swiftmpi-testrank") && !commandLine.output.contains(secret))
        }
        #expect(!Intruder.run("tr \"\\\\0\" \" \" < /proc/\(job.pid)/cmdline").output.contains(secret))

        // Shared-memory names of the job, if any are still there, are 0600 and closed to the intruder.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm"))?.filter({ $0.hasPrefix("swiftmpi-") }) ?? [] {
            #expect(Intruder.run("head -c 1 /dev/shm/\(name)").status != 0, "/dev/shm/\(name) readable by another user")
        }

        // Injection: the intruder writes a forged handshake to every TCP port the ranks listen on.
        let ports = listeningPorts(of: ranks)
        #expect(!ports.isEmpty, "no TCP listener found for ranks \(ranks)")
        for port in ports {
            _ = Intruder.run("exec 3<>/dev/tcp/127.0.0.1/\(port) && printf \"SMTC\\\\0\\\\0\\\\0\\\\0forged-hello-without-the-secret\" >&3; sleep 0.2")
        }

        // The job is undisturbed and the secret never reached its output.
        #expect(job.wait() == 0, "job stderr: \((try? String(contentsOfFile: stderr, encoding: .utf8)) ?? "")")
        let output = ((try? String(contentsOfFile: stdout, encoding: .utf8)) ?? "") + ((try? String(contentsOfFile: stderr, encoding: .utf8)) ?? "")
        #expect(output.contains("rank 1 exchanged"), "output: \(output)")
        #expect(!output.contains(secret))
    }

    /// The TCP ports the processes listen on, from /proc/net/tcp and their socket inodes.
    private func listeningPorts(of pids: [String]) -> [Int] {
        var inodes = Set<String>()
        for pid in pids {
            for fd in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")) ?? [] {
                if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(fd)"),
                    target.hasPrefix("socket:[")
                {
                    inodes.insert(String(target.dropFirst(8).dropLast()))
                }
            }
        }
        let table = (try? String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)) ?? ""
        return table.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 9, fields[3] == "0A", inodes.contains(String(fields[9])) else { return nil }  // 0A = LISTEN
            return Int(fields[1].split(separator: ":")[1], radix: 16)
        }
    }
}
