import CShims
import SwiftMPIWireup

/// Moves packets between the ranks of one host through shared memory, and copies large messages
/// straight from a peer's memory with Cross Memory Attach where the kernel allows it.
///
/// Each rank owns one segment, `/dev/shm/swiftmpi-<job>-<local rank>` (mode 0600), holding one
/// ``SlotRing`` per sending peer: the ring from local rank `s` starts at `s * ringBytes`, followed by
/// the rank's collective channels (``collectiveChannel(_:ofLocalRank:)``) and its copy board
/// (``copyDescriptor(_:ofLocalRank:)``: where a sender claims chunks of a message it helps copy). Peers attach
/// to each other's segments during wire-up; then every rank unlinks its own name, so nothing is left in
/// /dev/shm whichever way the job ends (the launcher also removes stale names of its job).
///
/// ```
///  segment of local rank r
///  ┌───────────────────┬───────────────────┬─────┬────────────────────────┬─────────────────────┬─────────────┐
///  │ ring from rank 0  │ ring from rank 1  │ ... │ ring from rank size-1  │ collective channels │ copy board  │
///  │ (slotCount slots) │                   │     │ (own index: unused)    │ 64 × 2 × 8320 bytes │ 64 × 64 B   │
///  └───────────────────┴───────────────────┴─────┴────────────────────────┴─────────────────────┴─────────────┘
/// ```
public final class SharedMemoryTransport {
    /// Slots per ring and bytes per slot: 64 × (16 KiB + 64 B) ≈ 1 MiB per ordered pair of ranks.
    public static let defaultSlotCount = 64
    public static let defaultStride = 16 * 1024 + 64

    /// Collective channels per segment, and the bytes of one of a channel's two buffers (written only
    /// by the segment's owner; the layout inside is the collectives' business).
    public static let collectiveChannelCount = 64
    /// Up to this many ranks on a host, every ring's slot headers are mapped at start (one page per
    /// slot: 64 × 4 KiB per ring; 16 ranks commit 60 MiB of /dev/shm in all) instead of at their
    /// first message; beyond it that memory would grow with the square of the ranks (a container's
    /// default /dev/shm is 64 MiB), so slots fault in when used.
    public static let prefaultLimit = 16
    public static let collectiveBufferBytes = 8 * 1024 + 128
    /// Descriptors on a segment's copy board, and the bytes of one (a cache line).
    public static let copyDescriptorCount = 64
    public static let copyDescriptorBytes = 64

    public let localRank: Int
    public let localSize: Int
    // The rings' private indices live in manually allocated memory, not in Swift arrays: a mutating
    // access to an array property of a class stays open across the `deliver` callback and so costs a
    // dynamic exclusivity check per message (measured: about a third of a 0-byte ping-pong).
    @usableFromInline let inbound: UnsafeMutableBufferPointer<SlotRing>   // index: sender's local rank
    @exclusivity(unchecked) @usableFromInline var outbound: UnsafeMutableBufferPointer<SlotRing>  // index: receiver's local rank
    @exclusivity(unchecked) @usableFromInline var pollStart = 0
    private let ownName: String
    private let segmentBytes: Int
    private let ownSegment: UnsafeMutableRawPointer
    private var peerSegments: [UnsafeMutableRawPointer?]
    private var unlinked = false
    private let slotCount: Int
    private let stride: Int

    /// The transport's limits.
    public var limits: TransportLimits { TransportLimits(maxPayload: stride - SlotRing.slotHeaderLength, canReadPeerMemory: true) }

    /// Creates this rank's segment. Peers attach later with ``attachPeers()``.
    public init(jobID: String, localRank: Int, localSize: Int,
                slotCount: Int = defaultSlotCount, stride: Int = defaultStride) throws(TransportError) {
        self.localRank = localRank
        self.localSize = localSize
        self.slotCount = slotCount
        self.stride = stride
        let ringBytes = SlotRing.byteCount(slotCount: slotCount, stride: stride)
        segmentBytes = ringBytes * localSize + Self.collectiveChannelCount * 2 * Self.collectiveBufferBytes
            + Self.copyDescriptorCount * Self.copyDescriptorBytes
        ownName = Self.segmentName(jobID: jobID, localRank: localRank)
        // From here until the name is unlinked, the death of the launcher that started this rank
        // removes the name instead of leaving it in /dev/shm (cshims_name_guard_begin; a no-op
        // for processes started without a parent-death signal; one guarded name per process).
        _ = cshims_name_guard_begin(ownName)
        var address: UnsafeMutableRawPointer?
        let error = cshims_segment_create(ownName, segmentBytes, &address)
        guard error == 0, let address else {
            cshims_name_guard_end()
            throw TransportError("cannot create shared-memory segment \(ownName) of \(segmentBytes) bytes", errno: error)
        }
        ownSegment = address
        inbound = .allocate(capacity: localSize)
        for index in 0..<localSize {
            (inbound.baseAddress! + index).initialize(to: SlotRing(base: address + index * ringBytes, slotCount: slotCount, stride: stride))
            if index != localRank && localSize <= Self.prefaultLimit { inbound[index].prefault() }
        }
        outbound = UnsafeMutableBufferPointer(start: nil, count: 0)
        peerSegments = Array(repeating: nil, count: localSize)
    }

    /// The segment name of `localRank` in job `jobID`.
    public static func segmentName(jobID: String, localRank: Int) -> String { SegmentNames.name(jobID: jobID, localRank: localRank) }

    /// Maps every peer's segment; call once all peers have created theirs (after a fence).
    public func attachPeers() throws(TransportError) {
        let ringBytes = SlotRing.byteCount(slotCount: slotCount, stride: stride)
        var rings: [SlotRing] = []
        for peer in 0..<localSize {
            let base: UnsafeMutableRawPointer
            if peer == localRank {
                base = ownSegment
            } else {
                let name = ownName.dropLast("\(localRank)".count) + "\(peer)"
                var address: UnsafeMutableRawPointer?
                let error = cshims_segment_attach(String(name), segmentBytes, &address)
                guard error == 0, let address else {
                    throw TransportError("cannot attach shared-memory segment \(name) of local rank \(peer)", errno: error)
                }
                peerSegments[peer] = address
                base = address
            }
            rings.append(SlotRing(base: base + localRank * ringBytes, slotCount: slotCount, stride: stride))
            if peer != localRank && localSize <= Self.prefaultLimit { rings[peer].prefault() }
        }
        let storage = UnsafeMutableBufferPointer<SlotRing>.allocate(capacity: rings.count)
        _ = storage.initialize(from: rings)
        outbound = storage
    }

    /// The two buffers (``collectiveBufferBytes`` each, 64-byte aligned, zero-filled at creation) of
    /// collective channel `channel` in the segment of local rank `local`, or nil if that is not
    /// mapped. Each rank writes only its own channels; peers read them.
    public func collectiveChannel(_ channel: Int, ofLocalRank local: Int) -> UnsafeMutableRawPointer? {
        guard channel >= 0 && channel < Self.collectiveChannelCount && local >= 0 && local < localSize else { return nil }
        guard let segment = local == localRank ? ownSegment : peerSegments[local] else { return nil }
        let ringBytes = SlotRing.byteCount(slotCount: slotCount, stride: stride)
        return segment + ringBytes * localSize + channel * 2 * Self.collectiveBufferBytes
    }

    /// Descriptor `index` (``copyDescriptorBytes``, 64-byte aligned, zero-filled at creation) of the
    /// copy board in the segment of local rank `local`, or nil if out of range or not mapped. The
    /// board's owner arms its descriptors; a peer only updates them atomically.
    public func copyDescriptor(_ index: Int, ofLocalRank local: Int) -> UnsafeMutableRawPointer? {
        guard index >= 0 && index < Self.copyDescriptorCount && local >= 0 && local < localSize else { return nil }
        guard let segment = local == localRank ? ownSegment : peerSegments[local] else { return nil }
        let ringBytes = SlotRing.byteCount(slotCount: slotCount, stride: stride)
        return segment + ringBytes * localSize + Self.collectiveChannelCount * 2 * Self.collectiveBufferBytes
            + index * Self.copyDescriptorBytes
    }

    /// Removes this rank's segment name (mappings stay valid); call once all peers have attached.
    public func unlinkOwnSegment() {
        guard !unlinked else { return }
        unlinked = true
        _ = cshims_segment_unlink(ownName)
        cshims_name_guard_end()
    }

    deinit {
        unlinkOwnSegment()
        for case let segment? in peerSegments { _ = cshims_segment_unmap(segment, segmentBytes) }
        _ = cshims_segment_unmap(ownSegment, segmentBytes)
        inbound.deallocate()
        outbound.deallocate()
    }

    /// Sends one packet to `peer` (a local rank) if its ring has room; false means no resources now:
    /// the caller keeps the packet and retries after progressing.
    @inlinable
    public func trySend(to peer: Int, kind: PacketKind, header: PacketHeader, payload: UnsafeRawBufferPointer) -> Bool {
        outbound[peer].tryWrite(kind: kind, header: header, payload: payload)
    }

    /// True when a packet to `peer` would be accepted now.
    @inlinable
    public func canSend(to peer: Int) -> Bool { outbound[peer].canWrite() }

    /// Hands arrived packets to `deliver` (sender's local rank, kind, header, payload valid during the
    /// call), at most `budget` per peer; returns how many were delivered.
    @inlinable
    public func poll(budget: Int = 16, _ deliver: (Int, PacketKind, PacketHeader, UnsafeRawBufferPointer) -> Void) -> Int {
        var delivered = 0
        let count = localSize
        var peer = pollStart
        for _ in 0..<count {
            if peer != localRank {
                var taken = 0
                while taken < budget, inbound[peer].tryRead({ deliver(peer, $0, $1, $2) }) { taken += 1 }
                delivered += taken
            }
            peer = peer + 1 == count ? 0 : peer + 1
        }
        pollStart = pollStart + 1 == count ? 0 : pollStart + 1
        return delivered
    }

    /// Copies `local.count` bytes from `address` in process `pid` (Cross Memory Attach).
    /// Returns 0 or the errno (EPERM/ENOSYS where CMA is forbidden).
    public func readPeerMemory(pid: Int32, address: UInt64, into local: UnsafeMutableRawBufferPointer) -> Int32 {
        guard local.count > 0 else { return 0 }
        return cshims_cma_read(pid, local.baseAddress!, UnsafeRawPointer(bitPattern: UInt(address)), local.count)
    }

    /// Copies `local` to `address` in process `pid` (Cross Memory Attach). Returns 0 or the errno.
    public func writePeerMemory(pid: Int32, address: UInt64, from local: UnsafeRawBufferPointer) -> Int32 {
        guard local.count > 0 else { return 0 }
        return cshims_cma_write(pid, UnsafeMutableRawPointer(bitPattern: UInt(address)), local.baseAddress!, local.count)
    }

    /// Removes every segment name of job `jobID` still in /dev/shm (the launcher's clean-up).
    public static func removeStaleSegments(jobID: String, localSize: Int) {
        SegmentNames.removeStale(jobID: jobID, localSize: localSize)
    }
}
