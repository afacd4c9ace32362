import Foundation

/// A child process started with posix_spawn and reaped with waitpid.
///
/// The tests use this instead of Foundation's `Process`, whose SIGCHLD-based reaping can miss a child
/// when many are started at once from parallel tests (seen here: a zombie launcher and a test waiting
/// forever).
final class ChildProcess: @unchecked Sendable {
    let pid: pid_t
    private var status: Int32?

    /// Starts `executable` with `arguments`; stdin from `stdinPath` (default /dev/null), stdout and
    /// stderr to the given files (default /dev/null).
    init(_ executable: String, _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
         stdinPath: String = "/dev/null", stdoutPath: String = "/dev/null", stderrPath: String = "/dev/null") throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { argv.forEach { free($0) }; envp.forEach { free($0) } }
        var pid: pid_t = 0
        let error = posix_spawn(&pid, executable, &actions, nil, argv, envp)
        guard error == 0 else { throw POSIXError(POSIXErrorCode(rawValue: error) ?? .EIO) }
        self.pid = pid
    }

    /// Waits for the child and returns its exit status, or 128+N if signal N killed it.
    @discardableResult
    func wait() -> Int32 {
        if let status { return status }
        var raw: Int32 = 0
        while waitpid(pid, &raw, 0) < 0 && errno == EINTR {}
        let signal = raw & 0x7f
        let result = signal != 0 ? 128 + signal : (raw >> 8) & 0xff
        status = result
        return result
    }
}
