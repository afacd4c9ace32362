import SwiftMPITransport

/// The engine's state for one send in flight. Pooled and reused: blocking calls allocate none.
/// (Properties are `@exclusivity(unchecked)` for the reason given on `Engine`.)
final class SendOperation {
    enum Phase {
        /// Created, not yet handed to the wire (waiting in the peer's outbox).
        case queued
        /// Rendezvous offered or synchronous eager sent: waiting for clearToSend or ack.
        case awaitingReceiver
        /// Streaming data fragments after clearToSend; `offset` bytes are out.
        case streaming
        case complete
    }

    @exclusivity(unchecked) var phase = Phase.complete
    @exclusivity(unchecked) var bytes = UnsafeRawBufferPointer(start: nil, count: 0)
    @exclusivity(unchecked) var destination = 0  // world rank
    @exclusivity(unchecked) var header = MatchHeader()
    @exclusivity(unchecked) var streamOffset = 0
    @exclusivity(unchecked) var receiverOperation: UInt32 = 0
    @exclusivity(unchecked) var id: UInt32 = 0
    @exclusivity(unchecked) var error: MPIError?
    /// Keeps a caller's array alive while the send is in flight (nonblocking sends of arrays).
    @exclusivity(unchecked) var keepAlive: AnyObject?
    /// The part of the attached buffer that a buffered send occupies, released on completion.
    @exclusivity(unchecked) var bufferedRange: Range<Int>?
    /// The exposure of `bytes` offered for reads by the receiver (a verbs registration), ended on
    /// completion.
    @exclusivity(unchecked) var exposure: ExposedMemory?
    /// A non-contiguous message (a derived datatype): its data, in place of `bytes` (which is empty).
    @exclusivity(unchecked) var region: TypedRegion?

    /// The message's length in bytes.
    @inline(__always)
    var byteCount: Int { region?.byteCount ?? bytes.count }

    var isComplete: Bool { if case .complete = phase { true } else { false } }

    /// Clears what a finished send leaves behind. (References are cleared only when set: storing nil
    /// over nil still costs a release call, on the path of every message.)
    @inline(__always)
    func reset() {
        phase = .complete
        bytes = UnsafeRawBufferPointer(start: nil, count: 0)
        streamOffset = 0
        if error != nil { error = nil }
        if keepAlive != nil { keepAlive = nil }
        bufferedRange = nil
        if exposure != nil { exposure = nil }
        if region != nil { region = nil }
    }
}

/// The engine's state for one posted receive. Pooled like ``SendOperation``.
final class ReceiveOperation {
    @exclusivity(unchecked) var buffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    /// What the receive accepts.
    @exclusivity(unchecked) var pattern = MatchPattern(context: 0, source: 0, tag: 0)
    /// The world rank the message comes from: the named source, or once a rendezvous has matched, its
    /// sender; -1 while a wildcard receive is unmatched. Lets a failed peer fail exactly its receives.
    @exclusivity(unchecked) var peer = -1
    @exclusivity(unchecked) var isComplete = true
    @exclusivity(unchecked) var status = Status.empty
    @exclusivity(unchecked) var error: MPIError?
    @exclusivity(unchecked) var id: UInt32 = 0
    /// Bytes still expected from data fragments (pipelined rendezvous).
    @exclusivity(unchecked) var remaining = 0
    /// The sender's operation id, acknowledged when an RDMA read of the message finishes.
    @exclusivity(unchecked) var senderOperation: UInt32 = 0
    @exclusivity(unchecked) var keepAlive: AnyObject?
    /// A non-contiguous receive buffer (a derived datatype), in place of `buffer` (which is empty).
    @exclusivity(unchecked) var region: TypedRegion?
    /// For a contiguous receive of a datatype whose elements all have this many bytes (> 1): a
    /// message must be a whole number of them (the signature check without a region).
    @exclusivity(unchecked) var elementBytes = 0
    /// A wildcard receive behind the pointer form of `irecv`: in recovery mode it stays posted while
    /// a failure among its communicator's members is not acknowledged, and a wait or test reports
    /// `.processFailedPending` meanwhile (ULFM). Other receives end with `.processFailed`.
    @exclusivity(unchecked) var pendsOnFailure = false

    /// The most bytes the receive accepts.
    @inline(__always)
    var capacity: Int { region?.byteCount ?? buffer.count }

    /// Clears what a finished receive leaves behind (references only when set, as in ``SendOperation``).
    @inline(__always)
    func reset() {
        peer = -1
        isComplete = false
        status = .empty
        if error != nil { error = nil }
        remaining = 0
        if keepAlive != nil { keepAlive = nil }
        if region != nil { region = nil }
        elementBytes = 0
        if pendsOnFailure { pendsOnFailure = false }
    }

    @inline(__always)
    func matches(_ header: MatchHeader) -> Bool { pattern.matches(header) }
}

/// A message that arrived before any matching receive was posted.
struct UnexpectedMessage {
    var header: MatchHeader
    /// The sender's world rank.
    var peer: Int
    /// Eager messages: the copied payload. Rendezvous offers: the message's first bytes when the
    /// offer carried them (``RendezvousOffer/Flags/prefixed``), else empty.
    var payload: [UInt8]
    /// Rendezvous offers: where the message is.
    var offer: RendezvousOffer?

    var status: Status {
        Status(source: Int(header.source), tag: Int(header.tag), byteCount: Int(clamping: header.length))
    }
}

/// Operations waiting for a reply, indexed by id; ids are reused through a free list.
struct OperationTable<Operation: AnyObject> {
    private var slots: [Operation?] = []
    private var free: [UInt32] = []

    mutating func insert(_ operation: Operation) -> UInt32 {
        if let id = free.popLast() {
            slots[Int(id)] = operation
            return id
        }
        slots.append(operation)
        return UInt32(slots.count - 1)
    }

    /// Removes and returns the operation with `id`, or nil for an unknown id (a corrupted or stale
    /// packet, which is then ignored rather than trusted).
    mutating func remove(_ id: UInt32) -> Operation? {
        guard Int(id) < slots.count, let operation = slots[Int(id)] else { return nil }
        slots[Int(id)] = nil
        free.append(id)
        return operation
    }

    func lookup(_ id: UInt32) -> Operation? {
        Int(id) < slots.count ? slots[Int(id)] : nil
    }

    /// The ids in use (for failing every operation of a dead peer; not on any fast path).
    var ids: [UInt32] { slots.indices.filter { slots[$0] != nil }.map { UInt32($0) } }

    /// True when some operation in the table satisfies `predicate` (no allocation).
    func contains(where predicate: (Operation) -> Bool) -> Bool {
        for case let operation? in slots where predicate(operation) { return true }
        return false
    }
}
