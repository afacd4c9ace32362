import Foundation

/// Runs `swiftmpirun` (built beside this test bundle) as a real process, for the integration tests.
struct JobResult {
    let status: Int32
    let stdout: String
    let stderr: String
    let seconds: Double

    /// Lines of stdout, sorted (ranks print in any order).
    var sortedLines: [String] { stdout.split(separator: "\n").map(String.init).sorted() }
}

enum JobRunner {
    /// The directory holding the package's built executables (the test bundle sits among them).
    static let binaryDirectory: URL = {
        let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        return executable.deletingLastPathComponent()
    }()

    static var launcher: String { binaryDirectory.appendingPathComponent("swiftmpirun").path }

    /// Runs `swiftmpirun arguments...` to its end, with `input` on stdin, and captures everything.
    /// `wrapper` runs the launcher through another command (for example `ip netns exec HOST`).
    static func run(
        _ arguments: [String], input: String? = nil, environment: [String: String] = [:],
        wrapper: [String] = []
    ) throws -> JobResult {
        let scratch = try TestRun.makeScratch("job")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("out"), errURL = scratch.appendingPathComponent("err")
        var stdinPath = "/dev/null"
        if let input {
            stdinPath = scratch.appendingPathComponent("in").path
            try Data(input.utf8).write(to: URL(fileURLWithPath: stdinPath))
        }
        // Every job is bounded: a hang fails its test (status 124) instead of stalling the suite.
        let arguments = arguments.contains("--timeout") || arguments.contains("--info") ? arguments : ["--timeout", "300"] + arguments
        let command = wrapper.isEmpty ? [launcher] + arguments : wrapper + [launcher] + arguments
        let start = Date()
        let child = try ChildProcess(
            command[0], Array(command.dropFirst()),
            environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
            stdinPath: stdinPath, stdoutPath: outURL.path, stderrPath: errURL.path)
        let status = child.wait()
        return JobResult(
            status: status,
            stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "",
            seconds: Date().timeIntervalSince(start))
    }

    /// Runs the test rank program under swiftmpirun with `n` ranks.
    static func ranks(
        _ n: Int, _ mode: [String], launcherOptions: [String] = [], input: String? = nil,
        environment: [String: String] = [:]
    ) throws -> JobResult {
        try run(launcherOptions + ["-n", "\(n)", "swiftmpi-testrank"] + mode, input: input, environment: environment)
    }

    /// Process ids of live (not zombie) processes whose environment contains `marker`, to prove that
    /// no rank outlives its job. Tests give each job a unique `SWIFTMPI_TEST_MARK`.
    static func livePIDs(withEnvironment marker: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let environment = FileManager.default.contents(atPath: "/proc/\(pid)/environ"),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)
            else { return false }
            return environment.range(of: Data(marker.utf8)) != nil && !stat.contains(") Z ")
        }
    }

    /// The job ID (`SWIFTMPI_JOB_ID`) of the live ranks carrying `marker`, read from /proc.
    static func jobID(ofRanksWith marker: String) -> String? {
        environmentValue("SWIFTMPI_JOB_ID", ofRanksWith: marker)
    }

    /// The value of the variable `name` in the environment of a live rank carrying `marker` (the
    /// launcher carries the marker too but not the wire-up variables).
    static func environmentValue(_ name: String, ofRanksWith marker: String) -> String? {
        livePIDs(withEnvironment: marker).lazy.compactMap { pid in
            (try? String(contentsOfFile: "/proc/\(pid)/environ", encoding: .utf8))?.split(separator: "\0")
                .first { $0.hasPrefix("\(name)=") }.map { String($0.dropFirst(name.count + 1)) }
        }.first
    }

    /// The abstract Unix socket addresses (`@name`) that something in this network namespace listens
    /// on, from /proc/net/unix (flag 00010000: accepting connections).
    static func listeningAbstractSockets() -> Set<String> {
        let table = (try? String(contentsOfFile: "/proc/net/unix", encoding: .utf8)) ?? ""
        return Set(
            table.split(separator: "\n").dropFirst().compactMap { line in
                let fields = line.split(separator: " ")
                guard fields.count >= 8, fields[3] == "00010000", fields[7].hasPrefix("@") else { return nil }
                return String(fields[7])
            })
    }

    /// The shared-memory segment names of job `jobID` present in /dev/shm.
    static func segments(ofJob jobID: String?) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/dev/shm")) ?? []).filter { $0.hasPrefix("swiftmpi-\(jobID ?? "?")-") }
    }

    /// Waits up to `seconds` for `condition`, polling; returns whether it became true.
    static func eventually(within seconds: Double, _ condition: () -> Bool) -> Bool {
        let end = Date().addingTimeInterval(seconds)
        while Date() < end {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }
}
