import Foundation
import Synchronization
import SwiftMPIWireup

/// A child process started with posix_spawn and reaped with waitpid.
///
/// The tests use this instead of Foundation's `Process`, whose SIGCHLD-based reaping can miss a child
/// when many are started at once from parallel tests (seen here: a zombie launcher and a test waiting
/// forever).
///
/// @unchecked: `pid` is a `let`; `status` is written only by the waits, which the test that started
/// the child makes from one task at a time (a child is never waited for from two tasks at once).
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    private var status: Int32?

    /// Starts `executable` with `arguments`; stdin from `stdinPath` (default /dev/null), stdout and
    /// stderr to the given files (default /dev/null).
    init(
        _ executable: String, _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
        stdinPath: String = "/dev/null", stdoutPath: String = "/dev/null", stderrPath: String = "/dev/null"
    ) throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        // The child starts with no signal blocked and every signal at its default action: this
        // process's worker threads block signals, and a child must not inherit that (mpirun would
        // neither forward nor act on SIGUSR1 and SIGTERM).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var none = sigset_t(), all = sigset_t()
        sigemptyset(&none)
        sigfillset(&all)
        posix_spawnattr_setsigmask(&attributes, &none)
        posix_spawnattr_setsigdefault(&attributes, &all)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let error = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
        guard error == 0 else { throw POSIXError(POSIXErrorCode(rawValue: error) ?? .EIO) }
        self.pid = pid
    }

    /// Waits for the child and returns its exit status, or 128+N if signal N killed it.
    @discardableResult
    func wait() -> Int32 {
        if let status { return status }
        var raw: Int32 = 0
        _ = try? systemCall("waitpid") { waitpid(pid, &raw, 0) }  // EINTR retried; ECHILD: raw stays 0
        let signal = raw & 0x7f
        let result = signal != 0 ? 128 + signal : (raw >> 8) & 0xff
        status = result
        return result
    }
}

/// What a test run starts for itself with the scripts in Tests/Scripts (a Slurm cluster, simulated
/// hosts, a throwaway user) is tied to this process: the scripts are given its pid (`--owner`) and
/// leave a guardian in a session of its own that undoes it all once this process has exited, however
/// it ends (a failed test, SIGINT, a timeout's SIGTERM, SIGKILL). On a normal exit the same `down`
/// commands also run right here, before the process ends, so that `swift test` returns with nothing
/// of the run left running. The run's scratch files (jobs' output, logs) go to one directory that is
/// removed the same two ways.
enum TestRun {
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Scripts")

    static func script(_ name: String) -> String { scripts.appendingPathComponent(name).path }

    /// Whether a heavier suite runs: true when nothing is missing (`unavailableReason` nil); otherwise
    /// it says once, loudly, why `suite` is skipped — unless `SWIFTMPI_REQUIRE_ALL_SUITES=1` (CI), where
    /// nothing may be skipped: then the suite runs anyway and its tests fail, naming what is missing.
    static func suiteRuns(_ suite: String, unavailableReason: String?) -> Bool {
        guard let reason = unavailableReason else { return true }
        if ProcessInfo.processInfo.environment["SWIFTMPI_REQUIRE_ALL_SUITES"] == "1" {
            print("❌ \(suite) cannot run here, and SWIFTMPI_REQUIRE_ALL_SUITES=1 forbids skipping them: \(reason)")
            return true
        }
        print("⚠️ SKIPPING \(suite): \(reason)")
        return false
    }

    /// This run's directory for scratch files, `$TMPDIR/swiftmpi-tests.PID.XXXXXX` (made at first use).
    static let scratchDirectory: URL = {
        let template = FileManager.default.temporaryDirectory.appendingPathComponent("swiftmpi-tests.\(getpid()).XXXXXX").path
        var bytes = Array(template.utf8CString)
        let path = bytes.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let made = mkdtemp(buffer.baseAddress!) else { return nil }
            return String(cString: made)
        }
        guard let path else { return FileManager.default.temporaryDirectory }
        // Removed by a guardian once this process has exited, or at a normal exit (below).
        if let guardian = try? ChildProcess("/bin/bash", [script("owner-guard.sh"), "start", owner, "--", "rm", "-rf", "--", path]) {
            guardian.wait()
        }
        _ = hook
        return URL(fileURLWithPath: path, isDirectory: true)
    }()

    /// A fresh directory inside `scratchDirectory`, named `prefix-UUID`.
    static func makeScratch(_ prefix: String) throws -> URL {
        let directory = scratchDirectory.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String

        /// The `export NAME=VALUE` lines of stdout (how the scripts report what they set up).
        var exports: [String: String] {
            Dictionary(
                stdout.split(separator: "\n").compactMap { line -> (String, String)? in
                    guard line.hasPrefix("export "), let equals = line.firstIndex(of: "=") else { return nil }
                    return (String(line[line.index(line.startIndex, offsetBy: 7)..<equals]), String(line[line.index(after: equals)...]))
                }, uniquingKeysWith: { $1 })
        }

        /// The last lines of stderr, for a skip or failure message.
        var reason: String {
            stderr.split(separator: "\n").suffix(6).joined(separator: "\n")
        }
    }

    /// Runs `bash Tests/Scripts/name arguments...` and captures its status and output.
    static func runScript(_ name: String, _ arguments: [String], environment: [String: String] = [:]) -> Output {
        guard let scratch = try? makeScratch("script") else {
            return Output(status: -1, stdout: "", stderr: "could not create a directory in \(scratchDirectory.path)")
        }
        defer { try? FileManager.default.removeItem(at: scratch) }
        let out = scratch.appendingPathComponent("out").path, err = scratch.appendingPathComponent("err").path
        guard
            let child = try? ChildProcess(
                "/bin/bash", [script(name)] + arguments,
                environment: ProcessInfo.processInfo.environment.merging(environment) { $1 },
                stdoutPath: out, stderrPath: err)
        else {
            return Output(status: -1, stdout: "", stderr: "could not run \(script(name))")
        }
        let status = child.wait()
        return Output(
            status: status, stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }

    /// The pid the scripts watch: this test process's.
    static var owner: String { String(getpid()) }

    private static let exitCommands = Mutex<[(name: String, arguments: [String], environment: [String: String])]>([])
    private static let hook: Void = { atexit { TestRun.runAtExit() } }()

    /// Runs `Tests/Scripts/name arguments...` when this process exits normally (latest first).
    static func atExit(_ name: String, _ arguments: [String], environment: [String: String] = [:]) {
        _ = hook
        exitCommands.withLock { $0.append((name, arguments, environment)) }
    }

    private static func runAtExit() {
        let commands = exitCommands.withLock { commands in
            defer { commands.removeAll() }
            return commands
        }
        for command in commands.reversed() {
            let result = runScript(command.name, command.arguments, environment: command.environment)
            if result.status != 0 {
                FileHandle.standardError.write(
                    Data("⚠️ \(command.name) \(command.arguments.joined(separator: " ")) at exit: status \(result.status): \(result.reason)\n".utf8))
            }
        }
        try? FileManager.default.removeItem(at: scratchDirectory)
    }
}
