#if canImport(Glibc)
import Glibc
#endif
import SwiftMPITransport
import SwiftMPIWireup

/// Two endpoints of one transport that reach each other, as the conformance checks use them.
public final class TransportPair {
    public let a: any Transport
    public let b: any Transport
    public let rankA: Int
    public let rankB: Int
    /// Makes `b` go away (its process, its connection); nil when the transport cannot lose a peer.
    private var breaker: (() throws -> Void)?
    /// Why ``breakLink()`` is impossible here.
    public let cannotBreakReason: String
    /// What must stay alive as long as the pair (the other end's owner, a helper process).
    private var keepAlive: [AnyObject]

    public init(
        a: any Transport, b: any Transport, rankA: Int, rankB: Int, keepAlive: [AnyObject] = [],
        breaker: (() throws -> Void)?, cannotBreakReason: String = ""
    ) {
        self.a = a
        self.b = b
        self.rankA = rankA
        self.rankB = rankB
        self.breaker = breaker
        self.cannotBreakReason = cannotBreakReason
        self.keepAlive = keepAlive
    }

    /// True when ``breakLink()`` can make `b` go away.
    public var canBreak: Bool { breaker != nil }

    /// Makes `b` go away.
    public func breakLink() throws {
        try breaker?()
        breaker = nil
    }

    /// Sends one packet, polling both ends while the route pushes back (at most 30 s).
    func send(
        from: any Transport, to peer: Int, kind: PacketKind, header: PacketHeader, payload: [UInt8],
        draining receiver: any Transport, into sink: PacketCollector
    ) throws {
        let deadline = monotonicSeconds() + 30
        while !payload.withUnsafeBytes({ from.trySend(to: peer, kind: kind, header: header, payload: $0) }) {
            _ = receiver.poll(into: sink)
            _ = from.poll(into: PacketCollector())
            guard monotonicSeconds() < deadline else { throw ConformanceFailure("trySend to rank \(peer) refused for 30 s while the receiver polled") }
        }
    }

    /// Polls `receiver` (and the other end, which may need progress to push data) until `done`, at most 30 s.
    func drain(_ receiver: any Transport, into sink: PacketCollector, until done: () -> Bool) throws {
        let deadline = monotonicSeconds() + 30
        let other = receiver === a ? b : a
        while !done() {
            _ = receiver.poll(into: sink)
            if other !== receiver { _ = other.poll(into: PacketCollector()) }
            guard monotonicSeconds() < deadline else { throw ConformanceFailure("packets still missing after 30 s (\(sink.packets.count) arrived)") }
        }
    }

    /// Polls until `transport` reports `event`, at most 30 s.
    func awaitEvent(on transport: any Transport, _ event: TransportEvent, drainingAlso other: any Transport) throws {
        let deadline = monotonicSeconds() + 30
        while true {
            _ = transport.poll(into: PacketCollector())
            _ = other.poll(into: PacketCollector())
            if transport.hasEvents && transport.takeEvents().contains(event) { return }
            guard monotonicSeconds() < deadline else { throw ConformanceFailure("no \(event) within 30 s") }
        }
    }
}

/// How each transport's pairs are made (the conformance runner's table).
public enum TransportPairs {
    /// The transports the runner knows.
    public static let names = ["self", "loopback", "shm", "tcp", "verbs"]
    /// The ones that run in one process on any machine (the test suite runs these; verbs needs an
    /// RDMA device and runs in the Soft-RoCE VM).
    public static let inProcessNames = ["self", "loopback", "shm", "tcp"]

    /// A fresh pair of `transport`; `failing` pairs are set up so that ``TransportPair/breakLink()``
    /// can make the second end go away.
    public static func make(_ transport: String, failing: Bool) throws -> TransportPair {
        switch transport {
        case "self":
            let own = SelfTransport(rank: 0)
            return TransportPair(a: own, b: own, rankA: 0, rankB: 0, breaker: nil, cannotBreakReason: "a rank cannot lose its route to itself")
        case "loopback":
            let fabric = LoopbackFabric(size: 2, maxPayload: 16 * 1024, queueCapacity: 64)
            return TransportPair(a: fabric.endpoint(0), b: fabric.endpoint(1), rankA: 0, rankB: 1, breaker: { fabric.disconnect(1) })
        case "shm":
            return try sharedMemoryPair(failing: failing)
        case "tcp":
            return try tcpPair(failing: failing)
        case "verbs":
            return try verbsPair()
        default:
            throw ConformanceFailure("unknown transport \(transport); known: \(names.joined(separator: ", "))")
        }
    }

    private static func sharedMemoryPair(failing: Bool) throws -> TransportPair {
        let job = "conf\(getpid())x\(UInt32.random(in: 0...UInt32.max))"
        let zero = try SharedMemoryTransport(jobID: job, localRank: 0, localSize: 2)
        let one = try SharedMemoryTransport(jobID: job, localRank: 1, localSize: 2)
        // Both ends live in this process; for the failure check the second end claims the pid of a
        // helper process, which breakLink ends.
        var helper: pid_t = 0
        if failing {
            var attributes: posix_spawnattr_t = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            let words: [String] = ["/bin/sleep", "60"]
            let arguments: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
            defer { arguments.forEach { free($0) } }
            let error = posix_spawn(&helper, "/bin/sleep", nil, &attributes, arguments, environ)
            guard error == 0 else { throw ConformanceFailure("cannot start a helper process: errno \(error)") }
        }
        let pids: [Int32] = [getpid(), failing ? helper : getpid()]
        try zero.attachPeers(worldRankOfLocal: [0, 1], worldSize: 2, pids: pids)
        try one.attachPeers(worldRankOfLocal: [0, 1], worldSize: 2, pids: pids)
        zero.unlinkOwnSegment()
        one.unlinkOwnSegment()
        let breaker: (() throws -> Void)? =
            failing
            ? {
                kill(helper, SIGKILL)
                var status: Int32 = 0
                waitpid(helper, &status, 0)
            } : nil
        return TransportPair(a: zero, b: one, rankA: 0, rankB: 1, breaker: breaker)
    }

    private static func tcpPair(failing: Bool) throws -> TransportPair {
        let secret = try JobSecret.generate()
        let zero = try TCPTransport(rank: 0, size: 2, address: "127.0.0.1", secret: secret)
        var one: TCPTransport? = try TCPTransport(rank: 1, size: 2, address: "127.0.0.1", secret: secret)
        // Rank 0 accepts on a thread while rank 1 connects.
        let acceptor = Acceptor(zero)
        try acceptor.start()
        try one!.connect(peers: [0], endpoints: [0: zero.endpoint], timeout: 10)
        try acceptor.join()
        guard failing else { return TransportPair(a: zero, b: one!, rankA: 0, rankB: 1, breaker: nil) }
        // For the failure check the pair must not hold rank 1's end, so that dropping it closes its
        // sockets; that check uses only `a` (`b` is `a` again here).
        let holder = Holder(one!)
        one = nil
        return TransportPair(a: zero, b: zero, rankA: 0, rankB: 1, keepAlive: [holder], breaker: { holder.value = nil })
    }

    private static func verbsPair() throws -> TransportPair {
        let zero = try VerbsTransport(rank: 0, size: 2, peerCandidates: [1], device: nil, port: 0, gidIndex: -1, registrationCache: true)
        let one = try VerbsTransport(rank: 1, size: 2, peerCandidates: [0], device: nil, port: 0, gidIndex: -1, registrationCache: true)
        try zero.connect(peers: [1], addresses: [1: one.address])
        try one.connect(peers: [0], addresses: [0: zero.address])
        // Not breakable here: with rank 1's queue pair destroyed in the same process, rank 0's posted
        // sends got no error completion within 30 s on rxe (measured 2026-12-02; the retry timeout
        // set is ~0.5 s), so this check cannot pass yet. A verbs peer that dies is reported in jobs
        // by the launcher (process exit) and by failed operations (verbs-checks.sh link-down);
        // docs/Design.md records the gap.
        return TransportPair(
            a: zero, b: one, rankA: 0, rankB: 1, breaker: nil,
            cannotBreakReason:
                "a verbs peer that vanishes silently is not yet reported by the transport itself (no error completion within 30 s on rxe; docs/Design.md, "
                + "verbs)"
        )
    }
}

/// A reference that the failure check can drop.
private final class Holder {
    var value: (any Transport)?
    init(_ value: any Transport) { self.value = value }
}

/// Runs rank 0's side of the TCP connection set-up on its own thread.
private final class Acceptor: @unchecked Sendable {
    // @unchecked: `transport` is used only by the thread between start() and join(), `outcome`
    // only under `lock`.
    private let transport: TCPTransport
    private var thread = pthread_t()
    private var outcome: String?

    init(_ transport: TCPTransport) { self.transport = transport }

    func start() throws {
        let context = Unmanaged.passRetained(self).toOpaque()
        let error = pthread_create(
            &thread, nil,
            { context in
                let acceptor = Unmanaged<Acceptor>.fromOpaque(context!).takeRetainedValue()
                do { try acceptor.transport.connect(peers: [1], endpoints: [:], timeout: 10) } catch { acceptor.outcome = "\(error)" }
                return nil
            }, context)
        guard error == 0 else { throw ConformanceFailure("pthread_create: errno \(error)") }
    }

    func join() throws {
        pthread_join(thread, nil)
        if let outcome { throw ConformanceFailure("rank 0 could not accept: \(outcome)") }
    }
}
