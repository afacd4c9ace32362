import Foundation
import Testing
@testable import SwiftMPITransport
import SwiftMPIWireup

/// The acceptor thread's result: nil once connected, else the error text. (@unchecked: `value` is
/// read and written only under `lock`.)
private final class AcceptOutcome: @unchecked Sendable {
    private let lock = NSLock()
    private var value: String? = "not finished"
    func set(_ new: String?) { lock.lock(); value = new; lock.unlock() }
    func get() -> String? { lock.lock(); defer { lock.unlock() }; return value }
}

/// The TCP transport's framing on its own: two transports of one process joined over loopback,
/// frames of every size class through them, read through the staging buffer or straight to where a
/// placement names, large rests sent from a borrowed buffer, and a peer closing in mid-frame.
@Suite("TCP frames between two transports", .serialized)
struct TCPFrameTests {
    /// Ranks 0 and 1 of a 2-rank job, connected (rank 1 connects, rank 0 accepts on another thread).
    private func connectedPair() throws -> (TCPTransport, TCPTransport) {
        let secret = try JobSecret.generate()
        let zero = try TCPTransport(rank: 0, size: 2, address: "127.0.0.1", secret: secret)
        let one = try TCPTransport(rank: 1, size: 2, address: "127.0.0.1", secret: secret)
        let outcome = AcceptOutcome()
        nonisolated(unsafe) let acceptingTransport = zero  // used by that thread alone until it finishes
        let acceptor = Thread {
            do { try acceptingTransport.connect(peers: [1], endpoints: [:], timeout: 10); outcome.set(nil) } catch { outcome.set("\(error)") }
        }
        acceptor.start()
        try one.connect(peers: [0], endpoints: [0: zero.endpoint], timeout: 10)
        let deadline = Date().addingTimeInterval(10)
        while outcome.get() == "not finished" && Date() < deadline { usleep(1000) }
        try #require(outcome.get() == nil)
        return (zero, one)
    }

    private func payload(_ count: Int, seed: UInt8) -> [UInt8] { (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) &+ seed } }

    /// `streaming`: sent as one of a stream's messages (a large payload in pieces) or as a lone one
    /// (with its header in one call).
    @Test(
        "every size arrives intact: staged below 32 KiB, read straight to its place from there, borrowed rests included",
        arguments: [false, true])
    func sizes(streaming: Bool) throws {
        let (zero, one) = try connectedPair()
        let sizes = [0, 1, 40, 32 * 1024 - 1, 32 * 1024, 64 * 1024, 300_001, TCPTransport.maxPayload]
        let destination = UnsafeMutableRawBufferPointer.allocate(byteCount: TCPTransport.maxPayload, alignment: 64)
        defer { destination.deallocate() }
        // Small socket buffers (on loopback the receiver's holds what the sender's passed on), so the
        // kernel takes large frames only partly and their rests are borrowed.
        var small: Int32 = 32 * 1024
        setsockopt(one.connections[0]!.fd, SOL_SOCKET, SO_SNDBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(zero.connections[1]!.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        var borrowedSizes: [Int] = []
        for (index, size) in sizes.enumerated() {
            let sent = payload(size, seed: UInt8(index))
            var header = PacketHeader()
            header.word0 = UInt64(size)
            var received: [UInt8]?
            var placedAt: UnsafeRawPointer?
            try sent.withUnsafeBytes { bytes in
                var accepted = false
                let deadline = Date().addingTimeInterval(10)
                // Borrowing: the rest of a partly taken frame stays in `bytes` until the transport is no
                // longer sending from it.
                while !accepted || one.isSendingCallerMemory(to: 0) {
                    if !accepted {
                        accepted = one.trySendKeepingPayload(to: 0, kind: 7, header: header, payload: bytes, streaming: streaming)
                        if accepted && one.isSendingCallerMemory(to: 0) { borrowedSizes.append(size) }
                    }
                    _ = one.poll { _, _, _, _ in }
                    _ = zero.poll(place: { peer, kind, header, length in
                        #expect(peer == 1 && kind == 7 && header.word0 == UInt64(length))
                        return destination.baseAddress
                    }) { peer, kind, header, bytes in
                        #expect(peer == 1 && kind == 7 && header.word0 == UInt64(bytes.count))
                        received = Array(bytes)
                        placedAt = bytes.baseAddress
                    }
                    try #require(Date() < deadline, "frame of \(size) bytes not through in 10 s")
                }
            }
            let deadline = Date().addingTimeInterval(10)
            while received == nil && Date() < deadline {
                _ = zero.poll(place: { _, _, _, _ in destination.baseAddress }) { _, _, _, bytes in
                    received = Array(bytes)
                    placedAt = bytes.baseAddress
                }
            }
            #expect(received == sent, "frame of \(size) bytes")
            if size > 128 * 1024 {
                // Larger than what one read can stage: it must have been read to its place.
                #expect(placedAt == UnsafeRawPointer(destination.baseAddress), "frame of \(size) bytes not read to its place")
            }
            if size < 32 * 1024 { #expect(placedAt != UnsafeRawPointer(destination.baseAddress)) }
        }
        #expect(!zero.hasEvents && !one.hasEvents)
        #expect(borrowedSizes.contains(TCPTransport.maxPayload), "no frame was sent partly from its buffer: \(borrowedSizes)")
    }

    @Test(
        "large frames back to back arrive intact and in order, their rests read with the low-water mark set, and the mark is let go after each",
        arguments: [false, true])
    func streamOfLargeFrames(streaming: Bool) throws {
        let (zero, one) = try connectedPair()
        // Rests just above, at and just below twice the low-water mark after a whole first read
        // (16 KiB with the 40-byte header; a shorter first read leaves more), and whole fragments;
        // each size twice, sent without waiting for the previous one.
        let low = TCPTransport.readLowWater
        let first = TCPTransport.frameStartRead - TCPTransport.frameHeaderLength
        let sizes = [2 * low + first + 1, 2 * low + first, 2 * low + first - 1, 2 * low, 200_001, TCPTransport.maxPayload, 3 * low + 7]
        let frames = (sizes + sizes).enumerated().map { payload($0.element, seed: UInt8($0.offset)) }
        let destination = UnsafeMutableRawBufferPointer.allocate(byteCount: TCPTransport.maxPayload, alignment: 64)
        defer { destination.deallocate() }
        var next = 0  // the next frame to send
        var received: [[UInt8]] = []
        var sawLowWater = false
        let receiving = zero.connections[1]!
        let deadline = Date().addingTimeInterval(30)
        while received.count < frames.count {
            if next < frames.count && !one.isSendingCallerMemory(to: 0) {
                var header = PacketHeader()
                header.word0 = UInt64(next)
                if frames[next].withUnsafeBytes({ one.trySendKeepingPayload(to: 0, kind: 7, header: header, payload: $0, streaming: streaming) }) {
                    next += 1
                }
            }
            _ = one.poll { _, _, _, _ in }
            _ = zero.poll(place: { _, _, _, _ in destination.baseAddress }) { _, _, header, bytes in
                #expect(header.word0 == UInt64(received.count), "frames out of order")
                received.append(Array(bytes))
                // Delivered: the socket's mark is back at 1, so a small frame wakes a sleeping rank.
                var mark: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(receiving.fd, SOL_SOCKET, SO_RCVLOWAT, &mark, &length)
                #expect(mark == 1 && receiving.lowWater == 1, "low-water mark \(mark) left after a frame of \(bytes.count) bytes")
            }
            if receiving.lowWater == low { sawLowWater = true }
            try #require(Date() < deadline, "\(received.count) of \(frames.count) frames through in 30 s")
        }
        for (index, frame) in frames.enumerated() { #expect(received[index] == frame, "frame \(index) of \(frame.count) bytes") }
        #expect(sawLowWater, "no frame's rest was read with the low-water mark set")
        #expect(!zero.hasEvents && !one.hasEvents)
    }

    @Test(
        "a peer that closes in the middle of a large frame is reported, not waited for (also below the low-water mark)",
        arguments: [100_000, 20_000])
    func peerClosesMidFrame(sentBytes: Int) throws {
        let (zero, one) = try connectedPair()
        let destination = UnsafeMutableRawBufferPointer.allocate(byteCount: TCPTransport.maxPayload, alignment: 64)
        defer { destination.deallocate() }
        // Only part of a 1 MiB frame: its header and `sentBytes` bytes, then the connection closes.
        let partial = payload(sentBytes, seed: 3)
        partial.withUnsafeBytes { bytes in
            var frame = (UInt8(7), UInt8(0), UInt16(0), UInt32(TCPTransport.maxPayload), PacketHeader())
            withUnsafeBytes(of: &frame) { head in _ = send(one.connections[0]!.fd, head.baseAddress, TCPTransport.frameHeaderLength, 0) }
            _ = send(one.connections[0]!.fd, bytes.baseAddress, bytes.count, 0)
        }
        shutdown(one.connections[0]!.fd, Int32(SHUT_RDWR))
        var delivered = 0
        let deadline = Date().addingTimeInterval(10)
        while !zero.hasEvents && Date() < deadline {
            delivered += zero.poll(place: { _, _, _, _ in destination.baseAddress }) { _, _, _, _ in }
        }
        #expect(delivered == 0)
        let events = zero.takeEvents()
        #expect(events.count == 1 && events.allSatisfy { if case .peerFailed(1, _) = $0 { true } else { false } }, "\(events)")
        #expect(Array(destination.prefix(sentBytes)) == partial, "what did arrive went straight to its place")
    }
}
