#if canImport(Glibc)
import Glibc
#endif
import SwiftMPITransport

/// Rendezvous: a large message is offered first (``RendezvousOffer``); once a receive matches, the
/// receiver takes the data by the cheapest means its route declares — a read of the sender's memory
/// (at once: Cross Memory Attach; or started: RDMA READ, acknowledged on completion), a shared copy
/// (``SharedCopy``), or else by asking for fragments (clearToSend, then data packets).
extension Engine {
    /// The most bytes a rendezvous offer carries where the receiver will ask for fragments. Measured
    /// over TCP on loopback (latency, interleaved runs): without a prefix 256 KiB took 37 µs and
    /// 512 KiB 62; with 8 KiB 29-30 and 53-56; 16-32 KiB about the same; 64 KiB 32-36 and 58-64 (the
    /// receiver reads the whole offer before it can answer, so a large prefix delays the
    /// clear-to-send); 1 MiB 108-122 µs against 109-126 without (Open MPI 112-133 in the same runs).
    static let rendezvousPrefix = 8 * 1024
    /// Sender: offers `operation`'s message to `peer`, exposing its buffer for reads where the route
    /// can read peer memory; false when the transport is full.
    func offerRendezvous(_ operation: SendOperation, to peer: Int) -> Bool {
        if let region = operation.region { return offerRendezvous(operation, region, to: peer) }
        var offer = RendezvousOffer(pid: processID, address: UInt64(UInt(bitPattern: operation.bytes.baseAddress)))
        if routes.capabilities[peer].peerRead != .none {
            // Exposed once per offer (for verbs a registration, a cache hit when the buffer was sent
            // before); without an exposure the receiver asks for the data in packets instead.
            if operation.exposure == nil { operation.exposure = routes.expose(operation.bytes, to: peer) }
            if let exposure = operation.exposure {
                offer.address = exposure.remote.address
                offer.remoteKey = exposure.remote.key
                offer.flags |= RendezvousOffer.Flags.exposed
            }
        }
        // Where the receiver will ask for fragments, the offer carries the message's first bytes
        // (``rendezvousPrefix``): the receiver copies them while its clear-to-send travels back.
        let prefix = offer.flags & RendezvousOffer.Flags.exposed == 0 ? min(eagerLimits[peer], operation.bytes.count, Self.rendezvousPrefix) : 0
        let sent: Bool
        if prefix > 0 {
            offer.flags |= RendezvousOffer.Flags.prefixed
            let first = UnsafeRawBufferPointer(rebasing: operation.bytes[0..<prefix])
            sent = withUnsafeBytes(of: &offer) { routes.trySend(to: peer, kind: .rendezvous, header: operation.header, payload: $0, trailer: first) }
        } else {
            sent = withUnsafeBytes(of: &offer) { routes.trySend(to: peer, kind: .rendezvous, header: operation.header, payload: $0) }
        }
        if sent { operation.phase = .awaitingReceiver }
        return sent
    }

    /// Sender: streams `operation`'s data fragments after clearToSend; false while the transport is
    /// full or still sends from the buffer (the item stays queued).
    func streamFragments(_ operation: SendOperation, to peer: Int) -> Bool {
        if let region = operation.region { return streamPackedFragments(operation, region, to: peer) }
        let fragment = fragmentSizes[peer]
        let streaming = hasMessagesBehind(to: peer)
        while operation.streamOffset < operation.bytes.count {
            let length = min(fragment, operation.bytes.count - operation.streamOffset)
            let header = MatchHeader(length: UInt64(operation.streamOffset), receiverOperation: operation.receiverOperation)
            let piece = UnsafeRawBufferPointer(rebasing: operation.bytes[operation.streamOffset..<(operation.streamOffset + length)])
            // The buffer stays busy until this send completes, so the transport may send what it
            // could not take now straight from it later, instead of copying it.
            guard routes.trySendKeepingPayload(to: peer, kind: .data, header: header, payload: piece, streaming: streaming) else { return false }
            operation.streamOffset += length
        }
        // Complete only once the transport has no part of the buffer left to send.
        if routes.isSendingCallerMemory(to: peer) { return false }
        finishSend(operation)
        return true
    }

    /// True when other messages to `peer` wait behind the one being streamed — offered and not yet
    /// cleared, or queued — so the transport may send for the stream's throughput rather than this
    /// message's latency (``Transport/trySendKeepingPayload(to:kind:header:payload:streaming:)``).
    /// Read each time a large message's fragments are tried (a scan of the waiting sends), never on
    /// the small-message path.
    func hasMessagesBehind(to peer: Int) -> Bool {
        outboxes[peer].count - outboxSentAhead > 1 || waitingSends.contains { $0.destination == peer }
    }

    /// Receiver: a rendezvous offer matched `operation`; `prefix` is the message's first bytes when
    /// the offer carried them (``RendezvousOffer/Flags/prefixed``).
    func acceptRendezvous(
        _ operation: ReceiveOperation, _ header: MatchHeader, _ offer: RendezvousOffer, prefix: UnsafeRawBufferPointer, from peer: Int
    ) {
        let total = Int(clamping: header.length)
        operation.status = Status(source: Int(header.source), tag: Int(header.tag), byteCount: total)
        // The tracer's record names how the data came (the path taken below).
        var path: StaticString = "rendezvous"
        defer { traceReceive(header, from: peer, bytes: total, path) }
        let reply = MatchHeader(senderOperation: header.senderOperation)
        // An offer left in the unexpected queue by a peer that has failed since: its data can never
        // come (every transport drops packets to a failed peer), so the receive fails now.
        if let reason = failedPeers[peer] {
            operation.error = MPIError(
                .processFailed, "rank \(peer) failed before its \(total)-byte message could be received: \(reason)",
                status: operation.status)
            operation.isComplete = true
            return
        }
        if let error = total > operation.capacity
            ? truncation(header, length: total, capacity: operation.capacity) : signatureMismatch(operation, header, length: total)
        {
            operation.error = error
            operation.isComplete = true
            sendControl(.ack, reply, to: peer)  // the sender completes normally
            return
        }
        let remote = RemoteMemory(address: offer.address, key: offer.remoteKey)
        let readable = offer.flags & RendezvousOffer.Flags.exposed != 0 && total > 0
        if operation.region != nil || offer.flags & RendezvousOffer.Flags.segmented != 0 {
            // Non-contiguous on either side: one scattered read where the route offers it, else
            // packed fragments (no shared copy, no RDMA read: they move contiguous bytes).
            if readable && startScatteredRead(operation, header, total: total, offer: offer, from: peer) {
                path = "rendezvous (scattered read)"
                return
            }
            if readable && singleCopyAllowed {
                // Large and one-way: both cores copy (shared copy of a datatype message), where the
                // receiver's data is one block the sender can walk.
                let receiverShareable = operation.region.map { $0.map.blocks.count == 1 && $0.count == 1 } ?? true
                if receiverShareable && sharedCopyAllowed && total >= SharedCopy.threshold && routes.capabilities[peer].maxWriteSegments > 0
                    && routes.capabilities[peer].maxReadSegments > 0 && !waitingSends.contains(where: { $0.destination == peer }),
                    case .success(let remote) = senderRegion(offer, total: total, from: peer),
                    startSharedCopy(
                        operation, header, RemoteMemory(address: offer.address), from: peer,
                        regions: (operation.region ?? TypedRegion(contiguous: operation.buffer.baseAddress, byteCount: total), remote))
                {
                    path = "rendezvous (shared copy)"
                    return
                }
                switch readScattered(operation, total: total, offer: offer, from: peer) {
                case .completed:
                    path = "rendezvous (single copy)"
                    operation.isComplete = true
                    sendControl(.ack, reply, to: peer)
                    return
                case .failed(let code) where code == ESRCH:
                    giveLauncherTimeToEndJob()
                    operation.error = MPIError(.processFailed, "recv: rank \(peer) is gone: \(total)-byte message lost", status: operation.status)
                    operation.isComplete = true
                    return
                case .forbidden:
                    singleCopyAllowed = false
                case .unsupported, .failed, .started:
                    break
                }
            }
            path = "rendezvous (fragments)"
            askForFragments(operation, reply, total: total, prefix: prefix, from: peer)
            return
        }
        if readable && routes.capabilities[peer].peerRead == .immediate && singleCopyAllowed && total >= singleCopyThreshold {
            // Shared only while traffic flows one way: with sends of its own waiting for the peer, both
            // cores already copy (bi-directional bandwidth fell 10-20% when shared).
            if sharedCopyAllowed && total >= SharedCopy.threshold && routes.capabilities[peer].peerWrite == .immediate
                && !waitingSends.contains(where: { $0.destination == peer }),
                startSharedCopy(operation, header, remote, from: peer)
            {
                path = "rendezvous (shared copy)"
                return
            }
            let target = UnsafeMutableRawBufferPointer(rebasing: operation.buffer[0..<total])
            switch routes.read(from: peer, remote: remote, into: target, token: 0) {
            case .completed:
                path = "rendezvous (single copy)"
                operation.isComplete = true
                sendControl(.ack, reply, to: peer)
                return
            case .forbidden:
                singleCopyAllowed = false  // seccomp, Yama, a container: fragments from now on
            case .unsupported, .failed:
                break
            case .started:
                preconditionFailure("rank \(peer)'s transport declares immediate reads but started one (the transport contract)")
            }
        }
        if readable && routes.capabilities[peer].peerRead == .asynchronous {
            // A read straight into the receive buffer; the ack follows its completion.
            operation.peer = peer
            operation.id = waitingReceives.insert(operation)
            operation.senderOperation = header.senderOperation
            let target = UnsafeMutableRawBufferPointer(rebasing: operation.buffer[0..<total])
            operation.remaining = 1  // the reads in flight (finishRead)
            path = "rendezvous (RDMA read)"
            switch routes.read(from: peer, remote: remote, into: target, token: operation.id) {
            case .started: return
            case .completed: finishRead(operation.id); return
            case .unsupported, .forbidden, .failed: _ = waitingReceives.remove(operation.id)
            }
        }
        path = "rendezvous (fragments)"
        askForFragments(operation, reply, total: total, prefix: prefix, from: peer)
    }

    /// Receiver: asks for the message in fragments from where the offer's prefix ends, then lays the
    /// prefix in (after the clear-to-send has left, so that copying it overlaps the round trip).
    private func askForFragments(_ operation: ReceiveOperation, _ reply: MatchHeader, total: Int, prefix: UnsafeRawBufferPointer, from peer: Int) {
        let first = min(prefix.count, total)
        operation.remaining = total - first
        operation.peer = peer
        operation.id = waitingReceives.insert(operation)
        var request = reply
        request.receiverOperation = operation.id
        request.length = UInt64(first)
        sendControl(.clearToSend, request, to: peer)
        guard first > 0 else { return }
        if let region = operation.region {
            region.unpack(0..<first, from: prefix.baseAddress!)
        } else {
            operation.buffer.baseAddress!.copyMemory(from: prefix.baseAddress!, byteCount: first)
        }
        if operation.remaining <= 0 {  // the prefix was all of it: the sender's clear-to-send asks for nothing
            _ = waitingReceives.remove(operation.id)
            operation.isComplete = true
        }
    }

    /// Receiver: a data fragment of a pipelined rendezvous arrived.
    func receiveFragment(_ header: MatchHeader, _ payload: UnsafeRawBufferPointer, from peer: Int) {
        guard let operation = waitingReceives.lookup(header.receiverOperation), operation.peer == peer else { return }
        let offset = Int(clamping: header.length)
        let length = payload.count
        guard offset <= operation.capacity, length <= operation.capacity - offset else { return }
        if let region = operation.region {
            if length > 0 { region.unpack(offset..<(offset + length), from: payload.baseAddress!) }
            operation.remaining -= length
            if operation.remaining <= 0 {
                _ = waitingReceives.remove(header.receiverOperation)
                operation.isComplete = true
            }
            return
        }
        let destination = operation.buffer.baseAddress.map { $0 + offset }
        if length > 0 && UnsafeRawPointer(destination) != payload.baseAddress {  // else placed there already
            destination!.copyMemory(from: payload.baseAddress!, byteCount: length)
        }
        operation.remaining -= length
        if operation.remaining <= 0 {
            _ = waitingReceives.remove(header.receiverOperation)
            operation.isComplete = true
        }
    }

    /// Where a data fragment of `length` bytes from `peer` belongs — its receive's buffer at the
    /// fragment's offset, checked as ``receiveFragment(_:_:from:)`` checks it — so a transport can
    /// read it there directly; nil for any other packet.
    func fragmentPlacement(_ header: MatchHeader, length: Int, from peer: Int) -> UnsafeMutableRawPointer? {
        guard let operation = waitingReceives.lookup(header.receiverOperation),
            operation.peer == peer, let base = operation.buffer.baseAddress
        else { return nil }
        let offset = Int(clamping: header.length)
        guard offset <= operation.buffer.count, length <= operation.buffer.count - offset else { return nil }
        return base + offset
    }

    /// Sender: the receiver asked for the data in fragments.
    func clearedToSend(_ header: MatchHeader, from peer: Int) {
        guard waitingSends.lookup(header.senderOperation)?.destination == peer,
            let operation = waitingSends.remove(header.senderOperation)
        else { return }
        operation.receiverOperation = header.receiverOperation
        operation.phase = .streaming
        // From where the offer's prefix ended (0 for offers without one).
        operation.streamOffset = min(Int(clamping: header.length), operation.region == nil ? operation.bytes.count : 0)
        enqueue(.stream(operation), to: peer)
    }

    /// Sender: the receiver matched a synchronous send or finished reading a rendezvous message —
    /// or refused it (it freed the communicator with the message unreceived; recovery mode: the
    /// communicator is revoked or lost a member there).
    func acknowledged(_ header: MatchHeader, from peer: Int) {
        guard waitingSends.lookup(header.senderOperation)?.destination == peer,
            let operation = waitingSends.remove(header.senderOperation)
        else { return }
        if header.flags & MatchHeader.Flags.refused != 0 {
            operation.error =
                faultError(context: operation.header.context, peer: -1, "send")
                ?? (recovery.enabled
                    ? MPIError(
                        .revoked,
                        "send: rank \(peer) refused the message: the communicator was revoked, lost a member, or was freed there before a receive took it")
                    : MPIError(.transport, "send: rank \(peer) refused the message: it freed the communicator before a receive took the message"))
        }
        finishSend(operation)
    }

    /// Receiver: an asynchronous read of a rendezvous message finished; after the last of its reads
    /// (`remaining` counts them) the receive is complete, and the sender may reuse its buffer.
    func finishRead(_ id: UInt32) {
        guard let operation = waitingReceives.lookup(id) else { return }
        operation.remaining -= 1
        guard operation.remaining <= 0, waitingReceives.remove(id) != nil else { return }
        operation.remaining = 0
        operation.isComplete = true
        sendControl(.ack, MatchHeader(senderOperation: operation.senderOperation), to: operation.peer)
    }
}
