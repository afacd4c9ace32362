#if canImport(Glibc)
import Glibc
#endif
import CShims
import SwiftMPIWireup

// Connections on demand. A rank connects to a peer at its first packet to it (the frame is copied
// and queued, so the send completes locally) or at a receive posted for it (``reachOut(to:)``), and
// accepts peers' connections while progress polls; every step is nonblocking and driven by
// ``advanceOpenings()``:
//
//   connector C                                   acceptor A
//   connect (nonblocking) ─────────────────────▶  accept(2), every 32nd poll
//   hello ─────────────────────────────────────▶  (Handshake.reply)
//                         ◀───────────────────── reply   (or deferral: A is connecting to C and
//                                                          A < C, so A's connection is kept)
//   proof ─────────────────────────────────────▶  verified: A adopts the connection
//                         ◀───────────────────── ack (1 byte); C adopts it, sends its queued frames
//
// C adopts only after A's ack, so a connection A gave up on (its handshake timeout, or too many
// pending accepts) is never used: C sees it closed and connects again, up to ``maximumAttempts``
// times; a refused connect means the peer's listener is gone and the peer fails. When both ranks
// connect at once, the higher rank answers the lower rank's hello and, once the lower rank's
// connection is authenticated, drops its own attempt if that has not sent its proof yet (after the
// proof the peer may have adopted it: it is kept); the lower rank defers the higher one's. A rank
// sends only on the first connection it adopted for a peer and reads every connection, so order
// holds when a race leaves two.

extension TCPTransport {
    /// The acceptor's last handshake message: "adopted".
    static let acknowledgement: [UInt8] = [0x06]

    /// A connection in its handshake, driven by progress without blocking.
    final class Opening {
        enum Stage { case connecting, awaitingReply, awaitingAcknowledgement, awaitingHello, awaitingProof }
        /// The socket; -1 once a ``Connection`` owns it.
        var fd: Int32
        /// The peer: known from the start when this rank connects, from the hello when it accepts.
        var peer: Int?
        var stage: Stage
        var received: [UInt8] = []
        var nonce: [UInt8] = []
        /// Set when the peer's own connection to this rank is kept instead (dropped at the next step).
        var abandoned = false
        /// When a connection still connecting fails, or an accepted one is closed if its handshake
        /// is not done (none for one awaiting the acceptor: it may compute for as long as it likes).
        let deadline: Double

        /// True for a connection this rank is making (not accepting).
        var isOutbound: Bool { stage == .connecting || stage == .awaitingReply || stage == .awaitingAcknowledgement }

        init(fd: Int32, peer: Int?, stage: Stage, deadline: Double) {
            self.fd = fd
            self.peer = peer
            self.stage = stage
            self.deadline = deadline
        }

        deinit { if fd >= 0 { close(fd) } }
    }

    /// Where a handshake stands after ``step(_:)``.
    enum HandshakeProgress {
        /// It needs bytes that have not arrived.
        case waiting
        /// Done: the socket is `peer`'s connection.
        case authenticated(Int)
        /// Given up without a failure: the other side's connection is kept.
        case withdrawn
    }

    /// Connects now, instead of on demand: to every lower rank in `peers` at `endpoints[peer]`, and
    /// waits for every higher one to connect. Throws when a peer cannot be reached or the handshakes
    /// do not complete within `timeout` seconds. (Jobs connect on demand; tests use this.)
    public func connect(peers: [Int], endpoints: [Int: String], timeout: Double = 30) throws(TransportError) {
        knownEndpoints.merge(endpoints) { $1 }
        for peer in peers where peer < rank { reachOut(to: peer) }
        let deadline = Handshake.now() + timeout
        while true {
            advanceOpenings()
            if let failure = failures.first(where: { peers.contains($0.peer) }) { throw TransportError(failure.reason) }
            let missing = peers.filter { connections[$0] == nil }
            if missing.isEmpty { return }
            guard Handshake.now() < deadline else {
                throw TransportError("ranks \(missing) did not connect within \(Int(timeout)) s")
            }
            waitForInput(milliseconds: 10)
        }
    }

    /// The first packet to `peer` finds no connection: starts one unless one is being made, and
    /// keeps a copy of the frame to send first once it is ready (so a send completes locally, as
    /// over an open connection). True: the frame is taken — queued, or dropped when the peer failed.
    @inline(never)
    func queueWhileConnecting(
        to peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer, trailer: UnsafeRawBufferPointer
    ) -> Bool {
        reachOut(to: peer)
        guard !failed[peer] else { return true }
        var frame = (kind, UInt8(0), UInt16(0), UInt32(truncatingIfNeeded: payload.count + trailer.count), header)
        withUnsafeBytes(of: &frame) { waitingFrames[peer, default: []] += $0.prefix(Self.frameHeaderLength) }
        waitingFrames[peer]! += payload
        waitingFrames[peer]! += trailer
        return true
    }

    /// Makes sure a connection to `peer` exists or this rank is making one; a peer that cannot be
    /// reached fails (``takeEvents()``). Called for the first packet to a peer, for receives posted
    /// for it, and by waits idle for a while for the sources of their receives (a peer that died
    /// before sending anything is noticed so). A connection the peer is making to this rank does not
    /// count until it is authenticated: anyone can claim to be a peer.
    public func reachOut(to peer: Int) {
        guard connections[peer] == nil, !failed[peer], !openings.contains(where: { $0.peer == peer && $0.isOutbound && !$0.abandoned }) else {
            return
        }
        guard let endpoint = knownEndpoints[peer] ?? endpointResolver?(peer) else {
            fail(peer, "rank \(peer) published no TCP endpoint")
            return
        }
        knownEndpoints[peer] = endpoint
        do {
            let fd = try TCPSocket.startConnecting(endpoint)
            openings.append(Opening(fd: fd, peer: peer, stage: .connecting, deadline: Handshake.now() + connectTimeout))
        } catch {
            fail(peer, "cannot connect to rank \(peer) at \(endpoint): \(error)")
        }
    }

    /// Accepts peers' new connections and moves every handshake on as far as its bytes allow.
    func advanceOpenings() {
        for _ in 0..<16 {
            var fd: Int32 = -1
            let error = cshims_accept_nonblocking(listenFD, &fd)
            if error == EMFILE || error == ENFILE { dropOldestAccept() }
            guard error == 0 else { break }
            openings.append(Opening(fd: fd, peer: nil, stage: .awaitingHello, deadline: Handshake.now() + Self.handshakeTimeout))
            if openings.count(where: { !$0.isOutbound }) > Self.maximumPendingAccepts { dropOldestAccept() }
        }
        var index = 0
        while index < openings.count {
            let opening = openings[index]
            do {
                switch opening.abandoned ? .withdrawn : try step(opening) {
                case .waiting:
                    index += 1
                case .withdrawn:
                    openings.remove(at: index)
                case .authenticated(let peer):
                    openings.remove(at: index)
                    let accepted = opening.stage == .awaitingProof
                    if accepted { acceptedCount += 1 } else { openedCount += 1 }
                    attempts[peer] = nil
                    adopt(opening, peer: peer)
                    // Both ranks connected at once and this rank's attempt lost: drop it — unless it
                    // sent its proof, when the peer may have adopted it already: it is kept, as a
                    // connection only read.
                    if accepted {
                        for other in openings where other.peer == peer && (other.stage == .connecting || other.stage == .awaitingReply) {
                            other.abandoned = true
                        }
                    }
                }
            } catch {
                openings.remove(at: index)
                handshakeFailed(opening, error)
            }
        }
    }

    /// Closes the accepted connection waiting longest for its handshake (a real connector connects
    /// again).
    private func dropOldestAccept() {
        guard let oldest = openings.firstIndex(where: { !$0.isOutbound }) else { return }
        Self.log("rank \(rank): closed a TCP connection from \(TCPSocket.peerName(openings[oldest].fd)): too many connections in their handshake")
        openings.remove(at: oldest)
    }

    /// A handshake ended with `error`. This rank's own connection to a peer is made again if the
    /// peer closed it (it gave up waiting), and fails the peer otherwise (refused: nobody listens
    /// there any more; or it did not authenticate). An accepted one is logged and closed, unless it
    /// closed before sending a byte.
    private func handshakeFailed(_ opening: Opening, _ error: WireupError) {
        let closedByPeer: Bool
        switch error {
        case .closed: closedByPeer = true
        case .system(_, let code): closedByPeer = code == ECONNRESET || code == EPIPE
        default: closedByPeer = false
        }
        if opening.isOutbound, let peer = opening.peer {
            let attempt = (attempts[peer] ?? 0) + 1
            attempts[peer] = attempt
            if closedByPeer && opening.stage != .connecting && attempt < Self.maximumAttempts {
                reachOut(to: peer)
            } else {
                fail(peer, "cannot connect to rank \(peer)\(knownEndpoints[peer].map { " at \($0)" } ?? ""): \(error)")
            }
            return
        }
        // Closed before a byte, or after a valid hello (a peer's attempt that lost the race when both
        // connected at once): nothing to report.
        switch error {
        case .closed where opening.stage == .awaitingHello && opening.received.isEmpty: return
        case _ where closedByPeer && opening.stage == .awaitingProof:
            if let peer = opening.peer, waitingFrames[peer] != nil { reachOut(to: peer) }
            return
        default: break
        }
        Self.log("rank \(rank): rejected a TCP connection from \(TCPSocket.peerName(opening.fd)): \(error)")
        // It named a peer and broke before proving it: if this rank has frames for that peer, make
        // sure a connection is on its way (the claim may have been false).
        if let peer = opening.peer, waitingFrames[peer] != nil { reachOut(to: peer) }
    }

    /// Reads what `opening`'s next handshake message has of new bytes and answers it once whole.
    private func step(_ opening: Opening) throws(WireupError) -> HandshakeProgress {
        if opening.stage == .connecting {
            guard try TCPSocket.isConnected(opening.fd) else {
                if Handshake.now() > opening.deadline { throw .handshake("not connected within \(Int(connectTimeout.rounded(.up))) s") }
                return .waiting
            }
            let (hello, nonce) = try handshake.hello(id: UInt32(rank))
            try Self.sendWhole(opening.fd, hello)
            opening.nonce = nonce
            opening.stage = .awaitingReply
        }
        while true {
            let needed: Int
            switch opening.stage {
            case .connecting: return .waiting
            case .awaitingHello: needed = Handshake.helloLength
            case .awaitingProof: needed = Handshake.proofLength
            case .awaitingReply: needed = Handshake.replyLength
            case .awaitingAcknowledgement: needed = Self.acknowledgement.count
            }
            var chunk = [UInt8](repeating: 0, count: needed - opening.received.count)
            let outcome = try wireupNonblockingSystemCall("recv") {
                chunk.withUnsafeMutableBytes { recv(opening.fd, $0.baseAddress!, $0.count, Int32(MSG_DONTWAIT)) }
            }
            switch outcome {
            case .done(0): throw .closed
            case .done(let n): opening.received += chunk[0..<n]
            case .wouldBlock:
                if !opening.isOutbound && Handshake.now() > opening.deadline {
                    throw .handshake("none within \(Int(Self.handshakeTimeout)) s")
                }
                return .waiting
            }
            if opening.stage == .awaitingHello && !handshake.canBeginHello(opening.received[...]) {
                throw .handshake("not a SwiftMPI handshake")
            }
            if opening.stage == .awaitingReply && opening.received.starts(with: handshake.deferral) { return .withdrawn }
            guard opening.received.count == needed else { return .waiting }
            let message = opening.received
            opening.received = []
            switch opening.stage {
            case .connecting: return .waiting
            case .awaitingHello:
                let (reply, nonce, connector) = try handshake.reply(answering: message, id: UInt32(rank)) {
                    Int($0) < self.size && Int($0) != self.rank && !self.failed[Int($0)]
                }
                let peer = Int(connector)
                // Both ranks connecting at once: the lower rank's connection is kept. (A rank that
                // already holds one defers too: the peer adopts it at the acknowledgement.)
                let connecting = openings.contains { $0.peer == peer && $0.isOutbound && !$0.abandoned }
                if connections[peer] != nil || (connecting && rank < peer) {
                    try Self.sendWhole(opening.fd, handshake.deferral)
                    return .withdrawn
                }
                try Self.sendWhole(opening.fd, reply)
                opening.nonce = nonce
                opening.peer = peer
                opening.stage = .awaitingProof
            case .awaitingProof:
                try handshake.verify(proof: message, nonce: opening.nonce, connector: UInt32(opening.peer!), id: UInt32(rank))
                try Self.sendWhole(opening.fd, Self.acknowledgement)
                return .authenticated(opening.peer!)
            case .awaitingReply:
                let (proof, _) = try handshake.proof(answering: message, nonce: opening.nonce, id: UInt32(rank), expected: UInt32(opening.peer!))
                try Self.sendWhole(opening.fd, proof)
                opening.stage = .awaitingAcknowledgement
            case .awaitingAcknowledgement:
                guard message == Self.acknowledgement else { throw .handshake("bad acknowledgement") }
                return .authenticated(opening.peer!)
            }
        }
    }

    /// Sends a handshake message in one call: a new socket's buffer always takes it whole.
    private static func sendWhole(_ fd: Int32, _ bytes: [UInt8]) throws(WireupError) {
        let outcome = try wireupNonblockingSystemCall("send") {
            bytes.withUnsafeBytes { send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        }
        guard case .done(let n) = outcome, n == bytes.count else { throw .handshake("a message did not fit the socket's buffer") }
    }

    /// Makes an authenticated socket `peer`'s connection: the one its packets are sent on if it has
    /// none yet (its queued frames go first), else a second one that is only read.
    private func adopt(_ opening: Opening, peer: Int) {
        let fd = opening.fd
        opening.fd = -1
        guard !failed[peer] else {
            close(fd)
            return
        }
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var bufferSize: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bufferSize, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bufferSize, socklen_t(MemoryLayout<Int32>.size))
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        if let lostHostTimeout { Self.probeWhenIdle(fd, timeout: lostHostTimeout) }
        let connection = Connection(fd: fd)
        active.append((peer, connection))
        guard connections[peer] == nil else { return }
        connections[peer] = connection
        if let frames = waitingFrames.removeValue(forKey: peer) {
            connection.pending = frames
            flush(connection, peer: peer)
        }
    }
}
