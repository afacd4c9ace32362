import SwiftMPILauncherParsing
import SwiftMPIWireup
#if canImport(Glibc)
import Glibc
#endif

/// `swiftmpirun`: starts the ranks of a SwiftMPI job on this host (or on the hosts of `--host`,
/// `--hostfile` or a Slurm allocation) and supervises them. The command line is
/// ``LaunchOptions``; `swiftmpirun --help` prints it.
///
/// Exit status: 0 when every rank succeeded; the failing rank's status when one failed (128+N for
/// signal N); the code given to `MPI.abort`; 124 on `--timeout`; 2 for a bad command line, before
/// any rank starts.
@main
enum SwiftMPIRun {
    /// Parses, runs, and turns every command-line error into one line on stderr and exit status 2.
    static func main() {
        let options: LaunchOptions
        do {
            options = try LaunchOptions.parse(
                Array(CommandLine.arguments.dropFirst()),
                environment: { getenv($0).map { String(cString: $0) } })
        } catch {
            report("\(error) (see swiftmpirun --help)")
            exitLauncher(2)
        }
        do {
            exitLauncher(try run(options))
        } catch {
            report("\(error)")
            exitLauncher(2)
        }
    }

    /// Does what `options` ask for and returns the launcher's exit status.
    static func run(_ options: LaunchOptions) throws(LaunchError) -> Int32 {
        switch options.action {
        case .help:
            print(LaunchOptions.helpText)
            return 0
        case .version:
            print("swiftmpirun (SwiftMPI) \(LauncherInfo.version)")
            return 0
        case .info:
            LauncherInfo.print()
            return 0
        case .daemon(let endpoint, let hostIndex, let tree):
            return Daemon(launcherEndpoint: endpoint, hostIndex: hostIndex, tree: tree).run()
        case .run:
            break
        }
        var exports = options.exports
        if let transport = options.transport { exports.append("SWIFTMPI_TRANSPORT=\(transport.rawValue)") }
        // A rank that traps prints one "Fatal error" line and the launcher names it; 40-line
        // backtraces of every rank, interleaved, only on request.
        if !options.backtrace && getenv("SWIFT_BACKTRACE") == nil { exports.append("SWIFT_BACKTRACE=enable=no") }
        if let tcpInterface = options.tcpInterface { exports.append("SWIFTMPI_TCP_IF=\(tcpInterface)") }
        // SWIFTMPI_RECOVERY=1 in the launcher's environment means --enable-recovery (the ranks inherit it).
        let recovery = options.enableRecovery || getenv("SWIFTMPI_RECOVERY").map { String(cString: $0) } == "1"
        if recovery { exports.append("SWIFTMPI_RECOVERY=1") }
        if recovery, let timeout = getenv(Heartbeat.variable).map({ String(cString: $0) }) {
            guard Heartbeat.parse(timeout) != nil else {
                throw LaunchError("\(Heartbeat.variable) must be a number of seconds, at least 1, got '\(timeout)'")
            }
            exports.append("\(Heartbeat.variable)=\(timeout)")
        }
        let (traces, traceExports) = try TraceCollector.prepare(options)
        exports += traceExports
        var hosts = try rethrowing { try options.hostList.map(HostPlan.parseHostList) ?? options.hostfile.map(HostPlan.readHostfile) }
        var agent = options.launchAgent ?? "ssh"
        var insideAllocation = false
        if hosts == nil, let allocation = try rethrowing({ try SlurmAllocation.hosts() }) {
            hosts = allocation
            insideAllocation = true
            agent = options.launchAgent ?? SlurmAllocation.launchAgent
            if getenv("SWIFTMPI_DEBUG").map({ String(cString: $0) }) == "1" {
                let listed = allocation.map { "\($0.name):\($0.slots)" }.joined(separator: ",")
                report("inside Slurm allocation \(String(cString: getenv("SLURM_JOB_ID")!)): hosts \(listed); daemons started with: \(agent)")
            }
        }
        if let pe = options.placement.coresPerRank, getenv("OMP_NUM_THREADS") == nil,
            !options.exports.contains(where: { $0 == "OMP_NUM_THREADS" || $0.hasPrefix("OMP_NUM_THREADS=") })
        {
            exports.append("OMP_NUM_THREADS=\(pe)")  // hybrid codes: one OpenMP thread per core of the rank
        }
        var pprRanks: Int?
        if case .perResource(let count, let level) = options.placement.mapping {
            if let listed = hosts {
                // ppr:N:node makes every host take N ranks; finer resources are counted by each
                // host's daemon, which refuses more ranks than its host has places for.
                if level == .node { hosts = listed.map { HostPlan.Host(name: $0.name, slots: count) } }
                guard level == .node || options.rankCount != nil else {
                    throw LaunchError(
                        "--map-by ppr:\(count):\(level.rawValue) across hosts needs -n: the launcher does not know the other hosts' \(level.rawValue)s")
                }
            } else {
                pprRanks = options.placement.rankCount(on: HostTopology.read())
            }
        }
        let rankCount = options.rankCount ?? hosts.map { $0.reduce(0) { $0 + $1.slots } } ?? pprRanks ?? 1
        guard rankCount <= LaunchOptions.maximumRankCount else {
            throw LaunchError("the job's \(rankCount) ranks are more than one launch can start (at most \(LaunchOptions.maximumRankCount)); give -n")
        }
        let status = try rethrowing {
            let plan = try JobPlan(
                rankCount: rankCount, command: options.command, exports: exports, tagOutput: options.tagOutput, backtrace: options.backtrace,
                outputDirectory: options.outputDirectory, placement: options.placement, reportBindings: options.reportBindings,
                timeout: options.timeout, recovery: recovery, placesRanksHere: hosts == nil,
                workingDirectory: options.workingDirectory, moreApps: options.moreApps)
            if let hosts {
                let hostPlan = HostPlan(hosts: hosts, rankCount: plan.rankCount, mapping: options.mapping)
                if options.displayMap { JobMap.print(hosts: hostPlan) }
                return try MultiHostJob(
                    plan: plan, hosts: hostPlan, launchAgent: agent, launcherInterface: options.launcherInterface,
                    agentForLocalHost: insideAllocation
                ).run()
            }
            if options.displayMap { JobMap.print(plan: plan) }
            return try Job(plan: plan).run()
        }
        traces.collect(status: status)
        return status
    }

    /// Runs `body`, turning any error that is not already a ``LaunchError`` into one.
    private static func rethrowing<T>(_ body: () throws -> T) throws(LaunchError) -> T {
        do {
            return try body()
        } catch let error as LaunchError {
            throw error
        } catch {
            throw LaunchError("\(error)")
        }
    }
}
