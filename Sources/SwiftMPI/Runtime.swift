#if canImport(Glibc)
import Glibc
#endif
import SwiftMPITransport
import SwiftMPIWireup

/// The state of an initialized SwiftMPI process: its place in the job, its connection to the launcher,
/// and the point-to-point engine.
final class Runtime: @unchecked Sendable {
    /// The running runtime, between initialize and finalize. Written only by those two calls.
    nonisolated(unsafe) static var current: Runtime?
    nonisolated(unsafe) private static var finalized = false

    let rank: Int
    let size: Int
    let threadLevel: ThreadLevel
    let keyValue: KeyValueClient?
    let engine: Engine
    /// Serializes every call at thread level `.multiple`; nil (no cost) at the lower levels.
    private let lock: EngineLock?
    private(set) var isActive = true

    private init(rank: Int, size: Int, threadLevel: ThreadLevel, keyValue: KeyValueClient?, engine: Engine) {
        self.rank = rank
        self.size = size
        self.threadLevel = threadLevel
        self.keyValue = keyValue
        self.engine = engine
        self.lock = threadLevel == .multiple ? EngineLock() : nil
    }

    /// Runs `body` with exclusive use of the engine; throws if SwiftMPI is not running.
    @inline(__always) @discardableResult
    func withEngine<R>(_ call: StaticString, _ body: (Engine) throws -> R) throws -> R {
        lock?.lock()
        defer { lock?.unlock() }
        guard isActive else { throw MPIError(.alreadyFinalized, "\(call) after MPI.finalize()") }
        return try body(engine)
    }

    /// Progresses until `done(engine)` holds. At `.multiple` the lock is released between rounds, so
    /// other threads' calls interleave with this wait.
    func wait(_ call: StaticString, until done: (Engine) -> Bool) throws {
        guard let lock else {
            guard isActive else { throw MPIError(.alreadyFinalized, "\(call) after MPI.finalize()") }
            return try engine.wait("\(call)", until: { done(engine) })
        }
        while true {
            lock.lock()
            let finished = done(engine) || { engine.progress(); return done(engine) }()
            lock.unlock()
            if finished { return }
            sched_yield()
        }
    }

    // MARK: - Start and stop

    static func start(threadLevel: ThreadLevel) throws(MPIError) -> Communicator {
        guard current == nil else { throw MPIError(.alreadyInitialized, "MPI.initialize() called twice") }
        guard !finalized else { throw MPIError(.alreadyFinalized, "MPI.initialize() called after MPI.finalize()") }
        let launch: LaunchParameters?
        do {
            launch = try LaunchParameters.fromEnvironment()
        } catch {
            throw MPIError(.wireup, "MPI.initialize(): \(error)")
        }
        // The secret has been read; children this rank starts must not inherit it.
        unsetenv(WireupEnvironment.secret)
        let settings = RuntimeSettings.fromEnvironment()
        let runtime: Runtime
        if let launch {
            runtime = try join(launch, settings: settings, threadLevel: threadLevel)
        } else {
            let engine = Engine(rank: 0, size: 1, routes: [.loopback], sharedMemory: nil, peerPIDs: [getpid()],
                                singleCopyAllowed: false, singleCopyThreshold: settings.singleCopyThreshold,
                                yieldWhenIdle: settings.yieldWhenIdle(oversubscribed: false))
            runtime = Runtime(rank: 0, size: 1, threadLevel: threadLevel, keyValue: nil, engine: engine)
        }
        current = runtime
        return Communicator(runtime: runtime, context: 0, rank: runtime.rank, size: runtime.size)
    }

    /// Wire-up of a launched rank: publish this rank's pid and shared-memory segment, fence, attach to
    /// every peer's segment, probe Cross Memory Attach, fence again, and unlink the segment's name.
    private static func join(_ launch: LaunchParameters, settings: RuntimeSettings, threadLevel: ThreadLevel) throws(MPIError) -> Runtime {
        let rank = launch.rank
        func wireup<R>(_ step: String, _ body: () throws -> R) throws(MPIError) -> R {
            do { return try body() } catch { throw MPIError(.wireup, "MPI.initialize(): rank \(rank) \(step): \(error)") }
        }
        let client = try wireup("could not join the job") {
            try KeyValueClient(path: launch.keyValueSocket, secret: launch.secret, rank: rank)
        }
        var sharedMemory: SharedMemoryTransport?
        if launch.size > 1 {
            sharedMemory = try wireup("could not create its shared-memory segment") {
                try SharedMemoryTransport(jobID: launch.jobID, localRank: launch.localRank, localSize: launch.localSize)
            }
        }
        var probeWord = UInt64(0x5357_4946_544D_5049) ^ UInt64(UInt32(bitPattern: getpid()))
        let probeAddress = withUnsafeMutablePointer(to: &probeWord) { UInt64(UInt(bitPattern: $0)) }
        let peerPIDs: [Int32] = try wireup("could not exchange endpoints") {
            try client.put("pid/\(rank)", encode(UInt64(UInt32(bitPattern: getpid()))))
            try client.put("probe/\(rank)", encode(probeAddress))
            try client.fence()
            return try (0..<launch.size).map { peer in
                guard let value = try client.get("pid/\(peer)") else { throw WireupError.refused("rank \(peer) published no pid") }
                return Int32(truncatingIfNeeded: decode(value))
            }
        }
        var singleCopyAllowed = false
        if let sharedMemory {
            try wireup("could not attach to its peers' shared memory") { try sharedMemory.attachPeers() }
            // Probe Cross Memory Attach once: read the next rank's probe word out of its memory.
            let peer = (rank + 1) % launch.size
            if settings.singleCopyEnabled, let value = try? client.get("probe/\(peer)") {
                var word: UInt64 = 0
                let error = withUnsafeMutableBytes(of: &word) {
                    sharedMemory.readPeerMemory(pid: peerPIDs[peer], address: decode(value), into: $0)
                }
                singleCopyAllowed = error == 0 && word == UInt64(0x5357_4946_544D_5049) ^ UInt64(UInt32(bitPattern: peerPIDs[peer]))
            }
            try wireup("could not finish wire-up") { try client.fence() }
            sharedMemory.unlinkOwnSegment()
        }
        withExtendedLifetime(probeWord) {}
        let routes: [Engine.Route] = (0..<launch.size).map { $0 == rank ? .loopback : .sharedMemory(localRank: $0) }
        let engine = Engine(rank: rank, size: launch.size, routes: routes, sharedMemory: sharedMemory, peerPIDs: peerPIDs,
                            singleCopyAllowed: singleCopyAllowed, singleCopyThreshold: settings.singleCopyThreshold,
                            yieldWhenIdle: settings.yieldWhenIdle(oversubscribed: launch.oversubscribed))
        if settings.debug {
            report("rank \(rank): \(launch.size) ranks over shared memory, eager limit \(engine.eagerLimit) B, single copy \(singleCopyAllowed ? "from \(settings.singleCopyThreshold) B" : "off"), waiting by \(engine.yieldWhenIdle ? "yielding" : "spinning")")
        }
        return Runtime(rank: rank, size: launch.size, threadLevel: threadLevel, keyValue: client, engine: engine)
    }

    static func stop() throws(MPIError) {
        guard let runtime = current else {
            throw MPIError(finalized ? .alreadyFinalized : .notInitialized, "MPI.finalize() without MPI.initialize()")
        }
        do {
            // Deliver what is still queued (buffered sends included) before the final barrier.
            try runtime.wait("MPI.finalize()") { $0.outboxCount == 0 && ($0.bufferedArea?.isIdle ?? true) }
        } catch let error as MPIError {
            throw error
        } catch {
            throw MPIError(.internalError, "MPI.finalize(): \(error)")
        }
        if let client = runtime.keyValue {
            do {
                try client.fence()
                try client.finalize()
            } catch {
                throw MPIError(.wireup, "MPI.finalize(): rank \(runtime.rank): \(error)")
            }
        }
        runtime.isActive = false
        current = nil
        finalized = true
    }

    static func abort(code: Int32, message: String) -> Never {
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

private func encode(_ value: UInt64) -> [UInt8] { withUnsafeBytes(of: value.littleEndian) { Array($0) } }

private func decode(_ bytes: [UInt8]) -> UInt64 {
    var value: UInt64 = 0
    for (index, byte) in bytes.prefix(8).enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
    return value
}

/// Writes one diagnostic line to stderr.
func report(_ line: String) {
    let bytes = Array("SwiftMPI: \(line)\n".utf8)
    _ = bytes.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress!, $0.count) }
}

/// A mutex for thread level `.multiple`.
final class EngineLock: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    init() { pthread_mutex_init(mutex, nil) }
    deinit { pthread_mutex_destroy(mutex); mutex.deallocate() }
    @inline(__always) func lock() { pthread_mutex_lock(mutex) }
    @inline(__always) func unlock() { pthread_mutex_unlock(mutex) }
}

/// The runtime's documented environment overrides (`swiftmpirun --info` lists them).
struct RuntimeSettings {
    var singleCopyEnabled = true
    var singleCopyThreshold = 256 * 1024
    var waitMode = "auto"
    var debug = false

    static func fromEnvironment() -> RuntimeSettings {
        var settings = RuntimeSettings()
        if let value = WireupEnvironment.value("SWIFTMPI_SINGLE_COPY") { settings.singleCopyEnabled = value != "none" }
        if let value = WireupEnvironment.value("SWIFTMPI_SINGLE_COPY_THRESHOLD"), let bytes = Int(value), bytes >= 0 {
            settings.singleCopyThreshold = bytes
        }
        if let value = WireupEnvironment.value("SWIFTMPI_WAIT_MODE"), ["spin", "yield", "auto"].contains(value) {
            settings.waitMode = value
        }
        settings.debug = WireupEnvironment.value("SWIFTMPI_DEBUG") == "1"
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
