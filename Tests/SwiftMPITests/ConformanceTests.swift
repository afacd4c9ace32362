import Testing
import SwiftMPITransport
import SwiftMPITransportConformance

/// The transport conformance suite against every transport that runs in one process here (verbs runs
/// it in the Soft-RoCE VM: VerbsTests).
@Suite("transport conformance", .serialized)
struct ConformanceTests {
    @Test("the transport passes every conformance check", arguments: TransportPairs.inProcessNames)
    func conforms(transport: String) {
        var lines: [String] = []
        let failures = ConformanceSuite.run(transport, makePair: { try TransportPairs.make(transport, failing: $0) }) { lines.append($0) }
        #expect(failures.isEmpty, "\(lines.joined(separator: "\n"))")
        // Every check ran, or said loudly why not (only self may skip: it cannot lose itself).
        #expect(lines.count == ConformanceSuite.checks.count)
        #expect(lines.filter { $0.hasPrefix("SKIP") }.count == (transport == "self" ? 1 : 0), "\(lines)")
    }

    @Test("a transport that breaks a promise fails the suite: reordered packets, a declared capability that does not work")
    func brokenTransportsFail() {
        let reorder = ConformanceSuite.run(
            "reordering",
            makePair: { _ in
                let fabric = LoopbackFabric(size: 2)
                return TransportPair(a: fabric.endpoint(0), b: ReorderingTransport(fabric.endpoint(1)), rankA: 0, rankB: 1, breaker: { fabric.disconnect(1) })
            }
        ) { _ in }
        #expect(reorder.contains { $0.contains("out of order") })
        let boasting = ConformanceSuite.run(
            "boasting",
            makePair: { _ in
                let fabric = LoopbackFabric(size: 2)
                return TransportPair(a: BoastingTransport(fabric.endpoint(0)), b: fabric.endpoint(1), rankA: 0, rankB: 1, breaker: { fabric.disconnect(1) })
            }
        ) { _ in }
        #expect(boasting.contains { $0.contains("declared") })
    }
}

/// Delivers each poll's packets in reverse order (breaks the ordering promise).
private final class ReorderingTransport: Transport {
    let inner: LoopbackTransport
    init(_ inner: LoopbackTransport) { self.inner = inner }
    var capabilities: TransportCapabilities { inner.capabilities }
    func trySend(to peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer) -> Bool {
        inner.trySend(to: peer, kind: kind, header: header, payload: payload)
    }
    func poll<Sink: PacketSink>(into sink: Sink) -> Int {
        let collector = PacketCollector()
        let count = inner.poll(into: collector)
        for packet in collector.packets.reversed() {
            packet.payload.withUnsafeBytes { sink.deliver(from: packet.peer, kind: packet.kind, header: packet.header, payload: $0) }
        }
        return count
    }
}

/// Declares asynchronous RDMA-style reads it does not have (breaks the capability promise).
private final class BoastingTransport: Transport {
    let inner: LoopbackTransport
    init(_ inner: LoopbackTransport) { self.inner = inner }
    var capabilities: TransportCapabilities {
        var capabilities = inner.capabilities
        capabilities.peerRead = .asynchronous
        capabilities.peerWrite = .none
        return capabilities
    }
    func trySend(to peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer) -> Bool {
        inner.trySend(to: peer, kind: kind, header: header, payload: payload)
    }
    func poll<Sink: PacketSink>(into sink: Sink) -> Int { inner.poll(into: sink) }
    var hasEvents: Bool { inner.hasEvents }
    func takeEvents() -> [TransportEvent] { inner.takeEvents() }
}
