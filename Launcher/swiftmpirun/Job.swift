import SwiftMPILauncherParsing
import CShims
import SwiftMPIWireup
#if canImport(Glibc)
import Glibc
#endif

/// One run of a job on this host: starts the ranks, serves the key-value exchange, relays output and
/// stdin, and applies the termination policy.
///
/// Termination policy: the first rank that fails (nonzero exit, a signal, MPI.abort, or exit without
/// MPI.finalize after MPI.initialize) ends the job: one line on stderr names it, every other rank's
/// process group gets SIGTERM and, half a second later, SIGKILL (``TerminationPolicy``). The launcher's status is the failed
/// rank's. Everything runs on one thread around poll(2); signals arrive through a signalfd.
final class Job {
    /// How long output is still relayed after the last rank exited (grandchildren may hold the pipes).
    static let drainPeriod = 1.0

    private struct Rank {
        let pid: pid_t
        var exited = false
        var initialized = false
        var finalized = false
    }

    private let plan: JobPlan
    private var ranks: [Rank] = []
    private var relays: [OutputRelay] = []
    /// Each rank's stderr pipe (whose relay remembers a runtime trap's message), by rank.
    private var errorPipeOfRank: [Int: Int32] = [:]
    /// The trap lines of stderr relays that ended before their rank was reaped, by pipe.
    private var endedRelayTraps: [Int32: FatalErrorLine] = [:]
    /// The launcher's end of each rank's status channel (a socket pair; the rank's end is its
    /// descriptor 3), by rank: asked what each rank waits for when the job hangs.
    private var statusChannels: [Int: Int32] = [:]
    /// What ranks wrote on their status channels, line by line.
    private var statusLines = StatusLines()
    /// Recovery mode (`--enable-recovery`): the job goes on when a rank fails.
    private lazy var coordinator: RecoveryCoordinator? =
        plan.recovery
        ? RecoveryCoordinator(
            send: { [unowned self] rank, line in
                guard !ranks[rank].exited, let fd = statusChannels[rank] else { return }
                _ = Array(line.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            },
            running: { [unowned self] in ranks.indices.filter { !ranks[$0].exited } },
            isRunning: { [unowned self] in $0 >= 0 && $0 < ranks.count && !ranks[$0].exited }) : nil
    /// Recovery mode: the status of the first rank lost (the launcher's exit status when the
    /// survivors finish well).
    private var firstLossStatus: Int32?
    /// The first SIGTERM has been answered with the ranks' reports.
    private var reportedOnTerm = false
    private var stdinForwarder: StdinForwarder?
    private var server: KeyValueServer?
    /// Ranks that have said hello (the key-value server refuses a second hello from a rank); when all
    /// have, the server stops listening.
    private var greeted = 0
    private lazy var termination = TerminationPolicy(clock: now) { [unowned self] signal in killAll(signal) }

    init(plan: JobPlan) { self.plan = plan }

    /// Runs the job to its end and returns the launcher's exit status.
    func run() throws -> Int32 {
        let signals = try SignalChannel()
        defer { signals.close() }
        let secret = try JobSecret.generate()
        let server = try KeyValueServer(listening: true, secret: secret, rankCount: plan.rankCount)
        defer { if getenv("SWIFTMPI_DEBUG").map({ String(cString: $0) }) == "1" { report("key-value exchange: \(server.summary)") } }
        self.server = server
        defer { self.server = nil }
        let jobID = try JobSecret.generate().hex.prefix(12).description  // unique on this host; names the job's segments
        // Ranks unlink their segments once all are attached; this removes any left by a rank that died
        // during wire-up.
        defer { SegmentNames.removeStale(jobID: jobID, localSize: plan.rankCount) }

        try startRanks(jobID: jobID, socketAddress: server.address!, secret: secret)
        let deadline = plan.timeout.map { now() + $0 }
        var lastExit: Double?

        while true {
            let allExited = ranks.allSatisfy(\.exited)
            if allExited {
                if relays.isEmpty { break }
                lastExit = lastExit ?? now()
                if now() - lastExit! > Self.drainPeriod { break }
            }
            if let deadline, !termination.ending, now() >= deadline { timedOut() }
            termination.escalateIfDue(now: now())

            var requests: [(fd: Int32, events: Int16)] = [(signals.fd, Int16(POLLIN))]
            requests += server.pollRequests
            requests += relays.map { ($0.sourceFD, Int16(POLLIN)) }
            if let stdinForwarder { requests += stdinForwarder.pollRequests }
            if coordinator != nil { requests += statusChannels.map { ($0.value, Int16(POLLIN)) } }
            var fds = requests.map { pollfd(fd: $0.fd, events: $0.events, revents: 0) }
            let wakeups = [deadline.flatMap { termination.ending ? nil : $0 }, termination.killDeadline, lastExit.map { $0 + Self.drainPeriod }]
            let nextWakeup = wakeups.compactMap { $0 }.min()
            let ready = try systemCall("poll") { poll(&fds, nfds_t(fds.count), pollTimeout(until: nextWakeup)) }
            guard ready > 0 else { continue }

            for entry in fds where entry.revents != 0 {
                if entry.fd == signals.fd {
                    handle(signals: signals.read())
                } else if let index = relays.firstIndex(where: { $0.sourceFD == entry.fd }) {
                    if !relays[index].pump() {
                        close(relays[index].sourceFD)
                        let ended = relays.remove(at: index)
                        if let line = ended.lastFatalError { endedRelayTraps[ended.sourceFD] = line }
                    }
                } else if stdinForwarder?.owns(entry.fd) == true {
                    if stdinForwarder?.handle(fd: entry.fd) == false { stdinForwarder = nil }
                } else if let rank = statusChannels.first(where: { $0.value == entry.fd })?.key {
                    readStatusChannel(of: rank, answers: nil)
                } else {
                    for event in server.handle(fd: entry.fd, revents: entry.revents) { handle(event) }
                }
            }
        }
        for var relay in relays { relay.finish(); close(relay.sourceFD) }
        if !termination.ending, let coordinator, !coordinator.lost.isEmpty {
            let lost = coordinator.lost.keys.sorted().map(String.init).joined(separator: ", ")
            report(
                "job finished with \(ranks.count - coordinator.lost.count) of \(ranks.count) ranks (recovery mode); "
                    + "lost: rank\(coordinator.lost.count > 1 ? "s" : "") \(lost)"
            )
        }
        return termination.ending ? termination.exitStatus : firstLossStatus ?? 0
    }

    /// Reads what rank `rank` wrote on its status channel: recovery requests go to the coordinator,
    /// hang-report answers into `answers` (dropped when nil: one that came too late). Returns false
    /// once the channel is closed (the rank is gone).
    @discardableResult
    private func readStatusChannel(of rank: Int, answers: UnsafeMutablePointer<[Int: String]>?) -> Bool {
        guard let fd = statusChannels[rank] else { return false }
        guard let lines = statusLines.read(fd) else {
            close(fd)
            statusChannels[rank] = nil
            return false
        }
        for line in lines {
            if line.hasPrefix("!") {
                coordinator?.handle(line, from: rank)
            } else {
                answers?.pointee[rank] = String(line)
            }
        }
        return true
    }

    // MARK: - Starting

    private func startRanks(jobID: String, socketAddress: String, secret: JobSecret) throws {
        let devNull = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { close(devNull) }
        let order = startOrder(cpus: plan.placements.map(\.cpus))
        let hold = HoldOnCurrentCPU()
        defer { hold.release() }
        for rank in order {
            var childFDs: [Int32] = []
            defer { childFDs.forEach { close($0) } }
            var stdinFD = devNull
            if rank == 0 {
                let pipe = try makePipe()
                stdinFD = pipe.read
                childFDs.append(pipe.read)
                stdinForwarder = StdinForwarder(rankStdin: pipe.write)
            }
            var outFDs: [Int32] = []
            for (stream, destination) in [("out", STDOUT_FILENO), ("err", STDERR_FILENO)] {
                if let directory = plan.outputDirectory {
                    let path = "\(directory)/rank.\(rank).\(stream)"
                    let fd: Int32
                    do {
                        fd = try systemCall("open") { open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644) }
                    } catch {
                        abortStart("cannot create \(path): \(SystemError.describe(error.code))")
                        throw LaunchError("could not start the job")
                    }
                    childFDs.append(fd)
                    outFDs.append(fd)
                } else {
                    let pipe = try makePipe()
                    childFDs.append(pipe.write)
                    outFDs.append(pipe.write)
                    relays.append(
                        OutputRelay(
                            sourceFD: pipe.read, destinationFD: destination,
                            prefix: plan.tagOutput ? "[\(rank)] " : nil, dropsStackTraces: stream == "err" && !plan.backtrace))
                    if stream == "err" { errorPipeOfRank[rank] = pipe.read }
                }
            }
            var pair: [Int32] = [-1, -1]
            let statusFD: Int32
            if socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &pair) == 0 {
                statusChannels[rank] = pair[0]
                childFDs.append(pair[1])
                statusFD = pair[1]
            } else {
                statusFD = -1  // no hang report from this rank; the job runs anyway
            }
            let environment =
                plan.environment(rank: rank, jobID: jobID, socketAddress: socketAddress, secret: secret)
                + (statusFD >= 0 ? ["\(WireupEnvironment.statusFD)=3"] : [])
                + (statusFD >= 0 && plan.recovery ? ["\(WireupEnvironment.recoveryCoordinator)=1"] : [])
            switch spawnProcess(
                plan.programs[plan.appOfRank[rank]].path, arguments: plan.programs[plan.appOfRank[rank]].arguments, environment: environment,
                stdin: stdinFD, stdout: outFDs[0], stderr: outFDs[1], status: statusFD,
                affinity: plan.cpus(ofRank: rank).isEmpty ? hold.unboundAffinity : cpuMask(plan.cpus(ofRank: rank)),
                directory: plan.programs[plan.appOfRank[rank]].workingDirectory)
            {
            case .success(let pid):
                if plan.reportBindings {
                    reportVerbatim(
                        JobPlan.bindingReport(rank: rank, cpus: plan.cpus(ofRank: rank), host: JobPlan.hostName, reporter: getpid(), topology: plan.topology))
                }
                ranks.append(Rank(pid: pid))  // in start order until all have started
            case .failure(let error):
                abortStart("could not start rank \(rank) (\(plan.programs[plan.appOfRank[rank]].path)): \(SystemError.text(error.code))")
                throw LaunchError("could not start the job")
            }
        }
        ranks = zip(order, ranks).sorted { $0.0 < $1.0 }.map(\.1)
    }

    /// A rank could not be started: end those already running and wait for them.
    private func abortStart(_ line: String) {
        report("\(line)")
        killAll(SIGKILL)
        for rank in ranks where !rank.exited { var status: Int32 = 0; waitpid(rank.pid, &status, 0) }
    }

    // MARK: - Events

    private func handle(signals: [Int32]) {
        for signal in signals {
            switch signal {
            case SIGCHLD: reapChildren()
            case SIGUSR1:  // "what is the job doing?": the answers, and the job goes on
                reportWhatRanksWaitFor()
            case SIGINT where !termination.interrupted, SIGTERM where !termination.ending && !reportedOnTerm:
                if signal == SIGTERM { reportedOnTerm = true }
                reportWhatRanksWaitFor()
                termination.forward(signal)
            default: termination.forward(signal)
            }
        }
    }

    private func handle(_ event: KeyValueServer.Event) {
        switch event {
        case .hello(let rank, _):
            ranks[rank].initialized = true
            greeted += 1
            if greeted == ranks.count { server?.stopListening() }
        case .finalized(let rank):
            ranks[rank].finalized = true
        case .abort(let rank, let code, let message):
            let detail = message.isEmpty ? "" : ": \(message)"
            end(status: code, line: "rank \(rank) (pid \(ranks[rank].pid)) called MPI.abort(\(code))\(detail); job aborted")
        }
    }

    private func reapChildren() {
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            if pid <= 0 { return }
            guard let rank = ranks.firstIndex(where: { $0.pid == pid }) else { continue }
            ranks[rank].exited = true
            if let verdict = failureVerdict(
                rank: rank, pid: pid, waitStatus: status,
                initialized: ranks[rank].initialized, finalized: ranks[rank].finalized, fatalError: fatalError(ofRank: rank, waitStatus: status))
            {
                if let coordinator, !termination.ending, ranks[rank].initialized {
                    rankLost(rank, verdict, coordinator)
                } else {
                    end(status: verdict.status, line: verdict.line)
                }
            } else {
                coordinator?.rankExited()
            }
        }
    }

    /// Recovery mode: a rank that failed after `MPI.initialize()` is reported in one line, the
    /// survivors are told, and the job goes on (docs/Recovery.md).
    private func rankLost(_ rank: Int, _ verdict: (status: Int32, line: String), _ coordinator: RecoveryCoordinator) {
        let what = verdict.line.hasSuffix("; job aborted") ? String(verdict.line.dropLast("; job aborted".count)) : verdict.line
        let survivors = ranks.filter { !$0.exited }.count
        report("\(what); recovery mode: the job goes on with \(survivors) rank\(survivors == 1 ? "" : "s")")
        firstLossStatus = firstLossStatus ?? verdict.status
        coordinator.rankFailed(rank, reason: String(what.drop { $0 != ")" }.dropFirst().drop { $0 == " " }))
        server?.rankLost(rank)
    }

    /// The runtime trap a rank that died of SIGILL or SIGTRAP reported on its stderr: from its relay
    /// (drained first: the rank wrote all it will) or from its `--output-dir` file.
    private func fatalError(ofRank rank: Int, waitStatus status: Int32) -> FatalErrorLine? {
        guard status & 0x7f == SIGILL || status & 0x7f == SIGTRAP else { return nil }
        if let directory = plan.outputDirectory {
            return FatalErrorLine.last(inFile: "\(directory)/rank.\(rank).err")
        }
        guard let fd = errorPipeOfRank[rank] else { return nil }
        guard let index = relays.firstIndex(where: { $0.sourceFD == fd }) else {
            return endedRelayTraps[fd]
        }
        relays[index].drain()
        return relays[index].lastFatalError
    }

    /// Asks every running rank what it is blocked in and prints the answers, one line per rank, in
    /// rank order (waiting at most two seconds for them: a loaded machine may be slow to schedule
    /// the answering threads; an answer that does not come is reported as such).
    private func reportWhatRanksWaitFor() {
        var waiting: [Int32: Int] = [:]
        for (rank, fd) in statusChannels where !ranks[rank].exited {
            var request = UInt8(ascii: "?")
            if write(fd, &request, 1) == 1 { waiting[fd] = rank }
        }
        var answers: [Int: String] = [:]
        let asked = Array(waiting.values)
        let deadline = now() + 2
        while !waiting.isEmpty && now() < deadline {
            var fds = waiting.keys.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            guard poll(&fds, nfds_t(fds.count), pollTimeout(until: deadline)) > 0 else { continue }
            for entry in fds where entry.revents != 0 {
                guard let rank = waiting[entry.fd] else { continue }
                if !readStatusChannel(of: rank, answers: &answers) || answers[rank] != nil { waiting[entry.fd] = nil }
            }
        }
        for rank in asked.sorted() { report(answers[rank] ?? "rank \(rank): no answer within 2 s (its status thread did not run)") }
    }

    private func timedOut() {
        reportWhatRanksWaitFor()
        let running = ranks.indices.filter { !ranks[$0].exited }.map(String.init).joined(separator: ", ")
        end(status: 124, line: "timed out after \(plan.timeout!) s; ranks still running: \(running); job aborted")
    }

    private func end(status: Int32, line: String) { termination.end(status: status, line: line) }

    private func killAll(_ signal: Int32) {
        for rank in ranks where !rank.exited { kill(-rank.pid, signal) }
    }
}

// MARK: - Helpers

func now() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
}

/// poll(2)'s timeout until `time` on the ``now()`` clock, in whole milliseconds rounded up (so the
/// wait never ends early); -1 (no timeout) when `time` is nil.
func pollTimeout(until time: Double?) -> Int32 {
    time.map { max(0, Int32((($0 - now()) * 1000).rounded(.up))) } ?? -1
}

/// A pipe whose both ends are close-on-exec.
func makePipe() throws(SystemCallError) -> (read: Int32, write: Int32) {
    var fds: [Int32] = [0, 0]
    try SystemCallError.check("pipe2", cshims_pipe_cloexec(&fds))
    return (fds[0], fds[1])
}

/// Delivers the launcher's signals as readable events (signalfd), so the poll loop handles them in order.
struct SignalChannel {
    static let handled: [Int32] = [SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1]
    let fd: Int32

    init() throws {
        signal(SIGPIPE, SIG_IGN)
        var fd: Int32 = -1
        try SystemCallError.check("signalfd", cshims_signalfd_open(Self.handled, Int32(Self.handled.count), &fd))
        self.fd = fd
    }

    /// The signals received since the last read (SIGCHLD at most once per batch: reaping handles all).
    func read() -> [Int32] {
        var signals: [Int32] = []
        var signal: Int32 = 0
        while cshims_signalfd_read(fd, &signal) == 0 { signals.append(signal) }
        return signals
    }

    func close() { _ = Glibc.close(fd) }
}

/// Forwards the launcher's stdin to rank 0; closes rank 0's stdin at end of file.
final class StdinForwarder {
    private let rankStdin: Int32
    private var pending: [UInt8] = []
    private var inputEnded = false

    init(rankStdin: Int32) {
        self.rankStdin = rankStdin
        _ = fcntl(rankStdin, F_SETFL, fcntl(rankStdin, F_GETFL) | O_NONBLOCK)
    }

    deinit { close(rankStdin) }

    var pollRequests: [(fd: Int32, events: Int16)] {
        pending.isEmpty ? (inputEnded ? [] : [(STDIN_FILENO, Int16(POLLIN))]) : [(rankStdin, Int16(POLLOUT))]
    }

    func owns(_ fd: Int32) -> Bool { fd == STDIN_FILENO || fd == rankStdin }

    /// Moves data one step; returns false when forwarding is over.
    func handle(fd: Int32) -> Bool {
        if fd == STDIN_FILENO {
            switch ReadBuffer.read(STDIN_FILENO) {
            case .bytes(let bytes): pending = Array(bytes)
            case .wouldBlock: return true
            case .ended: inputEnded = true; return false
            }
        }
        while !pending.isEmpty {
            switch try? nonblockingSystemCall("write", { pending.withUnsafeBytes { write(rankStdin, $0.baseAddress!, $0.count) } }) {
            case .done(let n): pending.removeFirst(n)
            case .wouldBlock: return true
            case nil: return false  // EPIPE: rank 0 closed its stdin; stop forwarding
            }
        }
        return true
    }
}
