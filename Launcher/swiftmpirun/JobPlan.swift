import SwiftMPILauncherParsing
import CShims
import SwiftMPIWireup
#if canImport(Glibc)
import Glibc
#endif

/// Everything decided before the first rank starts: the program's path, each rank's CPU, the
/// environment and where output goes. Building a plan checks the command line against the machine;
/// every failure here is a ``LaunchError``.
struct JobPlan {
    let rankCount: Int
    let programPath: String
    let arguments: [String]
    let exports: [String: String]
    /// What every rank inherits: the launcher's environment minus stale SwiftMPI launch variables and
    /// the exported names, then the exports (computed once, not per rank).
    let inheritedEnvironment: [String]
    let tagOutput: Bool
    /// `--backtrace`: ranks' crash backtraces are relayed in full.
    let backtrace: Bool
    let outputDirectory: String?
    /// The CPU of each rank, or nil for unbound ranks.
    let cpuOfRank: [Int32?]
    let oversubscribed: Bool
    let timeout: Double?
    /// The binding asked for: "core", "none", or "auto" (daemons decide per host).
    let binding: String
    /// `--enable-recovery`: a failed rank does not end the job (``RecoveryCoordinator``).
    let recovery: Bool

    init(
        rankCount: Int, command: [String], exports: [String], tagOutput: Bool, backtrace: Bool = false,
        outputDirectory: String?, binding: LaunchOptions.Binding?, timeout: Double?, recovery: Bool = false
    ) throws {
        self.recovery = recovery
        self.rankCount = rankCount
        self.programPath = try ProgramLocator.locate(command[0])
        self.arguments = command
        self.tagOutput = tagOutput
        self.backtrace = backtrace
        self.timeout = timeout
        var exported: [String: String] = [:]
        for export in exports {
            let parts = export.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            if parts.count == 2 {
                exported[name] = String(parts[1])
            } else if let value = WireupEnvironment.value(name) {
                exported[name] = value
            }  // -x NAME of an unset variable exports nothing, as in Open MPI
        }
        self.exports = exported
        let launchNames = Set(WireupEnvironment.launchVariables)
        inheritedEnvironment = CLibraryPath.prepend(
            to: currentEnvironment().filter { entry in
                let name = String(entry.prefix { $0 != "=" })
                return !launchNames.contains(name) && exported[name] == nil
            } + exported.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" })
        if let outputDirectory {
            do {
                _ = try systemCall("mkdir") { mkdir(outputDirectory, 0o755) }
            } catch  where error.code != EEXIST {
                throw LaunchError("--output-dir \(outputDirectory): \(SystemError.describe(error.code))")
            } catch {}  // EEXIST: checked to be a directory next
            var info = stat()
            guard stat(outputDirectory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                throw LaunchError("--output-dir \(outputDirectory) is not a directory")
            }
        }
        self.outputDirectory = outputDirectory
        self.binding = binding?.rawValue ?? "auto"
        let cpus = Self.allowedCPUs()
        oversubscribed = rankCount > cpus.count
        // Binding policy (Open MPI's): bind to cores when every rank gets its own; leave ranks unbound
        // when oversubscribed, unless --bind-to core asks for round-robin binding anyway.
        let bind = binding.map { $0 == .core } ?? !oversubscribed
        cpuOfRank = (0..<rankCount).map { bind ? Int32(cpus[$0 % cpus.count]) : nil }
    }

    /// This host's name.
    static let hostName: String = {
        var name = [CChar](repeating: 0, count: 256)
        return gethostname(&name, 255) == 0 ? string(fromCArray: name) : "localhost"
    }()

    /// The CPUs the launcher may run on; ranks are placed on them in order.
    static func allowedCPUs() -> [Int] {
        var cpus = [Int32](repeating: 0, count: 1024)
        var count: Int32 = 0
        guard cshims_allowed_cpus(&cpus, Int32(cpus.count), &count) == 0, count > 0 else {
            return Array(0..<max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
        }
        return cpus[0..<Int(count)].map(Int.init)
    }

    /// The environment of `rank`: ``inheritedEnvironment`` plus the wire-up variables.
    func environment(rank: Int, jobID: String, socketAddress: String, secret: JobSecret) -> [String] {
        inheritedEnvironment + [
            "\(WireupEnvironment.rank)=\(rank)",
            "\(WireupEnvironment.size)=\(rankCount)",
            "\(WireupEnvironment.localRank)=\(rank)",
            "\(WireupEnvironment.localSize)=\(rankCount)",
            "\(WireupEnvironment.jobID)=\(jobID)",
            "\(WireupEnvironment.keyValueSocket)=\(socketAddress)",
            "\(WireupEnvironment.secret)=\(secret.hex)",
            "\(WireupEnvironment.oversubscribed)=\(oversubscribed ? 1 : 0)",
            "\(WireupEnvironment.boundCPU)=\(cpuOfRank[rank].map { "\($0)" } ?? "none")",
            "\(WireupEnvironment.hostID)=\(Self.hostName)",
            "\(WireupEnvironment.hostCount)=1"
        ]
    }
}

/// Finds PROGRAM the way `swiftmpirun` documents: a path as given; otherwise on PATH, then in the
/// current directory, then beside `swiftmpirun` itself.
enum ProgramLocator {
    static func locate(_ program: String) throws -> String {
        if program.contains("/") {
            guard isExecutableFile(program) else { throw LaunchError(notRunnable(program)) }
            return absolute(program)
        }
        var candidates = (WireupEnvironment.value("PATH") ?? "/usr/bin:/bin")
            .split(separator: ":", omittingEmptySubsequences: false)
            .map { $0.isEmpty ? "./\(program)" : "\($0)/\(program)" }
        candidates.append("./\(program)")
        if let directory = launcherDirectory() { candidates.append("\(directory)/\(program)") }
        guard let found = candidates.first(where: isExecutableFile) else {
            throw LaunchError("program '\(program)' not found on PATH, in the current directory or beside swiftmpirun")
        }
        return absolute(found)
    }

    /// The absolute path of this `swiftmpirun` executable.
    static func launcherPath() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return nil }
        return String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    static func launcherDirectory() -> String? {
        launcherPath().map { $0.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/") }
    }

    /// The absolute, symlink-free path (daemons on other hosts start programs by this path).
    private static func absolute(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func isExecutableFile(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_mode & S_IFMT == S_IFREG && access(path, X_OK) == 0
    }

    private static func notRunnable(_ path: String) -> String {
        var info = stat()
        do {
            _ = try systemCall("stat") { stat(path, &info) }
        } catch {
            return "program '\(path)': \(SystemError.text(error.code))"
        }
        if info.st_mode & S_IFMT == S_IFDIR { return "program '\(path)' is a directory" }
        return "program '\(path)' is not executable"
    }
}
