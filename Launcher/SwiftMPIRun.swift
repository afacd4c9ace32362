import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif

/// `swiftmpirun`: starts the ranks of a SwiftMPI job on this host and supervises them.
///
/// Option names follow Open MPI's `mpirun`. Exit status: 0 when every rank succeeded; the failing
/// rank's status when one failed (128+N for signal N); the code given to `MPI.abort`; 124 on
/// `--timeout`; 2 for a bad command line, before any rank starts.
@main
struct SwiftMPIRun: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiftmpirun",
        abstract: "Run a SwiftMPI program as a job of N ranks.",
        discussion: """
            PROGRAM is looked up on PATH, then relative to the current directory, then beside \
            swiftmpirun itself. Everything after PROGRAM is passed to it unchanged.
            """,
        version: LauncherInfo.version)

    @Option(name: [.short, .customLong("np", withSingleDash: true), .customLong("np")],
            help: "Number of ranks to start.")
    var n: Int?

    @Option(name: .customShort("x"), help: ArgumentHelp(
        "Export NAME (with VALUE) to the ranks; the launcher's environment is passed on anyway.",
        valueName: "NAME[=VALUE]"))
    var exports: [String] = []

    @Flag(name: .customLong("tag-output"), help: "Prefix every output line with [rank].")
    var tagOutput = false

    @Option(name: .customLong("output-dir"), help: "Write each rank's output to DIR/rank.N.out and rank.N.err.")
    var outputDirectory: String?

    @Option(name: .customLong("bind-to"), help: "core (default when ranks <= CPUs) or none.")
    var bindTo: Binding?

    @Option(help: "Force a transport between ranks: auto (default), shm, tcp or verbs (sets SWIFTMPI_TRANSPORT).")
    var transport: Transport?

    @Option(name: .customLong("tcp-if"), help: "Interface name or IPv4 address for TCP (sets SWIFTMPI_TCP_IF).")
    var tcpInterface: String?

    @Option(name: .customLong("host"), help: "Hosts and slots, NAME[:SLOTS],... (Open MPI's --host).")
    var hostList: String?

    @Option(help: "A hostfile: one host per line, optional slots=N (Open MPI's format).")
    var hostfile: String?

    @Option(name: .customLong("map-by"), help: "slot (fill each host's slots, default) or node (round-robin over hosts).")
    var mapBy: String?

    @Option(name: .customLong("launch-agent"), help: "Command that runs a command on host %h (default: ssh, or srun inside a Slurm allocation; without %h the host is appended).")
    var launchAgent: String?

    @Option(name: .customLong("daemon"), help: .hidden)
    var daemonEndpoint: String?

    @Option(name: .customLong("daemon-host"), help: .hidden)
    var daemonHost: Int?

    @Option(help: "End the job after SECONDS with status 124.")
    var timeout: Double?

    @Flag(help: "Print what this build and machine support, then exit.")
    var info = false

    @Argument(parsing: .captureForPassthrough, help: "PROGRAM [ARGS...]")
    var command: [String] = []

    /// The transports a user may force.
    enum Transport: String, ExpressibleByArgument, CaseIterable {
        case auto, shm, tcp, verbs
    }

    /// How ranks are bound to CPUs.
    enum Binding: String, ExpressibleByArgument, CaseIterable {
        case core, none
    }

    func validate() throws {
        if info { return }
        if daemonEndpoint != nil {
            guard daemonHost != nil else { throw ValidationError("--daemon needs --daemon-host") }
            return
        }
        if hostList != nil && hostfile != nil { throw ValidationError("give --host or --hostfile, not both") }
        if let mapBy, HostPlan.Mapping(rawValue: mapBy) == nil { throw ValidationError("--map-by must be slot or node, got '\(mapBy)'") }
        // Options after the first unknown word reach `command` unparsed (passthrough): catch help here.
        if let first = command.first, first == "--help" || first == "-h" || first == "-help" { throw CleanExit.helpRequest(self) }
        if let first = command.first, first.hasPrefix("-") { throw ValidationError("unknown option '\(first)'") }
        let insideAllocation = hostList == nil && hostfile == nil && getenv("SLURM_JOB_ID") != nil
        guard let n = n ?? (insideAllocation ? 1 : nil) else { throw ValidationError("missing -n N (the number of ranks)") }
        guard n >= 1 else { throw ValidationError("-n must be at least 1, got \(n)") }
        guard n <= 4096 else { throw ValidationError("-n \(n) is more ranks than one host can run (at most 4096)") }
        guard !command.isEmpty else { throw ValidationError("missing PROGRAM to run") }
        if let timeout, !(timeout > 0 && timeout.isFinite) {
            throw ValidationError("--timeout must be a positive number of seconds, got \(timeout)")
        }
        for export in exports {
            let name = export.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
            if name.isEmpty || name.contains(where: { !($0.isLetter || $0.isNumber || $0 == "_") }) {
                throw ValidationError("-x '\(export)': expected NAME or NAME=VALUE")
            }
        }
    }

    mutating func run() throws {
        if info {
            LauncherInfo.print()
            return
        }
        if let daemonEndpoint, let daemonHost {
            exitLauncher(Daemon(launcherEndpoint: daemonEndpoint, hostIndex: daemonHost).run())
        }
        var exports = self.exports
        if let transport { exports.append("SWIFTMPI_TRANSPORT=\(transport.rawValue)") }
        if let tcpInterface { exports.append("SWIFTMPI_TCP_IF=\(tcpInterface)") }
        var hosts = try hostList.map(HostPlan.parseHostList) ?? hostfile.map(HostPlan.readHostfile)
        var agent = launchAgent ?? "ssh"
        var insideAllocation = false
        if hosts == nil, let allocation = try SlurmAllocation.hosts() {
            hosts = allocation
            insideAllocation = true
            agent = launchAgent ?? SlurmAllocation.launchAgent
            if getenv("SWIFTMPI_DEBUG").map({ String(cString: $0) }) == "1" {
                let listed = allocation.map { "\($0.name):\($0.slots)" }.joined(separator: ",")
                report("inside Slurm allocation \(String(cString: getenv("SLURM_JOB_ID")!)): hosts \(listed); daemons started with: \(agent)")
            }
        }
        let rankCount = n ?? hosts.map { $0.reduce(0) { $0 + $1.slots } } ?? 1
        let plan = try JobPlan(
            rankCount: rankCount, command: command, exports: exports, tagOutput: tagOutput,
            outputDirectory: outputDirectory, binding: bindTo, timeout: timeout)
        let status: Int32
        if let hosts {
            let hostPlan = HostPlan(hosts: hosts, rankCount: rankCount, mapping: mapBy.flatMap(HostPlan.Mapping.init) ?? .slot)
            status = try MultiHostJob(plan: plan, hosts: hostPlan, launchAgent: agent, tcpInterface: tcpInterface,
                                      agentForLocalHost: insideAllocation).run()
        } else {
            status = try Job(plan: plan).run()
        }
        exitLauncher(status)
    }

    /// Parses, runs, and turns every command-line error into one line on stderr and exit status 2.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as LaunchError {
            report("\(error)")
            exitLauncher(2)
        } catch {
            if exitCode(for: error) == .success { exit(withError: error) }  // --help, --version
            let text = message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid command line"
            let line = text.hasPrefix("Error: ") ? String(text.dropFirst(7)) : text
            report("\(line) (see swiftmpirun --help)")
            exitLauncher(2)
        }
    }
}

/// A launch that cannot start: reported as one line, exit status 2, before any rank runs.
struct LaunchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
