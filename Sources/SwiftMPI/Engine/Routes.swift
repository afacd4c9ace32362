#if canImport(Glibc)
import Glibc
#endif
import SwiftMPITransport

/// The transports of this process and the route to each peer — decided once, at wire-up — with the
/// one switch over concrete transports in the engine.
///
/// Every conformer is reached through a closed enum of routes rather than an `any Transport`: each
/// call below is a direct, specialized call (the small-message path stays free of existentials, of
/// witness-table calls and of reference counting), and `poll` hands the engine to each transport's
/// generic `poll(into:)`, specialized for it. Adding a transport adds a case, a stored property, an
/// initializer parameter, one line to each switch, and the transport to each list of transports
/// below (`poll`, `hasEvents`, `takeEvents`, `checkPeers`, `hasPendingOutput`, `statistics`, and
/// `waitForInput` if it can sleep) — docs/Design.md, "How to add a transport".
struct Routes {
    /// How packets reach one peer.
    enum Route: UInt8 {
        /// The rank itself (``SelfTransport``).
        case own
        /// A rank on this host (``SharedMemoryTransport``).
        case sharedMemory
        /// A rank reached over TCP (another host, or TCP forced).
        case tcp
        /// A rank reached with RDMA verbs (another host on a common fabric, or verbs forced).
        case verbs
        /// A rank in this process (``LoopbackTransport``: tests and in-process jobs).
        case loopback
    }

    /// The route to each peer, by world rank.
    let routes: [Route]
    let own: SelfTransport
    let sharedMemory: SharedMemoryTransport?
    let tcp: TCPTransport?
    let verbs: VerbsTransport?
    let loopback: LoopbackTransport?
    /// `sharedMemory` again, for polling it without a retain and a release per poll (the strong
    /// reference above keeps it alive as long as these routes).
    private let sharedMemoryUnmanaged: Unmanaged<SharedMemoryTransport>?
    /// Each peer's transport's capabilities (what the engine derives protocol thresholds from).
    let capabilities: [TransportCapabilities]

    /// Whether `peer`'s memory can be mapped into this process: the rank itself, or a rank reached
    /// through shared memory (what a window's direct loads and stores need).
    func mapsMemory(of peer: Int) -> Bool {
        routes[peer] == .own || routes[peer] == .sharedMemory
    }

    /// Routes for `rank`: `routes[p]` must name a transport that is given (checked here, once).
    init(
        rank: Int, routes: [Route], sharedMemory: SharedMemoryTransport? = nil, tcp: TCPTransport? = nil,
        verbs: VerbsTransport? = nil, loopback: LoopbackTransport? = nil
    ) {
        self.routes = routes
        self.own = SelfTransport(rank: rank)
        self.sharedMemory = sharedMemory
        self.sharedMemoryUnmanaged = sharedMemory.map { .passUnretained($0) }
        self.tcp = tcp
        self.verbs = verbs
        self.loopback = loopback
        precondition(rank >= 0 && rank < routes.count && routes[rank] == .own, "the route of rank \(rank) to itself must be .own")
        let own = self.own
        capabilities = routes.enumerated().map { peer, route in
            switch route {
            case .own:
                precondition(peer == rank, "route .own given for rank \(peer), not for this rank \(rank)")
                return own.capabilities
            case .sharedMemory:
                guard let sharedMemory else { preconditionFailure("route to rank \(peer) is shared memory, but there is no shared-memory transport") }
                return sharedMemory.capabilities
            case .tcp:
                guard let tcp else { preconditionFailure("route to rank \(peer) is TCP, but there is no TCP transport") }
                return tcp.capabilities
            case .verbs:
                guard let verbs else { preconditionFailure("route to rank \(peer) is verbs, but there is no verbs transport") }
                return verbs.capabilities
            case .loopback:
                guard let loopback else { preconditionFailure("route to rank \(peer) is loopback, but there is no loopback transport") }
                return loopback.capabilities
            }
        }
    }

    /// The number of peers (the world's size).
    var count: Int { routes.count }

    /// ``Transport/trySend(to:kind:header:payload:)`` on `peer`'s route.
    @inline(__always)
    func trySend(to peer: Int, kind: WireKind, header: MatchHeader, payload: UnsafeRawBufferPointer) -> Bool {
        switch routes[peer] {
        case .sharedMemory: sharedMemory.unsafelyUnwrapped.trySend(to: peer, kind: kind.rawValue, header: header.packet, payload: payload)
        case .own: own.trySend(to: peer, kind: kind.rawValue, header: header.packet, payload: payload)
        case .tcp: tcp.unsafelyUnwrapped.trySend(to: peer, kind: kind.rawValue, header: header.packet, payload: payload)
        case .verbs: verbs.unsafelyUnwrapped.trySend(to: peer, kind: kind.rawValue, header: header.packet, payload: payload)
        case .loopback: loopback.unsafelyUnwrapped.trySend(to: peer, kind: kind.rawValue, header: header.packet, payload: payload)
        }
    }

    /// ``Transport/trySend(to:kind:header:payload:trailer:)`` on `peer`'s route.
    func trySend(to peer: Int, kind: WireKind, header: MatchHeader, payload: UnsafeRawBufferPointer, trailer: UnsafeRawBufferPointer) -> Bool {
        switch routes[peer] {
        case .sharedMemory: sharedMemory.unsafelyUnwrapped.trySend(to: peer, kind: kind.rawValue, header: header.packet, payload: payload, trailer: trailer)
        case .own: own.trySend(to: peer, kind: kind.rawValue, header: header.packet, payload: payload, trailer: trailer)
        case .tcp: tcp.unsafelyUnwrapped.trySend(to: peer, kind: kind.rawValue, header: header.packet, payload: payload, trailer: trailer)
        case .verbs: verbs.unsafelyUnwrapped.trySend(to: peer, kind: kind.rawValue, header: header.packet, payload: payload, trailer: trailer)
        case .loopback: loopback.unsafelyUnwrapped.trySend(to: peer, kind: kind.rawValue, header: header.packet, payload: payload, trailer: trailer)
        }
    }

    /// ``Transport/trySendKeepingPayload(to:kind:header:payload:streaming:)`` on `peer`'s route.
    func trySendKeepingPayload(to peer: Int, kind: WireKind, header: MatchHeader, payload: UnsafeRawBufferPointer, streaming: Bool) -> Bool {
        switch routes[peer] {
        case .sharedMemory:
            sharedMemory.unsafelyUnwrapped.trySendKeepingPayload(to: peer, kind: kind.rawValue, header: header.packet, payload: payload, streaming: streaming)
        case .own: own.trySendKeepingPayload(to: peer, kind: kind.rawValue, header: header.packet, payload: payload, streaming: streaming)
        case .tcp: tcp.unsafelyUnwrapped.trySendKeepingPayload(to: peer, kind: kind.rawValue, header: header.packet, payload: payload, streaming: streaming)
        case .verbs: verbs.unsafelyUnwrapped.trySendKeepingPayload(to: peer, kind: kind.rawValue, header: header.packet, payload: payload, streaming: streaming)
        case .loopback:
            loopback.unsafelyUnwrapped.trySendKeepingPayload(to: peer, kind: kind.rawValue, header: header.packet, payload: payload, streaming: streaming)
        }
    }

    /// ``Transport/isSendingCallerMemory(to:)`` on `peer`'s route.
    func isSendingCallerMemory(to peer: Int) -> Bool {
        switch routes[peer] {
        case .sharedMemory: sharedMemory.unsafelyUnwrapped.isSendingCallerMemory(to: peer)
        case .own: own.isSendingCallerMemory(to: peer)
        case .tcp: tcp.unsafelyUnwrapped.isSendingCallerMemory(to: peer)
        case .verbs: verbs.unsafelyUnwrapped.isSendingCallerMemory(to: peer)
        case .loopback: loopback.unsafelyUnwrapped.isSendingCallerMemory(to: peer)
        }
    }

    /// ``Transport/expose(_:)`` for reads by `peer`.
    func expose(_ bytes: UnsafeRawBufferPointer, to peer: Int) -> ExposedMemory? {
        switch routes[peer] {
        case .sharedMemory: sharedMemory.unsafelyUnwrapped.expose(bytes)
        case .own: own.expose(bytes)
        case .tcp: tcp.unsafelyUnwrapped.expose(bytes)
        case .verbs: verbs.unsafelyUnwrapped.expose(bytes)
        case .loopback: loopback.unsafelyUnwrapped.expose(bytes)
        }
    }

    /// ``Transport/conceal(_:)`` of an exposure made for `peer`.
    func conceal(_ memory: ExposedMemory, from peer: Int) {
        switch routes[peer] {
        case .sharedMemory: sharedMemory.unsafelyUnwrapped.conceal(memory)
        case .own: own.conceal(memory)
        case .tcp: tcp.unsafelyUnwrapped.conceal(memory)
        case .verbs: verbs.unsafelyUnwrapped.conceal(memory)
        case .loopback: loopback.unsafelyUnwrapped.conceal(memory)
        }
    }

    /// ``Transport/exposeLasting(_:)`` on `peer`'s route (one exposure serves every peer of that transport).
    func exposeLasting(_ bytes: UnsafeMutableRawBufferPointer, to peer: Int) -> ExposedMemory? {
        switch routes[peer] {
        case .sharedMemory: sharedMemory.unsafelyUnwrapped.exposeLasting(bytes)
        case .own: own.exposeLasting(bytes)
        case .tcp: tcp.unsafelyUnwrapped.exposeLasting(bytes)
        case .verbs: verbs.unsafelyUnwrapped.exposeLasting(bytes)
        case .loopback: loopback.unsafelyUnwrapped.exposeLasting(bytes)
        }
    }

    /// ``Transport/endLastingExposure(_:)`` of an exposure made for `peer`.
    func endLastingExposure(_ memory: ExposedMemory, from peer: Int) {
        switch routes[peer] {
        case .sharedMemory: sharedMemory.unsafelyUnwrapped.endLastingExposure(memory)
        case .own: own.endLastingExposure(memory)
        case .tcp: tcp.unsafelyUnwrapped.endLastingExposure(memory)
        case .verbs: verbs.unsafelyUnwrapped.endLastingExposure(memory)
        case .loopback: loopback.unsafelyUnwrapped.endLastingExposure(memory)
        }
    }

    /// ``Transport/read(from:remote:into:token:)`` on `peer`'s route.
    func read(from peer: Int, remote: RemoteMemory, into local: UnsafeMutableRawBufferPointer, token: UInt32) -> BulkResult {
        switch routes[peer] {
        case .sharedMemory: sharedMemory.unsafelyUnwrapped.read(from: peer, remote: remote, into: local, token: token)
        case .own: own.read(from: peer, remote: remote, into: local, token: token)
        case .tcp: tcp.unsafelyUnwrapped.read(from: peer, remote: remote, into: local, token: token)
        case .verbs: verbs.unsafelyUnwrapped.read(from: peer, remote: remote, into: local, token: token)
        case .loopback: loopback.unsafelyUnwrapped.read(from: peer, remote: remote, into: local, token: token)
        }
    }

    /// ``Transport/readSegments(from:remote:key:into:token:)`` on `peer`'s route.
    func readSegments(
        from peer: Int, remote: UnsafeMutableBufferPointer<MemorySegment>, key: UInt32, into local: UnsafeMutableBufferPointer<MemorySegment>,
        token: UInt32
    ) -> BulkResult {
        switch routes[peer] {
        case .sharedMemory: sharedMemory.unsafelyUnwrapped.readSegments(from: peer, remote: remote, key: key, into: local, token: token)
        case .own: own.readSegments(from: peer, remote: remote, key: key, into: local, token: token)
        case .tcp: tcp.unsafelyUnwrapped.readSegments(from: peer, remote: remote, key: key, into: local, token: token)
        case .verbs: verbs.unsafelyUnwrapped.readSegments(from: peer, remote: remote, key: key, into: local, token: token)
        case .loopback: loopback.unsafelyUnwrapped.readSegments(from: peer, remote: remote, key: key, into: local, token: token)
        }
    }

    /// ``Transport/writeSegments(to:remote:from:)`` on `peer`'s route.
    func writeSegments(
        to peer: Int, remote: UnsafeMutableBufferPointer<MemorySegment>, from local: UnsafeMutableBufferPointer<MemorySegment>
    ) -> BulkResult {
        switch routes[peer] {
        case .sharedMemory: sharedMemory.unsafelyUnwrapped.writeSegments(to: peer, remote: remote, from: local)
        case .own: own.writeSegments(to: peer, remote: remote, from: local)
        case .tcp: tcp.unsafelyUnwrapped.writeSegments(to: peer, remote: remote, from: local)
        case .verbs: verbs.unsafelyUnwrapped.writeSegments(to: peer, remote: remote, from: local)
        case .loopback: loopback.unsafelyUnwrapped.writeSegments(to: peer, remote: remote, from: local)
        }
    }

    /// ``Transport/write(to:remote:from:token:)`` on `peer`'s route.
    func write(to peer: Int, remote: RemoteMemory, from local: UnsafeRawBufferPointer, token: UInt32) -> BulkResult {
        switch routes[peer] {
        case .sharedMemory: sharedMemory.unsafelyUnwrapped.write(to: peer, remote: remote, from: local, token: token)
        case .own: own.write(to: peer, remote: remote, from: local, token: token)
        case .tcp: tcp.unsafelyUnwrapped.write(to: peer, remote: remote, from: local, token: token)
        case .verbs: verbs.unsafelyUnwrapped.write(to: peer, remote: remote, from: local, token: token)
        case .loopback: loopback.unsafelyUnwrapped.write(to: peer, remote: remote, from: local, token: token)
        }
    }

    /// Polls every transport of this process into `sink`; returns the packets delivered. (Plain
    /// `if let`s: a nil check with `unsafelyUnwrapped` instead measured 0.03 µs slower on 32–64 B
    /// shared-memory latency, 2026-12-02. The shared-memory transport, polled most, is borrowed
    /// through `sharedMemoryUnmanaged`: an `if let` of the strong reference retained and released
    /// it around every poll, ~2 of the ~11 reference-count operations per 8-byte message measured
    /// in `osu_mbw_mr`, 2026-12-05.)
    @inline(__always)
    func poll<Sink: PacketSink>(into sink: Sink) -> Int {
        var delivered = own.poll(into: sink)
        if let sharedMemoryUnmanaged { delivered += sharedMemoryUnmanaged._withUnsafeGuaranteedRef { $0.poll(into: sink) } }
        if let verbs { delivered += verbs.poll(into: sink) }
        if let tcp { delivered += tcp.poll(into: sink) }
        if let loopback { delivered += loopback.poll(into: sink) }
        return delivered
    }

    /// True when some transport has events to take.
    @inline(__always)
    var hasEvents: Bool {
        (verbs?.hasEvents ?? false) || (tcp?.hasEvents ?? false) || (loopback?.hasEvents ?? false) || (sharedMemory?.hasEvents ?? false)
    }

    /// Every transport's events, with the peer they came from where they name none.
    func takeEvents() -> [TransportEvent] {
        (sharedMemory?.takeEvents() ?? []) + (verbs?.takeEvents() ?? []) + (tcp?.takeEvents() ?? []) + (loopback?.takeEvents() ?? [])
    }

    /// A receive waits for `peer` (a world rank, or -1 for any): where its route connects on demand
    /// (TCP), the connection is started now unless it exists or is being made, so that it is ready
    /// sooner and a peer that died before sending is noticed. (One load and branch when there is no
    /// TCP transport.)
    @inline(__always)
    func expectPackets(from peer: Int) {
        if tcp != nil && peer >= 0 && routes[peer] == .tcp { tcp.unsafelyUnwrapped.reachOut(to: peer) }
    }

    /// ``Transport/abandon(peer:reason:)`` on `peer`'s route: the engine holds it failed on word
    /// from outside that transport.
    func abandon(peer: Int, reason: String) {
        switch routes[peer] {
        case .sharedMemory: sharedMemory.unsafelyUnwrapped.abandon(peer: peer, reason: reason)
        case .own: own.abandon(peer: peer, reason: reason)
        case .tcp: tcp.unsafelyUnwrapped.abandon(peer: peer, reason: reason)
        case .verbs: verbs.unsafelyUnwrapped.abandon(peer: peer, reason: reason)
        case .loopback: loopback.unsafelyUnwrapped.abandon(peer: peer, reason: reason)
        }
    }

    /// Peers the transports found dead by asking the system.
    func checkPeers() -> [(peer: Int, reason: String)] {
        (sharedMemory?.checkPeers() ?? []) + (tcp?.checkPeers() ?? []) + (verbs?.checkPeers() ?? []) + (loopback?.checkPeers() ?? [])
    }

    /// True when ``waitForInput(milliseconds:)`` can sleep on sockets (TCP): cheap enough to use
    /// whenever a rank yields.
    var canWaitForInput: Bool { tcp?.capabilities.canWaitForInput ?? false }

    /// Sleeps until input may have arrived on the sockets (at most `milliseconds`); returns at once
    /// when there are none (``canWaitForInput``).
    func waitForInput(milliseconds: Int32) {
        if let tcp, tcp.capabilities.canWaitForInput { tcp.waitForInput(milliseconds: milliseconds) }
    }

    /// True when ``sleepOnSharedMemory(milliseconds:)`` can sleep: shared-memory peers ring this
    /// rank's doorbell (a futex) when they fill one of its rings.
    var canSleepOnSharedMemory: Bool { sharedMemory?.capabilities.canWaitForInput ?? false }

    /// Sleeps until a shared-memory peer rings the doorbell, at most `milliseconds`. Only for long
    /// idle spells: what a peer publishes outside the rings (the shared-memory collectives' flags)
    /// rings nothing and is seen when the sleep times out.
    func sleepOnSharedMemory(milliseconds: Int32) {
        sharedMemory?.waitForInput(milliseconds: milliseconds)
    }

    /// ``sleepOnSharedMemory(milliseconds:)`` for a caller holding `lock`: the rings are looked at
    /// with it held, and it is released only for the sleep itself (always released and taken again,
    /// so other threads get their turn even without shared-memory peers).
    func sleepOnSharedMemory(milliseconds: Int32, unlocking lock: EngineLock) {
        guard let sharedMemory else {
            lock.unlock()
            sched_yield()
            lock.lock()
            return
        }
        sharedMemory.waitForInput(milliseconds: milliseconds, releasing: lock.unlock, retaking: lock.lock)
    }

    /// True while a transport holds output that has not left the process.
    var hasPendingOutput: Bool {
        (sharedMemory?.hasPendingOutput ?? false) || (tcp?.hasPendingOutput ?? false) || (verbs?.hasPendingOutput ?? false)
            || (loopback?.hasPendingOutput ?? false)
    }

    /// The shared area of `peer`'s shared-memory segment (``SharedArea``), nil when `peer` is not
    /// reached through shared memory and is not this rank.
    func sharedArea(ofPeer peer: Int) -> UnsafeMutableRawPointer? {
        guard let sharedMemory else { return nil }
        switch routes[peer] {
        case .sharedMemory, .own: return sharedMemory.sharedArea(ofPeer: peer)
        default: return nil
        }
    }

    /// Each transport's statistics line (`SWIFTMPI_DEBUG=1` at finalize).
    var statistics: [String] {
        [sharedMemory?.statistics, tcp?.statistics, verbs?.statistics, loopback?.statistics].compactMap { $0 }
    }
}
