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
    /// One program of the job (several in a multi-program job).
    struct Program {
        /// The program's absolute path.
        let path: String
        /// Its arguments, the program's name first.
        let arguments: [String]
        /// NAME=VALUE pairs of this program's own `-x` words (after the job-wide ones).
        let environment: [String]
        /// `--wdir`, or nil: the launcher's directory.
        let workingDirectory: String?
    }

    let rankCount: Int
    /// Every program, in the order given; a rank's `MPI.appNumber` is its index here.
    let programs: [Program]
    /// The program of each rank.
    let appOfRank: [Int]
    /// What each program's ranks inherit: the launcher's environment minus stale SwiftMPI launch
    /// variables, then the job-wide `-x` exports, then the program's own in place of the job-wide
    /// values of the same names, the C interface's directory first on `LD_LIBRARY_PATH` (computed
    /// once, not per rank).
    let environmentOfProgram: [[String]]
    let exports: [String: String]
    let tagOutput: Bool
    /// `--backtrace`: ranks' crash backtraces are relayed in full.
    let backtrace: Bool
    let outputDirectory: String?
    /// `--map-by`, `--rank-by`, `--bind-to` (daemons apply it to their hosts' ranks).
    let placement: PlacementPolicy
    /// `--report-bindings`.
    let reportBindings: Bool
    /// This host's usable CPUs.
    let topology: CPUTopology
    /// Each rank's place and binding on this host (a one-host job; empty when ranks run on other
    /// hosts, whose daemons place them).
    let placements: [RankPlacement]
    let oversubscribed: Bool
    let timeout: Double?
    /// `--enable-recovery`: a failed rank does not end the job (``RecoveryCoordinator``).
    let recovery: Bool

    init(
        rankCount: Int, command: [String], exports: [String], tagOutput: Bool, backtrace: Bool = false,
        outputDirectory: String?, placement: PlacementPolicy = PlacementPolicy(), reportBindings: Bool = false,
        timeout: Double?, recovery: Bool = false, placesRanksHere: Bool = true,
        workingDirectory: String? = nil, moreApps: [LaunchOptions.App] = []
    ) throws {
        self.recovery = recovery
        self.rankCount = rankCount + moreApps.reduce(0) { $0 + $1.rankCount }
        var programs = [
            Program(
                path: try ProgramLocator.locate(command[0]), arguments: command, environment: [],
                workingDirectory: try Self.checkedDirectory(workingDirectory, checkedHere: placesRanksHere))
        ]
        var appOfRank = Array(repeating: 0, count: rankCount)
        for (index, app) in moreApps.enumerated() {
            programs.append(
                Program(
                    path: try ProgramLocator.locate(app.command[0]), arguments: app.command,
                    environment: Self.resolve(app.exports).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" },
                    workingDirectory: try Self.checkedDirectory(app.workingDirectory ?? workingDirectory, checkedHere: placesRanksHere)))
            appOfRank += Array(repeating: index + 1, count: app.rankCount)
        }
        self.programs = programs
        self.appOfRank = appOfRank
        self.tagOutput = tagOutput
        self.backtrace = backtrace
        self.timeout = timeout
        let exported = Self.resolve(exports)
        self.exports = exported
        let launchNames = Set(WireupEnvironment.launchVariables)
        let inherited =
            currentEnvironment().filter { entry in
                let name = String(entry.prefix { $0 != "=" })
                return !launchNames.contains(name) && exported[name] == nil
            } + exported.sorted(by: { $0.key < $1.key }).map { "\($0.key)=\($0.value)" }
        // The C interface's directory goes first on LD_LIBRARY_PATH after every -x is applied, so a
        // program's own -x LD_LIBRARY_PATH keeps it too.
        environmentOfProgram = programs.map { CLibraryPath.prepend(to: overriding(inherited, with: $0.environment)) }
        if let outputDirectory {
            do {
                _ = try systemCall("mkdir") { mkdir(outputDirectory, 0o755) }
            } catch let error where error.code != EEXIST {
                throw LaunchError("--output-dir \(outputDirectory): \(SystemError.describe(error.code))")
            } catch {}  // EEXIST: checked to be a directory next
            var info = stat()
            guard stat(outputDirectory, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                throw LaunchError("--output-dir \(outputDirectory) is not a directory")
            }
        }
        self.outputDirectory = outputDirectory
        self.placement = placement
        self.reportBindings = reportBindings
        topology = HostTopology.read()
        oversubscribed = self.rankCount > topology.threads.count
        // Binding policy (Open MPI's): by default each rank is bound to its place (a core) when every
        // rank gets its own and left unbound when oversubscribed (PlacementPolicy).
        placements = placesRanksHere ? try placement.place(self.rankCount, on: topology) : []
    }

    /// `-x` words as NAME → VALUE: `-x NAME` takes the launcher's value, and exports nothing when
    /// NAME is unset, as in Open MPI.
    private static func resolve(_ exports: [String]) -> [String: String] {
        var exported: [String: String] = [:]
        for export in exports {
            let parts = export.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0])
            if parts.count == 2 {
                exported[name] = String(parts[1])
            } else if let value = WireupEnvironment.value(name) {
                exported[name] = value
            }
        }
        return exported
    }

    /// `--wdir DIR` made absolute, checked to be a directory when ranks start on this host (a
    /// daemon checks it on its own host).
    private static func checkedDirectory(_ directory: String?, checkedHere: Bool) throws(LaunchError) -> String? {
        guard let directory else { return nil }
        var info = stat()
        if checkedHere {
            do {
                _ = try systemCall("stat") { stat(directory, &info) }
            } catch {
                throw LaunchError("--wdir \(directory): \(SystemError.describe(error.code))")
            }
            guard info.st_mode & S_IFMT == S_IFDIR else { throw LaunchError("--wdir \(directory) is not a directory") }
        }
        // Relative to the launcher's directory, symbolic links kept (they may differ on other hosts).
        if directory.hasPrefix("/") { return directory }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return directory }
        return string(fromCArray: buffer) + "/" + directory
    }

    /// Added to the placement sent to daemons (``LaunchSpec/binding``) for `--report-bindings`.
    static let reportSuffix = "+report"

    /// What a daemon is told about placement: the policy, and whether to report bindings.
    var placementForDaemons: String { placement.encoded + (reportBindings ? Self.reportSuffix : "") }

    /// The CPUs rank `rank` is bound to (empty: unbound).
    func cpus(ofRank rank: Int) -> [Int] { placements[rank].cpus }

    /// `--report-bindings`' line for a rank started by process `reporter` (the launcher or a
    /// daemon), as Open MPI prints it.
    static func bindingReport(rank: Int, cpus: [Int], host: String, reporter: pid_t, topology: CPUTopology) -> String {
        cpus.isEmpty
            ? "[\(host):\(reporter)] MCW rank \(rank) is not bound (or bound to all available processors)"
            : "[\(host):\(reporter)] MCW rank \(rank) bound to \(topology.bindingDescription(cpus))"
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

    /// The environment of `rank`: its program's ``environmentOfProgram`` plus the wire-up variables.
    func environment(rank: Int, jobID: String, socketAddress: String, secret: JobSecret) -> [String] {
        environmentOfProgram[appOfRank[rank]] + [
            "\(WireupEnvironment.appNumber)=\(appOfRank[rank])",
            "\(WireupEnvironment.rank)=\(rank)",
            "\(WireupEnvironment.size)=\(rankCount)",
            "\(WireupEnvironment.localRank)=\(rank)",
            "\(WireupEnvironment.localSize)=\(rankCount)",
            "\(WireupEnvironment.localRanks)=0-\(rankCount - 1)",
            "\(WireupEnvironment.jobID)=\(jobID)",
            "\(WireupEnvironment.keyValueSocket)=\(socketAddress)",
            "\(WireupEnvironment.secret)=\(secret.hex)",
            "\(WireupEnvironment.oversubscribed)=\(oversubscribed ? 1 : 0)",
            "\(WireupEnvironment.boundCPU)=\(placements[rank].cpus.isEmpty ? "none" : rangeText(placements[rank].cpus))",
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
    static func absolute(_ path: String) -> String {
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

/// `environment` (NAME=VALUE entries) with `overrides` in place of the entries of the same names.
func overriding(_ environment: [String], with overrides: [String]) -> [String] {
    guard !overrides.isEmpty else { return environment }
    let names = Set(overrides.map { String($0.prefix { $0 != "=" }) })
    return environment.filter { !names.contains(String($0.prefix { $0 != "=" })) } + overrides
}
