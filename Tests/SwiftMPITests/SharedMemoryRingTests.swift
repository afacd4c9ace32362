#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import SwiftMPITransport
import CShims

/// Both ends of a 2-rank job's shared memory, in this process: local ranks 0 and 1, attached to each
/// other, names already unlinked (nothing is left in /dev/shm).
func sharedMemoryPair(job: String) throws -> (SharedMemoryTransport, SharedMemoryTransport) {
    let first = try SharedMemoryTransport(jobID: job, localRank: 0, localSize: 2)
    let second = try SharedMemoryTransport(jobID: job, localRank: 1, localSize: 2)
    try first.attachPeers()
    try second.attachPeers()
    first.unlinkOwnSegment()
    second.unlinkOwnSegment()
    return (first, second)
}

/// Zero-filled, page-aligned memory for one ring of `slots` slots of `stride` bytes, control line
/// included (as a fresh segment is), and its size. The caller deallocates it.
func zeroedRing(slots: Int, stride: Int) -> (memory: UnsafeMutableRawPointer, byteCount: Int) {
    let byteCount = SlotRing.byteCount(slotCount: slots, stride: stride)
    let memory = UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 4096)
    memory.initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
    return (memory, byteCount)
}

/// The shared-memory rings on their own, in one process (both ends of a 2-rank job's segments).
@Suite("shared-memory rings")
struct SharedMemoryRingTests {
    /// True when the page holding `address` is mapped in this process (/proc/self/pagemap's
    /// "present" bit, readable without privileges).
    private func isPresent(_ address: UnsafeRawPointer) -> Bool {
        let fd = open("/proc/self/pagemap", O_RDONLY)
        defer { close(fd) }
        var entry: UInt64 = 0
        let page = UInt(bitPattern: address) / UInt(sysconf(Int32(_SC_PAGESIZE)))
        guard pread(fd, &entry, 8, off_t(page * 8)) == 8 else { return false }
        return entry & (1 << 63) != 0
    }

    @Test("every slot header of both directions is mapped before the first message (no page fault per new slot)")
    func slotHeadersPrefaulted() throws {
        let (first, second) = try sharedMemoryPair(job: "ringtest\(getpid())")
        let slots = SharedMemoryTransport.defaultSlotCount, stride = SharedMemoryTransport.defaultStride
        for transport in [first, second] {
            for ring in [transport.inbound[1 - transport.localRank], transport.outbound[1 - transport.localRank]] {
                let missing = (0..<slots).filter { !isPresent(ring.base + $0 * stride) }
                #expect(missing.isEmpty, "local rank \(transport.localRank): slots \(missing) not mapped")
            }
        }
        // And the rings work: a message each way.
        var payload: [UInt8] = [1, 2, 3]
        #expect(payload.withUnsafeBytes { first.trySend(to: 1, kind: 1, header: PacketHeader(), payload: $0) })
        var received: [UInt8] = []
        #expect(second.poll(into: ClosureSink { _, _, _, bytes in received = Array(bytes) }) == 1)
        #expect(received == payload)
        payload = [9]
        #expect(payload.withUnsafeBytes { second.trySend(to: 0, kind: 1, header: PacketHeader(), payload: $0) })
        #expect(first.poll(into: ClosureSink { _, _, _, bytes in received = Array(bytes) }) == 1)
        #expect(received == [9])
    }

    @Test("a ring keeps order over many laps, frees slots in quarter-ring batches, and survives its count wrapping")
    func ringLapsAndBatches() {
        let slots = 8, stride = 128
        let (memory, ringBytes) = zeroedRing(slots: slots, stride: stride)
        defer { memory.deallocate() }
        var producer = SlotRing(base: memory, slotCount: slots, stride: stride)
        var consumer = SlotRing(base: memory, slotCount: slots, stride: stride)
        func send(_ value: UInt32) -> Bool {
            withUnsafeBytes(of: value) { producer.tryWrite(kind: 7, header: PacketHeader(), payload: $0) }
        }
        func receive() -> UInt32? {
            var value: UInt32?
            let announced = consumer.hasPacket  // what a rank about to sleep looks at
            let read = consumer.tryRead { kind, _, payload in if kind == 7 { value = payload.loadUnaligned(as: UInt32.self) } }
            #expect(announced == read, "hasPacket said \(announced), tryRead found \(read ? "a packet" : "none")")
            return value
        }
        // The consumer's count lives in the control line after the slots, inside the ring's bytes.
        #expect(UnsafeMutableRawPointer(consumer.consumedWord) == memory + slots * stride)
        #expect(slots * stride + MemoryLayout<UInt32>.size <= ringBytes && SlotRing.controlBytes == 64)
        #expect(receive() == nil, "a fresh ring is empty")
        for value in 0..<UInt32(slots) { #expect(send(value)) }
        #expect(!send(99), "a full ring refuses a packet")
        #expect(receive() == 0)
        #expect(!send(99), "one packet read is not yet published (a quarter of 8 slots is 2)")
        #expect(receive() == 1)
        #expect(send(8) && send(9), "two slots came free together")
        #expect(!send(99))
        var expected: UInt32 = 2
        while let value = receive() {
            #expect(value == expected)
            expected += 1
        }
        #expect(expected == 10, "every packet arrived once, in order")
        // Counts near 2^32 on both sides (as after four billion packets, when every slot has been
        // written before): order and capacity hold across the wrap.
        producer.count = UInt32.max - 5
        producer.published = UInt32.max - 5
        consumer.count = UInt32.max - 5
        consumer.published = UInt32.max - 5
        var sent: UInt32 = 100, next: UInt32 = 100
        for round in 0..<40 {
            while send(sent) { sent += 1 }
            let unpublished = consumer.count &- consumer.published  // read, not yet given back
            #expect(unpublished < 2 && sent - next + unpublished == UInt32(slots), "round \(round): every slot given back is used")
            for _ in 0..<(round % 3 + 2) {
                #expect(receive() == next)
                next += 1
            }
        }
        while let value = receive() {
            #expect(value == next)
            next += 1
        }
        #expect(next == sent)
    }

    @Test("rings shrink as a host fills up: 1 MiB per pair at 2 ranks, a rank's rings within 4 MiB or 4 slots of 4 KiB each")
    func ringShapeScales() throws {
        #expect(SharedMemoryTransport.ringShape(localSize: 2) == (64, 16 * 1024 + 64))
        #expect(SharedMemoryTransport.ringShape(localSize: 4) == (64, 16 * 1024 + 64))
        #expect(SharedMemoryTransport.ringShape(localSize: 32) == (8, 16 * 1024 + 64))
        #expect(SharedMemoryTransport.ringShape(localSize: 64) == (8, 8 * 1024 + 64))
        #expect(SharedMemoryTransport.ringShape(localSize: 256) == (4, 4 * 1024 + 64))
        var previous = Int.max
        for size in 2...1100 {
            let (slots, stride) = SharedMemoryTransport.ringShape(localSize: size)
            let perRank = (size - 1) * slots * stride
            #expect(stride % 64 == 0 && slots >= SharedMemoryTransport.minimumSlotCount, "\(size) ranks")
            #expect(perRank <= SharedMemoryTransport.inboundRingBudget || (slots, stride) == (4, 4096 + 64), "\(size) ranks")
            #expect(slots * stride <= previous, "\(size) ranks: a ring grew")
            previous = slots * stride
        }
        // A 256-rank host's segment (local rank 0 of 256, with the shared area a real rank adds) is
        // about 5 MiB where one ring of 1 MiB per sender made it 257 MiB.
        let transport = try SharedMemoryTransport(jobID: "shape\(getpid())", localRank: 0, localSize: 256, sharedAreaBytes: 1 << 20)
        transport.unlinkOwnSegment()
        #expect(transport.capabilities.maxPayload == 4096)
    }

    @Test("payloads copied plainly or with non-temporal stores arrive intact: any length, unaligned sources, neighbours untouched")
    func nonTemporalPayloads() throws {
        // The copy itself: every length up to a few lines, from an unaligned source, stops exactly at
        // the end (the bytes after it keep their guard value).
        let source = (0..<4096).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ 7) }
        let destination = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096 + 64, alignment: 64)
        defer { destination.deallocate() }
        for length in Array(0...200) + [1024, 4093] {
            destination.initializeMemory(as: UInt8.self, repeating: 0xEE)
            source.withUnsafeBytes { cshims_copy_nontemporal(destination.baseAddress!, $0.baseAddress! + 3, length) }
            #expect(Array(destination[0..<length]) == Array(source[3..<(3 + length)]), "length \(length)")
            #expect(destination[length] == 0xEE, "length \(length): wrote past the end")
        }
        // Through a ring whose slots hold up to 64 KiB: sizes around the thresholds, in order.
        let stride = 64 * 1024 + SlotRing.slotHeaderLength, slots = 4
        let (memory, _) = zeroedRing(slots: slots, stride: stride)
        defer { memory.deallocate() }
        var producer = SlotRing(base: memory, slotCount: slots, stride: stride)
        var consumer = SlotRing(base: memory, slotCount: slots, stride: stride)
        let big = (0..<(64 * 1024 + 8)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ $0 >> 9) }
        let from = 16 * 1024
        // Mid sizes go both ways: plain (timed) and streamed (forced here, as after a slow copy).
        let mid = SlotRing.adaptiveFrom
        for (length, streamed) in [
            (mid - 1, 0), (mid, 0), (mid, 1), (5000, 1), (8192, 0), (8192, 2), (from - 1, 1),
            (from, 0), (from + 1, 3), (from + 63, 0), (40_000, 1), (64 * 1024, 0)
        ] {
            producer.streamedWrites = streamed
            let written = big.withUnsafeBytes { bytes in
                producer.tryWrite(kind: 1, header: PacketHeader(), payload: UnsafeRawBufferPointer(rebasing: bytes[5..<(5 + length)]))
            }
            #expect(written)
            if streamed > 0 { #expect(producer.streamedWrites == streamed - 1, "a streamed \(length)-byte write counts down") }
            var received: [UInt8] = []
            #expect(consumer.tryRead { _, _, payload in received = Array(payload) })
            #expect(received == Array(big[5..<(5 + length)]), "\(length) bytes, streamed \(streamed)")
        }
    }
}

/// Hands each delivered packet to a closure (tests that look at single packets).
final class ClosureSink: PacketSink {
    let body: (Int, PacketKind, PacketHeader, UnsafeRawBufferPointer) -> Void
    init(_ body: @escaping (Int, PacketKind, PacketHeader, UnsafeRawBufferPointer) -> Void) { self.body = body }
    func placement(from peer: Int, kind: PacketKind, header: PacketHeader, length: Int) -> UnsafeMutableRawPointer? { nil }
    func deliver(from peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer) { body(peer, kind, header, payload) }
}
