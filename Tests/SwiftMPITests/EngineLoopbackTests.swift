import Testing
import SwiftMPITransport

@testable import SwiftMPI

/// Two engines in one process joined by the loopback transport: the engine's protocols over a
/// transport that reaches no other process (the route table's `.loopback` case).
@Suite("engines over the loopback transport")
struct EngineLoopbackTests {
    /// Engines of ranks 0 and 1 on one fabric (16 KiB packets: larger messages go by rendezvous).
    private func engines(singleCopy: Bool) -> (Engine, Engine) {
        let fabric = LoopbackFabric(size: 2, maxPayload: 16 * 1024, queueCapacity: 8)
        func engine(_ rank: Int) -> Engine {
            let routes: [Routes.Route] = rank == 0 ? [.own, .loopback] : [.loopback, .own]
            return Engine(
                rank: rank, routes: Routes(rank: rank, routes: routes, loopback: fabric.endpoint(rank)),
                singleCopyAllowed: singleCopy, singleCopyThreshold: 0, yieldWhenIdle: false)
        }
        return (engine(0), engine(1))
    }

    @Test(
        "eager and rendezvous messages arrive intact and in order, read from the sender's memory or streamed in fragments",
        arguments: [false, true])
    func messages(singleCopy: Bool) throws {
        let (zero, one) = engines(singleCopy: singleCopy)
        let sizes = [0, 8, 16 * 1024, 16 * 1024 + 1, 100_000]
        // Raw buffers: a rendezvous send and a posted receive use their memory after the call
        // that started them returns.
        let payloads = sizes.map { UnsafeMutableRawBufferPointer.allocate(byteCount: $0, alignment: 8) }
        let received = sizes.map { UnsafeMutableRawBufferPointer.allocate(byteCount: $0 + 3, alignment: 8) }
        defer { (payloads + received).forEach { $0.deallocate() } }
        for (index, payload) in payloads.enumerated() {
            for offset in payload.indices { payload[offset] = UInt8(truncatingIfNeeded: offset &* 7 &+ index) }
            received[index].initializeMemory(as: UInt8.self, repeating: 0xEE)
        }
        var receives: [ReceiveOperation] = []
        for index in sizes.indices {
            let operation = one.makeReceive()
            operation.buffer = received[index]
            operation.pattern = MatchPattern(context: 0, source: 0, tag: Int32(index))
            operation.peer = 0
            one.postReceive(operation)
            receives.append(operation)
        }
        var sends: [SendOperation] = []
        for index in sizes.indices {
            let envelope = Envelope(context: 0, source: 0, tag: Int32(index))
            if let operation = zero.send(UnsafeRawBufferPointer(payloads[index]), to: 1, envelope: envelope, mode: .standard, keepAlive: nil) {
                sends.append(operation)
            }
        }
        var rounds = 0
        while !(receives.allSatisfy(\.isComplete) && sends.allSatisfy(\.isComplete)) && rounds < 100_000 {
            zero.progress()
            one.progress()
            rounds += 1
        }
        #expect(rounds < 100_000, "messages still in flight after \(rounds) rounds")
        for (index, size) in sizes.enumerated() {
            #expect(receives[index].error == nil)
            #expect(receives[index].status.byteCount == size)
            #expect(received[index].prefix(size).elementsEqual(payloads[index]), "the \(size)-byte message arrived damaged")
            #expect(received[index].suffix(3).allSatisfy { $0 == 0xEE }, "bytes past the \(size)-byte message were written")
        }
    }

    @Test("a receive naming the disconnected peer fails with .processFailed")
    func disconnectedPeer() throws {
        let fabric = LoopbackFabric(size: 2)
        let zero = Engine(
            rank: 0, routes: Routes(rank: 0, routes: [.own, .loopback], loopback: fabric.endpoint(0)),
            singleCopyAllowed: false, singleCopyThreshold: 0, yieldWhenIdle: false)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 8, alignment: 8)
        defer { buffer.deallocate() }
        let operation = zero.makeReceive()
        operation.buffer = buffer
        operation.pattern = MatchPattern(context: 0, source: 1, tag: 0)
        operation.peer = 1
        zero.postReceive(operation)
        fabric.disconnect(1)
        zero.progress()
        #expect(operation.isComplete)
        #expect(operation.error?.code == .processFailed)
    }
}
