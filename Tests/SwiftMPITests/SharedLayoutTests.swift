import Testing
@testable import SwiftMPI
import SwiftMPITransport

/// The layouts that cross process boundaries in shared memory are named in one place each; these
/// checks fail when an edit makes two fields overlap or a field leave its cache line or descriptor.
@Suite("shared-memory layouts")
struct SharedLayoutTests {
    @Test("a ring slot's first line: sequence, kind, length, the 32-byte header and a 16-byte inline payload fit in 64 bytes, in order")
    func slotLayout() {
        typealias Offset = SlotRing.Offset
        #expect(Offset.sequence + MemoryLayout<UInt32>.size <= Offset.kind)
        #expect(Offset.kind + MemoryLayout<UInt8>.size <= Offset.length)
        #expect(Offset.length + MemoryLayout<UInt32>.size <= Offset.header)
        #expect(Offset.header + MemoryLayout<PacketHeader>.size == Offset.inlinePayload)
        #expect(Offset.inlinePayload + SlotRing.inlinePayload == Offset.payload)
        #expect(Offset.payload == 64 && SlotRing.slotHeaderLength == Offset.payload)
        #expect(Offset.header % MemoryLayout<UInt64>.alignment == 0 && Offset.length % 4 == 0)
    }

    @Test("a copy descriptor's three words and the receiver's layout fit its cache line; the shared area's parts do not overlap")
    func copyBoardLayout() {
        typealias Offset = CopyDescriptor.Offset
        #expect(Offset.claim + 8 == Offset.done && Offset.done + 8 == Offset.failed && Offset.failed + 8 == Offset.layout)
        #expect(Offset.layout + MemoryLayout<TypeBlock>.size == Offset.end && Offset.layout % 8 == 0)
        #expect(Offset.end <= SharedArea.copyDescriptorBytes)
        let base = UnsafeMutableRawPointer(bitPattern: 0x10000)!
        let lastChannel = SharedArea.collectiveChannel(SharedArea.collectiveChannelCount - 1, in: base)!
        let firstDescriptor = SharedArea.copyDescriptor(0, in: base)!
        #expect(lastChannel + 2 * SharedArea.collectiveBufferBytes <= firstDescriptor)
        let lastDescriptor = SharedArea.copyDescriptor(SharedArea.copyDescriptorCount - 1, in: base)!
        #expect(lastDescriptor + SharedArea.copyDescriptorBytes == base + SharedArea.byteCount)
        #expect(SharedArea.collectiveChannel(SharedArea.collectiveChannelCount, in: base) == nil)
        #expect(SharedArea.copyDescriptor(-1, in: base) == nil)
        #expect(SharedArea.collectiveBufferBytes % 64 == 0 && SharedArea.copyDescriptorBytes % 64 == 0)
    }

    @Test("a collective buffer's step, length and data fit, and the largest contribution fits the buffer")
    func collectiveBufferLayout() {
        typealias Offset = SharedCollectiveChannel.Offset
        #expect(Offset.step + 4 <= Offset.length && Offset.length + 4 <= Offset.data)
        #expect(Offset.data + SharedCollectiveChannel.capacity <= SharedArea.collectiveBufferBytes)
    }
}
