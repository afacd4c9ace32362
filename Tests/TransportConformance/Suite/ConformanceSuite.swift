#if canImport(Glibc)
import Glibc
#endif
import SwiftMPITransport

/// The transport conformance suite: the checks every ``Transport`` must pass, run unchanged against
/// each one (`swiftmpi-conformance self|loopback|shm|tcp|verbs`; the Swift Testing suite runs it for
/// the first four, the Soft-RoCE VM for verbs). A new transport is done when it passes.
///
/// Each check gets a fresh ``TransportPair``: two endpoints that reach each other (for the self
/// transport, the same endpoint twice). What is checked:
/// - order: 500 numbered packets of mixed sizes arrive in order and intact, retried on backpressure;
/// - sizes: every size class from 0 bytes to the declared `maxPayload` (capped at 1 MiB), both ways;
/// - backpressure: sending without polling ends in `false` (or 2 000 packets accepted), and
///   everything accepted arrives once polled;
/// - capabilities: each declared bulk access (read, write; immediate or asynchronous), sending from
///   the caller's memory, and `unsupported` for every undeclared one;
/// - abandon: once the receiver abandons the sender (the engine holds it failed on others' word), a
///   large payload being read into memory the receiver placed is neither written further nor
///   delivered;
/// - failure: a peer that goes away is reported (`peerFailed` or `checkPeers`) within 30 s, and
///   sending to it afterwards returns.
public enum ConformanceSuite {
    /// One check's name and body; the body throws ``ConformanceFailure`` on a broken promise.
    public struct Check: Sendable {
        public let name: String
        /// True when the check makes the pair's second end go away (it needs a pair made for that).
        public var breaksLink = false
        public let run: @Sendable (TransportPair) throws -> Void
    }

    /// Every check, in the order they run.
    public static let checks: [Check] = [
        Check(name: "packets arrive in order and intact under backpressure", run: order),
        Check(name: "every size class up to maxPayload arrives intact, both ways", run: sizes),
        Check(name: "sending without polling ends in backpressure, and nothing accepted is lost", run: backpressure),
        Check(name: "declared bulk capabilities work; undeclared ones answer unsupported", run: bulk),
        Check(name: "declared scattered reads and writes copy the listed pieces in order; undeclared ones answer unsupported", run: scatteredRead),
        Check(name: "payloads sent from the caller's memory arrive intact", run: callerMemory),
        Check(name: "a payload sent in two parts (payload, trailer) arrives as one, in order with the others", run: trailers),
        Check(name: "pending output drains once the peer has everything; waiting for input keeps what arrived", run: pendingAndWaiting),
        Check(name: "an abandoned peer's payload being read into placed memory is read no further", run: abandoned),
        Check(name: "a peer that goes away is reported", breaksLink: true, run: failure)
    ]

    /// Runs every check against fresh pairs from `makePair` and returns the failures (empty: the
    /// transport conforms). `log` receives one line per check.
    public static func run(
        _ transport: String, makePair: (_ failing: Bool) throws -> TransportPair,
        log: (String) -> Void
    ) -> [String] {
        var failures: [String] = []
        for check in checks {
            let start = monotonicSeconds()
            do {
                let pair = try makePair(check.breaksLink)
                if check.breaksLink && !pair.canBreak {
                    log("SKIP \(transport): \(check.name) — \(pair.cannotBreakReason)")
                    continue
                }
                try check.run(pair)
                let milliseconds = Int((monotonicSeconds() - start) * 1000)
                log("PASS \(transport): \(check.name) (\(milliseconds) ms)")
            } catch {
                log("FAIL \(transport): \(check.name): \(error)")
                failures.append("\(check.name): \(error)")
            }
        }
        return failures
    }

    // MARK: - Checks

    static func order(_ pair: TransportPair) throws {
        let (a, b) = (pair.a, pair.b)
        let limit = min(a.capabilities.maxPayload, 4096)
        let sink = PacketCollector()
        var sent: [[UInt8]] = []
        for index in 0..<500 {
            let bytes = pattern(count: index * 37 % (limit + 1), seed: index)
            try pair.send(from: a, to: pair.rankB, kind: 9, header: numbered(index), payload: bytes, draining: b, into: sink)
            sent.append(bytes)
        }
        try pair.drain(b, into: sink, until: { sink.packets.count >= sent.count })
        try expect(sink.packets.count == sent.count, "\(sink.packets.count) packets arrived, \(sent.count) sent")
        for (index, packet) in sink.packets.enumerated() {
            try expect(packet.peer == pair.rankA, "packet \(index) says it came from rank \(packet.peer), not \(pair.rankA)")
            try expect(packet.kind == 9, "packet \(index) has kind \(packet.kind), not 9")
            try expect(
                packet.header.word0 == UInt64(index) && packet.header.word3 == ~UInt64(index),
                "packet \(index) arrived as number \(packet.header.word0): out of order or header damaged")
            try expect(packet.payload == sent[index], "packet \(index): payload of \(packet.payload.count) bytes differs from the \(sent[index].count) sent")
        }
    }

    static func sizes(_ pair: TransportPair) throws {
        let maximum = min(pair.a.capabilities.maxPayload, 1 << 20)
        let sizes = Array(Set([0, 1, 7, 8, 63, 64, 65, 4095, 4096, maximum / 2 + 1, maximum - 1, maximum].filter { $0 >= 0 && $0 <= maximum })).sorted()
        for (from, to, fromRank, toRank) in [(pair.a, pair.b, pair.rankA, pair.rankB), (pair.b, pair.a, pair.rankB, pair.rankA)] {
            let sink = PacketCollector()
            for (index, size) in sizes.enumerated() {
                try pair.send(from: from, to: toRank, kind: 3, header: numbered(index), payload: pattern(count: size, seed: size), draining: to, into: sink)
            }
            try pair.drain(to, into: sink, until: { sink.packets.count >= sizes.count })
            try expect(sink.packets.count == sizes.count, "\(sink.packets.count) of \(sizes.count) sizes arrived from rank \(fromRank)")
            for (index, size) in sizes.enumerated() {
                try expect(sink.packets[index].payload == pattern(count: size, seed: size), "the \(size)-byte payload from rank \(fromRank) arrived damaged")
            }
        }
    }

    static func backpressure(_ pair: TransportPair) throws {
        let (a, b) = (pair.a, pair.b)
        let bytes = pattern(count: min(a.capabilities.maxPayload, 8192), seed: 5)
        var accepted = 0
        while accepted < 2000 {
            let taken = bytes.withUnsafeBytes { a.trySend(to: pair.rankB, kind: 4, header: numbered(accepted), payload: $0) }
            if !taken { break }
            accepted += 1
        }
        try expect(accepted > 0, "the first packet on an idle route was refused")
        let sink = PacketCollector()
        try pair.drain(b, into: sink, until: { sink.packets.count >= accepted })
        try expect(sink.packets.count == accepted, "\(accepted) packets accepted, \(sink.packets.count) arrived")
        for (index, packet) in sink.packets.enumerated() {
            try expect(packet.header.word0 == UInt64(index) && packet.payload == bytes, "packet \(index) of the burst arrived out of order or damaged")
        }
        // And the route works again afterwards.
        try pair.send(from: a, to: pair.rankB, kind: 4, header: numbered(accepted), payload: bytes, draining: b, into: sink)
        try pair.drain(b, into: sink, until: { sink.packets.count > accepted })
    }

    static func pendingAndWaiting(_ pair: TransportPair) throws {
        let (a, b) = (pair.a, pair.b)
        let sink = PacketCollector()
        try expect(a.capabilities.eagerLimit <= a.capabilities.maxPayload, "eagerLimit \(a.capabilities.eagerLimit) exceeds maxPayload")
        // A large payload may leave output queued at the sender; once the receiver has all of it, none is left.
        let large = pattern(count: min(a.capabilities.maxPayload, 1 << 20), seed: 11)
        try pair.send(from: a, to: pair.rankB, kind: 6, header: numbered(0), payload: large, draining: b, into: sink)
        try pair.drain(b, into: sink, until: { sink.packets.count >= 1 })
        let deadline = monotonicSeconds() + 30
        while a.hasPendingOutput {
            _ = a.poll(into: PacketCollector())
            guard monotonicSeconds() < deadline else { throw ConformanceFailure("hasPendingOutput still true 30 s after the peer had every packet") }
        }
        try expect(sink.packets.first?.payload == large, "the large payload arrived damaged")
        // A packet that is already there when the receiver waits for input: the wait returns (within
        // its timeout) without taking it, and the next polls deliver it.
        let small = pattern(count: 10, seed: 12)
        try pair.send(from: a, to: pair.rankB, kind: 6, header: numbered(1), payload: small, draining: b, into: sink)
        if sink.packets.count == 1 {
            if b.capabilities.canWaitForInput { b.waitForInput(milliseconds: 100) }
            try pair.drain(b, into: sink, until: { sink.packets.count >= 2 })
        }
        try expect(sink.packets.count == 2 && sink.packets[1].payload == small, "the packet waited for arrived as \(sink.packets.count) packets")
    }

    static func bulk(_ pair: TransportPair) throws {
        let (a, b) = (pair.a, pair.b)
        let capabilities = a.capabilities
        let count = 3 * 65536 + 17
        let source = pattern(count: count, seed: 11)
        let exposedBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
        defer { exposedBuffer.deallocate() }
        source.withUnsafeBytes { exposedBuffer.copyMemory(from: $0) }
        let local = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
        defer { local.deallocate() }
        local.initializeMemory(as: UInt8.self, repeating: 0)
        let exposure = b.expose(UnsafeRawBufferPointer(exposedBuffer))
        defer { if let exposure { b.conceal(exposure) } }

        // Read.
        if capabilities.peerRead == .none {
            let result = a.read(from: pair.rankB, remote: RemoteMemory(address: 0), into: local, token: 1)
            try expect(result == .unsupported, "peerRead is declared none, but read answered \(result)")
        } else {
            guard let exposure else { throw ConformanceFailure("peerRead is declared \(capabilities.peerRead), but expose returned nil") }
            let result = a.read(from: pair.rankB, remote: exposure.remote, into: local, token: 7)
            switch (capabilities.peerRead, result) {
            case (.immediate, .completed): break
            case (.asynchronous, .started): try pair.awaitEvent(on: a, .readCompleted(token: 7), drainingAlso: b)
            default: throw ConformanceFailure("peerRead is declared \(capabilities.peerRead), but read answered \(result)")
            }
            try expect(Array(UnsafeRawBufferPointer(local)) == source, "the bytes read differ from the exposed ones")
        }
        // Write.
        let replacement = pattern(count: count, seed: 99)
        if capabilities.peerWrite == .none {
            let result = replacement.withUnsafeBytes { a.write(to: pair.rankB, remote: RemoteMemory(address: 0), from: $0, token: 2) }
            try expect(result == .unsupported, "peerWrite is declared none, but write answered \(result)")
        } else {
            guard let exposure else { throw ConformanceFailure("peerWrite is declared \(capabilities.peerWrite), but expose returned nil") }
            let result = replacement.withUnsafeBytes { a.write(to: pair.rankB, remote: exposure.remote, from: $0, token: 8) }
            switch (capabilities.peerWrite, result) {
            case (.immediate, .completed): break
            case (.asynchronous, .started): try pair.awaitEvent(on: a, .writeCompleted(token: 8), drainingAlso: b)
            default: throw ConformanceFailure("peerWrite is declared \(capabilities.peerWrite), but write answered \(result)")
            }
            try expect(Array(UnsafeRawBufferPointer(exposedBuffer)) == replacement, "the exposed memory does not hold the bytes written")
        }
        // A lasting exposure (a one-sided window's memory): offered with asynchronous reads and
        // writes; a small write (inline where the provider allows) and a read of it.
        let lasting = b.exposeLasting(exposedBuffer)
        if capabilities.peerWrite == .asynchronous && capabilities.peerRead == .asynchronous {
            guard let lasting else { throw ConformanceFailure("peer reads and writes are asynchronous, but exposeLasting returned nil") }
            defer { b.endLastingExposure(lasting) }
            let small: [UInt8] = Array(1...24)
            let at = RemoteMemory(address: lasting.remote.address + 1000, key: lasting.remote.key)
            let result = small.withUnsafeBytes { a.write(to: pair.rankB, remote: at, from: $0, token: 10) }
            try expect(result == .started, "a 24-byte write to a lasting exposure answered \(result)")
            try pair.awaitEvent(on: a, .writeCompleted(token: 10), drainingAlso: b)
            try expect(Array(exposedBuffer[1000..<1024]) == small, "the lasting exposure does not hold the 24 bytes written")
            let back = UnsafeMutableRawBufferPointer(rebasing: local[0..<24])
            try expect(a.read(from: pair.rankB, remote: at, into: back, token: 11) == .started, "a read of the lasting exposure did not start")
            try pair.awaitEvent(on: a, .readCompleted(token: 11), drainingAlso: b)
            try expect(Array(back) == small, "the 24 bytes read back differ")
        } else {
            try expect(lasting == nil, "exposeLasting gave an exposure, but peer reads and writes are not both asynchronous")
        }
        try expect(!capabilities.remoteAtomics, "remoteAtomics is declared, but the suite has no atomics check yet: add one before declaring it")
    }

    /// Pieces of the peer's exposed memory, listed out of address order, land in local pieces cut
    /// differently — in list order, and nothing else of the local buffer changes.
    static func scatteredRead(_ pair: TransportPair) throws {
        let (a, b) = (pair.a, pair.b)
        let count = 80_000
        let source = pattern(count: count, seed: 5)
        let exposedBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
        defer { exposedBuffer.deallocate() }
        source.withUnsafeBytes { exposedBuffer.copyMemory(from: $0) }
        let local = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
        defer { local.deallocate() }
        local.initializeMemory(as: UInt8.self, repeating: 0)
        let remotePieces = [1000..<1500, 0..<300, 70_000..<72_200, 5..<9]
        let localPieces = [10..<610, 4000..<4004, 9000..<11_400]  // 3004 bytes, as the remote pieces
        guard let exposure = b.expose(UnsafeRawBufferPointer(exposedBuffer)) else {
            var none: [MemorySegment] = []
            let result = none.withUnsafeMutableBufferPointer { a.readSegments(from: pair.rankB, remote: $0, key: 0, into: $0, token: 9) }
            return try expect(
                a.capabilities.maxReadSegments == 0 && result == .unsupported,
                "no exposure, but maxReadSegments \(a.capabilities.maxReadSegments) and \(result)")
        }
        defer { b.conceal(exposure) }
        var remote = remotePieces.map { MemorySegment(address: exposure.remote.address + UInt64($0.lowerBound), length: $0.count) }
        let base = UInt64(UInt(bitPattern: local.baseAddress))
        var target = localPieces.map { MemorySegment(address: base + UInt64($0.lowerBound), length: $0.count) }
        let result = remote.withUnsafeMutableBufferPointer { remote in
            target.withUnsafeMutableBufferPointer { a.readSegments(from: pair.rankB, remote: remote, key: exposure.remote.key, into: $0, token: 9) }
        }
        guard a.capabilities.maxReadSegments > 0 else {
            return try expect(result == .unsupported, "maxReadSegments is 0, but readSegments answered \(result)")
        }
        try expect(a.capabilities.maxReadSegments >= remotePieces.count, "maxReadSegments \(a.capabilities.maxReadSegments) is below the suite's 4 pieces")
        switch (a.capabilities.peerRead, result) {
        case (.immediate, .completed): break
        case (.asynchronous, .started): try pair.awaitEvent(on: a, .readCompleted(token: 9), drainingAlso: b)
        default:
            throw ConformanceFailure(
                "maxReadSegments is \(a.capabilities.maxReadSegments) and peerRead \(a.capabilities.peerRead), but readSegments answered \(result)")
        }
        let expected = remotePieces.flatMap { source[$0] }
        let received = localPieces.flatMap { Array(UnsafeRawBufferPointer(rebasing: local[$0])) }
        try expect(received == expected, "the pieces read differ from the listed ones, in order")
        var untouched = Array(UnsafeRawBufferPointer(local))
        for piece in localPieces { untouched.replaceSubrange(piece, with: repeatElement(0, count: piece.count)) }
        try expect(untouched.allSatisfy { $0 == 0 }, "bytes outside the local pieces changed")

        // Writes: the local pieces (now holding the remote bytes, reversed) go back to the remote pieces.
        let replacement = pattern(count: 3004, seed: 17)
        var offset = 0
        for piece in localPieces {
            UnsafeMutableRawBufferPointer(rebasing: local[piece]).copyBytes(from: replacement[offset..<(offset + piece.count)])
            offset += piece.count
        }
        remote = remotePieces.map { MemorySegment(address: exposure.remote.address + UInt64($0.lowerBound), length: $0.count) }
        target = localPieces.map { MemorySegment(address: base + UInt64($0.lowerBound), length: $0.count) }
        let written = remote.withUnsafeMutableBufferPointer { remote in
            target.withUnsafeMutableBufferPointer { a.writeSegments(to: pair.rankB, remote: remote, from: $0) }
        }
        guard a.capabilities.maxWriteSegments > 0 else {
            return try expect(written == .unsupported, "maxWriteSegments is 0, but writeSegments answered \(written)")
        }
        try expect(written == .completed, "maxWriteSegments is \(a.capabilities.maxWriteSegments), but writeSegments answered \(written)")
        var expectedRemote = source
        offset = 0
        for piece in remotePieces {
            expectedRemote.replaceSubrange(piece, with: replacement[offset..<(offset + piece.count)])
            offset += piece.count
        }
        try expect(Array(UnsafeRawBufferPointer(exposedBuffer)) == expectedRemote, "the exposed memory does not hold the pieces written, in order")
    }

    static func callerMemory(_ pair: TransportPair) throws {
        let (a, b) = (pair.a, pair.b)
        let size = min(a.capabilities.maxPayload, 1 << 20)
        let bytes = pattern(count: size, seed: 21)
        let sink = PacketCollector()
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: size, alignment: 64)
        defer { buffer.deallocate() }
        bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        for index in 0..<8 {
            let deadline = monotonicSeconds() + 30
            // Every other payload as part of a stream (a transport may then send it differently).
            let payload = UnsafeRawBufferPointer(buffer)
            while !a.trySendKeepingPayload(to: pair.rankB, kind: 5, header: numbered(index), payload: payload, streaming: index % 2 == 1) {
                _ = b.poll(into: sink)
                _ = a.poll(into: PacketCollector())
                guard monotonicSeconds() < deadline else { throw ConformanceFailure("trySendKeepingPayload refused for 30 s") }
            }
            // The buffer must stay untouched while the transport sends from it.
            while a.isSendingCallerMemory(to: pair.rankB) {
                _ = b.poll(into: sink)
                _ = a.poll(into: PacketCollector())
                guard monotonicSeconds() < deadline else { throw ConformanceFailure("isSendingCallerMemory stayed true for 30 s") }
            }
            if !a.capabilities.sendsFromCallerMemory {
                try expect(!a.isSendingCallerMemory(to: pair.rankB), "sendsFromCallerMemory is false, but the transport holds the caller's memory")
            }
        }
        try pair.drain(b, into: sink, until: { sink.packets.count >= 8 })
        try expect(
            sink.packets.count == 8 && sink.packets.allSatisfy { $0.payload == bytes }, "payloads sent from the caller's memory arrived damaged or incomplete")
    }

    static func abandoned(_ pair: TransportPair) throws {
        let (a, b) = (pair.a, pair.b)
        guard pair.rankA != pair.rankB else { return }  // (self: a rank does not abandon itself)
        let size = min(a.capabilities.maxPayload, 1 << 20)
        let bytes = pattern(count: size, seed: 31)
        let sink = PlacingCollector(capacity: size)
        let deadline = monotonicSeconds() + 30
        while !bytes.withUnsafeBytes({ a.trySend(to: pair.rankB, kind: 5, header: numbered(0), payload: $0) }) {
            _ = b.poll(into: sink)
            _ = a.poll(into: PacketCollector())
            guard monotonicSeconds() < deadline else { throw ConformanceFailure("trySend refused for 30 s") }
        }
        // Until the payload is being read into the placed memory (or arrived whole: a transport
        // that places nothing, or read it all at once, has nothing under way to abandon).
        while !sink.placed && sink.packets.isEmpty {
            _ = b.poll(into: sink)
            _ = a.poll(into: PacketCollector())
            guard monotonicSeconds() < deadline else { throw ConformanceFailure("the packet neither arrived nor was placed within 30 s") }
        }
        b.abandon(peer: pair.rankA, reason: "abandoned by the conformance check")
        guard sink.packets.isEmpty else { return }
        let snapshot = Array(UnsafeRawBufferPointer(sink.memory))
        let end = monotonicSeconds() + 0.2
        while monotonicSeconds() < end {
            _ = b.poll(into: sink)
            _ = a.poll(into: PacketCollector())
        }
        try expect(sink.packets.isEmpty, "the abandoned peer's packet was still delivered")
        try expect(Array(UnsafeRawBufferPointer(sink.memory)) == snapshot, "the transport wrote into placed memory after abandoning the peer")
    }

    static func failure(_ pair: TransportPair) throws {
        let (a, rankB) = (pair.a, pair.rankB)
        try pair.breakLink()
        let deadline = monotonicSeconds() + 30
        let payload = [UInt8](repeating: 1, count: 64)
        while true {
            _ = payload.withUnsafeBytes { a.trySend(to: rankB, kind: 1, header: PacketHeader(), payload: $0) }  // must return
            _ = a.poll(into: PacketCollector())
            if a.hasEvents, a.takeEvents().contains(where: { if case .peerFailed(let peer, _) = $0 { peer == rankB } else { false } }) { return }
            if a.checkPeers().contains(where: { $0.peer == rankB }) { return }
            guard monotonicSeconds() < deadline else { throw ConformanceFailure("rank \(rankB) went away, but nothing reported it within 30 s") }
            usleep(1000)
        }
    }

    // MARK: - Helpers

    static func trailers(_ pair: TransportPair) throws {
        let (a, b) = (pair.a, pair.b)
        let limit = min(a.capabilities.maxPayload, 70_000)
        let sink = PacketCollector()
        var sent: [[UInt8]] = []
        for index in 0..<40 {
            // Offer-sized heads, trailers from empty to 64 KiB and more (a TCP partial write splits one).
            let head = pattern(count: index % 3 == 0 ? 0 : 88, seed: index)
            let tail = pattern(count: min(limit - head.count, index * 1777 % 69_000), seed: index + 1000)
            let deadline = monotonicSeconds() + 30
            func offered() -> Bool {
                head.withUnsafeBytes { h in tail.withUnsafeBytes { t in a.trySend(to: pair.rankB, kind: 5, header: numbered(index), payload: h, trailer: t) } }
            }
            while !offered() {
                _ = b.poll(into: sink)
                _ = a.poll(into: PacketCollector())
                guard monotonicSeconds() < deadline else { throw ConformanceFailure("trySend(payload:trailer:) refused for 30 s") }
            }
            sent.append(head + tail)
            if index % 5 == 0 {  // a plain packet between them keeps its place
                try pair.send(
                    from: a, to: pair.rankB, kind: 5, header: numbered(1000 + index), payload: pattern(count: 10, seed: index), draining: b, into: sink)
                sent.append(pattern(count: 10, seed: index))
            }
        }
        try pair.drain(b, into: sink, until: { sink.packets.count >= sent.count })
        try expect(sink.packets.count == sent.count, "\(sink.packets.count) packets arrived, \(sent.count) sent")
        for (index, packet) in sink.packets.enumerated() {
            try expect(
                packet.payload == sent[index], "packet \(index): \(packet.payload.count) bytes differ from the \(sent[index].count) sent (payload then trailer)"
            )
        }
    }

    static func numbered(_ index: Int) -> PacketHeader {
        var header = PacketHeader()
        header.word0 = UInt64(index)
        header.word3 = ~UInt64(index)
        return header
    }

    static func pattern(count: Int, seed: Int) -> [UInt8] {
        (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ seed &* 7 &+ ($0 >> 8)) }
    }

    static func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(message()) }
    }
}

/// A broken promise of the transport contract.
public struct ConformanceFailure: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Records what a transport delivers (copies of the payloads).
public final class PacketCollector: PacketSink {
    public struct Packet {
        public var peer: Int
        public var kind: PacketKind
        public var header: PacketHeader
        public var payload: [UInt8]
    }

    public private(set) var packets: [Packet] = []

    public init() {}

    public func placement(from peer: Int, kind: PacketKind, header: PacketHeader, length: Int) -> UnsafeMutableRawPointer? { nil }

    public func deliver(from peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer) {
        packets.append(Packet(peer: peer, kind: kind, header: header, payload: Array(payload)))
    }
}

/// Seconds on a monotonic clock.
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}

/// Records what a transport delivers, and offers its own memory for every payload that fits
/// (``PacketSink/placement(from:kind:header:length:)``), as the engine offers receive buffers.
final class PlacingCollector: PacketSink {
    /// The memory offered for payloads.
    let memory: UnsafeMutableRawBufferPointer
    /// True once the transport asked for (and got) the memory.
    private(set) var placed = false
    private(set) var packets: [PacketCollector.Packet] = []

    init(capacity: Int) {
        memory = .allocate(byteCount: capacity, alignment: 64)
        memory.initializeMemory(as: UInt8.self, repeating: 0)
    }

    deinit { memory.deallocate() }

    func placement(from peer: Int, kind: PacketKind, header: PacketHeader, length: Int) -> UnsafeMutableRawPointer? {
        guard length <= memory.count else { return nil }
        placed = true
        return memory.baseAddress
    }

    func deliver(from peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer) {
        packets.append(PacketCollector.Packet(peer: peer, kind: kind, header: header, payload: Array(payload)))
    }
}
