#if canImport(Glibc)
import Glibc
#endif
import SwiftMPITransport

/// Non-contiguous messages (derived datatypes, ``TypedRegion``): which path each size and route takes.
///
/// - Eager sizes: packed into one contiguous copy and sent as any eager message (a blocking send with
///   room on the wire packs into a reused scratch buffer: nothing allocated); the receiver unpacks
///   straight from the packet (from the ring slot, for shared memory).
/// - Rendezvous over a route with scattered reads (shared memory: Cross Memory Attach): no packing on
///   either side. A sender whose runs average at least ``scatteredRunThreshold`` bytes offers its
///   datatype's origin and flattened blocks; the receiver reads the blocks, then the data with
///   process_vm_readv over iovec lists of up to 1024 pieces a side. A contiguous sender's message is
///   read straight into a non-contiguous receive the same way (one remote piece).
/// - Rendezvous over verbs: the same without packing where the sender's datatype is one block (its
///   footprint registered and offered with its key) and both sides' runs average that much: RDMA
///   READs with scatter/gather lists (``startScatteredRead(_:_:total:offer:from:)``).
/// - Otherwise — runs shorter than that on the sender (a column of doubles: 8-byte runs), TCP,
///   or Cross Memory Attach forbidden — the receiver asks for fragments; the sender packs each
///   fragment into a scratch buffer, the receiver unpacks each. The kernel pins the remote pages of
///   every remote iovec: 32 KiB in 4-byte runs took 1.1 ms read scattered against 30 µs packed, 512-byte
///   runs 11 µs against 6, 4 KiB runs 3.7 µs against 5.7 (2026-12-02, release, this VM kind).
extension Engine {
    /// Starts a standard, ready or synchronous send of `region` to world rank `destination`; nil when
    /// it is already complete. As ``send(_:to:envelope:mode:keepAlive:)``.
    func send(_ region: TypedRegion, to destination: Int, envelope: Envelope, mode: SendMode, keepAlive: AnyObject?) -> SendOperation? {
        let total = region.byteCount
        if sendProtocol(byteCount: total, to: destination) == .eager {
            if mode != .synchronous && outboxes[destination].isEmpty {
                let scratch = packScratch(total)
                region.pack(0..<total, into: scratch.baseAddress!)
                var header = MatchHeader(envelope, flags: mode == .ready ? MatchHeader.Flags.ready : 0)
                header.length = UInt64(total)
                if trySendEagerNow(UnsafeRawBufferPointer(rebasing: scratch[0..<total]), to: destination, header: header) {
                    noteSend(envelope, to: destination, bytes: total, mode: mode)
                    return nil
                }
            }
            let packed = ArrayBox(region.packed())  // kept by the operation until it leaves
            return send(packed.bytes, to: destination, envelope: envelope, mode: mode, keepAlive: packed)
        }
        noteSend(envelope, to: destination, bytes: total, mode: mode)
        let operation = makeSend()
        operation.region = region
        operation.destination = destination
        operation.header = MatchHeader(envelope, flags: mode == .ready ? MatchHeader.Flags.ready : 0)
        if keepAlive != nil { operation.keepAlive = keepAlive }
        startSend(operation, synchronous: mode == .synchronous)
        return operation
    }

    /// Sender: offers a non-contiguous message, for a scattered read where the route has them. Over
    /// an asynchronous route (verbs) only a datatype of one block is offered (the receiver cannot read
    /// a block list first), with its footprint exposed (registered) once.
    func offerRendezvous(_ operation: SendOperation, _ region: TypedRegion, to peer: Int) -> Bool {
        var offer = RendezvousOffer(pid: processID, address: UInt64(UInt(bitPattern: region.origin)))
        let capabilities = routes.capabilities[peer]
        if capabilities.maxReadSegments > 0 && region.byteCount > 0 && region.map.averageRunLength >= Self.scatteredRunThreshold
            && (capabilities.peerRead == .immediate || capabilities.peerRead == .asynchronous && region.map.blocks.count == 1)
        {
            var key: UInt32? = 0
            if capabilities.peerRead == .asynchronous {
                if operation.exposure == nil, let footprint = try? TypedRegion.footprint(region.map, count: region.count, "send") {
                    operation.exposure = routes.expose(UnsafeRawBufferPointer(start: region.origin! + footprint.lowerBound, count: footprint.count), to: peer)
                }
                key = operation.exposure?.remote.key
            }
            if let key {
                offer.flags = RendezvousOffer.Flags.exposed | RendezvousOffer.Flags.segmented
                offer.remoteKey = key
                offer.typeBlockCount = UInt32(region.map.blocks.count)
                offer.typeBlocks = UInt64(UInt(bitPattern: region.map.blockStorage))
                offer.instances = UInt64(region.count)
                offer.extent = Int64(region.map.extent)
                offer.firstBlock = region.map.blockStorage[0]
            }
        }
        let sent = withUnsafeBytes(of: &offer) { routes.trySend(to: peer, kind: .rendezvous, header: operation.header, payload: $0) }
        if sent { operation.phase = .awaitingReceiver }
        return sent
    }

    /// Sender: streams a non-contiguous message in packed fragments after clearToSend; false while
    /// the transport is full (the rest is packed again on the next try).
    func streamPackedFragments(_ operation: SendOperation, _ region: TypedRegion, to peer: Int) -> Bool {
        let fragment = min(fragmentSizes[peer], 1 << 20)
        let total = region.byteCount
        while operation.streamOffset < total {
            let length = min(fragment, total - operation.streamOffset)
            let scratch = packScratch(length)
            region.pack(operation.streamOffset..<(operation.streamOffset + length), into: scratch.baseAddress!)
            let header = MatchHeader(length: UInt64(operation.streamOffset), receiverOperation: operation.receiverOperation)
            guard routes.trySend(to: peer, kind: .data, header: header, payload: UnsafeRawBufferPointer(rebasing: scratch[0..<length])) else {
                return false
            }
            operation.streamOffset += length
            typedCounts.packedFragments += 1
        }
        finishSend(operation)
        return true
    }

    /// Receiver: reads a rendezvous message where one side or both are non-contiguous, scattered,
    /// with the route's ``Transport/readSegments(from:remote:key:into:token:)``: first the sender's datatype
    /// blocks (when it offered more than one), then the data, 1024 pieces a side per call.
    /// `.completed` when every byte is in place; `.unsupported` when the route cannot; a failure as
    /// the transport said.
    func readScattered(_ operation: ReceiveOperation, total: Int, offer: RendezvousOffer, from peer: Int) -> BulkResult {
        guard routes.capabilities[peer].maxReadSegments > 0, routes.capabilities[peer].peerRead == .immediate else { return .unsupported }
        let remote: TypedRegion
        switch senderRegion(offer, total: total, from: peer) {
        case .success(let region): remote = region
        case .failure(let failure): return failure.result
        }
        let local = operation.region ?? TypedRegion(contiguous: operation.buffer.baseAddress, byteCount: total)
        let result = scatteredCopy(local: local, remote: remote, range: 0..<total, peer: peer, write: false)
        if result == .completed { typedCounts.scatteredReads += 1 }
        return result
    }

    /// Receiver, over a route whose reads are asynchronous (verbs): starts RDMA READs of a rendezvous
    /// message where one side or both are non-contiguous — each remote run scattered into up to the
    /// device's scatter/gather limit of local pieces, no packing on either side — when both sides'
    /// runs average at least ``scatteredRunThreshold`` bytes and the sender offered one block (or
    /// contiguous data). The receive completes, and the sender is acknowledged, when the last read
    /// does (``finishRead(_:)``). False when nothing was started: the caller asks for fragments.
    func startScatteredRead(_ operation: ReceiveOperation, _ header: MatchHeader, total: Int, offer: RendezvousOffer, from peer: Int) -> Bool {
        guard routes.capabilities[peer].maxReadSegments > 0, routes.capabilities[peer].peerRead == .asynchronous,
            offer.flags & RendezvousOffer.Flags.segmented == 0 || offer.typeBlockCount == 1
        else { return false }
        let local = operation.region ?? TypedRegion(contiguous: operation.buffer.baseAddress, byteCount: total)
        guard local.map.blocks.count == 1 && local.count == 1 || local.map.averageRunLength >= Self.scatteredRunThreshold,
            case .success(let remote) = senderRegion(offer, total: total, from: peer)
        else { return false }
        operation.remaining = 0  // counts the reads in flight
        operation.peer = peer
        operation.senderOperation = header.senderOperation
        operation.id = waitingReceives.insert(operation)
        var started = 0
        let result = scatteredCopy(
            local: local, remote: remote, range: 0..<total, peer: peer, write: false, key: offer.remoteKey, token: operation.id, started: &started)
        operation.remaining = started
        switch result {
        case .completed where started == 0:  // nothing was left to read
            _ = waitingReceives.remove(operation.id)
            operation.isComplete = true
            sendControl(.ack, MatchHeader(senderOperation: header.senderOperation), to: peer)
        case .completed:
            typedCounts.scatteredReads += 1
        case _ where started == 0:
            _ = waitingReceives.remove(operation.id)
            return false
        default:
            // Some reads are in flight into the buffer: the receive fails once they are done.
            operation.error = MPIError(
                .transport, "recv: scattered RDMA read of \(total) bytes from rank \(peer) failed (\(result))", status: operation.status)
        }
        return true
    }

    /// Why the sender's region cannot be described (``senderRegion(_:total:from:)``).
    struct RegionFailure: Error {
        let result: BulkResult
    }

    /// The sender's message as a region of the sender's memory: its datatype's blocks (from the offer,
    /// or read from the sender when there are several) or one contiguous range. A peer's blocks are
    /// checked as untrusted: they must describe exactly `total` bytes.
    func senderRegion(_ offer: RendezvousOffer, total: Int, from peer: Int) -> Result<TypedRegion, RegionFailure> {
        let origin = UnsafeMutableRawPointer(bitPattern: UInt(truncatingIfNeeded: offer.address))
        guard offer.flags & RendezvousOffer.Flags.segmented != 0 else { return .success(TypedRegion(contiguous: origin, byteCount: total)) }
        let blockCount = Int(offer.typeBlockCount)
        guard blockCount > 0, blockCount <= 1 << 24, offer.instances > 0, offer.instances <= UInt64(Int.max) else {
            return .failure(RegionFailure(result: .failed(errno: EPROTO)))
        }
        var blocks = [offer.firstBlock]
        if blockCount > 1 {
            blocks = [TypeBlock](repeating: TypeBlock(offset: 0, length: 0, count: 0, stride: 0), count: blockCount)
            let read = blocks.withUnsafeMutableBytes {
                routes.read(from: peer, remote: RemoteMemory(address: offer.typeBlocks, key: offer.remoteKey), into: $0, token: 0)
            }
            guard read == .completed else { return .failure(RegionFailure(result: read)) }
        }
        var size = 0
        for block in blocks {
            let (bytes, o1) = block.length.multipliedReportingOverflow(by: block.count)
            let (sum, o2) = size.addingReportingOverflow(bytes)
            guard block.length > 0, block.count > 0, !o1, !o2 else { return .failure(RegionFailure(result: .failed(errno: EPROTO))) }
            size = sum
        }
        let (bytes, overflow) = size.multipliedReportingOverflow(by: Int(offer.instances))
        guard !overflow, bytes == total else { return .failure(RegionFailure(result: .failed(errno: EPROTO))) }
        let map = TypeMap(
            blocks: blocks, lowerBound: 0, upperBound: Int(offer.extent), alignment: 1, signature: [], externalSignature: [],
            summary: "rank \(peer)'s datatype")
        return .success(TypedRegion(unchecked: origin, map: map, count: Int(offer.instances)))
    }

    /// ``scatteredCopy(local:remote:range:peer:write:key:token:started:)`` over a route that copies at once.
    func scatteredCopy(local: TypedRegion, remote: TypedRegion, range: Range<Int>, peer: Int, write: Bool) -> BulkResult {
        var started = 0
        return scatteredCopy(local: local, remote: remote, range: range, peer: peer, write: write, key: 0, token: 0, started: &started)
    }

    /// Copies packed positions `range` between this rank's `local` data and `peer`'s `remote` data
    /// (another process's addresses: never dereferenced here), both walked as layouts: a scattered
    /// read into `local` (remote key `key`), or with `write` a scattered write from it, up to the
    /// route's limit of pieces per call a side. Reads an asynchronous route started (reported with
    /// `token`) are counted in `started`; `.completed` then means all were started.
    func scatteredCopy(
        local: TypedRegion, remote: TypedRegion, range: Range<Int>, peer: Int, write: Bool, key: UInt32, token: UInt32,
        started: inout Int
    ) -> BulkResult {
        let capabilities = routes.capabilities[peer]
        let limit = min(write ? capabilities.maxWriteSegments : capabilities.maxReadSegments, Self.segmentBatch)
        guard limit > 0 else { return .unsupported }
        let segments = segmentScratch
        var position = range.lowerBound
        while position < range.upperBound {
            var localCount = 0, localEnd = position
            local.map.forEachRun(origin: local.originAddress, count: local.count, range: position..<range.upperBound) { address, length, _ in
                segments[localCount] = MemorySegment(address: UInt64(UInt(bitPattern: address)), length: length)
                localCount += 1
                localEnd += length
                return localCount < limit
            }
            var remoteCount = 0, remoteEnd = position
            remote.map.forEachRun(origin: remote.originAddress, count: remote.count, range: position..<localEnd) { address, length, _ in
                segments[Self.segmentBatch + remoteCount] = MemorySegment(address: UInt64(UInt(bitPattern: address)), length: length)
                remoteCount += 1
                remoteEnd += length
                return remoteCount < limit
            }
            guard remoteEnd > position else { return .failed(errno: EPROTO) }  // the layouts disagree: never loop
            var excess = localEnd - remoteEnd  // the remote list may stop short: trim the local one to match
            while excess > 0 {
                if segments[localCount - 1].length <= excess {
                    excess -= segments[localCount - 1].length
                    localCount -= 1
                } else {
                    segments[localCount - 1].length -= excess
                    excess = 0
                }
            }
            let localList = UnsafeMutableBufferPointer(rebasing: segments[0..<localCount])
            let remoteList = UnsafeMutableBufferPointer(rebasing: segments[Self.segmentBatch..<(Self.segmentBatch + remoteCount)])
            let result =
                write
                ? routes.writeSegments(to: peer, remote: remoteList, from: localList)
                : routes.readSegments(from: peer, remote: remoteList, key: key, into: localList, token: token)
            if result == .started {
                started += 1
            } else if result != .completed {
                return result
            }
            position = remoteEnd
        }
        return .completed
    }

    /// Pieces per side of one scattered read (process_vm_readv's IOV_MAX).
    static let segmentBatch = 1024

    /// Senders whose runs average fewer bytes stream packed fragments instead of offering scattered
    /// reads (see the measurements above).
    static let scatteredRunThreshold = 4096
}
