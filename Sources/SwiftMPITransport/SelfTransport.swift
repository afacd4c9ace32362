/// The route from a rank to itself: packets are queued in process and delivered by the next poll.
///
/// A message to oneself is copied once into the queue (any size: it is never offered by rendezvous,
/// since the receive may be posted only after the send completes).
public final class SelfTransport: Transport {
    /// The rank that owns this transport; the only peer it reaches.
    public let rank: Int
    // Checked statically instead of dynamically: the empty-queue test runs on every progress call
    // (a dynamic check cost ~4 % of a small-message round trip). Safe because the transport is used
    // by one thread at a time (the engine's lock) and no access overlaps another: `poll` swaps the two
    // queues before delivering, so a `trySend` from inside `deliver` appends to the other one.
    @exclusivity(unchecked) private var queue: [(kind: PacketKind, header: PacketHeader, payload: [UInt8])] = []
    @exclusivity(unchecked) private var delivering: [(kind: PacketKind, header: PacketHeader, payload: [UInt8])] = []

    /// Creates the route of `rank` to itself.
    public init(rank: Int) { self.rank = rank }

    /// Any payload, always eagerly; no bulk access.
    public var capabilities: TransportCapabilities { TransportCapabilities(name: "self", maxPayload: Int.max) }

    /// Queues the packet (a copy of `payload`); accepts every packet addressed to this rank.
    public func trySend(to peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer) -> Bool {
        precondition(peer == rank, "SelfTransport of rank \(rank) asked to send to rank \(peer)")
        queue.append((kind, header, Array(payload)))
        return true
    }

    /// Delivers the packets queued before this call, in order (packets queued while delivering wait
    /// for the next poll).
    public func poll<Sink: PacketSink>(into sink: Sink) -> Int {
        guard !queue.isEmpty else { return 0 }
        swap(&queue, &delivering)
        defer { delivering.removeAll(keepingCapacity: true) }
        for packet in delivering {
            packet.payload.withUnsafeBytes { sink.deliver(from: rank, kind: packet.kind, header: packet.header, payload: $0) }
        }
        return delivering.count
    }
}
