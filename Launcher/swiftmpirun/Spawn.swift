import CShims
#if canImport(Glibc)
import Glibc
#endif

/// Starts `path` with `arguments` and `environment` on the given standard streams (see
/// `cshims_spawn`: own process group, SIGKILL when the parent dies, CPU binding, clean signals).
/// Returns the pid, or the errno of the failed start.
func spawnProcess(_ path: String, arguments: [String], environment: [String], stdin: Int32, stdout: Int32,
                  stderr: Int32, cpu: Int32?) -> Result<pid_t, SpawnError> {
    var pid: pid_t = 0
    let error = withCStrings(arguments) { argv in
        withCStrings(environment) { envp in
            cshims_spawn(path, argv, envp, stdin, stdout, stderr, cpu ?? -1, SIGKILL, &pid)
        }
    }
    return error == 0 ? .success(pid) : .failure(SpawnError(code: error))
}

struct SpawnError: Error {
    let code: Int32
}

/// Calls `body` with a NULL-terminated array of C strings.
func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// The environment of this process as NAME=VALUE strings.
func currentEnvironment() -> [String] {
    var result: [String] = []
    var index = 0
    while let entry = environ[index] {
        result.append(String(cString: entry))
        index += 1
    }
    return result
}

/// Describes how a process ended, for the launcher's one-line verdict: nil when it succeeded.
/// `finalized`/`initialized` apply the rule that a rank exiting 0 after initialize without finalize fails.
func failureVerdict(rank: Int, pid: pid_t, waitStatus status: Int32, initialized: Bool, finalized: Bool,
                    host: String? = nil) -> (status: Int32, line: String)? {
    let who = "rank \(rank) (pid \(pid)\(host.map { " on \($0)" } ?? ""))"
    let signal = status & 0x7f
    let code = (status >> 8) & 0xff
    if signal != 0 {
        let name = String(cString: strsignal(signal))
        return (128 + signal, "\(who) was killed by signal \(signal) (\(name)); job aborted")
    }
    if code != 0 { return (code, "\(who) exited with status \(code); job aborted") }
    if initialized && !finalized { return (1, "\(who) exited without calling MPI.finalize(); job aborted") }
    return nil
}
