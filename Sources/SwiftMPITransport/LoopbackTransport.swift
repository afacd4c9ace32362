#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// An in-process network: the ranks of a ``LoopbackFabric`` are endpoints in one process, each a
/// ``LoopbackTransport``. It is the reference transport — the smallest complete conformer, with
/// every optional capability (immediate reads and writes of exposed memory), bounded queues that push
/// back, and failures a test can cause (``LoopbackFabric/disconnect(_:)``) — and the harness that
/// runs engines without processes.
///
/// Endpoints may be used from different threads (the fabric's queues are locked); one endpoint is
/// used by one thread at a time, like every transport.
public final class LoopbackFabric: Sendable {
    /// Packets queued from one rank to another before ``LoopbackTransport/trySend(to:kind:header:payload:)``
    /// says no.
    public let queueCapacity: Int
    /// The largest payload of one packet.
    public let maxPayload: Int
    /// The number of endpoints.
    public let size: Int

    struct Packet {
        var kind: PacketKind
        var header: PacketHeader
        var payload: [UInt8]
    }

    struct State {
        /// queues[from * size + to], oldest first.
        var queues: [[Packet]]
        var disconnected: Set<Int> = []
    }

    let state: Mutex<State>

    /// A fabric of `size` endpoints.
    public init(size: Int, maxPayload: Int = 16 * 1024, queueCapacity: Int = 64) {
        precondition(size > 0 && maxPayload > 0 && queueCapacity > 0, "a loopback fabric needs endpoints, payload room and queue room")
        self.size = size
        self.maxPayload = maxPayload
        self.queueCapacity = queueCapacity
        state = Mutex(State(queues: Array(repeating: [], count: size * size)))
    }

    /// The endpoint of `rank`.
    public func endpoint(_ rank: Int) -> LoopbackTransport {
        precondition(rank >= 0 && rank < size, "rank \(rank) is not on a fabric of \(size)")
        return LoopbackTransport(fabric: self, rank: rank)
    }

    /// Makes `rank` fail: its queues are dropped, packets to it are dropped, and every other endpoint
    /// reports it once as ``TransportEvent/peerFailed(peer:reason:)``.
    public func disconnect(_ rank: Int) {
        state.withLock { state in
            state.disconnected.insert(rank)
            for peer in 0..<size {
                state.queues[rank * size + peer].removeAll()
                state.queues[peer * size + rank].removeAll()
            }
        }
    }
}

/// One rank's endpoint on a ``LoopbackFabric``.
public final class LoopbackTransport: Transport {
    /// The fabric this endpoint belongs to.
    public let fabric: LoopbackFabric
    /// This endpoint's rank.
    public let rank: Int
    private var reportedFailures: Set<Int> = []
    private var inbox: [LoopbackFabric.Packet] = []

    init(fabric: LoopbackFabric, rank: Int) {
        self.fabric = fabric
        self.rank = rank
    }

    /// Packets up to the fabric's payload; immediate reads and writes of exposed memory.
    public var capabilities: TransportCapabilities {
        TransportCapabilities(
            name: "loopback", maxPayload: fabric.maxPayload, peerRead: .immediate, peerWrite: .immediate, maxReadSegments: 1024, maxWriteSegments: 1024)
    }

    /// Queues the packet if the queue to `peer` has room; packets to a disconnected peer are dropped.
    public func trySend(to peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer) -> Bool {
        precondition(peer >= 0 && peer < fabric.size, "rank \(peer) is not on a fabric of \(fabric.size)")
        precondition(payload.count <= fabric.maxPayload, "a \(payload.count)-byte payload exceeds the fabric's \(fabric.maxPayload)")
        let size = fabric.size, capacity = fabric.queueCapacity, from = rank
        return fabric.state.withLock { state in
            if state.disconnected.contains(peer) || state.disconnected.contains(from) { return true }
            guard state.queues[from * size + peer].count < capacity else { return false }
            state.queues[from * size + peer].append(LoopbackFabric.Packet(kind: kind, header: header, payload: Array(payload)))
            return true
        }
    }

    /// Delivers what every peer queued for this rank, in order per peer.
    public func poll<Sink: PacketSink>(into sink: Sink) -> Int {
        var delivered = 0
        for peer in 0..<fabric.size {
            let size = fabric.size, to = rank
            fabric.state.withLock { state in
                swap(&inbox, &state.queues[peer * size + to])
            }
            for packet in inbox {
                packet.payload.withUnsafeBytes { sink.deliver(from: peer, kind: packet.kind, header: packet.header, payload: $0) }
            }
            delivered += inbox.count
            inbox.removeAll(keepingCapacity: true)
        }
        return delivered
    }

    /// True when a peer was disconnected and this endpoint has not reported it yet.
    public var hasEvents: Bool {
        let reported = reportedFailures
        return fabric.state.withLock { !$0.disconnected.subtracting(reported).isEmpty }
    }

    /// Disconnected peers, each reported once.
    public func takeEvents() -> [TransportEvent] {
        let fresh = fabric.state.withLock { $0.disconnected }.subtracting(reportedFailures).sorted()
        reportedFailures.formUnion(fresh)
        return fresh.map { .peerFailed(peer: $0, reason: "disconnected from the loopback fabric") }
    }

    /// Every memory of the process is reachable: the address is enough.
    public func expose(_ bytes: UnsafeRawBufferPointer) -> ExposedMemory? {
        ExposedMemory(remote: RemoteMemory(address: UInt64(UInt(bitPattern: bytes.baseAddress))))
    }

    /// Copies from the exposed memory at once.
    public func read(from peer: Int, remote: RemoteMemory, into local: UnsafeMutableRawBufferPointer, token: UInt32) -> BulkResult {
        guard local.count > 0 else { return .completed }
        guard !isDisconnected(peer), let source = UnsafeRawPointer(bitPattern: UInt(remote.address)) else { return .failed(errno: ESRCH) }
        local.baseAddress!.copyMemory(from: source, byteCount: local.count)
        return .completed
    }

    /// Copies into the exposed memory at once.
    public func write(to peer: Int, remote: RemoteMemory, from local: UnsafeRawBufferPointer, token: UInt32) -> BulkResult {
        guard local.count > 0 else { return .completed }
        guard !isDisconnected(peer), let target = UnsafeMutableRawPointer(bitPattern: UInt(remote.address)) else { return .failed(errno: ESRCH) }
        target.copyMemory(from: local.baseAddress!, byteCount: local.count)
        return .completed
    }

    /// Copies scattered exposed memory into scattered local memory at once.
    public func readSegments(
        from peer: Int, remote: UnsafeMutableBufferPointer<MemorySegment>, key: UInt32, into local: UnsafeMutableBufferPointer<MemorySegment>,
        token: UInt32
    ) -> BulkResult {
        guard !isDisconnected(peer) else { return .failed(errno: ESRCH) }
        return copySegments(from: remote, into: local)
    }

    /// Copies scattered local memory into scattered exposed memory at once.
    public func writeSegments(
        to peer: Int, remote: UnsafeMutableBufferPointer<MemorySegment>, from local: UnsafeMutableBufferPointer<MemorySegment>
    ) -> BulkResult {
        guard !isDisconnected(peer) else { return .failed(errno: ESRCH) }
        return copySegments(from: local, into: remote)
    }

    private func isDisconnected(_ peer: Int) -> Bool { fabric.state.withLock { $0.disconnected.contains(peer) } }
}
