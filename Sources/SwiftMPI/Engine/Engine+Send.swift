#if canImport(Glibc)
import Glibc
#endif
import SwiftMPITransport

/// Who a message is from and what receives it can match: the communicator's context id, the
/// sender's rank in that communicator, and the tag. The public layer describes messages with it;
/// only the engine turns it into a wire header.
struct Envelope {
    var context: UInt32
    var source: Int32
    var tag: Int32
}

/// How a message travels (``Engine/sendProtocol(byteCount:to:)`` chooses).
enum SendProtocol {
    /// Header and data in one packet.
    case eager
    /// An offer first; the data follows once the receive matched (read by the receiver from the
    /// sender's memory, or streamed in fragments).
    case rendezvous
}

extension Engine {
    /// The one place that chooses between eager and rendezvous: eager up to the limit the peer's
    /// transport reports.
    @inline(__always)
    func sendProtocol(byteCount: Int, to peer: Int) -> SendProtocol {
        byteCount <= eagerLimits[peer] ? .eager : .rendezvous
    }

    /// Starts a standard, ready or synchronous send of `bytes` to world rank `destination`. Returns
    /// nil when the send is already complete — a small message put straight onto the wire, nothing
    /// allocated — else the pooled operation the caller waits on and then recycles.
    @inline(__always)
    func send(
        _ bytes: UnsafeRawBufferPointer, to destination: Int, envelope: Envelope, mode: SendMode,
        keepAlive: AnyObject?
    ) -> SendOperation? {
        var header = MatchHeader(envelope, flags: mode == .ready ? MatchHeader.Flags.ready : 0)
        header.length = UInt64(bytes.count)
        noteSend(envelope, to: destination, bytes: bytes.count, mode: mode)
        if mode != .synchronous && trySendEagerNow(bytes, to: destination, header: header) { return nil }
        let operation = makeSend()
        operation.bytes = bytes
        operation.destination = destination
        operation.header = header
        if keepAlive != nil { operation.keepAlive = keepAlive }  // a pooled operation has none
        startSend(operation, synchronous: mode == .synchronous)
        return operation
    }

    /// Copies `bytes` into the attached buffer and starts sending the copy; the caller's buffer is
    /// free at once. Throws `.bufferExhausted` (sending nothing) when there is no room; `rankText`
    /// names the destination as the caller knows it.
    func sendBuffered(
        _ bytes: UnsafeRawBufferPointer, to destination: Int, envelope: Envelope, rankText: Int,
        _ call: StaticString
    ) throws(MPIError) {
        guard let area = bufferedArea else {
            throw MPIError(.bufferExhausted, "\(call): \(bytes.count) bytes to rank \(rankText) but no buffer is attached (MPI.attachBuffer(bytes:))")
        }
        guard let range = area.allocate(bytes.count) else {
            throw MPIError(
                .bufferExhausted,
                "\(call): \(bytes.count) bytes (+\(MPI.bufferedSendOverhead) overhead) to rank \(rankText) do not fit the attached buffer (\(area.freeBytes) "
                    + "of \(area.capacity) bytes free)"
            )
        }
        noteSend(envelope, to: destination, bytes: bytes.count, mode: .buffered)
        let copy = UnsafeMutableRawBufferPointer(rebasing: area.storage[range.lowerBound..<(range.lowerBound + bytes.count)])
        if bytes.count > 0 { copy.copyMemory(from: bytes) }
        let operation = makeSend()
        operation.bytes = UnsafeRawBufferPointer(copy)
        operation.destination = destination
        operation.header = MatchHeader(envelope)
        operation.bufferedRange = range
        startSend(operation, synchronous: false)
    }

    /// Counts a message leaving for the per-transport performance variables while they count
    /// (``PerformanceCounters``), and records it for the tracer, when there is one (messages of
    /// collectives, on odd contexts, are not recorded): named by its protocol.
    @inline(__always)
    func noteSend(_ envelope: Envelope, to destination: Int, bytes: Int, mode: SendMode) {
        if observing { observeSend(envelope, to: destination, bytes: bytes, mode: mode) }
    }

    @inline(never)
    private func observeSend(_ envelope: Envelope, to destination: Int, bytes: Int, mode: SendMode) {
        if let counters { counters.sent(bytes, over: routes.routes[destination]) }
        guard let tracer, envelope.context & 1 == 0 else { return }
        let name: StaticString =
            mode == .synchronous ? "synchronous" : sendProtocol(byteCount: bytes, to: destination) == .eager ? "eager" : "rendezvous"
        tracer.message(.send, name, context: envelope.context, peer: destination, tag: envelope.tag, bytes: bytes)
    }

    /// Records a user point-to-point message matched by a receive, for the tracer.
    @inline(__always)
    func traceReceive(_ header: MatchHeader, from peer: Int, bytes: Int, _ name: StaticString) {
        if observing { recordReceive(header, from: peer, bytes: bytes, name) }
    }

    @inline(never)
    private func recordReceive(_ header: MatchHeader, from peer: Int, bytes: Int, _ name: StaticString) {
        guard let tracer, header.context & 1 == 0 else { return }
        tracer.message(.receive, name, context: header.context, peer: peer, tag: header.tag, bytes: bytes)
    }

    /// The allocation-free path of a blocking standard send: an eager message straight onto the
    /// peer's transport. False when it does not apply (rendezvous, older work queued, a failed peer,
    /// or no room now).
    @inline(__always)
    func trySendEagerNow(_ bytes: UnsafeRawBufferPointer, to destination: Int, header: MatchHeader) -> Bool {
        guard sendProtocol(byteCount: bytes.count, to: destination) == .eager, outboxes[destination].isEmpty,
            !anyFault || isHealthy(header.context, destination)
        else { return false }
        return routes.trySend(to: destination, kind: .eager, header: header, payload: bytes)
    }

    /// Starts `operation` (bytes, destination and header set). It completes when its buffer may be
    /// reused — for synchronous sends, once the receiver has matched it.
    func startSend(_ operation: SendOperation, synchronous: Bool) {
        if synchronous { operation.header.flags |= MatchHeader.Flags.synchronous }
        operation.header.length = UInt64(operation.byteCount)
        if anyFault && failIfFaulty(operation) { return }
        let rendezvous = sendProtocol(byteCount: operation.byteCount, to: operation.destination) == .rendezvous
        if rendezvous { statistics.rendezvousSends &+= 1 }
        if synchronous || rendezvous {
            operation.header.senderOperation = waitingSends.insert(operation)
        }
        operation.phase = .queued
        enqueue(.message(operation), to: operation.destination)
    }

    /// Marks a send complete and releases what it held.
    func finishSend(_ operation: SendOperation) {
        operation.phase = .complete
        operation.keepAlive = nil
        if let exposure = operation.exposure {
            routes.conceal(exposure, from: operation.destination)
            operation.exposure = nil
        }
        if let range = operation.bufferedRange {
            bufferedArea?.release(range)
            recycle(operation)  // buffered sends are internal: nobody else holds them
        }
    }

    /// Sends a header-only packet (ack, clearToSend, share), after whatever is queued for `peer`.
    func sendControl(_ kind: WireKind, _ header: MatchHeader, to peer: Int) {
        enqueue(.control(kind, header), to: peer)
    }

    /// Sends a packet with a payload (a one-sided request or reply, a recovery packet) to world rank
    /// `peer`, after whatever is queued for it: on the wire at once when the transport has room
    /// (nothing allocated), else a copy of `payload` waits in the outbox. Either way `payload` may
    /// change as soon as this returns, so a put is complete at the origin when its call returns.
    func sendPacket(_ kind: WireKind, _ header: MatchHeader, _ payload: UnsafeRawBufferPointer, to peer: Int) {
        if outboxes[peer].isEmpty && routes.trySend(to: peer, kind: kind, header: header, payload: payload) { return }
        outboxes[peer].append(.packet(kind, header, Array(payload)))
        outboxCount += 1
    }

    func enqueue(_ item: Outgoing, to peer: Int) {
        if outboxes[peer].isEmpty && transmit(item, to: peer) { return }
        outboxes[peer].append(item)
        outboxCount += 1
    }

    /// Puts one item on the wire; false when the transport is full (the item stays queued).
    private func transmit(_ item: Outgoing, to peer: Int) -> Bool {
        switch item {
        case .control(let kind, let header):
            return routes.trySend(to: peer, kind: kind, header: header, payload: UnsafeRawBufferPointer(start: nil, count: 0))
        case .message(let operation):
            switch sendProtocol(byteCount: operation.byteCount, to: peer) {
            case .eager:  // (typed messages this small were packed into `bytes`: Engine+Typed)
                guard routes.trySend(to: peer, kind: .eager, header: operation.header, payload: operation.bytes) else { return false }
                if operation.header.flags & MatchHeader.Flags.synchronous != 0 {
                    operation.phase = .awaitingReceiver
                } else {
                    finishSend(operation)
                }
                return true
            case .rendezvous:
                return offerRendezvous(operation, to: peer)
            }
        case .stream(let operation):
            return streamFragments(operation, to: peer)
        case .packet(let kind, let header, let payload):
            return payload.withUnsafeBytes { routes.trySend(to: peer, kind: kind, header: header, payload: $0) }
        }
    }

    /// Sends what the outboxes hold, in order per peer, until a transport is full. The items sent
    /// leave their queue together afterwards (one `removeSubrange`): removing each as it went moved
    /// the whole queue per item, quadratic in its length — a put of a million 4-byte runs over
    /// messages queued a million packets and never finished. (Array's own subscript: the collection
    /// protocols' `first` allocate a context per call where they are not specialized, in debug
    /// builds, and a sender whose ring is full passes here once per message.)
    func drainOutboxes() -> Bool {
        var progressed = false
        for peer in outboxes.indices where !outboxes[peer].isEmpty {
            var sent = 0
            while sent < outboxes[peer].count {
                outboxSentAhead = sent
                guard transmit(outboxes[peer][sent], to: peer) else { break }
                sent += 1
            }
            outboxSentAhead = 0
            if sent > 0 {
                outboxes[peer].removeSubrange(0..<sent)
                outboxCount -= sent
                progressed = true
            }
        }
        return progressed
    }
}
