import CShims
#if canImport(Glibc)
import Glibc
#endif

/// Starts `path` with `arguments` and `environment` on the given standard streams (see
/// `cshims_spawn`: own process group, SIGKILL when the parent dies, CPU binding, clean signals),
/// with the affinity `affinity` (nil: the caller's), in `directory` (nil: the caller's). Returns
/// the pid, or the errno of the failed start.
func spawnProcess(
    _ path: String, arguments: [String], environment: [String], stdin: Int32, stdout: Int32,
    stderr: Int32, status: Int32 = -1, affinity: cshims_cpu_mask?, directory: String? = nil
) -> Result<pid_t, SpawnError> {
    var pid: pid_t = 0
    var mask = affinity ?? cshims_cpu_mask()
    let error = withCStrings(arguments) { argv in
        withCStrings(environment) { envp in
            withUnsafeMutablePointer(to: &mask) { maskPointer in
                let cpus = affinity == nil ? nil : UnsafePointer(maskPointer)
                guard let directory else { return cshims_spawn(path, argv, envp, stdin, stdout, stderr, status, cpus, nil, SIGKILL, &pid) }
                return cshims_spawn(path, argv, envp, stdin, stdout, stderr, status, cpus, directory, SIGKILL, &pid)
            }
        }
    }
    return error == 0 ? .success(pid) : .failure(SpawnError(code: error))
}

/// The affinity mask of `cpus` (CPU numbers below 1024).
func cpuMask(_ cpus: [Int]) -> cshims_cpu_mask {
    var mask = cshims_cpu_mask()
    withUnsafeMutableBytes(of: &mask.words) { words in
        let bits = words.bindMemory(to: UInt64.self)
        for cpu in cpus where cpu >= 0 && cpu < bits.count * 64 { bits[cpu / 64] |= 1 << UInt64(cpu % 64) }
    }
    return mask
}

/// The order in which to start processes bound to `cpus` (empty: unbound): those bound to other
/// CPUs first, those whose CPUs include the one the caller runs on last (with ``HoldOnCurrentCPU``,
/// a program started on the caller's own CPU would make every later start wait for it).
func startOrder(cpus: [[Int]]) -> [Int] {
    guard let current = currentCPU().map(Int.init) else { return Array(cpus.indices) }
    return cpus.indices.filter { !cpus[$0].contains(current) } + cpus.indices.filter { cpus[$0].contains(current) }
}

/// The CPU the calling thread runs on now, or nil when the kernel cannot say.
func currentCPU() -> Int32? {
    var cpu: Int32 = 0
    return cshims_current_cpu(&cpu) == 0 ? cpu : nil
}

/// Keeps the calling thread on the CPU it runs on until ``release()`` restores its affinity: held
/// while a launcher starts ranks. A vfork parent resumes when its child has exec'd, and the
/// scheduler may wake it on the CPU of the new program — the child's own after it bound itself —
/// where it waits until the program yields: with two bound ranks on two CPUs each start took
/// ~0.65 ms instead of ~0.15–0.2 ms (measured; Linux 6.18's EEVDF scheduler in these VMs).
struct HoldOnCurrentCPU {
    private var saved = cshims_cpu_mask()
    private let held: Bool

    /// The affinity to give an unbound child: the caller's before the hold (children inherit the
    /// held single CPU otherwise — every unbound rank of an oversubscribed job ran on one CPU), or
    /// nil when nothing is held (then inheriting is right).
    var unboundAffinity: cshims_cpu_mask? { held ? saved : nil }

    init() {
        guard let current = currentCPU() else {
            held = false
            return
        }
        held = cshims_affinity_get(&saved) == 0 && cshims_bind_to_cpu(current) == 0
    }

    /// Restores the affinity the thread had before.
    func release() {
        if held {
            var saved = saved
            _ = cshims_affinity_set(&saved)
        }
    }
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
/// A rank that died of a Swift runtime trap (SIGILL or SIGTRAP) after printing `fatalError` is reported
/// as stopped on that error (an uncaught one, or a failed precondition, a nil unwrapped…), with the
/// signal's status.
func failureVerdict(
    rank: Int, pid: pid_t, waitStatus status: Int32, initialized: Bool, finalized: Bool,
    host: String? = nil, fatalError: FatalErrorLine? = nil
) -> (status: Int32, line: String)? {
    let who = "rank \(rank) (pid \(pid)\(host.map { " on \($0)" } ?? ""))"
    let signal = status & 0x7f
    let code = (status >> 8) & 0xff
    if signal == SIGILL || signal == SIGTRAP, let fatalError {
        return (128 + signal, "\(who) stopped on \(fatalError.verdict); job aborted")
    }
    if signal != 0 {
        let name = String(cString: strsignal(signal))
        return (128 + signal, "\(who) was killed by signal \(signal) (\(name)); job aborted")
    }
    if code != 0 { return (code, "\(who) exited with status \(code); job aborted") }
    if initialized && !finalized { return (1, "\(who) exited without calling MPI.finalize(); job aborted") }
    return nil
}
