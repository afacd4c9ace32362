#if canImport(Glibc)
import Glibc
#endif
import CShims
import SwiftMPITransport
import SwiftMPIWireup
import Synchronization

/// The state of an initialized SwiftMPI process: its place in the job, its connection to the launcher,
/// and the point-to-point engine.
///
/// Sendable because its stored properties are `let` except `isActive`, `worldModelActive` and
/// `openSessions`, which only the initialize and finalize calls change, one at a time
/// (under `lifecycle`; MPI makes the world model's from one thread with no other call running), and
/// the engine behind it is reached only through `withEngine`/`wait`, serialized by `lock` at thread
/// level `.multiple` (below it MPI allows one calling thread at a time).
final class Runtime: @unchecked Sendable {
    /// The running runtime, between initialize and finalize. Written only by those two calls, which
    /// MPI requires to be made once each, by the main thread, with no other SwiftMPI call running:
    /// that ordering, not a lock, makes `nonisolated(unsafe)` safe here.
    nonisolated(unsafe) static var current: Runtime?
    /// Set once by `MPI.finalize()`; safe for the same reason as ``current`` (only initialize and
    /// finalize touch it).
    nonisolated(unsafe) private static var finalized = false

    let rank: Int
    let size: Int
    let threadLevel: ThreadLevel
    /// The process manager this rank wired up through (nil for a singleton).
    let keyValue: (any WireupExchange)?
    /// True when that manager is a resource manager's PMI-2 or PMIx server (srun, mpirun), not
    /// swiftmpirun: its fence waits for every rank, failed ones included.
    var underResourceManager = false
    let engine: Engine
    /// `SWIFTMPI_DEBUG=1`: describe wire-up and collective paths on stderr.
    let debug: Bool
    /// `SWIFTMPI_SHM_COLLECTIVES=0` turns the intra-host collective fast path off.
    let sharedCollectives: Bool
    /// `SWIFTMPI_CHECK_COLLECTIVES=1`: collectives that use messages only agree on kind and root
    /// first (any value but 0 turns the check on). Changed only through its control variable,
    /// between collectives, on every rank alike.
    var checkCollectivesSetting: Int
    var checksCollectives: Bool { checkCollectivesSetting != 0 }
    /// The settings the runtime started with (for control variables).
    let settings = RuntimeSettings.fromEnvironment()
    /// Serializes every call at thread level `.multiple`; nil (no cost) at the lower levels until a
    /// task first awaits a request (``asyncProgress``): from then on it serializes the calls with
    /// the progress thread. Installed by the one thread then inside SwiftMPI (below `.multiple` MPI
    /// allows only one), never removed.
    private(set) var lock: EngineLock?  // recursive: collective schedules start sends from inside a wait
    /// The thread that resumes awaiting tasks, started by the first task that suspends.
    private(set) var asyncProgress: AsyncProgress?
    private(set) var isActive = true
    /// `MPI.commSelf`'s state, made at its first use (changed only inside `withEngine`).
    var selfCommunicator: CommunicatorState?
    /// Between `MPI.initialize()` and `MPI.finalize()` (the world model); changed, like
    /// ``openSessions``, only by those calls and the sessions' which MPI makes from one thread
    /// with no other call running.
    var worldModelActive = false
    /// `MPI.finalize()` was called: the world model cannot start again.
    var worldModelEnded = false
    /// Sessions initialized and not yet finalized; the runtime ends when neither they nor the world
    /// model use it.
    var openSessions = 0
    /// Every session has finalized and the world model is not running: the ranks have met and
    /// delivered what was queued, and the runtime rests, still wired up, until a session or the
    /// world model starts again (MPI-4.1 lets the sessions model initialize MPI more than once).
    /// The process manager hears that this rank finished when the process exits (``finishResting``).
    /// (A runtime with neither users nor ``current`` cleared is resting: shutting down clears it.)
    var resting: Bool { openSessions == 0 && !worldModelActive }
    /// The recorder of `--trace`/`--profile` (``Tracer``): set once before the program's first call
    /// and cleared at the start of finalize; nil (one load and branch per call) when off.
    var tracer: Tracer?

    private init(
        rank: Int, size: Int, threadLevel: ThreadLevel, keyValue: (any WireupExchange)?, engine: Engine, debug: Bool, sharedCollectives: Bool,
        checksCollectives: Bool
    ) {
        self.debug = debug
        self.sharedCollectives = sharedCollectives
        self.checkCollectivesSetting = checksCollectives ? 1 : 0
        self.rank = rank
        self.size = size
        self.threadLevel = threadLevel
        self.keyValue = keyValue
        self.engine = engine
        self.lock = threadLevel == .multiple || Runtime.toolCallsConcurrent ? EngineLock() : nil
        engine.runtime = self
        engine.recovery.enabled = settings.recovery
        engine.waitedForLauncher = settings.recovery  // no pause at a failure: the launcher does not end the job
        if settings.recovery { engine.routes.sharedMemory?.reportsDeadPeers = false }
    }

    /// Runs `body` with exclusive use of the engine; throws if SwiftMPI is not running.
    @inline(__always) @discardableResult
    func withEngine<R>(_ call: StaticString, _ body: (Engine) throws -> R) throws -> R {
        lock?.lock()
        defer { lock?.unlock() }
        #if DEBUG
        if lock == nil { ThreadGuard.enter("\(call)", level: threadLevel) }
        defer { if lock == nil { ThreadGuard.leave() } }
        #endif
        guard isActive else { throw MPIError(.alreadyFinalized, "\(call) after MPI.finalize()") }
        return try body(engine)
    }

    /// A tool asked, before SwiftMPI started, to read and set its variables from any thread at any
    /// time (MPI_T_init_thread at MPI_THREAD_MULTIPLE): the runtime then starts with its lock
    /// whatever its thread level. Set only before the runtime exists.
    nonisolated(unsafe) private static var toolCallsConcurrent = false

    /// Makes the tool variables (``MPI/ControlVariable``, ``MPI/PerformanceVariable``) safe to use
    /// from any thread while other threads call SwiftMPI (MPI_T at MPI_THREAD_MULTIPLE): true when
    /// the runtime has, or will start with, its lock; false when it already runs without one (then a
    /// tool must not overlap the program's calls).
    static func allowConcurrentToolCalls() -> Bool {
        guard let running = current else {
            toolCallsConcurrent = true
            return true
        }
        return running.lock != nil
    }

    /// Runs `body` under the engine lock when there is one (reads of engine state by the tool
    /// variables, which may come from a thread other than the one inside SwiftMPI).
    @inline(__always)
    func withLockIfAny<R>(_ body: () throws -> R) rethrows -> R {
        lock?.lock()
        defer { lock?.unlock() }
        return try body()
    }

    /// The progress thread for awaiting tasks, started (and the lock installed) at the first call.
    func startAsyncProgress() throws(MPIError) -> AsyncProgress {
        if lock == nil { lock = EngineLock() }
        let lock = lock.unsafelyUnwrapped
        lock.lock()
        defer { lock.unlock() }
        guard isActive else { throw MPIError(.alreadyFinalized, "await after MPI.finalize()") }
        if let asyncProgress { return asyncProgress }
        tracer?.becomeConcurrent()  // the progress thread delivers messages while tasks call
        let progress = AsyncProgress(runtime: self, lock: lock)
        asyncProgress = progress
        return progress
    }

    /// Progresses until `done(engine)` holds. With a lock (`.multiple`, or tasks awaiting) it is
    /// released between rounds, so other threads' calls interleave with this wait.
    /// `detail` completes the call as the user wrote it (`(from: 1, tag: 7, 8 bytes) on world`),
    /// for errors and the launcher's hang reports; it is built only when needed.
    @inline(__always)  // inlined into each blocking call, so `done` is too (a thunk cost ~10 % of a round trip)
    func wait(_ call: StaticString, _ detail: @autoclosure () -> String = "", until done: (Engine) -> Bool) throws {
        guard let lock else {
            #if DEBUG
            ThreadGuard.enter("\(call)", level: threadLevel)
            defer { ThreadGuard.leave() }
            #endif
            guard isActive else { throw MPIError(.alreadyFinalized, "\(call) after MPI.finalize()") }
            return try engine.wait("\(call)\(detail())", until: { done(engine) })
        }
        try lockedWait(lock, call, detail(), until: done)
    }

    /// ``wait(_:_:until:)`` with the lock: not inlined (the lock costs more than the call).
    @inline(never)
    private func lockedWait(_ lock: EngineLock, _ call: StaticString, _ detail: @autoclosure () -> String, until done: (Engine) -> Bool) throws {
        lock.lock()
        defer { lock.unlock() }
        guard isActive else { throw MPIError(.alreadyFinalized, "\(call) after MPI.finalize()") }
        try engine.wait("\(call)\(detail())", releasing: lock, until: { done(engine) })
    }

    // MARK: - Start and stop

    /// Makes standard output line-buffered when it is not a terminal (a pipe to the launcher, a
    /// file of `--output-dir`), so that every line a rank prints reaches the launcher when printed —
    /// before a hang, a timeout, a kill or an abort — instead of sitting in a 4 KiB stdio buffer.
    /// The cost is one write(2) per line (about 1 µs); `SWIFTMPI_LINE_BUFFERED=0` keeps the C
    /// library's block buffering. Standard error is unbuffered already.
    private static func lineBufferStandardOutput() {
        guard isatty(STDOUT_FILENO) == 0, WireupEnvironment.value("SWIFTMPI_LINE_BUFFERED") != "0" else { return }
        _ = cshims_stdout_line_buffered()  // a failure leaves the buffering as it was: nothing to report
    }

    /// `MPI.initialize()`: starts the runtime, or joins the one a ``Session`` started, and returns
    /// the world communicator.
    static func start(threadLevel: ThreadLevel) throws(MPIError) -> Communicator {
        lifecycle.lock()
        defer { lifecycle.unlock() }
        if let runtime = current {
            guard !runtime.worldModelActive else { throw MPIError(.alreadyInitialized, "MPI.initialize() called twice") }
            guard !runtime.worldModelEnded else { throw MPIError(.alreadyFinalized, "MPI.initialize() called after MPI.finalize()") }
            runtime.worldModelActive = true
            return runtime.worldCommunicator
        }
        let runtime = try launch(threadLevel: threadLevel, "MPI.initialize()")
        runtime.worldModelActive = true
        return runtime.worldCommunicator
    }

    /// `Session.initialize()`: starts the runtime, or joins the running one, for one more session.
    static func startSession(threadLevel: ThreadLevel) throws(MPIError) -> Runtime {
        lifecycle.lock()
        defer { lifecycle.unlock() }
        let runtime: Runtime
        if let running = current {
            runtime = running
        } else {
            runtime = try launch(threadLevel: threadLevel, "Session.initialize()")
        }
        runtime.openSessions += 1
        return runtime
    }

    /// The world communicator (MPI_COMM_WORLD) of this runtime.
    var worldCommunicator: Communicator {
        Communicator(runtime: self, state: CommunicatorState(context: 0, channel: 0, group: Group(worldRanks: Array(0..<size), myWorldRank: rank)))
    }

    /// Wires this process up (with the launcher, a resource manager, or alone) and makes it current.
    private static func launch(threadLevel: ThreadLevel, _ call: StaticString) throws(MPIError) -> Runtime {
        guard !finalized else { throw MPIError(.alreadyFinalized, "\(call) after SwiftMPI ended (MPI.finalize() was called and no session is open)") }
        let launch: LaunchParameters?
        do {
            launch = try LaunchParameters.fromEnvironment()
        } catch {
            throw MPIError(.wireup, "MPI.initialize(): \(error)")
        }
        // The secret has been read; children this rank starts must not inherit it.
        unsetenv(WireupEnvironment.secret)
        lineBufferStandardOutput()
        let settings = RuntimeSettings.fromEnvironment()
        let runtime: Runtime
        if let launch {
            let client: KeyValueClient
            do {
                client = try KeyValueClient(path: launch.keyValueSocket, secret: launch.secret, rank: launch.rank)
            } catch {
                throw MPIError(.wireup, "MPI.initialize(): rank \(launch.rank) could not join the job: \(error)")
            }
            runtime = try join(launch, exchange: client, settings: settings, threadLevel: threadLevel)
        } else if WireupEnvironment.value("PMI_FD") != nil {
            let (pmiLaunch, pmi) = try ResourceManager.joinPMI2()
            runtime = try joinOrAbort(pmiLaunch, exchange: pmi, settings: settings, threadLevel: threadLevel)
            // Programs this rank starts must not try to speak to this rank's PMI socket.
            for name in ["PMI_FD", "PMI_RANK", "PMI_SIZE", "PMI_JOBID", "PMI_SPAWNED"] { unsetenv(name) }
        } else if WireupEnvironment.value("PMIX_NAMESPACE") != nil {
            let (pmixLaunch, pmix) = try ResourceManager.joinPMIx()
            runtime = try joinOrAbort(pmixLaunch, exchange: pmix, settings: settings, threadLevel: threadLevel)
        } else if let reason = ResourceManager.unsupportedLaunch() {
            throw MPIError(.wireup, "MPI.initialize(): \(reason)")
        } else {
            let engine = Engine(
                rank: 0, routes: Routes(rank: 0, routes: [.own]),
                singleCopyAllowed: false, singleCopyThreshold: settings.singleCopyThreshold,
                yieldWhenIdle: settings.yieldWhenIdle(oversubscribed: false))
            runtime = Runtime(
                rank: 0, size: 1, threadLevel: threadLevel, keyValue: nil, engine: engine, debug: settings.debug, sharedCollectives: settings.sharedCollectives,
                checksCollectives: settings.checksCollectives)
        }
        current = runtime
        runtime.startTracing()
        runtime.updateCounting()
        RecoveryLink.start()
        if settings.debug && settings.recovery {
            report("rank \(runtime.rank): recovery mode; revokes and agreements \(RecoveryLink.coordinated ? "through the launcher" : "among the ranks")")
        }
        runtime.underResourceManager = runtime.keyValue != nil && launch == nil
        WaitReport.startAnswering(rank: runtime.rank, underManager: runtime.underResourceManager)
        return runtime
    }

    /// Wire-up under a resource manager: a rank that fails here ends the whole job through the
    /// manager, since the others would wait in a fence forever.
    private static func joinOrAbort(
        _ launch: LaunchParameters, exchange: any WireupExchange, settings: RuntimeSettings,
        threadLevel: ThreadLevel
    ) throws(MPIError) -> Runtime {
        do {
            return try join(launch, exchange: exchange, settings: settings, threadLevel: threadLevel)
        } catch {
            exchange.abort(code: 1, message: "\(error)")
            throw error
        }
    }

    /// Wire-up of a launched rank. Publish this rank's host and endpoints (pid and probe address go
    /// in its shared-memory segment); fence; choose each peer's route (same host: shared memory
    /// unless TCP is forced; other hosts: verbs on a common fabric, else TCP); attach to the peers'
    /// segments and probe Cross Memory Attach; connect verbs queue pairs (TCP connects on demand);
    /// fence again, and unlink the segment's name. docs/Design.md, "What wire-up exchanges".
    private static func join(
        _ launch: LaunchParameters, exchange client: any WireupExchange, settings: RuntimeSettings,
        threadLevel: ThreadLevel
    ) throws(MPIError) -> Runtime {
        let rank = launch.rank
        func wireup<R>(_ step: String, _ body: () throws -> R) throws(MPIError) -> R {
            do { return try body() } catch { throw MPIError(.wireup, "MPI.initialize(): rank \(rank) \(step): \(error)") }
        }
        guard ["auto", "shm", "tcp", "verbs"].contains(settings.transport) else {
            throw MPIError(.wireup, "MPI.initialize(): SWIFTMPI_TRANSPORT=\(settings.transport) is not a transport (auto, shm, tcp, verbs)")
        }
        let forceTCP = settings.transport == "tcp"
        let forceVerbs = settings.transport == "verbs"
        let multiHost = launch.hostCount > 1
        var verbs: VerbsTransport?
        var verbsUnavailable: String?
        if launch.size > 1 && (forceVerbs || (multiHost && settings.transport == "auto")) {
            do {
                verbs = try VerbsTransport(
                    rank: rank, size: launch.size, peerCandidates: Array(0..<launch.size),
                    device: settings.verbsDevice, port: settings.verbsPort, gidIndex: settings.verbsGIDIndex,
                    registrationCache: settings.verbsRegistrationCache)
            } catch {
                if forceVerbs {
                    throw MPIError(.wireup, "MPI.initialize(): SWIFTMPI_TRANSPORT=verbs, but rank \(rank) on \(launch.hostID) cannot use RDMA verbs: \(error)")
                }
                verbsUnavailable = "\(error)"
            }
        }
        var sharedMemory: SharedMemoryTransport?
        if launch.localSize > 1 && !forceTCP && !forceVerbs {
            sharedMemory = try wireup("could not create its shared-memory segment") {
                try SharedMemoryTransport(
                    jobID: launch.jobID, localRank: launch.localRank, localSize: launch.localSize,
                    sharedAreaBytes: SharedArea.byteCount, ringBudget: settings.sharedMemoryRingBudget)
            }
        }
        var tcp: TCPTransport?
        if launch.size > 1 && (forceTCP || multiHost) {
            tcp = try wireup("could not open its TCP listener") {
                let address = try InterfaceSelector.select(override: settings.tcpInterface, singleHost: !multiHost)
                return try TCPTransport(rank: rank, size: launch.size, address: address, secret: launch.secret)
            }
            // Recovery among the ranks (under srun) has no launcher watching the hosts: TCP finds
            // the peers whose host stopped answering itself (TCPTransport+Liveness.swift).
            if settings.recovery && !RecoveryLink.launcherCoordinates {
                tcp?.detectLostHosts(after: Heartbeat.timeout(WireupEnvironment.value(Heartbeat.variable)))
            }
        }
        var probeWord = UInt64(0x5357_4946_544D_5049) ^ UInt64(UInt32(bitPattern: getpid()))
        let probeAddress = withUnsafeMutablePointer(to: &probeWord) { UInt64(UInt(bitPattern: $0)) }
        sharedMemory?.publishProbeAddress(probeAddress)
        // Each rank puts its host and endpoints and reads only what it needs at once: the ranks of
        // its host (from the launcher's SWIFTMPI_LOCAL_RANKS, else from every rank's host) and, for
        // verbs, every peer's queue pairs. Process ids and the Cross Memory Attach probe are in the
        // shared-memory segments; TCP endpoints are read at a peer's first packet, hosts of other
        // ranks when asked (`hostMap`).
        let localRanks: [Int] = try wireup("could not exchange endpoints") {
            try client.put("host/\(rank)", Array("\(launch.localRank) \(launch.hostID)".utf8))
            if let tcp { try client.put("tcp/\(rank)", Array(tcp.endpoint.utf8)) }
            if let verbs { try client.put("verbs/\(rank)", verbs.address.encoded) }
            try client.fence()
            if let localRanks = launch.localRanks { return localRanks }
            var ranks = [Int](repeating: -1, count: launch.localSize)
            for peer in 0..<launch.size {
                guard let value = try client.get("host/\(peer)") else { throw WireupError.refused("rank \(peer) published no host") }
                let host = HostRecord(value)
                if host.name == launch.hostID, host.localRank >= 0, host.localRank < ranks.count { ranks[host.localRank] = peer }
            }
            return ranks
        }
        // Verbs between two ranks when both opened a port and the ports share a fabric (a rank that
        // could not publishes nothing, so both ends decide alike); forced verbs takes every peer.
        var verbsAddresses: [Int: VerbsTransport.Address] = [:]
        if let verbs {
            for peer in 0..<launch.size where peer != rank {
                let published = try wireup("could not read rank \(peer)'s verbs address") { try client.get("verbs/\(peer)") }
                if let published, let address = VerbsTransport.Address(decoding: published, size: launch.size),
                    verbs.portSummary.sharesFabric(with: address)
                {
                    verbsAddresses[peer] = address
                } else if forceVerbs {
                    throw MPIError(.wireup, "MPI.initialize(): SWIFTMPI_TRANSPORT=verbs, but rank \(peer) published no RDMA port on this rank's fabric")
                }
            }
        }
        var isLocal = [Bool](repeating: false, count: launch.size)
        for peer in localRanks where peer >= 0 { isLocal[peer] = true }
        let routes: [Routes.Route] = (0..<launch.size).map { peer in
            if peer == rank { return .own }
            if forceVerbs { return .verbs }
            if isLocal[peer] && sharedMemory != nil { return .sharedMemory }
            if verbsAddresses[peer] != nil { return .verbs }
            return .tcp
        }
        var singleCopyAllowed = false
        if let sharedMemory {
            try wireup("could not attach to its peers' shared memory") {
                try sharedMemory.attachPeers(worldRankOfLocal: localRanks, worldSize: launch.size)
            }
            sharedMemory.adoptPublishedPIDs()
            // Probe Cross Memory Attach once: read a word out of another local rank's memory.
            if settings.singleCopyEnabled, let peer = localRanks.first(where: { $0 != rank }),
                let probe = sharedMemory.probeAddress(ofPeer: peer)
            {
                var word: UInt64 = 0
                let result = withUnsafeMutableBytes(of: &word) {
                    sharedMemory.read(from: peer, remote: RemoteMemory(address: probe.address), into: $0, token: 0)
                }
                singleCopyAllowed = result == .completed && word == UInt64(0x5357_4946_544D_5049) ^ UInt64(UInt32(bitPattern: probe.pid))
            }
        }
        if let tcp {  // connected on demand: a peer's endpoint is read at the first packet to it
            tcp.endpointResolver = { peer in
                (try? client.get("tcp/\(peer)")).flatMap { $0 }.map { String(decoding: $0, as: UTF8.self) }
            }
        }
        if let transport = verbs {
            let verbsPeers = routes.indices.filter { routes[$0] == .verbs }
            try wireup("could not connect its verbs queue pairs") { try transport.connect(peers: verbsPeers, addresses: verbsAddresses) }
            if verbsPeers.isEmpty {
                verbs = nil
                verbsUnavailable = "no peer on a common RDMA fabric"
            }
        }
        try wireup("could not finish wire-up") { try client.fence() }
        sharedMemory?.unlinkHostSegments()
        withExtendedLifetime(probeWord) {}
        let engine = Engine(
            rank: rank, routes: Routes(rank: rank, routes: routes, sharedMemory: sharedMemory, tcp: tcp, verbs: verbs),
            singleCopyAllowed: singleCopyAllowed, singleCopyThreshold: settings.singleCopyThreshold,
            yieldWhenIdle: settings.yieldWhenIdle(oversubscribed: launch.oversubscribed))
        engine.sharedCopyAllowed = settings.sharedCopyEnabled
        engine.jobID = launch.jobID
        engine.hostIndex = localRanks.min() ?? rank  // lowest world rank on this host
        engine.ranksOnThisHost = localRanks
        if settings.debug {
            let described = engine.routes.capabilities.enumerated().map { peer, capabilities in "\(peer):\(capabilities.name)" }
                .joined(separator: " ")
            let verbsText = verbs.map { "verbs \($0.portSummary.summary)" } ?? "verbs unused\(verbsUnavailable.map { " (\($0))" } ?? "")"
            let sharedCopyText = settings.sharedCopyEnabled ? "from \(SharedCopy.threshold) B" : "never"
            let singleCopyText = singleCopyAllowed ? "from \(settings.singleCopyThreshold) B, shared by both ranks \(sharedCopyText)" : "off"
            report(
                "rank \(rank) on \(launch.hostID): routes \(described); shm eager limit \(sharedMemory?.capabilities.eagerLimit ?? 0) B, "
                    + "shm rings \(sharedMemory.map { "\($0.ringShape.slotCount) × \($0.ringShape.stride) B" } ?? "none") per sender, "
                    + "single copy \(singleCopyText), tcp \(tcp?.endpoint ?? "unused"), \(verbsText), "
                    + "waiting by \(engine.yieldWhenIdle ? "yielding" : "spinning")")
        }
        return Runtime(
            rank: rank, size: launch.size, threadLevel: threadLevel, keyValue: client, engine: engine, debug: settings.debug,
            sharedCollectives: settings.sharedCollectives, checksCollectives: settings.checksCollectives)
    }

    /// `MPI.finalize()`: leaves the world model; the runtime ends unless sessions are still open.
    static func stop() throws(MPIError) {
        lifecycle.lock()
        defer { lifecycle.unlock() }
        guard let runtime = current, runtime.worldModelActive else {
            throw MPIError(finalized ? .alreadyFinalized : .notInitialized, "MPI.finalize() without MPI.initialize()")
        }
        runtime.worldModelActive = false
        runtime.worldModelEnded = true
        if runtime.openSessions == 0 { try shutDown(runtime) }
    }

    /// A session's `finalize()`: with the last session, unless the world model is running, every
    /// rank meets and the runtime rests (``resting``) — a later `Session.initialize()` or
    /// `MPI.initialize()` finds it wired up — or ends, when `MPI.finalize()` has already been called.
    static func stopSession() throws(MPIError) {
        lifecycle.lock()
        defer { lifecycle.unlock() }
        guard let runtime = current, runtime.openSessions > 0 else {
            throw MPIError(.alreadyFinalized, "Session.finalize(): the session was already finalized")
        }
        runtime.openSessions -= 1
        guard runtime.openSessions == 0 && !runtime.worldModelActive else { return }
        if runtime.worldModelEnded {
            try shutDown(runtime)
            return
        }
        let meetingFailed = try meetAtEnd(runtime)
        if !restingExitRegistered {
            restingExitRegistered = true
            atexit { Runtime.finishResting() }
        }
        if let meetingFailed { throw meetingFailed }
    }

    nonisolated(unsafe) private static var restingExitRegistered = false

    /// Serializes starting and ending the world model and sessions: MPI lets several threads
    /// initialize and finalize sessions at once (MPI-4.1 §11.3), and a last session's finalize
    /// meets every rank while another thread may be starting a session. Held across that meeting;
    /// recursive.
    private static let lifecycle = EngineLock()

    /// At process exit, a runtime still resting tells the process manager that this rank finished
    /// (the ranks met when their last session ended; this is the part that cannot be undone).
    private static func finishResting() {
        guard let runtime = current, runtime.resting else { return }
        try? runtime.keyValue?.finalize()
        current = nil
        finalized = true
    }

    /// Ends the runtime: delivers what is queued, meets every rank at the launcher's final fence,
    /// and stops the engine. Nothing can start again afterwards.
    private static func shutDown(_ runtime: Runtime) throws(MPIError) {
        let meetingFailed = try meetAtEnd(runtime)  // thrown after the manager's finalize, which still comes
        if let client = runtime.keyValue {
            do {
                try client.finalize()
            } catch {
                throw MPIError(.wireup, "MPI.finalize(): rank \(runtime.rank): \(error)")
            }
        }
        runtime.asyncProgress?.stop()
        runtime.lock?.lock()
        runtime.isActive = false
        runtime.lock?.unlock()
        // Pooled requests refer to the runtime, which owns the engine and its pool: break the cycle.
        for index in 0..<Request.poolSize { runtime.engine.requestPool[index] = nil }
        current = nil
        finalized = true
        WaitReport.finished()
        if let meetingFailed { throw meetingFailed }
    }

    /// The collective part of the end: gathers the trace (tracing ends here: a runtime taken up
    /// again after resting is not traced), delivers what is queued, and meets every rank at the
    /// launcher's fence (in recovery mode under a resource manager, the survivors' agreement
    /// instead). Returns the agreement's failure, for the caller to throw once the manager has
    /// heard this rank's finalize.
    private static func meetAtEnd(_ runtime: Runtime) throws(MPIError) -> MPIError? {
        runtime.finishTracing()
        do {
            // Deliver what is still queued (buffered sends included) before the final barrier.
            // (A TCP frame the kernel took only in part must be finished too: its receiver waits
            // for the rest before it can reach the final fence.)
            try runtime.wait("MPI.finalize()") {
                $0.outboxCount == 0 && ($0.bufferedArea?.isIdle ?? true) && !$0.routes.hasPendingOutput
            }
        } catch let error as MPIError {
            throw error
        } catch {
            throw MPIError(.internalError, "MPI.finalize(): \(error)")
        }
        if runtime.debug, runtime.engine.routes.sharedArea(ofPeer: runtime.rank) != nil {  // shared copies are possible
            let engine = runtime.engine
            report(
                "rank \(runtime.rank): shared copies received \(engine.sharedCopyCounts.received) (chunks read \(engine.sharedCopyCounts.chunksRead)), "
                    + "chunks written for receivers \(engine.sharedCopyCounts.chunksWritten)"
            )
        }
        if runtime.debug {
            let counts = runtime.engine.typedCounts
            report(
                "rank \(runtime.rank): datatype messages read scattered \(counts.scatteredReads), packed fragments sent \(counts.packedFragments)")
        }
        if runtime.debug {
            for line in runtime.engine.routes.statistics { report("rank \(runtime.rank): \(line)") }
        }
        // In recovery mode under a resource manager the survivors meet among themselves: its fence
        // would wait for the failed ranks too, forever.
        let survivorsMeet = runtime.engine.recovery.enabled && runtime.underResourceManager
        var meetingFailed: MPIError?
        if survivorsMeet {
            do { try Communicator.finalAgreement(runtime) } catch { meetingFailed = error }  // returned: the manager's finalize still comes
        }
        if let client = runtime.keyValue, !survivorsMeet {
            // The final fence waits for every rank to finalize: a hang report says so, instead of
            // "not waiting in SwiftMPI" for a rank whose peers never get here.
            WaitReport.waiting(in: "MPI.finalize(), for every rank to call it", since: MPI.wtime())
            do {
                try client.fence()
            } catch {
                throw MPIError(.wireup, "MPI.finalize(): rank \(runtime.rank): \(error)")
            }
            WaitReport.resumed()
        }
        return meetingFailed
    }

    static func abort(code: Int32, message: String) -> Never {
        current?.abandonTracing()
        current?.keyValue?.abort(code: code, message: message)
        fflush(nil)
        _exit(code)
    }

    static func running(_ call: @autoclosure () -> String) throws -> Runtime {
        guard let runtime = current else {
            throw MPIError(finalized ? .alreadyFinalized : .notInitialized, "\(call()) needs MPI.initialize() first")
        }
        return runtime
    }
}

/// Writes one diagnostic line to stderr.
func report(_ line: String) {
    let bytes = Array("SwiftMPI: \(line)\n".utf8)
    _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress!, $0.count) }
}

/// A mutex for thread level `.multiple`, which counts the threads waiting for it so that a thread
/// waiting for a message hands it over only when another thread wants it (``hasWaiters``): alone,
/// a waiting thread polls as fast as below `.multiple`. Sendable because its only state is the
/// pthread mutex, which exists to be shared between threads (allocated once, never moved,
/// destroyed in deinit), and an atomic counter.
/// (`package`: the C interface guards its own state with one too.)
package final class EngineLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let waiting = Atomic<Int>(0)
    /// A recursive mutex, unlocked.
    package init() {
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_RECURSIVE))
        pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
    }
    deinit { pthread_mutex_destroy(mutex); mutex.deallocate() }
    /// Takes the mutex (again, if this thread holds it), counted among the waiters while blocked.
    @inline(__always) package func lock() {
        if pthread_mutex_trylock(mutex) == 0 { return }
        waiting.add(1, ordering: .relaxed)
        pthread_mutex_lock(mutex)
        waiting.subtract(1, ordering: .relaxed)
    }
    /// Releases one level of ``lock()``.
    @inline(__always) package func unlock() { pthread_mutex_unlock(mutex) }
    /// Another thread is blocked in ``lock()`` (a hint: it may have just given up or arrived).
    @inline(__always) var hasWaiters: Bool { waiting.load(ordering: .relaxed) != 0 }
}

/// The runtime's documented environment overrides (`swiftmpirun --info` lists them).
struct RuntimeSettings {
    var transport = "auto"
    var tcpInterface: String?
    var singleCopyEnabled = true
    var singleCopyThreshold = 32 * 1024
    /// `SWIFTMPI_SHARED_COPY=0`: the receiver copies every single-copy message alone (``SharedCopy``).
    var sharedCopyEnabled = true
    var waitMode = "auto"
    var debug = false
    var sharedCollectives = true
    var checksCollectives = false
    /// `SWIFTMPI_VERBS_DEVICE=name[:port]`: the RDMA device (default: the first with an active port).
    var verbsDevice: String?
    var verbsPort = 0
    /// `SWIFTMPI_VERBS_GID_INDEX`: the GID to use (default: chosen, RoCE v2 with an IPv4 address first).
    var verbsGIDIndex = -1
    /// `SWIFTMPI_VERBS_REGISTRATION_CACHE=0` registers and deregisters every rendezvous buffer.
    var verbsRegistrationCache = true
    /// `SWIFTMPI_RECOVERY=1` (`swiftmpirun --enable-recovery`): recovery mode (docs/Recovery.md).
    var recovery = false
    /// `SWIFTMPI_SHM_RING_BUDGET=BYTES`: the bytes of shared-memory rings each rank receives on
    /// (``SharedMemoryTransport/ringShape(localSize:budget:)``; default 4 MiB).
    var sharedMemoryRingBudget = SharedMemoryTransport.inboundRingBudget

    static func fromEnvironment() -> RuntimeSettings {
        var settings = RuntimeSettings()
        if let value = WireupEnvironment.value("SWIFTMPI_TRANSPORT"), !value.isEmpty { settings.transport = value }
        settings.tcpInterface = WireupEnvironment.value("SWIFTMPI_TCP_IF")
        if let value = WireupEnvironment.value("SWIFTMPI_SINGLE_COPY") { settings.singleCopyEnabled = value != "none" }
        if let value = WireupEnvironment.value("SWIFTMPI_SINGLE_COPY_THRESHOLD"), let bytes = Int(value), bytes >= 0 {
            settings.singleCopyThreshold = bytes
        }
        settings.sharedCopyEnabled = WireupEnvironment.value("SWIFTMPI_SHARED_COPY") != "0"
        settings.recovery = WireupEnvironment.value("SWIFTMPI_RECOVERY") == "1"
        if let value = WireupEnvironment.value("SWIFTMPI_SHM_RING_BUDGET"), let bytes = Int(value), bytes >= 0 {
            settings.sharedMemoryRingBudget = bytes
        }
        if let value = WireupEnvironment.value("SWIFTMPI_WAIT_MODE"), ["spin", "yield", "auto"].contains(value) {
            settings.waitMode = value
        }
        settings.debug = WireupEnvironment.value("SWIFTMPI_DEBUG") == "1"
        settings.sharedCollectives = WireupEnvironment.value("SWIFTMPI_SHM_COLLECTIVES") != "0"
        settings.checksCollectives = WireupEnvironment.value("SWIFTMPI_CHECK_COLLECTIVES") == "1"
        if let value = WireupEnvironment.value("SWIFTMPI_VERBS_DEVICE"), !value.isEmpty {
            let parts = value.split(separator: ":", maxSplits: 1)
            settings.verbsDevice = String(parts[0])
            if parts.count == 2, let port = Int(parts[1]), port > 0 { settings.verbsPort = port }
        }
        if let value = WireupEnvironment.value("SWIFTMPI_VERBS_GID_INDEX"), let index = Int(value), index >= 0 { settings.verbsGIDIndex = index }
        settings.verbsRegistrationCache = WireupEnvironment.value("SWIFTMPI_VERBS_REGISTRATION_CACHE") != "0"
        return settings
    }

    func yieldWhenIdle(oversubscribed: Bool) -> Bool {
        switch waitMode {
        case "spin": false
        case "yield": true
        default: oversubscribed
        }
    }
}
