#if canImport(Glibc)
import Glibc
#endif
import SwiftMPITransport

/// Rank 0's engine with a real shared-memory route to a "rank 1" whose end lives in this process,
/// for the fuzz targets and tests of this package (`package` access: not part of SwiftMPI's API, and
/// usable from a release build, unlike `@testable import`).
///
/// Packets are fed as a peer would send them; what the engine sends back is drained from rank 1's
/// rings. Rank 1's pid is 0 (no process), so a hostile rendezvous offer or `share` request cannot
/// make this process read or write itself at a fuzzed address (Cross Memory Attach to pid 0 fails).
package final class EngineHarness {
    let engine: Engine
    private let peer: SharedMemoryTransport
    private var buffers: [UnsafeMutableRawBufferPointer] = []
    private var receives: [ReceiveOperation] = []
    /// What sends send from: one buffer for the harness's life (a send may wait for an ack forever).
    private let landing = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)

    /// The bytes of a packet's header as ``deliver(_:)`` expects them after the kind byte.
    package static let headerBytes = MemoryLayout<PacketHeader>.size

    /// A packet as ``deliver(_:)`` takes it: `kind`, the header fields, then `payload`.
    package static func packet(
        kind: UInt8, context: UInt32 = 0, source: Int32 = 0, tag: Int32 = 0, flags: UInt32 = 0,
        length: UInt64 = 0, senderOperation: UInt32 = 0, receiverOperation: UInt32 = 0,
        payload: [UInt8] = []
    ) -> [UInt8] {
        let header = MatchHeader(
            context: context, source: source, tag: tag, flags: flags, length: length,
            senderOperation: senderOperation, receiverOperation: receiverOperation)
        return [kind] + withUnsafeBytes(of: header.packet) { Array($0) } + payload
    }

    /// Creates the engine and both ends of its shared-memory route (segment names unlinked at once).
    package init(jobID: String) throws(TransportError) {
        let local = try SharedMemoryTransport(jobID: jobID, localRank: 0, localSize: 2, sharedAreaBytes: SharedArea.byteCount)
        peer = try SharedMemoryTransport(jobID: jobID, localRank: 1, localSize: 2, sharedAreaBytes: SharedArea.byteCount)
        try local.attachPeers(worldRankOfLocal: [0, 1], worldSize: 2, pids: [getpid(), 0])
        try peer.attachPeers(worldRankOfLocal: [0, 1], worldSize: 2, pids: [0, getpid()])
        local.unlinkOwnSegment()
        peer.unlinkOwnSegment()
        engine = Engine(
            rank: 0, routes: Routes(rank: 0, routes: [.own, .sharedMemory], sharedMemory: local),
            singleCopyAllowed: false, singleCopyThreshold: 0, yieldWhenIdle: false)
    }

    deinit {
        buffers.forEach { $0.deallocate() }
        landing.deallocate()
    }

    /// Posts a receive of `capacity` bytes on context 0 or 1, from rank 0 of the peer or any source,
    /// with `tag` or any tag.
    package func postReceive(capacity: Int, context: UInt32, anySource: Bool, tag: Int32?) {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 8)
        buffers.append(buffer)
        let operation = engine.makeReceive()
        operation.buffer = buffer
        operation.pattern = MatchPattern(context: context, source: anySource ? MPI.anySourceCode : 0, tag: tag ?? MPI.anyTagCode)
        operation.peer = anySource ? -1 : 1
        receives.append(operation)
        engine.postReceive(operation)
    }

    /// Starts a send to rank 1 of `count` (at most 64) bytes.
    package func startSend(count: Int = 16, tag: Int32, synchronous: Bool) {
        let operation = engine.makeSend()
        operation.bytes = UnsafeRawBufferPointer(rebasing: landing[0..<min(max(count, 0), landing.count)])
        operation.destination = 1
        operation.header = MatchHeader(tag: tag)
        engine.startSend(operation, synchronous: synchronous)
    }

    /// Feeds one packet from rank 1: a kind byte, ``headerBytes`` of header, then the payload (shorter
    /// input is ignored), then progresses and drains what the engine sent.
    package func deliver(_ input: UnsafeRawBufferPointer) {
        guard input.count >= 1 + Self.headerBytes else { return }
        let header = input.loadUnaligned(fromByteOffset: 1, as: PacketHeader.self)
        engine.deliver(from: 1, kind: input[0], header: header, payload: UnsafeRawBufferPointer(rebasing: input[(1 + Self.headerBytes)...]))
        engine.progress()
        _ = peer.poll(into: Drain())
    }

    /// What a hostile peer must never achieve, as sentences (empty when all holds): a receive
    /// completed with more bytes than its buffer without a truncation error, a status with a
    /// negative count, queue counts out of step, copy-board descriptors lost or duplicated.
    package func violations() -> [String] {
        var found: [String] = []
        for operation in receives where operation.isComplete && operation.error == nil {
            if operation.status.byteCount > operation.buffer.count {
                found.append("a receive of \(operation.buffer.count) bytes completed with \(operation.status.byteCount) bytes and no error")
            }
        }
        for message in engine.unexpected where message.status.byteCount < 0 {
            found.append("an unexpected message has a negative length \(message.status.byteCount)")
        }
        let queued = engine.outboxes.reduce(0) { $0 + $1.count }
        if queued != engine.outboxCount { found.append("outboxCount \(engine.outboxCount) but \(queued) items queued") }
        let descriptors = engine.freeCopyDescriptors + engine.sharedCopies.map(\.descriptorIndex)
        if descriptors.count != SharedArea.copyDescriptorCount || Set(descriptors).count != descriptors.count {
            found.append("copy-board descriptors lost or duplicated: \(descriptors.count) of \(SharedArea.copyDescriptorCount)")
        }
        return found
    }

    /// Recovery mode on this engine (off when made).
    package var recoveryMode: Bool {
        get { engine.recovery.enabled }
        set { engine.recovery.enabled = newValue }
    }

    /// Starts agreement `sequence` among ranks 0 and 1 on the world's context pair with this rank's
    /// `words` and `maxima` (Engine+Agreement.swift; rank 0 coordinates while it lives).
    package func startAgreement(_ sequence: Int, words: [UInt64], maxima: [Int]) {
        engine.startAgreement(.init(pair: 0, lowest: 0, sequence: sequence), members: [0, 1], words: words, maxima: maxima)
    }

    /// Agreement `sequence`'s result here, once there is one.
    package func agreementResult(_ sequence: Int) -> (words: [UInt64], maxima: [Int], failed: [Int])? {
        engine.advanceAgreement(.init(pair: 0, lowest: 0, sequence: sequence)).map { ($0.words, $0.maxima, $0.failed) }
    }

    /// A recovery packet from rank 1 for agreement `sequence` on the world's pair: `subkind` (1
    /// revoke, 2 contribute, 3 decide, 4 query) and its lists.
    package func recoveryPacket(_ subkind: Int32, sequence: Int, words: [UInt64] = [], maxima: [Int] = [], failed: [Int] = []) -> [UInt8] {
        let values = engine.encode(words, maxima, failed)
        return Self.packet(kind: WireKind.recovery.rawValue, tag: subkind, length: UInt64(sequence), payload: values.withUnsafeBytes { Array($0) })
    }

    /// The members a revoke received by `rank` is passed on to (Engine+Agreement.swift).
    package static func revokeNeighbours(of rank: Int, among members: [Int]) -> [Int] { Engine.overlayNeighbours(of: rank, among: members) }

    /// True when this engine holds world rank 1 as failed.
    package var peerFailed: Bool { engine.failedPeers[1] != nil }

    /// True when the world's communicator was revoked here.
    package var worldRevoked: Bool { engine.isRevoked(0) }

    /// Makes rank 1 fail, as a transport reporting it would.
    package func failPeer(_ reason: String) { engine.failPeer(1, reason) }

    /// The error of the last receive posted, when it has completed with one.
    package var lastReceiveError: String? {
        guard let operation = receives.last, operation.isComplete else { return nil }
        return operation.error.map { "\($0)" }
    }

    /// True when the last receive posted has completed.
    package var lastReceiveIsComplete: Bool { receives.last?.isComplete ?? false }

    /// Clears the errors of completed receives, so that ``violations()`` can be shown to catch a
    /// truncated receive that looks successful.
    package func clearErrorsForTesting() {
        for operation in receives where operation.isComplete { operation.error = nil }
    }

    /// Keeps the queues short, so a long run stays linear (matching scans them), and frees receive
    /// buffers once no receive can write them.
    package func trim() {
        if engine.unexpected.count > 256 { engine.unexpected.removeAll() }
        if engine.posted.count > 256 { engine.posted.elements.forEach { _ = engine.cancelReceive($0) } }
        receives.removeAll { $0.isComplete }
        // A receive buffer may go only when no receive is posted, waiting for data or being copied
        // into (sends use `landing`, never these buffers).
        if buffers.count > 512 {
            engine.posted.elements.forEach { _ = engine.cancelReceive($0) }
            if engine.posted.count == 0 && engine.waitingReceives.ids.isEmpty && engine.sharedCopies.isEmpty {
                receives.removeAll()
                buffers.forEach { $0.deallocate() }
                buffers.removeAll()
            }
        }
    }
}

/// Discards what the engine sent to the harness's peer.
private final class Drain: PacketSink {
    func placement(from peer: Int, kind: PacketKind, header: PacketHeader, length: Int) -> UnsafeMutableRawPointer? { nil }
    func deliver(from peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer) {}
}
