#if canImport(Glibc)
import Glibc
#endif
import CShims

/// Moves packets between ranks with RDMA verbs: InfiniBand, or RoCE (tested on Soft-RoCE, rdma_rxe).
///
/// One Reliable Connected queue pair per peer, all on one completion queue that progress polls.
/// Addresses (LID, GID, port, MTU) and each pair's queue-pair number and starting PSN are exchanged
/// through the job's authenticated key-value exchange; an RC queue pair accepts packets only from the
/// one remote queue pair it was connected to, so nothing outside the job can inject into it.
///
/// Eager packets are SENDs into receive buffers each rank pre-posts for each peer, with credit-based
/// flow control: a sender holds ``credits`` per peer, spends one per packet, and gets them back
/// piggybacked on the peer's packets (or in a credit-only packet once half are owed). Frames of up to
/// the provider's inline size go inline. Large messages are the engine's rendezvous, carried by
/// ``read(from:address:key:into:token:)``: the receiver RDMA-READs straight from the sender's
/// registered buffer into its own (both registered through ``VerbsRegistrationCache``).
///
/// ```
/// frame   ┌──────┬───────┬─────────┬──────────┬──────────────┬─────────────────────┐
///         │ kind │ 0     │ credits │ length   │ header (32B) │ payload (≤ 8 KiB)   │
///         │ u8   │ u8    │ u16 LE  │ u32 LE   │ engine's     │                     │
///         └──────┴───────┴─────────┴──────────┴──────────────┴─────────────────────┘
/// kind 0: credits only (not delivered to the engine)
/// ```
/// A failed work completion (retry exceeded, remote access error, a queue pair in error) fails the
/// peer with the verbs status named; the engine turns that into `.peerFailed` on its requests.
public final class VerbsTransport: Transport {
    /// The largest payload of one eager frame.
    public static let maxPayload = 8 * 1024
    static let frameHeaderLength = 40
    static let slotSize = (frameHeaderLength + maxPayload + 63) / 64 * 64
    /// Packets a sender may have outstanding towards one peer.
    static let credits = 64
    /// Receive buffers beyond the credits, for credit-only frames.
    static let spareReceives = 4
    static let receivesPerPeer = credits + spareReceives
    static let sendSlotsPerPeer = credits + spareReceives
    /// RDMA READs and WRITEs (work requests) in flight towards one peer; more wait in its queue.
    static let bulkPerPeer = 16
    /// The most bytes one RDMA READ or WRITE work request moves. With ``bulkPerPeer`` it bounds the
    /// bytes in flight between two peers to 4 MiB — far above any fabric's bandwidth-delay product,
    /// and low enough that a burst cannot overrun a link's queues: unbounded, 16 reads of 4 MiB (64 MiB)
    /// overran the Soft-RoCE test link, and go-back-N retransmission then crawled for minutes.
    static let readChunkLimit = 256 * 1024
    /// Bytes of one peer's entry in the published address: queue-pair number and PSN.
    static let pairEntryLength = 8

    /// Where this rank's port is and the queue pair it made for each peer, published at wire-up.
    public struct Address {
        public var port: cshims_verbs_address
        /// Per peer: (queue-pair number, PSN); (0, 0) when none.
        public var pairs: [(number: UInt32, psn: UInt32)]

        /// The bytes published in the key-value exchange.
        public var encoded: [UInt8] {
            var bytes = withUnsafeBytes(of: port) { Array($0) }
            for pair in pairs {
                withUnsafeBytes(of: pair.number.littleEndian) { bytes += $0 }
                withUnsafeBytes(of: pair.psn.littleEndian) { bytes += $0 }
            }
            return bytes
        }

        /// Parses a peer's published bytes for a job of `size` ranks; nil when malformed.
        public init?(decoding bytes: [UInt8], size: Int) {
            let head = MemoryLayout<cshims_verbs_address>.size
            guard bytes.count == head + size * VerbsTransport.pairEntryLength else { return nil }
            port = bytes.withUnsafeBytes { $0.loadUnaligned(as: cshims_verbs_address.self) }
            pairs = (0..<size).map { peer in
                bytes.withUnsafeBytes { raw in
                    let at = head + peer * VerbsTransport.pairEntryLength
                    return (
                        UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)),
                        UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at + 4, as: UInt32.self))
                    )
                }
            }
        }

        /// An address of `port` with one (queue-pair number, PSN) per peer.
        public init(port: cshims_verbs_address, pairs: [(number: UInt32, psn: UInt32)]) {
            self.port = port
            self.pairs = pairs
        }

        /// True when two ports can reach each other: same link layer and, on InfiniBand, same subnet.
        public func sharesFabric(with other: Address) -> Bool {
            port.link_layer == other.port.link_layer && (port.link_layer == 2 || port.subnet_prefix == other.port.subnet_prefix)
        }

        /// For diagnostics: "RoCE gid[1] ::ffff:169.254.77.1" or "InfiniBand lid 7".
        public var summary: String {
            guard port.link_layer == 2 else { return "InfiniBand lid \(port.lid)" }
            var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
            var gid = port.gid
            _ = inet_ntop(AF_INET6, &gid, &text, socklen_t(text.count))
            return "RoCE gid[\(port.gid_index)] \(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))"
        }
    }

    /// A registered user buffer, for the rendezvous offer (remote key) and for giving it back.
    public struct MemoryHandle {
        let cache: VerbsRegistrationCache.Handle
        /// The remote key a peer reads this buffer with.
        public var remoteKey: UInt32 { cache.rkey }
    }

    private final class Peer {
        let qp: UnsafeMutableRawPointer
        var failed = false
        var credits = VerbsTransport.credits
        var creditsToReturn = 0
        var nextSlot = 0
        var slotsInFlight = 0
        var bulkInFlight = 0
        /// Read and write jobs with chunks not yet posted, in order.
        var pendingBulk: [Int] = []
        init(qp: UnsafeMutableRawPointer) { self.qp = qp }
    }

    /// An RDMA READ (or, with `writes`, WRITE) of `local` from (to) `remote`, in chunks.
    private struct BulkJob {
        var token: UInt32
        var local: UnsafeMutableRawBufferPointer
        var remote: UInt64
        var key: UInt32
        var lkey: UInt32
        /// The local memory's registration; nil for a write small enough to go inline.
        var handle: VerbsRegistrationCache.Handle?
        var posted = 0
        var completedChunks = 0
        var chunks: Int
        /// A scattered read's work requests (empty for a contiguous read, whose chunks are
        /// `maxReadChunk` slices of `local`): each a remote range and its run of `pieces`.
        var requests: [ScatteredRequest] = []
        var pieces: [cshims_segment] = []
        var writes = false
    }

    /// One RDMA READ of a scattered read: `length` contiguous remote bytes at `remote` into
    /// `pieceCount` local pieces from `firstPiece` of the job's list.
    private struct ScatteredRequest {
        var remote: UInt64
        var firstPiece: Int
        var pieceCount: Int
    }

    private enum WorkKind: UInt64 { case send = 0, receive = 1, read = 2, write = 3 }

    public let rank: Int
    public let size: Int
    private let endpoint: OpaquePointer
    private let portAddress: cshims_verbs_address
    private var peers: [Peer?]
    private let psns: [UInt32]
    private let maxInline: Int
    private let maxReadChunk: Int
    /// Scatter/gather entries per RDMA READ every queue pair accepts.
    private let maxScatterEntries: Int
    private let cache: VerbsRegistrationCache
    private var receiveRegion: UnsafeMutableRawBufferPointer
    private var sendRegion: UnsafeMutableRawBufferPointer
    private var receiveMR: UnsafeMutableRawPointer?
    private var sendMR: UnsafeMutableRawPointer?
    private var receiveKey: UInt32 = 0
    private var sendKey: UInt32 = 0
    private var slotOfPeer: [Int]
    private var bulkJobs: [BulkJob?] = []
    private var completedReads: [UInt32] = []
    private var completedWrites: [UInt32] = []
    private var failures: [(peer: Int, reason: String)] = []
    private var creditDebtors: [Int] = []
    /// Registrations made by ``exposeLasting(_:)``, by slot.
    private var lastingRegions: [UnsafeMutableRawPointer?] = []

    /// Packets up to one send slot; RDMA READ of memory a peer registered, reported by an event,
    /// contiguous or scattered (lists of up to 1024 pieces, cut into work requests of up to the queue
    /// pairs' scatter/gather limit); RDMA WRITE of contiguous memory, reported by an event.
    public var capabilities: TransportCapabilities {
        TransportCapabilities(
            name: "verbs", maxPayload: Self.maxPayload, peerRead: .asynchronous, peerWrite: .asynchronous, maxReadSegments: Self.maxListSegments)
    }

    /// The most pieces a side one ``readSegments(from:remote:key:into:token:)`` takes.
    static let maxListSegments = 1024

    /// Registers `bytes` (a cache hit when the buffer was sent before) for peers' RDMA reads.
    public func expose(_ bytes: UnsafeRawBufferPointer) -> ExposedMemory? {
        guard let handle = register(bytes) else { return nil }
        return ExposedMemory(
            remote: RemoteMemory(address: UInt64(UInt(bitPattern: bytes.baseAddress)), key: handle.remoteKey),
            registration: handle.cache.slot)
    }

    /// Gives back a registration from ``expose(_:)``.
    public func conceal(_ memory: ExposedMemory) {
        guard memory.registration >= 0 else { return }
        cache.release(VerbsRegistrationCache.Handle(slot: memory.registration, lkey: 0, rkey: memory.remote.key))
    }

    /// Starts an RDMA READ of `local.count` bytes; ``TransportEvent/readCompleted(token:)`` follows.
    public func read(from peer: Int, remote: RemoteMemory, into local: UnsafeMutableRawBufferPointer, token: UInt32) -> BulkResult {
        read(from: peer, address: remote.address, key: remote.key, into: local, token: token) ? .started : .failed(errno: ENOMEM)
    }

    /// Starts the RDMA READs of a scattered read: each remote piece is read by work requests that
    /// scatter it into up to ``maxScatterEntries`` local pieces; one
    /// ``TransportEvent/readCompleted(token:)`` follows the last. The local pieces are registered as
    /// one range (their lowest to highest byte: a cache hit when read into before).
    public func readSegments(
        from peer: Int, remote: UnsafeMutableBufferPointer<MemorySegment>, key: UInt32, into local: UnsafeMutableBufferPointer<MemorySegment>,
        token: UInt32
    ) -> BulkResult {
        guard let state = peers[peer], !state.failed else { return .failed(errno: ECONNRESET) }
        guard remote.count <= Self.maxListSegments, local.count <= Self.maxListSegments else { return .failed(errno: EINVAL) }
        var low = UInt64.max, high: UInt64 = 0, localBytes = 0, remoteBytes = 0
        for piece in local where piece.length > 0 {
            low = min(low, piece.address)
            high = max(high, piece.address + UInt64(piece.length))
            localBytes += piece.length
        }
        for piece in remote { remoteBytes += piece.length }
        guard localBytes == remoteBytes else { return .failed(errno: EINVAL) }
        guard localBytes > 0 else { return .completed }
        let range = UnsafeRawBufferPointer(start: UnsafeRawPointer(bitPattern: UInt(low)), count: Int(high - low))
        guard case .success(let handle) = cache.acquire(range) else { return .failed(errno: ENOMEM) }
        var requests: [ScatteredRequest] = [], pieces: [cshims_segment] = []
        var localIndex = 0, localOffset = 0
        for piece in remote {
            var done = 0
            while done < piece.length {
                let first = pieces.count
                var bytes = 0
                while done + bytes < piece.length && pieces.count - first < maxScatterEntries && bytes < maxReadChunk {
                    while local[localIndex].length == localOffset {  // skip finished (and empty) pieces
                        localIndex += 1
                        localOffset = 0
                    }
                    let length = min(local[localIndex].length - localOffset, piece.length - done - bytes, maxReadChunk - bytes)
                    pieces.append(cshims_segment(address: local[localIndex].address + UInt64(localOffset), length: UInt64(length)))
                    bytes += length
                    localOffset += length
                }
                requests.append(ScatteredRequest(remote: piece.address + UInt64(done), firstPiece: first, pieceCount: pieces.count - first))
                done += bytes
            }
        }
        let job = BulkJob(
            token: token, local: UnsafeMutableRawBufferPointer(mutating: range), remote: 0, key: key, lkey: handle.lkey, handle: handle,
            chunks: requests.count, requests: requests, pieces: pieces)
        start(job, state, peer: peer)
        return .started
    }

    /// Reads and writes that finished and queue pairs that failed.
    public var hasEvents: Bool { !completedReads.isEmpty || !completedWrites.isEmpty || !failures.isEmpty }

    /// Reads and writes that finished and queue pairs that failed since the last call.
    public func takeEvents() -> [TransportEvent] {
        defer { completedWrites.removeAll(keepingCapacity: true) }
        return takeCompletedReads().map { .readCompleted(token: $0) } + completedWrites.map { .writeCompleted(token: $0) }
            + takeFailures().map { .peerFailed(peer: $0.peer, reason: $0.reason) }
    }

    /// Starts an RDMA WRITE of `local` to `remote` (memory `peer` exposed);
    /// ``TransportEvent/writeCompleted(token:)`` follows once the bytes are in the peer's memory.
    /// `local` stays valid and unchanged until then (a write of up to the provider's inline size goes
    /// without registration, its bytes copied when the request is posted, which may be later when the
    /// peer's budget of reads and writes in flight is spent).
    public func write(to peer: Int, remote: RemoteMemory, from local: UnsafeRawBufferPointer, token: UInt32) -> BulkResult {
        guard let state = peers[peer], !state.failed else { return .failed(errno: ECONNRESET) }
        guard local.count > 0 else { return .completed }
        var handle: VerbsRegistrationCache.Handle?
        if local.count > maxInline {
            guard case .success(let registered) = cache.acquire(local) else { return .failed(errno: ENOMEM) }
            handle = registered
        }
        let job = BulkJob(
            token: token, local: UnsafeMutableRawBufferPointer(mutating: local), remote: remote.address, key: remote.key, lkey: handle?.lkey ?? 0,
            handle: handle, chunks: max(1, (local.count + maxReadChunk - 1) / maxReadChunk), writes: true)
        start(job, state, peer: peer)
        return .started
    }

    /// Registers `bytes` for peers' reads and writes until ``endLastingExposure(_:)``, outside the
    /// registration cache (a window's memory: it may be unmapped once the exposure ends, which a
    /// cached registration would outlive).
    public func exposeLasting(_ bytes: UnsafeMutableRawBufferPointer) -> ExposedMemory? {
        guard bytes.count > 0 else { return nil }
        var region: UnsafeMutableRawPointer?
        var localKey: UInt32 = 0, remoteKey: UInt32 = 0
        guard cshims_verbs_register(endpoint, bytes.baseAddress, bytes.count, &region, &localKey, &remoteKey) == 0, let region else { return nil }
        let slot =
            lastingRegions.firstIndex { $0 == nil }
            ?? {
                lastingRegions.append(nil); return lastingRegions.count - 1
            }()
        lastingRegions[slot] = region
        return ExposedMemory(remote: RemoteMemory(address: UInt64(UInt(bitPattern: bytes.baseAddress)), key: remoteKey), registration: slot)
    }

    /// Deregisters an exposure from ``exposeLasting(_:)``.
    public func endLastingExposure(_ memory: ExposedMemory) {
        guard memory.registration >= 0, memory.registration < lastingRegions.count, let region = lastingRegions[memory.registration] else { return }
        cshims_verbs_deregister(region)
        lastingRegions[memory.registration] = nil
    }

    /// Registrations and cache hits.
    public var statistics: String? {
        "verbs memory registrations \(cache.registrations), registration cache hits \(cache.hits)"
            + (cache.offReason.map { " (registration cache off: \($0))" } ?? "")
    }

    /// Hands arrived packets to `sink`; returns the number of completions handled.
    public func poll<Sink: PacketSink>(into sink: Sink) -> Int {
        poll { sink.deliver(from: $0, kind: $1, header: $2, payload: $3) }
    }

    /// Opens the port and creates one queue pair for each peer in `peerCandidates` (unconnected).
    public init(
        rank: Int, size: Int, peerCandidates: [Int], device: String?, port: Int, gidIndex: Int,
        registrationCache: Bool
    ) throws(TransportError) {
        self.rank = rank
        self.size = size
        var opened: OpaquePointer?
        var address = cshims_verbs_address()
        var reason = [CChar](repeating: 0, count: 256)
        let depth = max(1, peerCandidates.count) * (Self.receivesPerPeer + Self.sendSlotsPerPeer + Self.bulkPerPeer) + 16
        let error = cshims_verbs_open(device, Int32(port), Int32(gidIndex), Int32(depth), &opened, &address, &reason, reason.count)
        guard error == 0, let opened else {
            throw TransportError(String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), errno: error)
        }
        endpoint = opened
        portAddress = address
        maxReadChunk = min(Int(cshims_verbs_max_message(opened)), Self.readChunkLimit)
        cache = VerbsRegistrationCache(endpoint: opened, enabled: registrationCache)
        var made = [Peer?](repeating: nil, count: size)
        var numbers = [UInt32](repeating: 0, count: size)
        var startPSNs = [UInt32](repeating: 0, count: size)
        var granted = UInt32.max, entries = UInt32(CSHIMS_VERBS_MAX_SGE)
        for peer in peerCandidates where peer != rank {
            var qp: UnsafeMutableRawPointer?
            var inline: UInt32 = 0, scatterEntries: UInt32 = 1
            let error = cshims_verbs_create_qp(
                opened, Int32(Self.sendSlotsPerPeer + Self.bulkPerPeer + 4),
                Int32(Self.receivesPerPeer), 256, &qp, &numbers[peer], &inline, &scatterEntries)
            guard error == 0, let qp else {
                for case let earlier? in made { cshims_verbs_destroy_qp(earlier.qp) }
                cshims_verbs_close(opened)
                throw TransportError("ibv_create_qp for rank \(peer): \(String(cString: strerror(error)))", errno: error)
            }
            made[peer] = Peer(qp: qp)
            startPSNs[peer] = UInt32.random(in: 0...0xFF_FFFF)
            granted = min(granted, inline)
            entries = min(entries, scatterEntries)
        }
        peers = made
        qpNumbers = numbers
        psns = startPSNs
        slotOfPeer = Array(repeating: -1, count: size)
        maxInline = granted == .max ? 0 : Int(granted)
        maxScatterEntries = Int(max(1, entries))
        receiveRegion = UnsafeMutableRawBufferPointer(start: nil, count: 0)
        sendRegion = UnsafeMutableRawBufferPointer(start: nil, count: 0)
    }

    private let qpNumbers: [UInt32]

    deinit {
        for case let peer? in peers { cshims_verbs_destroy_qp(peer.qp) }
        cshims_verbs_deregister(receiveMR)
        cshims_verbs_deregister(sendMR)
        if receiveRegion.baseAddress != nil { receiveRegion.deallocate() }
        if sendRegion.baseAddress != nil { sendRegion.deallocate() }
        for job in bulkJobs { if let handle = job?.handle { cache.release(handle) } }
        for case let region? in lastingRegions { cshims_verbs_deregister(region) }
        cache.deregisterAll()  // before the endpoint (its protection domain) is closed
        cshims_verbs_close(endpoint)
    }

    /// This rank's port address and its queue pairs, to publish.
    public var address: Address {
        Address(port: portAddress, pairs: (0..<size).map { (qpNumbers[$0], psns[$0]) })
    }

    /// This rank's port, for route decisions and diagnostics.
    public var portSummary: Address { Address(port: portAddress, pairs: []) }

    // MARK: - Wire-up

    /// Connects the queue pairs of `peersToConnect` to their published addresses, posts the receive
    /// buffers and destroys queue pairs made for peers that take another route.
    public func connect(peers peersToConnect: [Int], addresses: [Int: Address]) throws(TransportError) {
        let using = Set(peersToConnect)
        for peer in 0..<size where !using.contains(peer) {
            if let unused = peers[peer] { cshims_verbs_destroy_qp(unused.qp) }
            peers[peer] = nil
        }
        let count = peersToConnect.count
        guard count > 0 else { return }
        receiveRegion = .allocate(byteCount: count * Self.receivesPerPeer * Self.slotSize, alignment: 4096)
        sendRegion = .allocate(byteCount: count * Self.sendSlotsPerPeer * Self.slotSize, alignment: 4096)
        var unusedRemoteKey: UInt32 = 0
        let receiveError = cshims_verbs_register(endpoint, receiveRegion.baseAddress, receiveRegion.count, &receiveMR, &receiveKey, &unusedRemoteKey)
        let sendError = cshims_verbs_register(endpoint, sendRegion.baseAddress, sendRegion.count, &sendMR, &sendKey, &unusedRemoteKey)
        guard receiveError == 0, sendError == 0 else {
            let error = receiveError != 0 ? receiveError : sendError
            throw TransportError(
                "cannot register \((receiveRegion.count + sendRegion.count) >> 10) KiB of packet buffers: \(String(cString: strerror(error)))"
                    + (error == ENOMEM || error == EPERM ? " (raise the locked-memory limit: ulimit -l unlimited)" : ""), errno: error)
        }
        for (index, peer) in peersToConnect.enumerated() {
            guard let state = peers[peer] else { throw TransportError("no queue pair was made for rank \(peer)") }
            guard let remote = addresses[peer], peer < remote.pairs.count, remote.pairs[rank].number != 0 else {
                throw TransportError("rank \(peer) published no queue pair for rank \(rank)")
            }
            slotOfPeer[peer] = index
            var port = remote.port
            var reason = [CChar](repeating: 0, count: 256)
            let error = cshims_verbs_connect_qp(
                endpoint, state.qp, &port, remote.pairs[rank].number, remote.pairs[rank].psn,
                psns[peer], &reason, reason.count)
            guard error == 0 else {
                throw TransportError(
                    "connecting to rank \(peer) (\(remote.summary)): "
                        + "\(String(decoding: reason.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))",
                    errno: error)
            }
            for slot in 0..<Self.receivesPerPeer {
                guard post(receive: slot, peer: peer) else { throw TransportError("ibv_post_recv for rank \(peer) failed") }
            }
        }
    }

    // MARK: - Buffers

    @inline(__always)
    private func receiveBuffer(_ peer: Int, _ slot: Int) -> UnsafeMutableRawPointer {
        receiveRegion.baseAddress! + (slotOfPeer[peer] * Self.receivesPerPeer + slot) * Self.slotSize
    }

    @inline(__always)
    private func sendBuffer(_ peer: Int, _ slot: Int) -> UnsafeMutableRawPointer {
        sendRegion.baseAddress! + (slotOfPeer[peer] * Self.sendSlotsPerPeer + slot) * Self.slotSize
    }

    @inline(__always)
    private static func workID(_ kind: WorkKind, _ peer: Int, _ index: Int) -> UInt64 {
        kind.rawValue << 62 | UInt64(peer) << 32 | UInt64(UInt32(truncatingIfNeeded: index))
    }

    private func post(receive slot: Int, peer: Int) -> Bool {
        cshims_verbs_post_receive(
            peers[peer]!.qp, Self.workID(.receive, peer, slot), receiveBuffer(peer, slot),
            UInt32(Self.slotSize), receiveKey) == 0
    }

    // MARK: - Data path

    /// Sends one frame to `peer`; false when there is no credit or send slot now (retry after progress).
    /// The payload is copied before this returns.
    public func trySend(to peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer) -> Bool {
        guard let state = peers[peer], !state.failed else { return true }  // failed: dropped, reported by poll
        guard state.credits > 0, state.slotsInFlight < Self.sendSlotsPerPeer else { return false }
        state.credits -= 1
        return postFrame(state, peer: peer, kind: kind, header: header, payload: payload)
    }

    private func postFrame(_ state: Peer, peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer) -> Bool {
        let slot = state.nextSlot
        let frame = sendBuffer(peer, slot)
        let returned = min(state.creditsToReturn, Int(UInt16.max))
        state.creditsToReturn -= returned
        frame.storeBytes(of: kind, as: UInt8.self)
        frame.storeBytes(of: 0, toByteOffset: 1, as: UInt8.self)
        frame.storeBytes(of: UInt16(returned).littleEndian, toByteOffset: 2, as: UInt16.self)
        frame.storeBytes(of: UInt32(payload.count).littleEndian, toByteOffset: 4, as: UInt32.self)
        frame.storeBytes(of: header, toByteOffset: 8, as: PacketHeader.self)
        if payload.count > 0 { (frame + Self.frameHeaderLength).copyMemory(from: payload.baseAddress!, byteCount: payload.count) }
        let total = Self.frameHeaderLength + payload.count
        let error = cshims_verbs_post_send(
            state.qp, Self.workID(.send, peer, slot), frame, UInt32(total), sendKey,
            total <= maxInline ? 1 : 0)
        if error != 0 {
            fail(peer, "ibv_post_send to rank \(peer): \(String(cString: strerror(error)))")
            return true
        }
        state.nextSlot = (slot + 1) % Self.sendSlotsPerPeer
        state.slotsInFlight += 1
        return true
    }

    /// Registers `bytes` (or finds them registered) so a peer can RDMA-READ them; nil with the reason
    /// logged when registration fails (the engine then streams the message in packets instead).
    public func register(_ bytes: UnsafeRawBufferPointer) -> MemoryHandle? {
        switch cache.acquire(bytes) {
        case .success(let handle): return MemoryHandle(cache: handle)
        case .failure: return nil
        }
    }

    /// Gives back a registration from ``register(_:)``.
    public func release(_ handle: MemoryHandle) { cache.release(handle.cache) }

    /// Starts reading `into.count` bytes from `address` (remote key `key`) of `peer` into `into`.
    /// Completion is reported by ``takeCompletedReads()`` with `token`. False when the local buffer
    /// cannot be registered (nothing started).
    public func read(from peer: Int, address: UInt64, key: UInt32, into buffer: UnsafeMutableRawBufferPointer, token: UInt32) -> Bool {
        guard let state = peers[peer] else { return false }
        guard case .success(let handle) = cache.acquire(UnsafeRawBufferPointer(buffer)) else { return false }
        let chunks = max(1, (buffer.count + maxReadChunk - 1) / maxReadChunk)
        let job = BulkJob(
            token: token, local: buffer, remote: address, key: key, lkey: handle.lkey,
            handle: handle, chunks: chunks)
        start(job, state, peer: peer)
        return true
    }

    /// Files `job` and posts what the peer's read budget allows.
    private func start(_ job: BulkJob, _ state: Peer, peer: Int) {
        let index =
            bulkJobs.firstIndex { $0 == nil }
            ?? {
                bulkJobs.append(nil); return bulkJobs.count - 1
            }()
        bulkJobs[index] = job
        state.pendingBulk.append(index)
        postBulk(state, peer: peer)
    }

    private func postBulk(_ state: Peer, peer: Int) {
        while let index = state.pendingBulk.first, state.bulkInFlight < Self.bulkPerPeer, !state.failed {
            var job = bulkJobs[index]!
            let error: Int32
            if job.writes {
                let offset = job.posted * maxReadChunk
                let length = min(maxReadChunk, job.local.count - offset)
                error = cshims_verbs_post_write(
                    state.qp, Self.workID(.write, peer, index), job.local.baseAddress! + offset, UInt32(length), job.lkey,
                    job.remote + UInt64(offset), job.key, job.handle == nil ? 1 : 0)
            } else if job.requests.isEmpty {
                let offset = job.posted * maxReadChunk
                let length = min(maxReadChunk, job.local.count - offset)
                error = cshims_verbs_post_read(
                    state.qp, Self.workID(.read, peer, index), job.local.baseAddress! + offset,
                    UInt32(length), job.lkey, job.remote + UInt64(offset), job.key)
            } else {
                let request = job.requests[job.posted]
                error = job.pieces.withUnsafeBufferPointer {
                    cshims_verbs_post_read_list(
                        state.qp, Self.workID(.read, peer, index), $0.baseAddress! + request.firstPiece, Int32(request.pieceCount), job.lkey,
                        request.remote, job.key)
                }
            }
            if error != 0 {
                fail(peer, "RDMA \(job.writes ? "write to" : "read from") rank \(peer): ibv_post_send: \(String(cString: strerror(error)))")
                return
            }
            job.posted += 1
            state.bulkInFlight += 1
            bulkJobs[index] = job
            if job.posted == job.chunks { state.pendingBulk.removeFirst() }
        }
    }

    /// Reads finished since the last call: the token given to ``read(from:address:key:into:token:)``.
    private func takeCompletedReads() -> [UInt32] {
        defer { completedReads.removeAll(keepingCapacity: true) }
        return completedReads
    }

    /// Handles what the completion queue reports, handing each arrived packet to `deliver` (sender's
    /// rank, kind, header, payload valid during the call). Returns the number of completions.
    public func poll(_ deliver: (Int, PacketKind, PacketHeader, UnsafeRawBufferPointer) -> Void) -> Int {
        var completions = (
            cshims_verbs_completion(), cshims_verbs_completion(), cshims_verbs_completion(), cshims_verbs_completion(),
            cshims_verbs_completion(), cshims_verbs_completion(), cshims_verbs_completion(), cshims_verbs_completion()
        )
        var polled: Int32 = 0
        let error = withUnsafeMutableBytes(of: &completions) {
            cshims_verbs_poll(endpoint, $0.baseAddress!.assumingMemoryBound(to: cshims_verbs_completion.self), 8, &polled)
        }
        let count = error == 0 ? Int(polled) : 0  // a failed completion queue (EIO) delivers nothing, as before
        guard count > 0 else { return 0 }
        for index in 0..<count {
            let completion = withUnsafeBytes(of: &completions) {
                $0.load(fromByteOffset: index * MemoryLayout<cshims_verbs_completion>.stride, as: cshims_verbs_completion.self)
            }
            handle(completion, deliver)
        }
        if !creditDebtors.isEmpty { returnCredits() }
        return count
    }

    /// Sends a credit-only frame to each peer owed half its credits (if piggybacking has not paid
    /// them already); a peer without a free send slot stays owed until the next poll.
    private func returnCredits() {
        creditDebtors.removeAll { peer in
            guard let state = peers[peer], !state.failed, state.creditsToReturn >= Self.credits / 2 else { return true }
            guard state.slotsInFlight < Self.sendSlotsPerPeer else { return false }
            _ = postFrame(state, peer: peer, kind: 0, header: PacketHeader(), payload: UnsafeRawBufferPointer(start: nil, count: 0))
            return true
        }
    }

    private func handle(_ completion: cshims_verbs_completion, _ deliver: (Int, PacketKind, PacketHeader, UnsafeRawBufferPointer) -> Void) {
        let kind = WorkKind(rawValue: completion.wr_id >> 62) ?? .send
        let peer = Int((completion.wr_id >> 32) & 0x3FFF_FFFF)
        let index = Int(UInt32(truncatingIfNeeded: completion.wr_id))
        guard peer < size, let state = peers[peer] else { return }
        if completion.status != 0 {
            if kind == .read || kind == .write, index < bulkJobs.count, let job = bulkJobs[index] {
                if let handle = job.handle { cache.release(handle) }
                bulkJobs[index] = nil
            }
            guard !state.failed else { return }  // the flushed rest of a queue pair in error
            let operation = kind == .read ? "RDMA read from" : kind == .write ? "RDMA write to" : kind == .receive ? "receive from" : "send to"
            fail(peer, "verbs \(operation) rank \(peer) failed: \(String(cString: cshims_verbs_status_text(completion.status))) (status \(completion.status))")
            return
        }
        switch kind {
        case .send:
            state.slotsInFlight -= 1
        case .read, .write:
            state.bulkInFlight -= 1
            guard index < bulkJobs.count, var job = bulkJobs[index] else { return }
            job.completedChunks += 1
            if job.completedChunks == job.chunks {
                if let handle = job.handle { cache.release(handle) }
                bulkJobs[index] = nil
                if job.writes { completedWrites.append(job.token) } else { completedReads.append(job.token) }
            } else {
                bulkJobs[index] = job
            }
            postBulk(state, peer: peer)
        case .receive:
            let frame = receiveBuffer(peer, index)
            let length = Int(completion.byte_len)
            let payloadLength =
                length >= Self.frameHeaderLength
                ? Int(UInt32(littleEndian: frame.loadUnaligned(fromByteOffset: 4, as: UInt32.self))) : -1
            guard payloadLength >= 0, payloadLength == length - Self.frameHeaderLength, payloadLength <= Self.maxPayload else {
                fail(peer, "malformed verbs frame of \(length) bytes from rank \(peer)")
                return
            }
            let packetKind = frame.load(as: UInt8.self)
            state.credits += Int(UInt16(littleEndian: frame.loadUnaligned(fromByteOffset: 2, as: UInt16.self)))
            if packetKind != 0 {
                let header = frame.loadUnaligned(fromByteOffset: 8, as: PacketHeader.self)
                deliver(peer, packetKind, header, UnsafeRawBufferPointer(start: frame + Self.frameHeaderLength, count: payloadLength))
                state.creditsToReturn += 1
                if state.creditsToReturn == Self.credits / 2 { creditDebtors.append(peer) }
            }
            if !state.failed && !post(receive: index, peer: peer) {
                fail(peer, "ibv_post_recv for rank \(peer) failed")
            }
        }
    }

    /// Peers whose queue pairs failed since the last call, with the reasons.
    private func takeFailures() -> [(peer: Int, reason: String)] {
        defer { failures.removeAll() }
        return failures
    }

    /// ``Transport/abandon(peer:reason:)``: `peer`'s pending bulk reads are forgotten (their
    /// completions, if any come, credit nothing) and their registrations released; the queue pair
    /// stays up. Verbs places no packet payloads. An RDMA read the device has already started still
    /// lands where it was aimed (a limit, docs/Recovery.md): a peer that died answers none.
    public func abandon(peer: Int, reason: String) {
        if let state = peers[peer] { forgetBulk(of: state) }
    }

    private func fail(_ peer: Int, _ reason: String) {
        guard let state = peers[peer], !state.failed else { return }
        state.failed = true
        failures.append((peer, reason))
        forgetBulk(of: state)
    }

    /// Drops a peer's pending bulk jobs and releases their registrations.
    private func forgetBulk(of state: Peer) {
        for index in state.pendingBulk {
            if let handle = bulkJobs[index]?.handle { cache.release(handle) }
            bulkJobs[index] = nil
        }
        state.pendingBulk.removeAll()
    }
}
