#if canImport(Glibc)
import Glibc
#endif
import SwiftMPITransport

/// The point-to-point engine: matching, send protocols and progress, written once for every transport.
///
/// Matching lives here and only here. Transports move packets (``WireKind``) and, where they can,
/// read a peer's memory; the route to each peer is chosen once at start-up and dispatched over the
/// closed ``Route`` enum. MPI's ordering rules follow from three facts: each route delivers a peer's
/// packets in order, arrived packets are matched against posted receives in post order, and unmatched
/// ones are queued in arrival order (``unexpected``), where new receives search first.
///
/// Not thread-safe by itself: `Runtime` serializes calls when the thread level is `.multiple`.
///
/// The mutable state is marked `@exclusivity(unchecked)`: the engine is entered by one thread at a
/// time and never re-enters itself while it holds an access, so Swift's dynamic exclusivity checks
/// can never fire here, and they cost about a third of a 0-byte shared-memory ping-pong (measured
/// with perf: swift_beginAccess and its thread-local look-ups). Keep it that way: no callbacks into
/// user code while an access to this state is open.
final class Engine {
    /// How packets reach one peer.
    enum Route {
        /// The rank itself: packets are queued in process.
        case loopback
        /// A rank on this host, by its local rank.
        case sharedMemory(localRank: Int)
        /// A rank reached over TCP (another host, or TCP forced).
        case tcp
        /// A rank reached with RDMA verbs (another host on a common fabric, or verbs forced).
        case verbs
    }

    /// Work a peer's ring had no room for, kept in order (backpressure as a value, not a wait).
    enum Outgoing {
        /// An eager message or a rendezvous offer.
        case message(SendOperation)
        /// A header-only reply (ack, clearToSend).
        case control(WireKind, MatchHeader)
        /// Data fragments of a pipelined rendezvous.
        case stream(SendOperation)
    }

    let rank: Int
    let size: Int
    let routes: [Route]
    let sharedMemory: SharedMemoryTransport?
    /// `sharedMemory` for `progress()`, which borrows it through this (kept alive by `sharedMemory`):
    /// a call through the optional reference itself retains and releases the transport on every poll.
    private let sharedMemoryPoller: Unmanaged<SharedMemoryTransport>?
    let tcp: TCPTransport?
    let verbs: VerbsTransport?
    let peerPIDs: [Int32]
    /// Per peer: messages up to this many bytes go eagerly; larger ones by rendezvous.
    let eagerLimits: [Int]
    /// Per peer: the largest payload of one packet (data fragments of a pipelined rendezvous).
    let fragmentSizes: [Int]
    /// A number for this rank's host, equal on ranks that share memory (for `splitType(.shared)`).
    @exclusivity(unchecked) var hostIndex = 0
    /// The world rank of each local rank (shared-memory rings are indexed by local rank).
    @exclusivity(unchecked) var worldRankOfLocal: [Int] = []
    /// Peers whose connection failed, with the reason; every operation involving them fails.
    @exclusivity(unchecked) var failedPeers: [Int: String] = [:]
    /// Rendezvous messages from this many bytes are copied with Cross Memory Attach (when allowed).
    let singleCopyThreshold: Int
    /// False once Cross Memory Attach failed with a permission error (or when disabled).
    @exclusivity(unchecked) var singleCopyAllowed: Bool
    /// Rendezvous messages on shared memory from ``SharedCopy/threshold`` bytes are copied by both
    /// ranks (when single copies are allowed); false when turned off (`SWIFTMPI_SHARED_COPY=0`) —
    /// and on a sender whose write into a receiver failed, so it stops offering help.
    @exclusivity(unchecked) var sharedCopyAllowed = true
    /// This rank's copy-board descriptors not in use, the copies in flight, and the last generation.
    @exclusivity(unchecked) var freeCopyDescriptors = Array((0..<SharedMemoryTransport.copyDescriptorCount).reversed())
    @exclusivity(unchecked) var sharedCopies: [SharedCopy] = []
    /// Sender: `share` requests not yet helped with, oldest first (helped with only when idle).
    @exclusivity(unchecked) var helpRequests: [(header: MatchHeader, peer: Int)] = []
    @exclusivity(unchecked) var copyGeneration: UInt32 = 0
    /// What shared copies did here (printed at finalize with `SWIFTMPI_DEBUG=1`).
    @exclusivity(unchecked) var sharedCopyCounts = (received: 0, chunksRead: 0, chunksWritten: 0)
    /// True when waiting ranks must yield the CPU (oversubscribed, or asked to).
    let yieldWhenIdle: Bool

    @exclusivity(unchecked) var posted = ReceiveQueue(capacity: 64)
    @exclusivity(unchecked) var unexpected: [UnexpectedMessage] = []
    @exclusivity(unchecked) var waitingSends = OperationTable<SendOperation>()
    @exclusivity(unchecked) var waitingReceives = OperationTable<ReceiveOperation>()
    @exclusivity(unchecked) var outboxes: [[Outgoing]]
    @exclusivity(unchecked) var outboxCount = 0
    @exclusivity(unchecked) var loopbackQueue: [(kind: WireKind, header: MatchHeader, payload: [UInt8])] = []
    @exclusivity(unchecked) var sendPool = ReferenceStack<SendOperation>(capacity: 16)
    @exclusivity(unchecked) var receivePool = ReferenceStack<ReceiveOperation>(capacity: 16)
    @exclusivity(unchecked) var bufferedArea: BufferedSendArea?
    /// Recently made requests, reused once nobody else holds them (``Request/make(_:send:status:)``).
    /// (A raw buffer, not an array: an array's copy-on-write check on every store cost ~7% of 8-byte
    /// message rate.)
    let requestPool: UnsafeMutablePointer<Request?> = {
        let pool = UnsafeMutablePointer<Request?>.allocate(capacity: Request.poolSize)
        pool.initialize(repeating: nil, count: Request.poolSize)
        return pool
    }()
    @exclusivity(unchecked) var requestCursor = 0
    /// The runtime that owns this engine (requests refer to it); set once at start.
    unowned(unsafe) var runtime: Runtime?
    @exclusivity(unchecked) private var warnedAboutReadySend = false
    /// The highest context id in use by this process (the world uses 0 and 1). Communicators take
    /// ids in pairs: point-to-point, then collective.
    @exclusivity(unchecked) var highestContext: UInt32 = 1

    deinit {
        posted.release()
        sendPool.release()
        receivePool.release()
        requestPool.deinitialize(count: Request.poolSize)
        requestPool.deallocate()
    }

    init(rank: Int, size: Int, routes: [Route], sharedMemory: SharedMemoryTransport?, tcp: TCPTransport?, verbs: VerbsTransport? = nil,
         peerPIDs: [Int32], singleCopyAllowed: Bool, singleCopyThreshold: Int, yieldWhenIdle: Bool) {
        self.rank = rank
        self.size = size
        self.routes = routes
        self.sharedMemory = sharedMemory
        sharedMemoryPoller = sharedMemory.map { Unmanaged.passUnretained($0) }
        self.tcp = tcp
        self.verbs = verbs
        self.peerPIDs = peerPIDs
        // Limits are data the transports report; the protocol thresholds follow from them, once.
        let limits: [TransportLimits?] = routes.map { route in
            switch route {
            case .loopback: nil
            case .sharedMemory: sharedMemory?.limits
            case .tcp: tcp?.limits
            case .verbs: verbs?.limits
            }
        }
        self.fragmentSizes = limits.map { $0?.maxPayload ?? Int.max }
        // TCP: eager up to 64 KiB (a rendezvous round trip costs more than copying that much twice),
        // never above one frame.
        self.eagerLimits = zip(routes, limits).map { route, limit in
            if case .tcp = route { return min(64 * 1024, limit?.maxPayload ?? 0) }
            return limit?.maxPayload ?? Int.max
        }
        self.singleCopyThreshold = singleCopyThreshold
        self.singleCopyAllowed = singleCopyAllowed
        self.yieldWhenIdle = yieldWhenIdle
        self.outboxes = Array(repeating: [], count: size)
        unexpected.reserveCapacity(64)
    }

    // MARK: - Pools

    @inline(__always)
    func makeSend() -> SendOperation {
        let operation = sendPool.pop() ?? SendOperation()
        operation.reset()
        return operation
    }

    @inline(__always)
    func recycle(_ operation: consuming SendOperation) {
        operation.reset()
        sendPool.push(operation)
    }

    @inline(__always)
    func makeReceive() -> ReceiveOperation {
        let operation = receivePool.pop() ?? ReceiveOperation()
        operation.reset()
        return operation
    }

    @inline(__always)
    func recycle(_ operation: consuming ReceiveOperation) {
        operation.reset()
        operation.isComplete = true
        receivePool.push(operation)
    }

    // MARK: - Sending

    /// The allocation-free path of a blocking standard send: an eager message straight into the
    /// peer's ring. False when it does not apply (large, loopback, ring full or older work queued).
    @inline(__always)
    func trySendEagerNow(_ bytes: UnsafeRawBufferPointer, to destination: Int, header: MatchHeader) -> Bool {
        guard bytes.count <= eagerLimits[destination], outboxes[destination].isEmpty else { return false }
        switch routes[destination] {
        case .sharedMemory(let local):
            return sharedMemory.unsafelyUnwrapped.trySend(to: local, kind: WireKind.eager.rawValue, header: header.packet, payload: bytes)
        case .tcp:
            return failedPeers.isEmpty && tcp.unsafelyUnwrapped.trySend(to: destination, kind: WireKind.eager.rawValue, header: header.packet, payload: bytes)
        case .verbs:
            return failedPeers.isEmpty && verbs.unsafelyUnwrapped.trySend(to: destination, kind: WireKind.eager.rawValue, header: header.packet, payload: bytes)
        case .loopback:
            return false
        }
    }

    /// Starts `operation` (bytes, destination and header set). It completes when its buffer may be
    /// reused — for synchronous sends, once the receiver has matched it.
    func startSend(_ operation: SendOperation, synchronous: Bool) {
        if synchronous { operation.header.flags |= MatchHeader.Flags.synchronous }
        operation.header.length = UInt64(operation.bytes.count)
        if case .loopback = routes[operation.destination] {
            if synchronous {
                operation.phase = .awaitingReceiver
                operation.header.senderOperation = waitingSends.insert(operation)
            }
            loopbackQueue.append((.eager, operation.header, Array(operation.bytes)))
            if !synchronous { finishSend(operation) }
            return
        }
        if let reason = failedPeers[operation.destination] {
            operation.error = MPIError(.peerFailed, "send to rank \(operation.destination): \(reason)")
            finishSend(operation)
            return
        }
        if synchronous || operation.bytes.count > eagerLimits[operation.destination] {
            operation.header.senderOperation = waitingSends.insert(operation)
        }
        operation.phase = .queued
        enqueue(.message(operation), to: operation.destination)
    }

    /// Marks a send complete and releases what it held.
    func finishSend(_ operation: SendOperation) {
        operation.phase = .complete
        operation.keepAlive = nil
        if let registration = operation.registration {
            verbs?.release(registration)
            operation.registration = nil
        }
        if let range = operation.bufferedRange {
            bufferedArea?.release(range)
            recycle(operation)  // buffered sends are internal: nobody else holds them
        }
    }

    func sendControl(_ kind: WireKind, _ header: MatchHeader, to peer: Int) {
        if case .loopback = routes[peer] {
            loopbackQueue.append((kind, header, []))
        } else {
            enqueue(.control(kind, header), to: peer)
        }
    }

    private func enqueue(_ item: Outgoing, to peer: Int) {
        if outboxes[peer].isEmpty && transmit(item, to: peer) { return }
        outboxes[peer].append(item)
        outboxCount += 1
    }

    /// Hands one packet to the peer's transport; false when it has no room now.
    @inline(__always)
    private func transportSend(_ peer: Int, _ kind: WireKind, _ header: MatchHeader, _ payload: UnsafeRawBufferPointer) -> Bool {
        switch routes[peer] {
        case .sharedMemory(let local):
            return sharedMemory.unsafelyUnwrapped.trySend(to: local, kind: kind.rawValue, header: header.packet, payload: payload)
        case .tcp:
            return tcp.unsafelyUnwrapped.trySend(to: peer, kind: kind.rawValue, header: header.packet, payload: payload)
        case .verbs:
            return verbs.unsafelyUnwrapped.trySend(to: peer, kind: kind.rawValue, header: header.packet, payload: payload)
        case .loopback:
            preconditionFailure("loopback packets never reach a transport")
        }
    }

    /// Puts one item on the wire; false when the transport is full (the item stays queued).
    private func transmit(_ item: Outgoing, to peer: Int) -> Bool {
        switch item {
        case .control(let kind, let header):
            return transportSend(peer, kind, header, UnsafeRawBufferPointer(start: nil, count: 0))
        case .message(let operation):
            if operation.bytes.count <= eagerLimits[peer] {
                guard transportSend(peer, .eager, operation.header, operation.bytes) else { return false }
                if operation.header.flags & MatchHeader.Flags.synchronous != 0 {
                    operation.phase = .awaitingReceiver
                } else {
                    finishSend(operation)
                }
                return true
            }
            var offer = RendezvousOffer(pid: getpid(), address: UInt64(UInt(bitPattern: operation.bytes.baseAddress)))
            if case .verbs = routes[peer], let verbs {
                // Registered once per offer (a cache hit when the buffer was sent before); without a
                // registration the receiver asks for the data in packets instead.
                if operation.registration == nil { operation.registration = verbs.register(operation.bytes) }
                if let registration = operation.registration {
                    offer.remoteKey = registration.remoteKey
                    offer.flags |= RendezvousOffer.Flags.remoteKey
                }
            }
            let sent = withUnsafeBytes(of: &offer) { transportSend(peer, .rendezvous, operation.header, $0) }
            if sent { operation.phase = .awaitingReceiver }
            return sent
        case .stream(let operation):
            let fragment = fragmentSizes[peer]
            while operation.streamOffset < operation.bytes.count {
                let length = min(fragment, operation.bytes.count - operation.streamOffset)
                let header = MatchHeader(length: UInt64(operation.streamOffset), receiverOperation: operation.receiverOperation)
                let piece = UnsafeRawBufferPointer(rebasing: operation.bytes[operation.streamOffset..<(operation.streamOffset + length)])
                if case .tcp = routes[peer] {
                    // The user's buffer stays busy until this send completes, so TCP may send the rest of
                    // a fragment the kernel took only partly straight from it, instead of copying it.
                    guard tcp.unsafelyUnwrapped.trySend(to: peer, kind: WireKind.data.rawValue, header: header.packet,
                                                        payload: piece, borrowing: true) else { return false }
                } else {
                    guard transportSend(peer, .data, header, piece) else { return false }
                }
                operation.streamOffset += length
            }
            // Complete only once TCP has no part of the buffer left to send (the item stays queued).
            if case .tcp = routes[peer], tcp.unsafelyUnwrapped.isBorrowing(peer) { return false }
            finishSend(operation)
            return true
        }
    }

    private func drainOutboxes() -> Bool {
        var progressed = false
        for peer in outboxes.indices where !outboxes[peer].isEmpty {
            while let first = outboxes[peer].first, transmit(first, to: peer) {
                outboxes[peer].removeFirst()
                outboxCount -= 1
                progressed = true
            }
        }
        return progressed
    }

    // MARK: - Receiving

    /// Posts `operation`: takes the earliest matching unexpected message, or waits in the posted queue.
    func postReceive(_ operation: ReceiveOperation) {
        // Plain index loops here and below: the generic `firstIndex(where:)` allocates a context when
        // it is not specialized (debug builds), and this is the small-message path.
        var index = 0
        while index < unexpected.count {
            if operation.matches(unexpected[index].header) {
                consume(unexpected.remove(at: index), into: operation)
                return
            }
            index += 1
        }
        posted.append(operation)
    }

    /// Removes a posted receive that has not matched; false if it already matched.
    func cancelReceive(_ operation: ReceiveOperation) -> Bool {
        guard let index = posted.firstIndex(of: operation) else { return false }
        _ = posted.remove(at: index)
        return true
    }

    /// Delivers a message taken from the unexpected queue (by a receive, or by mrecv).
    func consume(_ message: UnexpectedMessage, into operation: ReceiveOperation) {
        if let offer = message.offer {
            acceptRendezvous(operation, message.header, offer, from: message.peer)
        } else {
            message.payload.withUnsafeBytes { deliverEager(operation, message.header, $0, from: message.peer) }
        }
    }

    /// The earliest unexpected message matching (context, source, tag), without taking it.
    func peekUnexpected(context: UInt32, source: Int32, tag: Int32) -> Int? {
        unexpected.firstIndex { message in
            message.header.context == context
                && (source == MPI.anySourceCode || source == message.header.source)
                && (tag == MPI.anyTagCode || tag == message.header.tag)
        }
    }

    private func takePostedMatch(_ header: MatchHeader) -> ReceiveOperation? {
        guard let index = posted.firstMatch(header) else { return nil }
        return posted.remove(at: index)
    }

    private func deliverEager(_ operation: ReceiveOperation, _ header: MatchHeader, _ payload: UnsafeRawBufferPointer, from peer: Int) {
        let length = payload.count
        operation.status = Status(source: Int(header.source), tag: Int(header.tag), byteCount: length)
        if length > operation.buffer.count {
            operation.error = truncation(header, length: length, capacity: operation.buffer.count)
        } else if length > 0 {
            operation.buffer.baseAddress!.copyMemory(from: payload.baseAddress!, byteCount: length)
        }
        operation.isComplete = true
        if header.flags & MatchHeader.Flags.synchronous != 0 {
            sendControl(.ack, MatchHeader(senderOperation: header.senderOperation), to: peer)
        }
    }

    private func acceptRendezvous(_ operation: ReceiveOperation, _ header: MatchHeader, _ offer: RendezvousOffer, from peer: Int) {
        let total = Int(clamping: header.length)
        operation.status = Status(source: Int(header.source), tag: Int(header.tag), byteCount: total)
        let reply = MatchHeader(senderOperation: header.senderOperation)
        // An offer left in the unexpected queue by a peer that has failed since: its data can never
        // come (every transport drops packets to a failed peer), so the receive fails now.
        if let reason = failedPeers[peer] {
            operation.error = MPIError(.peerFailed, "rank \(peer) failed before its \(total)-byte message could be received: \(reason)",
                                       status: operation.status)
            operation.isComplete = true
            return
        }
        if total > operation.buffer.count {
            operation.error = truncation(header, length: total, capacity: operation.buffer.count)
            operation.isComplete = true
            sendControl(.ack, reply, to: peer)  // the sender completes normally
            return
        }
        if singleCopyAllowed && total >= singleCopyThreshold, case .sharedMemory = routes[peer], let sharedMemory {
            // Shared only while traffic flows one way: with sends of its own waiting for the peer, both
            // cores already copy (bi-directional bandwidth fell 10-20% when shared).
            if sharedCopyAllowed && total >= SharedCopy.threshold && !waitingSends.contains(where: { $0.destination == peer }),
               startSharedCopy(operation, header, offer, from: peer) { return }
            let target = UnsafeMutableRawBufferPointer(rebasing: operation.buffer[0..<total])
            let error = sharedMemory.readPeerMemory(pid: offer.pid, address: offer.address, into: target)
            if error == 0 {
                operation.isComplete = true
                sendControl(.ack, reply, to: peer)
                return
            }
            // Forbidden here (seccomp, Yama, a container): use the pipelined copy from now on.
            if error == EPERM || error == ENOSYS || error == EACCES { singleCopyAllowed = false }
        }
        operation.remaining = total
        operation.peer = peer
        operation.id = waitingReceives.insert(operation)
        if offer.flags & RendezvousOffer.Flags.remoteKey != 0, case .verbs = routes[peer], let verbs, total > 0 {
            // RDMA READ straight into the receive buffer; the ack follows its completion.
            operation.senderOperation = header.senderOperation
            let target = UnsafeMutableRawBufferPointer(rebasing: operation.buffer[0..<total])
            if verbs.read(from: peer, address: offer.address, key: offer.remoteKey, into: target, token: operation.id) { return }
        }
        var request = reply
        request.receiverOperation = operation.id
        sendControl(.clearToSend, request, to: peer)
    }

    // MARK: - Shared copies (SharedCopy.swift)

    /// Announces a shared copy of a matched rendezvous message to its sender and copies chunks until
    /// none is left; false when no copy-board descriptor is free (the caller copies it alone).
    private func startSharedCopy(_ operation: ReceiveOperation, _ header: MatchHeader, _ offer: RendezvousOffer,
                                 from peer: Int) -> Bool {
        guard let sharedMemory, let index = freeCopyDescriptors.last,
              let base = sharedMemory.copyDescriptor(index, ofLocalRank: sharedMemory.localRank) else { return false }
        freeCopyDescriptors.removeLast()
        copyGeneration &+= 1
        let total = Int(clamping: header.length)
        var copy = SharedCopy(operation: operation, descriptorIndex: index, descriptor: CopyDescriptor(base: base),
                              generation: copyGeneration, peer: peer, pid: offer.pid, source: offer.address,
                              senderOperation: header.senderOperation, total: total,
                              chunkBytes: SharedCopy.chunkBytes(total: total))
        copy.descriptor.arm(generation: copy.generation)
        sendControl(.share, MatchHeader(context: UInt32(index), source: Int32(bitPattern: copy.generation),
                                        tag: Int32(copy.chunkBytes), flags: UInt32(copy.chunkCount),
                                        length: UInt64(UInt(bitPattern: operation.buffer.baseAddress)),
                                        senderOperation: header.senderOperation), to: peer)
        while let chunk = copy.descriptor.claim(generation: copy.generation, chunkCount: copy.chunkCount) {
            readChunk(chunk, of: &copy, using: sharedMemory)
        }
        if !finishSharedCopy(&copy) { sharedCopies.append(copy) }
        return true
    }

    private func readChunk(_ chunk: Int, of copy: inout SharedCopy, using sharedMemory: SharedMemoryTransport) {
        let range = copy.range(of: chunk)
        let target = UnsafeMutableRawBufferPointer(rebasing: copy.operation.buffer[range])
        // Wrapping: the address comes from the peer, and a bad one must fail the copy, not trap.
        let error = sharedMemory.readPeerMemory(pid: copy.pid, address: copy.source &+ UInt64(range.lowerBound), into: target)
        if error != 0 && copy.readError == 0 { copy.readError = error }
        copy.descriptor.finish()
        sharedCopyCounts.chunksRead += 1
    }

    /// Completes the receive once every chunk is finished (copying the one the sender gave up on);
    /// returns false while the sender still copies.
    private func finishSharedCopy(_ copy: inout SharedCopy) -> Bool {
        let (finished, failedChunk) = copy.descriptor.progress(chunkCount: copy.chunkCount)
        guard finished + (failedChunk == nil ? 0 : 1) >= copy.chunkCount else { return false }
        if let failedChunk, let sharedMemory { readChunk(failedChunk, of: &copy, using: sharedMemory) }
        freeCopyDescriptors.append(copy.descriptorIndex)
        sharedCopyCounts.received += 1
        let operation = copy.operation
        if copy.readError != 0 {
            operation.error = MPIError(copy.readError == ESRCH ? .peerFailed : .transport,
                                       "receive: copying \(copy.total) bytes from rank \(copy.peer) failed: \(String(cString: strerror(copy.readError)))",
                                       status: operation.status)
        }
        operation.isComplete = true
        if copy.readError != ESRCH { sendControl(.ack, MatchHeader(senderOperation: copy.senderOperation), to: copy.peer) }
        return true
    }

    /// Completes the shared copies whose sender has finished its chunks; true when any completed.
    private func finishSharedCopies() -> Bool {
        var index = 0, finishedAny = false
        while index < sharedCopies.count {
            if finishSharedCopy(&sharedCopies[index]) {
                sharedCopies.remove(at: index)
                finishedAny = true
            } else {
                index += 1
            }
        }
        return finishedAny
    }

    /// Sender, idle: helps with the oldest shared copy still waiting for help; true when it copied.
    private func helpWithSharedCopy() -> Bool {
        while !helpRequests.isEmpty {
            let (header, peer) = helpRequests.removeFirst()
            if helpCopy(header, from: peer) { return true }
        }
        return false
    }

    /// Sender: helps with a shared copy of its message `header.senderOperation` (see ``SharedCopy``);
    /// true when it copied a chunk. Anything that does not fit the waiting send is ignored.
    private func helpCopy(_ header: MatchHeader, from peer: Int) -> Bool {
        guard sharedCopyAllowed, let operation = waitingSends.lookup(header.senderOperation), operation.destination == peer,
              case .sharedMemory(let local) = routes[peer], let sharedMemory,
              let base = sharedMemory.copyDescriptor(Int(header.context), ofLocalRank: local) else { return false }
        let total = operation.bytes.count
        let chunkBytes = Int(header.tag), chunkCount = Int(header.flags)
        guard chunkBytes > 0, total > 0, chunkCount == (total + chunkBytes - 1) / chunkBytes, header.length != 0 else { return false }
        let descriptor = CopyDescriptor(base: base)
        let generation = UInt32(bitPattern: header.source)
        var copied = false
        while let chunk = descriptor.claim(generation: generation, chunkCount: chunkCount) {
            let start = chunk * chunkBytes
            let source = UnsafeRawBufferPointer(rebasing: operation.bytes[start..<min(total, start + chunkBytes)])
            guard sharedMemory.writePeerMemory(pid: peerPIDs[peer], address: header.length &+ UInt64(start), from: source) == 0 else {
                descriptor.markFailed(chunk)
                sharedCopyAllowed = false
                helpRequests.removeAll()
                return true
            }
            descriptor.finish()
            sharedCopyCounts.chunksWritten += 1
            copied = true
        }
        return copied
    }

    private func truncation(_ header: MatchHeader, length: Int, capacity: Int) -> MPIError {
        MPIError(.truncate, "receive: message of \(length) bytes from rank \(header.source) with tag \(header.tag) does not fit the \(capacity)-byte buffer",
                 status: Status(source: Int(header.source), tag: Int(header.tag), byteCount: length))
    }

    // MARK: - Progress

    /// Moves everything that can move now: queued sends, loopback packets, arrived packets.
    /// Returns true when anything happened.
    @discardableResult
    func progress() -> Bool {
        var progressed = false
        if outboxCount > 0 { progressed = drainOutboxes() }
        if !sharedCopies.isEmpty && finishSharedCopies() { progressed = true }
        if !loopbackQueue.isEmpty {
            let packets = loopbackQueue
            loopbackQueue.removeAll(keepingCapacity: true)
            for packet in packets {
                packet.payload.withUnsafeBytes { handle(packet.kind.rawValue, packet.header, $0, from: rank) }
            }
            progressed = true
        }
        if let sharedMemoryPoller {
            let delivered = sharedMemoryPoller._withUnsafeGuaranteedRef { sharedMemory in
                sharedMemory.poll { local, kind, header, payload in
                    self.handle(kind, MatchHeader(header), payload, from: self.worldRankOfLocal[local])
                }
            }
            if delivered > 0 { progressed = true }
        }
        if let verbs {
            let completed = verbs.poll { peer, kind, header, payload in
                self.handle(kind, MatchHeader(header), payload, from: peer)
            }
            if completed > 0 { progressed = true }
            if verbs.hasCompletedReads {
                for token in verbs.takeCompletedReads() { finishRead(token) }
            }
            if verbs.hasFailures {
                for failure in verbs.takeFailures() { failPeer(failure.peer, failure.reason) }
                progressed = true
            }
        }
        if let tcp {
            let delivered = tcp.poll(place: { peer, kind, header, length in
                self.placement(of: kind, MatchHeader(header), length: length, from: peer)
            }) { peer, kind, header, payload in
                self.handle(kind, MatchHeader(header), payload, from: peer)
            }
            if delivered > 0 { progressed = true }
            if tcp.hasFailures {
                for failure in tcp.takeFailures() { failPeer(failure.peer, failure.reason) }
                progressed = true
            }
        }
        if !progressed && !helpRequests.isEmpty { progressed = helpWithSharedCopy() }
        return progressed
    }

    /// Where a data fragment of `length` bytes from `peer` belongs — its receive's buffer at the
    /// fragment's offset, checked as ``handle(_:_:_:from:)`` checks it — so TCP can read it there
    /// directly; nil for any other packet.
    private func placement(of kind: UInt8, _ header: MatchHeader, length: Int, from peer: Int) -> UnsafeMutableRawPointer? {
        guard kind == WireKind.data.rawValue, let operation = waitingReceives.lookup(header.receiverOperation),
              operation.peer == peer, let base = operation.buffer.baseAddress else { return nil }
        let offset = Int(clamping: header.length)
        guard offset <= operation.buffer.count, length <= operation.buffer.count - offset else { return nil }
        return base + offset
    }

    /// An RDMA read of a rendezvous message finished: the receive is complete, and the sender may
    /// reuse its buffer.
    private func finishRead(_ id: UInt32) {
        guard let operation = waitingReceives.remove(id) else { return }
        operation.remaining = 0
        operation.isComplete = true
        sendControl(.ack, MatchHeader(senderOperation: operation.senderOperation), to: operation.peer)
    }

    /// A peer is gone: every operation that depends on it completes with `.peerFailed` (sends to it,
    /// receives naming it, and wildcard receives, which it might have matched), and so will every
    /// later one.
    func failPeer(_ peer: Int, _ reason: String) {
        guard failedPeers[peer] == nil else { return }
        failedPeers[peer] = reason
        let error = MPIError(.peerFailed, "rank \(peer) failed: \(reason)")
        outboxCount -= outboxes[peer].count
        for item in outboxes[peer] {
            switch item {
            case .message(let operation), .stream(let operation):
                operation.error = error
                finishSend(operation)
            case .control:
                break
            }
        }
        outboxes[peer].removeAll()
        for id in waitingSends.ids where waitingSends.lookup(id)?.destination == peer {
            if let operation = waitingSends.remove(id) {
                operation.error = error
                finishSend(operation)
            }
        }
        var index = 0
        while index < posted.count {
            let operation = posted[index]
            if operation.source == MPI.anySourceCode || operation.peer == peer {
                _ = posted.remove(at: index)
                operation.error = error
                operation.isComplete = true
            } else {
                index += 1
            }
        }
        for id in waitingReceives.ids {
            if let operation = waitingReceives.lookup(id), operation.peer == peer {
                _ = waitingReceives.remove(id)
                operation.error = error
                operation.isComplete = true
            }
        }
        // Shared copies from it: it will finish no chunk now (it is gone, so the descriptor is free).
        for copy in sharedCopies where copy.peer == peer {
            freeCopyDescriptors.append(copy.descriptorIndex)
            copy.operation.error = error
            copy.operation.isComplete = true
        }
        sharedCopies.removeAll { $0.peer == peer }
    }

    /// Handles one arrived packet. Packets that make no sense (unknown kind, unknown operation id,
    /// short payload) are dropped: a peer cannot make this rank crash or write out of bounds.
    /// (Internal, not private, for the fuzz tests.)
    func handle(_ rawKind: PacketKind, _ header: MatchHeader, _ payload: UnsafeRawBufferPointer, from peer: Int) {
        switch WireKind(rawValue: rawKind) {
        case .eager:
            if let operation = takePostedMatch(header) {
                deliverEager(operation, header, payload, from: peer)
            } else {
                if header.flags & MatchHeader.Flags.ready != 0 { warnReadySend(header) }
                unexpected.append(UnexpectedMessage(header: header, peer: peer, payload: Array(payload), offer: nil))
            }
        case .rendezvous:
            guard payload.count >= MemoryLayout<RendezvousOffer>.size else { return }
            let offer = payload.loadUnaligned(as: RendezvousOffer.self)
            if let operation = takePostedMatch(header) {
                acceptRendezvous(operation, header, offer, from: peer)
            } else {
                if header.flags & MatchHeader.Flags.ready != 0 { warnReadySend(header) }
                unexpected.append(UnexpectedMessage(header: header, peer: peer, payload: [], offer: offer))
            }
        case .clearToSend:
            guard waitingSends.lookup(header.senderOperation)?.destination == peer,
                  let operation = waitingSends.remove(header.senderOperation) else { return }
            operation.receiverOperation = header.receiverOperation
            operation.phase = .streaming
            operation.streamOffset = 0
            enqueue(.stream(operation), to: peer)
        case .data:
            guard let operation = waitingReceives.lookup(header.receiverOperation), operation.peer == peer else { return }
            let offset = Int(clamping: header.length)
            let length = payload.count
            guard offset <= operation.buffer.count, length <= operation.buffer.count - offset else { return }
            let destination = operation.buffer.baseAddress.map { $0 + offset }
            if length > 0 && UnsafeRawPointer(destination) != payload.baseAddress {  // else read there already
                destination!.copyMemory(from: payload.baseAddress!, byteCount: length)
            }
            operation.remaining -= length
            if operation.remaining <= 0 {
                _ = waitingReceives.remove(header.receiverOperation)
                operation.isComplete = true
            }
        case .ack:
            guard waitingSends.lookup(header.senderOperation)?.destination == peer,
                  let operation = waitingSends.remove(header.senderOperation) else { return }
            finishSend(operation)
        case .share:
            // Help only when there is nothing else to do: a rank busy with its own traffic would only
            // move the receiver's buffer into its own cache (bi-directional bandwidth fell by up to
            // a third when senders helped at once).
            if sharedCopyAllowed {
                if helpRequests.count == SharedMemoryTransport.copyDescriptorCount { helpRequests.removeFirst() }
                helpRequests.append((header, peer))
            }
        case nil:
            return
        }
    }

    private func warnReadySend(_ header: MatchHeader) {
        guard !warnedAboutReadySend else { return }
        warnedAboutReadySend = true
        let line = "SwiftMPI rank \(rank): rsend from rank \(header.source) with tag \(header.tag) arrived before a matching receive was posted (erroneous in MPI); delivered as a standard send\n"
        _ = line.utf8CString.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress!, $0.count - 1) }
    }

    // MARK: - Waiting

    /// Progresses until `done()` is true. Spins while there is something to do; when idle, yields the
    /// CPU at once if oversubscribed, else after a short spin. Every ~second of idleness it checks that
    /// the peers are alive and throws `.peerFailed` if one is gone, so a wait never hangs on a dead rank.
    @inline(__always)
    func wait(_ call: @autoclosure () -> String, until done: () -> Bool) throws(MPIError) {
        if done() { return }
        var idle = 0
        var idleSince = 0.0
        while true {
            if progress() {
                idle = 0
            } else {
                idle += 1
                if let tcp, (yieldWhenIdle && idle > 100) || idle > 200_000 {
                    // Oversubscribed, or idle for long: sleep in the kernel until a socket has data
                    // (at most 1 ms, so shared-memory peers and queued sends are still served).
                    tcp.waitForInput(milliseconds: 1)
                } else if yieldWhenIdle || idle > 1000 {
                    sched_yield()
                }
                if idle & 0x3FF == 0 {
                    let now = MPI.wtime()
                    if idleSince == 0 { idleSince = now } else if now - idleSince > 1 {
                        idleSince = now
                        try checkPeersAlive(call())
                    }
                }
            }
            if done() { return }
        }
    }

    private func checkPeersAlive(_ call: String) throws(MPIError) {
        for (peer, pid) in peerPIDs.enumerated() where peer != rank && pid > 0 {
            guard case .sharedMemory = routes[peer] else { continue }  // TCP peers report their own failures
            if kill(pid, 0) != 0 && errno == ESRCH {
                throw MPIError(.peerFailed, "\(call): rank \(peer) (pid \(pid)) is no longer running")
            }
        }
    }
}

/// The memory behind `MPI.attachBuffer(bytes:)`: a first-fit allocator for buffered sends.
final class BufferedSendArea {
    let storage: UnsafeMutableRawBufferPointer
    private var used: [Range<Int>] = []   // sorted, disjoint

    init(bytes: Int) {
        storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes, 1), alignment: 64)
    }

    deinit { storage.deallocate() }

    var isIdle: Bool { used.isEmpty }
    var capacity: Int { storage.count }
    var freeBytes: Int { storage.count - used.reduce(0) { $0 + $1.count } }

    /// Reserves `count` bytes (rounded to 64, plus ``MPI/bufferedSendOverhead``) or returns nil.
    func allocate(_ count: Int) -> Range<Int>? {
        let needed = (count + 63) / 64 * 64 + MPI.bufferedSendOverhead
        var start = 0
        for (index, range) in used.enumerated() {
            if range.lowerBound - start >= needed {
                used.insert(start..<(start + needed), at: index)
                return start..<(start + needed)
            }
            start = range.upperBound
        }
        guard storage.count - start >= needed else { return nil }
        used.append(start..<(start + needed))
        return start..<(start + needed)
    }

    func release(_ range: Range<Int>) {
        if let index = used.firstIndex(of: range) { used.remove(at: index) }
    }
}
