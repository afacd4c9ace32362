import SwiftMPILauncherParsing
import CShims
import SwiftMPIWireup
#if canImport(Glibc)
import Glibc
#endif

/// A job across hosts: one daemon per host (started through the launch agent), each linked back to
/// this launcher over TCP and authenticated with the job secret.
///
/// The launcher serves the key-value exchange for every rank (requests arrive through the daemons),
/// prints the ranks' output (relayed by the daemons, whole lines, tagged as on one host), and applies
/// the same termination policy as ``Job``: the first failure — a rank's, or a lost daemon's — ends the
/// job with one line and SIGTERM then SIGKILL to every rank, through the daemons. Ranks on hosts in
/// multi-host mode get /dev/null as standard input. Hang reports work as on one host: on `--timeout`,
/// the first SIGINT or SIGTERM, and SIGUSR1, every daemon asks its ranks, relays their lines, and the
/// launcher prints them in rank order (waiting up to 2 s) before it acts.
final class MultiHostJob {
    private struct Rank {
        var host: Int
        var pid: pid_t = 0
        var exited = false
        var initialized = false
        var finalized = false
    }

    private final class HostLink {
        let name: String
        var agentPID: pid_t = 0
        var agentExited = false
        var fd: Int32 = -1
        var decoder = LinkFrameDecoder()
        var closed = false
        /// When the daemon was last heard from (recovery mode's heartbeats).
        var lastHeard = 0.0
        init(name: String) { self.name = name }
    }

    private let plan: JobPlan
    private let hosts: HostPlan
    private let launchAgent: [String]
    /// `--launcher-if`: the one interface (name or address) daemons reach the launcher on; nil:
    /// every address, tried in order.
    private let launcherInterface: String?
    private var ranks: [Rank]
    private var links: [HostLink]
    private var rankRelays: [Int: OutputRelay] = [:]
    private var agentRelays: [OutputRelay] = []
    private lazy var termination = TerminationPolicy(clock: Handshake.now) { [unowned self] signal in signalAll(signal) }
    private var ending: Bool { termination.ending }
    /// A round of hang reports in progress: the ranks asked, their answers so far, when to stop
    /// waiting, and what to do once it is printed (forward a signal, end the job, or nothing).
    private var statusRound: (asked: [Int], answers: [Int: String], deadline: Double, then: () -> Void)?
    private var reportedOnTerm = false
    /// Recovery mode (`--enable-recovery`): the job goes on when a rank or a host is lost; the
    /// coordinator's lines reach ranks through their daemons.
    private lazy var coordinator: RecoveryCoordinator? =
        plan.recovery
        ? RecoveryCoordinator(
            send: { [unowned self] rank, line in
                let link = links[ranks[rank].host]
                guard !ranks[rank].exited, link.fd >= 0, !link.closed else { return }
                try? UnixSocket.sendAll(link.fd, LinkFrame(.notice, rank: rank, payload: Array(line.utf8)).encoded)
            },
            running: { [unowned self] in ranks.indices.filter { !ranks[$0].exited } },
            isRunning: { [unowned self] in $0 >= 0 && $0 < ranks.count && !ranks[$0].exited }) : nil
    /// Recovery mode: the status of the first rank lost.
    private var firstLossStatus: Int32?
    private var server: KeyValueServer?
    private let heartbeatTimeout = Heartbeat.timeout(getenv(Heartbeat.variable).map { String(cString: $0) })
    private var lastBeat = 0.0

    /// True when even this host's daemon starts through the launch agent (inside a Slurm allocation,
    /// so that every rank runs in a job step: accounted, confined to the step's CPUs, ended by scancel).
    private let agentForLocalHost: Bool

    init(plan: JobPlan, hosts: HostPlan, launchAgent: String, launcherInterface: String?, agentForLocalHost: Bool = false) {
        self.agentForLocalHost = agentForLocalHost
        self.plan = plan
        self.hosts = hosts
        self.launchAgent = launchAgent.split(separator: " ").map(String.init)
        self.launcherInterface = launcherInterface
        ranks = hosts.hostOfRank.map { Rank(host: $0) }
        links = hosts.hosts.map { HostLink(name: $0.name) }
    }

    func run() throws -> Int32 {
        let signals = try SignalChannel()
        defer { signals.close() }
        let secret = try JobSecret.generate()
        let jobID = try JobSecret.generate().hex.prefix(12).description
        let server = try KeyValueServer(listening: false, secret: secret, rankCount: plan.rankCount)
        defer { if getenv("SWIFTMPI_DEBUG").map({ String(cString: $0) }) == "1" { report("key-value exchange: \(server.summary)") } }
        self.server = server
        defer { self.server = nil }
        // A login node may have several networks and only some reach the compute hosts: the
        // launcher listens on all of them and gives daemons every address to try in order, unless
        // --launcher-if names one. Connections are authenticated either way (Handshake).
        let advertised = try LauncherAddress.advertised(forcing: launcherInterface)
        let (listenFD, port) = try TCPSocket.listen(address: launcherInterface == nil ? "0.0.0.0" : advertised[0])
        defer { close(listenFD) }
        let endpoints = advertised.map { "\($0):\(port)" }.joined(separator: ",")
        if getenv("SWIFTMPI_DEBUG").map({ String(cString: $0) }) == "1" { report("daemons may reach the launcher at \(endpoints)") }
        let tree = try daemonTree()
        for index in links.indices where !tree.hosts.contains(where: { $0.index == index }) {
            try startDaemon(index, endpoint: endpoints, tree: tree, secret: secret)
        }
        for host in tree.startedByLauncher { try startDaemon(host.index, endpoint: endpoints, tree: tree, secret: secret) }
        if getenv("SWIFTMPI_DEBUG").map({ String(cString: $0) }) == "1" && tree.fanout < tree.hosts.count {
            report("daemons start as a tree of fanout \(tree.fanout): the launcher starts \(tree.startedByLauncher.count) of \(tree.hosts.count)")
        }
        let handshake = Handshake(magic: "SMDL", secret: secret)
        let connectDeadline = Handshake.now() + 60
        let deadline = plan.timeout.map { Handshake.now() + $0 }
        var lastExit: Double?

        var endingSince: Double?
        while true {
            let now = Handshake.now()
            if ending && endingSince == nil { endingSince = now }
            if ranks.allSatisfy(\.exited) {
                let linksDone = links.allSatisfy { $0.closed || $0.fd < 0 }
                if linksDone && agentRelays.isEmpty { break }
                lastExit = lastExit ?? now
                if now - lastExit! > Job.drainPeriod { break }
            }
            if let deadline, !ending, statusRound == nil, now >= deadline {
                askWhatRanksWaitFor {
                    let running = self.ranks.indices.filter { !self.ranks[$0].exited }.map(String.init).joined(separator: ", ")
                    self.end(status: 124, line: "timed out after \(self.plan.timeout!) s; ranks still running: \(running); job aborted")
                }
            }
            if let round = statusRound, now >= round.deadline || round.asked.allSatisfy({ round.answers[$0] != nil || ranks[$0].exited }) {
                statusRound = nil
                for rank in round.asked {
                    report(round.answers[rank] ?? (ranks[rank].exited ? "rank \(rank): finished" : "rank \(rank): no answer within 2 s"))
                }
                round.then()
            }
            // A daemon that has not connected: within 60 s, or the job ends; once the job is ending, its
            // host is given up 5 s after that began (in a tree start its agent may have died
            // with the daemon that started it, which this launcher cannot see).
            let giveUp = endingSince.map { $0 + 5 } ?? connectDeadline
            if now > giveUp, let missing = links.first(where: { $0.fd < 0 && !$0.closed }) {
                if !ending { end(status: 1, line: "the daemon on host \(missing.name) did not connect within 60 s; job aborted") }
                missing.closed = true
                markExited(host: links.firstIndex { $0 === missing }!)
            }
            termination.escalateIfDue(now: now)
            if coordinator != nil { keepHeartbeats(now: now) }

            var requests: [(Int32, Int16)] = [(signals.fd, Int16(POLLIN)), (listenFD, Int16(POLLIN))]
            requests += links.filter { $0.fd >= 0 && !$0.closed }.map { ($0.fd, Int16(POLLIN)) }
            requests += agentRelays.map { ($0.sourceFD, Int16(POLLIN)) }
            var fds = requests.map { pollfd(fd: $0.0, events: $0.1, revents: 0) }
            _ = try systemCall("poll") { poll(&fds, nfds_t(fds.count), 100) }
            for entry in fds where entry.revents != 0 {
                if entry.fd == signals.fd {
                    handle(signals: signals.read())
                } else if entry.fd == listenFD {
                    accept(listenFD, handshake: handshake, jobID: jobID)
                } else if let link = links.first(where: { $0.fd == entry.fd && !$0.closed }) {
                    receive(on: link, server: server)
                } else if let index = agentRelays.firstIndex(where: { $0.sourceFD == entry.fd }) {
                    if !agentRelays[index].pump() {
                        close(agentRelays[index].sourceFD)
                        agentRelays.remove(at: index)
                    }
                }
            }
        }
        for var relay in rankRelays.values { relay.finish() }
        for link in links where link.fd >= 0 && !link.closed { close(link.fd) }
        reapAgents(wait: true)
        if !ending, let coordinator, !coordinator.lost.isEmpty {
            let lost = coordinator.lost.keys.sorted().map(String.init).joined(separator: ", ")
            report(
                "job finished with \(ranks.count - coordinator.lost.count) of \(ranks.count) ranks (recovery mode); "
                    + "lost: rank\(coordinator.lost.count > 1 ? "s" : "") \(lost)")
        }
        return ending ? termination.exitStatus : firstLossStatus ?? 0
    }

    /// Recovery mode: a heartbeat to every daemon every ``Heartbeat/period``, and a host silent for
    /// the timeout is lost (its daemon ends its ranks on its side when it hears nothing either).
    private func keepHeartbeats(now: Double) {
        if now - lastBeat >= Heartbeat.period {
            lastBeat = now
            for link in links where link.fd >= 0 && !link.closed { try? UnixSocket.sendAll(link.fd, LinkFrame(.heartbeat).encoded) }
        }
        for link in links where link.fd >= 0 && !link.closed && link.lastHeard > 0 && now - link.lastHeard > heartbeatTimeout {
            lost(link, reason: "no heartbeat for \(heartbeatTimeout) s")
        }
    }

    /// Recovery mode: a rank that failed after `MPI.initialize()` is reported in one line, the
    /// survivors are told, and the job goes on.
    private func rankLost(_ rank: Int, status: Int32, what: String, _ coordinator: RecoveryCoordinator) {
        let survivors = ranks.filter { !$0.exited }.count
        report("\(what); recovery mode: the job goes on with \(survivors) rank\(survivors == 1 ? "" : "s")")
        firstLossStatus = firstLossStatus ?? status
        coordinator.rankFailed(rank, reason: String(what.drop { $0 != ")" }.dropFirst().drop { $0 == " " }))
        server?.rankLost(rank)
    }

    // MARK: - Daemons

    /// Starts the daemon of host `index` (directly on this host, else through the launch agent,
    /// giving it the `tree` when it starts daemons of its own), relaying the agent's output.
    private func startDaemon(_ index: Int, endpoint: String, tree: DaemonTree, secret: JobSecret) throws {
        let link = links[index]
        let outPipe = try makePipe()
        defer { close(outPipe.write) }
        do {
            link.agentPID = try startDaemonProcess(
                DaemonTree.Host(index: index, name: link.name), direct: Self.isLocal(link.name) && !agentForLocalHost, agent: launchAgent,
                launcherEndpoint: endpoint, tree: tree, secret: secret, output: outPipe.write)
        } catch {
            close(outPipe.read)
            throw error
        }
        agentRelays.append(OutputRelay(sourceFD: outPipe.read, destinationFD: STDERR_FILENO, prefix: "[\(link.name)] "))
    }

    /// The tree the daemons are started in: every host but this one (whose daemon the launcher
    /// starts directly) through the agent, as a tree beyond ``DaemonTree/treeThreshold`` hosts or as
    /// `SWIFTMPI_LAUNCH_FANOUT` says; always flat inside a Slurm allocation (`srun` starts steps
    /// in parallel itself, and a step cannot start further steps from its tasks).
    private func daemonTree() throws(LaunchError) -> DaemonTree {
        let remote = links.indices.filter { !(Self.isLocal(links[$0].name) && !agentForLocalHost) }
            .map { DaemonTree.Host(index: $0, name: links[$0].name) }
        let setting = getenv("SWIFTMPI_LAUNCH_FANOUT").map { String(cString: $0) }
        let fanout = agentForLocalHost ? max(1, remote.count) : try DaemonTree.fanout(hostCount: remote.count, setting: setting)
        return DaemonTree(hosts: remote, fanout: fanout, agent: launchAgent)
    }

    static func isLocal(_ host: String) -> Bool {
        host == "localhost" || host == "127.0.0.1" || host == JobPlan.hostName
    }

    private func accept(_ listenFD: Int32, handshake: Handshake, jobID: String) {
        var fd: Int32 = -1
        guard cshims_accept_nonblocking(listenFD, &fd) == 0 else { return }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        do {
            let index = Int(
                try handshake.accept(fd, id: UInt32.max, deadline: Handshake.now() + 5) { claimed in
                    Int(claimed) < self.links.count && self.links[Int(claimed)].fd < 0 && !self.links[Int(claimed)].closed
                })
            let link = links[index]
            let spec = LaunchSpec(
                // The job id is made per host: hosts may share /dev/shm (network namespaces on one machine).
                jobID: "\(jobID)h\(index)", hostID: link.name, hostCount: links.count, size: plan.rankCount,
                ranks: hosts.ranks(on: index),
                apps: plan.programs.map {
                    LaunchSpec.App(program: $0.path, arguments: $0.arguments, environment: $0.environment, workingDirectory: $0.workingDirectory ?? "")
                },
                appOfRank: hosts.ranks(on: index).map { plan.appOfRank[$0] },
                environment: plan.exports.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" },
                binding: plan.placementForDaemons)
            try UnixSocket.sendAll(fd, LinkFrame(.launch, payload: spec.encoded).encoded)
            // The link is the host's only once the launch went out: a descriptor closed below must
            // not stay on it (the next link may get the same number).
            link.fd = fd
            link.lastHeard = Handshake.now()
            if ending { try? UnixSocket.sendAll(fd, LinkFrame(.signal, rank: Int(SIGKILL)).encoded) }
        } catch {
            report("refused a daemon connection from \(TCPSocket.peerName(fd)): \(error)")
            close(fd)
        }
    }

    private func receive(on link: HostLink, server: KeyValueServer) {
        switch ReadBuffer.read(link.fd, recvFlags: Int32(MSG_DONTWAIT)) {
        case .bytes(let bytes):
            link.decoder.append(bytes)
            link.lastHeard = Handshake.now()
        case .wouldBlock:
            return
        case .ended(let error):
            lost(link, reason: error.map { "\($0)" } ?? "connection closed")
            return
        }
        do {
            while let frame = try link.decoder.next() {
                if frame.kind == .heartbeat { continue }  // (about no rank; its arrival was noted)
                if frame.kind == .agentExited {  // about a host this daemon started (a tree start)
                    agentFailed(host: frame.rank, String(decoding: frame.payload, as: UTF8.self))
                    continue
                }
                guard frame.rank >= 0, frame.rank < ranks.count, links[ranks[frame.rank].host] === link else {
                    throw WireupError.malformed("message about rank \(frame.rank), which is not on host \(link.name)")
                }
                try handle(frame, from: link, server: server)
            }
        } catch {
            report("dropping the link of host \(link.name): \(error)")
            lost(link, reason: "\(error)")
        }
    }

    /// A daemon of a tree start could not start host `index`'s daemon: unless that daemon connected
    /// after all, the job ends as when the launcher's own agent fails.
    private func agentFailed(host index: Int, _ reason: String) {
        guard index >= 0, index < links.count, links[index].fd < 0, !links[index].closed else { return }
        end(status: 1, line: "could not start the daemon on host \(links[index].name): \(reason); job aborted")
        links[index].closed = true
        markExited(host: index)
    }

    private func handle(_ frame: LinkFrame, from link: HostLink, server: KeyValueServer) throws {
        let rank = frame.rank
        let text = String(decoding: frame.payload, as: UTF8.self)
        switch frame.kind {
        case .started:
            ranks[rank].pid = pid_t(text) ?? 0
        case .output:
            guard let stream = frame.payload.first, stream == 1 || stream == 2 else { throw WireupError.malformed("output stream") }
            let key = rank * 2 + Int(stream) - 1
            var relay =
                rankRelays[key]
                ?? OutputRelay(
                    sourceFD: -1, destinationFD: stream == 1 ? STDOUT_FILENO : STDERR_FILENO,
                    prefix: plan.tagOutput ? "[\(rank)] " : nil, dropsStackTraces: stream == 2 && !plan.backtrace)
            relay.append(frame.payload.dropFirst())
            rankRelays[key] = relay
        case .exited:
            guard let status = Int32(text) else { throw WireupError.malformed("exit status '\(text)'") }
            ranks[rank].exited = true
            if let verdict = failureVerdict(
                rank: rank, pid: ranks[rank].pid, waitStatus: status, initialized: ranks[rank].initialized,
                finalized: ranks[rank].finalized, host: link.name,
                fatalError: rankRelays[rank * 2 + 1]?.lastFatalError)
            {
                if let coordinator, !ending, ranks[rank].initialized {
                    let what = verdict.line.hasSuffix("; job aborted") ? String(verdict.line.dropLast("; job aborted".count)) : verdict.line
                    rankLost(rank, status: verdict.status, what: what, coordinator)
                } else {
                    end(status: verdict.status, line: verdict.line)
                }
            } else {
                coordinator?.rankExited()
            }
        case .failed:
            ranks[rank].exited = true
            end(status: 1, line: "rank \(rank) on \(link.name): \(text); job aborted")
        case .keyValue:
            let fd = link.fd
            for event in server.handleForwarded(
                rank: rank, bytes: frame.payload,
                reply: { bytes in
                    try? UnixSocket.sendAll(fd, LinkFrame(.keyValue, rank: rank, payload: bytes).encoded)
                })
            {
                switch event {
                case .hello(let rank, _): ranks[rank].initialized = true
                case .finalized(let rank): ranks[rank].finalized = true
                case .abort(let rank, let code, let message):
                    let detail = message.isEmpty ? "" : ": \(message)"
                    end(status: code, line: "rank \(rank) (pid \(ranks[rank].pid) on \(link.name)) called MPI.abort(\(code))\(detail); job aborted")
                }
            }
        case .status:
            if text.hasPrefix("!") { coordinator?.handle(text[...], from: rank) } else { statusRound?.answers[rank] = text }
        case .heartbeat:
            break  // (its arrival was noted)
        case .launch, .signal, .statusRequest, .notice, .agentExited:
            throw WireupError.malformed("unexpected \(frame.kind) from a daemon")
        }
    }

    private func lost(_ link: HostLink, reason: String) {
        guard !link.closed else { return }
        link.closed = true
        close(link.fd)
        // Forget the number: the next accepted link may get it, and must not be taken for this one
        // (that read a later daemon's frames as this host's, refused them, and spun on the hang-up).
        link.fd = -1
        let index = links.firstIndex { $0 === link }!
        let running = hosts.ranks(on: index).filter { !ranks[$0].exited }
        if let coordinator, !ending, !running.isEmpty, running.allSatisfy({ ranks[$0].initialized }) {
            // Recovery mode: the host's ranks count as failed (they die with their daemon, or it
            // ends them when it stops hearing from this launcher).
            markExited(host: index)
            let survivors = ranks.filter { !$0.exited }.count
            report(
                "lost the daemon on host \(link.name) (\(reason)): rank\(running.count == 1 ? "" : "s") "
                    + "\(running.map(String.init).joined(separator: ", ")) lost; "
                    + "recovery mode: the job goes on with \(survivors) rank\(survivors == 1 ? "" : "s")"
            )
            firstLossStatus = firstLossStatus ?? 1
            for rank in running {
                coordinator.rankFailed(rank, reason: "was on host \(link.name), whose daemon was lost (\(reason))")
                server?.rankLost(rank)
            }
            return
        }
        if !running.isEmpty {
            end(status: 1, line: "lost the daemon on host \(link.name) (\(reason)); job aborted")
        }
        markExited(host: index)
    }

    /// The ranks of a host whose daemon is gone are gone too (they die with it: parent-death signal).
    private func markExited(host index: Int) {
        for rank in hosts.ranks(on: index) { ranks[rank].exited = true }
    }

    // MARK: - Termination

    private func handle(signals: [Int32]) {
        for signal in signals {
            switch signal {
            case SIGCHLD: reapAgents(wait: false)
            case SIGUSR1:  // "what is the job doing?": the answers, and the job goes on
                askWhatRanksWaitFor {}
            case SIGINT where !termination.interrupted && statusRound == nil, SIGTERM where !termination.ending && !reportedOnTerm:
                if signal == SIGTERM { reportedOnTerm = true }
                askWhatRanksWaitFor { self.termination.forward(signal) }
            default: termination.forward(signal)
            }
        }
    }

    private func end(status: Int32, line: String) { termination.end(status: status, line: line) }

    /// Asks every daemon to ask its running ranks what they wait for; the main loop prints the answers
    /// when all are in or after 2 s, then runs `then`. (A round already under way just gains `then`.)
    private func askWhatRanksWaitFor(then action: @escaping () -> Void) {
        if let round = statusRound {
            statusRound!.then = {
                round.then(); action()
            }
            return
        }
        for link in links where link.fd >= 0 && !link.closed {
            try? UnixSocket.sendAll(link.fd, LinkFrame(.statusRequest).encoded)
        }
        statusRound = (ranks.indices.filter { !ranks[$0].exited }, [:], Handshake.now() + 2, action)
    }

    private func signalAll(_ signal: Int32) {
        for link in links where link.fd >= 0 && !link.closed {
            try? UnixSocket.sendAll(link.fd, LinkFrame(.signal, rank: Int(signal)).encoded)
        }
    }

    private func reapAgents(wait: Bool) {
        let limit = Handshake.now() + 2
        for link in links where link.agentPID > 0 && !link.agentExited {
            var status: Int32 = 0
            while true {
                let result = waitpid(link.agentPID, &status, WNOHANG)
                if result == link.agentPID {
                    link.agentExited = true
                    if link.fd < 0 && !link.closed {  // the daemon never connected: its host's ranks never started
                        end(
                            status: 1,
                            line: "could not start the daemon on host \(link.name): the launch agent exited with status \((status >> 8) & 0xff); job aborted")
                        link.closed = true
                        markExited(host: links.firstIndex { $0 === link }!)
                    }
                    break
                }
                if !wait || Handshake.now() > limit {
                    if wait { kill(-link.agentPID, SIGKILL); kill(link.agentPID, SIGKILL); waitpid(link.agentPID, &status, 0); link.agentExited = true }
                    break
                }
                usleep(10_000)
            }
        }
    }
}

/// The addresses daemons may reach the launcher at.
enum LauncherAddress {
    /// `--launcher-if`'s address alone, or every address of this host in the order daemons try
    /// them (``InterfaceSelector/advertised()``: real interfaces, bridges, loopback).
    static func advertised(forcing interface: String?) throws(LaunchError) -> [String] {
        guard let interface else {
            let addresses = InterfaceSelector.advertised()
            return addresses.isEmpty ? ["127.0.0.1"] : addresses
        }
        let interfaces = InterfaceSelector.interfaces()
        guard let match = interfaces.first(where: { $0.name == interface || $0.address == interface }) else {
            throw LaunchError(
                "--launcher-if \(interface) names no IPv4 interface or address here (have: "
                    + "\(interfaces.map { "\($0.name) \($0.address)" }.joined(separator: ", ")))")
        }
        return [match.address]
    }
}
