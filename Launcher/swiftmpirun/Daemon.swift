import SwiftMPILauncherParsing
import CShims
import SwiftMPIWireup
#if canImport(Glibc)
import Glibc
#endif

/// `swiftmpirun --daemon ADDRESS:PORT --daemon-host INDEX`: the per-host helper of a multi-host job.
///
/// Started on each host by the launch agent (or directly on the launcher's own host), it reads the
/// job secret from its standard input (never from a command line), connects back to the launcher and
/// authenticates with the ``Handshake`` (both sides prove the secret), receives its ``LaunchSpec``,
/// starts the host's ranks, and from then on relays: their output and exit statuses to the launcher,
/// their key-value requests (checked against the secret on the host's private Unix socket) to the
/// launcher and the answers back, the launcher's signals to them, and its requests for hang reports
/// (each rank's status channel, as on one host; the answers go back as `status` frames). If the link to the launcher
/// breaks, the daemon kills its ranks and exits: no rank outlives its job.
final class Daemon {
    private let launcherEndpoint: String
    private let hostIndex: Int
    private var link: Int32 = -1
    private var linkDecoder = LinkFrameDecoder()

    private struct LocalRank {
        let rank: Int
        var pid: pid_t = 0
        var exited = false
    }

    private var ranks: [LocalRank] = []
    private var relays: [(rank: Int, stream: UInt8, fd: Int32)] = []
    private var keyValueConnections: [Int32: (decoder: KeyValueFrameDecoder, rank: Int?)] = [:]
    private var connectionOfRank: [Int: Int32] = [:]
    /// The daemon's end of each rank's status channel (the rank's descriptor 3), and what a rank has
    /// written of its answer so far.
    private var statusChannels: [Int: Int32] = [:]
    private var statusLines: [Int32: [UInt8]] = [:]
    /// The key-value socket (abstract, ``UnixSocket``): closed once every local rank has said hello.
    private var listenFD: Int32 = -1
    /// Recovery mode (the spec's environment has SWIFTMPI_RECOVERY=1): ranks learn of failures
    /// through this daemon, and the launcher and the daemon exchange heartbeats.
    private var recovery = false
    private var heartbeatTimeout = Heartbeat.timeout(nil)
    /// When the last bytes came from the launcher, and when this daemon last sent a heartbeat.
    private var lastHeard = 0.0
    private var lastBeat = 0.0

    /// A tree start's tree, when this daemon starts other hosts' daemons (``DaemonTree``).
    private let tree: DaemonTree?
    /// The launch agents this daemon started for other hosts and not yet reaped, by pid.
    private var childAgents: [pid_t: DaemonTree.Host] = [:]

    init(launcherEndpoint: String, hostIndex: Int, tree: DaemonTree? = nil) {
        self.launcherEndpoint = launcherEndpoint
        self.hostIndex = hostIndex
        self.tree = tree
    }

    /// Runs until the host's ranks have ended; returns the daemon's exit status.
    func run() -> Int32 {
        do {
            return try serve()
        } catch {
            report("daemon for host \(hostIndex): \(error)")
            killRanks(SIGKILL)
            return 1
        }
    }

    private func serve() throws -> Int32 {
        guard let secretLine = readLine(), let secret = JobSecret(hex: secretLine[...].trimmingCharacters(in: " \r")) else {
            throw LaunchError("no job secret on standard input")
        }
        // A tree start: this daemon starts its hosts first, so that they start while it connects.
        // Their agents write to this daemon's stderr (so the launcher prints their errors under
        // this host's name), and it lives until they end: they die with it (parent-death signal).
        var notStarted: [String] = []
        for host in tree?.started(byHost: hostIndex) ?? [] {
            do {
                let pid = try startDaemonProcess(
                    host, direct: false, agent: tree!.agent, launcherEndpoint: launcherEndpoint, tree: tree, secret: secret, output: STDERR_FILENO)
                childAgents[pid] = host
            } catch {
                notStarted.append("\(host.index) \(error)")
            }
        }
        let deadline = Handshake.now() + 30
        link = try connectToLauncher(secret: secret, deadline: deadline)
        for failure in notStarted {
            let index = Int(failure.prefix { $0 != " " })!
            try send(LinkFrame(.agentExited, rank: index, payload: Array(String(failure.drop { $0 != " " }.dropFirst()).utf8)))
        }
        var spec: LaunchSpec?
        while spec == nil {
            guard let frame = try receiveFrame(blocking: true) else { throw LaunchError("the launcher closed the link before the launch") }
            if frame.kind == .launch { spec = try LaunchSpec(decoding: frame.payload) }
        }
        recovery = spec!.environment.contains("SWIFTMPI_RECOVERY=1")
        heartbeatTimeout = Heartbeat.timeout(
            spec!.environment.first { $0.hasPrefix(Heartbeat.variable + "=") }.map { String($0.dropFirst(Heartbeat.variable.count + 1)) })
        lastHeard = Handshake.now()
        let signals = try SignalChannel()
        defer { signals.close() }
        reapRanks()  // an agent this daemon started may have failed before the signals were caught
        let keyValueSocket = try UnixSocket.listenAbstract(prefix: "swiftmpi-kvs")
        listenFD = keyValueSocket.fd
        defer { stopListening() }
        defer { SegmentNames.removeStale(jobID: spec!.jobID, localSize: spec!.ranks.count) }
        try startRanks(spec!, secret: secret, socketAddress: keyValueSocket.address)
        // Frames that came with the spec in one read (a job that is ending sends SIGKILL right after
        // it) are handled now: the loop below looks at the link only when more bytes arrive.
        while let frame = try linkDecoder.next() { try handleLauncher(frame) }

        var lastExit: Double?
        while true {
            if ranks.allSatisfy(\.exited) {
                lastExit = lastExit ?? Handshake.now()
                let drained = relays.isEmpty || Handshake.now() - lastExit! > Job.drainPeriod
                if drained && childAgents.isEmpty { break }
            }
            if recovery { try keepHeartbeat() }
            var requests: [(Int32, Int16)] = [(signals.fd, Int16(POLLIN)), (link, Int16(POLLIN))]
            if listenFD >= 0 { requests.append((listenFD, Int16(POLLIN))) }
            requests += keyValueConnections.keys.map { ($0, Int16(POLLIN)) }
            requests += relays.map { ($0.fd, Int16(POLLIN)) }
            requests += statusChannels.values.map { ($0, Int16(POLLIN)) }
            var fds = requests.map { pollfd(fd: $0.0, events: $0.1, revents: 0) }
            guard try systemCall("poll", { poll(&fds, nfds_t(fds.count), lastExit == nil && !recovery ? -1 : 100) }) > 0 else { continue }
            for entry in fds where entry.revents != 0 {
                if entry.fd == signals.fd {
                    for signal in signals.read() {
                        if signal == SIGCHLD { reapRanks() } else if signal != SIGUSR1 { killRanks(signal) }
                    }
                } else if entry.fd == link {
                    while let frame = try receiveFrame(blocking: false) { try handleLauncher(frame) }
                } else if entry.fd == listenFD {
                    acceptPending()
                } else if let rank = statusChannels.first(where: { $0.value == entry.fd })?.key {
                    try relayStatus(of: rank, from: entry.fd)
                } else if let index = relays.firstIndex(where: { $0.fd == entry.fd }) {
                    switch ReadBuffer.read(entry.fd) {
                    case .bytes(let bytes):
                        try send(LinkFrame(.output, rank: relays[index].rank, payload: [relays[index].stream] + bytes))
                    case .wouldBlock:
                        break
                    case .ended:
                        close(entry.fd)
                        relays.remove(at: index)
                    }
                } else {
                    try forwardKeyValue(from: entry.fd, secret: secret)
                }
            }
        }
        return 0
    }

    private func startRanks(_ spec: LaunchSpec, secret: JobSecret, socketAddress: String) throws {
        let localSize = spec.ranks.count
        let reportBindings = spec.binding.hasSuffix(JobPlan.reportSuffix)
        guard let policy = PlacementPolicy(encoded: String(spec.binding.dropLast(reportBindings ? JobPlan.reportSuffix.count : 0))) else {
            throw LaunchError("the launcher sent a placement this daemon cannot read: '\(spec.binding)'")
        }
        let topology = HostTopology.read()
        let placements = try policy.place(localSize, on: topology)
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(devNull) }
        let launchNames = Set(WireupEnvironment.launchVariables)
        // The job's -x variables replace the daemon's values of the same names (getenv takes the first).
        let inherited = overriding(currentEnvironment().filter { !launchNames.contains(String($0.prefix { $0 != "=" })) }, with: spec.environment)
        let order = startOrder(cpus: placements.map(\.cpus))
        let hold = HoldOnCurrentCPU()
        defer { hold.release() }
        let localRanksText = RankList.text(spec.ranks)
        for localRank in order {
            let rank = spec.ranks[localRank]
            let out = try makePipe(), err = try makePipe()
            defer { close(out.write); close(err.write) }
            let cpus = placements[localRank].cpus
            let app = spec.apps[spec.appOfRank[localRank]]
            var pair: [Int32] = [-1, -1]
            let hasStatus = socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0
            defer { if hasStatus { close(pair[1]) } }
            let environment =
                CLibraryPath.prepend(to: overriding(inherited, with: app.environment)) + [
                    "\(WireupEnvironment.appNumber)=\(spec.appOfRank[localRank])",
                    "\(WireupEnvironment.rank)=\(rank)", "\(WireupEnvironment.size)=\(spec.size)",
                    "\(WireupEnvironment.localRank)=\(localRank)", "\(WireupEnvironment.localSize)=\(localSize)",
                    "\(WireupEnvironment.localRanks)=\(localRanksText)",
                    "\(WireupEnvironment.jobID)=\(spec.jobID)", "\(WireupEnvironment.keyValueSocket)=\(socketAddress)",
                    "\(WireupEnvironment.secret)=\(secret.hex)",
                    "\(WireupEnvironment.oversubscribed)=\(localSize > topology.threads.count ? 1 : 0)",
                    "\(WireupEnvironment.boundCPU)=\(cpus.isEmpty ? "none" : rangeText(cpus))",
                    "\(WireupEnvironment.hostID)=\(spec.hostID)", "\(WireupEnvironment.hostCount)=\(spec.hostCount)"
                ] + (hasStatus ? ["\(WireupEnvironment.statusFD)=3"] : [])
                + (hasStatus && recovery ? ["\(WireupEnvironment.recoveryCoordinator)=1"] : [])
            switch spawnProcess(
                app.program, arguments: app.arguments, environment: environment,
                stdin: devNull, stdout: out.write, stderr: err.write, status: hasStatus ? pair[1] : -1,
                affinity: cpus.isEmpty ? hold.unboundAffinity : cpuMask(cpus), directory: app.workingDirectory.isEmpty ? nil : app.workingDirectory)
            {
            case .success(let pid):
                if reportBindings {
                    reportVerbatim(JobPlan.bindingReport(rank: rank, cpus: cpus, host: JobPlan.hostName, reporter: getpid(), topology: topology))
                }
                if hasStatus { statusChannels[rank] = pair[0] }
                ranks.append(LocalRank(rank: rank, pid: pid))
                relays += [(rank, 1, out.read), (rank, 2, err.read)]
                try send(LinkFrame(.started, rank: rank, payload: Array("\(pid)".utf8)))
            case .failure(let error):
                close(out.read)
                close(err.read)
                if hasStatus { close(pair[0]) }
                try send(LinkFrame(.failed, rank: rank, payload: Array(startFailure(app, error).utf8)))
                ranks.append(LocalRank(rank: rank, pid: 0, exited: true))
            }
        }
    }

    /// Connects to the first of the launcher's addresses (`A:P,B:P,…`) that answers and passes
    /// the handshake: one that this host cannot route to fails at once, one that refuses or does
    /// not complete the handshake is given 3 s. If none passed but some took the connection, those
    /// are tried again with the rest of `deadline` for the handshake: a launcher that many daemons
    /// reach at once handshakes with them one at a time (32 hosts of each of two jobs started
    /// together on a loaded 2-core machine left the last ones waiting more than 3 s).
    private func connectToLauncher(secret: JobSecret, deadline: Double) throws -> Int32 {
        var failures: [String] = []
        var reachable: [String] = []
        func attempt(_ endpoint: String, handshakeDeadline: (Double) -> Double) throws -> Int32 {
            let fd = try TCPSocket.connect(endpoint, deadline: min(deadline, Handshake.now() + 3))
            do {
                let until = handshakeDeadline(Handshake.now())
                try Handshake(magic: "SMDL", secret: secret).connect(fd, id: UInt32(hostIndex), expected: UInt32.max, deadline: until)
            } catch {
                close(fd)
                reachable.append(endpoint)
                throw error
            }
            return fd
        }
        for endpoint in launcherEndpoint.split(separator: ",").map(String.init) {
            do { return try attempt(endpoint) { min(deadline, $0 + 3) } } catch { failures.append("\(error)") }
        }
        for endpoint in reachable where Handshake.now() < deadline {
            do { return try attempt(endpoint) { _ in deadline } } catch { failures.append("\(error) (again)") }
        }
        throw LaunchError(
            "cannot reach the launcher at any of its addresses (\(failures.joined(separator: "; "))); choose one with swiftmpirun --launcher-if")
    }

    /// Why `app` did not start: its working directory when that is what is missing.
    private func startFailure(_ app: LaunchSpec.App, _ error: SpawnError) -> String {
        var info = stat()
        if !app.workingDirectory.isEmpty && (stat(app.workingDirectory, &info) != 0 || info.st_mode & S_IFMT != S_IFDIR) {
            return "could not start \(app.program): --wdir \(app.workingDirectory) on \(JobPlan.hostName): \(SystemError.text(error.code))"
        }
        return "could not start \(app.program): \(SystemError.text(error.code))"
    }

    private func handleLauncher(_ frame: LinkFrame) throws {
        switch frame.kind {
        case .signal:
            killRanks(Int32(frame.rank))
        case .keyValue:
            if let fd = connectionOfRank[frame.rank] {
                try? UnixSocket.sendAll(fd, frame.payload)
            }
        case .notice:  // a recovery line for the rank (RecoveryCoordinator)
            if let fd = statusChannels[frame.rank] { _ = frame.payload.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } }
        case .heartbeat:
            break  // (its arrival was noted)
        case .statusRequest:
            for rank in ranks where !rank.exited {
                guard let fd = statusChannels[rank.rank] else { continue }
                var request = UInt8(ascii: "?")
                _ = write(fd, &request, 1)  // a rank that cannot be asked is reported by the launcher as silent
            }
        default:
            break
        }
    }

    /// Reads a rank's answer from its status channel and sends each whole line to the launcher.
    private func relayStatus(of rank: Int, from fd: Int32) throws {
        switch ReadBuffer.read(fd, recvFlags: Int32(MSG_DONTWAIT)) {
        case .bytes(let bytes): statusLines[fd, default: []] += bytes
        case .wouldBlock: return
        case .ended:
            close(fd)
            statusChannels[rank] = nil
            statusLines[fd] = nil
            return
        }
        while let newline = statusLines[fd]?.firstIndex(of: UInt8(ascii: "\n")) {
            try send(LinkFrame(.status, rank: rank, payload: Array(statusLines[fd]![..<newline])))
            statusLines[fd]!.removeSubrange(...newline)
        }
    }

    /// Reads a rank's key-value requests, checks the secret, and forwards them without it.
    private func forwardKeyValue(from fd: Int32, secret: JobSecret) throws {
        guard var state = keyValueConnections[fd] else { return }
        switch ReadBuffer.read(fd, recvFlags: Int32(MSG_DONTWAIT)) {
        case .bytes(let bytes): state.decoder.append(bytes)
        case .wouldBlock: return
        case .ended: dropConnection(fd); return
        }
        let unsigned = JobSecret(bytes: [UInt8](repeating: 0, count: JobSecret.byteCount))!
        do {
            while let request = try state.decoder.nextRequest(secret: secret) {
                if case .hello(let rank, _) = request {
                    guard state.rank == nil, ranks.contains(where: { $0.rank == rank }), connectionOfRank[rank] == nil else {
                        throw WireupError.refused("hello from rank \(rank), which this host does not run or already greeted")
                    }
                    state.rank = rank
                    connectionOfRank[rank] = fd
                    if connectionOfRank.count == ranks.count { stopListening() }
                }
                guard let rank = state.rank else { throw WireupError.refused("request before hello") }
                try send(LinkFrame(.keyValue, rank: rank, payload: request.encoded(secret: unsigned)))
            }
            keyValueConnections[fd] = state
        } catch {
            report("refused key-value connection from \(UnixSocket.peerPID(fd).map { "pid \($0)" } ?? "an unknown process"): \(error)")
            dropConnection(fd)
        }
    }

    private func acceptPending() {
        while true {
            switch UnixSocket.acceptFromOwnUser(listenFD) {
            case .accepted(let fd): keyValueConnections[fd] = (KeyValueFrameDecoder(), nil)
            case .refused(let reason): report(reason)
            case .nonePending: return
            }
        }
    }

    /// Closes the key-value socket: once every local rank has said hello nothing else may connect.
    private func stopListening() {
        if listenFD >= 0 { close(listenFD) }
        listenFD = -1
    }

    private func dropConnection(_ fd: Int32) {
        if let rank = keyValueConnections[fd]?.rank, connectionOfRank[rank] == fd { connectionOfRank[rank] = nil }
        keyValueConnections[fd] = nil
        close(fd)
    }

    private func reapRanks() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            if let host = childAgents.removeValue(forKey: pid) {
                if status != 0 {
                    let me = tree?.hosts.first { $0.index == hostIndex }?.name ?? "\(hostIndex)"
                    let how = status & 0x7f == 0 ? "exited with status \((status >> 8) & 0xff)" : "was killed by signal \(status & 0x7f)"
                    let text = "the launch agent \(how) (started by the daemon on host \(me))"
                    try? send(LinkFrame(.agentExited, rank: host.index, payload: Array(text.utf8)))
                }
                continue
            }
            guard let index = ranks.firstIndex(where: { $0.pid == pid }) else { continue }
            ranks[index].exited = true
            try? send(LinkFrame(.exited, rank: ranks[index].rank, payload: Array("\(status)".utf8)))
        }
    }

    /// Recovery mode: sends a heartbeat when one is due, and ends this host's ranks (by throwing)
    /// when the launcher has been silent for the timeout — it counts them as failed by now.
    private func keepHeartbeat() throws {
        let now = Handshake.now()
        if now - lastBeat >= Heartbeat.period {
            lastBeat = now
            try send(LinkFrame(.heartbeat))
        }
        if now - lastHeard > heartbeatTimeout {
            throw LaunchError("no heartbeat from the launcher for \(heartbeatTimeout) s: ending this host's ranks")
        }
    }

    private func killRanks(_ signal: Int32) {
        for rank in ranks where !rank.exited && rank.pid > 0 { kill(-rank.pid, signal) }
    }

    private func send(_ frame: LinkFrame) throws {
        try UnixSocket.sendAll(link, frame.encoded)
    }

    /// The next frame from the launcher; nil when none is complete (nonblocking) — and the end of the
    /// link is an error: the job is over for this host.
    private func receiveFrame(blocking: Bool) throws -> LinkFrame? {
        while true {
            if let frame = try linkDecoder.next() { return frame }
            switch ReadBuffer.read(link, recvFlags: blocking ? 0 : Int32(MSG_DONTWAIT)) {
            case .bytes(let bytes):
                linkDecoder.append(bytes)
                lastHeard = Handshake.now()
            case .wouldBlock: if !blocking { return nil }
            case .ended(nil): throw LaunchError("the launcher closed the link")
            case .ended(let error?): throw LaunchError("link to the launcher failed: \(error)")
            }
        }
    }
}
