#if canImport(Glibc)
import Glibc
#endif
import CShims
import SwiftMPIWireup

/// Moves packets between ranks over TCP: the fallback between hosts, and forced with
/// `SWIFTMPI_TRANSPORT=tcp`.
///
/// Connections are made on demand (TCPTransport+Connections.swift): the first packet to a peer, or
/// a receive from it, starts one; progress drives the handshake and accepts peers' connections, so
/// neither side ever blocks on the other, and a rank holds connections only to the ranks it talks
/// to. Sockets are nonblocking with TCP_NODELAY; a frame's header and payload start in one
/// `sendmsg` (gather), a large payload going on in larger calls (see ``firstPiece``); partial writes
/// are kept (copied, or borrowed from a large message's buffer: see
/// `trySend(to:kind:header:payload:borrowing:streaming:)`) and finished by progress once the socket has room, partial reads are reassembled, and the rest of a
/// large frame is read in reads of at least ``readLowWater`` bytes. Progress polls the sockets while
/// a rank waits.
///
/// ```
/// frame   ┌──────┬───────┬──────────┬──────────────┬──────────────────────┐
///         │ kind │ 0 0 0 │ length   │ header (32B) │ payload (length B)   │
///         │ u8   │       │ u32 LE   │ engine's     │ ≤ maxPayload         │
///         └──────┴───────┴──────────┴──────────────┴──────────────────────┘
/// ```
/// Each connection starts with the mutual ``Handshake`` (magic "SMTC", ids = ranks); nothing else is
/// read before it succeeds.
/// The secret never crosses the network. A connection that fails the handshake (or sends bytes that
/// cannot begin one, or does not finish it within ``handshakeTimeout``) is logged and closed; the job
/// goes on.
public final class TCPTransport: Transport {
    /// The largest payload of one frame; larger messages go as several data frames. 1 MiB measured
    /// best on loopback (1 MiB osu_bw: 64 KiB frames ~4.0 GB/s, 256 KiB ~5.0–5.9, 1 MiB ~7.4; Open MPI
    /// 5.4 in the same runs), once the unsent rest of a large fragment is sent from the user's buffer
    /// instead of being copied (`borrowing`).
    public static let maxPayload = 1024 * 1024
    /// Frames from this payload size up may be read straight to where the engine wants them.
    static let directThreshold = 32 * 1024
    /// The most a read that starts a frame takes into the staging buffer (see `receive`).
    static let frameStartRead = 16 * 1024
    /// How a large payload is handed to the kernel: the first `firstPiece` bytes in the call that
    /// sends the header, so the peer starts copying at once; then the rest in one call — unless the
    /// engine says more large messages wait behind it (`streaming`) and the peer has not yet taken
    /// all of the first piece (the kernel's queue, `TIOCOUTQ` alias `SIOCOUTQ`, is not empty: the
    /// peer is behind). A stream's frames then go in `sendPiece`-byte calls, so the socket's lock is
    /// let go and acknowledgements are handled between them.
    /// Measured over loopback, interleaved with Open MPI in both vCPU placements (issue #29):
    /// 256 KiB pieces throughout gave 1 MiB ping-pong 141 µs in the slow placement against Open
    /// MPI's 133; the whole rest in one call 132 but osu_bw at 1 MiB 8.0–9.2 GB/s against 8.8;
    /// 512 KiB pieces throughout 10.6 GB/s but ping-pong 105 µs against 99 in the fast placement.
    /// Choosing by `TIOCOUTQ` alone split lone messages too where the peer's kernel had not yet
    /// acknowledged the first piece: 2026-12-06 evening, slow placement, 95–99 % of 1 MiB ping-pong
    /// messages went in two 512 KiB-ish calls, 228 µs against Open MPI's 205 (the rest in one call:
    /// 201; every extra call cost 10–25 µs there: 256 KiB pieces 247). Sending header and whole
    /// payload in one call instead of a first piece: 1 MiB 198 µs, but 4 MiB (four frames) 900–930
    /// against 827–843 and Open MPI's 819–855.
    static let firstPiece = 64 * 1024
    /// See ``firstPiece``.
    static let sendPiece = 512 * 1024
    /// The rest of a large frame is read in reads of at least this many bytes, and only frames with
    /// at least twice this much left are read so (the last part is read as it comes). The socket's
    /// receive low-water mark (`SO_RCVLOWAT`) is set to it, so poll(2) calls the socket readable, and
    /// the kernel wakes it, only once that much has arrived; a read is tried only then. Spinning on
    /// `recv` instead read ~130 KiB per call and took the socket's lock against the sender's packets
    /// on every try; where the two vCPUs are hyperthreads of one core it also took the core from
    /// the sender: 4 MiB osu_bw over loopback 6.0–6.5 GB/s against Open MPI's 7.4–8.4, now 10–11.
    static let readLowWater = 64 * 1024
    /// Spin-wait hints (PAUSE) a poll spends when it delivered no frame and a frame under way could
    /// not go on (its socket not ready): ~1 µs on this machine's AMD EPYC (the hint's length varies
    /// by CPU: shorter on older AMD cores, longer on recent Intel ones, a no-op-like `yield` on ARM),
    /// in which the core is left to the peer's hyperthread.
    static let backoffHints = 50

    /// Where the payload of a large frame may be read to instead of the staging buffer: given the
    /// sender's rank, kind, header and payload length, the engine names memory of that many bytes
    /// (the posted receive's buffer, bounds checked), or nil. The frame is then delivered with its
    /// payload already there (`payload.baseAddress` is the named memory).
    public typealias Placement = (Int, PacketKind, PacketHeader, Int) -> UnsafeMutableRawPointer?
    static let frameHeaderLength = 40

    final class Connection {
        let fd: Int32
        /// The unsent rest of a frame the kernel took only partly, copied (header bytes, and the
        /// payload of frames whose sender may reuse its buffer at once) ...
        var pending: [UInt8] = []
        var pendingStart = 0
        /// ... followed by the unsent rest of a borrowed payload, still in the sender's buffer.
        var borrowed = UnsafeRawBufferPointer(start: nil, count: 0)
        var hasUnsent: Bool { pendingStart < pending.count || !borrowed.isEmpty }
        /// Received bytes not yet delivered: small at first, grown once to hold the largest frame when
        /// the peer sends one (so a job of many ranks keeps 128 KiB, not 1 MiB, per quiet connection).
        var input: UnsafeMutableRawBufferPointer
        var inputStart = 0
        var inputEnd = 0
        /// A large frame being read straight to its destination (``Placement``): the rest of its
        /// payload goes to `directNext`, then the frame is delivered from `directStart`.
        var directNext: UnsafeMutableRawPointer?
        var directRemaining = 0
        var directStart: UnsafeMutableRawPointer?
        var directFrame: (kind: PacketKind, header: PacketHeader, length: Int) = (0, PacketHeader(), 0)
        /// Set when the engine abandoned the peer (``abandon(peer:reason:)``) while such a frame was
        /// under way: the rest of it is read into `input` and dropped, and the frame not delivered.
        var directDiscarded = false
        /// Set when its peer failed: skipped by progress, then dropped.
        var broken = false
        /// The socket's receive low-water mark: 1, or ``readLowWater`` while a large frame's rest is read.
        var lowWater = 1

        init(fd: Int32) {
            self.fd = fd
            input = .allocate(byteCount: TCPTransport.frameHeaderLength + 128 * 1024, alignment: 64)
        }

        deinit {
            input.deallocate()
            close(fd)
        }
    }

    public let rank: Int
    public let size: Int
    /// "address:port" where this rank accepts its peers, published at wire-up.
    public let endpoint: String
    let listenFD: Int32
    let handshake: Handshake
    /// The connection each peer's packets are sent on (nil: none yet, or the peer failed).
    var connections: [Connection?]
    /// Every authenticated connection, read by progress: one per connected peer, two for a pair
    /// that connected to each other at once.
    var active: [(peer: Int, connection: Connection)] = []
    var hasBroken = false
    /// Connections still in their handshake, either way.
    var openings: [Opening] = []
    /// Frames sent to peers whose connection is still being made, in order (copied).
    var waitingFrames: [Int: [UInt8]] = [:]
    /// Peers that failed: packets to them are dropped, their connections refused.
    var failed: [Bool]
    /// Endpoints given to ``connect(peers:endpoints:timeout:)``, asked of ``endpointResolver`` otherwise.
    var knownEndpoints: [Int: String] = [:]
    /// Peers whose connection broke since the last ``takeFailures()``, with the reason.
    var failures: [(peer: Int, reason: String)] = []
    private var pollCount = 0
    /// Set by a poll in which a frame under way could not go on (its socket not yet readable or
    /// writable enough): the poll then ends with a short backoff.
    private var waited = false
    var openedCount = 0
    var acceptedCount = 0
    /// Seconds after which a peer whose host stopped answering counts as failed, once
    /// ``detectLostHosts(after:)`` turned the detection on (TCPTransport+Liveness.swift).
    var lostHostTimeout: Double?

    /// Looks up a peer's endpoint ("address:port") before the first connection to it; nil when the
    /// peer published none (the peer then fails). Called once per peer (the answer is kept), from
    /// the data path's caller: the runtime sets it to a key-value `get`.
    public var endpointResolver: ((Int) -> String?)?
    /// Seconds an accepted connection has to finish its handshake before it is closed (its
    /// connector then connects again: see TCPTransport+Connections.swift).
    public static let handshakeTimeout = 10.0
    /// Seconds a connect(2) to a peer's listener may take before the peer fails.
    static let connectTimeout = 30.0
    /// ``connectTimeout``, or max(4, twice the lost-host timeout) when that detection is on (the
    /// peer's kernel answers a connect even while the peer computes: no answer to three SYNs means
    /// its host is gone).
    var connectTimeout: Double { lostHostTimeout.map { max(4, 2 * $0) } ?? Self.connectTimeout }
    /// Accepted connections still in their handshake beyond this many: the oldest is closed (a
    /// flood of silent clients cannot take the rank's descriptors).
    static let maximumPendingAccepts = 64
    /// Times in a row a connection to a peer may be closed by it during the handshake (it gave up
    /// waiting while this rank computed) before the peer fails.
    static let maximumAttempts = 8
    /// Consecutive connection attempts to each peer closed during their handshake.
    var attempts: [Int: Int] = [:]

    /// "tcp: N connections (O opened, A accepted)" (`SWIFTMPI_DEBUG=1` at finalize): connections
    /// held, and of those made, how many this rank opened and how many it accepted.
    public var statistics: String? { "tcp: \(active.count) connections (\(openedCount) opened, \(acceptedCount) accepted)" }

    /// The transport's limits.
    /// Frames up to ``maxPayload``; eager up to 64 KiB (a rendezvous round trip costs more than
    /// copying that much twice); large payloads sent from the caller's memory; sleeps in poll(2).
    public var capabilities: TransportCapabilities {
        TransportCapabilities(name: "tcp", maxPayload: Self.maxPayload, eagerLimit: 64 * 1024, sendsFromCallerMemory: true, canWaitForInput: true)
    }

    /// Listens on `address` (IPv4, port chosen by the kernel); connects to no peer yet.
    public init(rank: Int, size: Int, address: String, secret: JobSecret) throws(TransportError) {
        self.rank = rank
        self.size = size
        connections = Array(repeating: nil, count: size)
        failed = Array(repeating: false, count: size)
        do {
            let (fd, port) = try TCPSocket.listen(address: address)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)  // accepts are tried by progress
            listenFD = fd
            endpoint = "\(address):\(port)"
        } catch {
            throw TransportError("cannot listen for peers: \(error)")
        }
        handshake = Handshake(magic: "SMTC", secret: secret)
    }

    deinit { close(listenFD) }

    // MARK: - Data path

    /// Sends one frame to `peer` if nothing of an earlier frame is still waiting; false means no
    /// resources now. A frame the kernel takes only partly is finished by later progress: its rest is
    /// copied, so the caller's buffer is free when this returns true — unless `borrowing`, when the
    /// payload's rest is sent from the caller's buffer, which must then stay untouched until
    /// ``isSendingCallerMemory(to:)`` turns false (large messages: no copy of what the kernel did not take).
    public func trySend(to peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer) -> Bool {
        trySend(to: peer, kind: kind, header: header, payload: payload, borrowing: false)
    }

    /// Sends one frame, the unsent rest of its payload later from the caller's memory
    /// (``isSendingCallerMemory(to:)``); a large payload's rest goes in one call unless `streaming`
    /// (see ``firstPiece``).
    public func trySendKeepingPayload(to peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer, streaming: Bool) -> Bool {
        trySend(to: peer, kind: kind, header: header, payload: payload, borrowing: true, streaming: streaming)
    }

    /// True while part of a payload from ``trySendKeepingPayload(to:kind:header:payload:streaming:)`` is unsent.
    public func isSendingCallerMemory(to peer: Int) -> Bool { isBorrowing(peer) }

    /// Sends one frame of `payload` then `trailer`, gathered by the same `sendmsg` (no copy); what
    /// the kernel does not take at once is copied.
    public func trySend(to peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer, trailer: UnsafeRawBufferPointer) -> Bool {
        trySend(to: peer, kind: kind, header: header, payload: payload, trailer: trailer, borrowing: false)
    }

    private func trySend(
        to peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer,
        trailer: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0), borrowing: Bool, streaming: Bool = false
    ) -> Bool {
        guard let connection = connections[peer] else {
            return queueWhileConnecting(to: peer, kind: kind, header: header, payload: payload, trailer: trailer)
        }
        if connection.hasUnsent {
            flush(connection, peer: peer)
            if connection.hasUnsent { return false }
        }
        var frame = (kind, UInt8(0), UInt16(0), UInt32(truncatingIfNeeded: payload.count + trailer.count), header)
        let total = Self.frameHeaderLength + payload.count + trailer.count
        // The payload bytes offered with the header: all of them, or a large payload's first piece.
        let firstPayload = trailer.isEmpty ? min(payload.count, Self.firstPiece) : payload.count
        let outcome: Result<Int, SystemCallError> = withUnsafeMutableBytes(of: &frame) { head in
            // Header and payload (and trailer) leave in one system call, without copying or allocating.
            var vectors = (
                iovec(iov_base: head.baseAddress, iov_len: Self.frameHeaderLength),
                iovec(
                    iov_base: UnsafeMutableRawPointer(mutating: payload.baseAddress),
                    iov_len: firstPayload),
                iovec(iov_base: UnsafeMutableRawPointer(mutating: trailer.baseAddress), iov_len: trailer.count)
            )
            return withUnsafeMutableBytes(of: &vectors) { iov in
                var message = msghdr()
                message.msg_iov = iov.baseAddress!.assumingMemoryBound(to: iovec.self)
                message.msg_iovlen = trailer.count > 0 ? 3 : payload.count > 0 ? 2 : 1
                do throws(SystemCallError) {
                    switch try nonblockingSystemCall("sendmsg", { sendmsg(connection.fd, &message, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }) {
                    case .done(let n): return .success(n)
                    case .wouldBlock: return .success(0)
                    }
                } catch {
                    return .failure(error)
                }
            }
        }
        var written: Int
        switch outcome {
        case .success(let n): written = n
        case .failure(let error):
            fail(peer, "\(error)")
            return true
        }
        if trailer.isEmpty && written == Self.frameHeaderLength + firstPayload && written < total {  // a large payload's rest
            let rest = UnsafeRawBufferPointer(rebasing: payload[(written - Self.frameHeaderLength)...])
            let whole = !streaming || isAwaited(connection)
            switch sendPieces(connection.fd, rest, piece: whole ? rest.count : Self.sendPiece) {
            case .success(let n): written += n
            case .failure(let error):
                fail(peer, "\(error)")
                return true
            }
        }
        if written < total {  // keep the rest, in order
            connection.pending.removeAll(keepingCapacity: true)
            connection.pendingStart = 0
            withUnsafeBytes(of: &frame) { head in
                if written < Self.frameHeaderLength { connection.pending += head[written..<Self.frameHeaderLength] }
            }
            let payloadSent = max(0, written - Self.frameHeaderLength)
            if payload.count > payloadSent {
                if borrowing {
                    connection.borrowed = UnsafeRawBufferPointer(rebasing: payload[payloadSent...])
                } else {
                    connection.pending += payload[payloadSent...]
                }
            }
            let trailerSent = max(0, written - Self.frameHeaderLength - payload.count)
            if trailer.count > trailerSent { connection.pending += trailer[trailerSent...] }
        }
        return true
    }

    /// True when every byte sent on `connection`, the first piece of the frame under way included,
    /// is already acknowledged (the kernel's queue, `TIOCOUTQ`, is empty): the peer is reading as
    /// fast as it arrives, and even a stream's frame goes in one call (``firstPiece``). Usually a
    /// stream's peer is behind and bytes are queued; over a network with a real round trip the
    /// first piece is never acknowledged this soon, and frames go in ``sendPiece``-byte calls. (Asking only whether
    /// the bytes before this frame were acknowledged chose the single call in streams too on
    /// loopback: 1 MiB osu_bw in the fast placement 9.2 GB/s against 11.6, Open MPI 9.0.)
    private func isAwaited(_ connection: Connection) -> Bool {
        var queued: Int32 = 0
        return ioctl(connection.fd, UInt(TIOCOUTQ), &queued) == 0 && queued == 0
    }

    /// Sends `bytes` in pieces of at most `size` bytes until the kernel takes less than a whole piece:
    /// the bytes taken.
    private func sendPieces(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, piece size: Int = TCPTransport.sendPiece) -> Result<Int, SystemCallError> {
        var sent = 0
        while sent < bytes.count {
            let piece = min(bytes.count - sent, size)
            do {
                switch try nonblockingSystemCall("send", { send(fd, bytes.baseAddress! + sent, piece, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }) {
                case .done(let n):
                    sent += n
                    if n < piece { return .success(sent) }
                case .wouldBlock: return .success(sent)
                }
            } catch {
                return .failure(error)
            }
        }
        return .success(sent)
    }

    /// True while part of a borrowed payload sent to `peer` is still in its sender's buffer.
    private func isBorrowing(_ peer: Int) -> Bool {
        guard let connection = connections[peer] else { return false }
        if !connection.borrowed.isEmpty { flush(connection, peer: peer) }
        return !connection.borrowed.isEmpty
    }

    func flush(_ connection: Connection, peer: Int) {
        // Sent only once the kernel has room for a good part of it (POLLOUT: a third of the send
        // buffer free), not in the dribs an acknowledgement frees -- the same lock argument as
        // ``readLowWater``.
        guard isReady(connection, for: POLLOUT) else {
            waited = true
            return
        }
        if connection.pendingStart < connection.pending.count {
            let outcome = connection.pending.withUnsafeBytes { sendPieces(connection.fd, UnsafeRawBufferPointer(rebasing: $0[connection.pendingStart...])) }
            switch outcome {
            case .success(let n): connection.pendingStart += n
            case .failure(let error):
                fail(peer, "\(error)")
                return
            }
            guard connection.pendingStart == connection.pending.count else { return }
        }
        connection.pending.removeAll(keepingCapacity: true)
        connection.pendingStart = 0
        guard !connection.borrowed.isEmpty else { return }
        switch sendPieces(connection.fd, connection.borrowed) {
        case .success(let n): connection.borrowed = UnsafeRawBufferPointer(rebasing: connection.borrowed[n...])
        case .failure(let error):
            connection.borrowed = UnsafeRawBufferPointer(start: nil, count: 0)
            fail(peer, "\(error)")
        }
    }

    /// True while some frame has bytes the kernel has not taken yet.
    public var hasPendingOutput: Bool {
        !waitingFrames.isEmpty || active.contains { $0.connection.hasUnsent }
    }

    /// Reads what has arrived and hands each whole frame to `sink`, large frames read straight to
    /// where its ``PacketSink/placement(from:kind:header:length:)`` says. Returns the frames delivered.
    public func poll<Sink: PacketSink>(into sink: Sink) -> Int {
        poll(place: { sink.placement(from: $0, kind: $1, header: $2, length: $3) }) {
            sink.deliver(from: $0, kind: $1, header: $2, payload: $3)
        }
    }

    /// Broken connections, as events.
    public var hasEvents: Bool { !failures.isEmpty }

    /// Broken connections since the last call, as events.
    public func takeEvents() -> [TransportEvent] { takeFailures().map { .peerFailed(peer: $0.peer, reason: $0.reason) } }

    /// Reads what has arrived and hands each whole frame to `deliver` (sender's rank, kind, header,
    /// payload valid during the call), large frames read straight to where `place` says. Returns the
    /// number of frames delivered.
    public func poll(
        place: Placement = { _, _, _, _ in nil },
        _ deliver: (Int, PacketKind, PacketHeader, UnsafeRawBufferPointer) -> Void
    ) -> Int {
        var delivered = 0
        // Peers' new connections are looked for every 32nd poll (an accept(2) each), handshakes
        // under way at every poll.
        pollCount &+= 1
        waited = false  // (a flush outside poll may have set it)
        if !openings.isEmpty || pollCount & 31 == 0 { advanceOpenings() }
        var index = 0
        while index < active.count {  // (a delivery may append a connection; none is removed here)
            let (peer, connection) = active[index]
            index += 1
            if connection.broken { continue }
            if connection.hasUnsent { flush(connection, peer: peer) }
            delivered += receive(connection, peer: peer, place, deliver)
        }
        if hasBroken {
            active.removeAll { $0.connection.broken }
            hasBroken = false
        }
        if waited {
            waited = false
            if delivered == 0 { backOff() }
        }
        return delivered
    }

    /// A short spin-wait that leaves the core to a hyperthread sibling -- where the peer may be the
    /// one copying the bytes this rank waits for -- without a system call or a sleep (a poll(2)
    /// sleep would cost a wake-up per read; measured slower for latency).
    @inline(never)
    private func backOff() {
        for _ in 0..<Self.backoffHints { cshims_cpu_relax() }
    }

    private func receive(
        _ connection: Connection, peer: Int, _ place: Placement,
        _ deliver: (Int, PacketKind, PacketHeader, UnsafeRawBufferPointer) -> Void
    ) -> Int {
        if connection.directRemaining > 0 { return receiveDirect(connection, peer: peer, deliver) }
        makeRoom(connection)
        let input = connection.input
        // A read that starts a frame takes at most `frameStartRead` bytes: enough for a run of small
        // frames, while a large frame's payload is read straight to its destination instead of being
        // staged and copied (a 128 KiB first read copied an eighth of every 1 MiB fragment).
        let room = input.count - connection.inputEnd
        let count = connection.inputEnd == connection.inputStart ? min(room, Self.frameStartRead) : room
        guard let n = receiveBytes(connection, peer: peer, into: input.baseAddress! + connection.inputEnd, count: count) else { return 0 }
        connection.inputEnd += n
        var delivered = 0
        while connection.inputEnd - connection.inputStart >= Self.frameHeaderLength {
            let frame = input.baseAddress! + connection.inputStart
            let length = Int(frame.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            guard length <= Self.maxPayload else {
                fail(peer, "malformed frame of \(length) bytes from rank \(peer)")
                return delivered
            }
            let kind = frame.load(as: UInt8.self)
            let header = frame.loadUnaligned(fromByteOffset: 8, as: PacketHeader.self)
            guard connection.inputEnd - connection.inputStart >= Self.frameHeaderLength + length else {
                // An incomplete large frame: read the rest of it straight to its destination, if any
                // (no staging copy; measured: 1 MiB ping-pong over loopback 245 → 150 µs, Open MPI 120–137).
                if length >= Self.directThreshold, let destination = place(peer, kind, header, length) {
                    let have = connection.inputEnd - connection.inputStart - Self.frameHeaderLength
                    if have > 0 { destination.copyMemory(from: frame + Self.frameHeaderLength, byteCount: have) }
                    connection.directStart = destination
                    connection.directNext = destination + have
                    connection.directRemaining = length - have
                    connection.directFrame = (kind, header, length)
                    if connection.directRemaining >= 2 * Self.readLowWater { setLowWater(connection, Self.readLowWater) }
                    connection.inputStart = 0
                    connection.inputEnd = 0
                }
                break
            }
            deliver(peer, kind, header, UnsafeRawBufferPointer(start: frame + Self.frameHeaderLength, count: length))
            connection.inputStart += Self.frameHeaderLength + length
            delivered += 1
        }
        if connection.inputStart == connection.inputEnd { connection.inputStart = 0; connection.inputEnd = 0 }
        return delivered
    }

    /// Reads more of a large frame straight to its destination; delivers it once complete.
    private func receiveDirect(
        _ connection: Connection, peer: Int,
        _ deliver: (Int, PacketKind, PacketHeader, UnsafeRawBufferPointer) -> Void
    ) -> Int {
        // Read only once the low-water mark's worth has arrived (see ``readLowWater``); the last part
        // of the frame is read as it comes, the mark let go first.
        if connection.lowWater > 1 && !isReady(connection, for: POLLIN) {
            waited = true
            return 0
        }
        if connection.directDiscarded { return discardDirect(connection, peer: peer) }
        guard let n = receiveBytes(connection, peer: peer, into: connection.directNext!, count: connection.directRemaining) else { return 0 }
        connection.directNext! += n
        connection.directRemaining -= n
        if connection.lowWater > 1 && connection.directRemaining < 2 * connection.lowWater { setLowWater(connection, 1) }
        guard connection.directRemaining == 0 else { return 0 }
        let frame = connection.directFrame
        deliver(peer, frame.kind, frame.header, UnsafeRawBufferPointer(start: connection.directStart, count: frame.length))
        return 1
    }

    /// True when poll(2) reports `connection`'s socket ready for `event` (or broken: the system call
    /// that follows then finds out). Unlike a `recv` or `send` that finds nothing to do, it does not
    /// take the socket's lock, which the peer's packets need.
    private func isReady(_ connection: Connection, for event: Int32) -> Bool {
        var request = pollfd(fd: connection.fd, events: Int16(event), revents: 0)
        return Glibc.poll(&request, 1, 0) != 0
    }

    /// Sets the socket's receive low-water mark (`SO_RCVLOWAT`): poll(2) and the kernel's wake-ups
    /// report it readable once `bytes` have arrived. Reads are gated on it only if the kernel took
    /// it. Going back to 1 stops the gating even if the kernel refused: a nonblocking `recv` returns
    /// what has arrived whatever the mark, so no read waits on bytes that will not come (an idle
    /// ``waitForInput(milliseconds:)`` could then sleep its whole timeout before a small frame).
    private func setLowWater(_ connection: Connection, _ bytes: Int) {
        var value = Int32(bytes)
        if setsockopt(connection.fd, SOL_SOCKET, SO_RCVLOWAT, &value, socklen_t(MemoryLayout<Int32>.size)) == 0 || bytes == 1 {
            connection.lowWater = bytes
        }
    }

    /// Reads up to `count` bytes without blocking: how many arrived, or nil when none can be read
    /// now — or the connection broke or was closed, and then the peer is failed.
    private func receiveBytes(_ connection: Connection, peer: Int, into start: UnsafeMutableRawPointer, count: Int) -> Int? {
        do {
            switch try nonblockingSystemCall("recv", { recv(connection.fd, start, count, Int32(MSG_DONTWAIT)) }) {
            case .done(0):
                fail(peer, "connection closed by rank \(peer)")
                return nil
            case .done(let n):
                return n
            case .wouldBlock:
                return nil
            }
        } catch {
            fail(peer, "\(error)")
            return nil
        }
    }

    /// Moves undelivered bytes to the buffer's start when little room is left after them, and grows
    /// the buffer when the frame they begin is larger than it: afterwards the frame fits whole and at
    /// least 64 KiB are free for the next read.
    private func makeRoom(_ connection: Connection) {
        var needed = 0
        if connection.inputEnd - connection.inputStart >= Self.frameHeaderLength {
            let length = Int((connection.input.baseAddress! + connection.inputStart).loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            if length <= Self.maxPayload { needed = Self.frameHeaderLength + length }  // else refused on delivery
        }
        let free = connection.input.count - connection.inputEnd
        if connection.inputStart > 0 && (free < 64 * 1024 || connection.inputStart + needed > connection.input.count) {
            let remaining = connection.inputEnd - connection.inputStart
            if remaining > 0 {
                connection.input.baseAddress!.copyMemory(from: connection.input.baseAddress! + connection.inputStart, byteCount: remaining)
            }
            connection.inputStart = 0
            connection.inputEnd = remaining
        }
        if needed + 64 * 1024 > connection.input.count {
            let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.frameHeaderLength + Self.maxPayload + 64 * 1024, alignment: 64)
            grown.baseAddress!.copyMemory(from: connection.input.baseAddress!, byteCount: connection.inputEnd)
            connection.input.deallocate()
            connection.input = grown
        }
    }

    /// Peers whose connections broke since the last call, with the reasons.
    private func takeFailures() -> [(peer: Int, reason: String)] {
        defer { failures.removeAll() }
        return failures
    }

    /// ``Transport/abandon(peer:reason:)``: a frame of `peer`'s being read straight into a receive
    /// buffer is read on into `input` and dropped; the connection stays up.
    public func abandon(peer: Int, reason: String) {
        for (owner, connection) in active where owner == peer && connection.directRemaining > 0 { connection.directDiscarded = true }
    }

    /// Reads more of an abandoned frame into the connection's staging buffer and drops it.
    private func discardDirect(_ connection: Connection, peer: Int) -> Int {
        let count = min(connection.directRemaining, connection.input.count)
        guard let n = receiveBytes(connection, peer: peer, into: connection.input.baseAddress!, count: count) else { return 0 }
        connection.directRemaining -= n
        if connection.lowWater > 1 && connection.directRemaining < 2 * connection.lowWater { setLowWater(connection, 1) }
        if connection.directRemaining == 0 { connection.directDiscarded = false }
        return 0
    }

    func fail(_ peer: Int, _ reason: String) {
        guard !failed[peer] else { return }
        failed[peer] = true
        connections[peer] = nil
        waitingFrames[peer] = nil
        for entry in active where entry.peer == peer {
            entry.connection.broken = true
            hasBroken = true
        }
        failures.append((peer, reason))
    }

    /// Waits up to `milliseconds` for any connection to become readable, or writable when it has
    /// unsent bytes (used when idle and oversubscribed, instead of spinning).
    public func waitForInput(milliseconds: Int32) {
        // Also wake when a connection with unsent bytes can take more (a large message's rest).
        // New connections and handshakes under way wake it too.
        var requests = active.map {
            pollfd(fd: $0.connection.fd, events: Int16(POLLIN) | ($0.connection.hasUnsent ? Int16(POLLOUT) : 0), revents: 0)
        }
        requests += openings.map { pollfd(fd: $0.fd, events: Int16($0.stage == .connecting ? POLLOUT : POLLIN), revents: 0) }
        requests.append(pollfd(fd: listenFD, events: Int16(POLLIN), revents: 0))
        _ = Glibc.poll(&requests, nfds_t(requests.count), milliseconds)
    }

    // MARK: - Helpers

    static func log(_ line: String) {
        let bytes = Array("SwiftMPI: \(line)\n".utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress!, $0.count) }
    }

}
