import Testing
@testable import SwiftMPI

/// The copy-board descriptor of shared copies (`SharedCopy.swift`), on plain memory: chunks are
/// claimed once each, a late sender of an earlier generation claims nothing, and whatever a peer
/// writes into the shared words is read without trapping.
@Suite("shared-copy descriptors")
struct SharedCopyTests {
    @Test("each chunk is claimed once, in order; another generation claims nothing")
    func claims() {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        defer { memory.deallocate() }
        let descriptor = CopyDescriptor(base: memory)
        descriptor.arm(generation: 7)
        #expect(descriptor.claim(generation: 6, chunkCount: 4) == nil)
        var claimed: [Int] = []
        while let chunk = descriptor.claim(generation: 7, chunkCount: 4) {
            claimed.append(chunk)
            descriptor.finish()
        }
        #expect(claimed == [0, 1, 2, 3])
        #expect(descriptor.progress(chunkCount: 4).finished == 4 && descriptor.progress(chunkCount: 4).failedChunk == nil)
        descriptor.arm(generation: 8)  // the next transfer: a sender still holding generation 7 gets nothing
        #expect(descriptor.claim(generation: 7, chunkCount: 4) == nil)
        #expect(descriptor.progress(chunkCount: 4).finished == 0)
        descriptor.markFailed(2)
        #expect(descriptor.progress(chunkCount: 4).failedChunk == 2)
    }

    @Test("words a peer garbled are read without trapping; a failed chunk no sender could claim counts as none")
    func garbledWords() {
        let memory = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        defer { memory.deallocate() }
        let descriptor = CopyDescriptor(base: memory)
        descriptor.arm(generation: 1)
        memory.storeBytes(of: UInt64.max, toByteOffset: 8, as: UInt64.self)  // done
        memory.storeBytes(of: UInt64.max, toByteOffset: 16, as: UInt64.self)  // failed
        let garbled = descriptor.progress(chunkCount: 4)
        #expect(garbled.finished == Int.max && garbled.failedChunk == nil)
        memory.storeBytes(of: 5, toByteOffset: 16, as: UInt64.self)  // chunk 4 of 0..<4
        #expect(descriptor.progress(chunkCount: 4).failedChunk == nil)
        memory.storeBytes(of: UInt64.max, toByteOffset: 0, as: UInt64.self)  // claim: generation and next garbled
        #expect(descriptor.claim(generation: 1, chunkCount: 4) == nil)
    }
}
