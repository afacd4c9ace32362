#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import SwiftMPITransport

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
        #expect(second.poll { _, _, _, bytes in received = Array(bytes) } == 1)
        #expect(received == payload)
        payload = [9]
        #expect(payload.withUnsafeBytes { second.trySend(to: 0, kind: 1, header: PacketHeader(), payload: $0) })
        #expect(first.poll { _, _, _, bytes in received = Array(bytes) } == 1)
        #expect(received == [9])
    }
}
